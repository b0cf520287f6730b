import test from 'ava';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pino from 'pino';
import {
  Request, Response, RequestFinalizeBlock, ResponseCheckTx, ResponseProcessProposal_ProposalStatus,
  ResponseVerifyVoteExtension_VerifyStatus, ResponseOfferSnapshot_Result,
} from 'cosmjs-types/tendermint/abci/types';
import { startAbciServer } from '../app/abci/server.js';
import { SerialQueue, type AbciApplication } from '../app/abci/application.js';
import { FrameDecoder, encodeRequestFrame, encodeUvarint } from '../app/abci/framing.js';
import { KvStoreApp, kvAppHash } from './fixtures/kvstore-app.js';

const silent = pino({ level: 'silent' });
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A raw pipelining ABCI client: writes any number of requests, reads responses in arrival order. */
class RawClient {
  private readonly decoder = new FrameDecoder();
  private readonly got: Response[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  readonly closedP: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      for (const f of this.decoder.push(chunk)) this.got.push(Response.decode(f));
      this.wake();
    });
    this.closedP = new Promise((resolve) => socket.on('close', () => { this.closed = true; this.wake(); resolve(); }));
    socket.on('error', () => {});
  }

  static connect(address: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = address.startsWith('unix://')
        ? net.connect(address.slice(7))
        : net.connect(Number(address.slice(address.lastIndexOf(':') + 1)), '127.0.0.1');
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake() { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  /** Sends all requests as one byte stream, optionally cut into small chunks to exercise reassembly. */
  send(reqs: object[], chunkSize = 0): void {
    const bytes = Buffer.concat(reqs.map((r) => encodeRequestFrame(Request.fromPartial(r as Request))));
    if (!chunkSize) { this.socket.write(bytes); return; }
    for (let i = 0; i < bytes.length; i += chunkSize) this.socket.write(bytes.subarray(i, i + chunkSize));
  }

  async take(n: number): Promise<Response[]> {
    while (this.got.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.got.length}/${n} responses`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.got.splice(0, n);
  }

  get pending(): number { return this.got.length; }
  close() { this.socket.destroy(); }
}

const kind = (r: Response) => Object.keys(r).find((k) => (r as Record<string, unknown>)[k] !== undefined);

function tick(ms = 0) { return new Promise((r) => setTimeout(r, ms)); }

/** Wraps KvStoreApp with a checkTx that waits for txs starting with "slow" and tracks concurrency. */
class ProbeApp extends KvStoreApp {
  inFlight = 0;
  maxInFlight = 0;
  readonly order: string[] = [];
  private async track<T>(name: string, f: () => Promise<T>, delay = 0): Promise<T> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.order.push(`${name}:start`);
    try {
      if (delay) await tick(delay);
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      return await f();
    } finally {
      this.order.push(`${name}:end`);
      this.inFlight--;
    }
  }
  override checkTx(req: Parameters<KvStoreApp['checkTx']>[0]) {
    const s = dec.decode(req.tx);
    return this.track(`checkTx(${s})`, () => super.checkTx(req), s.startsWith('slow') ? 30 : 0);
  }
  override query(req: Parameters<KvStoreApp['query']>[0]) {
    return this.track(`query(${dec.decode(req.data)})`, () => super.query(req));
  }
  override finalizeBlock(req: Parameters<KvStoreApp['finalizeBlock']>[0]) {
    return this.track(`finalizeBlock(${req.height})`, () => super.finalizeBlock(req), 20);
  }
  override commit() { return this.track('commit', () => super.commit()); }
}

test('answers strictly FIFO on a pipelined connection, Echo/Flush wait their turn', async (t) => {
  const app = new ProbeApp();
  const server = await startAbciServer(app, { address: 'tcp://127.0.0.1:0', logger: silent });
  t.teardown(() => server.close());
  t.regex(server.address, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  const c = await RawClient.connect(server.address);
  t.teardown(() => c.close());
  // The slow CheckTx is answered ~30 ms later than Echo could be; Echo and Flush must still come after it.
  c.send([
    { checkTx: { tx: enc.encode('slow=1') } },
    { echo: { message: 'e1' } },
    { flush: {} },
    { checkTx: { tx: enc.encode('bad') } },
    { query: { data: enc.encode('x') } },
    { echo: { message: 'e2' } },
    { flush: {} },
  ], 3);
  const res = await c.take(7);
  t.deepEqual(res.map(kind), ['checkTx', 'echo', 'flush', 'checkTx', 'query', 'echo', 'flush']);
  t.is(res[0]!.checkTx!.code, 0);
  t.is(res[1]!.echo!.message, 'e1');
  t.is(res[3]!.checkTx!.code, 1);
  t.is(res[5]!.echo!.message, 'e2');
  await tick(20);
  t.is(c.pending, 0, 'no extra responses');
});

test('a full block cycle through the socket drives the kvstore app', async (t) => {
  const app = new KvStoreApp();
  const server = await startAbciServer(app, { address: 'tcp://127.0.0.1:0', logger: silent });
  t.teardown(() => server.close());
  const c = await RawClient.connect(server.address);
  t.teardown(() => c.close());
  c.send([
    { info: {} },
    { initChain: { chainId: 'x', appStateBytes: enc.encode('{"g":"1"}') } },
    { prepareProposal: { maxTxBytes: 100n, txs: [enc.encode('a=1'), enc.encode('nope'), enc.encode('b=2')], height: 1n } },
    { processProposal: { txs: [enc.encode('a=1'), enc.encode('b=2')], height: 1n } },
    { finalizeBlock: RequestFinalizeBlock.fromPartial({ height: 1n, txs: [enc.encode('a=1'), enc.encode('b=2')] }) },
    { commit: {} },
    { query: { data: enc.encode('b') } },
    { info: {} },
    { flush: {} },
  ]);
  const r = await c.take(9);
  t.deepEqual(r.map(kind), ['info', 'initChain', 'prepareProposal', 'processProposal', 'finalizeBlock', 'commit', 'query', 'info', 'flush']);
  t.is(r[0]!.info!.lastBlockHeight, 0n);
  t.deepEqual(r[2]!.prepareProposal!.txs.map((x) => dec.decode(x)), ['a=1', 'b=2']);
  t.is(r[3]!.processProposal!.status, ResponseProcessProposal_ProposalStatus.ACCEPT);
  t.deepEqual(r[4]!.finalizeBlock!.txResults.map((x) => x.code), [0, 0]);
  const expected = kvAppHash(new Map([['g', '1'], ['a', '1'], ['b', '2']]), 1n);
  t.deepEqual(r[4]!.finalizeBlock!.appHash, expected);
  t.is(dec.decode(r[6]!.query!.value), '2');
  t.is(r[7]!.info!.lastBlockHeight, 1n);
  t.deepEqual(r[7]!.info!.lastBlockAppHash, expected);
});

test('all connections share one serial queue (also with the caller)', async (t) => {
  const app = new ProbeApp();
  const queue = new SerialQueue();
  const server = await startAbciServer(app, { address: 'tcp://127.0.0.1:0', logger: silent, queue });
  t.teardown(() => server.close());
  const consensus = await RawClient.connect(server.address);
  const mempool = await RawClient.connect(server.address);
  const query = await RawClient.connect(server.address);
  t.teardown(() => { consensus.close(); mempool.close(); query.close(); });

  // Hold the shared queue from "outside" (like an RPC handler would); the app must not run meanwhile.
  let release!: () => void;
  const held = queue.run(() => new Promise<void>((r) => { release = r; }));
  consensus.send([{ finalizeBlock: RequestFinalizeBlock.fromPartial({ height: 1n, txs: [enc.encode('k=v')] }) }, { commit: {} }, { flush: {} }]);
  await tick(30);
  mempool.send([{ checkTx: { tx: enc.encode('slow=1') } }, { checkTx: { tx: enc.encode('m=2') } }, { flush: {} }]);
  await tick(30);
  query.send([{ query: { data: enc.encode('k') } }, { flush: {} }]);
  await tick(30);
  t.deepEqual(app.order, [], 'nothing ran while the shared queue was held');
  release();
  await held;
  const [rc, rm, rq] = await Promise.all([consensus.take(3), mempool.take(3), query.take(2)]);
  t.is(app.maxInFlight, 1, 'app methods never overlapped');
  // Calls ran in arrival order and each completed before the next started.
  t.deepEqual(app.order, [
    'finalizeBlock(1):start', 'finalizeBlock(1):end', 'commit:start', 'commit:end',
    'checkTx(slow=1):start', 'checkTx(slow=1):end', 'checkTx(m=2):start', 'checkTx(m=2):end',
    'query(k):start', 'query(k):end',
  ]);
  t.deepEqual(rc.map(kind), ['finalizeBlock', 'commit', 'flush']);
  t.deepEqual(rm.map(kind), ['checkTx', 'checkTx', 'flush']);
  t.is(dec.decode(rq[0]!.query!.value), 'v', 'query saw the committed block');
});

/** An app whose every method rejects. */
function rejectingApp(): AbciApplication {
  const boom = () => Promise.reject(new Error('boom'));
  return {
    info: boom, initChain: boom, query: boom, checkTx: boom, prepareProposal: boom, processProposal: boom,
    finalizeBlock: boom, extendVote: boom, verifyVoteExtension: boom, commit: boom, listSnapshots: boom,
    offerSnapshot: boom, loadSnapshotChunk: boom, applySnapshotChunk: boom, close: async () => {},
  };
}

test('a rejecting app never produces an exception response: safe defaults', async (t) => {
  let fatalCalls = 0;
  const server = await startAbciServer(rejectingApp(), {
    address: 'tcp://127.0.0.1:0', logger: silent, onFatal: () => { fatalCalls++; },
  });
  t.teardown(() => server.close());
  const c = await RawClient.connect(server.address);
  t.teardown(() => c.close());
  c.send([
    { checkTx: { tx: enc.encode('a=1') } },
    { query: { data: enc.encode('a') } },
    { prepareProposal: { maxTxBytes: 10n, txs: [enc.encode('a=1')] } },
    { processProposal: { txs: [enc.encode('a=1')] } },
    { extendVote: {} },
    { verifyVoteExtension: {} },
    { listSnapshots: {} },
    { offerSnapshot: {} },
    { loadSnapshotChunk: {} },
    { flush: {} },
  ]);
  const r = await c.take(10);
  t.deepEqual(r.map(kind), ['checkTx', 'query', 'prepareProposal', 'processProposal', 'extendVote',
    'verifyVoteExtension', 'listSnapshots', 'offerSnapshot', 'loadSnapshotChunk', 'flush']);
  t.true(r.every((x) => x.exception === undefined));
  t.is(r[0]!.checkTx!.code, 1);
  t.regex(r[0]!.checkTx!.log, /boom/);
  t.is(r[1]!.query!.code, 1);
  t.deepEqual(r[2]!.prepareProposal!.txs, []);
  t.is(r[3]!.processProposal!.status, ResponseProcessProposal_ProposalStatus.REJECT);
  t.is(r[5]!.verifyVoteExtension!.status, ResponseVerifyVoteExtension_VerifyStatus.REJECT);
  t.is(r[7]!.offerSnapshot!.result, ResponseOfferSnapshot_Result.REJECT);
  t.is(fatalCalls, 0);
});

for (const method of ['finalizeBlock', 'commit', 'initChain', 'info'] as const) {
  test(`a rejected ${method} is fatal: no answer on any connection, onFatal called once`, async (t) => {
    const fatal: string[] = [];
    const server = await startAbciServer(rejectingApp(), {
      address: 'tcp://127.0.0.1:0', logger: silent, onFatal: (_e, m) => { fatal.push(m); },
    });
    t.teardown(() => server.close());
    const consensus = await RawClient.connect(server.address);
    const other = await RawClient.connect(server.address);
    t.teardown(() => { consensus.close(); other.close(); });
    consensus.send([{ echo: { message: 'before' } }]);
    t.is((await consensus.take(1))[0]!.echo!.message, 'before');
    consensus.send([{ [method]: {} }, { echo: { message: 'after' } }, { flush: {} }]);
    await consensus.closedP;
    await other.closedP;
    t.deepEqual(fatal, [method]);
    t.is(consensus.pending, 0, 'nothing after the failed call, in particular no exception');
    // and no new connection is served either
    const late = await RawClient.connect(server.address);
    late.send([{ echo: { message: 'late' } }]);
    await late.closedP;
    t.is(late.pending, 0);
  });
}

test('empty request is a protocol error answered with exception; oversize frame drops the connection', async (t) => {
  const server = await startAbciServer(new KvStoreApp(), { address: 'tcp://127.0.0.1:0', logger: silent, maxMessageBytes: 1024 });
  t.teardown(() => server.close());
  const c = await RawClient.connect(server.address);
  t.teardown(() => c.close());
  c.socket.write(Buffer.from([0])); // a zero-length Request: no oneof set
  c.send([{ echo: { message: 'ok' } }]);
  const r = await c.take(2);
  t.is(r[0]!.exception!.error, 'unknown request');
  t.is(r[1]!.echo!.message, 'ok');

  const big = await RawClient.connect(server.address);
  t.teardown(() => big.close());
  big.socket.write(Buffer.from(encodeUvarint(4096)));
  await big.closedP;
  t.true(big.closed);
  // the server still serves others
  c.send([{ echo: { message: 'still' } }]);
  t.is((await c.take(1))[0]!.echo!.message, 'still');
});

test('listens on a unix socket and close() releases it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'abci-unix-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sock = path.join(dir, 'app.sock');
  const server = await startAbciServer(new KvStoreApp(), { address: `unix://${sock}`, logger: silent });
  t.is(server.address, `unix://${sock}`);
  const c = await RawClient.connect(server.address);
  c.send([{ echo: { message: 'u' } }, { flush: {} }]);
  t.deepEqual((await c.take(2)).map(kind), ['echo', 'flush']);
  await server.close();
  await c.closedP;
  await t.throwsAsync(RawClient.connect(server.address));
});

test('ResponseCheckTx from the app passes through unchanged', async (t) => {
  const app = new KvStoreApp();
  app.checkTx = async () => ResponseCheckTx.fromPartial({ code: 7, log: 'custom', gasWanted: 42n, codespace: 'x' });
  const server = await startAbciServer(app, { address: 'tcp://127.0.0.1:0', logger: silent });
  t.teardown(() => server.close());
  const c = await RawClient.connect(server.address);
  t.teardown(() => c.close());
  c.send([{ checkTx: { tx: enc.encode('a=1') } }]);
  const [r] = await c.take(1);
  t.like(r!.checkTx!, { code: 7, log: 'custom', gasWanted: 42n, codespace: 'x' });
});
