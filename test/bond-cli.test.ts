/**
 * `proofbook tx bond …` / `proofbook query bond …` in process (the real CLI program from cli/main.ts with the bond
 * commands mounted as the lead mounts them) against the in-process devnet (real ProofbookApp on LevelDB, CometBFT
 * JSON-RPC, cosmjs SigningStargateClient with the proofbook registry): bond, unbond (id and completion height),
 * unjail refused, queries in text and JSON, usage errors with exit code 2.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildProgram } from '../cli/main.js';
import { bondQueryCommand, bondTxCommand } from '../cli/bond.js';
import { EXIT, CliError, describeError } from '../cli/common.js';
import { CommanderError } from 'commander';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { DEVNET_MNEMONIC, defaultGenesis, devnetAccounts } from '../genesis/index.js';
import { Keyring } from '../src/keyring/index.js';
import { initVerifierBackend } from '../modules/verifier/index.js';

interface Run { code: number; stdout: string; stderr: string }

let devnet: Devnet;
let home: string;

test.before(async () => {
  await initVerifierBackend();
  home = await mkdtemp(join(tmpdir(), 'bond-cli-'));
  const appState = defaultGenesis() as any;
  appState.bond = { ...appState.bond, params: { ...appState.bond.params, unbonding_blocks: '2' } };
  devnet = await startDevnet({ home, blockTimeMs: 50, rpcAddress: '127.0.0.1:0', appState, logger: pino({ level: 'silent' }) });
});

test.after.always(async () => {
  await devnet?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Runs the CLI in process, capturing stdout/stderr; returns the exit code main() would return. */
async function cli(args: string[]): Promise<Run> {
  const program = buildProgram();
  program.commands.find((c) => c.name() === 'tx')!.addCommand(bondTxCommand().exitOverride());
  program.commands.find((c) => c.name() === 'query')!.addCommand(bondQueryCommand().exitOverride());
  for (const c of program.commands) for (const s of c.commands) if (s.name() === 'bond') s.commands.forEach((x) => x.exitOverride());
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
      stderr += err.message;
      code = err.exitCode;
    }
  } finally {
    (process.stdout as any).write = ow;
    (process.stderr as any).write = ew;
  }
  return { code, stdout, stderr };
}

test.serial('bond, unbond, unjail and the bond queries through the CLI', async (t) => {
  // One devnet key in the test-backend keyring (what `keys import-devnet` stores for devnet3).
  const acc = devnetAccounts()[3];
  const { info } = await Keyring.forHome(home, { backend: 'test' }).add('devnet3', { mnemonic: DEVNET_MNEMONIC, hdPath: acc.hdPath });
  const addr = acc.address;
  t.is(info.address, addr);

  const b = await cli(['tx', 'bond', 'bond', '5000uproof', '--from', 'devnet3', '--fees', '2000uproof', '--output', 'json']);
  t.is(b.code, 0, b.stderr);
  t.is(JSON.parse(b.stdout).code, 0);

  const u = await cli(['tx', 'bond', 'unbond', '1200uproof', '--from', 'devnet3', '--fees', '2000uproof', '--output', 'json']);
  t.is(u.code, 0, u.stderr);
  const uj = JSON.parse(u.stdout);
  t.is(uj.unbonding_id, '1');
  t.is(BigInt(uj.completion_height), BigInt(uj.height) + 2n);

  const p = await cli(['query', 'bond', 'prover', 'devnet3', '--output', 'json']);
  t.is(p.code, 0, p.stderr);
  const pj = JSON.parse(p.stdout);
  t.is(pj.prover.address, addr);
  t.deepEqual(pj.prover.bonded, [{ denom: 'uproof', amount: '3800' }]);
  // The unbonding may already have matured (blocks every 50 ms); if listed, it is the one just created.
  for (const e of pj.unbonding) t.is(e.id, '1');

  const text = await cli(['query', 'bond', 'prover', addr]);
  t.regex(text.stdout, /bonded: 3800uproof\nlocked: 0\njailed: false/);

  const list = await cli(['query', 'bond', 'provers', '--limit', '5', '--output', 'json']);
  t.is(list.code, 0, list.stderr);
  t.deepEqual(JSON.parse(list.stdout).provers.map((x: { address: string }) => x.address), [addr]);
  const params = await cli(['query', 'bond', 'params']);
  t.regex(params.stdout, /collateral_denoms: uproof\nunbonding_blocks: 2\nmax_misses: 3\njail_blocks: 200/);

  // Refusals: over-unbond and unjail of a prover that is not jailed fail with exit 1 and the chain's reason.
  const over = await cli(['tx', 'bond', 'unbond', '3801uproof', '--from', 'devnet3', '--fees', '2000uproof']);
  t.is(over.code, EXIT.FAILED);
  t.regex(over.stderr, /free collateral is 3800uproof/);
  const unjail = await cli(['tx', 'bond', 'unjail', '--from', 'devnet3', '--fees', '2000uproof']);
  t.is(unjail.code, EXIT.FAILED);
  t.regex(unjail.stderr, /not jailed/);
  const unknown = await cli(['query', 'bond', 'prover', devnetAccounts()[4].address]);
  t.is(unknown.code, EXIT.FAILED);
  t.regex(unknown.stderr, /never bonded/);

  // Usage errors: exit 2 before anything is sent.
  t.is((await cli(['tx', 'bond', 'bond', 'lots', '--from', 'devnet3', '--fees', '2000uproof'])).code, EXIT.USAGE);
  t.is((await cli(['tx', 'bond', 'bond', '5uproof'])).code, EXIT.USAGE, '--from is required');
  t.is((await cli(['query', 'bond', 'provers', '--limit', '-1'])).code, EXIT.USAGE);
});
