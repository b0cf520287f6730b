/**
 * `npm run bench -- state --direct [--requests=N] [--accounts=A] [--live=L] [--cache-mb=M] [--checkpoints=a,b,...]
 * [--child-blocks=K] [--node-flags=...] [--progress=P] [--runtime-defaults] [--disk-log=FILE] [--compact-every=N] [--reopen-every=N]
 * [--tsx] [--store-only] [--heap-growth-percent=N]`: the issue 13 scale targets at the store level, written
 * **directly through CommittedStore** (no txs, no signatures, no ABCI): signing and executing 1,000,000 real requests
 * takes hours on the shared 2-core machine, so this bench drives the store with the write pattern those requests
 * leave instead, and says so in its table.
 *
 * The pattern, per 1,000-request block: A funded accounts exist (2 entries each: account ~100 B, balance ~40 B);
 * each block creates 1,000 requests (record ~600 B, by-requester and by-status index entries), updates 1,000
 * balances, and deletes the 3 entries of every request older than the newest L (what settled-request retention does),
 * so the state holds A accounts + L live requests however many requests were processed. Fill blocks are committed
 * without fsync (to save time); the measured blocks use fsync, like a node.
 *
 * Measured: applyBlock+Commit of one such block after 10,000 requests and at each checkpoint (median of 5, the
 * +-15 % target, wall and CPU); disk use of the store over the last half of the blocks (flat +-10 %); then, at each
 * checkpoint, in a **fresh child process** (so the figure is a node's, not this bench's): open the store, first read
 * and proof (restart to serving), K+5 more blocks (so the caches reach their steady state), 1,000 random reads and a
 * 1,000-key prefix scan, and the child's peak RSS (the <= 500 MB target). The child's blocks are part of the chain;
 * the run goes on after them. Progress lines every P requests give the trend (block time, node reads, RSS, disk).
 *
 * Both processes stand in for a node's memory, so by default they run as `proofbook start` does: compiled (this file
 * is bundled into dist/bench/ by scripts/build-node.mjs and the run goes on there, like bin/proofbook.mjs runs the
 * node from dist/node/), and with what a running node holds besides its state loaded (`loadNodeCode`: its code, the
 * pairing library, the signature workers), so the figure is the store's load on top of a node's base, not on a bare
 * process's. `--tsx` runs under tsx as before (its loader thread included), `--store-only` leaves the node's part out.
 */
import { spawnSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommittedStore, DEFAULT_REOPEN_BLOCKS } from '../src/store/committed.js';
import { type Write, iteratePrefix, u64Key } from '../src/store/kv.js';
import { verifyMembership } from '../src/store/proof.js';
import { printTable, type BenchRow } from './table.js';
import { ALLOCATOR_ENV, DEFAULT_HEAP_GROWTH_PERCENT, applyHeapGrowth } from '../app/node-memory.js';
import { nodeMemoryForBench } from './node-memory.js';
import { REPO_ROOT, buildBundle } from '../scripts/build-node.mjs';

const PER_BLOCK = 1000;

/** A full GC, then the heap and RSS: this process runs for the whole fill, like a long-running node. */
const fullGc = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();
function liveMemory(): string {
  const before = process.memoryUsage();
  fullGc();
  const m = process.memoryUsage();
  const MB = (b: number) => (b / 1e6).toFixed(0);
  return `V8 heap used ${MB(before.heapUsed)} MB, after a full GC ${MB(m.heapUsed)} MB of ${MB(m.heapTotal)} MB, external ${MB(m.external)} MB, RSS after GC ${MB(m.rss)} MB`;
}
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

function arg(flags: string[], name: string, def: number): number {
  const f = flags.find((x) => x.startsWith(`--${name}=`));
  return f === undefined ? def : Number(f.split('=')[1]);
}

/** Bytes of LevelDB's info log (LOG + LOG.old) and of its MANIFEST in `dir`: its bookkeeping, not state. */
function levelFiles(dir: string): { log: number; manifest: number } {
  let log = 0;
  let manifest = 0;
  for (const f of readdirSync(dir)) {
    const size = (): number => {
      try {
        return statSync(join(dir, f)).size;
      } catch {
        return 0; // removed between the listing and the stat
      }
    };
    if (f === 'LOG' || f === 'LOG.old') log += size();
    else if (f.startsWith('MANIFEST-')) manifest += size();
  }
  return { log, manifest };
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    try {
      n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return n;
}

const addr = (i: number) => createHash('sha256').update(`acct-${i}`).digest().subarray(0, 20).toString('latin1');
const accountKey = (a: string) => `auth/a${a}`;
const balanceKey = (a: string) => `bank/b${a}uproof`;
const reqKey = (id: number) => `market/r${u64Key(BigInt(id))}`;
const byReqKey = (a: string, id: number) => `market/q${a}${u64Key(BigInt(id))}`;
const byStatusKey = (id: number) => `market/s\x01${u64Key(BigInt(id))}`;
const bytes = (n: number, seed: number) => {
  const b = Buffer.alloc(n);
  b.writeUInt32BE(seed >>> 0, 0);
  b.writeUInt32BE((seed * 2654435761) >>> 0, n - 4);
  return b;
};

/** The writes of the block that creates requests [first, first+1000) and prunes those older than `live`. */
function blockWrites(first: number, accounts: number, live: number): Write[] {
  const ws: Write[] = [];
  for (let i = 0; i < PER_BLOCK; i++) {
    const id = first + i;
    const a = addr(id % accounts);
    ws.push([reqKey(id), bytes(600, id)], [byReqKey(a, id), bytes(8, id)], [byStatusKey(id), bytes(8, id)]);
    ws.push([balanceKey(a), bytes(40, id)]);
    const old = id - live;
    if (old >= 1) ws.push([reqKey(old), null], [byReqKey(addr(old % accounts), old), null], [byStatusKey(old), null]);
  }
  return ws;
}

interface ChildResult {
  openMs: number; firstReadMs: number; rss: number; liveHeap: number; external: number; rssAfterGc: number; peakRss: number; heap: number; blockMs: number; steadyMs: number; steadyCpu: number;
  readsMs: number; scanMs: number; entries: number; nodesRead: number; nodeBytes: number; valueBytes: number; blocks: number;
}

/**
 * What a running node holds besides its state, loaded into a process that stands in for one (it is part of a node's
 * RSS): the node's code (app/node.ts: the app, its modules, the ABCI, gRPC and REST servers), the pairing library
 * every validator initialises to verify proofs, and the signature-verify worker threads CheckTx uses, each having
 * verified a signature (so each has loaded libsecp256k1).
 */
async function loadNodeCode(): Promise<void> {
  await import('../app/node.js');
  const { initZk } = await import('../src/zk/verifier.js');
  await initZk();
  const { sharedVerifyPool } = await import('../src/crypto/verify-pool.js');
  const pool = sharedVerifyPool();
  if (pool !== undefined) {
    const job = { digest: new Uint8Array(32), sig: new Uint8Array(64), pubkey: new Uint8Array(33) };
    await Promise.all(Array.from({ length: pool.size * 64 }, () => pool.verify(job, true)));
  }
}

/** Where the compiled bench runs; its fill process is started with `--run` (the restarted child with `--child`). */
const BENCH_DIST = join(REPO_ROOT, 'dist', 'bench');
/** This is the compiled fill process (runDirect reads it; the child never does). */
const compiled = process.argv[2] === '--run';

/** Child process: a node restarting on the store. */
async function child(dir: string, accounts: number, live: number, next: number, cacheMb: number, more: number, heapGrowth: number, withNode: boolean): Promise<void> {
  applyHeapGrowth(heapGrowth); // what `proofbook start` does at its start (app/node-memory.ts)
  if (withNode) await loadNodeCode();
  const t0 = process.hrtime.bigint();
  const s = await CommittedStore.open(dir, { sync: true, cacheBytes: cacheMb << 20 });
  const openMs = ms(t0);
  const a = addr(7);
  const p = s.prove(balanceKey(a));
  if (!p.exists || !verifyMembership(s.appHash, p.proof, Buffer.from(balanceKey(a), 'latin1'), p.value!)) throw new Error('proof after restart failed');
  const firstReadMs = ms(t0);
  const times: number[] = [];
  for (let b = 0; b < 5; b++) {
    const t1 = process.hrtime.bigint();
    s.applyBlock(blockWrites(next + b * PER_BLOCK, accounts, live));
    await s.commit(s.height + 1n);
    times.push(ms(t1));
  }
  const t2 = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) if (s.get(accountKey(addr((i * 7919) % accounts))) === undefined) throw new Error('missing account');
  const readsMs = ms(t2);
  const t3 = process.hrtime.bigint();
  let n = 0;
  for (const _ of iteratePrefix(s, 'market/r')) if (++n >= 1000) break;
  const scanMs = ms(t3);
  // Then `more` blocks, so the caches reach their steady state (full, evicting) before memory is read.
  const steady: number[] = [];
  const steadyCpu: number[] = [];
  for (let b = 5; b < 5 + more; b++) {
    const c0 = process.cpuUsage();
    const t1 = process.hrtime.bigint();
    s.applyBlock(blockWrites(next + b * PER_BLOCK, accounts, live));
    await s.commit(s.height + 1n);
    steady.push(ms(t1));
    const c = process.cpuUsage(c0);
    steadyCpu.push((c.user + c.system) / 1000);
  }
  const mem = process.memoryUsage();
  // Live heap: after a full GC (the child runs with --expose-gc), so garbage V8 has not collected yet is not counted.
  (globalThis as { gc?: () => void }).gc?.();
  const afterGc = process.memoryUsage();
  const out: ChildResult = {
    liveHeap: afterGc.heapUsed, external: afterGc.external, rssAfterGc: afterGc.rss,
    openMs, firstReadMs, rss: mem.rss, peakRss: process.resourceUsage().maxRSS * 1024, heap: mem.heapUsed, blockMs: median(times),
    steadyMs: more > 0 ? median(steady) : 0, steadyCpu: more > 0 ? median(steadyCpu) : 0, readsMs, scanMs, entries: s.size,
    nodesRead: s.diskReads.nodes, nodeBytes: s.diskReads.nodeBytes, valueBytes: s.cache.bytes, blocks: 5 + more,
  };
  await s.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}

export async function runDirect(flags: string[]): Promise<void> {
  const runtimeDefaults = flags.includes('--runtime-defaults');
  if (!compiled && !flags.includes('--tsx')) {
    // Run compiled, as the node runs (see the header); the allocator environment too (glibc reads it at start).
    await buildBundle({ outDir: BENCH_DIST, entries: { 'state-direct': 'bench/state-direct.ts' }, quiet: true });
    const r = spawnSync(process.execPath, [join(BENCH_DIST, 'state-direct.mjs'), '--run', ...flags], { stdio: 'inherit', env: runtimeDefaults ? process.env : { ...ALLOCATOR_ENV, ...process.env } });
    if (r.status !== 0) throw new Error(`state --direct (compiled, dist/bench) failed: ${r.status ?? r.signal}`);
    return;
  }
  const withNode = !flags.includes('--store-only');
  if (withNode) await loadNodeCode();
  const runs = `${compiled ? 'compiled (dist/bench)' : 'under tsx'}, ${withNode ? "with the node's code, pairing library and signature workers loaded" : 'store only'}`;
  // The node's memory settings (app/node-memory.ts), in this process (it runs every block: the long-running node) and
  // in the restarted child, unless --runtime-defaults asks for V8's and glibc's own. glibc reads its settings when a
  // process starts, so without them in the environment the bench runs itself again in a process that has them.
  // --heap-growth-percent=N: the node's `--heap-growth-percent` (default 30), in both processes.
  const memory = nodeMemoryForBench(runtimeDefaults, 'state --direct', arg(flags, 'heap-growth-percent', DEFAULT_HEAP_GROWTH_PERCENT));
  if (memory.rerun) return;
  const { heapGrowth, setting: memorySetting } = memory;
  // --disk-log=FILE: one line per block (height, requests so far, store bytes, LevelDB LOG + LOG.old bytes, MANIFEST
  // bytes), written as the run goes, so a long run's disk trace survives even if the run is stopped before its table.
  const diskLog = flags.find((f) => f.startsWith('--disk-log='))?.slice('--disk-log='.length);
  // --compact-every=N: a full LevelDB compaction (CommittedStore.compact) after every N-th block (0: never, a node's
  // behaviour today); the experiment behind docs/state.md's disk section.
  const compactEvery = arg(flags, 'compact-every', 0);
  // --reopen-every=N: the store's periodic reopen of its LevelDB handle (OpenOptions.reopenEveryBlocks; default a
  // node's, 0: never), which starts LevelDB's LOG and MANIFEST afresh.
  const reopenEvery = arg(flags, 'reopen-every', DEFAULT_REOPEN_BLOCKS);
  let fillPeakRss = 0; // the long-running process's RSS, sampled after every block from 10,000 requests on
  const requests = arg(flags, 'requests', 1_000_000);
  const accounts = arg(flags, 'accounts', 100_000);
  // Requests kept in state (the newest); 5,000 = a 5-block retention at 1,000 requests per block, so the block
  // measured at 10,000 requests already prunes 1,000 requests, like every later block (the same work at each point).
  const live = arg(flags, 'live', 5_000);
  const cacheMb = arg(flags, 'cache-mb', 64);
  const progress = arg(flags, 'progress', 50_000);
  const childBlocks = arg(flags, 'child-blocks', 40);
  // Points (in requests) where the run stops for a checkpoint: 5 measured blocks, then the store is closed and a fresh
  // process restarts on it (restart time, RSS), then the run goes on. The last is always `requests`. A run stopped
  // early has printed a table for every checkpoint it passed.
  const checkpoints = [...new Set([...(flags.find((f) => f.startsWith('--checkpoints='))?.slice(14).split(',').map(Number) ?? []), requests])]
    .filter((c) => c > 10_000 && c <= requests && c % PER_BLOCK === 0)
    .sort((a, b) => a - b);
  // Node flags for the restarted "node" process, e.g. --node-flags=--max-old-space-size=256 (comma-separated).
  const nodeFlags = (flags.find((f) => f.startsWith('--node-flags='))?.slice('--node-flags='.length) ?? '').split(',').filter((f) => f !== '');
  const dir = mkdtempSync(join(tmpdir(), 'proofbook-state-direct-'));
  const MB = (b: number) => Math.round(b / 1e5) / 10;
  const open = () => CommittedStore.open(dir, { sync: false, cacheBytes: cacheMb << 20, reopenEveryBlocks: reopenEvery });
  let reopens = 0; // over the whole run (each open counts from 0)
  let reopenMaxMs = 0;
  try {
    let s = await open();
    // accounts, 10,000 per block
    let h = 0n;
    for (let i = 0; i < accounts; i += 10_000) {
      const ws: Write[] = [];
      for (let j = i; j < Math.min(accounts, i + 10_000); j++) {
        const a = addr(j);
        ws.push([accountKey(a), bytes(100, j)], [balanceKey(a), bytes(40, j)]);
      }
      s.applyBlock(ws);
      await s.commit(++h);
    }
    /** Median wall and CPU (all threads) time of 5 fsync'd blocks. */
    const measureBlocks = async (first: number): Promise<{ wall: number; cpu: number }> => {
      const times: number[] = [];
      const cpus: number[] = [];
      (s as unknown as { sync: boolean }).sync = true; // measured blocks are fsync'd, like a node's
      for (let b = 0; b < 5; b++) {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        s.applyBlock(blockWrites(first + b * PER_BLOCK, accounts, live));
        await s.commit(++h);
        times.push(ms(t0));
        const c = process.cpuUsage(c0);
        cpus.push((c.user + c.system) / 1000);
        fillPeakRss = Math.max(fillPeakRss, process.memoryUsage.rss());
      }
      (s as unknown as { sync: boolean }).sync = false;
      return { wall: median(times), cpu: median(cpus) };
    };
    const disk: number[] = [];
    let at10k = { wall: 0, cpu: 0 };
    let next = 1;
    const t0 = process.hrtime.bigint();
    let lap = process.hrtime.bigint();
    let lapCpu = process.cpuUsage();
    let lapReads = 0;
    let lapBlocks = 0;
    const report = () => {
      const c = process.cpuUsage(lapCpu);
      const d = s.diskReads;
      const blocks = Math.max(1, lapBlocks);
      process.stderr.write(
        `  [state --direct] ${next - 1} requests, ${s.size} entries, ${Math.round(ms(t0) / 1000)} s; last ${blocks} blocks: ` +
          `${Math.round(ms(lap) / blocks)} ms wall, ${Math.round((c.user + c.system) / 1000 / blocks)} ms CPU, ` +
          `${Math.round((d.nodes - lapReads) / blocks)} node reads per block; tree nodes held ${MB(d.nodeBytes)} MB, ` +
          `RSS ${MB(process.memoryUsage().rss)} MB (${liveMemory()}), disk ${MB(disk.at(-1)!)} MB\n`,
      );
      lap = process.hrtime.bigint();
      lapCpu = process.cpuUsage();
      lapReads = d.nodes;
      lapBlocks = 0;
    };
    for (const checkpoint of checkpoints) {
      while (next <= checkpoint - 5 * PER_BLOCK) {
        if (next === 10_001 - 5 * PER_BLOCK) {
          at10k = await measureBlocks(next);
          next += 5 * PER_BLOCK;
          lapBlocks += 5;
        } else {
          s.applyBlock(blockWrites(next, accounts, live));
          await s.commit(++h);
          next += PER_BLOCK;
          lapBlocks++;
        }
        disk.push(dirBytes(dir));
        if (diskLog !== undefined) {
          const f = levelFiles(dir);
          appendFileSync(diskLog, `${h},${next - 1},${disk.at(-1)},${f.log},${f.manifest}\n`);
        }
        if (compactEvery > 0 && h % BigInt(compactEvery) === 0n) await s.compact();
        if (next > 10_000) fillPeakRss = Math.max(fillPeakRss, process.memoryUsage.rss());
        if ((next - 1) % progress === 0) report();
      }
      const atEnd = await measureBlocks(next);
      next += 5 * PER_BLOCK;
      lapBlocks += 5;
      disk.push(dirBytes(dir));
      const entries = s.size;
      const bookkeeping = levelFiles(dir);
      reopens += s.reopens;
      reopenMaxMs = Math.max(reopenMaxMs, s.reopenMaxMs);
      const fillRss = process.memoryUsage().rss;
      const fillMem = liveMemory();
      await s.close();
      const half = disk.slice(disk.length >> 1);
      const mean = half.reduce((x, y) => x + y, 0) / half.length;
      const spread = (Math.max(...half) - Math.min(...half)) / mean;
      const worst = Math.max(Math.max(...half) - mean, mean - Math.min(...half)) / mean;
      // The trend without LevelDB's compaction saw-tooth: means of 500-block windows of the last half.
      const windows: number[] = [];
      for (let i = 0; i + 500 <= half.length; i += 500) windows.push(half.slice(i, i + 500).reduce((x, y) => x + y, 0) / 500);
      const windowDev = windows.length === 0 ? 0 : Math.max(...windows.map((w) => Math.abs(w - mean))) / mean;
      const avg = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / Math.max(1, xs.length);
      const q3 = avg(half.slice(0, half.length >> 1));
      const q4 = avg(half.slice(half.length >> 1));

      const self = compiled ? [process.argv[1]!] : ['--import', 'tsx', fileURLToPath(import.meta.url)];
      const r = spawnSync(process.execPath, [...nodeFlags, '--expose-gc', ...self, '--child', dir, String(accounts), String(live), String(next), String(cacheMb), String(childBlocks), String(heapGrowth), withNode ? '1' : '0'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (r.status !== 0) throw new Error(`child failed: ${r.status}`);
      const c = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult;
      const done = next - 1; // requests before the child's blocks
      next += c.blocks * PER_BLOCK; // the child's blocks are part of the chain: go on after them
      s = await open();
      h = s.height;
      lapReads = 0; // a fresh store counts its reads from 0
      const what = `direct store writes (no txs): ${accounts.toLocaleString('en-US')} accounts, ${done.toLocaleString('en-US')} requests created and pruned down to the newest ${live.toLocaleString('en-US')}, ${entries.toLocaleString('en-US')} state entries`;
      const rows: BenchRow[] = [
        { name: `node RSS, peak over a restart + ${c.blocks} blocks + reads (fresh process)`, value: MB(c.peakRss), unit: 'MB', target: '<= 500 MB', note: `${what}; at the end: RSS ${MB(c.rss)} MB, V8 heap ${MB(c.heap)} MB (live after a full GC ${MB(c.liveHeap)} MB, external ${MB(c.external)} MB; RSS after that GC ${MB(c.rssAfterGc)} MB)${nodeFlags.length > 0 ? `; node flags ${nodeFlags.join(' ')}` : ''}; ${runs}; memory settings: ${memorySetting}, tree nodes held ~${MB(c.nodeBytes)} MB, value cache ${MB(c.valueBytes)} MB; --cache-mb=${cacheMb} (values, and about as much again for tree nodes)` },
        { name: 'restart: open', value: Math.round(c.openMs), unit: 'ms', note: 'metadata only, no rebuild' },
        { name: 'restart to serving: open + first read with proof', value: Math.round(c.firstReadMs), unit: 'ms', target: '<= 3 s' },
        { name: `applyBlock+commit, 1,000-request block (4,000 puts + 3,000 deletes), at 10,000 requests (wall)`, value: Math.round(at10k.wall), unit: 'ms', note: 'median of 5, fsync' },
        { name: `applyBlock+commit, same block at ${done.toLocaleString('en-US')} requests (wall)`, value: Math.round(atEnd.wall), unit: 'ms', target: '+-15 % of the block at 10,000', note: `ratio ${(atEnd.wall / at10k.wall).toFixed(2)}; after restart (cold caches): ${Math.round(c.blockMs)} ms` },
        { name: 'the same block at 10,000 requests (CPU, all threads)', value: Math.round(at10k.cpu), unit: 'ms', note: 'median of 5; includes LevelDB background compaction that ran meanwhile' },
        { name: `the same block at ${done.toLocaleString('en-US')} requests (CPU, all threads)`, value: Math.round(atEnd.cpu), unit: 'ms', target: '+-15 %', note: `ratio ${(atEnd.cpu / at10k.cpu).toFixed(2)} (CPU time is steadier than wall time on a loaded machine)` },
        { name: 'disk use of the store at this point', value: MB(disk.at(-1)!), unit: 'MB' },
        { name: 'disk use over the last half of the blocks so far: largest deviation from its mean', value: Math.round(worst * 1000) / 10, unit: '%', target: 'flat (+-10 %)', note: `mean ${MB(mean)} MB; LevelDB's LOG + LOG.old ${MB(bookkeeping.log)} MB and MANIFEST ${MB(bookkeeping.manifest)} MB at the end; ${reopens} reopens of the LevelDB handle (--reopen-every=${reopenEvery}), the longest ${Math.round(reopenMaxMs)} ms` },
        { name: 'the same, means of 500-block windows: largest deviation from the mean', value: Math.round(windowDev * 1000) / 10, unit: '%', target: 'flat (+-10 %)', note: windows.length === 0 ? 'fewer than 500 blocks in the last half' : `${windows.length} windows: ${windows.map((w) => MB(w)).join(', ')} MB` },
        { name: 'disk use spread over the last half of the blocks so far (max - min) / mean', value: Math.round(spread * 1000) / 10, unit: '%', note: `${disk.length} blocks sampled; min ${MB(Math.min(...half))} MB, max ${MB(Math.max(...half))} MB; mean of the third quarter ${MB(q3)} MB, of the last quarter ${MB(q4)} MB (drift ${(((q4 - q3) / q3) * 100).toFixed(1)} %: growth, apart from LevelDB's compaction saw-tooth)` },
        { name: `applyBlock+commit after restart, steady state: blocks 6-${c.blocks} (wall / CPU)`, value: Math.round(c.steadyMs), unit: 'ms', note: `CPU ${Math.round(c.steadyCpu)} ms; median` },
        { name: '1,000 random account reads after restart', value: Math.round(c.readsMs), unit: 'ms' },
        { name: '1,000-key prefix scan after restart', value: Math.round(c.scanMs), unit: 'ms', note: `tree nodes read from disk in the child: ${c.nodesRead}` },
        { name: 'long-running node: RSS of the process that ran every block, peak after each block from 10,000 requests on', value: MB(fillPeakRss), unit: 'MB', target: '<= 500 MB', note: `${runs}; memory settings: ${memorySetting}` },
        { name: 'the same process before the restart', value: MB(fillRss), unit: 'MB', note: fillMem },
      ];
      printTable(`State at scale after ${done.toLocaleString('en-US')} requests, store level (direct writes; see bench/state-direct.ts)`, rows);
    }
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  const [dir, accounts, live, next, cacheMb, more, heapGrowth, withNode] = process.argv.slice(3);
  await child(dir!, Number(accounts), Number(live), Number(next), Number(cacheMb), Number(more), Number(heapGrowth), withNode === '1');
} else if (process.argv[2] === '--run') {
  await runDirect(process.argv.slice(3));
}
