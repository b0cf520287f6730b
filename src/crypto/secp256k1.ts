/**
 * secp256k1 ECDSA verification for transaction signatures.
 *
 * The default verifier is libsecp256k1 through the `secp256k1` package's native binding (a prebuilt addon ships in the
 * npm package), measured here at ~19,000 verifies/s against ~500/s for @noble/curves. libsecp256k1's verify rejects
 * signatures whose S is in the upper half of the order, which is exactly the Cosmos SDK's low-S rule, and so does the
 * noble verifier below (lowS: true) — the two must agree on every input (test/secp256k1.test.ts checks it).
 */
import { createRequire } from 'node:module';
import { secp256k1 as noble } from '@noble/curves/secp256k1.js';

interface NativeSecp256k1 {
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
  publicKeyVerify(pubkey: Uint8Array): boolean;
}

const require = createRequire(import.meta.url);

function loadNative(): NativeSecp256k1 {
  try {
    // `secp256k1/bindings` is the native addon only (no silent fallback to the slow pure-JS `elliptic` path).
    return require('secp256k1/bindings') as NativeSecp256k1;
  } catch (e) {
    throw new Error(`libsecp256k1 native binding failed to load (${(e as Error).message}); reinstall with \`npm ci\` on linux-x64/darwin/win32, or set PROOFBOOK_SECP256K1=noble`);
  }
}

export type Secp256k1Verify = (msgHash32: Uint8Array, sig64: Uint8Array, pubkey33: Uint8Array) => boolean;

export const verifyNoble: Secp256k1Verify = (msgHash, sig, pubkey) => {
  try {
    return noble.verify(sig, msgHash, pubkey, { prehash: false, lowS: true, format: 'compact' });
  } catch {
    return false;
  }
};

let native: NativeSecp256k1 | undefined;
export const verifyNative: Secp256k1Verify = (msgHash, sig, pubkey) => {
  native ??= loadNative();
  if (sig.length !== 64 || msgHash.length !== 32 || pubkey.length !== 33) return false;
  try {
    return native.ecdsaVerify(sig, msgHash, pubkey);
  } catch {
    // The binding throws on unparsable keys/signatures (e.g. r or s >= n): that is simply an invalid signature.
    return false;
  }
};

export function defaultVerifier(): Secp256k1Verify {
  return process.env.PROOFBOOK_SECP256K1 === 'noble' ? verifyNoble : verifyNative;
}
