/**
 * `npm run bench -- verify [--quick]`: Groth16 (BN254) verification cost per proof on the genesis circuit.
 * Rows: native verifyOne, native verifyBatch at k = 1, 8, 64, and snarkjs' groth16.verify (the baseline, same process).
 */
import { readFileSync } from 'node:fs';
import { printTable, timeIt, type BenchRow } from './table.js';
import { proofToSnarkjs, verifyingKeyFromSnarkjs } from '../src/zk/groth16.js';
import { initZk, prepareVerifyingKey, verifyBatch, verifyOne } from '../src/zk/verifier.js';
import { loadSnarkjs, proveWithSnarkjs, terminateSnarkjs } from '../src/zk/prove.js';
import { GENESIS_CIRCUIT, genesisInput } from '../src/zk/genesis.js';

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const minMs = quick ? 300 : 2000;
  await initZk();
  const vkJson = JSON.parse(readFileSync(GENESIS_CIRCUIT.verificationKeyPath, 'utf8'));
  const vk = prepareVerifyingKey(verifyingKeyFromSnarkjs(vkJson));
  const nDistinct = quick ? 4 : 8;
  const proofs = [];
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
  const snarkMs = await timeIt(async () => {
    const p = proofs[j++ % proofs.length];
    if (!(await snarkjs.groth16.verify(vkJson, p.pub, p.json))) throw new Error('snarkjs rejected');
  }, minMs);

  let i = 0;
  const oneMs = await timeIt(() => {
    const p = proofs[i++ % proofs.length];
    if (!verifyOne(vk, p.proof, p.publicSignals)) throw new Error('rejected');
  }, minMs);

  const rows: BenchRow[] = [
    { name: 'snarkjs groth16.verify', value: snarkMs, unit: 'ms/proof', note: 'baseline, worker threads' },
    { name: 'verifyOne', value: oneMs, unit: 'ms/proof', baseline: 'snarkjs groth16.verify', lowerIsBetter: true, target: '<= 5' },
  ];
  for (const k of [1, 8, 64]) {
    const items = batch(k);
    const ms = await timeIt(() => {
      const res = verifyBatch(vk, items);
      if (res.some((ok) => !ok)) throw new Error('batch rejected');
    }, minMs);
    rows.push({
      name: `verifyBatch k=${k}`,
      value: ms / k,
      unit: 'ms/proof',
      baseline: 'snarkjs groth16.verify',
      lowerIsBetter: true,
      target: k === 64 ? '<= 1.5' : '',
    });
  }
  // One invalid proof in 64: the combined check fails and every item is re-checked alone.
  const bad = batch(64).map((p, n) => (n === 17 ? { ...p, publicSignals: [p.publicSignals[0], p.publicSignals[1] + 1n] } : p));
  const badMs = await timeIt(() => verifyBatch(vk, bad), quick ? 0 : minMs, 1);
  rows.push({ name: 'verifyBatch k=64, 1 invalid', value: badMs / 64, unit: 'ms/proof', baseline: 'snarkjs groth16.verify', lowerIsBetter: true, note: 'fallback to single checks' });
  rows.push({ name: 'snarkjs fullProve (genesis)', value: proveMs / nDistinct, unit: 'ms/proof', note: `${nDistinct} proofs, 4,741 constraints` });
  printTable('Groth16 BN254 verification (genesis hashchain circuit, 2 public signals)', rows);
  await terminateSnarkjs();
}
