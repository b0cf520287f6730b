/**
 * `npm run bench -- statesync [--accounts=N] [--interval=B] [--keep-recent=K] [--height=H] [--no-baseline] [--keep]`: issue 13's target "a new node serving
 * queries at the tip <= 60 s after start on the 4-validator localnet with 200,000 accounts of state", on real
 * CometBFT v0.38.
 *
 * What it runs: a 4-validator localnet (scripts/cometbft-net.ts, proofbook app, fast timeouts) whose genesis funds
 * N extra accounts (default 200,000; addresses are sha256-derived 20-byte strings, no keys needed: bank genesis only
 * checks the bech32 form and uniqueness; account i holds 1,000,000 + i uproof so a balance identifies its account).
 * The validators take a snapshot every B heights (default 20). Once validator 0 holds a snapshot, a fifth node joins
 * by state sync (scripts/statesync-node.ts: trust height/hash from validator 0's RPC, two RPC servers) and the bench
 * times, from just before that node is created:
 *   (a) the app log line "state snapshot restored; app hash verified";
 *   (b) the first answer of its RPC to `abci_query /cosmos.bank.v1beta1.Query/Balance` for the last account, at the
 *       node's latest height, with the right amount, while the node is no longer catching up and is within 1 block
 *       of validator 0.
 * Baseline in the same run (unless --no-baseline): the state-sync node is stopped and another fresh node joins with
 * state sync off, i.e. InitChain from the same genesis and block sync of every block from height 1 (the only way
 * to join without snapshots), timed to the same query condition (b).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { createNet, defaultAppState, type Net } from '../scripts/cometbft-net.js';
import { addStateSyncNode } from '../scripts/statesync-node.js';
import { addFullNode } from '../scripts/full-node.js';
import { addressFromBytes } from '../src/crypto/address.js';
import { printTable, type BenchRow } from './table.js';


function arg(flags: string[], name: string, dflt: number): number {
  const f = flags.find((a) => a.startsWith(`--${name}=`));
  return f ? Number(f.split('=')[1]) : dflt;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadavg = () => os.loadavg().map((x) => x.toFixed(1)).join(' / ');

/** Account i of the bench: a cheap, deterministic address (no key) and a balance that identifies it. */
export function benchAccount(i: number): { address: string; amount: bigint } {
  return { address: addressFromBytes(createHash('sha256').update(`statesync-bench-${i}`).digest().subarray(0, 20)), amount: 1_000_000n + BigInt(i) };
}

async function appState(accounts: number): Promise<unknown> {
  const g = await defaultAppState() as { bank: { balances: { address: string; coins: { denom: string; amount: string }[] }[]; supply?: unknown } };
  for (let i = 0; i < accounts; i++) {
    const a = benchAccount(i);
    g.bank.balances.push({ address: a.address, coins: [{ denom: 'uproof', amount: a.amount.toString() }] });
  }
  delete g.bank.supply; // derived from the balances
  return g;
}

/** The balance of `address` on the node at `rpcUrl` at height `h` (undefined while the node cannot answer). */
async function balanceAt(rpcUrl: string, address: string, h: number): Promise<bigint | undefined> {
  const data = Buffer.from(QueryBalanceRequest.encode({ address, denom: 'uproof' }).finish()).toString('hex');
  try {
    const res = await fetch(`${rpcUrl}/abci_query?path=%22/cosmos.bank.v1beta1.Query/Balance%22&height=${h}&data=0x${data}`, { signal: AbortSignal.timeout(5000) });
    const body = await res.json() as { result?: { response: { value?: string; code?: number; height?: string } } };
    const r = body.result?.response;
    if (!r || r.code || !r.value || Number(r.height) !== h) return undefined;
    return BigInt(QueryBalanceResponse.decode(Buffer.from(r.value, 'base64')).balance?.amount ?? '-1');
  } catch { return undefined; }
}

async function nodeStatus(rpcUrl: string): Promise<{ height: number; catchingUp: boolean } | undefined> {
  try {
    const res = await fetch(`${rpcUrl}/status`, { signal: AbortSignal.timeout(5000) });
    const s = (await res.json() as { result: { sync_info: { latest_block_height: string; catching_up: boolean } } }).result.sync_info;
    return { height: Number(s.latest_block_height), catchingUp: s.catching_up };
  } catch { return undefined; }
}

/**
 * Polls until the node at rpcUrl answers the last account's balance correctly at its latest height, is not catching up
 * and is within one block of validator 0. Returns the ms since t0 and the height answered at.
 */
async function waitServingAtTip(n: Net, rpcUrl: string, last: { address: string; amount: bigint }, t0: number, timeoutMs: number,
  onTick?: () => void, alive?: () => void): Promise<{ ms: number; height: number }> {
  const deadline = t0 + timeoutMs;
  for (;;) {
    alive?.();
    onTick?.();
    const s = await nodeStatus(rpcUrl);
    if (s && !s.catchingUp && s.height > 0) {
      const v = await balanceAt(rpcUrl, last.address, s.height);
      if (v !== undefined) {
        if (v !== last.amount) throw new Error(`wrong balance for the last account at ${s.height}: ${v} != ${last.amount}`);
        const tip = await n.height(0);
        if (s.height >= tip - 1) return { ms: performance.now() - t0, height: s.height };
      }
    }
    if (performance.now() > deadline) throw new Error(`node at ${rpcUrl} not serving at the tip after ${timeoutMs} ms`);
    await sleep(100);
  }
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

export async function run(flags: string[]): Promise<void> {
  const accounts = arg(flags, 'accounts', 200_000);
  const interval = arg(flags, 'interval', 20);
  const keepRecent = arg(flags, 'keep-recent', 5);
  const minHeight = arg(flags, 'height', 0); // let the chain grow to this height before the new node starts
  const baseline = !flags.includes('--no-baseline');
  const keep = flags.includes('--keep');
  const last = benchAccount(accounts - 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proofbook-statesync-bench-'));
  console.log(`statesync bench: ${accounts.toLocaleString('en-US')} accounts, snapshot every ${interval} heights, under ${dir}; load average ${loadavg()}`);
  const tGen = performance.now();
  const state = await appState(accounts);
  const net = await createNet(dir, {
    validators: 4, app: 'proofbook', appState: state,
    // 1 s blocks (a live chain's pace, not the test-speed 30 ms ones): with test-speed blocks, interval 10 and
    // keep-recent 2, a snapshot was pruned on the validators ~7 s after it was taken, before the joining node had
    // fetched its chunk (the first trial run: "cannot add nil chunk", then a 2-minute wait for the next snapshot).
    timeouts: { timeout_commit: '1s', skip_timeout_commit: false },
    appEnv: { PROOFBOOK_SNAPSHOT_INTERVAL: String(interval), PROOFBOOK_SNAPSHOT_KEEP_RECENT: String(keepRecent) },
  });
  const genesisBytes = fs.statSync(path.join(net.nodeHome(0), 'config', 'genesis.json')).size;
  console.log(`genesis written (${(genesisBytes / 1e6).toFixed(1)} MB) in ${Math.round(performance.now() - tGen)} ms`);
  const stops: (() => Promise<void>)[] = [];
  try {
    const tStart = performance.now();
    await net.start();
    await net.waitForHeight(0, 2, 600_000);
    const firstBlocks = performance.now() - tStart;
    console.log(`localnet at height 2 after ${Math.round(firstBlocks)} ms; load average ${loadavg()}`);
    const snapDir = path.join(net.appHome(0), 'data', 'snapshots');
    const snapshots = () => (fs.existsSync(snapDir) ? fs.readdirSync(snapDir).filter((d) => /^[0-9]+$/.test(d) && fs.existsSync(path.join(snapDir, d, 'meta.json'))).map(Number).sort((a, b) => a - b) : []);
    await net.waitFor(async () => snapshots().length > 0, 600_000, 'a snapshot on validator 0', 250);
    if (minHeight > 0) await net.waitForHeight(0, minHeight, 3_600_000);
    const snapH = snapshots().at(-1)!;
    const meta = JSON.parse(fs.readFileSync(path.join(snapDir, String(snapH), 'meta.json'), 'utf8')) as { chunks: number };
    const snapBytes = dirBytes(path.join(snapDir, String(snapH)));
    console.log(`snapshot ${snapH} on validator 0: ${meta.chunks} chunk(s), ${(snapBytes / 1e6).toFixed(1)} MB; chain height ${await net.height(0)}; load average ${loadavg()}`);

    // (a) + (b): a fifth node by state sync
    const loadBefore = loadavg();
    const t0 = performance.now();
    const node = await addStateSyncNode(net);
    stops.push(() => node.stop());
    let restoredMs: number | undefined;
    let restoredAt: number | undefined;
    let appRestoreMs: number | undefined;
    let offers = 0;
    const checkRestored = () => {
      if (restoredMs !== undefined) return;
      const log = fs.readFileSync(node.appLog, 'utf8');
      const m = /"time":(\d+).*"height":"(\d+)".*state snapshot restored; app hash verified/.exec(log);
      if (m) {
        restoredMs = performance.now() - t0;
        restoredAt = Number(m[2]);
        const starts = [...log.matchAll(/"time":(\d+).*"height":"(\d+)".*"restoring state snapshot"/g)];
        offers = starts.length;
        const begun = starts.filter((x) => Number(x[2]) === restoredAt).at(-1);
        if (begun) appRestoreMs = Number(m[1]) - Number(begun[1]);
      }
    };
    const ss = await waitServingAtTip(net, node.rpcUrl, last, t0, 300_000, checkRestored);
    checkRestored();
    const loadAfter = loadavg();
    const st = await node.status();
    console.log(`state-sync node: restored snapshot ${restoredAt} at ${Math.round(restoredMs ?? -1)} ms, serving at the tip (height ${ss.height}) at ${Math.round(ss.ms)} ms; earliest block ${st.earliestHeight}`);
    await node.stop();
    stops.pop();

    // baseline: the same kind of fresh node, by block sync from genesis
    let bs: { ms: number; height: number } | undefined;
    let bsLoad = '';
    if (baseline) {
      const t1 = performance.now();
      // A fresh non-validator node with state sync off: InitChain from genesis, then block sync (the baseline).
      const b = await addFullNode(net, { index: net.validators + 1 });
      stops.push(() => b.stop());
      bs = await waitServingAtTip(net, b.rpcUrl, last, t1, 600_000, undefined, b.alive);
      bsLoad = loadavg();
      console.log(`block-sync node: serving at the tip (height ${bs.height}) at ${Math.round(bs.ms)} ms`);
      await b.stop();
      stops.pop();
    }

    const rows: BenchRow[] = [
      { name: 'state sync: start -> snapshot restored (app hash verified)', value: Math.round(restoredMs ?? NaN), unit: 'ms', note: `snapshot height ${restoredAt}; includes cometbft init, app start, 5 s snapshot discovery, light-client checks, chunk transfer; snapshots offered ${offers}` },
      { name: 'state sync: app-side restore (offer -> root verified + committed)', value: Math.round(appRestoreMs ?? NaN), unit: 'ms', note: 'from the app log timestamps' },
      { name: 'state sync: start -> serving a balance query at the tip', value: Math.round(ss.ms), unit: 'ms', lowerIsBetter: true,
        ...(bs ? { baseline: 'baseline: block sync from genesis -> serving at the tip' } : {}), target: '<= 60 s at 200,000 accounts', note: `balance of account #${(accounts - 1).toLocaleString('en-US')} at height ${ss.height}, right value; load avg before ${loadBefore}, after ${loadAfter}` },
      ...(bs ? [{ name: 'baseline: block sync from genesis -> serving at the tip', value: Math.round(bs.ms), unit: 'ms', note: `InitChain + replay of ${bs.height} blocks (mostly empty); load avg after ${bsLoad}` }] : []),
      { name: 'snapshot size', value: Math.round(snapBytes / 1e5) / 10, unit: 'MB', note: `${meta.chunks} chunk(s), snapshot height ${snapH}, ${accounts.toLocaleString('en-US')} accounts + devnet genesis` },
      { name: 'genesis.json size', value: Math.round(genesisBytes / 1e5) / 10, unit: 'MB' },
      { name: 'localnet start -> height 2 (4 validators, InitChain of this genesis)', value: Math.round(firstBlocks), unit: 'ms' },
    ];
    printTable(`State sync on a 4-validator CometBFT localnet, ${accounts.toLocaleString('en-US')} accounts (real CometBFT v0.38, proofbook app)`, rows);
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await net.stop();
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}
