/**
 * `npm run bench -- node`: what a node process costs before it holds any state, started both ways — under tsx
 * (`node --import tsx cli/main.ts start`, how `npm start` and the localnet ran it before) and compiled
 * (`node bin/proofbook.mjs start`, dist/node from scripts/build-node.mjs, how they run it now) — in alternating
 * rounds on the same fresh home, with the node's allocator environment: the node process's RSS once it listens for
 * CometBFT, the RSS of the processes it started (tsx's esbuild service, on a transform-cache miss), and the time from
 * spawn to listening; then
 * the wall time of a short CLI command (`keys list`) both ways. docs/state.md "The compiled node".
 */
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ALLOCATOR_ENV } from '../app/node-memory.js';
import { REPO_ROOT, ensureNodeBuild } from '../scripts/build-node.mjs';
import { tcpReachable } from '../scripts/cometbft-net.js';
import { printTable, type BenchRow } from './table.js';

const execFileP = promisify(execFile);
const ROUNDS = 3;
const SETTLE_MS = 3000; // after it listens: timers, lazy imports and the first GCs of an idle node
const PORT = 36_000 + (process.pid % 2000);

const launchers = {
  tsx: ['--import', 'tsx', join(REPO_ROOT, 'cli', 'main.ts')],
  compiled: [join(REPO_ROOT, 'bin', 'proofbook.mjs')],
} as const;
type Launcher = keyof typeof launchers;

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
/** The processes whose parent is `pid` (Linux /proc). */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch { /* exited meanwhile */ }
  }
  return out;
}
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

async function idleNode(how: Launcher, home: string): Promise<{ rss: number; childRss: number; listenMs: number }> {
  const t0 = performance.now();
  const p = spawn(process.execPath, [...launchers[how], 'start', '--home', home, '--abci', `tcp://127.0.0.1:${PORT}`, '--api-laddr', 'off'],
    { cwd: REPO_ROOT, stdio: 'ignore', env: { ...process.env, ...ALLOCATOR_ENV } });
  try {
    while (!(await tcpReachable(PORT))) {
      if (p.exitCode !== null) throw new Error(`${how} node exited with ${p.exitCode}`);
      if (performance.now() - t0 > 60_000) throw new Error(`${how} node did not listen within 60 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const listenMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const rss = rssKb(p.pid!) * 1024;
    const childRss = children(p.pid!).reduce((sum, c) => sum + rssKb(c) * 1024, 0);
    return { rss, childRss, listenMs };
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => (p.exitCode !== null ? r(undefined) : p.once('exit', r)));
  }
}

export async function run(_flags: string[]): Promise<void> {
  await ensureNodeBuild({ quiet: true });
  const home = mkdtempSync(join(tmpdir(), 'proofbook-bench-node-'));
  try {
    await execFileP(process.execPath, [...launchers.compiled, '--home', home, 'init'], { cwd: REPO_ROOT });
    const res: Record<Launcher, { rss: number[]; childRss: number[]; listenMs: number[]; cliMs: number[] }> = {
      tsx: { rss: [], childRss: [], listenMs: [], cliMs: [] },
      compiled: { rss: [], childRss: [], listenMs: [], cliMs: [] },
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const how of (round % 2 === 0 ? ['tsx', 'compiled'] : ['compiled', 'tsx']) as Launcher[]) {
        const r = await idleNode(how, home);
        res[how].rss.push(r.rss);
        res[how].childRss.push(r.childRss);
        res[how].listenMs.push(r.listenMs);
        const t = performance.now();
        await execFileP(process.execPath, [...launchers[how], '--home', home, 'keys', 'list'], { cwd: REPO_ROOT });
        res[how].cliMs.push(performance.now() - t);
      }
    }
    const MB = (b: number) => Math.round(b / 1e5) / 10;
    const rows: BenchRow[] = [];
    for (const how of ['tsx', 'compiled'] as Launcher[]) {
      const r = res[how];
      const what = how === 'tsx' ? 'under tsx' : 'compiled (dist/node)';
      rows.push(
        { name: `idle node RSS, ${what}`, value: MB(median(r.rss)), unit: 'MB', baseline: 'idle node RSS, under tsx', lowerIsBetter: true, note: `median of ${ROUNDS}: ${r.rss.map(MB).join(', ')} MB; ${SETTLE_MS / 1000} s after it listens` },
        { name: `  processes it started (RSS), ${what}`, value: MB(median(r.childRss)), unit: 'MB', note: how === 'tsx' ? "tsx's esbuild service, which runs only while tsx's transform cache misses (sources changed)" : 'none expected' },
        { name: `  spawn to listening, ${what}`, value: Math.round(median(r.listenMs)), unit: 'ms', baseline: '  spawn to listening, under tsx', lowerIsBetter: true },
        { name: `  \`keys list\` wall time, ${what}`, value: Math.round(median(r.cliMs)), unit: 'ms', baseline: '  `keys list` wall time, under tsx', lowerIsBetter: true },
      );
    }
    printTable('node process before state: under tsx vs compiled (alternating rounds, fresh home, allocator env set)', rows);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
