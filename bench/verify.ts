/**
 * `npm run bench -- verify [--quick]`: Groth16 (BN254) verification cost per proof on the genesis circuit.
 * Rows: native verifyOne, native verifyBatch at k = 1, 8, 64, and snarkjs' groth16.verify (the baseline, same process).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { printTable, type BenchRow } from './table.js';
import { verifyingKeyFromSnarkjs, type Groth16Proof } from '../src/zk/groth16.js';
import { initZk, prepareVerifyingKey, verifyBatch, verifyOne } from '../src/zk/verifier.js';
import { loadSnarkjs, proveWithSnarkjs, terminateSnarkjs } from '../src/zk/prove.js';
import { GENESIS_CIRCUIT, genesisInput } from '../src/zk/genesis.js';

/**
 * Like table.ts' timeIt (one warm-up call, then at least minMs and minRuns), but returns both wall-clock and
 * process CPU milliseconds per call: on a shared, loaded machine CPU time is the steadier number.
 */
async function measure(fn: () => unknown | Promise<unknown>, minMs: number, minRuns = 3): Promise<{ wall: number; cpu: number }> {
  await fn();
  let runs = 0;
  const c0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (runs < minRuns || elapsed < minMs) {
    await fn();
    runs++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const c = process.cpuUsage(c0);
  return { wall: elapsed / runs, cpu: (c.user + c.system) / 1000 / runs };
}

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const minMs = quick ? 300 : 2000;
  await initZk();
  const vkJson = JSON.parse(readFileSync(GENESIS_CIRCUIT.verificationKeyPath, 'utf8'));
  const vk = prepareVerifyingKey(verifyingKeyFromSnarkjs(vkJson));
  const nDistinct = quick ? 4 : 8;
  const proofs: { proof: Groth16Proof; publicSignals: bigint[]; json: unknown; pub: string[] }[] = [];
  let proveMs = 0;
  for (let i = 0; i < nDistinct; i++) {
    const r = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, genesisInput(1000n + BigInt(i), BigInt(i)));
    proveMs += r.ms;
    proofs.push({ proof: r.proof, publicSignals: r.publicSignals, json: r.proofJson, pub: r.publicJson });
  }
  // Batches cycle through the distinct proofs (each position gets its own coefficient; nothing is cached).
  const batch = (k: number) => Array.from({ length: k }, (_, i) => proofs[i % proofs.length]);
  for (const p of proofs) if (!verifyOne(vk, p.proof, p.publicSignals)) throw new Error('bench: a fresh proof did not verify');

  const snarkjs = await loadSnarkjs();
  let j = 0;
  const snark = await measure(async () => {
    const p = proofs[j++ % proofs.length];
    if (!(await snarkjs.groth16.verify(vkJson, p.pub, p.json))) throw new Error('snarkjs rejected');
  }, minMs);
  let i = 0;
  const one = await measure(() => {
    const p = proofs[i++ % proofs.length];
    if (!verifyOne(vk, p.proof, p.publicSignals)) throw new Error('rejected');
  }, minMs);
  const batches: { k: number; m: { wall: number; cpu: number } }[] = [];
  for (const k of [1, 8, 64]) {
    const items = batch(k);
    const m = await measure(() => {
      if (verifyBatch(vk, items).some((ok) => !ok)) throw new Error('batch rejected');
    }, minMs);
    batches.push({ k, m });
  }
  // One invalid proof in 64: the combined check fails and every item is re-checked alone.
  const bad = batch(64).map((p, n) => (n === 17 ? { ...p, publicSignals: [p.publicSignals[0], p.publicSignals[1] + 1n] } : p));
  const badM = await measure(() => verifyBatch(vk, bad), quick ? 0 : minMs, 1);

  const base = 'snarkjs groth16.verify';
  for (const kind of ['cpu', 'wall'] as const) {
    const rows: BenchRow[] = [
      { name: base, value: snark[kind], unit: 'ms/proof', note: 'baseline (uses worker threads)' },
      { name: 'verifyOne', value: one[kind], unit: 'ms/proof', baseline: base, lowerIsBetter: true, target: '<= 5' },
      ...batches.map(({ k, m }) => ({
        name: `verifyBatch k=${k}`,
        value: m[kind] / k,
        unit: 'ms/proof',
        baseline: base,
        lowerIsBetter: true,
        target: k === 64 ? '<= 1.5' : '',
      })),
      { name: 'verifyBatch k=64, 1 invalid', value: badM[kind] / 64, unit: 'ms/proof', baseline: base, lowerIsBetter: true, note: 'falls back to single checks' },
    ];
    if (kind === 'wall') rows.push({ name: 'snarkjs fullProve (genesis)', value: proveMs / nDistinct, unit: 'ms/proof', note: `${nDistinct} proofs, 4,741 constraints` });
    printTable(
      `Groth16 BN254 verify, genesis hashchain circuit (2 public signals): ${kind === 'cpu' ? 'process CPU time' : 'wall clock'} (load avg ${loadavg()[0].toFixed(1)})`,
      rows,
    );
  }
  await terminateSnarkjs();
}
