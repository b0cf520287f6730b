/**
 * A bounded cache of committed state values (the store reads misses from LevelDB with getSync).
 *
 * Two generations instead of a linked-list LRU: hits in the young map cost one Map lookup, hits in the old map
 * promote the entry; when the young generation holds half the budget it becomes the old one and the previous old one
 * is dropped. Memory held: at most `maxBytes` of values (plus per-entry overhead, counted as 64 bytes + key length).
 * Eviction order is approximately least-recently-used, which is all a read cache needs. Not consensus-relevant: what
 * is cached never changes a read's result.
 */
import type { Key } from './kv.js';

const ENTRY_OVERHEAD = 64;

export class ValueCache {
  private young = new Map<Key, Uint8Array>();
  private old = new Map<Key, Uint8Array>();
  private youngBytes = 0;
  private oldBytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.youngBytes + this.oldBytes;
  }

  get(key: Key): Uint8Array | undefined {
    let v = this.young.get(key);
    if (v !== undefined) {
      this.hits++;
      return v;
    }
    v = this.old.get(key);
    if (v !== undefined) {
      this.hits++;
      this.old.delete(key);
      this.oldBytes -= cost(key, v);
      this.add(key, v);
      return v;
    }
    this.misses++;
    return undefined;
  }

  set(key: Key, value: Uint8Array): void {
    this.delete(key);
    this.add(key, value);
  }

  delete(key: Key): void {
    const y = this.young.get(key);
    if (y !== undefined) {
      this.young.delete(key);
      this.youngBytes -= cost(key, y);
    }
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.oldBytes -= cost(key, o);
    }
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
    this.youngBytes = this.oldBytes = 0;
  }

  private add(key: Key, value: Uint8Array): void {
    const c = cost(key, value);
    if (c > this.maxBytes / 2) return; // never cache a value that would flush everything else
    this.young.set(key, value);
    this.youngBytes += c;
    if (this.youngBytes >= this.maxBytes / 2) {
      this.old = this.young;
      this.oldBytes = this.youngBytes;
      this.young = new Map();
      this.youngBytes = 0;
    }
  }
}

function cost(key: Key, v: Uint8Array): number {
  return ENTRY_OVERHEAD + key.length + v.byteLength;
}
