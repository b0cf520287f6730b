/**
 * The node's memory settings (app/node-memory.ts) for the state benches, whose processes stand in for a node: the
 * heap growth is applied in this process, and since glibc reads its allocator settings only when a process starts,
 * a process without them runs the same bench again in a child that has them. `--runtime-defaults` keeps V8's and
 * glibc's own behaviour instead (the baseline).
 */
import { spawnSync } from 'node:child_process';
import { ALLOCATOR_ENV, DEFAULT_HEAP_GROWTH_PERCENT, applyHeapGrowth, missingAllocatorEnv } from '../app/node-memory.js';

export type BenchMemory =
  | { rerun: true }
  | { rerun: false; heapGrowth: number; setting: string };

/** Applies the settings, or re-runs the bench with them (`rerun: true`: the caller returns; the child did the work). */
export function nodeMemoryForBench(runtimeDefaults: boolean, what: string, heapGrowthPercent: number = DEFAULT_HEAP_GROWTH_PERCENT): BenchMemory {
  if (!runtimeDefaults && missingAllocatorEnv().length > 0) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...ALLOCATOR_ENV } });
    if (r.status !== 0) throw new Error(`${what} (re-run with the node's allocator environment) failed: ${r.status ?? r.signal}`);
    return { rerun: true };
  }
  const heapGrowth = runtimeDefaults ? 0 : heapGrowthPercent;
  const env = Object.keys(ALLOCATOR_ENV).map((k) => `${k}=${process.env[k] ?? '(unset)'}`).join(' ');
  return { rerun: false, heapGrowth, setting: `${applyHeapGrowth(heapGrowth)}; ${env}` };
}
