/**
 * The native Groth16 prover (native/prover, Go + gnark-crypto): its proofs of random witnesses verify with snarkjs
 * and with the chain's verifier on every test circuit (the genesis key from a real snarkjs ceremony, and a key from
 * the test-only setup), fixed randomness reproduces a proof byte for byte, and malformed inputs give clear errors
 * with distinct exit codes. The 2^16/2^18 circuits belong to `npm run bench -- prove`, not here.
 */
import test from 'ava';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCircuit, ensureNative, NATIVE_PROVER } from '../bench/circuits.js';
import { GENESIS_CIRCUIT } from '../src/zk/genesis.js';
import { proofFromSnarkjs, publicSignalsFromSnarkjs, R, verifyingKeyFromSnarkjs } from '../src/zk/groth16.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { initZk, prepareVerifyingKey, verifyOne, type PreparedVk } from '../src/zk/verifier.js';

interface Snarkjs {
  wtns: { calculate(input: unknown, wasm: string, out: string): Promise<void> };
  groth16: { verify(vk: unknown, pub: unknown, proof: unknown): Promise<boolean> };
}
const specifier: string = 'snarkjs';
const snarkjs = (await import(specifier)) as Snarkjs;

interface Circ { name: string; wasmPath: string; zkeyPath: string; vkJson: unknown; vk: PreparedVk }

let dir: string;
let circuits: Circ[];

test.before(async () => {
  ensureNative();
  await initZk();
  dir = await mkdtemp(join(tmpdir(), 'native-prover-'));
  const small = benchCircuit(3);
  const load = async (name: string, wasmPath: string, zkeyPath: string, vkPath: string): Promise<Circ> => {
    const vkJson = JSON.parse(await readFile(vkPath, 'utf8'));
    return { name, wasmPath, zkeyPath, vkJson, vk: prepareVerifyingKey(verifyingKeyFromSnarkjs(vkJson)) };
  };
  circuits = [
    await load('genesis (snarkjs ceremony key)', GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, GENESIS_CIRCUIT.verificationKeyPath),
    await load(`${small.name} (test-only setup key)`, small.wasmPath, small.zkeyPath, small.vkeyPath),
  ];
});

test.after.always(async () => {
  await terminateSnarkjs();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function prover(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NATIVE_PROVER, args, { timeout: 120_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
    });
  });
}

let seq = 0;
async function witness(c: Circ, input: Record<string, string>): Promise<string> {
  const p = join(dir, `w${++seq}.wtns`);
  await snarkjs.wtns.calculate(input, c.wasmPath, p);
  return p;
}

async function prove(c: Circ, wtns: string, extra: string[] = []): Promise<{ proof: unknown; pub: string[]; raw: string }> {
  const out = join(dir, `p${++seq}`);
  const r = await prover([...extra, c.zkeyPath, wtns, `${out}.proof.json`, `${out}.public.json`]);
  if (r.code !== 0) throw new Error(`prover exit ${r.code}: ${r.stderr}`);
  const raw = await readFile(`${out}.proof.json`, 'utf8');
  return { proof: JSON.parse(raw), pub: JSON.parse(await readFile(`${out}.public.json`, 'utf8')), raw };
}

test.serial('native proofs of random witnesses verify with snarkjs and with the chain verifier, on every test circuit', async (t) => {
  for (const c of circuits) {
    await fc.assert(
      fc.asyncProperty(fc.bigInt(0n, R - 1n), fc.bigInt(0n, R - 1n), async (preimage, nonce) => {
        const w = await witness(c, { preimage: preimage.toString(), nonce: nonce.toString() });
        const { proof, pub } = await prove(c, w);
        t.is(pub.length, 2, c.name);
        t.is(pub[1], nonce.toString(), `${c.name}: the nonce is the second public signal`);
        t.true(await snarkjs.groth16.verify(c.vkJson, pub, proof), `${c.name}: snarkjs accepts`);
        const signals = publicSignalsFromSnarkjs(pub);
        t.true(verifyOne(c.vk, proofFromSnarkjs(proof), signals), `${c.name}: the chain verifier accepts`);
        // The check could fail: the same proof with another nonce is rejected.
        t.false(verifyOne(c.vk, proofFromSnarkjs(proof), [signals[0]!, (signals[1]! + 1n) % R]), `${c.name}: bound to its public signals`);
      }),
      { numRuns: 3, seed: 14 },
    );
  }
});

test.serial('fixed randomness reproduces a proof byte for byte; other randomness gives another valid proof', async (t) => {
  const c = circuits[1]!;
  const w = await witness(c, { preimage: '123', nonce: '456' });
  const a = await prove(c, w, ['--randomness', '11,22']);
  const b = await prove(c, w, ['--randomness', '11,22']);
  const d = await prove(c, w, ['--randomness', '11,23']);
  t.is(a.raw, b.raw);
  t.not(a.raw, d.raw);
  t.true(await snarkjs.groth16.verify(c.vkJson, d.pub, d.proof));
  const p = a.proof as Record<string, unknown>;
  t.deepEqual(Object.keys(p), ['pi_a', 'pi_b', 'pi_c', 'protocol', 'curve'], 'snarkjs proof.json layout');
  t.is(p.protocol, 'groth16');
  t.is(p.curve, 'bn128');
});

/** Offsets of the sections of an iden3 binary file (zkey, wtns). */
function sections(b: Buffer): Map<number, { off: number; size: number }> {
  const m = new Map<number, { off: number; size: number }>();
  let pos = 12;
  for (let i = 0; i < b.readUInt32LE(8); i++) {
    const type = b.readUInt32LE(pos);
    const size = Number(b.readBigUInt64LE(pos + 4));
    m.set(type, { off: pos + 12, size });
    pos += 12 + size;
  }
  return m;
}

test.serial('malformed zkey and wtns files give clear errors and distinct exit codes', async (t) => {
  const [genesis, small] = circuits as [Circ, Circ];
  const good = await witness(small, { preimage: '5', nonce: '6' });
  const out = [join(dir, 'm.proof.json'), join(dir, 'm.public.json')];
  const zkey = await readFile(small.zkeyPath);
  const wtns = await readFile(good);
  const file = async (name: string, data: Buffer) => { const p = join(dir, name); await writeFile(p, data); return p; };
  const zs = sections(zkey);
  const ws = sections(wtns);

  const cases: [string, string[], number, RegExp][] = [
    ['usage', [small.zkeyPath, good], 2, /usage: prover/],
    ['missing zkey', [join(dir, 'nope.zkey'), good, ...out], 3, /cannot read zkey.*no such file/],
    ['not a zkey', [good, good, ...out], 3, /not a "zkey" file/],
    ['truncated zkey', [await file('trunc.zkey', zkey.subarray(0, zkey.length >> 1)), good, ...out], 3, /malformed zkey.*truncated/],
  ];
  // A coefficient naming a signal outside the circuit.
  const badCoef = Buffer.from(zkey);
  badCoef.writeUInt32LE(0xfffffff0, zs.get(4)!.off + 4 + 8);
  cases.push(['zkey coefficient out of range', [await file('coef.zkey', badCoef), good, ...out], 3, /malformed zkey: coefficient 0 names signal/]);
  // A corrupted A point: the proof cannot verify, and the prover says so instead of writing it.
  const badPoint = Buffer.from(zkey);
  badPoint[zs.get(5)!.off + 64 * 5 + 3]! ^= 0x40;
  cases.push(['corrupted zkey point', [await file('point.zkey', badPoint), good, ...out], 6, /does not verify.*zkey is corrupt/]);
  cases.push(['truncated wtns', [small.zkeyPath, await file('trunc.wtns', wtns.subarray(0, wtns.length - 7)), ...out], 4, /malformed wtns.*truncated/]);
  // A value ≥ r.
  const big = Buffer.from(wtns);
  big.fill(0xff, ws.get(2)!.off + 32 * 3, ws.get(2)!.off + 32 * 4);
  cases.push(['wtns value out of the field', [small.zkeyPath, await file('big.wtns', big), ...out], 4, /value 3 is not a canonical field element/]);
  // A witness of another circuit.
  cases.push(['wtns of another circuit', [small.zkeyPath, await witness(genesis, { preimage: '1', nonce: '2' }), ...out], 5, /invalid witness length: the circuit has \d+ variables, the witness \d+/]);
  // A witness that does not satisfy the constraints (last private value changed).
  const unsat = Buffer.from(wtns);
  const last = ws.get(2)!.off + ws.get(2)!.size - 32;
  unsat[last] = unsat[last]! ^ 1;
  cases.push(['unsatisfied witness', [small.zkeyPath, await file('unsat.wtns', unsat), ...out], 6, /does not verify.*witness does not satisfy/]);
  cases.push(['no such device', ['--device', 'cuda', small.zkeyPath, good, ...out], 8, /device "cuda" is not available/]);
  cases.push(['unwritable output', [small.zkeyPath, good, join(dir, 'no', 'dir', 'p.json'), out[1]!], 7, /cannot write outputs/]);

  for (const [name, args, code, msg] of cases) {
    const r = await prover(args);
    t.is(r.code, code, `${name}: ${r.stderr}`);
    t.regex(r.stderr, msg, name);
  }
  // The good inputs still prove (the cases above changed copies only).
  const ok = await prover([small.zkeyPath, good, ...out]);
  t.is(ok.code, 0, ok.stderr);
});
