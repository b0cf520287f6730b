/**
 * The native Groth16 verifier (src/zk/verifier.ts) against snarkjs, on real proofs of the genesis circuit.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import * as mcl from 'mcl-wasm';
import { P, R, ZkError, encodeProof, encodePublicSignals, isOnCurveG2, proofToSnarkjs, type G1, type G2, type Groth16Proof, type Groth16VerifyingKey } from '../src/zk/groth16.js';
import {
  batchCoefficients,
  initZk,
  isInG2Subgroup,
  prepareVerifyingKey,
  verifyBatch,
  pairingStats,
  verifyBatchEncoded,
  verifyDetailed,
  verifyEncoded,
  verifyOne,
  type PreparedVk,
} from '../src/zk/verifier.js';
import { loadSnarkjs, proveWithSnarkjs, terminateSnarkjs } from '../src/zk/prove.js';
import { GENESIS_CIRCUIT, genesisInput, loadGenesisVerifyingKey } from '../src/zk/genesis.js';

interface Item {
  proof: Groth16Proof;
  publicSignals: bigint[];
}

let vkJson: unknown;
let vkRaw: Groth16VerifyingKey;
let vk: PreparedVk;
const valid: Item[] = [];

test.before(async () => {
  await initZk();
  vkJson = JSON.parse(readFileSync(GENESIS_CIRCUIT.verificationKeyPath, 'utf8'));
  vkRaw = loadGenesisVerifyingKey();
  vk = prepareVerifyingKey(vkRaw);
  for (let i = 0; i < 4; i++) {
    const r = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, genesisInput(7000n + BigInt(i), 100n + BigInt(i)));
    valid.push({ proof: r.proof, publicSignals: r.publicSignals });
  }
});

test.after.always(async () => {
  await terminateSnarkjs();
});

// ---- helpers --------------------------------------------------------------------------------

const parseHex = (s: string): bigint => BigInt('0x' + s);

function fromMclG1(p: mcl.G1): G1 {
  const q = mcl.normalize(p);
  if (q.isZero()) return { x: 0n, y: 0n };
  const [, x, y] = q.getStr(16).split(' ');
  return { x: parseHex(x), y: parseHex(y) };
}

function fromMclG2(p: mcl.G2): G2 {
  const q = mcl.normalize(p);
  if (q.isZero()) return { x: [0n, 0n], y: [0n, 0n] };
  const [, x0, x1, y0, y1] = q.getStr(16).split(' ');
  return { x: [parseHex(x0), parseHex(x1)], y: [parseHex(y0), parseHex(y1)] };
}

function toMclG1(p: G1): mcl.G1 {
  const q = new mcl.G1();
  q.setStr(`1 ${p.x.toString(16)} ${p.y.toString(16)}`, 16);
  return q;
}

function toMclG2(p: G2): mcl.G2 {
  const q = new mcl.G2();
  q.setStr(`1 ${p.x[0].toString(16)} ${p.x[1].toString(16)} ${p.y[0].toString(16)} ${p.y[1].toString(16)}`, 16);
  return q;
}

const negG1 = (p: G1): G1 => ({ x: p.x, y: (P - p.y) % P });
const negG2 = (p: G2): G2 => ({ x: p.x, y: [(P - p.y[0]) % P, (P - p.y[1]) % P] });
const G1_GEN: G1 = { x: 1n, y: 2n };
const addG1 = (a: G1, b: G1): G1 => fromMclG1(mcl.add(toMclG1(a), toMclG1(b)));

/** [k]Q by double-and-add with the generic group law (independent of mcl's scalar multiplication and order check). */
function mulG2ByBig(q: mcl.G2, k: bigint): mcl.G2 {
  let acc = new mcl.G2();
  acc.clear();
  for (const bit of k.toString(2)) {
    acc = mcl.dbl(acc);
    if (bit === '1') acc = mcl.add(acc, q);
  }
  return acc;
}

/**
 * A point on the twist E'(Fp2): y^2 = x^3 + 3/(9+u) that is NOT in the order-r subgroup: the first x = i + u with a
 * square right-hand side gives a point whose order is almost surely a multiple of a cofactor prime. We add a
 * cofactor-torsion component T = [r]Q to a real proof's B, so B' = B + T is on the curve but [r]B' != O.
 */
function twistPointOutsideSubgroup(seed = 1): mcl.G2 {
  const inv82 = modPow(82n, P - 2n);
  const b = new mcl.Fp2();
  b.setStr(`${(27n * inv82) % P} ${(P - ((3n * inv82) % P)) % P}`, 10);
  for (let i = seed; i < seed + 1000; i++) {
    const x = new mcl.Fp2();
    x.setStr(`${i} 1`, 10);
    const rhs = mcl.add(mcl.mul(mcl.mul(x, x), x), b);
    const [ok, y] = mcl.squareRoot(rhs);
    if (!ok) continue;
    const q = new mcl.G2();
    q.setX(x);
    q.setY(y);
    const one = new mcl.Fp2();
    one.setInt(1, 0);
    q.setZ(one);
    return q;
  }
  throw new Error('no twist point found');
}

function modPow(base: bigint, exp: bigint): bigint {
  let r = 1n;
  let b = base % P;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

async function snarkjsVerify(item: { proof: Groth16Proof; publicSignals: bigint[] }): Promise<boolean> {
  const snarkjs = await loadSnarkjs();
  try {
    return await snarkjs.groth16.verify(
      vkJson,
      item.publicSignals.map((s) => s.toString()),
      proofToSnarkjs(item.proof),
    );
  } catch {
    return false; // snarkjs throws on some malformed inputs (e.g. more signals than IC points): a rejection
  }
}

function withSignals(item: Item, signals: bigint[]): Item {
  return { proof: item.proof, publicSignals: signals };
}

// ---- invalid variants (name, build from valid[0], expected reason) -----------------------------

function buildInvalid(): { name: string; item: Item; reason: string; snarkjs: boolean }[] {
  const base = valid[0];
  const [digest, nonce] = base.publicSignals;
  const torsion = mulG2ByBig(twistPointOutsideSubgroup(), R); // [r]Q: nonzero, order divides the cofactor
  const bOutside = fromMclG2(mcl.add(toMclG2(base.proof.b), torsion));
  return [
    { name: 'tampered A (negated)', item: { ...base, proof: { ...base.proof, a: negG1(base.proof.a) } }, reason: 'pairing-check-failed', snarkjs: true },
    { name: 'tampered A (+G)', item: { ...base, proof: { ...base.proof, a: addG1(base.proof.a, G1_GEN) } }, reason: 'pairing-check-failed', snarkjs: true },
    { name: 'tampered B (negated)', item: { ...base, proof: { ...base.proof, b: negG2(base.proof.b) } }, reason: 'pairing-check-failed', snarkjs: true },
    { name: 'tampered C (+G)', item: { ...base, proof: { ...base.proof, c: addG1(base.proof.c, G1_GEN) } }, reason: 'pairing-check-failed', snarkjs: true },
    { name: 'B from another proof', item: { ...base, proof: { ...base.proof, b: valid[1].proof.b } }, reason: 'pairing-check-failed', snarkjs: true },
    { name: 'wrong digest', item: withSignals(base, [digest + 1n, nonce]), reason: 'pairing-check-failed', snarkjs: true },
    { name: 'wrong nonce', item: withSignals(base, [digest, nonce + 1n]), reason: 'pairing-check-failed', snarkjs: true },
    { name: 'signals swapped', item: withSignals(base, [nonce, digest]), reason: 'pairing-check-failed', snarkjs: true },
    { name: 'digest + r (>= r)', item: withSignals(base, [digest + R, nonce]), reason: 'input-out-of-range', snarkjs: true },
    { name: 'nonce = r', item: withSignals(base, [digest, R]), reason: 'input-out-of-range', snarkjs: true },
    { name: 'negative input', item: withSignals(base, [digest, -1n]), reason: 'input-out-of-range', snarkjs: true },
    { name: 'A off curve', item: { ...base, proof: { ...base.proof, a: { x: base.proof.a.x, y: (base.proof.a.y + 1n) % P } } }, reason: 'not-on-curve', snarkjs: true },
    {
      name: 'B off curve',
      item: { ...base, proof: { ...base.proof, b: { x: base.proof.b.x, y: [base.proof.b.y[0], (base.proof.b.y[1] + 1n) % P] } } },
      reason: 'not-on-curve',
      snarkjs: true,
    },
    { name: 'C coordinate >= p', item: { ...base, proof: { ...base.proof, c: { x: base.proof.c.x + P, y: base.proof.c.y } } }, reason: 'malformed', snarkjs: false },
    { name: 'B on twist, outside subgroup', item: { ...base, proof: { ...base.proof, b: bOutside } }, reason: 'not-in-subgroup', snarkjs: true },
    { name: 'A = identity', item: { ...base, proof: { ...base.proof, a: { x: 0n, y: 0n } } }, reason: 'pairing-check-failed', snarkjs: true },
    { name: 'B = identity', item: { ...base, proof: { ...base.proof, b: { x: [0n, 0n], y: [0n, 0n] } } }, reason: 'pairing-check-failed', snarkjs: true },
    { name: 'C = identity', item: { ...base, proof: { ...base.proof, c: { x: 0n, y: 0n } } }, reason: 'pairing-check-failed', snarkjs: true },
    { name: 'too few inputs', item: withSignals(base, [digest]), reason: 'wrong-input-count', snarkjs: true },
    { name: 'too many inputs', item: withSignals(base, [digest, nonce, 0n]), reason: 'wrong-input-count', snarkjs: true },
    { name: 'no inputs', item: withSignals(base, []), reason: 'wrong-input-count', snarkjs: true },
  ];
}

// ---- tests ------------------------------------------------------------------------------------

test('valid genesis proofs verify natively, in a batch, and in snarkjs', async (t) => {
  for (const it of valid) {
    t.true(verifyOne(vk, it.proof, it.publicSignals));
    t.deepEqual(verifyDetailed(vk, it.proof, it.publicSignals), { ok: true });
    t.true(await snarkjsVerify(it));
  }
  t.deepEqual(verifyBatch(vk, valid), [true, true, true, true]);
  t.deepEqual(verifyBatch(vk, [valid[2]]), [true]);
  t.deepEqual(verifyBatch(vk, []), []);
  // The same proof twice is fine (duplicates are the state machine's business, not the verifier's).
  t.deepEqual(verifyBatch(vk, [valid[1], valid[1]]), [true, true]);
});

test('the constructed G2 point is on the twist but outside the r-order subgroup (independent checks)', (t) => {
  const q = twistPointOutsideSubgroup();
  const qb = fromMclG2(q);
  t.true(isOnCurveG2(qb)); // our bigint curve equation
  t.false(mulG2ByBig(q, R).isZero()); // [r]Q != O, computed by scalar multiplication, not isValidOrder
  t.false(q.isValidOrder());
  // Whereas a real proof's B is in the subgroup.
  t.true(mulG2ByBig(toMclG2(valid[0].proof.b), R).isZero());
});

test('the fast G2 subgroup test agrees with [r]Q == O on subgroup, non-subgroup and mixed points', (t) => {
  const cases: { q: mcl.G2; inG2: boolean }[] = [];
  for (let i = 0; i < 6; i++) {
    const s = mcl.hashAndMapToG2(`subgroup ${i}`); // hash-to-G2 clears the cofactor
    cases.push({ q: s, inG2: true });
    const outside = twistPointOutsideSubgroup(1 + 17 * i);
    cases.push({ q: outside, inG2: false });
    const torsion = mulG2ByBig(outside, R); // order divides the cofactor
    cases.push({ q: torsion, inG2: false });
    cases.push({ q: mcl.add(s, torsion), inG2: false });
  }
  cases.push({ q: toMclG2(valid[0].proof.b), inG2: true });
  cases.push({ q: toMclG2(vkRaw.delta), inG2: true });
  for (const [k, c] of cases.entries()) {
    t.is(mulG2ByBig(c.q, R).isZero(), c.inG2, `case ${k}: reference [r]Q`);
    t.is(c.q.isValidOrder(), c.inG2, `case ${k}: mcl isValidOrder`);
    t.is(isInG2Subgroup(fromMclG2(c.q)), c.inG2, `case ${k}: isInG2Subgroup`);
  }
  t.true(isInG2Subgroup({ x: [0n, 0n], y: [0n, 0n] })); // identity
  t.false(isInG2Subgroup({ x: [1n, 2n], y: [3n, 4n] })); // not on the twist
});

test('every invalid variant is rejected by verifyOne with the right reason, and by snarkjs', async (t) => {
  for (const c of buildInvalid()) {
    t.false(verifyOne(vk, c.item.proof, c.item.publicSignals), c.name);
    const d = verifyDetailed(vk, c.item.proof, c.item.publicSignals);
    t.deepEqual(d, { ok: false, reason: c.reason } as never, c.name);
    if (c.snarkjs) t.false(await snarkjsVerify(c.item), `snarkjs: ${c.name}`);
  }
});

test('invalid items inside a batch are false and the valid ones still pass', (t) => {
  const invalid = buildInvalid();
  // Interleave: valid, invalid, valid, invalid, ...
  const items: Item[] = [];
  const expected: boolean[] = [];
  invalid.forEach((c, i) => {
    items.push(valid[i % valid.length]);
    expected.push(true);
    items.push(c.item);
    expected.push(false);
  });
  t.deepEqual(verifyBatch(vk, items), expected);
  // Each invalid kind alone among valid proofs.
  for (const c of invalid) {
    t.deepEqual(verifyBatch(vk, [valid[0], c.item, valid[1], valid[2]]), [true, false, true, true], c.name);
  }
  // A batch made only of invalid items.
  t.deepEqual(
    verifyBatch(
      vk,
      invalid.map((c) => c.item),
    ),
    invalid.map(() => false),
  );
});

test('batch: two invalid proofs whose errors cancel in a plain sum are both rejected (coefficients are random)', (t) => {
  // C1 + D and C2 - D: e(C1 + D, delta) e(C2 - D, delta) = e(C1, delta) e(C2, delta), so an unweighted batch would
  // accept the pair. With independent coefficients it must not.
  const d = fromMclG1(mcl.mul(toMclG1(G1_GEN), (() => { const f = new mcl.Fr(); f.setStr('123456789'); return f; })()));
  const p1: Item = { ...valid[0], proof: { ...valid[0].proof, c: addG1(valid[0].proof.c, d) } };
  const p2: Item = { ...valid[1], proof: { ...valid[1].proof, c: addG1(valid[1].proof.c, negG1(d)) } };
  t.false(verifyOne(vk, p1.proof, p1.publicSignals));
  t.false(verifyOne(vk, p2.proof, p2.publicSignals));
  t.deepEqual(verifyBatch(vk, [p1, p2]), [false, false]);
  t.deepEqual(verifyBatch(vk, [valid[2], p1, p2, valid[3]]), [true, false, false, true]);
});

test('batch coefficients are deterministic, 128-bit, nonzero and bound to every item and the key', (t) => {
  const items = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])];
  const a = batchCoefficients(vk.digest, items);
  t.deepEqual(batchCoefficients(vk.digest, items), a);
  t.is(a.length, 2);
  for (const r of a) {
    t.true(r >= 1n << 127n && r < 1n << 128n);
  }
  t.not(a[0], a[1]);
  t.notDeepEqual(batchCoefficients(vk.digest, [items[0], new Uint8Array([4, 6])]), a);
  t.notDeepEqual(batchCoefficients(new Uint8Array(32), items), a);
  // Item boundaries matter: [1,2,3],[4,5] vs [1,2],[3,4,5].
  t.notDeepEqual(batchCoefficients(vk.digest, [new Uint8Array([1, 2]), new Uint8Array([3, 4, 5])]), a);
  // verifyBatch gives identical answers when repeated.
  const mixed = [valid[0], buildInvalid()[0].item, valid[1]];
  t.deepEqual(verifyBatch(vk, mixed), verifyBatch(vk, mixed));
});

test('verifyOne and verifyBatch never throw on garbage', (t) => {
  const garbage: unknown[] = [
    null,
    undefined,
    42,
    {},
    { a: null, b: null, c: null },
    { a: { x: 'x', y: 1n }, b: valid[0].proof.b, c: valid[0].proof.c },
    { a: valid[0].proof.a, b: { x: [1n], y: [2n, 3n] }, c: valid[0].proof.c },
  ];
  for (const g of garbage) {
    t.false(verifyOne(vk, g as Groth16Proof, valid[0].publicSignals));
  }
  t.false(verifyOne(vk, valid[0].proof, [1, 2] as unknown as bigint[]));
  t.false(verifyOne(vk, valid[0].proof, null as unknown as bigint[]));
  const items = [valid[0], ...garbage.map((g) => ({ proof: g as Groth16Proof, publicSignals: valid[0].publicSignals })), null as unknown as Item, valid[1]];
  const res = verifyBatch(vk, items);
  t.deepEqual(res, [true, ...garbage.map(() => false), false, true]);
});

test('a proof for another verifying key is rejected', (t) => {
  // Same circuit shape, different delta: swap delta and gamma.
  const other = prepareVerifyingKey({ ...vkRaw, delta: vkRaw.gamma, gamma: vkRaw.delta });
  t.false(verifyOne(other, valid[0].proof, valid[0].publicSignals));
  t.deepEqual(verifyBatch(other, valid), [false, false, false, false]);
});

test('prepareVerifyingKey validates the key', (t) => {
  const outside = fromMclG2(mcl.add(toMclG2(vkRaw.gamma), mulG2ByBig(twistPointOutsideSubgroup(), R)));
  const e1 = t.throws(() => prepareVerifyingKey({ ...vkRaw, gamma: outside }), { instanceOf: ZkError });
  t.is(e1?.reason, 'not-in-subgroup');
  const e2 = t.throws(() => prepareVerifyingKey({ ...vkRaw, delta: { x: [0n, 0n], y: [0n, 0n] } }), { instanceOf: ZkError });
  t.is(e2?.reason, 'malformed');
  const e3 = t.throws(() => prepareVerifyingKey({ ...vkRaw, alpha: { x: 1n, y: 3n } }), { instanceOf: ZkError });
  t.is(e3?.reason, 'not-on-curve');
  const e4 = t.throws(() => prepareVerifyingKey({ ...vkRaw, ic: [] }), { instanceOf: ZkError });
  t.is(e4?.reason, 'malformed');
  t.is(prepareVerifyingKey(vkRaw).nPublic, 2);
});

test('byte-level entry points: canonical bytes verify, undecodable or wrong bytes are false', (t) => {
  const enc = valid.map((v) => ({ proof: encodeProof(v.proof), publicSignals: encodePublicSignals(v.publicSignals) }));
  for (const e of enc) t.true(verifyEncoded(vk, e.proof, e.publicSignals));
  const flipped = enc[0].proof.slice();
  flipped[40] ^= 1; // A.y changes: off the curve
  const short = enc[1].proof.subarray(0, 200);
  const rSignal = new Uint8Array(64);
  rSignal.set(Buffer.from(R.toString(16).padStart(64, '0'), 'hex'), 32);
  const otherSignals = encodePublicSignals([valid[2].publicSignals[0], valid[2].publicSignals[1] + 1n]);
  t.false(verifyEncoded(vk, flipped, enc[0].publicSignals));
  t.false(verifyEncoded(vk, short, enc[1].publicSignals));
  t.false(verifyEncoded(vk, enc[2].proof, rSignal));
  t.false(verifyEncoded(vk, enc[2].proof, otherSignals));
  t.false(verifyEncoded(vk, enc[2].proof, enc[2].publicSignals.subarray(0, 32)));
  t.deepEqual(
    verifyBatchEncoded(vk, [
      enc[0],
      { proof: flipped, publicSignals: enc[0].publicSignals },
      enc[1],
      { proof: short, publicSignals: enc[1].publicSignals },
      { proof: enc[2].proof, publicSignals: rSignal },
      enc[2],
      { proof: enc[2].proof, publicSignals: otherSignals },
      enc[3],
    ]),
    [true, false, true, false, false, true, false, true],
  );
});

test('a batch of 64 with one invalid proof finds it by bisection: O(log n) pairing checks, not 64 single ones', (t) => {
  const d = fromMclG1(mcl.mul(toMclG1(G1_GEN), (() => { const f = new mcl.Fr(); f.setStr('987654321'); return f; })()));
  const bad: Item = { ...valid[0], proof: { ...valid[0].proof, c: addG1(valid[0].proof.c, d) } };
  for (const pos of [0, 37, 63]) {
    const items: Item[] = Array.from({ length: 64 }, (_, i) => (i === pos ? bad : valid[i % valid.length]));
    const before = { ...pairingStats };
    const res = verifyBatch(vk, items);
    t.deepEqual(res, items.map((_, i) => i !== pos), `bad proof at ${pos}`);
    const singles = pairingStats.singleChecks - before.singleChecks;
    const combined = pairingStats.combinedChecks - before.combinedChecks;
    // 1 full check + at most two per halving level (5 levels down to pairs) + at most 2 singles; before: 1 + 64 singles.
    t.true(singles <= 2, `${singles} single checks`);
    t.true(combined <= 11, `${combined} combined checks`);
  }
  // Two invalid proofs far apart, and every proof invalid: still exact.
  const two: Item[] = Array.from({ length: 16 }, (_, i) => (i === 3 || i === 12 ? bad : valid[i % valid.length]));
  t.deepEqual(verifyBatch(vk, two), two.map((_, i) => i !== 3 && i !== 12));
  t.deepEqual(verifyBatch(vk, Array.from({ length: 9 }, () => bad)), Array.from({ length: 9 }, () => false));
});
