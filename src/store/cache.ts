/**
 * A write buffer over a parent store: block state, per-tx state (all-or-nothing) and CheckTx state.
 * Reads fall through to the parent; buffered deletions hide parent entries; iteration merges the
 * parent's entries with the buffered ones in byte order, lazily, in either direction.
 *
 * Layout: a Map holds the buffered changes (O(1) point reads and writes — most caches are per-tx and
 * never iterated), and a sorted B+tree of the buffered keys is kept for ordered access. New keys are
 * queued and inserted into the tree the next time ordered access is needed, so each key enters the
 * tree once and no iterate call ever sorts the whole buffer. The Map is only used for lookups; order
 * always comes from the tree or an explicit comparator.
 */
import { type Key, type KV, type KVReader, type Write } from './kv.js';
import { type BTree, btreeRange, newKeyTree } from './btree.js';

/** Below this many buffered keys, writes()/writeTo() sort a key array instead of building the tree. */
const SMALL = 32;

/**
 * Sorts a few keys in place by byte order. Per-tx caches hold ~5 keys, and Array.prototype.sort allocated a work array
 * for each of them (a measurable share of all garbage per tx); insertion sort on so few keys allocates nothing.
 */
function insertionSorted(keys: Key[]): Key[] {
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

export class CacheKV implements KV {
  /** Buffered changes: a value, or null for a deletion. */
  private readonly buf = new Map<Key, Uint8Array | null>();
  /** Sorted set of buffered keys (created on first ordered access). */
  private sorted: BTree<Key, undefined> | null = null;
  /** Keys in `buf` not yet in `sorted`. */
  private unsorted: Key[] = [];

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
    if (!this.buf.has(key)) this.unsorted.push(key);
    this.buf.set(key, value);
  }

  delete(key: Key): void {
    if (!this.buf.has(key)) this.unsorted.push(key);
    this.buf.set(key, null);
  }

  private tree(): BTree<Key, undefined> {
    if (this.sorted === null) this.sorted = newKeyTree<undefined>();
    if (this.unsorted.length > 0) {
      for (const k of this.unsorted) this.sorted.set(k, undefined);
      this.unsorted = [];
    }
    return this.sorted;
  }

  /** Buffered keys in ascending byte order. */
  private orderedKeys(): Iterable<Key> {
    if (this.sorted === null && this.buf.size <= SMALL) return insertionSorted([...this.buf.keys()]);
    return this.tree().keys();
  }

  *iterate(start: Key, end: Key | undefined, reverse = false): IterableIterator<[Key, Uint8Array]> {
    if (end !== undefined && end <= start) return;
    // Iterate an O(1) copy-on-write clone of the key tree, so writes made while iterating (e.g.
    // deleting entries as they are visited) cannot disturb the walk. Values are read at yield time:
    // an entry deleted during the iteration is not yielded.
    const mine = btreeRange(this.tree().clone(), start, end, reverse);
    const theirs = this.parent.iterate(start, end, reverse);
    let a = mine.next();
    let b = theirs.next();
    // ahead(x, y): x comes strictly before y in the iteration direction.
    const ahead = reverse ? (x: Key, y: Key) => x > y : (x: Key, y: Key) => x < y;
    while (!a.done || !b.done) {
      if (!a.done && (b.done || !ahead(b.value[0], a.value[0]))) {
        const k = a.value[0];
        if (!b.done && b.value[0] === k) b = theirs.next(); // the buffered entry shadows the parent's
        a = mine.next();
        const v = this.buf.get(k);
        if (v !== null && v !== undefined) yield [k, v];
      } else {
        const [k, v] = b.value as [Key, Uint8Array];
        b = theirs.next();
        const own = this.buf.get(k); // written during this iteration?
        if (own === undefined) yield [k, v];
        else if (own !== null) yield [k, own];
      }
    }
  }

  /** Buffered changes in ascending key order (value null = deletion). */
  writes(): Write[] {
    const out: Write[] = [];
    for (const k of this.orderedKeys()) out.push([k, this.buf.get(k)!]);
    return out;
  }

  /** Applies the buffered changes to `target` in ascending key order, then clears the buffer. */
  writeTo(target: KV): void {
    for (const k of this.orderedKeys()) {
      const v = this.buf.get(k)!;
      if (v === null) target.delete(k);
      else target.set(k, v);
    }
    this.discard();
  }

  discard(): void {
    this.buf.clear();
    this.sorted = null;
    this.unsorted = [];
  }
}
