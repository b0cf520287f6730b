/**
 * block_search parity with real CometBFT v0.38 (its kv block indexer): the explorer's slash history asks
 * `block_search` for the end-of-block `proofbook.market.deadline_missed` events of a prover, then `block_results` of
 * each height. The same app (test/fixtures/devnet-kv-app.ts: a `slash-<id>=<prover>` tx makes such an event in
 * FinalizeBlock's own events) runs behind the CometBFT binary and inside the devnet; the same slashes land one per
 * block on each, and every query must give the same answer on both: which slashes (by request id, in order),
 * total_count, pages, order_by (CometBFT's default is newest first), the result's JSON shape, the event encoding in
 * block_results, and the same errors. Needs the cometbft binary: fails, never skips.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
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

async function call(url: string, method: string, params: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), signal: AbortSignal.timeout(30_000) });
  return res.json();
}

/** Request ids of the slash txs in a block_search answer's blocks, in the answer's order (`-` for a block without one). */
function slashIds(result: any): string[] {
  return (result.blocks as any[]).map((b) => {
    const keys = (b.block.data.txs as string[]).map((t) => Buffer.from(t, 'base64').toString('utf8').split('=')[0]!);
    return keys.find((k) => k.startsWith('slash-'))?.slice('slash-'.length) ?? '-';
  });
}

// request id → prover: A misses 1, 3, 4, 6; B misses 2, 5. Slash 7 (A) comes with a reserved `block.height` event in
// the same block: CometBFT then indexes nothing of that block, so no query finds it.
const SLASHES: [string, string][] = [['1', 'proverA'], ['2', 'proverB'], ['3', 'proverA'], ['4', 'proverA'], ['5', 'proverB'], ['6', 'proverA'], ['7', 'proverA']];
const txOf = (id: string, prover: string) => `${id === '7' ? 'slashr' : 'slash'}-${id}=${prover}`;

test('block_search on the devnet answers as real CometBFT 0.38 for end-of-block slash events', async (t) => {
  t.timeout(240_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-block-search-'));
  const net = await createNet(dir, { validators: 1, app: 'external', appState: { greeting: 'hello' }, chainId: 'bsearch' });
  const cometApp = await DevnetKvApp.open(path.join(dir, 'comet-app'));
  const server = await startAbciServer(cometApp, { address: net.abciAddress(0), logger: pino({ level: 'silent' }) });
  const devApp = await DevnetKvApp.open(path.join(dir, 'dev-app'));
  const devnet = await startDevnet({ home: path.join(dir, 'devnet'), app: devApp, chainId: 'bsearch', blockTimeMs: 0, rpcAddress: '127.0.0.1:0', appState: { greeting: 'hello' } });
  t.teardown(async () => {
    await devnet.close();
    await net.stop();
    await server.close();
    await cometApp.close();
    await devApp.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await net.start();
  await net.waitForHeight(0, 2, 90_000);
  await devnet.produceBlock();
  const comet = net.rpcUrl(0);
  const dev = devnet.rpcUrl;

  // One slash per block on both: broadcast_tx_commit returns once the tx is in a committed block; the devnet makes
  // a block (and an empty one between, like CometBFT's empty blocks) for each.
  const heights: Record<'comet' | 'dev', Map<string, number>> = { comet: new Map(), dev: new Map() };
  for (const [id, prover] of SLASHES) {
    const tx = Buffer.from(txOf(id, prover)).toString('base64');
    const rc = await call(comet, 'broadcast_tx_commit', { tx });
    t.is(rc.result?.tx_result?.code, 0, JSON.stringify(rc));
    heights.comet.set(id, Number(rc.result.height));
    const rd = await call(dev, 'broadcast_tx_sync', { tx });
    t.is(rd.result?.code, 0, JSON.stringify(rd));
    await devnet.produceBlock();
    await devnet.produceBlock();
    const loc = await call(dev, 'tx_search', { query: `app.key='${txOf(id, prover).split('=')[0]}'` });
    heights.dev.set(id, Number(loc.result.txs[0].height));
  }
  // CometBFT indexes a block after it commits: wait until it has indexed one past the last slash.
  const after = heights.comet.get('7')! + 1;
  await net.waitForHeight(0, after + 1, 60_000);
  for (let i = 0; i < 300; i++) {
    const r = await call(comet, 'block_search', { query: `block.height = ${after}` });
    if (r.result && r.result.total_count === '1') break;
    await new Promise((res) => setTimeout(res, 100));
  }

  const A = "proofbook.market.deadline_missed.prover='proverA'";
  const cases: [string, (node: 'comet' | 'dev') => Record<string, unknown>][] = [
    // the explorer's query, as it sends it, and the defaults (order_by empty: CometBFT sorts newest first)
    ['explorer query', () => ({ query: A, per_page: '20', order_by: 'desc' })],
    ['default order', () => ({ query: A })],
    ['asc', () => ({ query: A, order_by: 'asc' })],
    ['page 2 of 2 per page', () => ({ query: A, page: '2', per_page: '2' })],
    ['page 3, 1 per page, asc', () => ({ query: A, page: '3', per_page: '1', order_by: 'asc' })],
    ['other prover', () => ({ query: "proofbook.market.deadline_missed.prover='proverB'" })],
    ['nobody', () => ({ query: "proofbook.market.deadline_missed.prover='proverC'" })],
    ['EXISTS', () => ({ query: 'proofbook.market.deadline_missed.prover EXISTS', order_by: 'asc' })],
    ['CONTAINS', () => ({ query: "proofbook.market.deadline_missed.prover CONTAINS 'erB'" })],
    ['two attributes', () => ({ query: `${A} AND proofbook.market.deadline_missed.request_id='4'` })],
    ['numeric range on an attribute', () => ({ query: `${A} AND proofbook.market.deadline_missed.slashed > 2000 AND proofbook.market.deadline_missed.slashed <= 5000`, order_by: 'asc' })],
    ['not-indexed attribute', () => ({ query: "proofbook.market.deadline_missed.note='not indexed'" })],
    ['with block.height', (n) => ({ query: `${A} AND block.height >= ${heights[n].get('3')}`, order_by: 'asc' })],
    ['block.height only', (n) => ({ query: `block.height = ${heights[n].get('2')}` })],
    ['block.height range only', (n) => ({ query: `block.height >= ${heights[n].get('5')} AND block.height <= ${heights[n].get('6')}`, order_by: 'asc' })],
    ['reserved-key block by height', (n) => ({ query: `block.height = ${heights[n].get('7')}` })],
    ['reserved-key block by its slash', () => ({ query: "proofbook.market.deadline_missed.request_id='7'" })],
    // errors
    ['page out of range', () => ({ query: A, page: '9', per_page: '5' })],
    ['bad order_by', () => ({ query: A, order_by: 'sideways' })],
    ['bad query', () => ({ query: "proofbook.market.deadline_missed.prover='x" })],
  ];
  const mismatches: string[] = [];
  const seen: Record<string, { comet: string[]; dev: string[] }> = {};
  for (const [label, params] of cases) {
    const [a, b] = await Promise.all([call(comet, 'block_search', params('comet')), call(dev, 'block_search', params('dev'))]);
    if (a.error || b.error) {
      // (a query's parse error is compared by code and message: the parsers word their details differently)
      const norm = (e: any) => e && { code: e.code, message: e.message, data: label === 'bad query' ? '' : String(e.data ?? '').replace(/\d+/g, 'N') };
      if (JSON.stringify(norm(a.error)) !== JSON.stringify(norm(b.error))) {
        mismatches.push(`${label}\n  cometbft: ${JSON.stringify(a.error ?? a.result)}\n  devnet:   ${JSON.stringify(b.error ?? b.result)}`);
      }
      continue;
    }
    // A height range spans empty blocks, as many as each chain made: compare the slash blocks in it, and that the
    // total counts every block of the range.
    const ranged = label === 'block.height range only';
    const cmp = (r: any, n: 'comet' | 'dev') => ranged
      ? { total_count: r.total_count === String(heights[n].get('6')! - heights[n].get('5')! + 1), slashes: slashIds(r).filter((x) => x !== '-') }
      : { total_count: r.total_count, slashes: slashIds(r) };
    const ca = cmp(a.result, 'comet');
    const cb = cmp(b.result, 'dev');
    seen[label] = { comet: ca.slashes, dev: cb.slashes };
    if (ranged) t.true(ca.total_count === true && cb.total_count === true, `${label}: ${a.result.total_count} / ${b.result.total_count}`);
    if (JSON.stringify(ca) !== JSON.stringify(cb)) mismatches.push(`${label}\n  cometbft: ${JSON.stringify(ca)}\n  devnet:   ${JSON.stringify(cb)}`);
    if (a.result.blocks.length > 0 && JSON.stringify(shape(a.result)) !== JSON.stringify(shape(b.result))) {
      mismatches.push(`${label} (shape)\n  cometbft: ${JSON.stringify(shape(a.result))}\n  devnet:   ${JSON.stringify(shape(b.result))}`);
    }
  }
  t.log(JSON.stringify(seen), mismatches.join('\n'));
  // The answers are what the slashes say (so a parity of two wrong answers fails too).
  t.deepEqual(seen['explorer query']?.comet, ['6', '4', '3', '1']);
  t.deepEqual(seen['asc']?.comet, ['1', '3', '4', '6']);
  t.deepEqual(seen['page 2 of 2 per page']?.comet, ['3', '1']);
  t.deepEqual(seen['nobody']?.comet, []);
  t.deepEqual(seen['reserved-key block by its slash']?.comet, []);
  t.deepEqual(seen['block.height range only']?.comet, ['5', '6']);

  // block_results of a slash block: the end-of-block events, encoded the same way (attribute strings, index flags).
  const [ra, rb] = await Promise.all([
    call(comet, 'block_results', { height: String(heights.comet.get('4')) }),
    call(dev, 'block_results', { height: String(heights.dev.get('4')) }),
  ]);
  const slashEvents = (r: any) => (r.result.finalize_block_events as any[]).filter((e) => e.type === 'proofbook.market.deadline_missed');
  t.deepEqual(slashEvents(rb), slashEvents(ra));
  t.deepEqual(slashEvents(ra).map((e: any) => e.attributes.map((x: any) => [x.key, x.value, x.index])), [[
    ['request_id', '4', true], ['prover', 'proverA', true], ['slashed', '4000', true], ['note', 'not indexed', false],
  ]]);
  if (JSON.stringify(shape(ra.result)) !== JSON.stringify(shape(rb.result))) {
    mismatches.push(`block_results (shape)\n  cometbft: ${JSON.stringify(shape(ra.result))}\n  devnet:   ${JSON.stringify(shape(rb.result))}`);
  }
  t.deepEqual(mismatches, []);
});
