/**
 * `npm run bench -- prove [--quick] [--sizes=12,16,18,20]`: Groth16 proving speed per circuit size, per backend.
 *
 * Circuits: the hash chain filling a 2^k domain (bench/circuits.ts; generated once and cached outside the repo,
 * keys from the TEST-ONLY setup). Per size, in separate processes (so each peak memory is its own):
 *   - snarkjs on its own threads, one proof at a time (the baseline),
 *   - the worker's snarkjs pool (one single-threaded job per core, jobs in parallel),
 *   - the native prover (native/prover: witness with snarkjs as the worker computes it, then the Go prover),
 * baseline and native alternating round by round, because the machine is shared and its speed drifts.
 * ms/proof is wall time per proof including the witness (as the worker proves); for the pool it is batch wall time /
 * proofs. The last two rows split the same runs: the prover alone, without the witness (identical for both).
 * There is no GPU row: this build has no CUDA path (docs/worker.md).
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { printTable, type BenchRow } from './table.js';
import { benchCircuit, ensureNative, stepsFor } from './circuits.js';

const CHILD = fileURLToPath(new URL('./prove-child.ts', import.meta.url));

interface ChildResult { perProof: number[]; perProve: number[]; wall: number; n: number; rssMiB: number; proverRssMiB: number }

function child(mode: string, wasm: string, zkey: string, n: number, threads: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', CHILD, mode, wasm, zkey, String(n), String(threads)], { maxBuffer: 1 << 24 }, (err, out, se) => {
      if (err) return reject(new Error(`${mode}: ${err.message}\n${se}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const sizesFlag = flags.find((f) => f.startsWith('--sizes='));
  const sizes = sizesFlag ? sizesFlag.slice(8).split(',').map(Number) : quick ? [12, 16] : [12, 16, 18];
  const cores = os.availableParallelism();
  ensureNative();
  for (const k of sizes) {
    const c = benchCircuit(stepsFor(k), (m) => console.error(`bench prove: ${m}`));
    const n = k <= 12 ? (quick ? 4 : 8) : k <= 16 ? (quick ? 2 : 3) : 1;
    const rounds = quick || k >= 18 ? 1 : 2;
    const load0 = os.loadavg()[0]!;
    const base: ChildResult[] = [];
    const nat: ChildResult[] = [];
    for (let r = 0; r < rounds; r++) {
      base.push(await child('snarkjs-mt', c.wasmPath, c.zkeyPath, n, cores));
      nat.push(await child('native', c.wasmPath, c.zkeyPath, n, cores));
    }
    const pool = await child('pool', c.wasmPath, c.zkeyPath, quick || k >= 18 ? cores : 2 * cores, cores);
    const load1 = os.loadavg()[0]!;

    const per = (rs: ChildResult[]) => mean(rs.flatMap((x) => x.perProof));
    const proveOnly = (rs: ChildResult[]) => mean(rs.flatMap((x) => x.perProve));
    const range = (rs: ChildResult[]) => `rounds ${rs.map((x) => mean(x.perProof).toFixed(0)).join(' / ')} ms`;
    const perMin = (ms: number) => (60_000 / ms).toFixed(1);
    const bMs = per(base);
    const nMs = per(nat);
    const pMs = pool.wall / pool.n;
    const baseName = 'snarkjs, its own threads (baseline)';
    const rows: BenchRow[] = [
      { name: baseName, value: bMs, unit: 'ms/proof', note: `${perMin(bMs)} proofs/min; peak RSS ${base.reduce((m, x) => Math.max(m, x.rssMiB), 0).toFixed(0)} MiB; ${range(base)}` },
      { name: `worker pool, ${cores} single-threaded jobs`, value: pMs, unit: 'ms/proof', baseline: baseName, lowerIsBetter: true, note: `${perMin(pMs)} proofs/min; peak RSS ${pool.rssMiB.toFixed(0)} MiB; ${pool.n} jobs at once, mean latency ${mean(pool.perProof).toFixed(0)} ms` },
      { name: 'native CPU (native/prover, Go + gnark-crypto)', value: nMs, unit: 'ms/proof', baseline: baseName, lowerIsBetter: true, target: k >= 16 ? '≥ 4x' : '', note: `${perMin(nMs)} proofs/min; peak RSS prover ${nat.reduce((m, x) => Math.max(m, x.proverRssMiB), 0).toFixed(0)} MiB (+ witness process ${nat.reduce((m, x) => Math.max(m, x.rssMiB), 0).toFixed(0)} MiB); ${range(nat)}` },
      { name: 'snarkjs groth16.prove only (baseline, no witness)', value: proveOnly(base), unit: 'ms/proof', note: 'the same runs as the baseline, witness time excluded' },
      { name: 'native prover only (process, no witness)', value: proveOnly(nat), unit: 'ms/proof', baseline: 'snarkjs groth16.prove only (baseline, no witness)', lowerIsBetter: true, target: k >= 16 ? '≥ 4x' : '', note: 'the same runs as native CPU: zkey map, proof, self-check, JSON' },
    ];
    printTable(`prove: ${c.name}, ${c.constraints} constraints, domain 2^${c.log2Domain} (${cores} cores; load average ${load0.toFixed(1)} → ${load1.toFixed(1)}; GPU: none, no CUDA build)`, rows);
  }
}
