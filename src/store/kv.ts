/**
 * The key-value interfaces every state-machine component reads and writes through.
 *
 * Keys are *binary strings*: each UTF-16 code unit holds one byte (0..255), as produced by
 * `bytesToKey`. JavaScript's `<` on such strings is exactly lexicographic byte order, so sorted
 * structures and prefix scans order keys the way LevelDB does, with no locale involved.
 * Values are raw bytes (protobuf-encoded records).
 */

export type Key = string;

export interface KVReader {
  get(key: Key): Uint8Array | undefined;
  has(key: Key): boolean;
  /**
   * Iterates keys in [start, end) in ascending byte order (descending when `reverse`).
   * `end === undefined` means "to the end of the keyspace". Writes made to the same store while
   * iterating are not guaranteed to be visible: collect first, then write.
   */
  iterate(start: Key, end: Key | undefined, reverse?: boolean): IterableIterator<[Key, Uint8Array]>;
}

export interface KV extends KVReader {
  set(key: Key, value: Uint8Array): void;
  delete(key: Key): void;
}

/** A pending change: a new value, or `null` for a deletion. */
export type Write = [Key, Uint8Array | null];

/** Byte order for binary-string keys (and code-unit order for any string): the explicit comparator for sorts. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function bytesToKey(bytes: Uint8Array): Key {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function keyToBytes(key: Key): Uint8Array {
  return new Uint8Array(Buffer.from(key, 'latin1'));
}

/** The smallest key greater than every key starting with `prefix` (undefined: no upper bound). */
export function prefixEnd(prefix: Key): Key | undefined {
  let i = prefix.length - 1;
  while (i >= 0 && prefix.charCodeAt(i) === 0xff) i--;
  if (i < 0) return undefined;
  return prefix.slice(0, i) + String.fromCharCode(prefix.charCodeAt(i) + 1);
}

/** Iterates every entry whose key starts with `prefix`, keys returned whole (prefix included). */
export function iteratePrefix(kv: KVReader, prefix: Key, reverse = false): IterableIterator<[Key, Uint8Array]> {
  return kv.iterate(prefix, prefixEnd(prefix), reverse);
}

/** Big-endian fixed-width encoding, so numeric ids sort in numeric order inside keys. */
export function u64Key(n: bigint): Key {
  if (n < 0n || n > 0xffffffffffffffffn) throw new RangeError(`u64 out of range: ${n}`);
  let s = '';
  for (let shift = 56n; shift >= 0n; shift -= 8n) s += String.fromCharCode(Number((n >> shift) & 0xffn));
  return s;
}

export function keyToU64(key: Key, offset = 0): bigint {
  let n = 0n;
  for (let i = 0; i < 8; i++) n = (n << 8n) | BigInt(key.charCodeAt(offset + i));
  return n;
}

/** A view of `parent` under `prefix`: keys given to and returned by the view exclude the prefix. */
export class PrefixKV implements KV {
  constructor(private readonly parent: KV, private readonly prefix: Key) {}
  get(key: Key) { return this.parent.get(this.prefix + key); }
  has(key: Key) { return this.parent.has(this.prefix + key); }
  set(key: Key, value: Uint8Array) { this.parent.set(this.prefix + key, value); }
  delete(key: Key) { this.parent.delete(this.prefix + key); }
  *iterate(start: Key, end: Key | undefined, reverse = false): IterableIterator<[Key, Uint8Array]> {
    const p = this.prefix;
    const hi = end === undefined ? prefixEnd(p) : p + end;
    for (const [k, v] of this.parent.iterate(p + start, hi, reverse)) yield [k.slice(p.length), v];
  }
}
