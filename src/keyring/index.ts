/**
 * A small on-disk keyring for the proofbook CLI.
 *
 * One JSON file per key in `${home}/keyring/NAME.json` (directory mode 700, files mode 600). Each key is a BIP39
 * mnemonic (24 words when generated here) from which the account key is derived at HD path m/44'/118'/0'/0/0
 * (Cosmos coin type 118) and shown as a bech32 address with prefix `proof`.
 *
 * Backends (recorded per key, so reading never needs to be told which one was used):
 * - `file` (default): the mnemonic is encrypted at rest with AES-256-GCM under a key derived from a passphrase with
 *   scrypt (N=2^15, r=8, p=1, 16-byte random salt, 12-byte random IV). The key's address is bound as additional
 *   authenticated data, so a file whose address was edited no longer decrypts.
 * - `test`: the mnemonic is stored in plain text. For devnets and tests only.
 */
import { randomBytes, scrypt as scryptCb, createCipheriv, createDecipheriv, type ScryptOptions } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Bip39, EnglishMnemonic, Random, stringToPath } from '@cosmjs/crypto';
import { toBase64 } from '@cosmjs/encoding';
import type { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { BECH32_PREFIX } from '../crypto/address.js';

export type KeyringBackend = 'file' | 'test';
export const KEYRING_BACKENDS: readonly KeyringBackend[] = ['file', 'test'];
export const DEFAULT_HD_PATH = "m/44'/118'/0'/0/0";

/** Public information about a stored key (never the secret). */
export interface KeyInfo {
  readonly name: string;
  readonly address: string;
  /** Compressed secp256k1 public key, base64. */
  readonly pubkey: string;
  readonly hdPath: string;
  readonly backend: KeyringBackend;
}

export type KeyringErrorCode =
  | 'NOT_FOUND' | 'EXISTS' | 'BAD_PASSPHRASE' | 'NO_PASSPHRASE' | 'INVALID_MNEMONIC' | 'INVALID_NAME' | 'CORRUPT';

export class KeyringError extends Error {
  constructor(readonly code: KeyringErrorCode, message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

/** Returns the passphrase; `confirm` is true when a new key is being encrypted (ask twice when interactive). */
export type PassphraseProvider = (req: { keyName: string; confirm: boolean }) => Promise<string>;

export interface KeyringOptions {
  /** Directory holding the key files, e.g. `${home}/keyring`. */
  readonly dir: string;
  /** Backend used when writing new keys. Default `file`. */
  readonly backend?: KeyringBackend;
  /** Needed for the `file` backend. */
  readonly passphrase?: PassphraseProvider;
  /** scrypt cost parameter N for newly written keys (power of two). Default 2^15. */
  readonly scryptN?: number;
}

interface EncryptedBlob {
  kdf: 'scrypt';
  n: number;
  r: number;
  p: number;
  salt: string;
  cipher: 'aes-256-gcm';
  iv: string;
  ciphertext: string;
  tag: string;
}

interface KeyFile {
  version: 1;
  name: string;
  address: string;
  pubkey: string;
  hdPath: string;
  backend: KeyringBackend;
  mnemonic?: string;
  crypto?: EncryptedBlob;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateKeyName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new KeyringError('INVALID_NAME', `invalid key name '${name}': use 1-64 characters from A-Z a-z 0-9 . _ - (not starting with . _ -)`);
  }
}

/** Lower-cases and collapses whitespace; throws INVALID_MNEMONIC unless it is a valid English BIP39 mnemonic. */
export function normalizeMnemonic(input: string): string {
  const m = input.trim().toLowerCase().split(/\s+/).filter((w) => w !== '').join(' ');
  try {
    new EnglishMnemonic(m);
  } catch (e) {
    throw new KeyringError('INVALID_MNEMONIC', `invalid BIP39 mnemonic (${(e as Error).message}); expected 12-24 English words`);
  }
  return m;
}

/** A fresh 24-word mnemonic from 256 bits of OS randomness. */
export function generateMnemonic(): string {
  return Bip39.encode(Random.getBytes(32)).toString();
}

/** The signing wallet for a mnemonic (SIGN_MODE_DIRECT, prefix `proof`). */
export async function walletFromMnemonic(mnemonic: string, hdPath: string = DEFAULT_HD_PATH): Promise<DirectSecp256k1HdWallet> {
  const { DirectSecp256k1HdWallet } = await import('@cosmjs/proto-signing');
  return DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: BECH32_PREFIX, hdPaths: [stringToPath(hdPath)] });
}

export async function deriveAccount(mnemonic: string, hdPath: string = DEFAULT_HD_PATH): Promise<{ address: string; pubkey: Uint8Array }> {
  const [acc] = await (await walletFromMnemonic(mnemonic, hdPath)).getAccounts();
  return { address: acc.address, pubkey: acc.pubkey };
}

function scrypt(passphrase: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCb(passphrase.normalize('NFKC'), salt, 32, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function encryptSecret(secret: string, passphrase: string, aad: string, n = 1 << 15): Promise<EncryptedBlob> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await scrypt(passphrase, salt, n, 8, 1);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return {
    kdf: 'scrypt', n, r: 8, p: 1, salt: salt.toString('base64'),
    cipher: 'aes-256-gcm', iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/** Throws BAD_PASSPHRASE when authentication fails (wrong passphrase or tampered file). */
export async function decryptSecret(blob: EncryptedBlob, passphrase: string, aad: string, keyName: string): Promise<string> {
  if (blob.kdf !== 'scrypt' || blob.cipher !== 'aes-256-gcm') {
    throw new KeyringError('CORRUPT', `key '${keyName}' uses an unsupported encryption (${blob.kdf}/${blob.cipher})`);
  }
  const key = await scrypt(passphrase, Buffer.from(blob.salt, 'base64'), blob.n, blob.r, blob.p);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(blob.iv, 'base64'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(blob.tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(blob.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new KeyringError('BAD_PASSPHRASE', `wrong keyring passphrase for key '${keyName}' (decryption failed)`);
  }
}

export class Keyring {
  readonly dir: string;
  readonly backend: KeyringBackend;
  private readonly passphrase?: PassphraseProvider;
  private readonly scryptN: number;

  constructor(opts: KeyringOptions) {
    this.dir = opts.dir;
    this.backend = opts.backend ?? 'file';
    this.passphrase = opts.passphrase;
    this.scryptN = opts.scryptN ?? 1 << 15;
    if (!KEYRING_BACKENDS.includes(this.backend)) {
      throw new KeyringError('CORRUPT', `unknown keyring backend '${this.backend}' (use ${KEYRING_BACKENDS.join(' or ')})`);
    }
  }

  /** The keyring of a proofbook home directory: `${home}/keyring`. */
  static forHome(home: string, opts: Omit<KeyringOptions, 'dir'> = {}): Keyring {
    return new Keyring({ ...opts, dir: path.join(home, 'keyring') });
  }

  private file(name: string): string {
    validateKeyName(name);
    return path.join(this.dir, `${name}.json`);
  }

  private async ensureDir(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fs.chmod(this.dir, 0o700); // mkdir's mode is filtered by the umask and ignored for existing dirs
  }

  private async read(name: string): Promise<KeyFile> {
    let text: string;
    try {
      text = await fs.readFile(this.file(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyringError('NOT_FOUND', `no key named '${name}' in ${this.dir}`);
      throw e;
    }
    let kf: KeyFile;
    try {
      kf = JSON.parse(text) as KeyFile;
    } catch {
      throw new KeyringError('CORRUPT', `key file ${this.file(name)} is not valid JSON`);
    }
    if (kf.version !== 1 || typeof kf.address !== 'string' || (kf.mnemonic === undefined && kf.crypto === undefined)) {
      throw new KeyringError('CORRUPT', `key file ${this.file(name)} has an unknown format`);
    }
    return kf;
  }

  private static info(kf: KeyFile): KeyInfo {
    return { name: kf.name, address: kf.address, pubkey: kf.pubkey, hdPath: kf.hdPath, backend: kf.backend };
  }

  async has(name: string): Promise<boolean> {
    try {
      await fs.access(this.file(name));
      return true;
    } catch (e) {
      if (e instanceof KeyringError) throw e;
      return false;
    }
  }

  /** All keys, sorted by name. */
  async list(): Promise<KeyInfo[]> {
    let entries: string[];
    try {
      entries = await fs.readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const names = entries.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).filter((n) => NAME_RE.test(n));
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: KeyInfo[] = [];
    for (const n of names) out.push(Keyring.info(await this.read(n)));
    return out;
  }

  async get(name: string): Promise<KeyInfo> {
    return Keyring.info(await this.read(name));
  }

  /** Finds a key by name or by its address. */
  async resolve(nameOrAddress: string): Promise<KeyInfo> {
    if (NAME_RE.test(nameOrAddress) && (await this.has(nameOrAddress))) return this.get(nameOrAddress);
    const hit = (await this.list()).find((k) => k.address === nameOrAddress);
    if (hit) return hit;
    throw new KeyringError('NOT_FOUND', `no key named '${nameOrAddress}' in ${this.dir}`);
  }

  /**
   * Stores a key. Without `mnemonic` a fresh 24-word one is generated. Returns the mnemonic so the caller can show
   * it once. Fails with EXISTS unless `overwrite`.
   */
  async add(name: string, opts: { mnemonic?: string; hdPath?: string; overwrite?: boolean; backend?: KeyringBackend } = {}): Promise<{ info: KeyInfo; mnemonic: string }> {
    const file = this.file(name);
    if (!opts.overwrite && (await this.has(name))) {
      throw new KeyringError('EXISTS', `a key named '${name}' already exists in ${this.dir}`);
    }
    const mnemonic = opts.mnemonic !== undefined ? normalizeMnemonic(opts.mnemonic) : generateMnemonic();
    const hdPath = opts.hdPath ?? DEFAULT_HD_PATH;
    const { address, pubkey } = await deriveAccount(mnemonic, hdPath);
    const backend = opts.backend ?? this.backend;
    const kf: KeyFile = { version: 1, name, address, pubkey: toBase64(pubkey), hdPath, backend };
    if (backend === 'test') {
      kf.mnemonic = mnemonic;
    } else {
      const pass = await this.getPassphrase(name, true);
      kf.crypto = await encryptSecret(mnemonic, pass, address, this.scryptN);
    }
    await this.ensureDir();
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(kf, null, 2) + '\n', { mode: 0o600 });
    await fs.chmod(tmp, 0o600);
    await fs.rename(tmp, file);
    return { info: Keyring.info(kf), mnemonic };
  }

  async delete(name: string): Promise<KeyInfo> {
    const kf = await this.read(name);
    await fs.unlink(this.file(name));
    return Keyring.info(kf);
  }

  /** The key's mnemonic (asks for the passphrase of encrypted keys). */
  async exportMnemonic(name: string): Promise<string> {
    const kf = await this.read(name);
    if (kf.mnemonic !== undefined) return kf.mnemonic;
    const pass = await this.getPassphrase(name, false);
    return decryptSecret(kf.crypto!, pass, kf.address, name);
  }

  /** A signer for the key; checks that the derived address still matches the stored one. */
  async signer(name: string): Promise<{ info: KeyInfo; wallet: DirectSecp256k1HdWallet }> {
    const kf = await this.read(name);
    const wallet = await walletFromMnemonic(await this.exportMnemonic(name), kf.hdPath);
    const [acc] = await wallet.getAccounts();
    if (acc.address !== kf.address) {
      throw new KeyringError('CORRUPT', `key '${name}': stored address ${kf.address} does not match the derived ${acc.address}`);
    }
    return { info: Keyring.info(kf), wallet };
  }

  private async getPassphrase(keyName: string, confirm: boolean): Promise<string> {
    if (!this.passphrase) {
      throw new KeyringError('NO_PASSPHRASE', `key '${keyName}' needs a keyring passphrase: set PROOFBOOK_KEYRING_PASSPHRASE or use --keyring-backend test`);
    }
    const p = await this.passphrase({ keyName, confirm });
    if (confirm && p.length < 8) {
      throw new KeyringError('NO_PASSPHRASE', 'keyring passphrase must be at least 8 characters');
    }
    return p;
  }
}
