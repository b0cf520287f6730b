/**
 * Shared CLI plumbing: global options, home/config resolution, output (text or JSON), errors with exit codes,
 * passphrase and stdin prompts.
 */
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { Keyring, KeyringError, KEYRING_BACKENDS, type KeyringBackend, type PassphraseProvider } from '../src/keyring/index.js';
import { DEFAULT_NODE, NodeUnreachableError, SimulationError, normalizeNodeUrl } from '../src/client/tx.js';
import { AddressError } from '../src/crypto/address.js';
import { CoinsError } from '../src/types/coins.js';

/** Exit codes (documented in docs/cli.md). */
export const EXIT = {
  OK: 0,
  /** The command ran but failed: tx rejected or executed with a non-zero code, query target not found, I/O error. */
  FAILED: 1,
  /** Bad command line: unknown command/flag, malformed address, amount or fee. */
  USAGE: 2,
  /** The node's RPC endpoint did not answer. */
  NODE_UNREACHABLE: 3,
  /** Keyring problem: unknown key, key exists, wrong or missing passphrase, invalid mnemonic. */
  KEYRING: 4,
} as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.FAILED, readonly hint?: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Set by long-running commands (devnet, start) so the process is not exited after the action returns. */
export const keepAlive = { value: false };

export const DEFAULT_CHAIN_ID = 'proofbook-1';
export const CONFIG_FILE = 'config.json';

export interface HomeConfig {
  chainId?: string;
  node?: string;
  keyringBackend?: KeyringBackend;
}

export interface GlobalOpts {
  home?: string;
  node?: string;
  output?: string;
  keyringBackend?: string;
}

export type OutputFormat = 'text' | 'json';

export function defaultHome(): string {
  return process.env.PROOFBOOK_HOME || path.join(os.homedir(), '.proofbook');
}

export function readConfig(home: string): HomeConfig {
  try {
    return JSON.parse(readFileSync(path.join(home, CONFIG_FILE), 'utf8')) as HomeConfig;
  } catch {
    return {};
  }
}

/** Resolved per-invocation context. Precedence: flag > environment > ${home}/config.json > built-in default. */
export class Ctx {
  readonly home: string;
  readonly output: OutputFormat;
  readonly config: HomeConfig;
  private readonly nodeFlag?: string;
  private readonly backendFlag?: string;

  constructor(opts: GlobalOpts) {
    this.home = path.resolve(opts.home ?? defaultHome());
    const out = opts.output ?? 'text';
    if (out !== 'text' && out !== 'json') throw new CliError(`--output must be 'text' or 'json', got '${out}'`, EXIT.USAGE);
    this.output = out;
    this.config = readConfig(this.home);
    this.nodeFlag = opts.node;
    this.backendFlag = opts.keyringBackend;
  }

  static of(cmd: Command): Ctx {
    return new Ctx(cmd.optsWithGlobals<GlobalOpts>());
  }

  get node(): string {
    return normalizeNodeUrl(this.nodeFlag ?? process.env.PROOFBOOK_NODE ?? this.config.node ?? DEFAULT_NODE);
  }

  get keyringBackend(): KeyringBackend {
    const b = this.backendFlag ?? process.env.PROOFBOOK_KEYRING_BACKEND ?? this.config.keyringBackend ?? 'file';
    if (!KEYRING_BACKENDS.includes(b as KeyringBackend)) {
      throw new CliError(`--keyring-backend must be one of ${KEYRING_BACKENDS.join(', ')}, got '${b}'`, EXIT.USAGE);
    }
    return b as KeyringBackend;
  }

  keyring(backend?: KeyringBackend): Keyring {
    return Keyring.forHome(this.home, { backend: backend ?? this.keyringBackend, passphrase: passphraseProvider });
  }

  /** Prints `data` as JSON, or `text()` for humans. */
  print(data: unknown, text: () => string): void {
    // One convention for every command (docs/cli.md "JSON output"): snake_case keys, bytes as hex, 64-bit as strings.
    if (this.output === 'json') process.stdout.write(toJson(snakeKeys(data)) + '\n');
    else process.stdout.write(text().replace(/\n?$/, '\n'));
  }
}

/** JSON with bigint as decimal strings and bytes as upper-case hex. */
export function toJson(v: unknown, indent = 2): string {
  return JSON.stringify(
    v,
    (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('hex').toUpperCase() : x),
    indent,
  );
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Reads all of stdin (for piped mnemonics). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Prompts on the terminal (stderr), hiding the typed characters when `hidden`. */
export async function prompt(question: string, hidden: boolean): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      muted = hidden;
    });
  } finally {
    rl.close();
    if (hidden) process.stderr.write('\n');
  }
}

/** Reads a mnemonic: piped stdin, or a prompt when stdin is a terminal. */
export async function readMnemonic(): Promise<string> {
  if (process.stdin.isTTY) return prompt('Enter your BIP39 mnemonic: ', true);
  return readStdin();
}

export const passphraseProvider: PassphraseProvider = async ({ keyName, confirm }) => {
  const env = process.env.PROOFBOOK_KEYRING_PASSPHRASE;
  if (env !== undefined && env !== '') return env;
  if (!process.stdin.isTTY) {
    throw new KeyringError('NO_PASSPHRASE', `key '${keyName}' is encrypted and no terminal is attached to ask for the passphrase`);
  }
  const p = await prompt(`Keyring passphrase for '${keyName}': `, true);
  if (confirm) {
    const again = await prompt('Repeat the passphrase: ', true);
    if (again !== p) throw new KeyringError('NO_PASSPHRASE', 'the passphrases do not match');
  }
  return p;
};

/** Maps any thrown value to a message, hint and exit code. */
export function describeError(e: unknown, ctx?: { node?: string; home?: string }): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof NodeUnreachableError) {
    return new CliError(e.message, EXIT.NODE_UNREACHABLE, 'is the node running? start one with `npm start` (or `proofbook devnet`), or point --node / PROOFBOOK_NODE at it');
  }
  if (e instanceof KeyringError) {
    const hints: Partial<Record<KeyringError['code'], string>> = {
      NOT_FOUND: `list your keys with \`proofbook keys list${ctx?.home ? ` --home ${ctx.home}` : ''}\`, create one with \`proofbook keys add NAME\`, or load the devnet accounts with \`proofbook keys import-devnet\``,
      EXISTS: 'pick another name, or delete the old key first with `proofbook keys delete NAME`',
      BAD_PASSPHRASE: 'check PROOFBOOK_KEYRING_PASSPHRASE (or what you typed); the key file is unchanged',
      NO_PASSPHRASE: 'set PROOFBOOK_KEYRING_PASSPHRASE, run in a terminal to be prompted, or use --keyring-backend test for throwaway keys',
      INVALID_MNEMONIC: 'pipe the words on stdin, e.g. `echo "word1 ... word24" | proofbook keys import NAME`',
    };
    return new CliError(e.message, EXIT.KEYRING, hints[e.code]);
  }
  if (e instanceof AddressError || e instanceof CoinsError) return new CliError(e.message, EXIT.USAGE);
  if (e instanceof Error && e.name === 'BroadcastTxError') {
    // @cosmjs/stargate's BroadcastTxError (CheckTx rejected the tx); matched by name to avoid loading stargate.
    const b = e as Error & { code: number; codespace: string; log?: string };
    return new CliError(`transaction rejected by the node (codespace ${b.codespace}, code ${b.code}): ${b.log ?? ''}`, EXIT.FAILED);
  }
  if (e instanceof SimulationError) {
    return new CliError(`gas estimation failed: the tx would fail (codespace ${e.codespace}, code ${e.code}): ${e.log}`, EXIT.FAILED);
  }
  const msg = e instanceof Error ? e.message : String(e);
  // Connection failures that surface after connecting (node stopped mid-command).
  if (/ECONNREFUSED|fetch failed|socket hang up|ECONNRESET/i.test(msg)) {
    return new CliError(`cannot reach the node${ctx?.node ? ` at ${ctx.node}` : ''}: ${msg}`, EXIT.NODE_UNREACHABLE, 'is the node running? start one with `npm start`');
  }
  return new CliError(msg, EXIT.FAILED);
}

/** camelCase identifier keys to snake_case, recursively (data keys such as hex ids or addresses are left alone). */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[/^[a-z][a-zA-Z0-9]*$/.test(k) ? k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : k] = snakeKeys(x);
  return out;
}

/** `--patience` of `request prove` and `tx market submit-request` (MsgSubmitRequest.fallback_after_blocks). */
export const PATIENCE_HELP = 'patience: from this many blocks after submission any bonded prover may also deliver it (commit-reveal), racing the assigned prover once its accept phase is over (0: off)';
