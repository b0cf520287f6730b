/**
 * The ordered set of state keys, on disk, for synchronous ordered iteration (classic-level has no synchronous
 * iterator, only getSync): keys are kept in sorted **pages** of at most PAGE_MAX keys, `'k' || u32(id) -> page`;
 * the list of pages (each page's lowest key and id, in key order) is one record `'mkeyidx'` and is the only part held
 * in memory at all times (one entry per ~PAGE_MAX/2..PAGE_MAX keys: ~20 KB per 100,000 keys). Pages are loaded with
 * getSync and kept in a small cache; changed pages stay in memory until the commit batch writes them.
 *
 * A key is found by binary search over the page list (greatest lowest-key <= key), then in the page. A page that
 * outgrows PAGE_MAX is split in two; a page that falls under a quarter merges with its right neighbour when both fit
 * in one; an empty page is removed. Page 0's lowest key is always '' (it takes every key below the others).
 */
import type { Key } from './kv.js';

export const PAGE = 'k';
export const KEY_INDEX_META = 'mkeyidx';
const PAGE_MAX = 512;

export type PageReader = (id: number) => Buffer | undefined;
export interface PageWrites {
  putPage(id: number, record: Buffer): void;
  delPage(id: number): void;
  putMeta(record: Buffer): void;
}

function lowerBound(a: Key[], k: Key): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m]! < k) lo = m + 1;
    else hi = m;
  }
  return lo;
}

export function encodePage(keys: Key[]): Buffer {
  let n = 0;
  for (const k of keys) n += 4 + k.length;
  const b = Buffer.allocUnsafe(n);
  let o = 0;
  for (const k of keys) {
    b.writeUInt32BE(k.length, o);
    b.write(k, o + 4, 'latin1');
    o += 4 + k.length;
  }
  return b;
}

export function decodePage(b: Buffer): Key[] {
  const keys: Key[] = [];
  let o = 0;
  while (o < b.length) {
    const n = b.readUInt32BE(o);
    keys.push(b.toString('latin1', o + 4, o + 4 + n));
    o += 4 + n;
  }
  return keys;
}

export class KeyIndex {
  /** Lowest key of each page, ascending (fences[0] === ''). */
  private fences: Key[] = [''];
  private ids: number[] = [0];
  private nextId = 1;
  /** Loaded pages (Map order = load order, for eviction). */
  private pages = new Map<number, Key[]>();
  private dirtyPages = new Set<number>();
  private deletedPages: number[] = [];
  private metaDirty = false;
  reads = 0;

  constructor(
    private readonly read: PageReader,
    meta: Buffer | undefined,
    private readonly maxPages: number,
  ) {
    if (meta === undefined) {
      this.pages.set(0, []);
      this.dirtyPages.add(0);
      this.metaDirty = true;
      return;
    }
    this.nextId = meta.readUInt32BE(0);
    this.fences = [];
    this.ids = [];
    let o = 4;
    while (o < meta.length) {
      this.ids.push(meta.readUInt32BE(o));
      const n = meta.readUInt32BE(o + 4);
      this.fences.push(meta.toString('latin1', o + 8, o + 8 + n));
      o += 8 + n;
    }
    if (this.fences[0] !== '') throw new Error('state store is corrupt: bad key index');
  }

  get pageCount(): number {
    return this.ids.length;
  }

  private pageIndex(k: Key): number {
    // greatest i with fences[i] <= k
    let lo = 0;
    let hi = this.fences.length - 1;
    while (lo < hi) {
      const m = (lo + hi + 1) >> 1;
      if (this.fences[m]! <= k) lo = m;
      else hi = m - 1;
    }
    return lo;
  }

  private page(i: number): Key[] {
    const id = this.ids[i]!;
    const p = this.pages.get(id);
    if (p !== undefined) return p;
    this.reads++;
    const raw = this.read(id);
    if (raw === undefined) throw new Error(`state store is corrupt: key index page ${id} is missing`);
    const keys = decodePage(raw);
    if (this.pages.size >= this.maxPages) this.evict(); // before adding: the page just loaded is about to be used
    this.pages.set(id, keys);
    return keys;
  }

  private evict(): void {
    for (const id of this.pages.keys()) {
      if (this.pages.size <= this.maxPages / 2) break;
      if (!this.dirtyPages.has(id)) this.pages.delete(id);
    }
  }

  private touch(i: number): void {
    this.dirtyPages.add(this.ids[i]!);
  }

  /** Adds `k` (no-op if present). */
  insert(k: Key): void {
    const i = this.pageIndex(k);
    const p = this.page(i);
    const pos = lowerBound(p, k);
    if (p[pos] === k) return;
    p.splice(pos, 0, k);
    this.touch(i);
    if (p.length > PAGE_MAX) {
      const id = this.nextId++;
      const upper = p.splice(p.length >> 1);
      this.pages.set(id, upper);
      this.dirtyPages.add(id);
      this.fences.splice(i + 1, 0, upper[0]!);
      this.ids.splice(i + 1, 0, id);
      this.metaDirty = true;
    }
  }

  /** Removes `k` (no-op if absent). */
  remove(k: Key): void {
    const i = this.pageIndex(k);
    const p = this.page(i);
    const pos = lowerBound(p, k);
    if (p[pos] !== k) return;
    p.splice(pos, 1);
    this.touch(i);
    if (p.length === 0 && this.ids.length > 1) {
      this.dropPage(i);
    } else if (p.length < PAGE_MAX / 4 && i + 1 < this.ids.length) {
      const next = this.page(i + 1);
      if (p.length + next.length <= PAGE_MAX) {
        for (const x of next) p.push(x);
        this.dropPage(i + 1);
      }
    }
  }

  private dropPage(i: number): void {
    const id = this.ids[i]!;
    this.pages.delete(id);
    this.dirtyPages.delete(id);
    this.deletedPages.push(id);
    this.fences.splice(i, 1);
    this.ids.splice(i, 1);
    this.fences[0] = '';
    this.metaDirty = true;
  }

  /** Keys in [start, end), ascending or descending, lazily (do not change the index while iterating). */
  *range(start: Key, end: Key | undefined, reverse: boolean): IterableIterator<Key> {
    if (!reverse) {
      let i = this.pageIndex(start);
      let p = this.page(i);
      let pos = lowerBound(p, start);
      for (;;) {
        while (pos < p.length) {
          const k = p[pos++]!;
          if (end !== undefined && k >= end) return;
          yield k;
        }
        if (++i >= this.ids.length) return;
        p = this.page(i);
        pos = 0;
      }
    } else {
      let i = end === undefined ? this.ids.length - 1 : this.pageIndex(end);
      let p = this.page(i);
      let pos = end === undefined ? p.length - 1 : lowerBound(p, end) - 1;
      for (;;) {
        while (pos >= 0) {
          const k = p[pos--]!;
          if (k < start) return;
          yield k;
        }
        if (--i < 0) return;
        p = this.page(i);
        pos = p.length - 1;
      }
    }
  }

  /** Adds the changed pages (and the page list, if it changed) to a commit batch. */
  flush(out: PageWrites): void {
    for (const id of this.deletedPages) out.delPage(id);
    this.deletedPages = [];
    for (const id of this.dirtyPages) out.putPage(id, encodePage(this.pages.get(id)!));
    this.dirtyPages.clear();
    if (this.metaDirty) {
      let n = 4;
      for (const f of this.fences) n += 8 + f.length;
      const b = Buffer.allocUnsafe(n);
      b.writeUInt32BE(this.nextId, 0);
      let o = 4;
      for (let i = 0; i < this.ids.length; i++) {
        b.writeUInt32BE(this.ids[i]!, o);
        b.writeUInt32BE(this.fences[i]!.length, o + 4);
        b.write(this.fences[i]!, o + 8, 'latin1');
        o += 8 + this.fences[i]!.length;
      }
      out.putMeta(b);
      this.metaDirty = false;
    }
    if (this.pages.size > this.maxPages) this.evict();
  }
}
