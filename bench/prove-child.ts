/**
 * One measurement of `npm run bench -- prove`, in its own process so its peak memory is its own:
 *   node --import tsx bench/prove-child.ts MODE WASM ZKEY N THREADS
 * MODE: snarkjs-mt (snarkjs fullProve on its own threads, one proof at a time), pool (the worker's snarkjs pool of
 * THREADS single-threaded jobs, N jobs at once), native (witness with snarkjs as the worker computes it, then the
 * native prover binary; one proof at a time). Prints one JSON line: per-proof ms, wall ms, peak RSS.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchInput, NATIVE_PROVER } from './circuits.js';
import { SnarkjsPoolBackend } from '../src/worker/backends.js';
import { terminateSnarkjs } from '../src/zk/prove.js';

interface Snarkjs {
  groth16: { prove(zkey: string, wtns: unknown, l?: unknown, o?: { singleThread?: boolean }): Promise<unknown> };
  wtns: { calculate(input: unknown, wasm: string, out: string | { type: 'mem' }): Promise<void> };
}

const [mode, wasm, zkey, nStr, threadsStr] = process.argv.slice(2) as [string, string, string, string, string];
const n = Number(nStr);
const threads = Number(threadsStr);
const specifier: string = 'snarkjs';
const snarkjs = (await import(specifier)) as Snarkjs;
const perProof: number[] = [];
/** Prover-only time per proof (without the witness). */
const perProve: number[] = [];
let proverRssMiB = 0;
let wall = 0;

if (mode === 'snarkjs-mt') {
  // What groth16.fullProve does, timed in its two parts.
  const one = async (i: number) => {
    const t = performance.now();
    const wtns = { type: 'mem' as const };
    await snarkjs.wtns.calculate(benchInput(i), wasm, wtns);
    const t1 = performance.now();
    await snarkjs.groth16.prove(zkey, wtns, undefined, { singleThread: false });
    return [performance.now() - t, performance.now() - t1] as const;
  };
  await one(999); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const [total, prove] = await one(i);
    perProof.push(total);
    perProve.push(prove);
  }
  wall = performance.now() - t0;
  await terminateSnarkjs();
} else if (mode === 'pool') {
  const pool = new SnarkjsPoolBackend(threads);
  const job = (i: number) => pool.prove({ circuitId: 'bench', wasmPath: wasm, zkeyPath: zkey, input: benchInput(i) });
  await Promise.all(Array.from({ length: threads }, (_, i) => job(900 + i))); // warm-up every thread
  const t0 = performance.now();
  const outs = await Promise.all(Array.from({ length: n }, (_, i) => job(i)));
  wall = performance.now() - t0;
  for (const o of outs) perProof.push(o.timing.totalMs);
  await pool.close();
} else if (mode === 'native') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-native-'));
  const one = async (i: number) => {
    const t = performance.now();
    const w = path.join(dir, `${i}.wtns`);
    await snarkjs.wtns.calculate(benchInput(i), wasm, w);
    const t1 = performance.now();
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(NATIVE_PROVER, ['-v', zkey, w, path.join(dir, 'p.json'), path.join(dir, 'pub.json')], (err, _o, se) => (err ? reject(new Error(se)) : resolve(se)));
    });
    const m = /peak RSS ([\d.]+) MiB/.exec(stderr);
    if (m) proverRssMiB = Math.max(proverRssMiB, Number(m[1]));
    return [performance.now() - t, performance.now() - t1] as const;
  };
  await one(999);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const [total, prove] = await one(i);
    perProof.push(total);
    perProve.push(prove);
  }
  wall = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
} else {
  throw new Error(`unknown mode ${mode}`);
}
console.log(JSON.stringify({ perProof, perProve, wall, n, rssMiB: process.resourceUsage().maxRSS / 1024, proverRssMiB }));
process.exit(0);
