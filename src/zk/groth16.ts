/**
 * Groth16 over BN254 (alt_bn128, snarkjs' "bn128"): typed, validated structures and the canonical
 * binary encoding that goes into transactions.
 *
 * Encoding (all integers big-endian, each field element exactly 32 bytes, always fully reduced):
 *   G1  (64 bytes):  x || y.                        The point at infinity is 64 zero bytes.
 *   G2 (128 bytes):  x.c1 || x.c0 || y.c1 || y.c0   (EIP-197 order: the coefficient of u first, where
 *                    Fp2 = Fp[u]/(u^2+1) and x = x.c0 + x.c1*u). The point at infinity is 128 zero bytes.
 *                    In memory (`G2`) and in snarkjs JSON the order is [c0, c1]; only the bytes swap.
 *   proof (256 bytes): A (G1, 64) || B (G2, 128) || C (G1, 64).
 *   verifying key: alpha (G1) || beta (G2) || gamma (G2) || delta (G2) || u32 nIC || IC[0..nIC) (G1 each),
 *                  448 + 4 + 64*nIC bytes, 1 <= nIC <= MAX_PUBLIC_SIGNALS + 1.
 *   public signals: 32 bytes per signal, no length prefix; each value < r.
 *
 * Decoding is strict: exact lengths, coordinates < p, points on their curve (G1: y^2 = x^3 + 3,
 * G2: y^2 = x^3 + 3/(9+u)). G2 subgroup membership is NOT checked here (it needs a scalar
 * multiplication); the verifier (verifier.ts) checks it for every point it uses.
 */

/** Scalar field element; always 0 <= value < R. */
export type Fr = bigint;
export interface G1 {
  x: bigint;
  y: bigint;
}
/** Coordinates in Fp2 as [c0, c1] meaning c0 + c1*u (the snarkjs JSON order). */
export interface G2 {
  x: [bigint, bigint];
  y: [bigint, bigint];
}
export interface Groth16Proof {
  a: G1;
  b: G2;
  c: G1;
}
export interface Groth16VerifyingKey {
  alpha: G1;
  beta: G2;
  gamma: G2;
  delta: G2;
  /** IC[0] plus one point per public signal. */
  ic: G1[];
}

/** Base field modulus p of BN254. */
export const P = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
/** Scalar field modulus r of BN254 (order of G1, G2, GT). */
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export const G1_BYTES = 64;
export const G2_BYTES = 128;
export const PROOF_BYTES = 256;
export const FIELD_BYTES = 32;
/** Upper bound on public signals a verifying key may declare (bounds decoding and verifier work). */
export const MAX_PUBLIC_SIGNALS = 256;
const VK_FIXED_BYTES = G1_BYTES + 3 * G2_BYTES + 4;

export type ZkErrorReason =
  | 'malformed'
  | 'not-on-curve'
  | 'not-in-subgroup'
  | 'input-out-of-range'
  | 'wrong-input-count'
  | 'not-initialized';

export class ZkError extends Error {
  readonly reason: ZkErrorReason;
  constructor(reason: ZkErrorReason, message: string) {
    super(`${reason}: ${message}`);
    this.name = 'ZkError';
    this.reason = reason;
  }
}

// ---------------------------------------------------------------------------------------------
// Field arithmetic (bigint, only for validation; the verifier does the heavy lifting in mcl).

const mod = (a: bigint): bigint => {
  const m = a % P;
  return m < 0n ? m + P : m;
};

function powMod(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

type Fp2 = [bigint, bigint];
const fp2Mul = (a: Fp2, b: Fp2): Fp2 => [mod(a[0] * b[0] - a[1] * b[1]), mod(a[0] * b[1] + a[1] * b[0])];
const fp2Add = (a: Fp2, b: Fp2): Fp2 => [mod(a[0] + b[0]), mod(a[1] + b[1])];
const fp2Eq = (a: Fp2, b: Fp2): boolean => a[0] === b[0] && a[1] === b[1];

/** Twist coefficient b' = 3 / (9 + u) = 3 * (9 - u) / 82. */
const INV82 = powMod(82n, P - 2n);
const TWIST_B: Fp2 = [mod(27n * INV82), mod(-3n * INV82)];

export function isG1Infinity(p: G1): boolean {
  return p.x === 0n && p.y === 0n;
}
export function isG2Infinity(p: G2): boolean {
  return p.x[0] === 0n && p.x[1] === 0n && p.y[0] === 0n && p.y[1] === 0n;
}

const inField = (v: unknown): v is bigint => typeof v === 'bigint' && v >= 0n && v < P;

/** True when the point is well-formed (coordinates < p) and on y^2 = x^3 + 3, or is the infinity encoding. */
export function isOnCurveG1(p: G1): boolean {
  if (!inField(p.x) || !inField(p.y)) return false;
  if (isG1Infinity(p)) return true;
  return (p.y * p.y) % P === (((p.x * p.x) % P) * p.x + 3n) % P;
}

/** True when the point is well-formed and on the twist y^2 = x^3 + 3/(9+u), or is the infinity encoding. */
export function isOnCurveG2(p: G2): boolean {
  if (!Array.isArray(p.x) || !Array.isArray(p.y) || p.x.length !== 2 || p.y.length !== 2) return false;
  if (!inField(p.x[0]) || !inField(p.x[1]) || !inField(p.y[0]) || !inField(p.y[1])) return false;
  if (isG2Infinity(p)) return true;
  const y2 = fp2Mul(p.y, p.y);
  const x3 = fp2Mul(fp2Mul(p.x, p.x), p.x);
  return fp2Eq(y2, fp2Add(x3, TWIST_B));
}

export function assertG1(p: G1, what: string): void {
  if (typeof p !== 'object' || p === null) throw new ZkError('malformed', `${what}: not a G1 point`);
  if (!inField(p.x) || !inField(p.y)) throw new ZkError('malformed', `${what}: coordinate not in [0, p)`);
  if (!isOnCurveG1(p)) throw new ZkError('not-on-curve', `${what}: G1 point not on the curve`);
}

export function assertG2(p: G2, what: string): void {
  if (typeof p !== 'object' || p === null || !Array.isArray(p.x) || !Array.isArray(p.y) || p.x.length !== 2 || p.y.length !== 2) {
    throw new ZkError('malformed', `${what}: not a G2 point`);
  }
  if (!inField(p.x[0]) || !inField(p.x[1]) || !inField(p.y[0]) || !inField(p.y[1])) {
    throw new ZkError('malformed', `${what}: coordinate not in [0, p)`);
  }
  if (!isOnCurveG2(p)) throw new ZkError('not-on-curve', `${what}: G2 point not on the twist curve`);
}

/** Checks structure, ranges and curve equations (not G2 subgroup membership). Throws ZkError. */
export function validateProof(p: Groth16Proof): void {
  if (typeof p !== 'object' || p === null) throw new ZkError('malformed', 'proof is not an object');
  assertG1(p.a, 'proof.a');
  assertG2(p.b, 'proof.b');
  assertG1(p.c, 'proof.c');
}

/** Checks structure, ranges, curve equations and IC length (not G2 subgroup membership). Throws ZkError. */
export function validateVerifyingKey(vk: Groth16VerifyingKey): void {
  if (typeof vk !== 'object' || vk === null) throw new ZkError('malformed', 'verifying key is not an object');
  assertG1(vk.alpha, 'vk.alpha');
  assertG2(vk.beta, 'vk.beta');
  assertG2(vk.gamma, 'vk.gamma');
  assertG2(vk.delta, 'vk.delta');
  if (!Array.isArray(vk.ic) || vk.ic.length < 1 || vk.ic.length > MAX_PUBLIC_SIGNALS + 1) {
    throw new ZkError('malformed', `vk.ic must hold 1..${MAX_PUBLIC_SIGNALS + 1} points`);
  }
  vk.ic.forEach((p, i) => assertG1(p, `vk.ic[${i}]`));
}

export function validatePublicSignals(s: readonly bigint[]): void {
  if (!Array.isArray(s)) throw new ZkError('malformed', 'public signals must be an array');
  s.forEach((v, i) => {
    if (typeof v !== 'bigint') throw new ZkError('malformed', `public signal ${i} is not a bigint`);
    if (v < 0n || v >= R) throw new ZkError('input-out-of-range', `public signal ${i} is not in [0, r)`);
  });
}

// ---------------------------------------------------------------------------------------------
// snarkjs JSON

const DECIMAL = /^(0|[1-9][0-9]{0,79})$/;

function parseDec(v: unknown, what: string): bigint {
  if (typeof v !== 'string' || !DECIMAL.test(v)) throw new ZkError('malformed', `${what}: expected a canonical decimal string`);
  return BigInt(v);
}

function parseCoord(v: unknown, what: string): bigint {
  const n = parseDec(v, what);
  if (n >= P) throw new ZkError('malformed', `${what}: coordinate not in [0, p)`);
  return n;
}

function g1FromJson(v: unknown, what: string): G1 {
  if (!Array.isArray(v) || v.length !== 3) throw new ZkError('malformed', `${what}: expected [x, y, z]`);
  const z = parseDec(v[2], `${what}.z`);
  let p: G1;
  if (z === 0n) {
    // snarkjs writes the point at infinity as ["0", "1", "0"].
    if (parseDec(v[0], `${what}.x`) !== 0n || parseDec(v[1], `${what}.y`) !== 1n) {
      throw new ZkError('malformed', `${what}: bad encoding of the point at infinity`);
    }
    p = { x: 0n, y: 0n };
  } else if (z === 1n) {
    p = { x: parseCoord(v[0], `${what}.x`), y: parseCoord(v[1], `${what}.y`) };
    if (isG1Infinity(p)) throw new ZkError('not-on-curve', `${what}: (0, 0) is not on the curve`);
  } else {
    throw new ZkError('malformed', `${what}: expected affine coordinates (z = 1)`);
  }
  assertG1(p, what);
  return p;
}

function fp2FromJson(v: unknown, what: string): [bigint, bigint] {
  if (!Array.isArray(v) || v.length !== 2) throw new ZkError('malformed', `${what}: expected [c0, c1]`);
  return [parseCoord(v[0], `${what}[0]`), parseCoord(v[1], `${what}[1]`)];
}

function g2FromJson(v: unknown, what: string): G2 {
  if (!Array.isArray(v) || v.length !== 3) throw new ZkError('malformed', `${what}: expected [x, y, z]`);
  const z = fp2FromJson(v[2], `${what}.z`);
  let p: G2;
  if (z[0] === 0n && z[1] === 0n) {
    const x = fp2FromJson(v[0], `${what}.x`);
    const y = fp2FromJson(v[1], `${what}.y`);
    if (x[0] !== 0n || x[1] !== 0n || y[0] !== 1n || y[1] !== 0n) {
      throw new ZkError('malformed', `${what}: bad encoding of the point at infinity`);
    }
    p = { x: [0n, 0n], y: [0n, 0n] };
  } else if (z[0] === 1n && z[1] === 0n) {
    p = { x: fp2FromJson(v[0], `${what}.x`), y: fp2FromJson(v[1], `${what}.y`) };
    if (isG2Infinity(p)) throw new ZkError('not-on-curve', `${what}: (0, 0) is not on the curve`);
  } else {
    throw new ZkError('malformed', `${what}: expected affine coordinates (z = [1, 0])`);
  }
  assertG2(p, what);
  return p;
}

function asRecord(json: unknown, what: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ZkError('malformed', `${what} is not an object`);
  return json as Record<string, unknown>;
}

function checkProtocol(o: Record<string, unknown>, what: string): void {
  if (o.protocol !== undefined && o.protocol !== 'groth16') throw new ZkError('malformed', `${what}: protocol is not groth16`);
  if (o.curve !== undefined && o.curve !== 'bn128' && o.curve !== 'bn254') throw new ZkError('malformed', `${what}: curve is not bn128`);
}

/** Parses snarkjs' proof.json ({pi_a, pi_b, pi_c, protocol, curve}). Throws ZkError. */
export function proofFromSnarkjs(json: unknown): Groth16Proof {
  const o = asRecord(json, 'proof');
  checkProtocol(o, 'proof');
  return { a: g1FromJson(o.pi_a, 'pi_a'), b: g2FromJson(o.pi_b, 'pi_b'), c: g1FromJson(o.pi_c, 'pi_c') };
}

/** Parses snarkjs' verification_key.json (vk_alpha_1, vk_beta_2, vk_gamma_2, vk_delta_2, IC, nPublic). Throws ZkError. */
export function verifyingKeyFromSnarkjs(json: unknown): Groth16VerifyingKey {
  const o = asRecord(json, 'verification key');
  checkProtocol(o, 'verification key');
  if (!Array.isArray(o.IC)) throw new ZkError('malformed', 'verification key: IC is not an array');
  if (o.IC.length < 1 || o.IC.length > MAX_PUBLIC_SIGNALS + 1) throw new ZkError('malformed', 'verification key: bad IC length');
  if (o.nPublic !== undefined && o.nPublic !== o.IC.length - 1) {
    throw new ZkError('malformed', 'verification key: nPublic does not match IC length');
  }
  return {
    alpha: g1FromJson(o.vk_alpha_1, 'vk_alpha_1'),
    beta: g2FromJson(o.vk_beta_2, 'vk_beta_2'),
    gamma: g2FromJson(o.vk_gamma_2, 'vk_gamma_2'),
    delta: g2FromJson(o.vk_delta_2, 'vk_delta_2'),
    ic: o.IC.map((p, i) => g1FromJson(p, `IC[${i}]`)),
  };
}

/** Parses snarkjs' public.json (array of decimal strings). Throws ZkError ('input-out-of-range' for values >= r). */
export function publicSignalsFromSnarkjs(json: unknown): bigint[] {
  if (!Array.isArray(json)) throw new ZkError('malformed', 'public signals: expected an array');
  if (json.length > MAX_PUBLIC_SIGNALS) throw new ZkError('malformed', 'public signals: too many');
  const out = json.map((v, i) => parseDec(v, `public signal ${i}`));
  validatePublicSignals(out);
  return out;
}

const g1ToJson = (p: G1): string[] => (isG1Infinity(p) ? ['0', '1', '0'] : [p.x.toString(), p.y.toString(), '1']);
const g2ToJson = (p: G2): string[][] =>
  isG2Infinity(p)
    ? [['0', '0'], ['1', '0'], ['0', '0']]
    : [[p.x[0].toString(), p.x[1].toString()], [p.y[0].toString(), p.y[1].toString()], ['1', '0']];

/** snarkjs proof.json shape (for handing our structures back to snarkjs, e.g. in tests). */
export function proofToSnarkjs(p: Groth16Proof): { pi_a: string[]; pi_b: string[][]; pi_c: string[]; protocol: 'groth16'; curve: 'bn128' } {
  return { pi_a: g1ToJson(p.a), pi_b: g2ToJson(p.b), pi_c: g1ToJson(p.c), protocol: 'groth16', curve: 'bn128' };
}

/** snarkjs verification_key.json shape (without vk_alphabeta_12, which snarkjs' verify does not need). */
export function verifyingKeyToSnarkjs(vk: Groth16VerifyingKey): Record<string, unknown> {
  return {
    protocol: 'groth16',
    curve: 'bn128',
    nPublic: vk.ic.length - 1,
    vk_alpha_1: g1ToJson(vk.alpha),
    vk_beta_2: g2ToJson(vk.beta),
    vk_gamma_2: g2ToJson(vk.gamma),
    vk_delta_2: g2ToJson(vk.delta),
    IC: vk.ic.map(g1ToJson),
  };
}

// ---------------------------------------------------------------------------------------------
// Binary encoding

function writeField(out: Uint8Array, offset: number, v: bigint): void {
  let x = v;
  for (let i = FIELD_BYTES - 1; i >= 0; i--) {
    out[offset + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

function readField(b: Uint8Array, offset: number): bigint {
  let x = 0n;
  for (let i = 0; i < FIELD_BYTES; i++) x = (x << 8n) | BigInt(b[offset + i]);
  return x;
}

function readCoord(b: Uint8Array, offset: number, what: string): bigint {
  const v = readField(b, offset);
  if (v >= P) throw new ZkError('malformed', `${what}: coordinate not in [0, p)`);
  return v;
}

function writeG1(out: Uint8Array, offset: number, p: G1, what: string): void {
  assertG1(p, what);
  writeField(out, offset, p.x);
  writeField(out, offset + 32, p.y);
}

function readG1(b: Uint8Array, offset: number, what: string): G1 {
  const p = { x: readCoord(b, offset, `${what}.x`), y: readCoord(b, offset + 32, `${what}.y`) };
  assertG1(p, what);
  return p;
}

function writeG2(out: Uint8Array, offset: number, p: G2, what: string): void {
  assertG2(p, what);
  writeField(out, offset, p.x[1]);
  writeField(out, offset + 32, p.x[0]);
  writeField(out, offset + 64, p.y[1]);
  writeField(out, offset + 96, p.y[0]);
}

function readG2(b: Uint8Array, offset: number, what: string): G2 {
  const x1 = readCoord(b, offset, `${what}.x.c1`);
  const x0 = readCoord(b, offset + 32, `${what}.x.c0`);
  const y1 = readCoord(b, offset + 64, `${what}.y.c1`);
  const y0 = readCoord(b, offset + 96, `${what}.y.c0`);
  const p: G2 = { x: [x0, x1], y: [y0, y1] };
  assertG2(p, what);
  return p;
}

function asBytes(b: unknown, what: string): Uint8Array {
  if (!(b instanceof Uint8Array)) throw new ZkError('malformed', `${what}: expected a Uint8Array`);
  return b;
}

/** 256 bytes: A || B || C (see the module comment for the point layout). Throws ZkError on invalid points. */
export function encodeProof(p: Groth16Proof): Uint8Array {
  if (typeof p !== 'object' || p === null) throw new ZkError('malformed', 'proof is not an object');
  const out = new Uint8Array(PROOF_BYTES);
  writeG1(out, 0, p.a, 'proof.a');
  writeG2(out, 64, p.b, 'proof.b');
  writeG1(out, 192, p.c, 'proof.c');
  return out;
}

export function decodeProof(bytes: Uint8Array): Groth16Proof {
  const b = asBytes(bytes, 'proof');
  if (b.length !== PROOF_BYTES) throw new ZkError('malformed', `proof: expected ${PROOF_BYTES} bytes, got ${b.length}`);
  return { a: readG1(b, 0, 'proof.a'), b: readG2(b, 64, 'proof.b'), c: readG1(b, 192, 'proof.c') };
}

export function encodeVerifyingKey(vk: Groth16VerifyingKey): Uint8Array {
  validateVerifyingKey(vk);
  const out = new Uint8Array(VK_FIXED_BYTES + G1_BYTES * vk.ic.length);
  writeG1(out, 0, vk.alpha, 'vk.alpha');
  writeG2(out, 64, vk.beta, 'vk.beta');
  writeG2(out, 192, vk.gamma, 'vk.gamma');
  writeG2(out, 320, vk.delta, 'vk.delta');
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(448, vk.ic.length, false);
  vk.ic.forEach((p, i) => writeG1(out, VK_FIXED_BYTES + G1_BYTES * i, p, `vk.ic[${i}]`));
  return out;
}

export function decodeVerifyingKey(bytes: Uint8Array): Groth16VerifyingKey {
  const b = asBytes(bytes, 'verifying key');
  if (b.length < VK_FIXED_BYTES + G1_BYTES) throw new ZkError('malformed', 'verifying key: too short');
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(448, false);
  if (n < 1 || n > MAX_PUBLIC_SIGNALS + 1) throw new ZkError('malformed', `verifying key: bad IC count ${n}`);
  if (b.length !== VK_FIXED_BYTES + G1_BYTES * n) {
    throw new ZkError('malformed', `verifying key: expected ${VK_FIXED_BYTES + G1_BYTES * n} bytes, got ${b.length}`);
  }
  const ic: G1[] = [];
  for (let i = 0; i < n; i++) ic.push(readG1(b, VK_FIXED_BYTES + G1_BYTES * i, `vk.ic[${i}]`));
  return {
    alpha: readG1(b, 0, 'vk.alpha'),
    beta: readG2(b, 64, 'vk.beta'),
    gamma: readG2(b, 192, 'vk.gamma'),
    delta: readG2(b, 320, 'vk.delta'),
    ic,
  };
}

/** 32 bytes per signal, big-endian, no prefix. Throws ZkError for values outside [0, r). */
export function encodePublicSignals(s: readonly bigint[]): Uint8Array {
  validatePublicSignals(s);
  if (s.length > MAX_PUBLIC_SIGNALS) throw new ZkError('malformed', 'public signals: too many');
  const out = new Uint8Array(FIELD_BYTES * s.length);
  s.forEach((v, i) => writeField(out, FIELD_BYTES * i, v));
  return out;
}

export function decodePublicSignals(bytes: Uint8Array): bigint[] {
  const b = asBytes(bytes, 'public signals');
  if (b.length % FIELD_BYTES !== 0) throw new ZkError('malformed', 'public signals: length is not a multiple of 32');
  const n = b.length / FIELD_BYTES;
  if (n > MAX_PUBLIC_SIGNALS) throw new ZkError('malformed', 'public signals: too many');
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const v = readField(b, FIELD_BYTES * i);
    if (v >= R) throw new ZkError('input-out-of-range', `public signal ${i} is not in [0, r)`);
    out.push(v);
  }
  return out;
}
