/**
 * The devnet's single ed25519 validator key, generated at first start and kept in
 * `${home}/devnet/priv_validator_key.json` in CometBFT's file format (address = first 20 bytes of sha256(pubkey)).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { sha256 } from './hashing.js';

export interface ValidatorKey {
  readonly address: Uint8Array;
  readonly pubKey: Uint8Array;
  sign(msg: Uint8Array): Uint8Array;
}

// PKCS#8 DER prefix for a raw 32-byte ed25519 seed.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function fromSeed(seed: Uint8Array): { key: KeyObject; pub: Uint8Array } {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(seed)]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return { key, pub: new Uint8Array(Buffer.from(String(jwk.x), 'base64url')) };
}

function build(seed: Uint8Array): ValidatorKey {
  const { key, pub } = fromSeed(seed);
  return {
    address: sha256(pub).slice(0, 20),
    pubKey: pub,
    sign: (msg) => new Uint8Array(sign(null, msg, key)),
  };
}

export function loadOrCreateValidatorKey(file: string): ValidatorKey {
  if (existsSync(file)) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { priv_key?: { type?: string; value?: string } };
    if (doc.priv_key?.type !== 'tendermint/PrivKeyEd25519' || typeof doc.priv_key.value !== 'string') {
      throw new Error(`${file}: expected a tendermint/PrivKeyEd25519 key`);
    }
    const raw = Buffer.from(doc.priv_key.value, 'base64');
    if (raw.length !== 64) throw new Error(`${file}: ed25519 private key must be 64 bytes`);
    return build(new Uint8Array(raw.subarray(0, 32)));
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = new Uint8Array(Buffer.from(String(jwk.d), 'base64url'));
  const key = build(seed);
  mkdirSync(dirname(file), { recursive: true });
  const doc = {
    address: Buffer.from(key.address).toString('hex').toUpperCase(),
    pub_key: { type: 'tendermint/PubKeyEd25519', value: Buffer.from(key.pubKey).toString('base64') },
    priv_key: { type: 'tendermint/PrivKeyEd25519', value: Buffer.concat([Buffer.from(seed), Buffer.from(key.pubKey)]).toString('base64') },
  };
  writeFileSync(`${file}.tmp`, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return key;
}
