/**
 * The committed state: LevelDB for durability, a sorted in-memory map as the working set (so
 * state-machine reads are synchronous), and a sparse Merkle tree (smt.ts) for the app hash.
 *
 * LevelDB layout (keys are raw bytes):
 *   's' || key                      -> value            consensus state
 *   'm' || 'height'                 -> u64 big-endian   last committed height
 *   'm' || 'apphash'                -> 32 bytes         app hash of that height
 *   'a' || len(ns) || ns || key     -> value            non-consensus aux data (tx index, blocks)
 * Every commit is one atomic LevelDB batch (state + meta + aux), so a crash leaves either the old
 * or the new commit, never a mix; `open` re-derives the tree root and refuses a mismatch.
 */
import { mkdirSync } from 'node:fs';
import { Level } from 'level';
import type { CommitmentProof } from 'cosmjs-types/cosmos/ics23/v1/proofs';
import { type Key, type KVReader, type Write, prefixEnd, u64Key } from './kv.js';
import { type BTree, btreeRange, newKeyTree } from './btree.js';
import { EMPTY_HASH, type Hash, Leaf, SparseMerkleTree, hashToBytes, leafHash, makeLeaf, sha256, sha256Key } from './smt.js';
import { existenceProof } from './proof.js';
import { CacheKV } from './cache.js';
import { HeightNotAvailableError, decodeUndo, encodeUndo } from './history.js';
import { ValueCache } from './value-cache.js';

export interface AuxOp {
  ns: string;
  key: Key;
  value: Uint8Array | null;
}

export interface OpenOptions {
  /** fsync each commit batch (default true): survives power loss, not only process crashes. */
  sync?: boolean;
  /**
   * Recent heights kept queryable with proofs (reverse diffs, history.ts): heights latest-historyBlocks+1..latest.
   * Default 100, at least 1 (the latest height only).
   */
  historyBlocks?: number;
  /** Bytes of committed values kept in memory (value-cache.ts); misses read LevelDB. Default 64 MiB. */
  cacheBytes?: number;
}

/** A recent committed height, ready for reads and proofs (see `versionAt`). */
export interface StateVersion {
  height: bigint;
  appHash: Uint8Array;
  /** key -> value at `height` (null: absent) for every key that differs from the live (staged) state. */
  overlay: Map<Key, Uint8Array | null>;
  /** The live tree's identity when the version was built: readerAt/proveAt refuse a version the store moved past. */
  stamp: number;
}

export const DEFAULT_HISTORY_BLOCKS = 100;
export const DEFAULT_CACHE_BYTES = 64 << 20;

const STATE = 's';
const META_HEIGHT = 'mheight';
const META_APPHASH = 'mapphash';
const AUX = 'a';
const UNDO = 'u';
const LEAF_HASH = 'h';

const NON_BINARY = /[^\x00-\xff]/;
const kb = (k: string): Buffer => Buffer.from(k, 'latin1');

function auxPrefix(ns: string): string {
  if (ns.length === 0 || ns.length > 255 || /[^\x00-\xff]/.test(ns)) throw new RangeError(`bad aux namespace '${ns}'`);
  return AUX + String.fromCharCode(ns.length) + ns;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

type DB = Level<Buffer, Buffer>;

export class CommittedStore implements KVReader {
  private readonly tree = new SparseMerkleTree();
  /** key -> leaf (holds the value and its cached sha256(key) path); used for lookups only. */
  private readonly leaves = new Map<Key, Leaf>();
  /** Sorted working set for iteration (the same leaf objects as `leaves`). */
  private readonly sorted: BTree<Key, Leaf> = newKeyTree();
  /** Writes applied in memory since the last commit (null = deletion). */
  private staged = new Map<Key, Uint8Array | null>();
  /** The staged writes of a commit in flight (its batch not yet written): still read from memory. */
  private writing: Map<Key, Uint8Array | null> | undefined;
  /** Committed values recently read or written; the rest are read from LevelDB on demand. */
  readonly cache: ValueCache;
  private committing = false;
  /** Value before this block of every key the staged block changed (null: absent); the next undo record. */
  private blockUndo = new Map<Key, Uint8Array | null>();
  /** Lowest height whose undo record exists (heights below it cannot be served). */
  private firstUndo = 0n;
  /** Bumped on every change of the live tree (applyBlock, commit): versions built before a change are stale. */
  private stamp = 0;
  private _height = 0n;
  private _appHash: Uint8Array = hashToBytes(EMPTY_HASH);

  private constructor(
    private readonly db: DB,
    private readonly sync: boolean,
    readonly historyBlocks: number,
    cacheBytes: number,
  ) {
    this.cache = new ValueCache(cacheBytes);
  }

  /** Last committed height (0n when fresh). */
  get height(): bigint {
    return this._height;
  }

  /** Root at the last commit; the empty state's root is 32 zero bytes. */
  get appHash(): Uint8Array {
    return Uint8Array.from(this._appHash);
  }

  get size(): number {
    return this.leaves.size;
  }

  static async open(dir: string, opts: OpenOptions = {}): Promise<CommittedStore> {
    mkdirSync(dir, { recursive: true });
    const db: DB = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    const history = Math.max(1, Math.floor(opts.historyBlocks ?? DEFAULT_HISTORY_BLOCKS));
    const store = new CommittedStore(db, opts.sync ?? true, history, Math.max(1 << 20, opts.cacheBytes ?? DEFAULT_CACHE_BYTES));
    try {
      await store.load(dir);
    } catch (e) {
      await db.close();
      throw e;
    }
    return store;
  }

  /**
   * Loads the key set and leaf hashes ('h' records: key + 32 bytes, no values) and rebuilds the tree. Values stay on
   * disk. A store written before 'h' records existed is converted once (its values read and hashed).
   */
  private async load(dir: string): Promise<void> {
    await this.scan(LEAF_HASH, (k, v) => {
      const key = k.toString('latin1', 1);
      this.addLeaf(new Leaf(key, sha256Key(key), null, v.toString('latin1')));
    });
    if (this.leaves.size === 0) {
      const batch = this.db.batch();
      await this.scan(STATE, (k, v) => {
        const key = k.toString('latin1', 1);
        const path = sha256Key(key);
        const leaf = new Leaf(key, path, null, leafHash(path, sha256(v)));
        this.addLeaf(leaf);
        batch.put(kb(LEAF_HASH + key), Buffer.from(leaf.hash, 'latin1'));
      });
      if (this.leaves.size > 0) await batch.write({ sync: this.sync });
      else await batch.close();
    }
    const h = await this.db.get(kb(META_HEIGHT));
    const stored = await this.db.get(kb(META_APPHASH));
    const root = this.tree.root(); // binary string
    if (h === undefined || stored === undefined) {
      if (this.leaves.size > 0) {
        throw new Error(`state store at ${dir} is corrupt: ${this.leaves.size} state entries but no commit metadata`);
      }
      return;
    }
    if (h.length !== 8) throw new Error(`state store at ${dir} is corrupt: bad height record`);
    this._height = h.readBigUInt64BE();
    if (root !== stored.toString('latin1')) {
      throw new Error(
        `state store at ${dir} is corrupt: rebuilt root ${Buffer.from(root, 'latin1').toString('hex')} != stored app hash ` +
          `${stored.toString('hex')} at height ${this._height}`,
      );
    }
    this._appHash = Uint8Array.from(stored);
    await this.loadHistory();
  }

  private async scan(prefix: string, fn: (k: Buffer, v: Buffer) => void): Promise<void> {
    const it = this.db.iterator({ gte: kb(prefix), lt: kb(prefixEnd(prefix)!) });
    try {
      for (;;) {
        const batch = await it.nextv(4096);
        if (batch.length === 0) break;
        for (const [k, v] of batch) fn(k, v);
      }
    } finally {
      await it.close();
    }
  }

  private addLeaf(leaf: Leaf): void {
    this.leaves.set(leaf.key, leaf);
    this.sorted.set(leaf.key, leaf);
    this.tree.upsert(leaf);
  }

  /** Drops undo records outside the window (the operator may have lowered --history-blocks) and finds the first. */
  private async loadHistory(): Promise<void> {
    const floor = this.windowFloor(this._height);
    await this.db.clear({ gte: kb(UNDO), lt: kb(UNDO + u64Key(floor)) });
    const first = await this.db.keys({ gte: kb(UNDO), lt: kb(prefixEnd(UNDO)!), limit: 1 }).all();
    this.firstUndo = first.length > 0 ? first[0]!.readBigUInt64BE(1) : this._height + 1n;
  }

  /** Lowest height kept once `height` is committed. */
  private windowFloor(height: bigint): bigint {
    const f = height - BigInt(this.historyBlocks) + 1n;
    return f < 1n ? 1n : f;
  }

  /** The oldest height `versionAt` can serve now (the latest when no history is kept yet). */
  get oldestHeight(): bigint {
    const f = this.windowFloor(this._height);
    const o = f > this.firstUndo ? f : this.firstUndo;
    return o > this._height ? this._height : o;
  }

  /** Sets the leaf of `key` (its value lives in `staged` until commit, then in LevelDB and the cache). */
  private put(key: Key, value: Uint8Array): void {
    const old = this.leaves.get(key);
    if (old) {
      // Update in place: the maps keep pointing at the same leaf object.
      old.hash = leafHash(old.path, sha256(value));
      this.tree.touch(old.path);
      return;
    }
    const path = sha256Key(key);
    this.addLeaf(new Leaf(key, path, null, leafHash(path, sha256(value))));
  }

  private del(key: Key): boolean {
    const old = this.leaves.get(key);
    if (!old) return false;
    this.leaves.delete(key);
    this.sorted.delete(key);
    this.tree.remove(old.path);
    return true;
  }

  /**
   * The value of `key`: staged or cached in memory, else read from LevelDB (getSync) and checked against the leaf
   * hash the tree holds, so a value altered on disk is refused rather than served.
   */
  get(key: Key): Uint8Array | undefined {
    const leaf = this.leaves.get(key);
    if (leaf === undefined) return undefined;
    const s = this.staged.get(key) ?? this.writing?.get(key) ?? this.cache.get(key);
    if (s) return s;
    const raw = this.db.getSync(kb(STATE + key));
    if (raw === undefined || leafHash(leaf.path, sha256(raw)) !== leaf.hash) {
      throw new Error(`state store is corrupt: the value of key ${Buffer.from(key, 'latin1').toString('hex')} on disk ${raw === undefined ? 'is missing' : 'does not match its leaf hash'}`);
    }
    const v = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    this.cache.set(key, v);
    return v;
  }

  private valueOf(leaf: Leaf): Uint8Array {
    return leaf.value ?? this.get(leaf.key)!;
  }

  has(key: Key): boolean {
    return this.leaves.has(key);
  }

  *iterate(start: Key, end: Key | undefined, reverse = false): IterableIterator<[Key, Uint8Array]> {
    for (const [k, leaf] of btreeRange(this.sorted, start, end, reverse)) yield [k, this.valueOf(leaf)];
  }

  /**
   * Applies a block's writes to memory and the tree and returns the new root. Nothing is persisted
   * until `commit`. Later writes to the same key win. The store takes ownership of the value arrays
   * (not copied — copying measured ~3-5 us per value, 10-20 ms per 4,000-write block): callers
   * must not mutate them afterwards. CacheKV and protobuf encoders hand over fresh arrays.
   */
  applyBlock(writes: Iterable<Write>): Uint8Array {
    const list = Array.isArray(writes) ? (writes as Write[]) : [...writes];
    // Validate before touching anything, so a bad write cannot leave a half-applied block.
    for (const [key] of list) {
      if (typeof key !== 'string' || NON_BINARY.test(key)) {
        throw new RangeError(`state key is not a binary string (code unit > 0xff): ${JSON.stringify(key)}`);
      }
    }
    const undo = this.blockUndo;
    this.stamp++;
    for (const [key, value] of list) {
      if (!undo.has(key)) {
        if (this.leaves.has(key)) undo.set(key, this.get(key)!);
        else if (value !== null) undo.set(key, null);
      }
      if (value === null) {
        if (this.del(key)) this.staged.set(key, null);
        else if (this.staged.has(key)) this.staged.set(key, null);
      } else {
        this.put(key, value);
        this.staged.set(key, value);
      }
    }
    return this.root();
  }

  /** Current (staged) root. */
  root(): Uint8Array {
    return hashToBytes(this.tree.root());
  }

  /** Staged writes not yet committed. */
  get pending(): number {
    return this.staged.size;
  }

  /**
   * Persists the staged writes, the commit metadata (height, current root) and `aux` in ONE atomic
   * LevelDB batch. `height` must not be below the last committed height.
   */
  async commit(height: bigint, aux: AuxOp[] = [], opts: { history?: boolean } = {}): Promise<void> {
    const withHistory = opts.history ?? true;
    if (this.committing) throw new Error('commit already in progress');
    if (height < this._height) throw new Error(`commit height ${height} below last committed height ${this._height}`);
    const root = this.root();
    const staged = this.staged;
    const undo = this.blockUndo;
    let undoEntries: Iterable<[Key, Uint8Array | null]> = undo;
    if (height === this._height && height > 0n) {
      // A second commit at the same height (tests, InitChain-only): keep the older pre-values of the first one.
      const prev = await this.db.get(kb(UNDO + u64Key(height)));
      if (prev !== undefined) {
        const merged = new Map(decodeUndo(prev).entries);
        for (const [k, v] of undo) if (!merged.has(k)) merged.set(k, v);
        undoEntries = merged;
      }
    }
    // A chained batch (ops handed to the native batch one by one) measured several times faster
    // than abstract-level's array batch, which clones and validates every op object.
    const batch = this.db.batch();
    try {
      for (const [k, v] of staged) {
        const key = kb(STATE + k);
        if (v === null) {
          batch.del(key);
          batch.del(kb(LEAF_HASH + k));
        } else {
          batch.put(key, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
          batch.put(kb(LEAF_HASH + k), Buffer.from(this.leaves.get(k)!.hash, 'latin1'));
        }
      }
      for (const op of aux) {
        const key = kb(auxPrefix(op.ns) + op.key);
        if (op.value === null) batch.del(key);
        else batch.put(key, Buffer.from(op.value));
      }
      batch.put(kb(META_HEIGHT), u64(height));
      batch.put(kb(META_APPHASH), Buffer.from(root));
      // The undo record of this height (history.ts), and the one that leaves the recent-height window.
      // (A state-sync restore commits without one: its "previous state" is the empty store.)
      if (withHistory) batch.put(kb(UNDO + u64Key(height)), encodeUndo(root, undoEntries));
      const floor = this.windowFloor(height);
      for (let h = this.firstUndo; h < floor && h < this.firstUndo + 64n; h++) batch.del(kb(UNDO + u64Key(h)));
    } catch (e) {
      await batch.close();
      throw e;
    }
    this.staged = new Map();
    this.writing = staged;
    this.committing = true;
    try {
      await batch.write({ sync: this.sync });
    } catch (e) {
      // Put the unpersisted writes back underneath any staged since.
      for (const [k, v] of this.staged) staged.set(k, v);
      this.staged = staged;
      throw e;
    } finally {
      this.committing = false;
      this.writing = undefined;
    }
    for (const [k, v] of staged) {
      if (v === null) this.cache.delete(k);
      else this.cache.set(k, v);
    }
    this._height = height;
    this._appHash = root;
    if (this.blockUndo === undo) this.blockUndo = new Map();
    else for (const k of undo.keys()) this.blockUndo.delete(k); // (cannot happen: applyBlock is not called mid-commit)
    const floor = this.windowFloor(height);
    let first = this.firstUndo;
    while (first < floor && first < this.firstUndo + 64n) first++;
    this.firstUndo = !withHistory ? height + 1n : first > height ? height : first;
    this.stamp++;
  }

  /** Undoes every staged (applied, not committed) write: the live state is the last commit again. */
  rollbackStaged(): void {
    if (this.committing) throw new Error('cannot roll back during a commit');
    for (const [k, old] of this.blockUndo) {
      if (old === null) this.del(k);
      else this.put(k, old);
    }
    this.blockUndo = new Map();
    this.staged = new Map();
    this.stamp++;
  }

  /**
   * The committed state as of now, for a state-sync snapshot: a LevelDB snapshot is taken synchronously, so the
   * entries are exactly those of `height` even while later blocks commit. Entries come in ascending key order.
   * Call close() when done.
   */
  exportCommitted(): { height: bigint; appHash: Uint8Array; entries(): AsyncIterable<[Key, Uint8Array]>; close(): Promise<void> } {
    const snap = this.db.snapshot();
    const db = this.db;
    return {
      height: this._height,
      appHash: this.appHash,
      async *entries() {
        const it = db.iterator({ gte: kb(STATE), lt: kb(prefixEnd(STATE)!), snapshot: snap });
        try {
          for (;;) {
            const batch = await it.nextv(1024);
            if (batch.length === 0) break;
            for (const [k, v] of batch) yield [k.toString('latin1', 1), new Uint8Array(v.buffer, v.byteOffset, v.byteLength)];
          }
        } finally {
          await it.close();
        }
      },
      close: () => snap.close(),
    };
  }

  // ---------------------------------------------------------------- recent heights

  /**
   * The state at a recent committed height (inside the window: `oldestHeight`..`height`), for `readerAt` and
   * `proveAt`. Throws HeightNotAvailableError outside the window, never falls back to another height. Between
   * applyBlock and commit, `versionAt(height)` is the committed state (the staged writes are undone). The result
   * is bound to the live tree: use it before the next applyBlock/commit (the app does, in one query handler).
   */
  async versionAt(h: bigint): Promise<StateVersion> {
    for (let attempt = 0; ; attempt++) {
      const latest = this._height;
      const oldest = this.oldestHeight;
      if (h < 1n || h > latest || h < oldest) throw new HeightNotAvailableError(h, oldest, latest);
      const layers: [Key, Uint8Array | null][][] = [];
      let appHash: Uint8Array | undefined = h === latest ? this._appHash : undefined;
      for (let v = latest; v >= h; v--) {
        if (v === h && appHash !== undefined) break;
        const raw = await this.db.get(kb(UNDO + u64Key(v)));
        if (raw === undefined) throw new HeightNotAvailableError(h, this.oldestHeight, this._height);
        const rec = decodeUndo(raw);
        if (v === h) appHash = rec.appHash;
        else layers.push(rec.entries);
      }
      if (this._height !== latest) {
        if (attempt < 5) continue; // a commit happened meanwhile: rebuild against the new latest
        throw new Error('state is changing too fast to serve a historical read; retry');
      }
      // Newest first, so the oldest layer's value (= the value at h) is the one left in the map.
      const overlay = new Map<Key, Uint8Array | null>(this.blockUndo);
      for (const layer of layers) for (const [k, v] of layer) overlay.set(k, v);
      return { height: h, appHash: appHash!, overlay, stamp: this.stamp };
    }
  }

  private checkVersion(v: StateVersion): void {
    if (v.stamp !== this.stamp) throw new Error(`state version of height ${v.height} is stale (the store changed since versionAt)`);
  }

  /** Reads (get/has/iterate) of the state at `v.height`: the live state with the overlay laid over it. */
  readerAt(v: StateVersion): KVReader {
    this.checkVersion(v);
    const view = new CacheKV(this);
    for (const [k, val] of v.overlay) {
      if (val === null) view.delete(k);
      else view.set(k, val);
    }
    return view;
  }

  /**
   * Proof for `key` against `v.appHash`. The live tree is rewound to `v.height` (the overlay's leaves swapped in),
   * its root checked against the stored app hash of that height, the proof taken, and the live leaves put back, all
   * synchronously (nothing else runs meanwhile).
   */
  proveAt(v: StateVersion, key: Key): { exists: boolean; value?: Uint8Array; proof: CommitmentProof; root: Uint8Array } {
    this.checkVersion(v);
    if (v.overlay.size === 0) {
      const p = this.prove(key);
      if (!bytesEqual(p.root, v.appHash)) throw new Error(`state at height ${v.height} does not match its app hash`);
      return p;
    }
    const paths: [Key, Hash][] = [];
    try {
      for (const [k, val] of v.overlay) {
        const path = sha256Key(k);
        paths.push([k, path]);
        if (val === null) this.tree.remove(path);
        else this.tree.upsert(makeLeaf(k, val, path));
      }
      const p = this.proveInTree(key);
      if (!bytesEqual(p.root, v.appHash)) {
        throw new Error(`rewound state of height ${v.height} has root ${Buffer.from(p.root).toString('hex')}, its app hash is ${Buffer.from(v.appHash).toString('hex')}`);
      }
      return p;
    } finally {
      for (const [k, path] of paths) {
        const cur = this.leaves.get(k);
        if (cur !== undefined) this.tree.upsert(cur);
        else this.tree.remove(path);
      }
    }
  }

  async auxGet(ns: string, key: Key): Promise<Uint8Array | undefined> {
    const v = await this.db.get(kb(auxPrefix(ns) + key));
    return v === undefined ? undefined : new Uint8Array(v);
  }

  async *auxIterate(
    ns: string,
    opts: { gte?: Key; lt?: Key; reverse?: boolean; limit?: number } = {},
  ): AsyncIterable<[Key, Uint8Array]> {
    const p = auxPrefix(ns);
    const hi = opts.lt !== undefined ? p + opts.lt : prefixEnd(p);
    const it = this.db.iterator({
      gte: kb(p + (opts.gte ?? '')),
      ...(hi !== undefined ? { lt: kb(hi) } : {}),
      reverse: opts.reverse ?? false,
      limit: opts.limit ?? -1,
    });
    try {
      for await (const [k, v] of it) yield [k.toString('latin1', p.length), new Uint8Array(v)];
    } finally {
      await it.close();
    }
  }

  /**
   * Proof for `key` against the current (staged) root, which is also returned as `root`. Between
   * applyBlock and commit that root is the *next* app hash, not `appHash` (check `pending === 0`).
   */
  prove(key: Key): { exists: boolean; value?: Uint8Array; proof: CommitmentProof; root: Uint8Array } {
    return this.proveInTree(key);
  }

  /** Proof from the tree as it is now (leaves found by walking the tree, not through the key map). */
  private proveInTree(key: Key): { exists: boolean; value?: Uint8Array; proof: CommitmentProof; root: Uint8Array } {
    const kbytes = kb(key);
    const path = sha256Key(key);
    const root = this.root();
    const end = this.tree.walk(path).end;
    const leaf = end instanceof Leaf && end.path === path ? end : undefined;
    if (leaf) {
      const { steps } = this.tree.walk(leaf.path);
      const value = this.valueOf(leaf);
      return { exists: true, value: Uint8Array.from(value), proof: { exist: existenceProof(kbytes, value, steps) }, root };
    }
    const nb = (l: Leaf | null) => (l ? existenceProof(kb(l.key), this.valueOf(l), this.tree.walk(l.path).steps) : undefined);
    const left = nb(this.tree.neighbour(path, -1));
    const right = nb(this.tree.neighbour(path, 1));
    return { exists: false, proof: { nonexist: { key: Uint8Array.from(kbytes), left, right } }, root };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
