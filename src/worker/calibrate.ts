/**
 * Calibration: time proofs of a circuit on a backend (one warm-up, then max(calibrationProofs, parallelism) proofs
 * at once so every thread is busy) and derive the ask price from the machine time per proof.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pino from 'pino';
import { askPrice, type WorkerConfig } from './config.js';
import { AutoBackend, type ProveOutput, type ProverBackend } from './backends.js';
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

/**
 * Backend 'auto': measures every candidate on this circuit (each with its own parallelism, all cores busy) and routes
 * the circuit to the lowest machine time per proof. A candidate that fails (e.g. a broken native build) is skipped
 * with its error logged; only when every candidate fails does calibration fail.
 */
export async function measureAuto(
  auto: AutoBackend, cfg: WorkerConfig, circuitId: string, files: { wasmPath: string; zkeyPath: string },
  check: (o: ProveOutput) => void, warn: (msg: string) => void = () => {},
): Promise<Calibration> {
  const results: Calibration[] = [];
  const errors: string[] = [];
  for (const b of auto.candidates) {
    try {
      results.push(await measure(b, cfg, circuitId, files, check));
    } catch (e) {
      errors.push(`${b.name}: ${(e as Error).message}`);
      warn(`calibration of backend ${b.name} on circuit ${circuitId} failed: ${(e as Error).message}`);
    }
  }
  if (results.length === 0) throw new Error(`every backend failed on circuit ${circuitId}: ${errors.join('; ')}`);
  const best = results.reduce((a, b) => (b.msPerProof < a.msPerProof ? b : a));
  auto.choose(circuitId, best.backend);
  return {
    ...best, backend: 'auto', choice: best.backend,
    candidates: results.map((r) => ({ backend: r.backend, parallelism: r.parallelism, msPerProof: r.msPerProof, latencyMs: r.latencyMs })),
  };
}

/** Applies a stored 'auto' calibration if its chosen backend is still a candidate with the same parallelism. */
export function applyStoredAuto(auto: AutoBackend, c: Calibration): boolean {
  if (!c.choice) return false;
  const b = auto.candidates.find((x) => x.name === c.choice);
  if (!b || b.parallelism !== c.parallelism) return false;
  // The candidates measured then must still be the candidates now (e.g. the native prover was built since).
  const now = auto.candidates.map((x) => x.name).sort().join(',');
  const then = (c.candidates ?? []).map((x) => x.backend).sort().join(',');
  if (now !== then) return false;
  auto.choose(c.circuitId, c.choice);
  return true;
}

/** `proofbook worker calibrate`: measures without a signer; stores the result unless a running worker holds the DB. */
export async function calibrateStandalone(o: { home: string; nodeUrl: string; config: WorkerConfig; circuitId: string; logger: pino.Logger }): Promise<{ calibration: Calibration; stored: boolean; notStoredReason?: string }> {
  const { ProofbookQueryClient } = await import('../client/proofbook.js');
  const { ArtifactCache } = await import('./artifacts.js');
  const { createBackend } = await import('./backends.js');
  const { JobStore } = await import('./jobs.js');
  const { decodeVerifyingKey, proofFromSnarkjs, publicSignalsFromSnarkjs } = await import('../zk/groth16.js');
  const { initZk, prepareVerifyingKey, verifyOne } = await import('../zk/verifier.js');
  const { normalizeNodeUrl } = await import('../client/tx.js');
  await initZk();
  const q = await ProofbookQueryClient.connect(o.nodeUrl);
  const c = o.config;
  const backend = createBackend(c, path.join(o.home, 'worker', 'tmp'), (m) => o.logger.warn(m));
  try {
    const circuit = await q.circuit(o.circuitId);
    if (!circuit.wasm?.sha256 || !circuit.provingKey?.sha256) throw new Error(`circuit ${o.circuitId} has no registered wasm/proving key artifacts`);
    const cache = new ArtifactCache(o.home, { nodeUrl: normalizeNodeUrl(o.nodeUrl), searchDirs: c.artifactSearchDirs });
    const [wasmPath, zkeyPath] = await Promise.all([cache.get(circuit.wasm), cache.get(circuit.provingKey)]);
    const vk = prepareVerifyingKey(decodeVerifyingKey(circuit.verifyingKey));
    const check = (out: ProveOutput) => {
      if (!verifyOne(vk, proofFromSnarkjs(out.proof), publicSignalsFromSnarkjs(out.publicSignals))) throw new Error('the backend produced a proof the chain verifier rejects');
    };
    const cal = backend instanceof AutoBackend
      ? await measureAuto(backend, c, o.circuitId, { wasmPath, zkeyPath }, check, (m) => o.logger.warn(m))
      : await measure(backend, c, o.circuitId, { wasmPath, zkeyPath }, check);
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
