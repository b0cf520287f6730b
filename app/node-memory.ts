/**
 * Memory settings of a long-running node (issue 13: node RSS <= 500 MB; docs/state.md "Memory of a long-running
 * node"). The state itself is bounded (`--state-cache-mb`); what made a node that had run for hours hold ~880 MB
 * while its live data was ~150 MB is memory the runtime keeps, in two places:
 *
 * - **V8's heap growth.** After each major GC, V8 lets the heap grow to live × a factor it picks from the GC and
 *   allocation rates — up to 4× for a process like this one (a block allocates a lot and GC keeps up), so a 140 MB
 *   live heap ran at ~570 MB committed. `--heap-growing-percent=N` fixes the factor at 1 + N/100. This is a growth
 *   factor, not a cap: a node whose live heap really grows still gets the memory (a `--max-old-space-size` cap would
 *   crash it instead). It can be set after start (`v8.setFlagsFromString`): V8 reads it each time it sizes the heap.
 * - **glibc's allocator** (LevelDB's write batches and memtables are native memory, allocated on libuv's worker
 *   threads). By default every thread may get its own arena (up to 8 per core), and the mmap threshold rises after
 *   the first large free, so each block's multi-megabyte batch is carved out of an arena and its pages are kept.
 *   `MALLOC_ARENA_MAX=2` and a fixed `MALLOC_MMAP_THRESHOLD_` (large blocks mapped and unmapped) return them. glibc
 *   reads these when the process starts, so they must be in the environment of the node's process: `npm start`
 *   and `scripts/cometbft-net.ts` set them; an operator's unit file sets them (docs/operators.md); the node warns
 *   when they are missing.
 *
 * Measured with `npm run bench -- state --direct` (docs/state.md): the process that ran every block of a 60,000-
 * request stream held ~1,030 MB with the defaults, ~580 MB with the heap setting alone, ~440-450 MB with both.
 */
import { setFlagsFromString } from 'node:v8';

/** The default of `--heap-growth-percent`: the heap may grow to 1.3× its live size before the next major GC. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 30;

/** The allocator environment a node's process should start with (glibc; other C libraries ignore it). */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
});

/**
 * Fix V8's heap growing factor at 1 + percent/100 (0 leaves V8's own choice). A `--heap-growing-percent` given to
 * node on its command line wins. Returns the setting in force, for the startup log.
 */
export function applyHeapGrowth(percent: number, execArgv: readonly string[] = process.execArgv): string {
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000) throw new RangeError(`heap growth percent must be an integer 0..1000, got ${percent}`);
  const given = execArgv.find((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'));
  if (given !== undefined) return `${given} (node command line)`;
  if (percent === 0) return "V8's default heap growth";
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return `--heap-growing-percent=${percent}`;
}

/** The allocator variables missing from `env`, on Linux (where glibc reads them); none elsewhere. */
export function missingAllocatorEnv(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string[] {
  if (platform !== 'linux') return [];
  return Object.keys(ALLOCATOR_ENV).filter((k) => env[k] === undefined);
}

/** The startup line for a node: the settings in force, and what is missing. */
export function nodeMemoryLine(heap: string, missing: readonly string[]): string {
  const alloc = missing.length === 0 ? 'allocator env set' : `allocator env missing: ${missing.map((k) => `${k}=${ALLOCATOR_ENV[k]}`).join(' ')} (a long-running node keeps ~100 MB more native memory without them; docs/operators.md)`;
  return `memory: ${heap}; ${alloc}`;
}
