/**
 * GetTx over ABCI query (cosmjs' setupTxExtension) is answered from CometBFT's tx index through the node's RPC. That
 * network call must not run inside the app's SerialQueue: a slow or unreachable RPC would otherwise stall the
 * FinalizeBlock and Commit queued behind it. Both drivers are checked with an RPC that holds every request until the
 * test releases it: the ABCI socket server (`proofbook start`, wired by startNode with --rpc) and the devnet's node.
 */
import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import pino from 'pino';
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';
import { GetTxRequest } from 'cosmjs-types/cosmos/tx/v1beta1/service';
import { FrameDecoder, encodeRequestFrame } from '../app/abci/framing.js';
import { startNode } from '../app/node.js';
import { GET_TX_QUERY_PATH } from '../app/app.js';
import { startDevnet } from '../app/devnet/index.js';
import { txLookup } from '../app/grpc/index.js';
import { TestChain } from './helpers/chain.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const silent = pino({ level: 'silent' });
const HASH = 'AB'.repeat(32);
const getTxData = (): Uint8Array => GetTxRequest.encode({ hash: HASH }).finish();

/** A CometBFT JSON-RPC stand-in that holds every request until release(), then answers "tx not found" as CometBFT does. */
async function slowRpc(): Promise<{ url: string; methods: string[]; held: () => number; answered: () => number; release: () => void; close: () => Promise<void> }> {
  const methods: string[] = [];
  const waiting: (() => void)[] = [];
  let released = false;
  let answered = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      let parsed: { id?: unknown; method?: string } = {};
      try { parsed = JSON.parse(body) as typeof parsed; } catch { /* GET form */ }
      methods.push(parsed.method ?? req.url ?? '');
      const reply = (): void => {
        answered++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ jsonrpc: '2.0', id: parsed.id ?? -1, error: { code: -32603, message: 'Internal error', data: `tx (${HASH}) not found` } }));
      };
      if (released) reply(); else waiting.push(reply);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, methods, held: () => waiting.length, answered: () => answered,
    release: () => { released = true; for (const w of waiting.splice(0)) w(); },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function bounded<T>(p: Promise<T>, what: string, timeoutMs = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** A raw pipelining ABCI connection, as CometBFT's socket client opens (one per consensus/mempool/query/snapshot). */
class Conn {
  private readonly decoder = new FrameDecoder();
  readonly got: Response[] = [];
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (c) => { for (const f of this.decoder.push(c)) this.got.push(Response.decode(f)); });
    socket.on('error', () => {});
  }
  static open(address: string): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(Number(address.slice(address.lastIndexOf(':') + 1)), '127.0.0.1');
      s.once('connect', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  send(reqs: object[]): void {
    this.socket.write(Buffer.concat(reqs.map((r) => encodeRequestFrame(Request.fromPartial(r as Request)))));
  }
  close(): void { this.socket.destroy(); }
}

test('ABCI socket server: a GetTx query waiting on a slow CometBFT RPC does not delay FinalizeBlock and Commit', async (t) => {
  t.timeout(180_000);
  const rpc = await slowRpc();
  const chain = await TestChain.create();
  const node = await startNode({ home: chain.dir, app: chain.app, abciAddress: 'tcp://127.0.0.1:0', cometRpc: rpc.url, handleSignals: false, logger: silent });
  const query = await Conn.open(node.abciAddress);
  const consensus = await Conn.open(node.abciAddress);
  t.teardown(async () => {
    query.close();
    consensus.close();
    rpc.release();
    await node.close(); // closes the app
    await rpc.close();
    await rm(chain.dir, { recursive: true, force: true });
  });

  query.send([{ query: { path: GET_TX_QUERY_PATH, data: getTxData(), height: 0n, prove: false } }, { flush: {} }]);
  await until(() => rpc.held() > 0, 'the GetTx lookup to reach the RPC');
  t.deepEqual(rpc.methods, ['tx'], 'the lookup is in flight at the RPC');

  const time = { seconds: 1_700_000_100n, nanos: 0 };
  consensus.send([
    { finalizeBlock: { txs: [], hash: new Uint8Array(32), height: 1n, time, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20), misbehavior: [] } },
    { commit: {} },
    { info: {} },
    { flush: {} },
  ]);
  await until(() => consensus.got.length >= 4, 'FinalizeBlock, Commit and Info answers while the lookup is held');
  t.truthy(consensus.got[0]!.finalizeBlock, JSON.stringify(Object.keys(consensus.got[0]!)));
  t.is(consensus.got[0]!.finalizeBlock!.appHash.length, 32);
  t.truthy(consensus.got[1]!.commit);
  t.is(consensus.got[2]!.info!.lastBlockHeight, 1n, 'the block was committed while GetTx waited');
  t.is(rpc.held(), 1, 'the RPC still holds the lookup');
  t.is(query.got.length, 0, 'the GetTx answer has not been given yet');

  rpc.release();
  await until(() => query.got.length >= 2, 'the GetTx answer after the RPC answered');
  const q = query.got[0]!.query!;
  t.not(q.code, 0);
  t.regex(q.log, /rpc error: code = NotFound desc = tx not found/);
  t.is(q.height, 1n, 'answered at the height committed when the index answered');
  t.truthy(query.got[1]!.flush, 'FIFO: the Flush sent after the query is answered after it');
});

test('devnet node: a GetTx query waiting on a slow RPC does not delay block production', async (t) => {
  t.timeout(180_000);
  const rpc = await slowRpc();
  const home = await mkdtemp(join(tmpdir(), 'pb-unqueued-'));
  const devnet = await startDevnet({ home, blockTimeMs: 0, rpcAddress: '127.0.0.1:0', logger: silent });
  // The devnet wires the lookup to its own RPC; point it at the slow one instead.
  const lookup = txLookup(rpc.url, (p, d, h) => devnet.node.query(p, d, h ?? 0n, false));
  (devnet.app as unknown as { setTxLookup(f: (r: Uint8Array) => Promise<Uint8Array>): void }).setTxLookup((r) => lookup.lookup(r));
  t.teardown(async () => {
    rpc.release();
    lookup.close();
    await devnet.close();
    await rpc.close();
    await rm(home, { recursive: true, force: true });
  });
  const before = devnet.height();

  let answered = false;
  const pending = devnet.node.query(GET_TX_QUERY_PATH, getTxData(), 0n, false).finally(() => { answered = true; });
  await until(() => rpc.held() > 0, 'the GetTx lookup to reach the RPC');
  await bounded(devnet.produceBlock(), 'a block while the lookup is held');
  await bounded(devnet.produceBlock(), 'a second block while the lookup is held');
  t.is(devnet.height(), before + 2n, 'two blocks produced and committed while the lookup was held');
  t.false(answered);

  rpc.release();
  const r = await pending;
  t.not(r.code, 0);
  t.regex(r.log, /NotFound/);
});

test('a GetTx lookup the RPC never answers gives up after its timeout with an error, so it cannot hold its ABCI connection forever', async (t) => {
  t.timeout(120_000);
  const rpc = await slowRpc();
  const chain = await TestChain.create();
  const lookup = txLookup(rpc.url, async () => { throw new Error('not used'); }, { timeoutMs: 300 });
  chain.app.setTxLookup((r) => lookup.lookup(r));
  t.teardown(async () => {
    rpc.release();
    lookup.close();
    await rpc.close();
    await chain.close();
  });
  const res = await bounded(chain.app.unqueuedQuery({ path: GET_TX_QUERY_PATH, data: getTxData(), height: 0n, prove: false })!, 'the timed-out lookup\'s answer');
  t.not(res.code, 0);
  t.regex(res.log, /did not answer the tx lookup within 300 ms/);
  // The RPC never answered, so the answer came from the timeout. (Whether the request had reached the RPC by then is
  // timing: on a loaded machine the 300 ms can run out before the server has read it.)
  t.is(rpc.answered(), 0, 'the RPC never answered: the answer came from the timeout');
  t.true(rpc.held() <= 1);
});
