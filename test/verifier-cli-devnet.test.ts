/**
 * `proofbook tx verifier register-circuit` / `proofbook query verifier …` in process (the real CLI program with the
 * verifier commands mounted as the lead mounts them) against the in-process devnet (real ProofbookApp on LevelDB,
 * CometBFT JSON-RPC, cosmjs SigningStargateClient with the proofbook registry).
 */
import test from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { CommanderError } from 'commander';
import { buildProgram } from '../cli/main.js';
import { verifierQueryCommand, verifierTxCommand } from '../cli/verifier.js';
import { EXIT, CliError, describeError } from '../cli/common.js';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { DEVNET_MNEMONIC, defaultGenesis, devnetAccounts } from '../genesis/index.js';
import { ProofbookApp } from '../app/app.js';
import { Keyring } from '../src/keyring/index.js';
import { initVerifierBackend, genesisCircuit, genesisCircuitDir, computeCircuitId } from '../modules/verifier/index.js';
import { encodeVerifyingKey, verifyingKeyToSnarkjs } from '../src/zk/groth16.js';
import { loadGenesisVerifyingKey } from '../src/zk/genesis.js';
import { ProofSystem } from '../src/gen/proofbook/verifier/v1/verifier.js';

interface Run { code: number; stdout: string; stderr: string }

let devnet: Devnet;
let home: string;

test.before(async () => {
  await initVerifierBackend();
  home = await mkdtemp(join(tmpdir(), 'verifier-cli-'));
  const logger = pino({ level: 'silent' });
  const app = await ProofbookApp.open({ home, logger });
  // WORKAROUND (reported to the lead): CometBFT's broadcast_tx_sync returns CheckTx `data` as hex (ResultBroadcastTx.Data
  // is bytes.HexBytes) but cosmjs decodes it as base64, which throws for odd-length data such as this message's
  // TxMsgData. The Cosmos SDK's CheckTx returns no data (it runs only the ante handler); until ProofbookApp does the
  // same, the test drops CheckTx data here. DeliverTx results (and so everything asserted below) are untouched.
  const checkTx = app.checkTx.bind(app);
  app.checkTx = async (req) => ({ ...(await checkTx(req)), data: new Uint8Array() });
  devnet = await startDevnet({ home, blockTimeMs: 50, rpcAddress: '127.0.0.1:0', app, appState: defaultGenesis(), logger });
});

test.after.always(async () => {
  await devnet?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<Run> {
  const program = buildProgram();
  program.commands.find((c) => c.name() === 'tx')!.addCommand(verifierTxCommand().exitOverride());
  program.commands.find((c) => c.name() === 'query')!.addCommand(verifierQueryCommand().exitOverride());
  for (const c of program.commands) for (const s of c.commands) if (s.name() === 'verifier') s.commands.forEach((x) => x.exitOverride().configureOutput({ writeErr: () => {} }));
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  (process.stdout as any).write = (s: string | Uint8Array) => ((stdout += String(s)), true);
  (process.stderr as any).write = (s: string | Uint8Array) => ((stderr += String(s)), true);
  let code: number = EXIT.OK;
  try {
    await program.parseAsync(['node', 'proofbook', '--home', home, '--node', devnet.rpcUrl, ...args]);
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    else {
      const err = e instanceof CliError ? e : describeError(e, { node: devnet.rpcUrl, home });
      stderr += err.message + (process.env.VDEBUG ? String((e as Error).stack) : "");
      code = err.exitCode;
    }
  } finally {
    (process.stdout as any).write = ow;
    (process.stderr as any).write = ew;
  }
  return { code, stdout, stderr };
}

test.serial('register a circuit and read the registry through the CLI', async (t) => {
  const acc = devnetAccounts()[5];
  await Keyring.forHome(home, { backend: 'test' }).add('devnet5', { mnemonic: DEVNET_MNEMONIC, hdPath: acc.hdPath });
  const base = loadGenesisVerifyingKey();
  const variant = { ...base, ic: [base.ic[1], base.ic[0], base.ic[2]] };
  const vkFile = join(home, 'variant_vk.json');
  writeFileSync(vkFile, JSON.stringify(verifyingKeyToSnarkjs(variant)));
  const g0 = genesisCircuit();
  const id = computeCircuitId(ProofSystem.PROOF_SYSTEM_GROTH16_BN254, encodeVerifyingKey(variant), { wasmSha256: g0.wasm!.sha256, provingKeySha256: g0.provingKey!.sha256, owner: acc.address });
  const dir = genesisCircuitDir();
  const args = ['tx', 'verifier', 'register-circuit', '--name', 'variant', '--vk', vkFile, '--wasm', dir + 'circuit.wasm', '--zkey', dir + 'circuit_final.zkey',
    '--zkey-uri', 'https://example.org/variant.zkey', '--constraints', '4741', '--from', 'devnet5', '--fees', '5000uproof'];

  const r = await cli([...args, '--output', 'json']);
  t.is(r.code, 0, r.stderr);
  const rj = JSON.parse(r.stdout);
  t.is(rj.code, 0);
  t.is(rj.circuit_id, id);
  const g = genesisCircuit();
  t.true(existsSync(join(home, 'artifacts', `${g.wasm!.sha256}.wasm`)), 'wasm without a URI staged under ${home}/artifacts');
  t.false(existsSync(join(home, 'artifacts', `${g.provingKey!.sha256}.zkey`)), 'zkey with a URI not staged');

  const q = await cli(['query', 'verifier', 'circuit', id, '--output', 'json']);
  t.is(q.code, 0, q.stderr);
  const qj = JSON.parse(q.stdout);
  t.is(qj.name, 'variant');
  t.is(qj.owner, acc.address);
  t.deepEqual(qj.wasm, { sha256: g.wasm!.sha256, uri: `/artifacts/${g.wasm!.sha256}`, size: g.wasm!.size.toString() });
  t.is(qj.proving_key.uri, 'https://example.org/variant.zkey');
  t.deepEqual(qj.deposit, [{ denom: 'uproof', amount: '1000000' }]);
  t.regex((await cli(['query', 'verifier', 'circuit', id])).stdout, new RegExp(`id: ${id}\\nname: variant\\nproof_system: PROOF_SYSTEM_GROTH16_BN254\\nconstraints: 4741\\nnum_public_inputs: 2`));

  const list = await cli(['query', 'verifier', 'circuits', '--output', 'json']);
  t.is(list.code, 0, list.stderr);
  t.deepEqual(JSON.parse(list.stdout).circuits.map((c: { id: string }) => c.id), [id, g.id].sort());
  const page = JSON.parse((await cli(['query', 'verifier', 'circuits', '--limit', '1', '--output', 'json'])).stdout);
  t.is(page.circuits.length, 1);
  t.is(page.pagination.total, '2');
  t.regex(page.pagination.next_key, /^[0-9a-f]+$/);
  t.regex((await cli(['query', 'verifier', 'params'])).stdout, /registration_deposit: 1000000uproof\nverify_gas_base: 150000\nverify_gas_per_input: 5000\nmax_verifying_key_bytes: 16900/);

  // Refusals: the chain's reason, exit 1.
  const dup = await cli(args);
  t.is(dup.code, EXIT.FAILED);
  t.regex(dup.stderr, /already registered/);
  const plonk = await cli([...args, '--proof-system', 'plonk']);
  t.is(plonk.code, EXIT.FAILED);
  t.regex(plonk.stderr, /not supported yet/);
  const unknown = await cli(['query', 'verifier', 'circuit', '00'.repeat(32)]);
  t.is(unknown.code, EXIT.FAILED);
  t.regex(unknown.stderr, /NotFound/);

  // Usage errors: exit 2 before anything is sent.
  t.is((await cli(['query', 'verifier', 'circuit', 'xyz'])).code, EXIT.USAGE);
  t.is((await cli(['tx', 'verifier', 'register-circuit', '--name', 'x'])).code, EXIT.USAGE);
  const badC = args.slice();
  badC[badC.indexOf('--constraints') + 1] = '0';
  t.is((await cli(badC)).code, EXIT.USAGE);
});
