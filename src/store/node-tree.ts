/**
 * The sparse Merkle tree of smt.ts (same layout, same root, same ICS-23 proofs) with its nodes persisted in LevelDB
 * and loaded on demand, so neither opening the store nor holding it needs the whole tree in memory.
 *
 * Records are stored **by hash** (content-addressed), one per inner node at a depth divisible by SPAN, holding that
 * node's binary subtree down SPAN levels (a 16-way node, as in Jellyfish Merkle trees; the binary hashes are
 * unchanged) with the **leaves inline**: `node := 'I' node node | 'L' hash u32(len) key | 'H' hash | 'E'`, where 'H'
 * is an inner node SPAN levels down (its own record). A leaf has a record of its own (`'L' key`) only while it is the
 * whole tree (a one-entry state: the root node must exist). One tree never holds two inner nodes with the same hash
 * (an inner hash covers the leaves below it), so a record belongs to exactly one position. Only the latest version's
 * records are kept: a commit deletes the records of the inner nodes the block changed and writes the new ones
 * (deletes first, then puts, in the one commit batch, so a record re-created with the same hash stays). Older
 * heights are served from undo records (history.ts), not from old nodes.
 *
 * Leaves inline (rather than one record per leaf, as before): a leaf changes whenever its value changes, and its
 * parent record changes with it anyway, so a separate leaf record doubled the node operations of a commit and the
 * reads of a walk (docs/state.md has the measurements).
 *
 * In memory, a child is a loaded node, `null` (empty) or its hash as a string (not loaded: a stub). Walks load stubs
 * with synchronous LevelDB reads (getSync). The loaded part is a cache with a byte budget, evicted least recently
 * used first, by whole records: every record remembers the last commit epoch a walk passed through it (a walk always
 * starts at the root, so a parent is never older than its children), and after a commit that leaves more than the
 * budget held, the records not used for the longest are unloaded back to stubs until about 60 % of the budget is
 * held. With uniformly spread paths (sha256 of the key) this keeps the top levels of the tree, used by every walk,
 * and drops the bottom records that the last blocks did not touch.
 */
import { EMPTY_HASH, HASH_LEN, type Hash, type PathStep, bitAt, comparePaths, innerHash, sha256Key } from './smt.js';

export const NODE = 'n';
/**
 * Inner nodes get their own record only at depths divisible by SPAN; a record holds its node and the inner nodes of
 * the next SPAN-1 levels inline, and every leaf down to SPAN levels. One record instead of one per binary node cut
 * the node operations of a commit ~3x; leaves inline halved them again (docs/state.md).
 */
export const SPAN = 4;

/**
 * Estimated heap bytes of what the tree holds (measured with V8's heapUsed over 200,000 objects, Node 20): an inner
 * node object 64, a 32-character hash string 48 (an inner node's cached hash, or a stub), a leaf object with its path
 * and hash strings ~144 plus its key string.
 */
const INNER_BYTES = 64;
const HASH_BYTES = 48;
const LEAF_BYTES = 160;
const leafBytes = (l: PLeaf) => LEAF_BYTES + l.key.length;
/** After a trim, about this fraction of the budget stays loaded (room for the next blocks' loads). */
const KEEP_FRACTION = 0.6;
/** Ages (in commits) told apart by the trim; anything older counts as this old. */
const MAX_AGE = 63;

export class PLeaf {
  /**
   * `path` may be passed as null and is then computed (sha256 of the key) when first needed: a loaded record holds
   * several leaves of which a walk usually compares one.
   */
  constructor(
    readonly key: string,
    private _path: Hash | null,
    readonly hash: Hash,
  ) {}

  get path(): Hash {
    return (this._path ??= sha256Key(this.key));
  }
}

export class PInner {
  /** Whether this node is part of a record in LevelDB (or in the commit batch being written). */
  persisted = false;
  /** null when dirty (a descendant changed since the last hash). */
  hash: Hash | null = null;
  /** The last commit epoch a walk passed through this node (for the LRU trim). */
  seen = 0;
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
  /** `record` is valid during the call only (a reused buffer): copy it or hand it to LevelDB's batch, which copies. */
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

/** A growable buffer that records are serialized into (one per tree, reused by every record). */
class Scratch {
  buf = Buffer.allocUnsafe(4096);
  pos = 0;
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }
  tag(t: number): void {
    this.ensure(1);
    this.buf[this.pos++] = t;
  }
  hash(t: number, h: Hash): void {
    this.ensure(1 + HASH_LEN);
    const b = this.buf;
    let p = this.pos;
    b[p++] = t;
    // A JS loop: cheaper than Buffer#write's argument handling for 32 bytes.
    for (let i = 0; i < HASH_LEN; i++) b[p++] = h.charCodeAt(i);
    this.pos = p;
  }
  leaf(l: PLeaf): void {
    this.ensure(1 + HASH_LEN + 4 + l.key.length);
    this.hash(0x4c, l.hash);
    const b = this.buf;
    b.writeUInt32BE(l.key.length, this.pos);
    this.pos += 4;
    this.pos += b.write(l.key, this.pos, 'latin1');
  }
}

export class PersistentTree {
  private top: Child;
  /** Hashes of persisted records replaced or removed since the last commit: deleted by the next one. */
  private dropped: Hash[] = [];
  /** The hash of the one-leaf tree's own leaf record on disk, if the tree was a single leaf at the last commit. */
  private leafRecord: Hash | null = null;
  private readonly scratch = new Scratch();
  /** Commits seen (the LRU clock). */
  private epoch = 1;
  /** Estimated bytes held (grows with loads and new nodes; recounted exactly by a trim). */
  heldBytes = 0;
  /** getSync reads made (for benchmarks). */
  reads = 0;
  /** Trims that unloaded records (for benchmarks and tests). */
  evictions = 0;

  constructor(
    private readonly read: NodeReader,
    root: Hash,
    public count: number,
    /** Heap bytes the loaded nodes may take after a commit (estimated; see INNER_BYTES). */
    readonly budgetBytes: number,
  ) {
    this.top = root === EMPTY_HASH ? null : root;
  }

  get size(): number {
    return this.count;
  }

  root(): Hash {
    return hashOfChild(this.top);
  }

  private load(hash: Hash, atRoot: boolean): PNode {
    this.reads++;
    const raw = this.read(hash);
    if (raw === undefined || raw.length < 1) {
      throw new Error(`state store is corrupt: tree node ${Buffer.from(hash, 'latin1').toString('hex')} is missing`);
    }
    if (raw[0] === 0x4c /* L */) {
      // A leaf with a record of its own: only the one-leaf tree's root.
      if (!atRoot) throw this.bad(hash);
      const key = raw.toString('latin1', 1);
      const leaf = new PLeaf(key, null, hash);
      this.leafRecord = hash;
      this.heldBytes += leafBytes(leaf);
      return leaf;
    }
    let pos = 0;
    let bytes = 0;
    const epoch = this.epoch;
    const parse = (): Child => {
      const tag = raw[pos++];
      if (tag === 0x45 /* E */) return null;
      if (tag === 0x48 /* H */) {
        if (pos + HASH_LEN > raw.length) throw this.bad(hash);
        pos += HASH_LEN;
        bytes += HASH_BYTES;
        return raw.toString('latin1', pos - HASH_LEN, pos);
      }
      if (tag === 0x4c /* L */) {
        if (pos + HASH_LEN + 4 > raw.length) throw this.bad(hash);
        const h = raw.toString('latin1', pos, pos + HASH_LEN);
        const n = raw.readUInt32BE(pos + HASH_LEN);
        pos += HASH_LEN + 4;
        if (pos + n > raw.length) throw this.bad(hash);
        const key = raw.toString('latin1', pos, pos + n);
        pos += n;
        const leaf = new PLeaf(key, null, h);
        bytes += leafBytes(leaf);
        return leaf;
      }
      if (tag !== 0x49 /* I */) throw this.bad(hash);
      const left = parse();
      const inner = new PInner(left, parse());
      inner.persisted = true; // hash computed when needed
      inner.seen = epoch;
      bytes += INNER_BYTES;
      return inner;
    };
    const top = parse();
    if (!(top instanceof PInner) || pos !== raw.length) throw this.bad(hash);
    top.hash = hash;
    this.heldBytes += bytes + HASH_BYTES;
    return top;
  }

  private bad(hash: Hash): Error {
    return new Error(`state store is corrupt: bad tree node record ${Buffer.from(hash, 'latin1').toString('hex')}`);
  }

  private resolveTop(): PNode | null {
    if (typeof this.top === 'string') this.top = this.load(this.top, true);
    if (this.top instanceof PInner) this.top.seen = this.epoch;
    return this.top;
  }

  /** The child on `side`, loaded (and kept in the parent); marks the parent as used now. */
  private child(inner: PInner, side: number): PNode | null {
    inner.seen = this.epoch;
    if (side === 0) {
      if (typeof inner.left === 'string') inner.left = this.load(inner.left, false);
      return inner.left;
    }
    if (typeof inner.right === 'string') inner.right = this.load(inner.right, false);
    return inner.right;
  }

  private dirty(inner: PInner, depth: number): void {
    if (inner.persisted && depth % SPAN === 0) {
      this.dropped.push(inner.hash!);
      inner.persisted = false;
    }
    inner.hash = null;
  }

  /** Inserts or replaces the leaf with this path. */
  upsert(leaf: PLeaf): void {
    this.heldBytes += leafBytes(leaf);
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
      this.heldBytes -= leafBytes(node);
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
    this.heldBytes += INNER_BYTES + HASH_BYTES;
    const ba = bitAt(a.path, depth);
    const bb = bitAt(b.path, depth);
    let n: PInner;
    if (ba === bb) {
      const child = this.split(a, b, depth + 1);
      n = ba === 0 ? new PInner(child, null) : new PInner(null, child);
    } else n = ba === 0 ? new PInner(a, b) : new PInner(b, a);
    n.seen = this.epoch;
    return n;
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
        this.heldBytes -= leafBytes(node);
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
    if ((left === null && (right === null || right instanceof PLeaf)) || (right === null && left instanceof PLeaf)) {
      this.heldBytes -= INNER_BYTES + HASH_BYTES;
      return left ?? right;
    }
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
   * Adds the changes since the last call to a commit batch: deletions of the replaced records, then every record not
   * yet persisted (a persisted node's whole subtree is persisted: any change below it would have made it dirty).
   * Returns the root. The nodes count as persisted from here on (the batch is written next).
   */
  flush(out: NodeWrites): Hash {
    const root = this.root();
    for (const h of this.dropped) out.del(h);
    this.dropped = [];
    // The one-leaf tree's own leaf record.
    const leafRoot = this.top instanceof PLeaf ? this.top : null;
    if (this.leafRecord !== null && this.leafRecord !== leafRoot?.hash) {
      out.del(this.leafRecord);
      this.leafRecord = null;
    }
    if (leafRoot !== null && this.leafRecord === null) {
      const b = Buffer.allocUnsafe(1 + leafRoot.key.length);
      b[0] = 0x4c;
      b.write(leafRoot.key, 1, 'latin1');
      out.put(leafRoot.hash, b);
      this.leafRecord = leafRoot.hash;
    }
    // Inner nodes with their own record (at depths divisible by SPAN) not yet persisted, serialized one by one.
    const sc = this.scratch;
    const todo: PInner[] = [];
    if (this.top instanceof PInner && !this.top.persisted) todo.push(this.top);
    for (let c = todo.pop(); c !== undefined; c = todo.pop()) {
      sc.pos = 0;
      this.serialize(c, 0, todo);
      out.put(hashOf(c), sc.buf.subarray(0, sc.pos));
    }
    return root;
  }

  /** Appends node `n` at `rel` levels below its record's root to the scratch record; records below go to `todo`. */
  private serialize(n: Child, rel: number, todo: PInner[]): void {
    const sc = this.scratch;
    if (n === null) sc.tag(0x45);
    else if (typeof n === 'string') sc.hash(0x48, n);
    else if (n instanceof PLeaf) sc.leaf(n);
    else if (rel === SPAN) {
      sc.hash(0x48, hashOf(n));
      if (!n.persisted) todo.push(n);
    } else {
      sc.tag(0x49);
      this.serialize(n.left, rel + 1, todo);
      this.serialize(n.right, rel + 1, todo);
      n.persisted = true;
    }
  }

  /**
   * After a commit's batch is written: if the loaded nodes may exceed the budget, count them exactly and, when they
   * do, unload the records least recently used (by commit epoch) until about KEEP_FRACTION of the budget is held.
   */
  trim(): void {
    const epoch = this.epoch++;
    if (this.heldBytes <= this.budgetBytes) return;
    const top = this.top;
    if (top === null || typeof top === 'string' || top instanceof PLeaf) {
      this.heldBytes = top instanceof PLeaf ? leafBytes(top) : 0;
      return;
    }
    // Pass 1: bytes held by age (commits since last used), each record counted apart from the records below it.
    const byAge = new Array<number>(MAX_AGE + 2).fill(0);
    let total = 0;
    const count = (n: Child, rel: number, age: number): number => {
      if (n === null) return 0;
      if (typeof n === 'string') return HASH_BYTES;
      if (n instanceof PLeaf) return leafBytes(n);
      if (rel === SPAN) {
        const a = Math.min(MAX_AGE, epoch - n.seen);
        const own = INNER_BYTES + HASH_BYTES + count(n.left, 1, a) + count(n.right, 1, a);
        byAge[a] += own;
        total += own;
        return 0;
      }
      return INNER_BYTES + (n.hash !== null ? HASH_BYTES : 0) + count(n.left, rel + 1, age) + count(n.right, rel + 1, age);
    };
    const rootOwn = INNER_BYTES + HASH_BYTES + count(top.left, 1, 0) + count(top.right, 1, 0);
    total += rootOwn;
    if (total <= this.budgetBytes) {
      this.heldBytes = total;
      return;
    }
    // The oldest age kept: the youngest records that fit in KEEP_FRACTION of the budget (the root record always).
    let keep = rootOwn;
    let maxAge = -1;
    while (maxAge < MAX_AGE && keep + byAge[maxAge + 1]! <= this.budgetBytes * KEEP_FRACTION) keep += byAge[++maxAge]!;
    // Pass 2: unload the records older than that (all of them are persisted right after a commit).
    let held = 0;
    const unload = (n: Child, rel: number): Child => {
      if (n === null) return n;
      if (typeof n === 'string') {
        held += HASH_BYTES;
        return n;
      }
      if (n instanceof PLeaf) {
        held += leafBytes(n);
        return n;
      }
      if (rel === SPAN) {
        if (n.persisted && epoch - n.seen > maxAge) {
          held += HASH_BYTES;
          return hashOf(n);
        }
        rel = 0;
      }
      held += INNER_BYTES + (n.hash !== null ? HASH_BYTES : 0);
      n.left = unload(n.left, rel + 1);
      n.right = unload(n.right, rel + 1);
      return n;
    };
    held += INNER_BYTES + HASH_BYTES;
    top.left = unload(top.left, 1);
    top.right = unload(top.right, 1);
    this.heldBytes = held;
    this.evictions++;
  }
}
