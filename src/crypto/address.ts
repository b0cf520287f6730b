/**
 * Account addresses: 20 bytes = ripemd160(sha256(compressed secp256k1 pubkey)), shown as bech32 with prefix `proof`.
 * Module accounts use the Cosmos SDK derivation: the first 20 bytes of sha256(module name).
 *
 * bech32 conversion costs more than a MsgSend's whole state transition, and the same few addresses recur in every
 * block, so results are memoized in small bounded caches. Each cached value is a pure function of its key, so a cache
 * can change speed, never a result. Returned byte arrays are shared: callers must not mutate them.
 */
import { createHash } from 'node:crypto';
import { fromBech32, toBech32 } from '@cosmjs/encoding';

export const BECH32_PREFIX = 'proof';

/** A bech32 address string that has been validated (prefix `proof`, 20 or 32 bytes). */
export type Address = string & { readonly __brand: 'Address' };

export class AddressError extends Error {}

class Memo<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity = 100_000) {}
  get(key: K, compute: (key: K) => V): V {
    let v = this.map.get(key);
    if (v === undefined) {
      v = compute(key);
      if (this.map.size >= this.capacity) this.map.clear();
      this.map.set(key, v);
    }
    return v;
  }
}

const parsed = new Memo<string, { address: Address; bytes: Uint8Array }>();
const fromBytes = new Memo<string, Address>();
const fromPubkey = new Memo<string, Address>();

function parseUncached(s: string): { address: Address; bytes: Uint8Array } {
  let decoded;
  try {
    decoded = fromBech32(s, 1023);
  } catch (e) {
    throw new AddressError(`'${s}' is not a valid bech32 address (${(e as Error).message})`);
  }
  if (decoded.prefix !== BECH32_PREFIX) throw new AddressError(`address '${s}' has prefix '${decoded.prefix}', expected '${BECH32_PREFIX}'`);
  if (decoded.data.length !== 20 && decoded.data.length !== 32) throw new AddressError(`address '${s}' has ${decoded.data.length} bytes, expected 20 or 32`);
  // Re-encode so upper/lower-case variants map to one canonical string.
  return { address: toBech32(BECH32_PREFIX, decoded.data) as Address, bytes: decoded.data };
}

export function parseAddress(s: string): Address {
  return parsed.get(s, parseUncached).address;
}

export function addressBytes(a: Address): Uint8Array {
  return parsed.get(a, parseUncached).bytes;
}

export function addressFromBytes(bytes: Uint8Array): Address {
  return fromBytes.get(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), () => toBech32(BECH32_PREFIX, bytes) as Address);
}

export function addressFromPubkey(compressedPubkey: Uint8Array): Address {
  const key = Buffer.from(compressedPubkey.buffer, compressedPubkey.byteOffset, compressedPubkey.byteLength).toString('latin1');
  return fromPubkey.get(key, () => {
    const sha = createHash('sha256').update(compressedPubkey).digest();
    return addressFromBytes(new Uint8Array(createHash('ripemd160').update(sha).digest()));
  });
}

export function moduleAddress(moduleName: string): Address {
  return addressFromBytes(new Uint8Array(createHash('sha256').update(moduleName).digest().subarray(0, 20)));
}
