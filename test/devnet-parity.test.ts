/**
 * Shape parity with real CometBFT v0.38: the same app (test/fixtures/devnet-kv-app.ts) runs once behind the
 * CometBFT binary (through app/abci/server.ts) and once inside the devnet; the same txs are sent to both and the
 * raw JSON-RPC responses of every method must have the same structure (keys, value kinds, number vs string),
 * and errors the same code, message and data text. Needs the cometbft binary: fails, never skips.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import pino from 'pino';
import WebSocket from 'ws';
import { startAbciServer } from '../app/abci/server.js';
import { createNet } from '../scripts/cometbft-net.js';
import { startDevnet } from '../app/devnet/index.js';
import { DevnetKvApp } from './fixtures/devnet-kv-app.js';

type J = null | boolean | number | string | J[] | { [k: string]: J };

/** The structure of a JSON value: object keys (sorted) with their shapes, arrays by their first element. */
function shape(v: J): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : [shape(v[0]!)];
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = shape(v[k]!);
    return out;
  }
  if (typeof v === 'string') {
    if (/^[0-9A-F]{40,64}$/.test(v)) return 'string:hex';
    if (/^-?[0-9]+$/.test(v)) return 'string:int';
    if (/^\d{4}-\d\d-\d\dT/.test(v)) return 'string:time';
    return 'string';
  }
  return typeof v;
}

/**
 * Whether two shapes agree. An empty array ('[]') agrees with any array: how many items a list holds depends on how the
 * txs fell into blocks (a tx proof's `aunts` is empty in a block of one tx), which CometBFT and the devnet may do
 * differently for the same txs.
 */
function sameShape(a: unknown, b: unknown): boolean {
  if (a === '[]' || b === '[]') return (a === '[]' || Array.isArray(a)) && (b === '[]' || Array.isArray(b));
  if (Array.isArray(a) && Array.isArray(b)) return sameShape(a[0], b[0]);
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameShape((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

async function call(url: string, method: string, params: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return res.json();
}

async function wsCollect(httpUrl: string, queries: string[]): Promise<{ msgs: any[]; close: () => void }> {
  const ws = new WebSocket(`${httpUrl.replace('http://', 'ws://')}/websocket`);
  const msgs: any[] = [];
  ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  queries.forEach((query, i) => ws.send(JSON.stringify({ jsonrpc: '2.0', id: `sub-${i}`, method: 'subscribe', params: { query } })));
  for (let i = 0; i < 100 && msgs.length < queries.length; i++) await new Promise((r) => setTimeout(r, 20));
  return { msgs, close: () => ws.terminate() };
}

const sha = (s: string) => createHash('sha256').update(s).digest();

test('devnet JSON-RPC responses have the same shapes as real CometBFT 0.38 for the same app and txs', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-devnet-parity-'));
  const net = await createNet(dir, { validators: 1, app: 'external', appState: { greeting: 'hello' }, chainId: 'parity' });
  const cometApp = await DevnetKvApp.open(path.join(dir, 'comet-app'));
  const server = await startAbciServer(cometApp, { address: net.abciAddress(0), logger: pino({ level: 'silent' }) });
  const devApp = await DevnetKvApp.open(path.join(dir, 'dev-app'));
  const devnet = await startDevnet({ home: path.join(dir, 'devnet'), app: devApp, chainId: 'parity', blockTimeMs: 0, rpcAddress: '127.0.0.1:0', appState: { greeting: 'hello' } });
  t.teardown(async () => {
    await devnet.close();
    await net.stop();
    await server.close();
    await cometApp.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await net.start();
  await net.waitForHeight(0, 2, 60_000);
  await devnet.produceBlock();
  const comet = net.rpcUrl(0);
  const dev = devnet.rpcUrl;

  const txs = ['alice=7', 'bob=hello', 'fail-x=1'];
  const queries = ["tm.event='Tx'", "tm.event='NewBlock'", "tm.event='NewBlockHeader'", "tm.event='Tx' AND app.key='alice'"];
  const wsComet = await wsCollect(comet, queries);
  const wsDev = await wsCollect(dev, queries);
  t.teardown(() => { wsComet.close(); wsDev.close(); });
  for (const url of [comet, dev]) {
    for (const tx of txs) {
      const r = await call(url, 'broadcast_tx_sync', { tx: Buffer.from(tx).toString('base64') });
      t.is(r.result?.code, 0, JSON.stringify(r));
    }
  }
  await devnet.produceBlock();
  await devnet.produceBlock();
  // Wait until CometBFT indexed the last tx (and one more block exists).
  let cometHeight = 0;
  for (let i = 0; i < 200; i++) {
    const r = await call(comet, 'tx', { hash: sha(txs[2]!).toString('base64') });
    if (r.result) { cometHeight = Number(r.result.height); break; }
    await new Promise((res) => setTimeout(res, 100));
  }
  t.true(cometHeight > 0);
  await net.waitForHeight(0, cometHeight + 1, 30_000);
  // CometBFT may split the txs over several blocks: compare the blocks holding the first tx (alice, index 0).
  const heightOf = async (url: string) => Number((await call(url, 'tx', { hash: sha(txs[0]!).toString('base64') })).result.height);
  const h0Comet = await heightOf(comet);
  const h0Dev = await heightOf(dev);

  const hashB64 = sha(txs[1]!).toString('base64');
  const hashHex = sha(txs[1]!).toString('hex').toUpperCase();
  const cases: [string, (h: number) => Record<string, unknown>][] = [
    ['status', () => ({})],
    ['health', () => ({})],
    ['abci_info', () => ({})],
    ['abci_query', () => ({ path: '/store', data: Buffer.from('alice').toString('hex') })],
    ['abci_query', () => ({ path: '/store', data: Buffer.from('missing').toString('hex') })],
    ['block', (h) => ({ height: String(h) })],
    ['block', () => ({ height: '1' })],
    ['block_results', (h) => ({ height: String(h) })],
    ['header', (h) => ({ height: String(h) })],
    ['commit', (h) => ({ height: String(h) })],
    ['validators', (h) => ({ height: String(h) })],
    ['blockchain', (h) => ({ minHeight: '1', maxHeight: String(h) })],
    ['tx', () => ({ hash: hashB64 })],
    ['tx', () => ({ hash: hashB64, prove: true })],
    ['tx_search', () => ({ query: `tx.hash='${hashHex}'` })],
    ['tx_search', () => ({ query: "app.key='alice'" })],
    ['tx_search', () => ({ query: 'tx.height>=1', per_page: '2', page: '2' })],
    ['num_unconfirmed_txs', () => ({})],
    ['broadcast_tx_sync', () => ({ tx: Buffer.from('no-equals-sign').toString('base64') })],
    ['check_tx', () => ({ tx: Buffer.from('x=1').toString('base64') })],
    ['genesis', () => ({})],
    // errors
    ['no_such_method', () => ({})],
    ['block', () => ({ height: '99999' })],
    ['block', () => ({ height: '0' })],
    ['tx', () => ({ hash: sha('never').toString('base64') })],
    ['tx_search', () => ({ query: 'tx.height=1', page: '5' })],
    ['tx_search', () => ({ query: 'tx.height=1', order_by: 'sideways' })],
    ['broadcast_tx_sync', () => ({ tx: Buffer.from(txs[0]!).toString('base64') })],
  ];
  const mismatches: string[] = [];
  for (const [method, params] of cases) {
    const [a, b] = await Promise.all([call(comet, method, params(h0Comet)), call(dev, method, params(h0Dev))]);
    const label = `${method} ${JSON.stringify(params(0))}`;
    if (a.error || b.error) {
      const norm = (e: any) => e && { code: e.code, message: e.message, data: String(e.data ?? '').replace(/[0-9A-F]{64}/g, 'HASH').replace(/\d+/g, 'N') };
      if (JSON.stringify(norm(a.error)) !== JSON.stringify(norm(b.error))) {
        mismatches.push(`${label}\n  cometbft: ${JSON.stringify(a.error ?? a.result)}\n  devnet:   ${JSON.stringify(b.error ?? b.result)}`);
      }
    } else if (!sameShape(shape(a.result), shape(b.result))) {
      mismatches.push(`${label}\n  cometbft: ${JSON.stringify(shape(a.result))}\n  devnet:   ${JSON.stringify(shape(b.result))}\n  raw cometbft: ${JSON.stringify(a.result).slice(0, 3000)}`);
    }
  }

  // Websocket: subscribe acks, and the Tx / NewBlock / NewBlockHeader events for the block holding alice's tx.
  const aliceHash = sha(txs[0]!).toString('hex').toUpperCase();
  const pick = (msgs: any[], h0: number) => ({
    acks: msgs.filter((m) => m.result && Object.keys(m.result).length === 0).map((m) => m.id).sort(),
    tx: msgs.find((m) => m.id === 'sub-0' && m.result?.events?.['tx.hash']?.[0] === aliceHash)?.result,
    txFiltered: msgs.filter((m) => m.id === 'sub-3' && m.result?.events).map((m) => m.result.events['tx.hash'][0]),
    block: msgs.find((m) => m.id === 'sub-1' && m.result?.data?.value?.block?.header?.height === String(h0))?.result,
    header: msgs.find((m) => m.id === 'sub-2' && m.result?.data?.value?.header?.height === String(h0))?.result,
  });
  const ec = pick(wsComet.msgs, h0Comet);
  const ed = pick(wsDev.msgs, h0Dev);
  t.deepEqual(ed.acks, ec.acks);
  t.deepEqual(ec.txFiltered, [aliceHash]);
  t.deepEqual(ed.txFiltered, [aliceHash]);
  for (const k of ['tx', 'block', 'header'] as const) {
    t.truthy(ec[k], `cometbft sent a ${k} event`);
    t.truthy(ed[k], `devnet sent a ${k} event`);
    if (!ec[k] || !ed[k]) continue;
    const cmp = (r: any) => ({ query: r.query, type: r.data.type, value: shape(r.data.value), eventKeys: Object.keys(r.events).sort() });
    if (JSON.stringify(cmp(ec[k])) !== JSON.stringify(cmp(ed[k]))) {
      mismatches.push(`ws ${k}\n  cometbft: ${JSON.stringify(cmp(ec[k]))}\n  devnet:   ${JSON.stringify(cmp(ed[k]))}\n  raw: ${JSON.stringify(ec[k]).slice(0, 2500)}`);
    }
  }
  t.deepEqual(mismatches, []);
});
