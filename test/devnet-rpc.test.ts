import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { toHex } from '@cosmjs/encoding';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { DevnetKvApp } from './fixtures/devnet-kv-app.js';
import { headerHash, merkleRoot } from '../app/devnet/hashing.js';

const enc = new TextEncoder();
const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/**
 * Comet38Client over a websocket never lets the process exit after disconnect(): @cosmjs/socket's
 * ReconnectingSocket schedules a reconnect whenever the status turns Disconnected, including on its own
 * disconnect(). Disconnect and disarm that timer (test hygiene only; the server side is unaffected).
 */
function disconnectWs(client: Comet38Client): void {
  const rs = (client as unknown as { client: { socket: { socket: { reconnect: () => void }; reconnectTimeout: NodeJS.Timeout | null } } }).client.socket;
  rs.socket.reconnect = () => undefined;
  client.disconnect();
  if (rs.reconnectTimeout) clearTimeout(rs.reconnectTimeout);
}

async function setup(): Promise<{ devnet: Devnet; app: DevnetKvApp; home: string; cleanup: () => Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'devnet-rpc-'));
  const app = await DevnetKvApp.open(join(home, 'app'));
  const devnet = await startDevnet({ home, app, blockTimeMs: 0, rpcAddress: '127.0.0.1:0', appState: { greeting: 'hello' } });
  return { devnet, app, home, cleanup: async () => { await devnet.close(); await rm(home, { recursive: true, force: true }); } };
}

async function rpc(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

test('handshake runs InitChain once, then blocks follow the ABCI 2.0 call sequence', async (t) => {
  const { devnet, app, cleanup } = await setup();
  try {
    t.deepEqual(app.calls.slice(0, 2), ['info', 'initChain']);
    const before = app.calls.length;
    await devnet.produceBlock();
    t.deepEqual(app.calls.slice(before), ['prepareProposal', 'processProposal', 'finalizeBlock', 'commit']);
    t.is(devnet.height(), 1n);
  } finally { await cleanup(); }
});

test('Comet38Client: status, broadcast, tx, txSearch, block, blockResults, queries', async (t) => {
  const { devnet, cleanup } = await setup();
  const client = await Comet38Client.connect(devnet.rpcUrl);
  try {
    await devnet.produceBlock();
    const status = await client.status();
    t.is(status.nodeInfo.network, 'proofbook-devnet-1');
    t.true(status.nodeInfo.version.startsWith('0.38.'));
    t.is(status.syncInfo.latestBlockHeight, 1);
    t.false(status.syncInfo.catchingUp);
    t.is(status.validatorInfo.votingPower, 10n);

    const tx1 = enc.encode('alice=7');
    const tx2 = enc.encode('bob=hello');
    const tx3 = enc.encode('fail-x=1');
    const r1 = await client.broadcastTxSync({ tx: tx1 });
    t.is(r1.code, 0);
    t.deepEqual(r1.hash, sha(tx1));
    t.is((await client.broadcastTxSync({ tx: tx2 })).code, 0);
    t.is((await client.broadcastTxSync({ tx: tx3 })).code, 0);
    const bad = await client.broadcastTxSync({ tx: enc.encode('no-equals-sign') });
    t.is(bad.code, 1);
    t.is(bad.codespace, 'kv');
    // Duplicate: CometBFT's cache error, as a JSON-RPC internal error.
    const dup = await t.throwsAsync(client.broadcastTxSync({ tx: tx1 }));
    t.regex(dup!.message, /tx already exists in cache/);
    t.is((await client.numUnconfirmedTxs()).total, 3);

    await devnet.produceBlock();
    t.is((await client.numUnconfirmedTxs()).total, 0);

    const block = await client.block(2);
    t.is(block.block.header.height, 2);
    t.deepEqual(block.block.txs.map((x) => Buffer.from(x).toString()), ['alice=7', 'bob=hello', 'fail-x=1']);
    // The block id hash is the header hash; data_hash is the merkle root of the tx hashes.
    t.deepEqual(block.blockId.hash, headerHash((await devnet.node.store.getBlock(2n))!.block.header));
    t.is(toHex(block.block.header.dataHash).toUpperCase(), toHex(merkleRoot([tx1, tx2, tx3].map(sha))).toUpperCase());
    const results = await client.blockResults(2);
    t.is(results.results.length, 3);
    t.is(results.results[0]!.code, 0);
    t.is(results.results[2]!.code, 2);
    t.is(Buffer.from(results.results[0]!.data!).toString(), 'ok:alice');
    t.is(results.results[0]!.gasUsed, 7n);
    t.deepEqual(results.finalizeBlockEvents.map((e) => e.type), ['block']);

    // Header app_hash at h = app hash returned by block h-1.
    await devnet.produceBlock();
    const raw2 = await rpc(devnet.rpcUrl, { jsonrpc: '2.0', id: 1, method: 'block_results', params: { height: '2' } });
    const b3 = await client.block(3);
    t.is(toHex(b3.block.header.appHash), Buffer.from(raw2.json.result.app_hash, 'base64').toString('hex'));
    t.deepEqual(b3.block.header.lastBlockId!.hash, block.blockId.hash);
    t.truthy(b3.block.lastCommit);
    t.is(b3.block.lastCommit!.signatures.length, 1);

    const byHash = await client.txSearch({ query: `tx.hash='${toHex(sha(tx1)).toUpperCase()}'` });
    t.is(byHash.totalCount, 1);
    t.is(byHash.txs[0]!.height, 2);
    t.is(byHash.txs[0]!.index, 0);
    t.deepEqual(byHash.txs[0]!.tx, tx1);

    const one = await client.tx({ hash: sha(tx2) });
    t.is(one.index, 1);
    t.is(one.result.events[0]!.attributes[1]!.value, 'hello');
    const proven = await client.tx({ hash: sha(tx2), prove: true });
    t.deepEqual(proven.proof!.rootHash, block.block.header.dataHash);
    t.is(proven.proof!.proof.total, 3);
    await t.throwsAsync(client.tx({ hash: sha(enc.encode('never')) }), { message: /not found/ });

    const byEvent = await client.txSearch({ query: "app.key='bob'" });
    t.deepEqual(byEvent.txs.map((x) => x.index), [1]);
    const byAmount = await client.txSearch({ query: 'transfer.amount>5 AND tx.height=2' });
    t.is(byAmount.totalCount, 1);
    t.is((await client.txSearch({ query: 'transfer.amount>7' })).totalCount, 0);
    t.is((await client.txSearch({ query: 'transfer.amount>=7' })).totalCount, 1);
    t.is((await client.txSearch({ query: 'tx.height=2' })).totalCount, 3);
    t.is((await client.txSearch({ query: 'tx.height>=3' })).totalCount, 0);
    const paged = await client.txSearch({ query: 'tx.height=2', per_page: 2, page: 2, order_by: 'desc' });
    t.is(paged.totalCount, 3);
    t.deepEqual(paged.txs.map((x) => x.index), [0]);
    await t.throwsAsync(client.txSearch({ query: 'tx.height=2', per_page: 2, page: 3 }), { message: /page should be within \[1, 2\] range, given 3/ });

    const q = await client.abciQuery({ path: '/store', data: enc.encode('alice') });
    t.is(Buffer.from(q.value).toString(), '7');
    const qp = await client.abciQuery({ path: '/store', data: enc.encode('alice'), prove: true });
    t.is(qp.proof?.ops.length, 1);
    const genesisKey = await client.abciQuery({ path: '/store', data: enc.encode('greeting') });
    t.is(Buffer.from(genesisKey.value).toString(), 'hello');

    const info = await client.abciInfo();
    t.is(info.lastBlockHeight, 3);
    const chain = await client.blockchain(1, 3);
    t.is(chain.lastHeight, 3);
    t.deepEqual(chain.blockMetas.map((m) => m.header.height), [3, 2, 1]);
    t.is(chain.blockMetas[1]!.numTxs, 3);
    const commit = await client.commit(2);
    t.true(commit.canonical);
    t.deepEqual(commit.commit.blockId.hash, block.blockId.hash);
    t.false((await client.commit()).canonical);
    const vals = await client.validators({});
    t.is(vals.total, 1);
    t.deepEqual(vals.validators[0]!.address, status.validatorInfo.address);
    const genesis = await client.genesis();
    t.is(genesis.chainId, 'proofbook-devnet-1');
    t.deepEqual(genesis.appState, { greeting: 'hello' });
    await client.health();

    // broadcast_tx_commit waits for inclusion.
    const committing = client.broadcastTxCommit({ tx: enc.encode('carol=3') });
    const producer = (async () => { for (let i = 0; i < 50 && devnet.height() < 4n; i++) { await new Promise((r) => setTimeout(r, 20)); await devnet.produceBlock(); } })();
    const bc = await committing;
    await producer;
    t.is(bc.height, 4);
    t.is(bc.checkTx.code, 0);
    t.is(bc.txResult!.code, 0);
  } finally {
    client.disconnect();
    await cleanup();
  }
});

test('websocket: subscribeNewBlock, subscribeNewBlockHeader, subscribeTx with event conditions', async (t) => {
  const { devnet, cleanup } = await setup();
  const ws = await Comet38Client.connect(devnet.rpcUrl.replace('http://', 'ws://'));
  try {
    const blocks: number[] = [];
    const headers: number[] = [];
    const txs: string[] = [];
    const bobTxs: string[] = [];
    const s1 = ws.subscribeNewBlock().subscribe({ next: (b) => blocks.push(b.header.height) });
    const s2 = ws.subscribeNewBlockHeader().subscribe({ next: (h) => headers.push(h.height) });
    const s3 = ws.subscribeTx().subscribe({ next: (e) => txs.push(Buffer.from(e.tx).toString()) });
    const s4 = ws.subscribeTx("app.key='bob'").subscribe({ next: (e) => bobTxs.push(`${e.height}:${Buffer.from(e.tx).toString()}`) });
    // Subscriptions are registered when the server answered; a status call on the same socket orders after them.
    await ws.status().catch(() => undefined);
    const http = await Comet38Client.connect(devnet.rpcUrl);
    await http.broadcastTxSync({ tx: enc.encode('alice=1') });
    await http.broadcastTxSync({ tx: enc.encode('bob=2') });
    http.disconnect();
    await devnet.produceBlock();
    await devnet.produceBlock();
    for (let i = 0; i < 100 && (blocks.length < 2 || txs.length < 2 || bobTxs.length < 1 || headers.length < 2); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    t.deepEqual(blocks, [1, 2]);
    t.deepEqual(headers, [1, 2]);
    t.deepEqual(txs, ['alice=1', 'bob=2']);
    t.deepEqual(bobTxs, ['1:bob=2']);
    s1.unsubscribe(); s2.unsubscribe(); s3.unsubscribe(); s4.unsubscribe();
    // xstream stops producers asynchronously; let the client send its `unsubscribe` requests before disconnecting.
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    disconnectWs(ws);
    await cleanup();
  }
});

test('bad RPC input gives CometBFT-shaped JSON-RPC errors and the server keeps serving', async (t) => {
  const { devnet, cleanup } = await setup();
  try {
    await devnet.produceBlock();
    const url = devnet.rpcUrl;
    const unknown = await rpc(url, { jsonrpc: '2.0', id: 7, method: 'no_such_method', params: {} });
    t.is(unknown.status, 200);
    t.deepEqual(unknown.json, { jsonrpc: '2.0', id: 7, error: { code: -32601, message: 'Method not found' } });

    const badHeight = await rpc(url, { jsonrpc: '2.0', id: 'x', method: 'block', params: { height: 'abc' } });
    t.is(badHeight.json.id, 'x');
    t.is(badHeight.json.error.code, -32602);
    t.is(badHeight.json.error.message, 'Invalid params');
    t.regex(badHeight.json.error.data, /^error converting json params to arguments: /);

    const badHex = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'abci_query', params: { path: '/x', data: 'zz' } });
    t.is(badHex.json.error.code, -32602);
    t.regex(badHex.json.error.data, /encoding\/hex: invalid byte/);
    const oddHex = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'abci_query', params: { path: '/x', data: 'abc' } });
    t.regex(oddHex.json.error.data, /odd length hex string/);
    const badB64 = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'broadcast_tx_sync', params: { tx: '%%%' } });
    t.is(badB64.json.error.code, -32602);
    t.regex(badB64.json.error.data, /illegal base64 data/);

    const tooHigh = await rpc(url, { jsonrpc: '2.0', id: 2, method: 'block', params: { height: '99' } });
    t.is(tooHigh.json.error.code, -32603);
    t.is(tooHigh.json.error.data, 'height 99 must be less than or equal to the current blockchain height 1');
    const badQuery = await rpc(url, { jsonrpc: '2.0', id: 3, method: 'tx_search', params: { query: "tx.height=='1" } });
    t.is(badQuery.json.error.code, -32603);

    const parse = await rpc(url, '{"jsonrpc": "2.0", "id": 1, "method": ');
    t.is(parse.status, 500);
    t.is(parse.json.error.code, -32700);

    const batch = await rpc(url, [{ jsonrpc: '2.0', id: 1, method: 'health' }, { jsonrpc: '2.0', id: 2, method: 'nope' }]);
    t.deepEqual(batch.json.map((r: any) => r.id), [1, 2]);
    t.deepEqual(batch.json[0].result, {});
    t.is(batch.json[1].error.code, -32601);
    // subscribe is websocket-only.
    t.is((await rpc(url, { jsonrpc: '2.0', id: 5, method: 'subscribe', params: { query: "tm.event='Tx'" } })).json.error.code, -32601);

    // URI (GET) form.
    const get = await (await fetch(`${url}/block?height=1`)).json() as any;
    t.is(get.result.block.header.height, '1');
    const getQuery = await (await fetch(`${url}/abci_query?path="/store"&data=0x${Buffer.from('greeting').toString('hex')}`)).json() as any;
    t.is(Buffer.from(getQuery.result.response.value, 'base64').toString(), 'hello');
    const getBad = await fetch(`${url}/abci_query?path="/store"&data=0xZZ`);
    t.is(getBad.status, 500);
    t.is(((await getBad.json()) as any).error.code, -32602);
    t.is((await fetch(`${url}/nope`)).status, 404);

    // Still serving.
    const client = await Comet38Client.connect(url);
    t.is((await client.status()).syncInfo.latestBlockHeight, 1);
    client.disconnect();
  } finally { await cleanup(); }
});

test('mempool: recheck drops txs that became invalid; ProcessProposal REJECT yields an empty block', async (t) => {
  const { devnet, app, cleanup } = await setup();
  const client = await Comet38Client.connect(devnet.rpcUrl);
  try {
    app.rejectProposals = true;
    t.is((await client.broadcastTxSync({ tx: enc.encode('recheck-fail=1') })).code, 0);
    t.is((await client.broadcastTxSync({ tx: enc.encode('k=v') })).code, 0);
    await devnet.produceBlock();
    // Rejected proposal -> empty block 1; both txs went through RECHECK, one was dropped.
    t.is((await client.block(1)).block.txs.length, 0);
    t.true(app.calls.includes('recheckTx'));
    t.is((await client.numUnconfirmedTxs()).total, 1);
    app.rejectProposals = false;
    await devnet.produceBlock();
    t.deepEqual((await client.block(2)).block.txs.map((x) => Buffer.from(x).toString()), ['k=v']);
    // A dropped tx left the cache, so it can be resubmitted; a committed one stays cached.
    t.is((await client.broadcastTxSync({ tx: enc.encode('recheck-fail=1') })).code, 0);
    await t.throwsAsync(client.broadcastTxSync({ tx: enc.encode('k=v') }), { message: /tx already exists in cache/ });
  } finally {
    client.disconnect();
    await cleanup();
  }
});

test('mempool limits answer with CometBFT\'s error texts', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'devnet-mempool-'));
  const app = await DevnetKvApp.open(join(home, 'app'));
  const devnet = await startDevnet({ home, app, blockTimeMs: 0, rpcAddress: '127.0.0.1:0', appState: {}, mempool: { size: 2, maxTxBytes: 10 } });
  const client = await Comet38Client.connect(devnet.rpcUrl);
  try {
    await t.throwsAsync(client.broadcastTxSync({ tx: enc.encode('k=123456789') }), { message: /tx too large. Max size is 10, but got 11/ });
    t.is((await client.broadcastTxSync({ tx: enc.encode('a=1') })).code, 0);
    t.is((await client.broadcastTxSync({ tx: enc.encode('b=2') })).code, 0);
    await t.throwsAsync(client.broadcastTxSync({ tx: enc.encode('c=3') }), { message: /mempool is full: number of txs 2 \(max: 2\), total txs bytes 6 \(max: 1073741824\)/ });
    await devnet.produceBlock();
    t.is((await client.broadcastTxSync({ tx: enc.encode('c=3') })).code, 0);
  } finally {
    client.disconnect();
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  }
});
