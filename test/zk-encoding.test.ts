/**
 * src/zk/groth16.ts: snarkjs JSON parsing and the canonical binary encoding, on real genesis proofs.
 */
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import {
  P,
  PROOF_BYTES,
  R,
  ZkError,
  decodeProof,
  decodePublicSignals,
  decodeVerifyingKey,
  encodeProof,
  encodePublicSignals,
  encodeVerifyingKey,
  isOnCurveG1,
  isOnCurveG2,
  proofFromSnarkjs,
  proofToSnarkjs,
  publicSignalsFromSnarkjs,
  verifyingKeyFromSnarkjs,
  verifyingKeyToSnarkjs,
  type Groth16Proof,
} from '../src/zk/groth16.js';
import { initZk, prepareVerifyingKey, verifyOne } from '../src/zk/verifier.js';
import { loadSnarkjs, proveWithSnarkjs, terminateSnarkjs, type ProveResult } from '../src/zk/prove.js';
import { GENESIS_CIRCUIT, genesisInput } from '../src/zk/genesis.js';

let vkJson: Record<string, unknown>;
let proved: ProveResult;

test.before(async () => {
  await initZk();
  vkJson = JSON.parse(readFileSync(GENESIS_CIRCUIT.verificationKeyPath, 'utf8'));
  const example = JSON.parse(readFileSync(GENESIS_CIRCUIT.exampleInputPath, 'utf8'));
  proved = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, example, { singleThread: true });
});

test.after.always(async () => {
  await terminateSnarkjs();
});

const fieldBe = (b: Uint8Array, off: number): bigint => BigInt('0x' + Buffer.from(b.subarray(off, off + 32)).toString('hex'));

function reason(t: { throws: (f: () => unknown, e: { instanceOf: typeof ZkError }) => ZkError | undefined }, f: () => unknown): string | undefined {
  return t.throws(f, { instanceOf: ZkError })?.reason;
}

test('the genesis example input proves to the committed public signals [digest, nonce]', (t) => {
  const committed = JSON.parse(readFileSync(GENESIS_CIRCUIT.exampleInputPath.replace('input.json', 'public.example.json'), 'utf8'));
  t.deepEqual(proved.publicJson, committed);
  t.deepEqual(proved.publicSignals, publicSignalsFromSnarkjs(committed));
  t.is(proved.publicSignals.length, GENESIS_CIRCUIT.nPublic);
  t.is(proved.publicSignals[1], 42n); // the nonce is public and echoed
  t.true(proved.ms > 0);
});

test('proveWithSnarkjs: the digest depends on the preimage only, and bad inputs throw ZkError', async (t) => {
  const a = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, genesisInput(123456789n, 7n), { singleThread: true });
  t.is(a.publicSignals[0], proved.publicSignals[0]);
  t.is(a.publicSignals[1], 7n);
  const b = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, genesisInput(123456790n, 42n), { singleThread: true });
  t.not(b.publicSignals[0], proved.publicSignals[0]);
  await t.throwsAsync(proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, { preimage: '1' }, { singleThread: true }), { instanceOf: ZkError });
});

test('proof JSON <-> structure <-> bytes round trips; layout is A | B(x.c1 x.c0 y.c1 y.c0) | C', (t) => {
  const p = proved.proof;
  t.deepEqual(proofToSnarkjs(p), { ...(proved.proofJson as object) } as never);
  const bytes = encodeProof(p);
  t.is(bytes.length, PROOF_BYTES);
  t.deepEqual(decodeProof(bytes), p);
  t.is(fieldBe(bytes, 0), p.a.x);
  t.is(fieldBe(bytes, 32), p.a.y);
  t.is(fieldBe(bytes, 64), p.b.x[1]);
  t.is(fieldBe(bytes, 96), p.b.x[0]);
  t.is(fieldBe(bytes, 128), p.b.y[1]);
  t.is(fieldBe(bytes, 160), p.b.y[0]);
  t.is(fieldBe(bytes, 192), p.c.x);
  t.is(fieldBe(bytes, 224), p.c.y);
  // snarkjs JSON order is [c0, c1]
  const j = proved.proofJson as { pi_b: string[][] };
  t.is(BigInt(j.pi_b[0][0]), p.b.x[0]);
  t.is(BigInt(j.pi_b[0][1]), p.b.x[1]);
});

test('a decoded proof still verifies natively and in snarkjs', async (t) => {
  const vk = prepareVerifyingKey(verifyingKeyFromSnarkjs(vkJson));
  const p = decodeProof(encodeProof(proved.proof));
  const s = decodePublicSignals(encodePublicSignals(proved.publicSignals));
  t.true(verifyOne(vk, p, s));
  const snarkjs = await loadSnarkjs();
  t.true(await snarkjs.groth16.verify(verifyingKeyToSnarkjs(decodeVerifyingKey(encodeVerifyingKey(vk.vk))), s.map(String), proofToSnarkjs(p)));
});

test('verifying key JSON <-> structure <-> bytes round trips', (t) => {
  const vk = verifyingKeyFromSnarkjs(vkJson);
  t.is(vk.ic.length, 3);
  const bytes = encodeVerifyingKey(vk);
  t.is(bytes.length, 64 + 3 * 128 + 4 + 3 * 64);
  t.deepEqual(decodeVerifyingKey(bytes), vk);
  const back = verifyingKeyToSnarkjs(vk);
  for (const k of ['vk_alpha_1', 'vk_beta_2', 'vk_gamma_2', 'vk_delta_2', 'IC', 'nPublic']) t.deepEqual(back[k], vkJson[k], k);
});

test('public signals encode to 32 bytes each and round trip (property)', (t) => {
  fc.assert(
    fc.property(fc.array(fc.bigInt({ min: 0n, max: R - 1n }), { maxLength: 20 }), (s) => {
      const b = encodePublicSignals(s);
      return b.length === 32 * s.length && decodePublicSignals(b).every((v, i) => v === s[i]) && decodePublicSignals(b).length === s.length;
    }),
  );
  t.deepEqual(encodePublicSignals([1n]), Uint8Array.from([...new Array(31).fill(0), 1]));
  t.deepEqual(decodePublicSignals(new Uint8Array(0)), []);
});

test('public signals: out-of-range and malformed inputs throw ZkError', (t) => {
  t.is(reason(t, () => encodePublicSignals([R])), 'input-out-of-range');
  t.is(reason(t, () => encodePublicSignals([-1n])), 'input-out-of-range');
  t.is(reason(t, () => encodePublicSignals([1 as unknown as bigint])), 'malformed');
  const big = new Uint8Array(32);
  big.set(Buffer.from(R.toString(16).padStart(64, '0'), 'hex'));
  t.is(reason(t, () => decodePublicSignals(big)), 'input-out-of-range');
  t.is(reason(t, () => decodePublicSignals(new Uint8Array(33))), 'malformed');
  t.is(reason(t, () => decodePublicSignals('00' as unknown as Uint8Array)), 'malformed');
  t.is(reason(t, () => publicSignalsFromSnarkjs([R.toString()])), 'input-out-of-range');
  t.is(reason(t, () => publicSignalsFromSnarkjs(['0x10'])), 'malformed');
  t.is(reason(t, () => publicSignalsFromSnarkjs(['007'])), 'malformed');
  t.is(reason(t, () => publicSignalsFromSnarkjs([7])), 'malformed');
  t.is(reason(t, () => publicSignalsFromSnarkjs('7')), 'malformed');
  t.deepEqual(publicSignalsFromSnarkjs(['0', '7']), [0n, 7n]);
});

test('decodeProof rejects malformed bytes with the right reason', (t) => {
  const good = encodeProof(proved.proof);
  t.is(reason(t, () => decodeProof(good.subarray(0, 255))), 'malformed');
  t.is(reason(t, () => decodeProof(new Uint8Array(257))), 'malformed');
  t.is(reason(t, () => decodeProof([...good] as unknown as Uint8Array)), 'malformed');
  // A.x >= p
  const bad1 = good.slice();
  bad1.set(Buffer.from(P.toString(16).padStart(64, '0'), 'hex'), 0);
  t.is(reason(t, () => decodeProof(bad1)), 'malformed');
  // A.y + 1: off curve
  const bad2 = good.slice();
  bad2[63] ^= 1;
  t.is(reason(t, () => decodeProof(bad2)), 'not-on-curve');
  // B.y.c0 flipped bit: off the twist
  const bad3 = good.slice();
  bad3[191] ^= 1;
  t.is(reason(t, () => decodeProof(bad3)), 'not-on-curve');
  // Swapping B's c0/c1 (the wrong coordinate order) lands off the twist.
  const bad4 = good.slice();
  bad4.set(good.subarray(96, 128), 64);
  bad4.set(good.subarray(64, 96), 96);
  bad4.set(good.subarray(160, 192), 128);
  bad4.set(good.subarray(128, 160), 160);
  t.is(reason(t, () => decodeProof(bad4)), 'not-on-curve');
  // C.x >= p
  const bad5 = good.slice();
  bad5.fill(0xff, 192, 224);
  t.is(reason(t, () => decodeProof(bad5)), 'malformed');
  // All-zero points are the point at infinity (valid encoding, rejected later by the pairing check)
  const zero = decodeProof(new Uint8Array(256));
  t.deepEqual(zero, { a: { x: 0n, y: 0n }, b: { x: [0n, 0n], y: [0n, 0n] }, c: { x: 0n, y: 0n } });
  t.deepEqual(encodeProof(zero), new Uint8Array(256));
});

test('random bytes almost never decode, and never throw anything but ZkError (property)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (b) => {
      try {
        const p = decodeProof(b);
        return b.length === PROOF_BYTES && isOnCurveG1(p.a) && isOnCurveG2(p.b) && isOnCurveG1(p.c);
      } catch (e) {
        return e instanceof ZkError;
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('encodeProof refuses invalid structures', (t) => {
  const p = proved.proof;
  t.is(reason(t, () => encodeProof({ ...p, a: { x: p.a.x, y: p.a.y + 1n } })), 'not-on-curve');
  t.is(reason(t, () => encodeProof({ ...p, c: { x: p.c.x + P, y: p.c.y } })), 'malformed');
  t.is(reason(t, () => encodeProof({ ...p, b: { x: [p.b.x[0]] as unknown as [bigint, bigint], y: p.b.y } })), 'malformed');
  t.is(reason(t, () => encodeProof(null as unknown as Groth16Proof)), 'malformed');
});

test('decodeVerifyingKey rejects malformed bytes', (t) => {
  const good = encodeVerifyingKey(verifyingKeyFromSnarkjs(vkJson));
  t.is(reason(t, () => decodeVerifyingKey(good.subarray(0, good.length - 1))), 'malformed');
  t.is(reason(t, () => decodeVerifyingKey(new Uint8Array(10))), 'malformed');
  const badCount = good.slice();
  badCount[451] = 4; // says 4 IC points, holds 3
  t.is(reason(t, () => decodeVerifyingKey(badCount)), 'malformed');
  const zeroCount = good.slice(0, 452 + 64);
  zeroCount[451] = 0;
  t.is(reason(t, () => decodeVerifyingKey(zeroCount)), 'malformed');
  const offCurve = good.slice();
  offCurve[good.length - 1] ^= 1; // IC[2].y
  t.is(reason(t, () => decodeVerifyingKey(offCurve)), 'not-on-curve');
});

test('snarkjs JSON parsing is strict', (t) => {
  const j = proved.proofJson as { pi_a: string[]; pi_b: string[][]; pi_c: string[] };
  t.is(reason(t, () => proofFromSnarkjs(null)), 'malformed');
  t.is(reason(t, () => proofFromSnarkjs([])), 'malformed');
  t.is(reason(t, () => proofFromSnarkjs({ ...j, pi_a: undefined })), 'malformed');
  t.is(reason(t, () => proofFromSnarkjs({ ...j, protocol: 'plonk' })), 'malformed');
  t.is(reason(t, () => proofFromSnarkjs({ ...j, curve: 'bls12381' })), 'malformed');
  t.is(reason(t, () => proofFromSnarkjs({ ...j, pi_a: [j.pi_a[0], j.pi_a[1], '2'] })), 'malformed');
  t.is(reason(t, () => proofFromSnarkjs({ ...j, pi_a: ['0' + j.pi_a[0], j.pi_a[1], '1'] })), 'malformed');
  t.is(reason(t, () => proofFromSnarkjs({ ...j, pi_a: [Number(j.pi_a[0]), j.pi_a[1], '1'] })), 'malformed');
  t.is(reason(t, () => proofFromSnarkjs({ ...j, pi_a: [(BigInt(j.pi_a[0]) + P).toString(), j.pi_a[1], '1'] })), 'malformed');
  t.is(reason(t, () => proofFromSnarkjs({ ...j, pi_a: [j.pi_a[0], (BigInt(j.pi_a[1]) + 1n).toString(), '1'] })), 'not-on-curve');
  t.is(reason(t, () => proofFromSnarkjs({ ...j, pi_b: [j.pi_b[1], j.pi_b[0], j.pi_b[2]] })), 'not-on-curve');
  t.is(reason(t, () => proofFromSnarkjs({ ...j, pi_b: [[j.pi_b[0][1], j.pi_b[0][0]], [j.pi_b[1][1], j.pi_b[1][0]], ['1', '0']] })), 'not-on-curve');
  // snarkjs' encoding of the point at infinity
  t.deepEqual(proofFromSnarkjs({ ...j, pi_c: ['0', '1', '0'] }).c, { x: 0n, y: 0n });
  t.deepEqual(proofFromSnarkjs({ ...j, pi_b: [['0', '0'], ['1', '0'], ['0', '0']] }).b, { x: [0n, 0n], y: [0n, 0n] });
  t.is(reason(t, () => proofFromSnarkjs({ ...j, pi_c: ['0', '0', '1'] })), 'not-on-curve');
  const vkBad = { ...vkJson, nPublic: 3 };
  t.is(reason(t, () => verifyingKeyFromSnarkjs(vkBad)), 'malformed');
  t.is(reason(t, () => verifyingKeyFromSnarkjs({ ...vkJson, IC: [] })), 'malformed');
  t.is(reason(t, () => verifyingKeyFromSnarkjs({ ...vkJson, vk_gamma_2: undefined })), 'malformed');
});
