/**
 * A write buffer over a parent store: block state, per-tx state (all-or-nothing) and CheckTx state.
 * Reads fall through to the parent; buffered deletions hide parent entries; iteration merges the
 * parent's entries with the buffered ones in byte order, lazily.
 */
import { type Key, type KV, type KVReader, type Write } from './kv.js';
import { type BTree, btreeRange, newKeyTree } from './btree.js';

export class CacheKV implements KV {
  /** Buffered changes: a value, or null for a deletion. Sorted, so iteration never sorts. */
  private readonly buf: BTree<Key, Uint8Array | null> = newKeyTree();

  constructor(private readonly parent: KVReader) {}

  get size(): number {
    return this.buf.size;
  }

  get(key: Key): Uint8Array | undefined {
    const v = this.buf.get(key);
    if (v !== undefined) return v === null ? undefined : v;
    return this.parent.get(key);
  }

  has(key: Key): boolean {
    const v = this.buf.get(key);
    if (v !== undefined) return v !== null;
    return this.parent.has(key);
  }

  set(key: Key, value: Uint8Array): void {
    this.buf.set(key, value);
  }

  delete(key: Key): void {
    this.buf.set(key, null);
  }

  *iterate(start: Key, end: Key | undefined, reverse = false): IterableIterator<[Key, Uint8Array]> {
    if (end !== undefined && end <= start) return;
    const mine = btreeRange(this.buf, start, end, reverse);
    const theirs = this.parent.iterate(start, end, reverse);
    let a = mine.next();
    let b = theirs.next();
    // ahead(x, y): x comes strictly before y in the iteration direction.
    const ahead = reverse ? (x: Key, y: Key) => x > y : (x: Key, y: Key) => x < y;
    while (!a.done || !b.done) {
      if (!a.done && (b.done || !ahead(b.value[0], a.value[0]))) {
        const [k, v] = a.value;
        if (!b.done && b.value[0] === k) b = theirs.next(); // buffered entry shadows the parent's
        a = mine.next();
        if (v !== null) yield [k, v];
      } else {
        yield b.value as [Key, Uint8Array];
        b = theirs.next();
      }
    }
  }

  /** Buffered changes in ascending key order (value null = deletion). */
  writes(): Write[] {
    const out: Write[] = [];
    this.buf.forEachPair((k, v) => {
      out.push([k, v]);
    });
    return out;
  }

  /** Applies the buffered changes to `target` in key order, then clears the buffer. */
  writeTo(target: KV): void {
    this.buf.forEachPair((k, v) => {
      if (v === null) target.delete(k);
      else target.set(k, v);
    });
    this.buf.clear();
  }

  discard(): void {
    this.buf.clear();
  }
}
