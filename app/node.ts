/**
 * The node process: opens the proofbook application on a home directory and serves it to CometBFT over
 * the ABCI socket. CometBFT runs as a separate process (`cometbft node --proxy_app tcp://127.0.0.1:26658`).
 *
 * Shutdown order (close() and SIGINT/SIGTERM): stop accepting ABCI connections and drop the open ones,
 * let the app's queue drain (an in-flight Commit finishes writing), then close the app (LevelDB).
 * A CometBFT node whose app connection drops stops itself; on restart its handshake replays whatever
 * the app has not committed.
 */
import pino from 'pino';
import { SerialQueue, type AbciApplication } from './abci/application.js';
import { startAbciServer, type AbciServer } from './abci/server.js';

export const DEFAULT_ABCI_ADDRESS = 'tcp://127.0.0.1:26658';

/** What the node needs from an application: the ABCI methods, and optionally its shared queue. */
export type NodeApplication = AbciApplication & { readonly queue?: SerialQueue };

export interface StartNodeOptions {
  home: string;
  abciAddress?: string;
  logger?: pino.Logger;
  /** Use this app instead of opening ProofbookApp on `home` (tests, the kvstore fixture). */
  app?: NodeApplication;
  /** Install SIGINT/SIGTERM handlers that close the node and exit (default true). */
  handleSignals?: boolean;
  /** Store and snapshot settings for the ProofbookApp (`proofbook start` flags; see docs/operators.md). */
  appOptions?: Pick<import('./app.js').AppOptions, 'store' | 'snapshots'>;
  /** CometBFT RPC URL: lets the app answer GetTx over abci_query (cosmjs' TxExtension) from CometBFT's tx index. */
  cometRpc?: string;
}

export interface RunningNode {
  close(): Promise<void>;
  /** The bound ABCI address (real port if 0 was requested). */
  abciAddress: string;
}

async function openProofbookApp(home: string, logger: pino.Logger, extra: StartNodeOptions['appOptions']): Promise<NodeApplication> {
  // Loaded lazily so tools that only need the node wiring (e.g. the kvstore fixture) do not load the
  // whole state machine.
  const { ProofbookApp } = await import('./app.js');
  return ProofbookApp.open({ home, logger, ...extra });
}

export async function startNode(opts: StartNodeOptions): Promise<RunningNode> {
  const logger = opts.logger ?? pino({ name: 'proofbook', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  const app = opts.app ?? await openProofbookApp(opts.home, logger, opts.appOptions);
  const queue = app.queue ?? new SerialQueue();
  let txs: { close(): void } | undefined;
  const withLookup = app as { setTxLookup?: (fn: (r: Uint8Array) => Promise<Uint8Array>) => void };
  if (opts.cometRpc && typeof withLookup.setTxLookup === 'function') {
    const { txLookup, rpcQuery } = await import('./grpc/index.js');
    const l = txLookup(opts.cometRpc, rpcQuery(opts.cometRpc));
    withLookup.setTxLookup((r) => l.lookup(r));
    txs = l;
  }
  let server: AbciServer;
  try {
    server = await startAbciServer(app, {
      address: opts.abciAddress ?? DEFAULT_ABCI_ADDRESS,
      queue,
      logger: logger.child({ module: 'abci' }),
    });
  } catch (err) {
    await app.close();
    throw err;
  }
  logger.info({ home: opts.home, abci: server.address }, 'proofbook node started; waiting for CometBFT');

  let closing: Promise<void> | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      logger.warn({ signal }, 'second signal: exiting immediately');
      process.exit(130);
    }
    logger.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (err: unknown) => { logger.error({ err }, 'error during shutdown'); process.exit(1); },
    );
  };
  const handleSignals = opts.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      try {
        await server.close();
        txs?.close();
        // Wait for calls already queued (e.g. a Commit in progress) before closing the store.
        await queue.run(async () => undefined);
        await app.close();
        logger.info('proofbook node stopped');
      } finally {
        if (handleSignals) {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }
    })();
    return closing;
  }

  return { close, abciAddress: server.address };
}
