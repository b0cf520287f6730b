/**
 * Verify a proof in the browser, trusting nobody: the circuit's verifying key and the proof are decoded from the
 * chain's canonical bytes (src/zk/groth16.ts, the same code the node uses) and checked with snarkjs' own
 * groth16.verify, loaded on demand from snarkjs.min.js (not part of the explorer's bundle).
 */
import {
  ZkError, decodeProof, decodeVerifyingKey, proofFromSnarkjs, proofToSnarkjs, publicSignalsFromSnarkjs, verifyingKeyToSnarkjs,
} from '../../src/zk/groth16.js';
import { b64ToBytes } from './format.js';

interface SnarkjsBrowser { groth16: { verify(vk: unknown, publicSignals: string[], proof: unknown, logger?: unknown): Promise<boolean> } }
declare global { interface Window { snarkjs?: SnarkjsBrowser } }

let loading: Promise<SnarkjsBrowser> | null = null;

export function loadSnarkjs(): Promise<SnarkjsBrowser> {
  if (window.snarkjs) return Promise.resolve(window.snarkjs);
  loading ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = new URL('snarkjs.min.js', document.baseURI).toString();
    s.onload = () => (window.snarkjs ? resolve(window.snarkjs) : reject(new Error('snarkjs.min.js loaded but defined no snarkjs')));
    s.onerror = () => { loading = null; reject(new Error('could not load snarkjs.min.js from the explorer')); };
    document.head.appendChild(s);
  });
  return loading;
}

export interface Verdict { valid: boolean; reason: string; ms: number }

/** Snarkjs-format proof from the chain's 256-byte encoding (base64 in REST JSON). */
export function proofJsonFromChain(proofB64: string): ReturnType<typeof proofToSnarkjs> {
  return proofToSnarkjs(decodeProof(b64ToBytes(proofB64)));
}

export function vkJsonFromChain(vkB64: string): Record<string, unknown> {
  return verifyingKeyToSnarkjs(decodeVerifyingKey(b64ToBytes(vkB64)));
}

/**
 * Checks `proof` (snarkjs JSON) and `publicSignals` against the circuit's verifying key (base64 canonical bytes).
 * Malformed input (points off the curve, signals ≥ r, wrong count) is invalid with the reason; never throws.
 */
export async function verifyInBrowser(vkB64: string, proof: unknown, publicSignals: unknown): Promise<Verdict> {
  const t0 = performance.now();
  try {
    const vk = vkJsonFromChain(vkB64);
    const p = proofToSnarkjs(proofFromSnarkjs(proof));
    const signals = publicSignalsFromSnarkjs(publicSignals).map(String);
    if (signals.length !== (vk.IC as unknown[]).length - 1) {
      return { valid: false, reason: `the circuit has ${(vk.IC as unknown[]).length - 1} public signals, got ${signals.length}`, ms: performance.now() - t0 };
    }
    const snarkjs = await loadSnarkjs();
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    const ok = await snarkjs.groth16.verify(vk, signals, p, silent);
    return { valid: ok, reason: ok ? 'the pairing check holds' : 'the pairing check fails: this proof does not prove these public signals', ms: performance.now() - t0 };
  } catch (e) {
    const reason = e instanceof ZkError ? `malformed: ${e.message}` : (e as Error).message;
    return { valid: false, reason, ms: performance.now() - t0 };
  }
}
