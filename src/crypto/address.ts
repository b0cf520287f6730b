/**
 * Account addresses: 20 bytes = ripemd160(sha256(compressed secp256k1 pubkey)), shown as bech32 with prefix `proof`.
 * Module accounts use the Cosmos SDK derivation: the first 20 bytes of sha256(module name).
 */
import { fromBech32, toBech32 } from '@cosmjs/encoding';
import { ripemd160, sha256 } from '@cosmjs/crypto';

export const BECH32_PREFIX = 'proof';

/** A bech32 address string that has been validated (prefix `proof`, 20 or 32 bytes). */
export type Address = string & { readonly __brand: 'Address' };

export class AddressError extends Error {}

export function parseAddress(s: string): Address {
  let decoded;
  try {
    decoded = fromBech32(s, 1023);
  } catch (e) {
    throw new AddressError(`'${s}' is not a valid bech32 address (${(e as Error).message})`);
  }
  if (decoded.prefix !== BECH32_PREFIX) throw new AddressError(`address '${s}' has prefix '${decoded.prefix}', expected '${BECH32_PREFIX}'`);
  if (decoded.data.length !== 20 && decoded.data.length !== 32) throw new AddressError(`address '${s}' has ${decoded.data.length} bytes, expected 20 or 32`);
  // Re-encode so upper/lower-case variants map to one canonical string.
  return toBech32(BECH32_PREFIX, decoded.data) as Address;
}

export function addressBytes(a: Address): Uint8Array {
  return fromBech32(a, 1023).data;
}

export function addressFromBytes(bytes: Uint8Array): Address {
  return toBech32(BECH32_PREFIX, bytes) as Address;
}

export function addressFromPubkey(compressedPubkey: Uint8Array): Address {
  return addressFromBytes(ripemd160(sha256(compressedPubkey)));
}

export function moduleAddress(moduleName: string): Address {
  return addressFromBytes(sha256(new TextEncoder().encode(moduleName)).slice(0, 20));
}
