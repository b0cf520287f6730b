/** cli/verifier.ts: building MsgRegisterCircuit from snarkjs files, staging artifacts, command wiring. */
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { buildRegisterCircuitMsg, stageArtifacts, verifierQueryCommand, verifierTxCommand } from '../cli/verifier.js';
import { CliError } from '../cli/common.js';
import { genesisCircuit, genesisCircuitDir, validateCircuitFields, computeCircuitId } from '../modules/verifier/index.js';
import { MsgRegisterCircuit, ProofSystem } from '../src/gen/proofbook/verifier/v1/verifier.js';
import { proofbookRegistry, TYPE_URLS } from '../src/client/registry.js';

const dir = genesisCircuitDir();
const opts = {
  creator: 'proof1qyqszqgpqyqszqgpqyqszqgpqyqszqgpkfh7ls',
  name: 'hashchain-copy',
  vkPath: dir + 'verification_key.json',
  wasmPath: dir + 'circuit.wasm',
  zkeyPath: dir + 'circuit_final.zkey',
  constraints: '4741',
};

test('builds the same key, id and artifact hashes as the genesis circuit, and the message passes the chain checks', (t) => {
  const g = genesisCircuit();
  const built = buildRegisterCircuitMsg(opts);
  // Same key and artifacts as the genesis circuit, but another owner: its own id (ids commit to the owner).
  t.is(built.circuitId, computeCircuitId(g.proofSystem, g.verifyingKey, { wasmSha256: g.wasm!.sha256, provingKeySha256: g.provingKey!.sha256, owner: opts.creator }));
  t.not(built.circuitId, g.id);
  t.deepEqual(Buffer.from(built.msg.verifyingKey), Buffer.from(g.verifyingKey));
  t.deepEqual(built.msg.wasm, g.wasm);
  t.deepEqual(built.msg.provingKey, g.provingKey);
  t.is(built.msg.proofSystem, ProofSystem.PROOF_SYSTEM_GROTH16_BN254);
  t.is(built.msg.constraints, 4741n);
  t.notThrows(() => validateCircuitFields(built.msg));
  t.deepEqual(built.localArtifacts.map((a) => a.sha256), [g.wasm!.sha256, g.provingKey!.sha256]);
  // The proofbook registry signs it (cosmjs EncodeObject -> Any) and decodes it back.
  const any = proofbookRegistry().encodeAsAny({ typeUrl: TYPE_URLS.registerCircuit, value: built.msg });
  t.is(any.typeUrl, '/proofbook.verifier.v1.MsgRegisterCircuit');
  t.deepEqual(MsgRegisterCircuit.decode(any.value), built.msg);

  const withUris = buildRegisterCircuitMsg({ ...opts, wasmUri: 'https://x.example/c.wasm', zkeyUri: 'ipfs://cid' });
  t.is(withUris.msg.wasm!.uri, 'https://x.example/c.wasm');
  t.is(withUris.msg.provingKey!.uri, 'ipfs://cid');
  t.deepEqual(withUris.localArtifacts, []);
  const plonk = buildRegisterCircuitMsg({ ...opts, proofSystem: 'plonk' });
  t.is(plonk.circuitId, computeCircuitId(ProofSystem.PROOF_SYSTEM_PLONK_BN254, plonk.msg.verifyingKey, { wasmSha256: plonk.msg.wasm!.sha256, provingKeySha256: plonk.msg.provingKey!.sha256, owner: opts.creator }));
});

test('usage errors: bad constraints, proof system, unreadable or non-VK files', (t) => {
  const usage = (o: Partial<typeof opts> & { proofSystem?: string }, re: RegExp) => {
    const e = t.throws(() => buildRegisterCircuitMsg({ ...opts, ...o })) as CliError;
    t.true(e instanceof CliError);
    t.is(e.exitCode, 2);
    t.regex(e.message, re);
  };
  usage({ constraints: '0' }, /--constraints/);
  usage({ constraints: 'many' }, /--constraints/);
  usage({ proofSystem: 'stark' }, /--proof-system/);
  usage({ vkPath: dir + 'input.json' }, /verification_key\.json/);
  usage({ wasmPath: dir + 'nope.wasm' }, /cannot read the wasm file/);
});

test('stageArtifacts copies files into ${home}/artifacts under their hash (idempotent)', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'proofbook-cli-verifier-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const f = join(home, 'x.zkey');
  writeFileSync(f, 'zkey bytes');
  const sha256 = createHash('sha256').update('zkey bytes').digest('hex');
  const [dest] = stageArtifacts(home, [{ file: f, sha256 }]);
  t.is(dest, join(home, 'artifacts', `${sha256}.zkey`));
  t.is(readFileSync(dest, 'utf8'), 'zkey bytes');
  t.deepEqual(stageArtifacts(home, [{ file: f, sha256 }]), [dest]);
});

test('commands: tx verifier register-circuit and query verifier circuit|circuits|params', (t) => {
  const tx = verifierTxCommand();
  t.is(tx.name(), 'verifier');
  const reg = tx.commands.find((c) => c.name() === 'register-circuit')!;
  for (const flag of ['--name', '--vk', '--wasm', '--zkey', '--wasm-uri', '--zkey-uri', '--constraints', '--from', '--fees', '--gas']) {
    t.truthy(reg.options.find((o) => o.long === flag), flag);
  }
  const q = verifierQueryCommand();
  t.deepEqual(q.commands.map((c) => c.name()), ['circuit', 'circuits', 'params']);
  // a missing required option is a commander usage error
  const prog = new Command('p').exitOverride().configureOutput({ writeErr: () => {} });
  const tx2 = verifierTxCommand();
  tx2.exitOverride().commands.forEach((c) => c.exitOverride().configureOutput({ writeErr: () => {} }));
  prog.addCommand(tx2);
  const e = t.throws(() => prog.parse(['verifier', 'register-circuit', '--name', 'x'], { from: 'user' })) as any;
  t.regex(e.code, /missingMandatoryOptionValue/);
});
