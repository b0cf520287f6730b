/**
 * Native Groth16 (BN254) verifier for the state machine, on mcl-wasm (curve BN_SNARK1).
 *
 * `await initZk()` once at start-up; everything else is synchronous, pure and deterministic (single-threaded
 * WebAssembly, no randomness: batch coefficients are derived from a hash of the batch). Never calls snarkjs.
 *
 * Verification equation (snarkjs convention):  e(A, B) = e(alpha, beta) * e(vk_x, gamma) * e(C, delta),
 * with vk_x = IC[0] + sum_j s_j * IC[j+1] over the public signals s.
 *
 * Batch (k proofs, one VK), with 128-bit coefficients r_i derived from sha256 of the encoded batch:
 *   prod_i e(-r_i A_i, B_i) * e((sum r_i) alpha, beta) * e(sum_i r_i vk_x_i, gamma) * e(sum_i r_i C_i, delta) == 1
 * computed as one multi-Miller loop over the k (A, B) pairs, three Miller loops over precomputed lines for the fixed
 * beta, gamma, delta, and ONE final exponentiation. sum_i r_i vk_x_i is a single multi-scalar multiplication over IC
 * with scalars (sum r_i, sum r_i s_i1, ...). Items failing the cheap checks (structure, curve, G2 subgroup, input
 * range and count) are false and excluded up front; if the combined check fails the invalid items are found by
 * bisection (see bisect), so one bad proof never spoils the valid ones.
 */
import { createHash } from 'node:crypto';
import * as mcl from 'mcl-wasm';
import mclCore from 'mcl-wasm/dist/mcl.js';
import {
  P,
  R,
  ZkError,
  type G1,
  type G2,
  type Groth16Proof,
  type Groth16VerifyingKey,
  type ZkErrorReason,
  decodeProof,
  decodePublicSignals,
  encodeProof,
  encodePublicSignals,
  encodeVerifyingKey,
  isG1Infinity,
  isG2Infinity,
  isOnCurveG2,
  validateProof,
  validateVerifyingKey,
} from './groth16.js';

let initialized: Promise<void> | undefined;
let ready = false;

/** Loads the WebAssembly module and selects BN_SNARK1 (idempotent; safe to call concurrently). */
export async function initZk(): Promise<void> {
  if (!initialized) {
    initialized = (async () => {
      await mcl.init(mcl.BN_SNARK1);
      // We check G2 subgroup membership explicitly (g2InSubgroup / isValidOrder) so we can tell why a point was refused.
      mcl.verifyOrderG2(false);
      mcl.verifyOrderG1(false); // G1 of BN254 has cofactor 1: on the curve means in the group.
      ready = true;
    })();
  }
  return initialized;
}

function requireReady(): void {
  if (!ready) throw new ZkError('not-initialized', 'call `await initZk()` before using the verifier');
}

// ---------------------------------------------------------------------------------------------
// mcl conversions

const hex = (v: bigint): string => v.toString(16);

function toMclG1(p: G1): mcl.G1 {
  const q = new mcl.G1();
  if (isG1Infinity(p)) q.clear();
  else q.setStr(`1 ${hex(p.x)} ${hex(p.y)}`, 16);
  return q;
}

/** mcl's string order for G2 is "1 x.c0 x.c1 y.c0 y.c1", the same as ours and snarkjs'. */
function toMclG2(p: G2): mcl.G2 {
  const q = new mcl.G2();
  if (isG2Infinity(p)) q.clear();
  else q.setStr(`1 ${hex(p.x[0])} ${hex(p.x[1])} ${hex(p.y[0])} ${hex(p.y[1])}`, 16);
  return q;
}

function toFr(v: bigint): mcl.Fr {
  const f = new mcl.Fr();
  f.setStr(hex(v), 16);
  return f;
}

/** Internal buffer of an mcl value (mcl-wasm keeps each value in a Uint32Array `a_`). */
const raw = (v: mcl.G1 | mcl.G2 | mcl.GT): Uint32Array => (v as unknown as { a_: Uint32Array }).a_;

interface McModule {
  HEAP32: Int32Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _mclBn_millerLoopVec(z: number, x: number, y: number, n: number): void;
  _mclBnG2_dbl(y: number, x: number): void;
  _mclBnG2_add(z: number, x: number, y: number): void;
}
const mclMod = (): McModule => (mclCore as unknown as { mod: McModule }).mod;

/** prod_i millerLoop(ps[i], qs[i]) with shared squarings (mclBn_millerLoopVec; not wrapped by mcl-wasm). */
function millerLoopVec(ps: mcl.G1[], qs: mcl.G2[]): mcl.GT {
  const m = mclMod();
  const n = ps.length;
  const z = new mcl.GT();
  const zBuf = raw(z);
  const g1Size = raw(ps[0]).length * 4;
  const g2Size = raw(qs[0]).length * 4;
  const xp = m._malloc(g1Size * n);
  const yp = m._malloc(g2Size * n);
  const zp = m._malloc(zBuf.length * 4);
  try {
    for (let i = 0; i < n; i++) {
      m.HEAP32.set(raw(ps[i]), (xp + g1Size * i) >> 2);
      m.HEAP32.set(raw(qs[i]), (yp + g2Size * i) >> 2);
    }
    m._mclBn_millerLoopVec(zp, xp, yp, n);
    // HEAP32 may have been replaced if memory grew during the call: read it again.
    zBuf.set(mclMod().HEAP32.subarray(zp >> 2, (zp >> 2) + zBuf.length));
  } finally {
    m._free(xp);
    m._free(yp);
    m._free(zp);
  }
  return z;
}

// ---------------------------------------------------------------------------------------------
// G2 subgroup membership (Dai, Lin, Zhao, Zhou, "Fast subgroup membership testings for G1, G2 and GT on
// pairing-friendly curves", eprint 2022/348): for BN254 with seed x = 4965661367192848881 (x mod 13 != 4,
// x mod 97 != 92), Q on the twist is in the order-r subgroup iff
//     [x+1]Q + psi([x]Q) + psi^2([x]Q) == psi^3([2x]Q),
// where psi(X, Y, Z) = (conj(X) * xi^((p-1)/3), conj(Y) * xi^((p-1)/2), conj(Z)), xi = 9 + u, is the
// untwist-Frobenius-twist endomorphism (valid on Jacobian and projective coordinates alike, since conj is a field
// automorphism). [x]Q is computed by plain double-and-add with mcl's generic group law inside WebAssembly — never
// with mcl's scalar multiplication, whose endomorphism-based speed-ups are only valid inside the subgroup.
// About twice as fast as mcl's isValidOrder (a multiplication by r); tests cross-check the two.

const BN_SEED = 4965661367192848881n;
const BN_SEED_BITS = BN_SEED.toString(2);
let psiX: mcl.Fp2 | undefined;
let psiY: mcl.Fp2 | undefined;

function fp2PowBig(a: [bigint, bigint], e: bigint): [bigint, bigint] {
  const m = (v: bigint) => ((v % P) + P) % P;
  const mul = (x: [bigint, bigint], y: [bigint, bigint]): [bigint, bigint] => [m(x[0] * y[0] - x[1] * y[1]), m(x[0] * y[1] + x[1] * y[0])];
  let r: [bigint, bigint] = [1n, 0n];
  let b = a;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = mul(r, b);
    b = mul(b, b);
  }
  return r;
}

function psiConstants(): [mcl.Fp2, mcl.Fp2] {
  if (!psiX || !psiY) {
    const c0 = fp2PowBig([9n, 1n], (P - 1n) / 3n);
    const c1 = fp2PowBig([9n, 1n], (P - 1n) / 2n);
    psiX = new mcl.Fp2();
    psiX.setStr(`${c0[0].toString(16)} ${c0[1].toString(16)}`, 16);
    psiY = new mcl.Fp2();
    psiY.setStr(`${c1[0].toString(16)} ${c1[1].toString(16)}`, 16);
  }
  return [psiX, psiY];
}

function conj(a: mcl.Fp2): mcl.Fp2 {
  const r = a.clone();
  r.set_b(mcl.neg(a.get_b()));
  return r;
}

function psi(q: mcl.G2): mcl.G2 {
  const [cx, cy] = psiConstants();
  const r = new mcl.G2();
  r.setX(mcl.mul(conj(q.getX()), cx));
  r.setY(mcl.mul(conj(q.getY()), cy));
  r.setZ(conj(q.getZ()));
  return r;
}

/** [BN_SEED]Q by double-and-add (generic group law, correct for any point of the twist). */
function mulBySeed(q: mcl.G2): mcl.G2 {
  const m = mclMod();
  const buf = raw(q);
  const size = buf.length * 4;
  const qp = m._malloc(size);
  const ap = m._malloc(size);
  try {
    m.HEAP32.set(buf, qp >> 2);
    m.HEAP32.set(buf, ap >> 2); // the seed's top bit is 1
    for (let i = 1; i < BN_SEED_BITS.length; i++) {
      m._mclBnG2_dbl(ap, ap);
      if (BN_SEED_BITS.charCodeAt(i) === 49 /* '1' */) m._mclBnG2_add(ap, ap, qp);
    }
    const out = new mcl.G2();
    raw(out).set(mclMod().HEAP32.subarray(ap >> 2, (ap >> 2) + raw(out).length));
    return out;
  } finally {
    m._free(qp);
    m._free(ap);
  }
}

/** True iff the mcl G2 point (already known to be on the twist) lies in the order-r subgroup. */
function g2InSubgroup(q: mcl.G2): boolean {
  if (q.isZero()) return true;
  const xq = mulBySeed(q);
  const lhs = mcl.add(mcl.add(mcl.add(xq, q), psi(xq)), psi(psi(xq)));
  const rhs = psi(psi(psi(mcl.dbl(xq))));
  return lhs.isEqual(rhs);
}

/**
 * Subgroup test for a G2 point given as coordinates (fast endomorphism test above). Returns false for points not on
 * the twist. Exported for tests and for callers validating keys; needs initZk().
 */
export function isInG2Subgroup(p: G2): boolean {
  requireReady();
  if (!isOnCurveG2(p)) return false;
  return g2InSubgroup(toMclG2(p));
}

// ---------------------------------------------------------------------------------------------
// Prepared verifying key

const precomputedRegistry = new FinalizationRegistry<mcl.PrecomputedG2[]>((pres) => {
  for (const p of pres) p.destroy();
});

export class PreparedVk {
  /** The verifying key as given (validated). */
  readonly vk: Groth16VerifyingKey;
  /** Number of public signals a proof must come with (vk.ic.length - 1). */
  readonly nPublic: number;
  /** sha256 of encodeVerifyingKey(vk); binds batch coefficients to the key. */
  readonly digest: Uint8Array;
  /** @internal */ readonly alpha: mcl.G1;
  /** @internal */ readonly ic: mcl.G1[];
  /** @internal */ readonly betaPre: mcl.PrecomputedG2;
  /** @internal */ readonly gammaPre: mcl.PrecomputedG2;
  /** @internal */ readonly deltaPre: mcl.PrecomputedG2;
  /** @internal e(alpha, beta) */ readonly alphaBeta: mcl.GT;

  /** @internal use prepareVerifyingKey */
  constructor(vk: Groth16VerifyingKey) {
    this.vk = vk;
    this.nPublic = vk.ic.length - 1;
    this.digest = createHash('sha256').update(encodeVerifyingKey(vk)).digest();
    this.alpha = toMclG1(vk.alpha);
    this.ic = vk.ic.map(toMclG1);
    const beta = toMclG2(vk.beta);
    const gamma = toMclG2(vk.gamma);
    const delta = toMclG2(vk.delta);
    this.betaPre = new mcl.PrecomputedG2(beta);
    this.gammaPre = new mcl.PrecomputedG2(gamma);
    this.deltaPre = new mcl.PrecomputedG2(delta);
    this.alphaBeta = mcl.pairing(this.alpha, beta);
    precomputedRegistry.register(this, [this.betaPre, this.gammaPre, this.deltaPre]);
  }
}

/**
 * Validates a verifying key (ranges, curves, G2 subgroup, no identity among alpha/beta/gamma/delta) and precomputes
 * the Miller-loop lines of beta, gamma, delta and e(alpha, beta). Throws ZkError.
 */
export function prepareVerifyingKey(vk: Groth16VerifyingKey): PreparedVk {
  requireReady();
  validateVerifyingKey(vk);
  if (isG1Infinity(vk.alpha) || isG2Infinity(vk.beta) || isG2Infinity(vk.gamma) || isG2Infinity(vk.delta)) {
    // With gamma or delta the identity the public inputs (or C) would not be bound at all.
    throw new ZkError('malformed', 'verifying key: alpha, beta, gamma and delta must not be the identity');
  }
  for (const [name, p] of [['beta', vk.beta], ['gamma', vk.gamma], ['delta', vk.delta]] as const) {
    if (!toMclG2(p).isValidOrder()) throw new ZkError('not-in-subgroup', `vk.${name} is not in the order-r subgroup`);
  }
  return new PreparedVk(vk);
}

// ---------------------------------------------------------------------------------------------
// Per-item checks

interface Checked {
  a: mcl.G1;
  b: mcl.G2;
  c: mcl.G1;
  signals: bigint[];
  encoded: Uint8Array; // proof (256 bytes) || public signals (32 bytes each)
}

type CheckResult = { ok: true; item: Checked } | { ok: false; reason: ZkErrorReason };

function isBigintArray(v: unknown): v is bigint[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'bigint');
}

/** Everything but the pairing equation. Never throws. */
function checkItem(vk: PreparedVk, proof: Groth16Proof, publicSignals: bigint[]): CheckResult {
  try {
    if (typeof proof !== 'object' || proof === null) return { ok: false, reason: 'malformed' };
    if (!isBigintArray(publicSignals)) return { ok: false, reason: 'malformed' };
    if (publicSignals.length !== vk.nPublic) return { ok: false, reason: 'wrong-input-count' };
    for (const s of publicSignals) if (s < 0n || s >= R) return { ok: false, reason: 'input-out-of-range' };
    validateProof(proof); // structure, coordinates in [0, p), curve equations (throws ZkError)
    const { a, b, c } = proof;
    const mb = toMclG2(b);
    if (!g2InSubgroup(mb)) return { ok: false, reason: 'not-in-subgroup' };
    const encProof = encodeProof(proof);
    const encSignals = encodePublicSignals(publicSignals);
    const encoded = new Uint8Array(encProof.length + encSignals.length);
    encoded.set(encProof, 0);
    encoded.set(encSignals, encProof.length);
    return { ok: true, item: { a: toMclG1(a), b: mb, c: toMclG1(c), signals: publicSignals.slice(), encoded } };
  } catch (e) {
    return { ok: false, reason: e instanceof ZkError ? e.reason : 'malformed' };
  }
}

function vkX(vk: PreparedVk, signals: readonly bigint[]): mcl.G1 {
  if (signals.length === 0) return vk.ic[0];
  return mcl.mulVec(vk.ic, [toFr(1n), ...signals.map(toFr)]);
}

/** Pairing equations evaluated (one final exponentiation each), single and combined: tests and benchmarks read it. */
export const pairingStats = { singleChecks: 0, combinedChecks: 0 };

/** The pairing equation for one checked item: e(A,B) e(-vk_x,gamma) e(-C,delta) == e(alpha,beta). */
function pairingCheckOne(vk: PreparedVk, it: Checked): boolean {
  pairingStats.singleChecks++;
  const fixed = mcl.precomputedMillerLoop2(mcl.neg(vkX(vk, it.signals)), vk.gammaPre, mcl.neg(it.c), vk.deltaPre);
  const f = mcl.mul(mcl.millerLoop(it.a, it.b), fixed);
  return mcl.finalExp(f).isEqual(vk.alphaBeta);
}

export type VerifyFailure = ZkErrorReason | 'pairing-check-failed';

/** Like verifyOne, but says why a proof was refused. Never throws. */
export function verifyDetailed(vk: PreparedVk, proof: Groth16Proof, publicSignals: bigint[]): { ok: true } | { ok: false; reason: VerifyFailure } {
  if (!(vk instanceof PreparedVk)) return { ok: false, reason: 'malformed' };
  const r = checkItem(vk, proof, publicSignals);
  if (!r.ok) return r;
  try {
    return pairingCheckOne(vk, r.item) ? { ok: true } : { ok: false, reason: 'pairing-check-failed' };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

/** Full Groth16 check of one proof (structure, curve, subgroup, inputs, pairing). Never throws. */
export function verifyOne(vk: PreparedVk, proof: Groth16Proof, publicSignals: bigint[]): boolean {
  return verifyDetailed(vk, proof, publicSignals).ok;
}

// ---------------------------------------------------------------------------------------------
// Batch

const BATCH_DOMAIN = new TextEncoder().encode('proofbook/groth16-batch/v1');

/**
 * Deterministic 128-bit coefficients: seed = sha256(domain || vk digest || u32 n || (u32 len || item)...),
 * r_i = first 16 bytes of sha256(seed || u32 i), with the top bit forced so r_i is never 0.
 */
export function batchCoefficients(vkDigest: Uint8Array, encodedItems: readonly Uint8Array[]): bigint[] {
  const h = createHash('sha256').update(BATCH_DOMAIN).update(vkDigest);
  const u32 = (n: number): Uint8Array => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, false);
    return b;
  };
  h.update(u32(encodedItems.length));
  for (const e of encodedItems) h.update(u32(e.length)).update(e);
  const seed = h.digest();
  return encodedItems.map((_, i) => {
    const d = createHash('sha256').update(seed).update(u32(i)).digest();
    let r = 0n;
    for (let j = 0; j < 16; j++) r = (r << 8n) | BigInt(d[j]);
    return r | (1n << 127n);
  });
}

function combinedCheck(vk: PreparedVk, items: Checked[]): boolean {
  pairingStats.combinedChecks++;
  const coeffs = batchCoefficients(vk.digest, items.map((it) => it.encoded));
  const negA: mcl.G1[] = [];
  const bs: mcl.G2[] = [];
  const rFr: mcl.Fr[] = [];
  // Scalars for IC: (sum r_i, sum r_i s_i1, ..., sum r_i s_in) mod r.
  const icScalars: bigint[] = new Array<bigint>(vk.nPublic + 1).fill(0n);
  items.forEach((it, i) => {
    const r = coeffs[i];
    const rf = toFr(r);
    rFr.push(rf);
    negA.push(mcl.neg(mcl.mul(it.a, rf)));
    bs.push(it.b);
    icScalars[0] += r;
    for (let j = 0; j < vk.nPublic; j++) icScalars[j + 1] += r * it.signals[j];
  });
  const icFr = icScalars.map((s) => toFr(s % R));
  const alphaAgg = mcl.mul(vk.alpha, icFr[0]);
  const vkxAgg = mcl.mulVec(vk.ic, icFr);
  const cAgg = mcl.mulVec(
    items.map((it) => it.c),
    rFr,
  );
  let f = millerLoopVec(negA, bs);
  f = mcl.mul(f, mcl.precomputedMillerLoop(alphaAgg, vk.betaPre));
  f = mcl.mul(f, mcl.precomputedMillerLoop2(vkxAgg, vk.gammaPre, cAgg, vk.deltaPre));
  return mcl.finalExp(f).isOne();
}

/**
 * Verifies many proofs for one verifying key. result[i] is true iff item i is a valid proof for its public signals.
 * Never throws; invalid items (malformed, off-curve, outside the subgroup, bad inputs) are false and do not affect
 * the others.
 */
export function verifyBatch(vk: PreparedVk, items: { proof: Groth16Proof; publicSignals: bigint[] }[]): boolean[] {
  if (!Array.isArray(items)) return [];
  if (!(vk instanceof PreparedVk)) return items.map(() => false);
  const results: boolean[] = new Array<boolean>(items.length).fill(false);
  const idx: number[] = [];
  const checked: Checked[] = [];
  items.forEach((item, i) => {
    const r = typeof item === 'object' && item !== null ? checkItem(vk, item.proof, item.publicSignals) : ({ ok: false, reason: 'malformed' } as const);
    if (r.ok) {
      idx.push(i);
      checked.push(r.item);
    }
  });
  if (checked.length === 0) return results;
  let allOk = false;
  try {
    allOk = checked.length === 1 ? pairingCheckOne(vk, checked[0]) : combinedCheck(vk, checked);
  } catch {
    allOk = false;
  }
  if (allOk) {
    for (const i of idx) results[i] = true;
    return results;
  }
  if (checked.length === 1) return results;
  // Some item is invalid: find the invalid ones by bisection rather than checking all of them alone.
  bisect(vk, checked, idx, results, true);
  return results;
}

/** Sub-batches at most this large are settled by single checks once known to hold an invalid proof. */
const BISECT_LEAF = 2;

function checkAll(vk: PreparedVk, items: Checked[]): boolean {
  try {
    return items.length === 1 ? pairingCheckOne(vk, items[0]) : combinedCheck(vk, items);
  } catch {
    return false;
  }
}

/**
 * Settles `items` (positions `idx` in `results`), known to contain an invalid proof when `knownBad`. Each half is
 * checked with one combined check (its own coefficients, derived from the half's encoding, so every node computes
 * the same); a half that passes is all valid, and the other half must then hold the invalid proof. When both halves
 * fail the rest is checked proof by proof, so a batch of only invalid proofs costs at most 3 combined checks more
 * than single checks, while one invalid proof in n costs O(log n) combined checks of shrinking size. Deterministic: the split points and coefficients depend only on the
 * items and their order.
 */
function bisect(vk: PreparedVk, items: Checked[], idx: number[], results: boolean[], knownBad: boolean): void {
  if (!knownBad) {
    if (checkAll(vk, items)) {
      for (const i of idx) results[i] = true;
      return;
    }
  }
  if (items.length <= BISECT_LEAF) return singles(vk, items, idx, results);
  const mid = items.length >> 1;
  const left = items.slice(0, mid);
  const leftIdx = idx.slice(0, mid);
  const right = items.slice(mid);
  const rightIdx = idx.slice(mid);
  if (checkAll(vk, left)) {
    for (const i of leftIdx) results[i] = true;
    // The invalid proof is on the right: split it without a combined check of its own.
    return bisect(vk, right, rightIdx, results, true);
  }
  if (checkAll(vk, right)) {
    for (const i of rightIdx) results[i] = true;
    return bisect(vk, left, leftIdx, results, true);
  }
  // Both halves hold invalid proofs: the batch is dense with them, and halving further would cost more combined
  // checks than it saves, so settle both halves one proof at a time (at most 3 checks over the plain singles).
  singles(vk, items, idx, results);
}

function singles(vk: PreparedVk, items: Checked[], idx: number[], results: boolean[]): void {
  items.forEach((it, k) => {
    results[idx[k]] = checkAll(vk, [it]);
  });
}

// ---------------------------------------------------------------------------------------------
// Byte-level entry points (what the state machine holds: transaction fields)

function decodeItem(proof: Uint8Array, publicSignals: Uint8Array): { proof: Groth16Proof; publicSignals: bigint[] } | undefined {
  try {
    return { proof: decodeProof(proof), publicSignals: decodePublicSignals(publicSignals) };
  } catch {
    return undefined;
  }
}

/** verifyOne on canonical bytes (decodeProof / decodePublicSignals); undecodable input is false. Never throws. */
export function verifyEncoded(vk: PreparedVk, proof: Uint8Array, publicSignals: Uint8Array): boolean {
  const item = decodeItem(proof, publicSignals);
  return item !== undefined && verifyOne(vk, item.proof, item.publicSignals);
}

/** verifyBatch on canonical bytes; undecodable items are false and do not affect the others. Never throws. */
export function verifyBatchEncoded(vk: PreparedVk, items: { proof: Uint8Array; publicSignals: Uint8Array }[]): boolean[] {
  if (!Array.isArray(items)) return [];
  const decoded = items.map((it) => (typeof it === 'object' && it !== null ? decodeItem(it.proof, it.publicSignals) : undefined));
  const idx: number[] = [];
  const good: { proof: Groth16Proof; publicSignals: bigint[] }[] = [];
  decoded.forEach((d, i) => {
    if (d) {
      idx.push(i);
      good.push(d);
    }
  });
  const out: boolean[] = new Array<boolean>(items.length).fill(false);
  verifyBatch(vk, good).forEach((ok, k) => {
    out[idx[k]] = ok;
  });
  return out;
}
