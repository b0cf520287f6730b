/**
 * `npm run bench -- store [--quick]` (or `node --import tsx bench/store.ts [--quick]`): the committed
 * state store (src/store/committed.ts) on a 100,000-key state with 4,000-write blocks (a 1,000-tx
 * block's worth: ~3,000 updates of existing keys, ~1,000 new keys).
 *
 * Baselines measured in the same process: createHash vs one-shot crypto.hash; root recomputed after
 * every write vs once per block (dirty marking); abstract-level's array batch vs the chained batch
 * used by commit. Medians over several blocks; CPU time (process.cpuUsage, all threads) is shown
 * next to wall time because the shared machine is often loaded.
 */
import { createHash, hash as oneShot } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { printTable, timeIt, type BenchRow } from './table.js';
import { CacheKV } from '../src/store/cache.js';
import { CommittedStore } from '../src/store/committed.js';
import { type Write, keyToBytes, u64Key } from '../src/store/kv.js';
import { verifyMembership, verifyNonMembership } from '../src/store/proof.js';

function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) | 0;
  };
}

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
};

function value(rnd: (n: number) => number): Uint8Array {
  const v = new Uint8Array(40 + rnd(40));
  for (let i = 0; i < v.length; i++) v[i] = rnd(256);
  return v;
}

const stateKey = (i: number) => 'acct/' + u64Key(BigInt(i));

function block(rnd: (n: number) => number, live: number, writes: number): { ws: Write[]; added: number } {
  const ws: Write[] = [];
  let added = 0;
  for (let j = 0; j < writes; j++) {
    if (j % 4 === 3) ws.push([stateKey(live + added++), value(rnd)]);
    else ws.push([stateKey(rnd(live)), value(rnd)]);
  }
  return { ws, added };
}

async function measure(fn: () => unknown | Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const N = quick ? 20_000 : 100_000;
  const W = 4_000;
  const BLOCKS = quick ? 5 : 15;
  const rnd = prng(42);
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
  try {
    // --- hashing primitive
    const buf = Buffer.alloc(65, 7);
    const hashRows: BenchRow[] = [
      { name: 'createHash sha256 (65 B)', value: (await timeIt(() => { for (let i = 0; i < 10_000; i++) createHash('sha256').update(buf).digest(); }, 300)) / 10, unit: 'us/hash' },
      { name: 'crypto.hash sha256 -> Buffer', value: (await timeIt(() => { for (let i = 0; i < 10_000; i++) oneShot('sha256', buf, 'buffer' as 'hex'); }, 300)) / 10, unit: 'us/hash', baseline: 'createHash sha256 (65 B)', lowerIsBetter: true },
      { name: 'crypto.hash sha256 -> binary string (used)', value: (await timeIt(() => { for (let i = 0; i < 10_000; i++) oneShot('sha256', buf, 'binary'); }, 300)) / 10, unit: 'us/hash', baseline: 'createHash sha256 (65 B)', lowerIsBetter: true },
    ];
    printTable('store: SHA-256 of a 65-byte inner node', hashRows);

    // --- build the state
    const store = await CommittedStore.open(join(dir, 'db'));
    const init: Write[] = [];
    for (let i = 0; i < N; i++) init.push([stateKey(i), value(rnd)]);
    const build = await measure(() => store.applyBlock(init));
    const firstCommit = await measure(() => store.commit(1n));
    let live = N;

    // --- blocks: applyBlock + commit
    const apply: { wall: number; cpu: number }[] = [];
    const commit: { wall: number; cpu: number }[] = [];
    for (let h = 2; h < 2 + BLOCKS; h++) {
      const { ws, added } = block(rnd, live, W);
      live += added;
      apply.push(await measure(() => store.applyBlock(ws)));
      commit.push(await measure(() => store.commit(BigInt(h))));
    }

    // baseline: the same kind of block, but the root recomputed after every single write
    const perWrite: number[] = [];
    for (let r = 0; r < (quick ? 1 : 3); r++) {
      const { ws, added } = block(rnd, live, W);
      live += added;
      perWrite.push((await measure(() => { for (const w of ws) store.applyBlock([w]); })).wall);
      await store.commit(BigInt(2 + BLOCKS + r));
    }

    // baseline: abstract-level array batch of the same shape as a commit
    const lvl = new Level<Buffer, Buffer>(join(dir, 'raw'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await lvl.open();
    const arrayBatch: number[] = [];
    for (let r = 0; r < 5; r++) {
      const { ws } = block(rnd, live, W);
      const ops = ws.map(([k, v]) => ({ type: 'put' as const, key: Buffer.from('s' + k, 'latin1'), value: Buffer.from(v!) }));
      arrayBatch.push((await measure(() => lvl.batch(ops, { sync: true }))).wall);
    }
    await lvl.close();

    // CacheKV in the shape of a 1,000-tx block: block cache, per tx an ante cache and a msg cache,
    // 4 reads + 4 writes per tx, then block.writes(). Baseline: the same reads straight from the store.
    const txKeys = Array.from({ length: 1000 }, () => [0, 1, 2, 3].map(() => stateKey(rnd(live))));
    const cachePattern = await timeIt(() => {
      const blockCache = new CacheKV(store);
      for (const keys of txKeys) {
        const ante = new CacheKV(blockCache);
        const msg = new CacheKV(ante);
        for (const k of keys) msg.set(k, msg.get(k)!);
        msg.writeTo(ante);
        ante.writeTo(blockCache);
      }
      return blockCache.writes().length;
    }, 500);
    const directReads = await timeIt(() => {
      let n = 0;
      for (const keys of txKeys) for (const k of keys) n += store.get(k)!.length;
      return n;
    }, 500);

    // proofs
    const root = store.root();
    const present = stateKey(123);
    const pv = store.get(present)!;
    const proveUs = (await timeIt(() => { for (let i = 0; i < 100; i++) store.prove(stateKey(i)); }, 300)) * 10;
    const pp = store.prove(present).proof;
    const verifyUs = (await timeIt(() => { for (let i = 0; i < 100; i++) verifyMembership(root, pp, keyToBytes(present), pv); }, 300)) * 10;
    const absent = 'missing/key';
    const np = store.prove(absent).proof;
    const verifyNonUs = (await timeIt(() => { for (let i = 0; i < 100; i++) verifyNonMembership(root, np, keyToBytes(absent)); }, 300)) * 10;

    const size = store.size;
    await store.close();
    const reopen = await measure(async () => (await CommittedStore.open(join(dir, 'db'))).close());

    const aw = median(apply.map((x) => x.wall));
    const min = (xs: number[]) => Math.min(...xs).toFixed(1);
    const load = (await import('node:os')).loadavg()[0].toFixed(1);
    const ac = median(apply.map((x) => x.cpu));
    const cw = median(commit.map((x) => x.wall));
    printTable(`store: ${W} writes/block on a ${N.toLocaleString('en-US')}-key state (median of ${BLOCKS} blocks)`, [
      { name: 'applyBlock: root after every write (baseline)', value: median(perWrite), unit: 'ms', note: `${W} roots` },
      { name: 'applyBlock: dirty marking, one rehash (wall)', value: aw, unit: 'ms', baseline: 'applyBlock: root after every write (baseline)', lowerIsBetter: true, target: '<= 40 ms', note: `min ${min(apply.map((x) => x.wall))} ms; load avg ${load}` },
      { name: 'applyBlock (CPU, all threads)', value: ac, unit: 'ms' },
      { name: 'array batch, sync (baseline)', value: median(arrayBatch), unit: 'ms' },
      { name: 'commit: chained batch, sync (wall)', value: cw, unit: 'ms', baseline: 'array batch, sync (baseline)', lowerIsBetter: true, target: '<= 20 ms', note: `min ${min(commit.map((x) => x.wall))} ms` },
      { name: 'commit (CPU, all threads)', value: median(commit.map((x) => x.cpu)), unit: 'ms' },
      { name: 'applyBlock + commit (wall)', value: aw + cw, unit: 'ms', target: '<= 60 ms' },
      { name: '4,000 direct reads from the store (baseline)', value: directReads, unit: 'ms' },
      { name: '1,000 txs through nested CacheKVs (4 get+set each) + writes()', value: cachePattern, unit: 'ms', baseline: '4,000 direct reads from the store (baseline)', lowerIsBetter: true },
      { name: `initial build: applyBlock of ${N} keys`, value: build.wall, unit: 'ms' },
      { name: `initial commit of ${N} keys`, value: firstCommit.wall, unit: 'ms' },
      { name: `open (metadata + root node check; no rebuild since format 2) (${size} keys)`, value: reopen.wall, unit: 'ms', target: 'seconds at most' },
      { name: 'prove (existence)', value: proveUs, unit: 'us' },
      { name: 'verifyMembership', value: verifyUs, unit: 'us' },
      { name: 'verifyNonMembership', value: verifyNonUs, unit: 'us' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run(process.argv.slice(2));
}
