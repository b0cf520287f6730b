/**
 * Calibration: time proofs of a circuit on a backend (one warm-up, then max(calibrationProofs, parallelism) proofs
 * at once so every thread is busy) and derive the ask price from the machine time per proof.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pino from 'pino';
import { askPrice, type WorkerConfig } from './config.js';
import type { ProveOutput, ProverBackend } from './backends.js';
import type { Calibration } from './jobs.js';

export async function measure(
  backend: ProverBackend, cfg: WorkerConfig, circuitId: string, files: { wasmPath: string; zkeyPath: string },
  check: (o: ProveOutput) => void,
): Promise<Calibration> {
  const file = cfg.calibrationInputs[circuitId];
  if (!file) throw new Error(`no calibration input for circuit ${circuitId}: set calibrationInputs["${circuitId}"] to a witness input JSON file`);
  const input = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const job = { circuitId, ...files, input };
  check(await backend.prove(job)); // warm-up, and a broken backend is caught before any work is taken
  const n = Math.max(cfg.pricing.calibrationProofs, backend.parallelism);
  const t0 = performance.now();
  const outs = await Promise.all(Array.from({ length: n }, () => backend.prove(job)));
  const wall = performance.now() - t0;
  for (const o of outs) check(o);
  const msPerProof = Math.max(1, Math.round(wall / n));
  return {
    circuitId, backend: backend.name, parallelism: backend.parallelism, proofs: n,
    latencyMs: Math.round(outs.reduce((s, o) => s + o.timing.totalMs, 0) / n), msPerProof,
    price: askPrice(cfg.pricing, BigInt(msPerProof)).toString(), at: Date.now(),
  };
}

/** `proofbook worker calibrate`: measures without a signer; stores the result unless a running worker holds the DB. */
export async function calibrateStandalone(o: { home: string; nodeUrl: string; config: WorkerConfig; circuitId: string; logger: pino.Logger }): Promise<{ calibration: Calibration; stored: boolean; notStoredReason?: string }> {
  const { ProofbookQueryClient } = await import('../client/proofbook.js');
  const { ArtifactCache } = await import('./artifacts.js');
  const { CommandBackend, SnarkjsPoolBackend } = await import('./backends.js');
  const { JobStore } = await import('./jobs.js');
  const { decodeVerifyingKey, proofFromSnarkjs, publicSignalsFromSnarkjs } = await import('../zk/groth16.js');
  const { initZk, prepareVerifyingKey, verifyOne } = await import('../zk/verifier.js');
  const { normalizeNodeUrl } = await import('../client/tx.js');
  await initZk();
  const q = await ProofbookQueryClient.connect(o.nodeUrl);
  const c = o.config;
  const backend = c.backend === 'command'
    ? new CommandBackend({ command: c.command!.path, args: c.command!.args, parallelism: c.command!.parallelism, timeoutMs: c.command!.timeoutMs, tmpDir: path.join(o.home, 'worker', 'tmp') })
    : new SnarkjsPoolBackend(c.threads);
  try {
    const circuit = await q.circuit(o.circuitId);
    if (!circuit.wasm?.sha256 || !circuit.provingKey?.sha256) throw new Error(`circuit ${o.circuitId} has no registered wasm/proving key artifacts`);
    const cache = new ArtifactCache(o.home, { nodeUrl: normalizeNodeUrl(o.nodeUrl), searchDirs: c.artifactSearchDirs });
    const [wasmPath, zkeyPath] = await Promise.all([cache.get(circuit.wasm), cache.get(circuit.provingKey)]);
    const vk = prepareVerifyingKey(decodeVerifyingKey(circuit.verifyingKey));
    const cal = await measure(backend, c, o.circuitId, { wasmPath, zkeyPath }, (out) => {
      if (!verifyOne(vk, proofFromSnarkjs(out.proof), publicSignalsFromSnarkjs(out.publicSignals))) throw new Error('the backend produced a proof the chain verifier rejects');
    });
    let store;
    try {
      store = await JobStore.open(path.join(o.home, 'worker', 'jobs'));
    } catch (e) {
      return { calibration: cal, stored: false, notStoredReason: `the worker database is busy (a worker is running?): ${(e as Error).message}` };
    }
    await store.putCalibration(cal);
    await store.close();
    return { calibration: cal, stored: true };
  } finally {
    await backend.close();
    q.disconnect();
  }
}
