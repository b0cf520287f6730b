/**
 * `npm run bench -- prove [--quick]`: proofs per minute of the genesis circuit through the worker's backends.
 * Rows: single-threaded snarkjs fullProve on the main thread (the baseline, same process), snarkjs' own multi-threaded
 * prover (one proof at a time), the worker's snarkjs pool with 1 thread, and the pool with every core (jobs in parallel).
 */
import os from 'node:os';
import { printTable, type BenchRow } from './table.js';
import { proveWithSnarkjs, terminateSnarkjs } from '../src/zk/prove.js';
import { GENESIS_CIRCUIT, genesisInput } from '../src/zk/genesis.js';
import { SnarkjsPoolBackend } from '../src/worker/backends.js';

async function perMinute(n: number, prove: (i: number) => Promise<unknown>, parallel: boolean): Promise<number> {
  await prove(-1); // warm-up (wasm compile, zkey read)
  const t0 = performance.now();
  if (parallel) await Promise.all(Array.from({ length: n }, (_, i) => prove(i)));
  else for (let i = 0; i < n; i++) await prove(i);
  return (n * 60_000) / (performance.now() - t0);
}

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const cores = os.availableParallelism();
  const n = quick ? 2 : 6;
  const input = (i: number) => genesisInput(BigInt(1000 + i), BigInt(i + 2));
  const rows: BenchRow[] = [];
  const load0 = os.loadavg()[0]!;

  const base = await perMinute(n, (i) => proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, input(i), { singleThread: true }), false);
  rows.push({ name: 'snarkjs single-thread (main thread)', value: base, unit: 'proofs/min', note: `${n} proofs back to back` });
  const mt = await perMinute(n, (i) => proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, input(i), { singleThread: false }), false);
  rows.push({ name: "snarkjs multi-thread (its own threads)", value: mt, unit: 'proofs/min', baseline: 'snarkjs single-thread (main thread)', note: 'one proof at a time, snarkjs parallelizes inside it' });
  await terminateSnarkjs();

  for (const threads of [...new Set([1, cores])]) {
    const pool = new SnarkjsPoolBackend(threads);
    try {
      const job = (i: number) => pool.prove({ circuitId: 'genesis', wasmPath: GENESIS_CIRCUIT.wasmPath, zkeyPath: GENESIS_CIRCUIT.zkeyPath, input: input(i) });
      const v = await perMinute(Math.max(n, threads * (quick ? 1 : 3)), job, true);
      rows.push({ name: `worker pool, ${threads} thread${threads > 1 ? 's' : ''}`, value: v, unit: 'proofs/min', baseline: 'snarkjs single-thread (main thread)', note: threads === cores ? `all ${cores} cores, jobs in parallel` : 'one job at a time' });
    } finally {
      await pool.close();
    }
  }
  printTable(`prove: genesis circuit (hashchain) proofs per minute (load average ${load0.toFixed(1)} at start, ${os.loadavg()[0]!.toFixed(1)} at end)`, rows);
}
