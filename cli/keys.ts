/** `proofbook keys …`: the local BIP39 keyring in ${home}/keyring. */
import { Command, Option } from 'commander';
import { Ctx, CliError, EXIT, readMnemonic, prompt, type GlobalOpts } from './common.js';
import { DEFAULT_HD_PATH, KeyringError, type KeyInfo, type KeyringBackend } from '../src/keyring/index.js';

const BACKEND_HELP = `
Keyring backends (--keyring-backend, env PROOFBOOK_KEYRING_BACKEND, default "file"):
  file   the mnemonic is encrypted at rest (scrypt + AES-256-GCM); the passphrase comes from
         PROOFBOOK_KEYRING_PASSPHRASE or an interactive prompt.
  test   the mnemonic is stored in plain text: for devnets and throwaway keys only
         (\`keys import-devnet\` uses it, the devnet mnemonic is public anyway).
The backend is recorded in each key file, so reading a key never needs the flag.
Key files live in \${home}/keyring (directory mode 700, files mode 600).`;

function infoText(k: KeyInfo): string {
  return [`- name: ${k.name}`, `  address: ${k.address}`, `  pubkey: ${k.pubkey}`, `  hd_path: ${k.hdPath}`, `  backend: ${k.backend}`].join('\n');
}

export function keysCommand(): Command {
  const keys = new Command('keys')
    .description('manage the local keyring (BIP39 mnemonics, HD path m/44\'/118\'/0\'/0/0, addresses with prefix proof)')
    .addOption(new Option('--keyring-backend <backend>', 'where new keys are written: file (encrypted) or test (plain text)').choices(['file', 'test']))
    .addHelpText('after', `${BACKEND_HELP}

Examples:
  $ proofbook keys add alice                       # new 24-word key, asks for a passphrase
  $ proofbook keys add bob --keyring-backend test  # plain-text key for a devnet
  $ proofbook keys import-devnet                   # devnet0..devnet9, the funded devnet accounts
  $ proofbook keys show alice --address`);

  keys
    .command('add')
    .argument('<name>', 'name of the new key')
    .description('create a new key (24-word mnemonic, printed once) or recover one with --recover')
    .option('--recover', 'recover the key from a mnemonic read from stdin (or prompted for) instead of generating one')
    .option('--hd-path <path>', 'BIP44 derivation path', DEFAULT_HD_PATH)
    .option('--overwrite', 'replace an existing key of the same name')
    .addHelpText('after', `
Examples:
  $ proofbook keys add alice
  $ PROOFBOOK_KEYRING_PASSPHRASE=secret123 proofbook keys add alice --output json
  $ echo "word1 word2 … word24" | proofbook keys add alice --recover --keyring-backend test
${BACKEND_HELP}`)
    .action(async (name: string, opts: { recover?: boolean; hdPath: string; overwrite?: boolean }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const mnemonic = opts.recover ? await readMnemonic() : undefined;
      const { info, mnemonic: m } = await ctx.keyring().add(name, { mnemonic, hdPath: opts.hdPath, overwrite: opts.overwrite });
      ctx.print(opts.recover ? info : { ...info, mnemonic: m }, () =>
        opts.recover
          ? `${infoText(info)}\n\nKey '${name}' recovered.`
          : `${infoText(info)}\n\n**Write this mnemonic down and keep it safe.** It is the only way to recover the key:\n\n${m}\n`,
      );
    });

  keys
    .command('import')
    .argument('<name>', 'name for the imported key')
    .description('import a key from a BIP39 mnemonic read from stdin')
    .option('--hd-path <path>', 'BIP44 derivation path', DEFAULT_HD_PATH)
    .option('--overwrite', 'replace an existing key of the same name')
    .addHelpText('after', `
Reads the mnemonic (12-24 English words) from stdin, or prompts for it when stdin is a terminal.

Examples:
  $ echo "word1 word2 … word24" | proofbook keys import alice
  $ proofbook keys import alice --keyring-backend test < mnemonic.txt`)
    .action(async (name: string, opts: { hdPath: string; overwrite?: boolean }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const { info } = await ctx.keyring().add(name, { mnemonic: await readMnemonic(), hdPath: opts.hdPath, overwrite: opts.overwrite });
      ctx.print(info, () => `${infoText(info)}\n\nKey '${name}' imported.`);
    });

  keys
    .command('import-devnet')
    .description('import the 10 funded devnet accounts as devnet0 … devnet9 (test backend: the devnet mnemonic is public)')
    .option('--prefix <prefix>', 'key name prefix', 'devnet')
    .addHelpText('after', `
The accounts come from genesis/ (DEVNET_MNEMONIC, HD paths m/44'/118'/0'/0/0 … /9) and are funded by
\`proofbook devnet\` / \`npm start\`. Keys that are already present with the same address are left alone.
They are stored with the test backend unless --keyring-backend file is given explicitly.

Example:
  $ proofbook keys import-devnet
  $ proofbook tx bank send devnet0 proof1… 1000uproof --fees 2000uproof`)
    .action(async (opts: { prefix: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const g = await import('../genesis/index.js');
      const explicit = cmd.optsWithGlobals<GlobalOpts>().keyringBackend as KeyringBackend | undefined;
      const kr = ctx.keyring(explicit ?? 'test');
      const out: (KeyInfo & { status: string })[] = [];
      for (const acc of g.devnetAccounts()) {
        const name = `${opts.prefix}${acc.index}`;
        if (await kr.has(name)) {
          const existing = await kr.get(name);
          if (existing.address !== acc.address) {
            throw new KeyringError('EXISTS', `key '${name}' exists with another address (${existing.address})`);
          }
          out.push({ ...existing, status: 'exists' });
          continue;
        }
        const { info } = await kr.add(name, { mnemonic: g.DEVNET_MNEMONIC, hdPath: acc.hdPath });
        if (info.address !== acc.address) throw new CliError(`derived ${info.address} for ${name}, genesis says ${acc.address}`);
        out.push({ ...info, status: 'imported' });
      }
      ctx.print(out, () => out.map((k) => `${k.name.padEnd(10)} ${k.address}  (${k.status})`).join('\n'));
    });

  keys
    .command('list')
    .description('list all keys')
    .addHelpText('after', '\nExample:\n  $ proofbook keys list --output json')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const list = await ctx.keyring().list();
      ctx.print(list, () => (list.length ? list.map(infoText).join('\n') : `no keys in ${ctx.home}/keyring — create one with \`proofbook keys add NAME\``));
    });

  keys
    .command('show')
    .argument('<name>', 'key name (or its address)')
    .description('show a key\'s address and public key')
    .option('-a, --address', 'print only the address')
    .addHelpText('after', '\nExamples:\n  $ proofbook keys show alice\n  $ ADDR=$(proofbook keys show alice -a)')
    .action(async (name: string, opts: { address?: boolean }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const info = await ctx.keyring().resolve(name);
      if (opts.address) ctx.print({ address: info.address }, () => info.address);
      else ctx.print(info, () => infoText(info));
    });

  keys
    .command('export')
    .argument('<name>', 'key name')
    .description('print a key\'s mnemonic (decrypts it; anyone with the words controls the funds)')
    .addHelpText('after', '\nExamples:\n  $ proofbook keys export alice\n  $ PROOFBOOK_KEYRING_PASSPHRASE=… proofbook keys export alice --output json')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const kr = ctx.keyring();
      const info = await kr.get(name);
      const mnemonic = await kr.exportMnemonic(name);
      if (ctx.output === 'text') process.stderr.write('**Keep these words secret.**\n');
      ctx.print({ name, address: info.address, mnemonic }, () => mnemonic);
    });

  keys
    .command('delete')
    .argument('<name>', 'key name')
    .description('delete a key (asks for confirmation unless --yes)')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', '\nExample:\n  $ proofbook keys delete alice --yes')
    .action(async (name: string, opts: { yes?: boolean }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const kr = ctx.keyring();
      const info = await kr.get(name);
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw new CliError(`refusing to delete key '${name}' without confirmation`, EXIT.USAGE, 'pass --yes');
        const a = await prompt(`Delete key '${name}' (${info.address})? This cannot be undone unless you have the mnemonic. [y/N] `, false);
        if (!/^y(es)?$/i.test(a.trim())) throw new CliError('aborted', EXIT.FAILED);
      }
      await kr.delete(name);
      ctx.print({ deleted: info }, () => `Key '${name}' (${info.address}) deleted.`);
    });

  return keys;
}
