/** sorted-btree wired for binary-string keys (JavaScript `<` on such strings is byte order). */
import BTreeMod from 'sorted-btree';

export const BTree = BTreeMod.default;
export type BTree<K, V> = InstanceType<typeof BTreeMod.default<K, V>>;

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function newKeyTree<V>(): BTree<string, V> {
  return new BTree<string, V>(undefined, compareKeys);
}

/** Entries of `tree` with keys in [start, end), ascending or descending, lazily. */
export function* btreeRange<V>(
  tree: BTree<string, V>,
  start: string,
  end: string | undefined,
  reverse: boolean,
): IterableIterator<[string, V]> {
  if (!reverse) {
    for (const e of tree.entries(start)) {
      if (end !== undefined && e[0] >= end) return;
      yield e;
    }
  } else {
    const it = end === undefined ? tree.entriesReversed() : tree.entriesReversed(end, undefined, true);
    for (const e of it) {
      if (e[0] < start) return;
      yield e;
    }
  }
}
