/**
 * Test fixture for the bank tests: a tiny in-memory KV kept as a sorted array (binary search), plus a minimal
 * account keeper that records account numbers in the same store, as auth does. Not a stand-in for LevelDB.
 */
import type { KV, Key } from '../src/store/kv.js';
import { Context } from '../src/framework/context.js';
import type { Address } from '../src/crypto/address.js';
import type { AccountKeeper } from '../modules/bank/index.js';

export class SortedArrayKV implements KV {
  private keys: Key[] = [];
  private vals: Uint8Array[] = [];

  private find(key: Key): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  get(key: Key) {
    const i = this.find(key);
    return this.keys[i] === key ? this.vals[i] : undefined;
  }
  has(key: Key) {
    return this.get(key) !== undefined;
  }
  set(key: Key, value: Uint8Array) {
    const i = this.find(key);
    if (this.keys[i] === key) this.vals[i] = value;
    else {
      this.keys.splice(i, 0, key);
      this.vals.splice(i, 0, value);
    }
  }
  delete(key: Key) {
    const i = this.find(key);
    if (this.keys[i] === key) {
      this.keys.splice(i, 1);
      this.vals.splice(i, 1);
    }
  }
  *iterate(start: Key, end: Key | undefined, reverse = false): IterableIterator<[Key, Uint8Array]> {
    const lo = this.find(start);
    const hi = end === undefined ? this.keys.length : this.find(end);
    const entries: [Key, Uint8Array][] = [];
    for (let i = lo; i < hi; i++) entries.push([this.keys[i], this.vals[i]]);
    if (reverse) entries.reverse();
    yield* entries;
  }
  /** Snapshot of every entry, for "nothing changed" assertions. */
  dump(): [Key, string][] {
    return this.keys.map((k, i) => [k, Buffer.from(this.vals[i]).toString('hex')]);
  }
}

/** Records `acct/<address>` -> account number on first sight, like auth's ensureAccount. */
export class TestAccounts implements AccountKeeper {
  readonly created: Address[] = [];
  ensureAccount(ctx: Context, addr: Address): void {
    const kv = ctx.store('acct/');
    if (kv.has(addr)) return;
    kv.set(addr, new TextEncoder().encode(String(this.created.length)));
    this.created.push(addr);
  }
}

export function newContext(kv: KV = new SortedArrayKV(), mode: 'genesis' | 'deliver' | 'query' = 'deliver'): Context {
  return new Context(kv, { chainId: 'proofbook-test', height: 5n, timeSeconds: 1_700_000_000n }, mode);
}
