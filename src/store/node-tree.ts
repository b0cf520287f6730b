/**
 * The sparse Merkle tree of smt.ts (same layout, same root, same ICS-23 proofs) with its nodes persisted in LevelDB
 * and loaded on demand, so neither opening the store nor holding it needs the whole tree in memory.
 *
 * Nodes are stored **by hash** (content-addressed): `'n' || hash -> 'I' || leftHash || rightHash` for an inner node,
 * `'n' || hash -> 'L' || key` for a leaf. Because a leaf's hash covers its path (sha256(key)) and an inner hash covers
 * every leaf below it, one tree never holds two nodes with the same hash, so a record is never shared between two
 * positions; and a leaf that moves (a split pushes it down, a deletion pulls it up) keeps its record. Only the latest
 * version's nodes are kept: a commit writes every node created since the previous commit and deletes every node the
 * block replaced or removed (deletes first, then puts, in the one commit batch, so a node re-created with the same
 * hash stays). Older heights are served from undo records (history.ts), not from old nodes.
 *
 * In memory, a child is a loaded node, `null` (empty) or its hash as a string (not loaded: a stub). Walks load stubs
 * with synchronous LevelDB reads (getSync). After a commit, when more than `maxNodes` nodes are loaded, everything
 * below depth `KEEP_DEPTH` is unloaded again (only nodes already persisted), which bounds memory.
 */
import { EMPTY_HASH, type Hash, type PathStep, bitAt, comparePaths, innerHash } from './smt.js';

export const NODE = 'n';
/**
 * Inner nodes get their own record only at depths divisible by SPAN; a record holds its node and the inner nodes of
 * the next SPAN-1 levels inline (a 16-way node, as in Jellyfish Merkle trees, but the binary hashes are unchanged).
 * One record instead of one per binary node cut the node operations of a commit ~3x (docs/state.md).
 */
export const SPAN = 4;
const KEEP_DEPTH = 8;

export class PLeaf {
  /** Whether a record for `hash` is in LevelDB (or in the commit batch being written). */
  persisted = false;
  constructor(
    readonly key: string,
    readonly path: Hash,
    readonly hash: Hash,
  ) {}
}

export class PInner {
  persisted = false;
  /** null when dirty (a descendant changed since the last hash). */
  hash: Hash | null = null;
  constructor(
    public left: Child,
    public right: Child,
  ) {}
}

export type PNode = PLeaf | PInner;
/** A loaded node, null (empty subtree) or the hash of a node not loaded. */
export type Child = PNode | Hash | null;

/** Synchronous node reads: returns the record of a hash, or undefined. */
export type NodeReader = (hash: Hash) => Buffer | undefined;

export interface NodeWrites {
  put(hash: Hash, record: Buffer): void;
  del(hash: Hash): void;
}

const hashOfChild = (c: Child): Hash => (c === null ? EMPTY_HASH : typeof c === 'string' ? c : hashOf(c));

function hashOf(node: PNode): Hash {
  if (node instanceof PLeaf) return node.hash;
  if (node.hash !== null) return node.hash;
  node.hash = innerHash(hashOfChild(node.left), hashOfChild(node.right));
  return node.hash;
}

export class PersistentTree {
  private top: Child;
  /** Hashes of persisted nodes replaced or removed since the last commit: deleted by the next one. */
  private dropped: Hash[] = [];
  /** Nodes loaded or created since the last unload (an upper bound of the nodes held). */
  loaded = 0;
  /** getSync reads made (for benchmarks). */
  reads = 0;

  constructor(
    private readonly read: NodeReader,
    root: Hash,
    public count: number,
    readonly maxNodes: number,
    readonly sha256Key: (key: string) => Hash,
  ) {
    this.top = root === EMPTY_HASH ? null : root;
  }

  get size(): number {
    return this.count;
  }

  root(): Hash {
    return hashOfChild(this.top);
  }

  private load(hash: Hash): PNode {
    this.reads++;
    const raw = this.read(hash);
    if (raw === undefined || raw.length < 1) {
      throw new Error(`state store is corrupt: tree node ${Buffer.from(hash, 'latin1').toString('hex')} is missing`);
    }
    this.loaded++;
    if (raw[0] === 0x4c /* L */) {
      const key = raw.toString('latin1', 1);
      const leaf = new PLeaf(key, this.sha256Key(key), hash);
      leaf.persisted = true;
      return leaf;
    }
    let pos = 0;
    const bad = () => new Error(`state store is corrupt: bad tree node record ${Buffer.from(hash, 'latin1').toString('hex')}`);
    const parse = (): Child => {
      const tag = raw[pos++];
      if (tag === 0x45 /* E */) return null;
      if (tag === 0x48 /* H */) {
        if (pos + 32 > raw.length) throw bad();
        pos += 32;
        return raw.toString('latin1', pos - 32, pos);
      }
      if (tag !== 0x49 /* I */) throw bad();
      const left = parse();
      const inner = new PInner(left, parse());
      inner.persisted = true; // hash computed when needed
      this.loaded++;
      return inner;
    };
    const top = parse();
    if (!(top instanceof PInner) || pos !== raw.length) throw bad();
    top.hash = hash;
    return top;
  }

  private resolve(c: Child): PNode | null {
    return typeof c === 'string' ? this.load(c) : c;
  }

  private resolveTop(): PNode | null {
    if (typeof this.top === 'string') this.top = this.load(this.top);
    return this.top;
  }

  /** The child on `side`, loaded (and kept in the parent). */
  private child(inner: PInner, side: number): PNode | null {
    if (side === 0) {
      if (typeof inner.left === 'string') inner.left = this.load(inner.left);
      return inner.left;
    }
    if (typeof inner.right === 'string') inner.right = this.load(inner.right);
    return inner.right;
  }

  private dirty(inner: PInner, depth: number): void {
    if (inner.persisted && depth % SPAN === 0) {
      this.dropped.push(inner.hash!);
      inner.persisted = false;
    }
    inner.hash = null;
  }

  private drop(node: PNode): void {
    if (node.persisted) {
      this.dropped.push(node.hash!);
      node.persisted = false;
    }
  }

  /** Inserts or replaces the leaf with this path. */
  upsert(leaf: PLeaf): void {
    this.loaded++;
    const path = leaf.path;
    let parent: PInner | null = null;
    let side = 0;
    let node = this.resolveTop();
    let depth = 0;
    while (node instanceof PInner) {
      this.dirty(node, depth);
      parent = node;
      side = bitAt(path, depth);
      node = this.child(node, side);
      depth++;
    }
    let repl: PNode;
    if (node === null) {
      this.count++;
      repl = leaf;
    } else if (node.path === path) {
      this.drop(node);
      repl = leaf;
    } else {
      this.count++;
      repl = this.split(node, leaf, depth);
    }
    if (parent === null) this.top = repl;
    else if (side === 0) parent.left = repl;
    else parent.right = repl;
  }

  private split(a: PLeaf, b: PLeaf, depth: number): PInner {
    this.loaded++;
    const ba = bitAt(a.path, depth);
    const bb = bitAt(b.path, depth);
    if (ba === bb) {
      const child = this.split(a, b, depth + 1);
      return ba === 0 ? new PInner(child, null) : new PInner(null, child);
    }
    return ba === 0 ? new PInner(a, b) : new PInner(b, a);
  }

  /** Removes the leaf with this path, if present. Returns whether it was present. */
  remove(path: Hash): boolean {
    const before = this.count;
    this.top = this.removeAt(this.resolveTop(), path, 0);
    return this.count !== before;
  }

  private removeAt(node: PNode | null, path: Hash, depth: number): Child {
    if (node === null) return null;
    if (node instanceof PLeaf) {
      if (node.path === path) {
        this.count--;
        this.drop(node);
        return null;
      }
      return node;
    }
    const side = bitAt(path, depth);
    const before = this.count;
    const updated = this.removeAt(this.child(node, side), path, depth + 1);
    if (this.count === before) return node; // not found below: nothing changed
    this.dirty(node, depth);
    if (side === 0) node.left = updated;
    else node.right = updated;
    // Compress: a subtree left holding a single leaf becomes that leaf (the inner node goes).
    const left = this.child(node, 0);
    const right = this.child(node, 1);
    if (left === null && (right === null || right instanceof PLeaf)) return right;
    if (right === null && left instanceof PLeaf) return left;
    return node;
  }

  /**
   * Walks towards `path`: the inclusion path (root first) to where the walk ends, and that node (the leaf holding
   * `path`, another leaf, or null). Sibling hashes come from the parent, so siblings are not loaded.
   */
  walk(path: Hash): { steps: PathStep[]; end: PNode | null } {
    const steps: PathStep[] = [];
    let node = this.resolveTop();
    let depth = 0;
    while (node instanceof PInner) {
      hashOf(node);
      const side = bitAt(path, depth);
      steps.push({ side, sibling: hashOfChild(side === 0 ? node.right : node.left) });
      node = this.child(node, side);
      depth++;
    }
    return { steps, end: node };
  }

  /** The leaf with the greatest path < `path` (dir -1) or the smallest path > `path` (dir 1). */
  neighbour(path: Hash, dir: -1 | 1): PLeaf | null {
    return this.neighbourIn(this.resolveTop(), path, 0, dir);
  }

  private neighbourIn(node: PNode | null, path: Hash, depth: number, dir: -1 | 1): PLeaf | null {
    if (node === null) return null;
    if (node instanceof PLeaf) return comparePaths(node.path, path) === dir ? node : null;
    const bit = bitAt(path, depth);
    if (dir === -1) {
      if (bit === 1) return this.neighbourIn(this.child(node, 1), path, depth + 1, dir) ?? this.extreme(this.child(node, 0), 1);
      return this.neighbourIn(this.child(node, 0), path, depth + 1, dir);
    }
    if (bit === 0) return this.neighbourIn(this.child(node, 0), path, depth + 1, dir) ?? this.extreme(this.child(node, 1), 0);
    return this.neighbourIn(this.child(node, 1), path, depth + 1, dir);
  }

  /** Leftmost (side 0) or rightmost (side 1) leaf of a subtree. */
  private extreme(node: PNode | null, side: 0 | 1): PLeaf | null {
    while (node instanceof PInner) {
      const first = this.child(node, side);
      node = first ?? this.child(node, side === 0 ? 1 : 0);
    }
    return node;
  }

  /**
   * Adds the changes since the last call to a commit batch: deletions of the replaced nodes, then every node not yet
   * persisted (a persisted node's whole subtree is persisted: any change below it would have made it dirty).
   * Returns the root. The nodes count as persisted from here on (the batch is written next).
   */
  flush(out: NodeWrites): Hash {
    const root = this.root();
    for (const h of this.dropped) out.del(h);
    this.dropped = [];
    const parts: Buffer[] = [];
    const tagE = Buffer.from('E');
    const tagI = Buffer.from('I');
    const stub = (h: Hash) => {
      const b = Buffer.allocUnsafe(33);
      b[0] = 0x48;
      b.write(h, 1, 32, 'latin1');
      return b;
    };
    // rec: a node with its own record (a leaf, or an inner node at a depth divisible by SPAN)
    const rec = (c: Child, depth: number): void => {
      if (c === null || typeof c === 'string' || c.persisted) return;
      if (c instanceof PLeaf) {
        const b = Buffer.allocUnsafe(1 + c.key.length);
        b[0] = 0x4c;
        b.write(c.key, 1, 'latin1');
        out.put(c.hash, b);
        c.persisted = true;
        return;
      }
      parts.length = 0;
      const later: [Child, number][] = [];
      const ser = (n: Child, rel: number): void => {
        if (n === null) parts.push(tagE);
        else if (typeof n === 'string') parts.push(stub(n));
        else if (n instanceof PLeaf) {
          parts.push(stub(n.hash));
          later.push([n, depth + rel]);
        } else if (rel > 0 && rel % SPAN === 0) {
          parts.push(stub(hashOf(n)));
          later.push([n, depth + rel]);
        } else {
          parts.push(tagI);
          ser(n.left, rel + 1);
          ser(n.right, rel + 1);
          n.persisted = true;
        }
      };
      ser(c, 0);
      out.put(hashOf(c), Buffer.concat(parts));
      for (const [n, d] of later) rec(n, d);
    };
    rec(this.top, 0);
    return root;
  }

  /** After a commit's batch is written: if too many nodes are loaded, unload persisted records below KEEP_DEPTH. */
  trim(): void {
    if (this.loaded <= this.maxNodes) return;
    let kept = 0;
    const rec = (node: PNode, depth: number): void => {
      kept++;
      if (!(node instanceof PInner)) return;
      for (const side of [0, 1]) {
        const c = side === 0 ? node.left : node.right;
        if (c === null || typeof c === 'string') continue;
        const own = c instanceof PLeaf || (depth + 1) % SPAN === 0; // has a record of its own
        if (depth + 1 >= KEEP_DEPTH && own && c.persisted) {
          if (side === 0) node.left = hashOf(c);
          else node.right = hashOf(c);
        } else rec(c, depth + 1);
      }
    };
    if (this.top !== null && typeof this.top !== 'string') rec(this.top, 0);
    this.loaded = kept;
  }
}
