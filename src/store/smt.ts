/**
 * A binary sparse Merkle tree over 256-bit paths (path = sha256(key)), in the layout of ICS-23's
 * `SmtSpec`:
 *
 *   leaf  = sha256(0x00 || sha256(key) || sha256(value))
 *   inner = sha256(0x01 || left || right)
 *   empty = 32 zero bytes (an empty subtree; also the root of the empty tree)
 *
 * The tree is *compressed*: a subtree holding exactly one leaf is that leaf, placed directly under
 * the deepest inner node whose path prefix it shares with another leaf. Inner nodes exist at every
 * depth down to the point where two paths diverge (a chain of single-child inner nodes is kept, no
 * extension nodes), so an inclusion proof is one ICS-23 InnerOp per depth. Bit `d` of the path
 * (most significant bit of byte 0 first) selects the child at depth `d`: 0 = left, 1 = right. The
 * in-order leaf sequence is therefore ascending in sha256(key) byte order.
 *
 * The shape depends only on the set of keys, so the root is independent of insertion order.
 * Inner hashes are computed lazily: writes clear the cached hash of every inner node on their path,
 * and `root()` rehashes each dirty node exactly once, bottom-up.
 */
import { hash as nodeHash } from 'node:crypto';

/**
 * Hashes and paths are held as 32-character *binary strings* (one byte per UTF-16 code unit, like
 * `Key`): `crypto.hash(..., 'binary')` returns them without allocating an ArrayBuffer per digest,
 * which matters because Buffer digests made the garbage collector dominate (measured: ~0.8 us per
 * retained string digest vs ~3.3 us per retained Buffer digest; createHash is slower still).
 */
export type Hash = string;

export const HASH_LEN = 32;
export const EMPTY_HASH: Hash = '\0'.repeat(HASH_LEN);
const LEAF_PREFIX = 0x00;
const INNER_PREFIX = 0x01;

export function sha256(data: Uint8Array): Hash {
  return nodeHash('sha256', data, 'binary');
}

/** sha256 of a binary-string key (its bytes, not its UTF-8 encoding). */
const keyScratch = Buffer.alloc(1024);
export function sha256Key(key: string): Hash {
  if (key.length > keyScratch.length) return nodeHash('sha256', Buffer.from(key, 'latin1'), 'binary');
  const n = keyScratch.write(key, 0, 'latin1');
  return nodeHash('sha256', keyScratch.subarray(0, n), 'binary');
}

export function hashToBytes(h: Hash): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'latin1'));
}

export function bytesToHash(b: Uint8Array): Hash {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

const scratch = Buffer.alloc(1 + 2 * HASH_LEN);

export function leafHash(path: Hash, valueHash: Hash): Hash {
  scratch[0] = LEAF_PREFIX;
  scratch.write(path, 1, HASH_LEN, 'latin1');
  scratch.write(valueHash, 1 + HASH_LEN, HASH_LEN, 'latin1');
  return nodeHash('sha256', scratch, 'binary');
}

export function innerHash(left: Hash, right: Hash): Hash {
  scratch[0] = INNER_PREFIX;
  scratch.write(left, 1, HASH_LEN, 'latin1');
  scratch.write(right, 1 + HASH_LEN, HASH_LEN, 'latin1');
  return nodeHash('sha256', scratch, 'binary');
}

export function bitAt(path: Hash, depth: number): number {
  return (path.charCodeAt(depth >> 3) >> (7 - (depth & 7))) & 1;
}

/** Byte-order comparison of two hashes (binary strings). */
export function comparePaths(a: Hash, b: Hash): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class Leaf {
  constructor(
    readonly key: string,
    readonly path: Hash,
    /** The value, or null when its owner keeps values elsewhere (CommittedStore reads them from LevelDB). */
    public value: Uint8Array | null,
    public hash: Hash,
  ) {}
}

export class Inner {
  left: Node | null = null;
  right: Node | null = null;
  /** null when dirty (a descendant changed since the last hash). */
  hash: Hash | null = null;
}

export type Node = Leaf | Inner;

/** One step of an inclusion path, from the root downwards. */
export interface PathStep {
  /** 0: the proven node is in the left child, 1: in the right child. */
  side: number;
  sibling: Hash;
}

export class SparseMerkleTree {
  private top: Node | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Inserts or replaces a leaf. `path` must be sha256(leaf.key). */
  upsert(leaf: Leaf): void {
    const path = leaf.path;
    let parent: Inner | null = null;
    let side = 0;
    let node = this.top;
    let depth = 0;
    while (node instanceof Inner) {
      node.hash = null;
      parent = node;
      side = bitAt(path, depth);
      node = side === 0 ? node.left : node.right;
      depth++;
    }
    let repl: Node;
    if (node === null) {
      this.count++;
      repl = leaf;
    } else if (node.path === path) {
      repl = leaf;
    } else {
      this.count++;
      repl = split(node, leaf, depth);
    }
    if (parent === null) this.top = repl;
    else if (side === 0) parent.left = repl;
    else parent.right = repl;
  }

  /** Marks the path to an existing leaf dirty after its `hash` was changed in place. */
  touch(path: Hash): void {
    let node = this.top;
    let depth = 0;
    while (node instanceof Inner) {
      node.hash = null;
      node = bitAt(path, depth) === 0 ? node.left : node.right;
      depth++;
    }
  }

  /** Removes the leaf with this path, if present. Returns whether it was present. */
  remove(path: Hash): boolean {
    const before = this.count;
    this.top = this.removeAt(this.top, path, 0);
    return this.count !== before;
  }

  root(): Hash {
    return this.top === null ? EMPTY_HASH : hashOf(this.top);
  }

  private removeAt(node: Node | null, path: Hash, depth: number): Node | null {
    if (node === null) return null;
    if (node instanceof Leaf) {
      if (node.path === path) {
        this.count--;
        return null;
      }
      return node;
    }
    const goLeft = bitAt(path, depth) === 0;
    const child = goLeft ? node.left : node.right;
    const before = this.count;
    const updated = this.removeAt(child, path, depth + 1);
    if (this.count === before) return node; // not found below: nothing changed
    if (goLeft) node.left = updated;
    else node.right = updated;
    node.hash = null;
    const { left, right } = node;
    // Compress: a subtree left holding a single leaf becomes that leaf.
    if (left === null && (right === null || right instanceof Leaf)) return right;
    if (right === null && left instanceof Leaf) return left;
    return node;
  }

  /**
   * Walks towards `path`: returns the inclusion path (root first) to the node where the walk ends,
   * and that node (the leaf holding `path`, another leaf, or null for an empty subtree).
   */
  walk(path: Hash): { steps: PathStep[]; end: Node | null } {
    this.root(); // make sure every hash on the way is current
    const steps: PathStep[] = [];
    let node = this.top;
    let depth = 0;
    while (node instanceof Inner) {
      const side = bitAt(path, depth);
      const sib = side === 0 ? node.right : node.left;
      steps.push({ side, sibling: sib === null ? EMPTY_HASH : hashOf(sib) });
      node = side === 0 ? node.left : node.right;
      depth++;
    }
    return { steps, end: node };
  }

  /** The leaf with the greatest path < `path` (dir -1) or the smallest path > `path` (dir 1). */
  neighbour(path: Hash, dir: -1 | 1): Leaf | null {
    return neighbourIn(this.top, path, 0, dir);
  }
}

function neighbourIn(node: Node | null, path: Hash, depth: number, dir: -1 | 1): Leaf | null {
  if (node === null) return null;
  if (node instanceof Leaf) {
    const c = comparePaths(node.path, path);
    return c === dir ? node : null;
  }
  const bit = bitAt(path, depth);
  if (dir === -1) {
    if (bit === 1) return neighbourIn(node.right, path, depth + 1, dir) ?? extreme(node.left, 1);
    return neighbourIn(node.left, path, depth + 1, dir);
  }
  if (bit === 0) return neighbourIn(node.left, path, depth + 1, dir) ?? extreme(node.right, 0);
  return neighbourIn(node.right, path, depth + 1, dir);
}

/** Leftmost (side 0) or rightmost (side 1) leaf of a subtree. */
function extreme(node: Node | null, side: 0 | 1): Leaf | null {
  while (node instanceof Inner) {
    const first = side === 0 ? node.left : node.right;
    node = first ?? (side === 0 ? node.right : node.left);
  }
  return node;
}

function split(a: Leaf, b: Leaf, depth: number): Inner {
  const inner = new Inner();
  const ba = bitAt(a.path, depth);
  const bb = bitAt(b.path, depth);
  if (ba === bb) {
    const child = split(a, b, depth + 1);
    if (ba === 0) inner.left = child;
    else inner.right = child;
  } else if (ba === 0) {
    inner.left = a;
    inner.right = b;
  } else {
    inner.left = b;
    inner.right = a;
  }
  return inner;
}

function hashOf(node: Node): Hash {
  if (node instanceof Leaf) return node.hash;
  if (node.hash !== null) return node.hash;
  const l = node.left === null ? EMPTY_HASH : hashOf(node.left);
  const r = node.right === null ? EMPTY_HASH : hashOf(node.right);
  node.hash = innerHash(l, r);
  return node.hash;
}

/** Builds a leaf (computes its path, value hash and leaf hash). */
export function makeLeaf(key: string, value: Uint8Array, path?: Hash): Leaf {
  const p = path ?? sha256Key(key);
  return new Leaf(key, p, value, leafHash(p, sha256(value)));
}
