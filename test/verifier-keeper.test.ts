/**
 * Verifier keeper: registration checks, deposits, genesis, queries, and verifyProof / preverify on real snarkjs proofs
 * of the genesis circuit (in-memory KV fixture from the bank tests; the app-level test runs on LevelDB).
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as mcl from 'mcl-wasm';
import { SortedArrayKV, TestAccounts, newContext } from './bank-kv.js';
import { Context } from '../src/framework/context.js';
import { GasMeter } from '../src/framework/gas.js';
import { AppError, ErrInsufficientFunds, ErrInvalidAddress, ErrOutOfGas } from '../src/framework/errors.js';
import { createBankModule } from '../modules/bank/index.js';
import {
  createVerifierModule,
  initVerifierBackend,
  computeCircuitId,
  defaultVerifierGenesis,
  genesisCircuit,
  genesisCircuitId,
  genesisCircuitDir,
  ErrCircuitExists,
  ErrInvalidCircuit,
  ErrInvalidProof,
  ErrInvalidVerifyingKey,
  ErrUnknownCircuit,
  ErrUnsupportedProofSystem,
  ErrVerifyingKeyTooLarge,
  ErrWrongSignalCount,
  QUERY_CIRCUIT,
  QUERY_CIRCUITS,
  QUERY_PARAMS,
  DEFAULT_PARAMS,
  type CircuitFields,
} from '../modules/verifier/index.js';
import { ProofSystem, QueryCircuitsResponse, type Params } from '../src/gen/proofbook/verifier/v1/verifier.js';
import { P, R, encodeProof, encodeVerifyingKey, type G2, type Groth16Proof, type Groth16VerifyingKey } from '../src/zk/groth16.js';
import { GENESIS_CIRCUIT, genesisInput, loadGenesisVerifyingKey } from '../src/zk/genesis.js';
import { proveWithSnarkjs, terminateSnarkjs } from '../src/zk/prove.js';
import { addressFromBytes, moduleAddress, type Address } from '../src/crypto/address.js';

const A = addressFromBytes(new Uint8Array(20).fill(1)) as Address;
const POOR = addressFromBytes(new Uint8Array(20).fill(2)) as Address;
const VERIFIER_ACCT = moduleAddress('verifier');

interface Proved {
  proof: Uint8Array;
  signals: bigint[];
  decoded: Groth16Proof;
}
const proofs: Proved[] = [];
let baseVk: Groth16VerifyingKey;

test.before(async () => {
  await initVerifierBackend();
  baseVk = loadGenesisVerifyingKey();
  for (let i = 0; i < 3; i++) {
    const r = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, genesisInput(555n + BigInt(i), 9000n + BigInt(i)), { singleThread: true });
    proofs.push({ proof: encodeProof(r.proof), signals: r.publicSignals, decoded: r.proof });
  }
});

test.after.always(async () => {
  await terminateSnarkjs();
});

function setup(opts: { params?: Params } = {}) {
  const kv = new SortedArrayKV();
  const ctx = newContext(kv, 'genesis');
  const bank = createBankModule({ accounts: new TestAccounts(), moduleAccounts: ['verifier'] });
  bank.module.initGenesis!(ctx, {
    balances: [
      { address: A, coins: [{ denom: 'uproof', amount: '5000000' }] },
      { address: POOR, coins: [{ denom: 'uproof', amount: '999999' }] },
    ],
  });
  const v = createVerifierModule({ bank: bank.keeper });
  const g = defaultVerifierGenesis();
  if (opts.params) g.params = { ...g.params, registration_deposit: opts.params.registrationDeposit, verify_gas_base: String(opts.params.verifyGasBase), verify_gas_per_input: String(opts.params.verifyGasPerInput), max_verifying_key_bytes: String(opts.params.maxVerifyingKeyBytes) };
  v.module.initGenesis!(ctx, JSON.parse(JSON.stringify(g)));
  const dctx = newContext(kv, 'deliver');
  return { kv, ctx: dctx, bank: bank.keeper, keeper: v.keeper, module: v.module };
}

/** A different valid verifying key: the genesis key with its IC points permuted (still on-curve and well-formed). */
function variantVk(i: number): Groth16VerifyingKey {
  const perms = [[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  return { ...baseVk, ic: perms[i].map((j) => baseVk.ic[j]) };
}

function fields(vk: Groth16VerifyingKey, over: Partial<CircuitFields> = {}): CircuitFields {
  return {
    name: 'my-circuit',
    proofSystem: ProofSystem.PROOF_SYSTEM_GROTH16_BN254,
    verifyingKey: encodeVerifyingKey(vk),
    constraints: 1000n,
    wasm: { sha256: 'ab'.repeat(32), uri: 'https://example.org/c.wasm', size: 10n },
    provingKey: { sha256: 'cd'.repeat(32), uri: 'ipfs://bafy/c.zkey', size: 20n },
    ...over,
  };
}

function expectCode(t: any, f: () => unknown, kind: { codespace: string; code: number }, re?: RegExp): AppError {
  const e = t.throws(f) as AppError;
  t.true(e instanceof AppError, String(e));
  t.is(`${e.codespace}:${e.code}`, `${kind.codespace}:${kind.code}`, e.message);
  if (re) t.regex(e.message, re);
  return e;
}

// ---- genesis -------------------------------------------------------------------------------------------------------

test('default genesis registers the genesis circuit with the right id, artifact hashes, sizes and owner', (t) => {
  const { ctx, keeper, bank } = setup();
  const id = genesisCircuitId();
  const g = keeper.circuit(ctx, id)!;
  t.is(id, computeCircuitId(ProofSystem.PROOF_SYSTEM_GROTH16_BN254, encodeVerifyingKey(baseVk), { wasmSha256: g.wasm!.sha256, provingKeySha256: g.provingKey!.sha256, owner: g.owner }));
  const c = keeper.circuit(ctx, id)!;
  t.truthy(c);
  t.is(c.name, 'hashchain');
  t.is(c.numPublicInputs, 2);
  t.true(c.constraints >= 4096n);
  const readme = /\| constraints \| ([0-9,]+)/.exec(readFileSync(genesisCircuitDir() + 'README.md', 'utf8'));
  t.is(c.constraints, BigInt(readme![1].replaceAll(',', '')), 'GENESIS_CIRCUIT_CONSTRAINTS matches the circuit README');
  const dir = genesisCircuitDir();
  for (const [art, file] of [[c.wasm!, 'circuit.wasm'], [c.provingKey!, 'circuit_final.zkey']] as const) {
    const bytes = readFileSync(dir + file);
    const sha = createHash('sha256').update(bytes).digest('hex');
    t.is(art.sha256, sha, file);
    t.is(art.size, BigInt(bytes.length), file);
    t.is(art.uri, `/artifacts/${sha}`);
  }
  t.is(c.owner, VERIFIER_ACCT);
  t.deepEqual(c.deposit, []);
  t.is(c.registeredHeight, 0n);
  t.deepEqual(keeper.params(ctx), DEFAULT_PARAMS);
  t.is(bank.balance(ctx, VERIFIER_ACCT, 'uproof'), 0n);
  t.deepEqual(genesisCircuit(), c);
});

test('genesis export -> init -> export is the identity, and bad genesis is refused with a clear message', (t) => {
  const { ctx, keeper, module } = setup();
  keeper.registerCircuit(ctx, A, fields(variantVk(0)));
  const exported = module.exportGenesis!(ctx);
  const json = JSON.parse(JSON.stringify(exported));
  const kv2 = new SortedArrayKV();
  const ctx2 = newContext(kv2, 'genesis');
  const v2 = createVerifierModule({ bank: createBankModule({ accounts: new TestAccounts() }).keeper });
  v2.module.initGenesis!(ctx2, json);
  t.deepEqual(v2.module.exportGenesis!(ctx2), exported);
  t.is((exported as any).circuits.length, 2);

  const bad = (mut: (g: any) => void) => {
    const g = JSON.parse(JSON.stringify(json));
    mut(g);
    return t.throws(() => v2.module.initGenesis!(newContext(new SortedArrayKV(), 'genesis'), g))!.message;
  };
  t.regex(bad((g) => (g.circuits[0].id = 'ff'.repeat(32))), /does not match its verifying key/);
  t.regex(bad((g) => (g.circuits[1] = g.circuits[0])), /listed twice/);
  t.regex(bad((g) => (g.circuits[0].wasm.sha256 = 'XYZ')), /wasm\.sha256/);
  t.regex(bad((g) => (g.circuits[0].num_public_inputs = 3)), /num_public_inputs/);
  t.regex(bad((g) => (g.params.verify_gas_base = -1)), /verify_gas_base/);
  t.regex(bad((g) => (g.extra = 1)), /unknown field 'extra'/);
});

// ---- registration --------------------------------------------------------------------------------------------------

test('register: stores the circuit, moves the deposit to the verifier account, emits an event, answers queries', (t) => {
  const { ctx, keeper, bank, module } = setup();
  const f = fields(variantVk(1));
  const c = keeper.registerCircuit(ctx, A, f);
  t.is(c.id, computeCircuitId(ProofSystem.PROOF_SYSTEM_GROTH16_BN254, f.verifyingKey, { wasmSha256: 'ab'.repeat(32), provingKeySha256: 'cd'.repeat(32), owner: A }));
  t.is(c.numPublicInputs, 2);
  t.is(c.owner, A);
  t.is(c.registeredHeight, 5n);
  t.deepEqual(c.deposit, [{ denom: 'uproof', amount: '1000000' }]);
  t.is(bank.balance(ctx, A, 'uproof'), 4_000_000n);
  t.is(bank.balance(ctx, VERIFIER_ACCT, 'uproof'), 1_000_000n);
  t.deepEqual(keeper.circuit(ctx, c.id), c);
  const ev = ctx.events.find((e) => e.type === 'proofbook.verifier.circuit_registered')!;
  t.deepEqual(ev.attributes.map((a) => a.key), ['circuit_id', 'name', 'owner', 'proof_system', 'num_public_inputs', 'constraints', 'deposit']);
  t.is(ev.attributes[0].value, c.id);
  t.is(ev.attributes[6].value, '1000000uproof');
  for (const inv of module.invariants!) t.is(inv.check(ctx), undefined, inv.name);

  // Queries (routes called directly; the app-level test goes through ABCI).
  const q = (path: string) => module.queries!.find((r) => r.path === path)!;
  t.deepEqual(q(QUERY_CIRCUIT).handle(ctx, { id: c.id }).circuit, c);
  const nf = t.throws(() => q(QUERY_CIRCUIT).handle(ctx, { id: '00'.repeat(32) })) as AppError;
  t.is(nf.grpcCode, 5);
  t.is((t.throws(() => q(QUERY_CIRCUIT).handle(ctx, { id: 'nope' })) as AppError).grpcCode, 3);
  const all = q(QUERY_CIRCUITS).handle(ctx, { pagination: undefined }) as QueryCircuitsResponse;
  t.deepEqual(all.circuits.map((x) => x.id), [c.id, genesisCircuitId()].sort());
  t.is(all.pagination!.total, 2n);
  const p1 = q(QUERY_CIRCUITS).handle(ctx, { pagination: { key: Buffer.alloc(0), offset: 0n, limit: 1n, countTotal: false, reverse: false } }) as QueryCircuitsResponse;
  t.is(p1.circuits.length, 1);
  t.true(p1.pagination!.nextKey.length > 0);
  const p2 = q(QUERY_CIRCUITS).handle(ctx, { pagination: { key: p1.pagination!.nextKey, offset: 0n, limit: 1n, countTotal: false, reverse: false } }) as QueryCircuitsResponse;
  t.deepEqual([p1.circuits[0].id, p2.circuits[0].id], [c.id, genesisCircuitId()].sort());
  t.is(p2.pagination!.nextKey.length, 0);
  t.deepEqual(q(QUERY_PARAMS).handle(ctx, {}).params, DEFAULT_PARAMS);
});

/** A G2 point on the twist but outside the order-r subgroup: delta + [r]Q for a twist point Q with a cofactor component. */
function g2OutsideSubgroup(base: G2): G2 {
  const inv82 = modPow(82n, P - 2n);
  const b = new mcl.Fp2();
  b.setStr(`${(27n * inv82) % P} ${(P - ((3n * inv82) % P)) % P}`, 10);
  for (let i = 1; i < 1000; i++) {
    const x = new mcl.Fp2();
    x.setStr(`${i} 1`, 10);
    const [ok, y] = mcl.squareRoot(mcl.add(mcl.mul(mcl.mul(x, x), x), b));
    if (!ok) continue;
    const q = new mcl.G2();
    q.setX(x);
    q.setY(y);
    const one = new mcl.Fp2();
    one.setInt(1, 0);
    q.setZ(one);
    let torsion = new mcl.G2();
    torsion.clear();
    for (const bit of R.toString(2)) {
      torsion = mcl.dbl(torsion);
      if (bit === '1') torsion = mcl.add(torsion, q);
    }
    const bm = new mcl.G2();
    bm.setStr(`1 ${base.x[0].toString(16)} ${base.x[1].toString(16)} ${base.y[0].toString(16)} ${base.y[1].toString(16)}`, 16);
    const s = mcl.normalize(mcl.add(bm, torsion));
    const [, x0, x1, y0, y1] = s.getStr(16).split(' ');
    return { x: [BigInt('0x' + x0), BigInt('0x' + x1)], y: [BigInt('0x' + y0), BigInt('0x' + y1)] };
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

test('register: bad keys, hashes, fields, unsupported systems, duplicates and missing deposits are refused and change nothing', (t) => {
  const { kv, ctx, keeper } = setup();
  const f = fields(variantVk(2));
  keeper.registerCircuit(ctx, A, f);
  const before = kv.dump();
  const vkBytes = encodeVerifyingKey(variantVk(3));

  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { proofSystem: ProofSystem.PROOF_SYSTEM_PLONK_BN254 })), ErrUnsupportedProofSystem, /PLONK_BN254 is not supported yet/);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { proofSystem: ProofSystem.PROOF_SYSTEM_FFLONK_BN254 })), ErrUnsupportedProofSystem, /not supported yet/);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { proofSystem: ProofSystem.PROOF_SYSTEM_UNSPECIFIED })), ErrInvalidCircuit, /proof_system/);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { verifyingKey: vkBytes.subarray(0, vkBytes.length - 1) })), ErrInvalidVerifyingKey, /does not decode/);
  const offCurve = new Uint8Array(vkBytes);
  offCurve[63] ^= 1; // alpha.y
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { verifyingKey: offCurve })), ErrInvalidVerifyingKey);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields({ ...variantVk(3), delta: g2OutsideSubgroup(baseVk.delta) })), ErrInvalidVerifyingKey, /subgroup/);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { wasm: { sha256: 'AB'.repeat(32), uri: 'x', size: 1n } })), ErrInvalidCircuit, /wasm\.sha256/);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { provingKey: { sha256: 'ab'.repeat(31), uri: 'x', size: 1n } })), ErrInvalidCircuit, /proving_key\.sha256/);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { wasm: { sha256: 'ab'.repeat(32), uri: '', size: 1n } })), ErrInvalidCircuit, /wasm\.uri/);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { wasm: undefined })), ErrInvalidCircuit, /wasm artifact is missing/);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { constraints: 0n })), ErrInvalidCircuit, /constraints/);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { name: 'x'.repeat(65) })), ErrInvalidCircuit, /name/);
  expectCode(t, () => keeper.registerCircuit(ctx, A, fields(variantVk(3), { name: '' })), ErrInvalidCircuit, /name/);
  // duplicate (same proof system + key => same id), even with other metadata
  const dup = expectCode(t, () => keeper.registerCircuit(ctx, A, { ...f, name: 'other name' }), ErrCircuitExists, /already registered/);
  t.is(dup.grpcCode, 6);
  // insufficient deposit: 999999 < 1000000
  expectCode(t, () => keeper.registerCircuit(ctx, POOR, fields(variantVk(3))), ErrInsufficientFunds, /999999uproof is smaller than 1000000uproof/);
  t.deepEqual(kv.dump(), before, 'no rejected registration changed state');

  // max_verifying_key_bytes
  const small = setup({ params: { ...DEFAULT_PARAMS, maxVerifyingKeyBytes: 600n } });
  expectCode(t, () => small.keeper.registerCircuit(small.ctx, A, fields(variantVk(3))), ErrVerifyingKeyTooLarge, /644 bytes.*600/);
});

test('MsgRegisterCircuit route: signers, validateBasic and handle', (t) => {
  const { ctx, module } = setup();
  const route = module.msgs!.find((r) => r.typeUrl === '/proofbook.verifier.v1.MsgRegisterCircuit')!;
  const msg = { creator: A, ...fields(variantVk(4)), verifyingKey: Buffer.from(encodeVerifyingKey(variantVk(4))) };
  t.deepEqual(route.signers(msg), [A]);
  t.notThrows(() => route.validateBasic!(msg));
  expectCode(t, () => route.validateBasic!({ ...msg, creator: 'cosmos1xyz' }), ErrInvalidAddress);
  expectCode(t, () => route.validateBasic!({ ...msg, proofSystem: ProofSystem.PROOF_SYSTEM_PLONK_BN254 }), ErrUnsupportedProofSystem);
  const res = route.handle(ctx, msg);
  t.is(res.circuitId, computeCircuitId(ProofSystem.PROOF_SYSTEM_GROTH16_BN254, msg.verifyingKey, { wasmSha256: 'ab'.repeat(32), provingKeySha256: 'cd'.repeat(32), owner: A }));
});

// ---- verification --------------------------------------------------------------------------------------------------

test('verifyProof: valid proofs pass; tampered proofs and signals fail; off-curve points and signals >= r are false, not errors', (t) => {
  const { ctx, keeper } = setup();
  const id = genesisCircuitId();
  for (const p of proofs) t.true(keeper.verifyProof(ctx, id, p.proof, p.signals));
  const [p0, p1] = proofs;
  t.false(keeper.verifyProof(ctx, id, p0.proof, [p0.signals[0], p0.signals[1] + 1n]), 'other nonce');
  t.false(keeper.verifyProof(ctx, id, p0.proof, p1.signals), "another proof's signals");
  const swappedC = new Uint8Array(p0.proof);
  swappedC.set(p1.proof.subarray(192), 192);
  t.false(keeper.verifyProof(ctx, id, swappedC, p0.signals), "C from another proof");
  const offCurve = new Uint8Array(p0.proof);
  offCurve[63] ^= 1; // A.y no longer satisfies the curve equation (still < p)
  t.false(keeper.verifyProof(ctx, id, offCurve, p0.signals));
  t.false(keeper.verifyProof(ctx, id, p0.proof, [R, p0.signals[1]]), 'signal = r');
  t.false(keeper.verifyProof(ctx, id, p0.proof, [p0.signals[0], R + p0.signals[1]]), 'signal >= r');
  const outside = encodeProof({ ...p0.decoded, b: g2OutsideSubgroup(p0.decoded.b) });
  t.false(keeper.verifyProof(ctx, id, outside, p0.signals), 'B outside the subgroup');

  expectCode(t, () => keeper.verifyProof(ctx, id, p0.proof, [p0.signals[0]]), ErrWrongSignalCount, /takes 2 public signals, got 1/);
  expectCode(t, () => keeper.verifyProof(ctx, id, p0.proof, [...p0.signals, 1n]), ErrWrongSignalCount);
  expectCode(t, () => keeper.verifyProof(ctx, id, p0.proof.subarray(0, 255), p0.signals), ErrInvalidProof, /256 bytes, got 255/);
  const bigCoord = new Uint8Array(p0.proof);
  bigCoord.fill(0xff, 0, 32); // A.x >= p: not a field element
  expectCode(t, () => keeper.verifyProof(ctx, id, bigCoord, p0.signals), ErrInvalidProof, /do not decode/);
  expectCode(t, () => keeper.verifyProof(ctx, '00'.repeat(32), p0.proof, p0.signals), ErrUnknownCircuit);
  expectCode(t, () => keeper.verifyProof(ctx, 'not-an-id', p0.proof, p0.signals), ErrUnknownCircuit);
});

test('verifyProof charges verify_gas_base + verify_gas_per_input * inputs, cached or not, and runs out of gas deterministically', (t) => {
  const { kv, keeper } = setup();
  const id = genesisCircuitId();
  const p = proofs[0];
  const metered = (limit = 10_000_000n) => new Context(kv, { chainId: 'proofbook-test', height: 6n, timeSeconds: 1n }, 'deliver', new GasMeter(limit));
  const expected = DEFAULT_PARAMS.verifyGasBase + DEFAULT_PARAMS.verifyGasPerInput * 2n;
  t.is(expected, 160_000n);
  keeper.clearCaches();
  const cold = metered();
  t.true(keeper.verifyProof(cold, id, p.proof, p.signals));
  t.is(cold.gas.consumed, expected, 'cold');
  const hits = keeper.stats.verdictHits;
  const warm = metered();
  t.true(keeper.verifyProof(warm, id, p.proof, p.signals));
  t.is(keeper.stats.verdictHits, hits + 1, 'second call answered from the cache');
  t.is(warm.gas.consumed, expected, 'cached');
  const invalid = metered();
  t.false(keeper.verifyProof(invalid, id, p.proof, [p.signals[0], 7n]));
  t.is(invalid.gas.consumed, expected, 'invalid proofs cost the same');
  const short = metered(expected - 1n);
  expectCode(t, () => keeper.verifyProof(short, id, p.proof, p.signals), ErrOutOfGas);

  const custom = setup({ params: { ...DEFAULT_PARAMS, verifyGasBase: 1000n, verifyGasPerInput: 7n } });
  const c2 = new Context(custom.kv, { chainId: 'x', height: 6n, timeSeconds: 1n }, 'deliver', new GasMeter(1_000_000n));
  t.true(custom.keeper.verifyProof(c2, id, p.proof, p.signals));
  t.is(c2.gas.consumed, 1014n);
});

test('preverify batch-verifies a mixed block, caches the right verdicts, writes nothing and charges nothing', (t) => {
  const { kv, keeper } = setup();
  keeper.clearCaches();
  const id = genesisCircuitId();
  const [p0, p1, p2] = proofs;
  const tampered = { circuitId: id, proof: p1.proof, publicSignals: [p1.signals[0], p1.signals[1] + 5n] };
  const offCurve = new Uint8Array(p2.proof);
  offCurve[63] ^= 1;
  const items = [
    { circuitId: id, proof: offCurve, publicSignals: p2.signals }, // off the curve: cached false without a pairing
    { circuitId: id, proof: p0.proof, publicSignals: p0.signals },
    tampered,
    { circuitId: id, proof: p1.proof, publicSignals: p1.signals },
    { circuitId: id, proof: p0.proof, publicSignals: p0.signals }, // duplicate
    { circuitId: id, proof: p2.proof, publicSignals: p2.signals },
    { circuitId: id, proof: p2.proof.subarray(1), publicSignals: p2.signals }, // undecodable: skipped
    { circuitId: id, proof: p2.proof, publicSignals: [1n] }, // wrong count: skipped
    { circuitId: '11'.repeat(32), proof: p2.proof, publicSignals: p2.signals }, // unknown circuit: skipped
  ];
  const before = kv.dump();
  const meter = new GasMeter(1n); // any gas charge would throw
  const ctx = new Context(kv, { chainId: 'proofbook-test', height: 6n, timeSeconds: 1n }, 'block', meter);
  keeper.preverify(ctx, items);
  t.deepEqual(kv.dump(), before);
  t.is(meter.consumed, 0n);
  t.is(keeper.cachedVerdicts, 5);
  t.is(keeper.stats.batchedProofs, 4);
  t.is(keeper.stats.batches, 1);

  const dctx = newContext(kv, 'deliver');
  const misses = keeper.stats.verdictMisses;
  const hits = keeper.stats.verdictHits;
  t.true(keeper.verifyProof(dctx, id, p0.proof, p0.signals));
  t.false(keeper.verifyProof(dctx, id, tampered.proof, tampered.publicSignals));
  t.true(keeper.verifyProof(dctx, id, p1.proof, p1.signals));
  t.true(keeper.verifyProof(dctx, id, p2.proof, p2.signals));
  t.false(keeper.verifyProof(dctx, id, offCurve, p2.signals));
  t.is(keeper.stats.verdictHits, hits + 5, 'every verdict came from preverify');
  t.is(keeper.stats.verdictMisses, misses);

  // The cached verdicts equal fresh single verifications.
  keeper.clearCaches();
  t.deepEqual(
    [p0, tampered, p1, p2].map((x) => ('circuitId' in x ? keeper.verifyProof(dctx, id, x.proof, x.publicSignals) : keeper.verifyProof(dctx, id, x.proof, x.signals))),
    [true, false, true, true],
  );
});

test('the verdict cache is bounded and evicts the oldest entries', (t) => {
  const kv = new SortedArrayKV();
  const ctx = newContext(kv, 'genesis');
  const bank = createBankModule({ accounts: new TestAccounts() });
  const v = createVerifierModule({ bank: bank.keeper, options: { verdictCacheSize: 2 } });
  v.module.initGenesis!(ctx, JSON.parse(JSON.stringify(defaultVerifierGenesis())));
  const id = genesisCircuitId();
  for (const p of proofs) t.true(v.keeper.verifyProof(ctx, id, p.proof, p.signals));
  t.is(v.keeper.cachedVerdicts, 2);
  const hits = v.keeper.stats.verdictHits;
  t.true(v.keeper.verifyProof(ctx, id, proofs[2].proof, proofs[2].signals));
  t.is(v.keeper.stats.verdictHits, hits + 1, 'newest kept');
  t.true(v.keeper.verifyProof(ctx, id, proofs[0].proof, proofs[0].signals));
  t.is(v.keeper.stats.verdictHits, hits + 1, 'oldest evicted, verified again');
});

test('batched-and-cached and cold keepers agree on every verdict and every gas charge', (t) => {
  const warm = setup();
  const cold = setup();
  const id = genesisCircuitId();
  const items: { proof: Uint8Array; signals: bigint[] }[] = [];
  for (const p of proofs) for (const q of proofs) items.push({ proof: p.proof, signals: q.signals }); // 3 valid of 9
  const flipped = new Uint8Array(proofs[1].proof);
  flipped[100] ^= 0x40; // inside B: off the twist (or not a field element)
  items.push({ proof: flipped, signals: proofs[1].signals });
  warm.keeper.preverify(new Context(warm.kv, { chainId: 'x', height: 6n, timeSeconds: 1n }, 'block'), items.map((i) => ({ circuitId: id, proof: i.proof, publicSignals: i.signals })));
  const run = (s: ReturnType<typeof setup>) =>
    items.map((i) => {
      const ctx = new Context(s.kv, { chainId: 'x', height: 6n, timeSeconds: 1n }, 'deliver', new GasMeter(10_000_000n));
      let out: boolean | string;
      try {
        out = s.keeper.verifyProof(ctx, id, i.proof, i.signals);
      } catch (e) {
        out = (e as AppError).codespace + ':' + (e as AppError).code;
      }
      return [out, ctx.gas.consumed] as const;
    });
  const a = run(warm);
  const b = run(cold);
  t.deepEqual(a, b);
  t.is(a.filter(([v]) => v === true).length, 3);
  t.is(cold.keeper.stats.verdictHits, 0);
  t.true(warm.keeper.stats.verdictHits >= 9);
});
