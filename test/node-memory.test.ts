/**
 * The node's memory settings (app/node-memory.ts, issue 13's RSS target): `--heap-growth-percent` really bounds how
 * far V8 lets the heap grow past its live size, and the allocator environment is reported when missing.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALLOCATOR_ENV, DEFAULT_HEAP_GROWTH_PERCENT, applyHeapGrowth, missingAllocatorEnv, nodeMemoryLine } from '../app/node-memory.js';

const execFileP = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function churn(percent: number): Promise<{ setting: string; peakTotal: number; live: number }> {
  const { stdout } = await execFileP(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(ROOT, 'test/fixtures/heap-churn.ts'), String(percent)], { cwd: ROOT, timeout: 240_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { setting: string; peakTotal: number; live: number };
}

test('the default heap growth keeps the committed heap near the live heap; V8 alone lets it grow far past it', async (t) => {
  const [v8, node] = await Promise.all([churn(0), churn(DEFAULT_HEAP_GROWTH_PERCENT)]);
  t.is(node.setting, `--heap-growing-percent=${DEFAULT_HEAP_GROWTH_PERCENT}`);
  t.is(v8.setting, "V8's default heap growth");
  t.true(node.live > 40e6, `live set ${node.live}`);
  // 1.3x the live heap plus the young generation and page slack; V8's own factor reaches 4x for this load.
  t.true(node.peakTotal < 3 * node.live, `with the setting: peak ${(node.peakTotal / 1e6).toFixed(0)} MB for ${(node.live / 1e6).toFixed(0)} MB live`);
  t.true(node.peakTotal < 0.75 * v8.peakTotal, `peak ${(node.peakTotal / 1e6).toFixed(0)} MB with the setting vs ${(v8.peakTotal / 1e6).toFixed(0)} MB without`);
});

test('a --heap-growing-percent on the node command line wins; bad values are refused', (t) => {
  t.is(applyHeapGrowth(30, ['--import', 'tsx', '--heap-growing-percent=80']), '--heap-growing-percent=80 (node command line)');
  t.throws(() => applyHeapGrowth(-1), { instanceOf: RangeError });
  t.throws(() => applyHeapGrowth(1.5), { instanceOf: RangeError });
});

test('the allocator environment: what is missing is named in the startup line', (t) => {
  t.deepEqual(missingAllocatorEnv({ ...ALLOCATOR_ENV }, 'linux'), []);
  t.deepEqual(missingAllocatorEnv({ MALLOC_ARENA_MAX: '4' }, 'linux'), ['MALLOC_MMAP_THRESHOLD_']); // an operator's own value is kept
  t.deepEqual(missingAllocatorEnv({}, 'darwin'), []); // glibc only
  t.regex(nodeMemoryLine('--heap-growing-percent=30', []), /allocator env set/);
  t.regex(nodeMemoryLine('x', ['MALLOC_ARENA_MAX']), /missing: MALLOC_ARENA_MAX=2 /);
});

test('proofbook start refuses a bad --heap-growth-percent before doing anything', async (t) => {
  const r = await execFileP(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), 'start', '--home', '/nonexistent/proofbook-node-memory', '--heap-growth-percent', 'lots'], { cwd: ROOT, timeout: 120_000 }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
  t.not(r.code, 0);
  t.regex(r.stderr, /--heap-growth-percent must be an integer 0\.\.1000, got 'lots'/);
});
