/**
 * Bank state layout. Every key below lives under the module prefix `bank/` (ctx.store(BANK_STORE_PREFIX)).
 *
 *   'b' + len(addr) + addr bytes + denom  -> amount   balances; iterate address-then-denom
 *   's' + denom                          -> amount   total supply per denom
 *   'x' + denom                          -> amount   burned so far per denom (monotone)
 *   'm' + len(addr) + addr bytes          -> name     module accounts that have held funds (blocked for MsgSend)
 *   'd' + base denom                     -> Metadata denom metadata (cosmos.bank.v1beta1.Metadata, protobuf)
 *
 * `len(addr)` is one byte (20 or 32), like the Cosmos SDK's `address.MustLengthPrefix`: without it a key of a 20-byte
 * address plus a long denom could not be told apart from a key of a 32-byte address plus a shorter denom, and whole-
 * store scans (invariants, genesis export) could not split keys. All 20-byte accounts therefore sort before 32-byte
 * ones; within one length keys sort by address bytes, then by denom — the order of a prefix scan.
 *
 * Amounts are stored as ASCII decimal strings without sign or leading zeros, the encoding the Cosmos SDK uses for
 * `math.Int` in its bank store. Zero amounts are never stored: a balance or supply that reaches zero is deleted.
 */
import { bytesToKey, keyToBytes, type Key } from '../../src/store/kv.js';
import { addressBytes, addressFromBytes, type Address } from '../../src/crypto/address.js';

export const BANK_MODULE_NAME = 'bank';
export const BANK_STORE_PREFIX = 'bank/';

export const BALANCE_PREFIX = 'b';
export const SUPPLY_PREFIX = 's';
export const BURNED_PREFIX = 'x';
export const MODULE_ACCOUNT_PREFIX = 'm';
export const METADATA_PREFIX = 'd';

/** Largest amount any balance or supply may reach (the SDK's 256-bit `math.Int` bound). */
export const MAX_AMOUNT = (1n << 256n) - 1n;

/**
 * Bech32 decoding/encoding costs tens of microseconds per call here, and every balance access needs it, so both
 * directions are memoized. These are pure functions of their input, so the caches cannot affect results; each is
 * bounded (cleared when full) to keep memory flat under many distinct addresses.
 */
const CACHE_MAX = 16384;
const keyOfAddress = new Map<string, Key>();
const addressOfKey = new Map<Key, Address>();

/** The length-prefixed address part of a key. */
export function addressKey(addr: Address): Key {
  let k = keyOfAddress.get(addr);
  if (k === undefined) {
    const bytes = addressBytes(addr);
    k = String.fromCharCode(bytes.length) + bytesToKey(bytes);
    if (keyOfAddress.size >= CACHE_MAX) keyOfAddress.clear();
    keyOfAddress.set(addr, k);
  }
  return k;
}

/** Inverse of the address part: raw address bytes (as a key string) -> bech32. */
function addressOfRaw(raw: Key): Address {
  let a = addressOfKey.get(raw);
  if (a === undefined) {
    a = addressFromBytes(keyToBytes(raw));
    if (addressOfKey.size >= CACHE_MAX) addressOfKey.clear();
    addressOfKey.set(raw, a);
  }
  return a;
}

/** Prefix of all balances of one account (keys under it, with the prefix removed, are denoms). */
export function accountBalancesPrefix(addr: Address): Key {
  return BALANCE_PREFIX + addressKey(addr);
}

export function balanceKey(addr: Address, denom: string): Key {
  return accountBalancesPrefix(addr) + denom;
}

export function supplyKey(denom: string): Key {
  return SUPPLY_PREFIX + denom;
}

export function burnedKey(denom: string): Key {
  return BURNED_PREFIX + denom;
}

export function moduleAccountKey(addr: Address): Key {
  return MODULE_ACCOUNT_PREFIX + addressKey(addr);
}

/** Splits a full balance key ('b' + len + addr + denom) back into address and denom; throws on a malformed key. */
export function parseBalanceKey(key: Key): { address: Address; denom: string } {
  if (key.length < 2 || key[0] !== BALANCE_PREFIX) throw new Error(`not a balance key: ${JSON.stringify(key)}`);
  const len = key.charCodeAt(1);
  if (len !== 20 && len !== 32) throw new Error(`balance key has address length ${len}, expected 20 or 32`);
  if (key.length < 2 + len + 1) throw new Error(`balance key too short for a ${len}-byte address and a denom`);
  return { address: addressOfRaw(key.slice(2, 2 + len)), denom: key.slice(2 + len) };
}

/** The denom of a full balance key without decoding the address (throws on a malformed key). */
export function balanceKeyDenom(key: Key): string {
  const len = key.charCodeAt(1);
  if (key[0] !== BALANCE_PREFIX || (len !== 20 && len !== 32) || key.length < 2 + len + 1) {
    throw new Error(`malformed balance key ${JSON.stringify(key)}`);
  }
  return key.slice(2 + len);
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Amounts by the stored array they were encoded into (or first decoded from), with their decimal text. A balance is
 * written once per tx and read by the next tx that touches it, so remembering what each fresh array holds saves the
 * BigInt parse on nearly every read. A hit is used only while the array still spells that text, so an array changed
 * in place can never yield a stale amount.
 */
const knownAmounts = new WeakMap<Uint8Array, { text: string; amount: bigint }>();

function spells(v: Uint8Array, text: string): boolean {
  if (v.length !== text.length) return false;
  for (let i = 0; i < v.length; i++) if (v[i] !== text.charCodeAt(i)) return false;
  return true;
}

export function encodeAmount(n: bigint): Uint8Array {
  if (n <= 0n) throw new Error(`refusing to store non-positive amount ${n}`);
  // ASCII digits byte by byte: TextEncoder's per-call overhead dominated for these short strings.
  const s = n.toString();
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  knownAmounts.set(out, { text: s, amount: n });
  return out;
}

/** Strict decode of a stored amount: positive decimal, no sign or leading zeros. Throws on anything else. */
export function decodeAmount(v: Uint8Array): bigint {
  const known = knownAmounts.get(v);
  if (known !== undefined && spells(v, known.text)) return known.amount;
  // Checked byte by byte (TextDecoder and a regex cost more than the BigInt itself for these short values).
  const n = v.length;
  let ok = n > 0 && v[0] >= 0x31 && v[0] <= 0x39; // no empty value, no leading zero
  for (let i = 1; ok && i < n; i++) ok = v[i] >= 0x30 && v[i] <= 0x39;
  if (!ok) throw new Error(`corrupt stored amount ${JSON.stringify(dec.decode(v))}`);
  const text = Buffer.from(v.buffer, v.byteOffset, n).toString('latin1');
  const amount = BigInt(text);
  knownAmounts.set(v, { text, amount });
  return amount;
}

/** Lenient decode for invariant reporting: returns undefined when the bytes are no integer at all. */
export function decodeAmountLoose(v: Uint8Array): bigint | undefined {
  const s = dec.decode(v);
  return /^-?[0-9]+$/.test(s) ? BigInt(s) : undefined;
}

export function encodeString(s: string): Uint8Array {
  return enc.encode(s);
}

export function decodeString(v: Uint8Array): string {
  return dec.decode(v);
}
