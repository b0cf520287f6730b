/**
 * `proofbook keys …` through the real CLI process (node --import tsx cli/main.ts) in temporary homes:
 * add/list/show/import/export/delete round trips, file modes, encryption at rest, wrong passphrases.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveAccount } from '../src/keyring/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// A fixed, valid 24-word BIP39 mnemonic (test only).
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art';

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PROOFBOOK_KEYRING_PASSPHRASE: undefined, PROOFBOOK_HOME: undefined, PROOFBOOK_KEYRING_BACKEND: undefined, ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

function tmpHome(t: { teardown(f: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cli-keys-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const mode = (p: string) => fs.statSync(p).mode & 0o777;

test('keys add (test backend) -> list -> show -> show -a; modes 700/600; json output', async (t) => {
  const home = tmpHome(t);
  const add = await cli(['keys', 'add', 'alice', '--home', home, '--keyring-backend', 'test', '--output', 'json']);
  t.is(add.code, 0, add.stderr);
  const created = JSON.parse(add.stdout) as { name: string; address: string; mnemonic: string; backend: string; hd_path: string };
  t.is(created.name, 'alice');
  t.is(created.backend, 'test');
  t.is(created.hd_path, "m/44'/118'/0'/0/0");
  t.is(created.mnemonic.split(' ').length, 24);
  t.regex(created.address, /^proof1[02-9ac-hj-np-z]{38}$/);
  // The address really derives from the printed mnemonic at m/44'/118'/0'/0/0.
  t.is((await deriveAccount(created.mnemonic)).address, created.address);

  t.is(mode(path.join(home, 'keyring')), 0o700);
  t.is(mode(path.join(home, 'keyring', 'alice.json')), 0o600);

  const list = await cli(['keys', 'list', '--home', home, '-o', 'json']);
  t.is(list.code, 0, list.stderr);
  t.deepEqual((JSON.parse(list.stdout) as { name: string; address: string }[]).map((k) => [k.name, k.address]), [['alice', created.address]]);

  const show = await cli(['keys', 'show', 'alice', '--home', home]);
  t.is(show.code, 0);
  t.true(show.stdout.includes(`address: ${created.address}`));
  const showA = await cli(['keys', 'show', 'alice', '-a', '--home', home]);
  t.is(showA.stdout.trim(), created.address);

  // Adding the same name again is refused with the keyring exit code and a hint.
  const dup = await cli(['keys', 'add', 'alice', '--home', home, '--keyring-backend', 'test']);
  t.is(dup.code, 4);
  t.regex(dup.stderr, /already exists/);
});

test('keys import from stdin gives the deterministic address; --recover equals import; delete needs --yes', async (t) => {
  const home = tmpHome(t);
  const expected = (await deriveAccount(MNEMONIC)).address;
  const imp = await cli(['keys', 'import', 'bob', '--home', home, '--keyring-backend', 'test', '-o', 'json'], { input: `  ${MNEMONIC.toUpperCase()}\n` });
  t.is(imp.code, 0, imp.stderr);
  t.is((JSON.parse(imp.stdout) as { address: string }).address, expected);

  const rec = await cli(['keys', 'add', 'bob2', '--recover', '--home', home, '--keyring-backend', 'test', '-o', 'json'], { input: MNEMONIC });
  t.is(rec.code, 0, rec.stderr);
  const recovered = JSON.parse(rec.stdout) as { address: string; mnemonic?: string };
  t.is(recovered.address, expected);
  t.is(recovered.mnemonic, undefined, 'a recovered key does not echo the mnemonic');

  // Another HD path gives another address.
  const other = await cli(['keys', 'import', 'bob3', '--hd-path', "m/44'/118'/0'/0/1", '--home', home, '--keyring-backend', 'test', '-o', 'json'], { input: MNEMONIC });
  t.is(other.code, 0, other.stderr);
  t.not((JSON.parse(other.stdout) as { address: string }).address, expected);

  const bad = await cli(['keys', 'import', 'eve', '--home', home, '--keyring-backend', 'test'], { input: MNEMONIC.replace(/art$/, 'abandon') });
  t.is(bad.code, 4);
  t.regex(bad.stderr, /invalid BIP39 mnemonic/);
  t.false(fs.existsSync(path.join(home, 'keyring', 'eve.json')));

  const noYes = await cli(['keys', 'delete', 'bob', '--home', home]);
  t.is(noYes.code, 2);
  t.true(fs.existsSync(path.join(home, 'keyring', 'bob.json')));
  const del = await cli(['keys', 'delete', 'bob', '--yes', '--home', home]);
  t.is(del.code, 0, del.stderr);
  const list = await cli(['keys', 'list', '--home', home, '-o', 'json']);
  t.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((k) => k.name), ['bob2', 'bob3']);
});

test('file backend: mnemonic encrypted at rest; right passphrase exports it, wrong one fails clearly (exit 4)', async (t) => {
  const home = tmpHome(t);
  const pass = 'correct horse battery staple';
  const add = await cli(['keys', 'add', 'carol', '--home', home, '-o', 'json'], { env: { PROOFBOOK_KEYRING_PASSPHRASE: pass } });
  t.is(add.code, 0, add.stderr);
  const { mnemonic, address, backend } = JSON.parse(add.stdout) as { mnemonic: string; address: string; backend: string };
  t.is(backend, 'file');
  const file = path.join(home, 'keyring', 'carol.json');
  t.is(mode(file), 0o600);
  const raw = fs.readFileSync(file, 'utf8');
  for (const w of new Set(mnemonic.split(' '))) t.false(raw.includes(` ${w} `), 'no mnemonic word is stored in the clear');
  t.false(raw.includes(mnemonic.split(' ').slice(0, 3).join(' ')));
  const stored = JSON.parse(raw) as { crypto: { kdf: string; cipher: string } };
  t.is(stored.crypto.kdf, 'scrypt');
  t.is(stored.crypto.cipher, 'aes-256-gcm');

  // Public info needs no passphrase.
  const show = await cli(['keys', 'show', 'carol', '-a', '--home', home]);
  t.is(show.stdout.trim(), address);

  const ok = await cli(['keys', 'export', 'carol', '--home', home, '-o', 'json'], { env: { PROOFBOOK_KEYRING_PASSPHRASE: pass } });
  t.is(ok.code, 0, ok.stderr);
  t.is((JSON.parse(ok.stdout) as { mnemonic: string }).mnemonic, mnemonic);

  const wrong = await cli(['keys', 'export', 'carol', '--home', home], { env: { PROOFBOOK_KEYRING_PASSPHRASE: 'not the passphrase' } });
  t.is(wrong.code, 4);
  t.regex(wrong.stderr, /wrong keyring passphrase for key 'carol'/);
  t.is(wrong.stdout, '');
  t.is(fs.readFileSync(file, 'utf8'), raw, 'a failed unlock leaves the key file unchanged');

  // Signing needs the secret too: the wrong passphrase stops tx bank send before any network access.
  const send = await cli(['tx', 'bank', 'send', 'carol', address, '1uproof', '--fees', '1uproof', '--home', home, '--node', 'http://127.0.0.1:1'], { env: { PROOFBOOK_KEYRING_PASSPHRASE: 'nope nope' } });
  t.is(send.code, 4);
  t.regex(send.stderr, /wrong keyring passphrase/);

  // No passphrase and no terminal: a clear instruction, not a hang.
  const none = await cli(['keys', 'export', 'carol', '--home', home]);
  t.is(none.code, 4);
  t.regex(none.stderr, /PROOFBOOK_KEYRING_PASSPHRASE/);

  // Editing the stored address breaks authentication (it is bound as AAD).
  const tampered = JSON.parse(raw) as { address: string };
  tampered.address = (await deriveAccount(MNEMONIC)).address;
  fs.writeFileSync(file, JSON.stringify(tampered));
  const tam = await cli(['keys', 'export', 'carol', '--home', home], { env: { PROOFBOOK_KEYRING_PASSPHRASE: pass } });
  t.is(tam.code, 4);
});

test('unknown key and usage errors name the fix; PROOFBOOK_HOME is honoured', async (t) => {
  const home = tmpHome(t);
  const show = await cli(['keys', 'show', 'nobody'], { env: { PROOFBOOK_HOME: home } });
  t.is(show.code, 4);
  t.regex(show.stderr, /no key named 'nobody'/);
  t.regex(show.stderr, /proofbook keys list/);

  const badName = await cli(['keys', 'add', '../evil', '--home', home, '--keyring-backend', 'test']);
  t.is(badName.code, 4);
  t.false(fs.existsSync(path.join(home, 'evil.json')));

  const unknown = await cli(['keys', 'frobnicate', '--home', home]);
  t.is(unknown.code, 2);

  const help = await cli(['keys', 'add', '--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /Examples:/);
  t.regex(help.stdout, /--keyring-backend test/);

  const add = await cli(['keys', 'add', 'dave', '--keyring-backend', 'test'], { env: { PROOFBOOK_HOME: home } });
  t.is(add.code, 0, add.stderr);
  t.true(fs.existsSync(path.join(home, 'keyring', 'dave.json')));
});
