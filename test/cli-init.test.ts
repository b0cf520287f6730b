/**
 * `proofbook init`, `keys import-devnet`, help texts and argument validation through the real CLI process.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { devnetAccounts } from '../genesis/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function cli(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.PROOFBOOK_HOME;
    delete env.PROOFBOOK_KEYRING_PASSPHRASE;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

function tmp(t: { teardown(f: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cli-init-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('init writes config.json, genesis.json (default genesis with funded devnet accounts), data/ and keyring/ (700)', async (t) => {
  const home = path.join(tmp(t), 'home');
  const r = await cli(['init', '--home', home, '--chain-id', 'pb-test-7', '-o', 'json']);
  t.is(r.code, 0, r.stderr);
  const config = JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8')) as { chainId: string; node: string };
  t.is(config.chainId, 'pb-test-7');
  t.is(config.node, 'http://127.0.0.1:26657');
  const genesis = JSON.parse(fs.readFileSync(path.join(home, 'genesis.json'), 'utf8')) as { chain_id: string; app_state: { bank: { balances: { address: string }[] } } };
  t.is(genesis.chain_id, 'pb-test-7');
  t.deepEqual(genesis.app_state.bank.balances.map((b) => b.address).sort(), devnetAccounts().map((a) => a.address).sort());
  t.true(fs.statSync(path.join(home, 'data')).isDirectory());
  t.is(fs.statSync(path.join(home, 'keyring')).mode & 0o777, 0o700);

  // A second init refuses to clobber; --overwrite rewrites config and genesis.
  const again = await cli(['init', '--home', home]);
  t.is(again.code, 1);
  t.regex(again.stderr, /already initialized/);
  t.regex(again.stderr, /--overwrite/);
  const over = await cli(['init', '--home', home, '--chain-id', 'pb-test-8', '--overwrite']);
  t.is(over.code, 0, over.stderr);
  t.is((JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8')) as { chainId: string }).chainId, 'pb-test-8');

  const bad = await cli(['init', '--home', path.join(home, 'x'), '--chain-id', 'bad chain id']);
  t.is(bad.code, 2);
});

test('keys import-devnet: devnet0..devnet9 match genesis, test backend, idempotent', async (t) => {
  const home = tmp(t);
  const r = await cli(['keys', 'import-devnet', '--home', home, '-o', 'json']);
  t.is(r.code, 0, r.stderr);
  const keys = JSON.parse(r.stdout) as { name: string; address: string; backend: string; status: string }[];
  t.deepEqual(keys.map((k) => [k.name, k.address]), devnetAccounts().map((a) => [`devnet${a.index}`, a.address]));
  t.true(keys.every((k) => k.backend === 'test' && k.status === 'imported'));
  const again = await cli(['keys', 'import-devnet', '--home', home, '-o', 'json']);
  t.is(again.code, 0, again.stderr);
  t.true((JSON.parse(again.stdout) as { status: string }[]).every((k) => k.status === 'exists'));
  const show = await cli(['keys', 'show', 'devnet3', '-a', '--home', home]);
  t.is(show.stdout.trim(), devnetAccounts()[3].address);
});

test('every command has help with an example; bad arguments exit 2', async (t) => {
  for (const args of [['init'], ['devnet'], ['start'], ['keys'], ['tx', 'bank', 'send'], ['query', 'balance'], ['query', 'tx'], ['query', 'block'], ['query', 'account'], ['status']]) {
    const r = await cli([...args, '--help']);
    t.is(r.code, 0, args.join(' '));
    t.regex(r.stdout, /Example/, `${args.join(' ')} --help shows an example`);
  }
  // Module command groups are mounted under tx and query (loaded lazily).
  const txHelp = await cli(['tx', '--help']);
  const queryHelp = await cli(['query', '--help']);
  for (const group of ['bank', 'bond', 'market', 'verifier']) t.regex(txHelp.stdout, new RegExp(`\\n  ${group} `), `tx ${group}`);
  for (const group of ['bond', 'market', 'verifier']) t.regex(queryHelp.stdout, new RegExp(`\\n  ${group} `), `query ${group}`);

  const devnetHelp = await cli(['devnet', '--help']);
  t.regex(devnetHelp.stdout, /--rpc-laddr/);
  t.regex(devnetHelp.stdout, /keys import-devnet/);

  t.is((await cli(['start', '--abci', 'localhost:1'])).code, 2);
  t.is((await cli(['devnet', '--rpc-laddr', 'nonsense'])).code, 2);
  t.is((await cli(['query', 'tx', 'xyz'])).code, 2);
  t.is((await cli(['query', 'balance', 'cosmos1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du'])).code, 2);
  t.is((await cli(['--output', 'yaml', 'status'])).code, 2);
  const noFee = await cli(['tx', 'bank', 'send', 'a', 'b', '1uproof', '--node', 'http://127.0.0.1:1']);
  t.not(noFee.code, 0);
});
