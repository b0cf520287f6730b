/**
 * The embedded single-node devnet: the app driven in-process exactly like CometBFT v0.38 would drive it, behind
 * the CometBFT JSON-RPC / websocket subset that @cosmjs/tendermint-rpc's Comet38Client uses. See docs/devnet.md.
 */
import type pino from 'pino';
import type { AbciApplication, SerialQueue } from '../abci/application.js';
import type { HttpHandler } from './rpc.js';
import { DevnetNode, type DevnetApp } from './node.js';
import { RpcServer } from './rpc.js';
import type { MempoolConfig } from './mempool.js';
import { ProofbookApp } from '../app.js';
import { defaultGenesis } from '../../genesis/index.js';

export { DevnetNode } from './node.js';
export type { DevnetApp, NewBlockEvent } from './node.js';
export { RpcServer } from './rpc.js';

export const DEFAULT_CHAIN_ID = 'proofbook-devnet-1';
export const DEFAULT_RPC_ADDRESS = '127.0.0.1:26657';

export interface DevnetOptions {
  home: string;
  chainId?: string;
  /** Block interval in ms (CometBFT's timeout_commit); 0 = manual, blocks only via produceBlock(). */
  blockTimeMs?: number;
  /** host:port to bind the RPC to (port 0 picks a free one). */
  rpcAddress?: string;
  /** Genesis app_state (sent as InitChain app_state_bytes, UTF-8 JSON); default genesis/index.ts defaultGenesis(). */
  appState?: object;
  /** The application; default ProofbookApp opened on `home`. The devnet closes it on close(). */
  app?: AbciApplication & { queue: SerialQueue };
  logger?: pino.Logger;
  /** host:port for the gRPC server (module Query services, cosmos.tx.v1beta1.Service, reflection); off when unset. */
  grpcAddress?: string;
  /** host:port for the REST gateway (Cosmos SDK gRPC-gateway routes, app/rest); off when unset. */
  apiAddress?: string;
  /** REST gateway options: CORS origins ('*' = any, the default), extra handlers, a static directory for non-API paths. */
  api?: Pick<import('../rest/index.js').RestServerOptions, 'cors' | 'handlers' | 'staticDir'>;
  /** Extra GET routes served on the RPC port (the CLI mounts the circuit artifact store at /artifacts/<sha256>). */
  httpHandler?: HttpHandler;
  /** Mempool limits (CometBFT defaults: 5000 txs, 1 GiB, 1 MiB per tx, 10000-entry cache). */
  mempool?: Partial<MempoolConfig>;
  /** Test hooks (crash simulation). */
  hooks?: {
    afterBlockPersisted?: (height: bigint) => void | Promise<void>;
    beforeCommit?: (height: bigint) => void | Promise<void>;
  };
}

export interface Devnet {
  readonly rpcUrl: string;
  /** Bound gRPC address, when the gRPC server runs. */
  readonly grpcAddress?: string;
  /** The REST gateway's URL (http://host:port), when it runs. */
  readonly apiUrl?: string;
  readonly app: DevnetApp;
  readonly node: DevnetNode;
  height(): bigint;
  waitForHeight(h: bigint | number): Promise<void>;
  /** Produces one block now (serialized with the timer's blocks). */
  produceBlock(): Promise<void>;
  close(): Promise<void>;
}

export async function startDevnet(opts: DevnetOptions): Promise<Devnet> {
  const log = opts.logger?.child({ module: 'devnet' });
  const blockTimeMs = opts.blockTimeMs ?? 1000;
  if (!Number.isInteger(blockTimeMs) || blockTimeMs < 0) throw new Error(`blockTimeMs must be a non-negative integer, got ${blockTimeMs}`);
  const ownsApp = opts.app === undefined;
  const app: DevnetApp = opts.app ?? await ProofbookApp.open({ home: opts.home, logger: opts.logger });
  let node: DevnetNode;
  try {
    node = await DevnetNode.open({
      home: opts.home,
      chainId: opts.chainId ?? DEFAULT_CHAIN_ID,
      appState: opts.appState ?? (ownsApp ? defaultGenesis() : {}),
      app,
      logger: log,
      mempool: opts.mempool,
      afterBlockPersisted: opts.hooks?.afterBlockPersisted,
      beforeCommit: opts.hooks?.beforeCommit,
    });
  } catch (err) {
    await app.close();
    throw err;
  }
  let rpc: RpcServer;
  try {
    rpc = await RpcServer.listen(node, opts.rpcAddress ?? DEFAULT_RPC_ADDRESS, opts.httpHandler);
  } catch (err) {
    await node.close();
    await app.close();
    throw err;
  }
  // cosmjs' TxExtension asks GetTx over abci_query: the app looks the tx up through this node's RPC.
  let txs: { close(): void } | undefined;
  if (app instanceof ProofbookApp) {
    const { txLookup } = await import('../grpc/index.js');
    const l = txLookup(rpc.url, (p, d, h) => node.query(p, d, h ?? 0n, false));
    app.setTxLookup((r) => l.lookup(r));
    txs = l;
  }
  let grpc: { address: string; close(): Promise<void> } | undefined;
  let api: { url: string; close(): Promise<void> } | undefined;
  let dispatcher: import('../grpc/index.js').Dispatcher | undefined;
  if (opts.grpcAddress || opts.apiAddress) {
    const { createDispatcher } = await import('../grpc/index.js');
    // One set of method implementations behind both transports; queries honour x-cosmos-block-height.
    dispatcher = createDispatcher({ rpcUrl: rpc.url, query: (p, d, h) => node.query(p, d, h ?? 0n, false), logger: opts.logger });
  }
  if (opts.grpcAddress && dispatcher) {
    try {
      const { startGrpcServer } = await import('../grpc/index.js');
      grpc = await startGrpcServer({ address: opts.grpcAddress, rpcUrl: rpc.url, query: (p, d, h) => node.query(p, d, h ?? 0n, false), dispatcher, logger: opts.logger });
    } catch (err) {
      // The chain is still useful without gRPC (e.g. a second devnet on the same machine): say so and go on.
      log?.warn({ err: (err as Error).message, grpc: opts.grpcAddress }, 'gRPC server not started');
    }
  }
  if (opts.apiAddress && dispatcher) {
    try {
      const { startRestServer } = await import('../rest/index.js');
      api = await startRestServer({ address: opts.apiAddress, dispatcher, logger: opts.logger, ...opts.api });
    } catch (err) {
      log?.warn({ err: (err as Error).message, api: opts.apiAddress }, 'REST gateway not started');
    }
  }
  log?.info({ rpc: rpc.url, grpc: grpc?.address, api: api?.url, chainId: node.chainId, height: node.height.toString() }, 'devnet started');

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    timer = setTimeout(() => {
      node.produceBlock().then(
        () => { if (!stopped) loop(); },
        (err: unknown) => { log?.fatal({ err }, 'devnet stopped producing blocks'); },
      );
    }, blockTimeMs);
  };
  if (blockTimeMs > 0) loop();

  return {
    rpcUrl: rpc.url,
    grpcAddress: grpc?.address,
    apiUrl: api?.url,
    app,
    node,
    height: () => node.height,
    waitForHeight: (h) => node.waitForHeight(h),
    produceBlock: () => node.produceBlock(),
    close: async () => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      await api?.close();
      await grpc?.close();
      dispatcher?.close();
      txs?.close();
      await rpc.close();
      await node.close();
      await app.close();
      log?.info('devnet stopped');
    },
  };
}
