/**
 * ABCI 2.0 socket server for CometBFT v0.38 (`proxy_app = "tcp://..."` or `"unix://..."`, `abci = "socket"`).
 *
 * Protocol (cometbft v0.38 abci/client/socket_client.go + abci/server/socket_server.go):
 * - CometBFT opens four connections (consensus, mempool, query, snapshot) at the same time.
 * - On each connection it pipelines requests: it may send many (e.g. a burst of async CheckTx, then a
 *   Flush) before reading any answer, and it matches answers to requests strictly in order, failing
 *   with "unexpected response" otherwise. So every connection answers FIFO.
 * - `Flush` asks the server to push out buffered answers; it is answered with `ResponseFlush` in its
 *   place in the sequence.
 * - A `Response.exception` makes CometBFT stop the client and (through proxy.killTMOnClientError)
 *   kill the node, so it is only used for protocol violations (an empty/unknown request), never for
 *   application results.
 *
 * All application calls from all connections go through ONE SerialQueue, mirroring the single mutex
 * of Go's socket server: the app's handlers are async and an `await` inside one must not let a
 * CheckTx or Query from another connection run against half-applied state. Echo and Flush never touch
 * the app and are not queued, but they still wait for their turn in the connection's answer order.
 * Neither are the queries the app answers without its state (`app.unqueuedQuery`: GetTx, a lookup over
 * CometBFT's RPC): awaiting a network call inside the queue would stall FinalizeBlock/Commit behind it.
 *
 * What happens when an app method REJECTS (a bug — the contract in application.ts says methods
 * always resolve, expressing errors as result codes):
 * - Calls that do not change committed state get a safe answer and the error is logged: CheckTx ->
 *   code 1 with the message (tx not admitted); Query -> code 1; PrepareProposal -> no txs (an empty
 *   proposal is always valid); ProcessProposal -> REJECT; ExtendVote -> empty extension;
 *   VerifyVoteExtension -> REJECT; ListSnapshots -> none; OfferSnapshot -> REJECT (try another);
 *   LoadSnapshotChunk -> empty chunk (the peer's fetch fails, it tries elsewhere).
 * - Calls whose failure leaves the app's state unknown are FATAL: FinalizeBlock and Commit (the
 *   block may be half-applied, or persisted without its height/app hash), InitChain (genesis
 *   half-applied; a made-up empty answer would fix a wrong app hash into the chain), Info (a made-up
 *   height 0 would make CometBFT replay from genesis onto existing state) and ApplySnapshotChunk.
 *   Answering anything would let CometBFT build on an app hash we cannot vouch for, so the server
 *   logs at fatal level, stops answering on every connection and calls `onFatal` (default: exit the
 *   process with code 1). On restart CometBFT's handshake (Info, then replay of missing blocks from
 *   its block store) brings the app back to a consistent state from its last Commit.
 */
import net from 'node:net';
import fs from 'node:fs';
import pino from 'pino';
import {
  Request, Response,
  ResponseCheckTx, ResponseQuery, ResponsePrepareProposal, ResponseProcessProposal,
  ResponseProcessProposal_ProposalStatus, ResponseExtendVote, ResponseVerifyVoteExtension,
  ResponseVerifyVoteExtension_VerifyStatus, ResponseListSnapshots, ResponseOfferSnapshot,
  ResponseOfferSnapshot_Result, ResponseLoadSnapshotChunk,
} from 'cosmjs-types/tendermint/abci/types';
import type { AbciApplication } from './application.js';
import { SerialQueue } from './application.js';
import { FrameDecoder, encodeResponseFrame, DEFAULT_MAX_MESSAGE_BYTES } from './framing.js';

export interface AbciServerOptions {
  /** `tcp://HOST:PORT` (port 0 picks a free one) or `unix:///absolute/path`. */
  address: string;
  /** Shared with other callers of the app (RPC handlers, devnet); a fresh one if omitted. */
  queue?: SerialQueue;
  logger?: pino.Logger;
  /** Largest accepted request frame. */
  maxMessageBytes?: number;
  /**
   * Called once when an app method whose failure leaves state inconsistent rejects (see the header).
   * Default: log and `process.exit(1)`. Tests pass their own to observe it without exiting.
   */
  onFatal?: (err: unknown, method: string) => void;
}

export interface AbciServer {
  close(): Promise<void>;
  /** The bound address, with the real port when 0 was requested. */
  address: string;
}

type Method = keyof Request;

/** Methods whose rejection is fatal (see the header comment). */
const FATAL_METHODS: ReadonlySet<Method> = new Set<Method>(['finalizeBlock', 'commit', 'initChain', 'info', 'applySnapshotChunk']);

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseAddress(address: string): { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string } {
  if (address.startsWith('unix://')) {
    const path = address.slice('unix://'.length);
    if (!path) throw new Error(`invalid ABCI address ${address}: empty socket path`);
    return { kind: 'unix', path };
  }
  const rest = address.startsWith('tcp://') ? address.slice('tcp://'.length) : address;
  const idx = rest.lastIndexOf(':');
  if (idx < 0) throw new Error(`invalid ABCI address ${address}: expected tcp://HOST:PORT or unix:///PATH`);
  let host = rest.slice(0, idx);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(rest.slice(idx + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid ABCI address ${address}: bad port`);
  return { kind: 'tcp', host: host || '0.0.0.0', port };
}

/** The non-fatal safe answers, per method. */
function safeResponse(method: Method, err: unknown): Response {
  const msg = `internal error: ${errorMessage(err)}`;
  switch (method) {
    case 'checkTx': return { checkTx: ResponseCheckTx.fromPartial({ code: 1, log: msg, codespace: 'abci' }) };
    case 'query': return { query: ResponseQuery.fromPartial({ code: 1, log: msg, codespace: 'abci' }) };
    case 'prepareProposal': return { prepareProposal: ResponsePrepareProposal.fromPartial({ txs: [] }) };
    case 'processProposal': return { processProposal: ResponseProcessProposal.fromPartial({ status: ResponseProcessProposal_ProposalStatus.REJECT }) };
    case 'extendVote': return { extendVote: ResponseExtendVote.fromPartial({}) };
    case 'verifyVoteExtension': return { verifyVoteExtension: ResponseVerifyVoteExtension.fromPartial({ status: ResponseVerifyVoteExtension_VerifyStatus.REJECT }) };
    case 'listSnapshots': return { listSnapshots: ResponseListSnapshots.fromPartial({ snapshots: [] }) };
    case 'offerSnapshot': return { offerSnapshot: ResponseOfferSnapshot.fromPartial({ result: ResponseOfferSnapshot_Result.REJECT }) };
    case 'loadSnapshotChunk': return { loadSnapshotChunk: ResponseLoadSnapshotChunk.fromPartial({}) };
    default: throw new Error(`no safe response for ${method}`);
  }
}

/** Which oneof member a decoded request carries (undefined for an empty/unknown request). */
function requestMethod(req: Request): Method | undefined {
  for (const key of REQUEST_KEYS) if (req[key] !== undefined) return key;
  return undefined;
}

const REQUEST_KEYS: readonly Method[] = [
  'echo', 'flush', 'info', 'initChain', 'query', 'checkTx', 'commit', 'listSnapshots', 'offerSnapshot',
  'loadSnapshotChunk', 'applySnapshotChunk', 'prepareProposal', 'processProposal', 'extendVote',
  'verifyVoteExtension', 'finalizeBlock',
];

/** Calls the app method for a request and wraps the answer in a Response. */
async function callApp(app: AbciApplication, method: Method, req: Request): Promise<Response> {
  switch (method) {
    case 'info': return { info: await app.info(req.info!) };
    case 'initChain': return { initChain: await app.initChain(req.initChain!) };
    case 'query': return { query: await app.query(req.query!) };
    case 'checkTx': return { checkTx: await app.checkTx(req.checkTx!) };
    case 'commit': return { commit: await app.commit() };
    case 'listSnapshots': return { listSnapshots: await app.listSnapshots(req.listSnapshots!) };
    case 'offerSnapshot': return { offerSnapshot: await app.offerSnapshot(req.offerSnapshot!) };
    case 'loadSnapshotChunk': return { loadSnapshotChunk: await app.loadSnapshotChunk(req.loadSnapshotChunk!) };
    case 'applySnapshotChunk': return { applySnapshotChunk: await app.applySnapshotChunk(req.applySnapshotChunk!) };
    case 'prepareProposal': return { prepareProposal: await app.prepareProposal(req.prepareProposal!) };
    case 'processProposal': return { processProposal: await app.processProposal(req.processProposal!) };
    case 'extendVote': return { extendVote: await app.extendVote(req.extendVote!) };
    case 'verifyVoteExtension': return { verifyVoteExtension: await app.verifyVoteExtension(req.verifyVoteExtension!) };
    case 'finalizeBlock': return { finalizeBlock: await app.finalizeBlock(req.finalizeBlock!) };
    default: throw new Error(`not an app method: ${method}`);
  }
}

function defaultLogger(): pino.Logger {
  return pino({ name: 'abci', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
}

export async function startAbciServer(app: AbciApplication, opts: AbciServerOptions): Promise<AbciServer> {
  const queue = opts.queue ?? new SerialQueue();
  const log = opts.logger ?? defaultLogger();
  const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const onFatal = opts.onFatal ?? ((err: unknown, method: string) => {
    log.fatal({ err, method }, 'ABCI application failed in a state-changing call; exiting so CometBFT can replay on restart');
    log.flush?.();
    process.exit(1);
  });
  const listen = parseAddress(opts.address);
  const sockets = new Set<net.Socket>();
  let fatal = false;
  let nextConnId = 0;

  const raiseFatal = (err: unknown, method: Method): void => {
    if (fatal) return;
    fatal = true;
    log.fatal({ err, method }, `ABCI ${method} rejected: application state may be inconsistent`);
    // Stop answering everywhere: nothing built on this state may reach CometBFT.
    for (const s of sockets) s.destroy();
    onFatal(err, method);
  };

  const handleConnection = (socket: net.Socket): void => {
    if (fatal) { socket.destroy(); return; }
    const connId = ++nextConnId;
    const clog = log.child({ conn: connId });
    sockets.add(socket);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder({ maxMessageBytes });
    // Answers are written in request order: each request's answer is chained after the previous one.
    let tail: Promise<void> = Promise.resolve();
    let closed = false;

    // Responses completed in the same event-loop turn leave in one write (cork until setImmediate):
    // a burst of pipelined CheckTx answers costs one syscall instead of one each.
    let corked = false;
    const send = (frame: Buffer): void => {
      if (!corked) {
        corked = true;
        socket.cork();
        setImmediate(() => { corked = false; socket.uncork(); });
      }
      socket.write(frame);
    };
    const answer = (produce: Promise<Response | null>): void => {
      tail = tail.then(async () => {
        const res = await produce;
        if (res === null || closed || fatal) return;
        send(encodeResponseFrame(res));
      }).catch((err: unknown) => {
        clog.error({ err }, 'failed to write ABCI response');
      });
    };

    socket.on('data', (chunk: Buffer) => {
      if (closed || fatal) return;
      let frames: Uint8Array[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        clog.error({ err }, 'dropping ABCI connection: bad frame');
        closed = true;
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        let req: Request;
        try {
          req = Request.decode(frame);
        } catch (err) {
          clog.error({ err }, 'dropping ABCI connection: undecodable request');
          closed = true;
          socket.destroy();
          return;
        }
        const method = requestMethod(req);
        if (method === undefined) {
          // A protocol violation, not an app error: answer like Go's server does.
          clog.error('unknown or empty ABCI request');
          answer(Promise.resolve({ exception: { error: 'unknown request' } }));
          continue;
        }
        if (method === 'echo') {
          answer(Promise.resolve({ echo: { message: req.echo!.message } }));
          continue;
        }
        if (method === 'flush') {
          answer(Promise.resolve({ flush: {} }));
          continue;
        }
        if (method === 'query' && app.unqueuedQuery) {
          // A query the app answers without its state (GetTx over CometBFT RPC): answered outside the queue, so a
          // slow RPC holds up only this connection's later answers (FIFO), never consensus. Still never an exception.
          let direct: Promise<ResponseQuery> | undefined;
          try { direct = app.unqueuedQuery(req.query!); } catch (err) { direct = Promise.reject(err); }
          if (direct) {
            answer(direct.then((query): Response => ({ query }), (err: unknown): Response => {
              clog.error({ err, method }, 'ABCI query rejected (application bug); answering a safe default');
              return safeResponse('query', err);
            }));
            continue;
          }
        }
        if (method === 'checkTx' && app.prefetchCheckTx) {
          try { app.prefetchCheckTx(req.checkTx!); } catch { /* an optimisation only */ }
        }
        // Enqueued NOW, in arrival order, so the app sees requests in the order CometBFT sent them.
        const result = queue.run(() => callApp(app, method, req)).then(
          (res) => res,
          (err: unknown): Response | null => {
            if (FATAL_METHODS.has(method)) {
              raiseFatal(err, method);
              return null;
            }
            clog.error({ err, method }, `ABCI ${method} rejected (application bug); answering a safe default`);
            return safeResponse(method, err);
          },
        );
        answer(result);
      }
    });
    socket.on('error', (err) => {
      clog.debug({ err }, 'ABCI connection error');
    });
    socket.on('close', () => {
      closed = true;
      sockets.delete(socket);
      clog.debug('ABCI connection closed');
    });
    clog.debug('ABCI connection opened');
  };

  const server = net.createServer(handleConnection);
  if (listen.kind === 'unix') {
    // A stale socket file from a crashed run would make listen fail with EADDRINUSE.
    try {
      if (fs.statSync(listen.path).isSocket()) fs.unlinkSync(listen.path);
    } catch { /* absent */ }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (listen.kind === 'unix') server.listen(listen.path, () => { server.off('error', reject); resolve(); });
    else server.listen(listen.port, listen.host, () => { server.off('error', reject); resolve(); });
  });
  server.on('error', (err) => log.error({ err }, 'ABCI server error'));

  let address: string;
  if (listen.kind === 'unix') address = `unix://${listen.path}`;
  else {
    const a = server.address() as net.AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    address = `tcp://${host}:${a.port}`;
  }
  log.info({ address }, 'ABCI server listening');

  let closing: Promise<void> | null = null;
  return {
    address,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
