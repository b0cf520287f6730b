/**
 * The committed state, all of it in LevelDB and read on demand with synchronous reads (getSync), so state-machine
 * reads stay synchronous while memory holds only bounded caches: values (value-cache.ts), sparse Merkle tree nodes
 * (node-tree.ts, stored by hash) and pages of the ordered key index (key-index.ts).
 *
 * LevelDB layout (keys are raw bytes):
 *   's' || key                      -> value            consensus state
 *   'n' || hash                     -> tree node        'I' || left || right, or 'L' || key (node-tree.ts)
 *   'k' || u32(id)                  -> key-index page   sorted keys (key-index.ts)
 *   'm' || 'keyidx'                 -> the key index's page list
 *   'm' || 'count'                  -> u64              number of state entries
 *   'm' || 'height'                 -> u64 big-endian   last committed height
 *   'm' || 'apphash'                -> 32 bytes         app hash of that height (= the root node's hash)
 *   'u' || u64(h)                   -> undo record of height h (history.ts)
 *   'a' || len(ns) || ns || key     -> value            non-consensus aux data (tx index, blocks)
 * Every commit is one atomic LevelDB batch (state + nodes + key pages + meta + aux), so a crash leaves either the old
 * or the new commit, never a mix. `open` reads the metadata only: no scan, no rebuild, whatever the state size.
 */
import { mkdirSync } from 'node:fs';
import { Level } from 'level';
import type { CommitmentProof } from 'cosmjs-types/cosmos/ics23/v1/proofs';
import { type Key, type KVReader, type Write, prefixEnd, u64Key } from './kv.js';
import { EMPTY_HASH, type Hash, hashToBytes, leafHash, sha256, sha256Key } from './smt.js';
import { NODE, PLeaf, PersistentTree } from './node-tree.js';
import { KEY_INDEX_META, KeyIndex, PAGE } from './key-index.js';
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
  /**
   * Memory for caches, in bytes (default 64 MiB): committed values (value-cache.ts) up to this, and the loaded tree
   * nodes up to about as much again (estimated heap bytes, least recently used records unloaded after a commit);
   * misses read LevelDB.
   */
  cacheBytes?: number;
  /**
   * After the commit of every height divisible by N, compact the whole LevelDB store in the background (0: never,
   * the default). Drops replaced versions and tombstones at once instead of when LevelDB gets to them (the store fell
   * ~30 MB right after one, under 1,000-request blocks, and refilled within blocks); it does not stop the growth of LevelDB's LOG and MANIFEST in a
   * long-running process (docs/state.md "Disk under steady load"). Storage only: no effect on state or app hash.
   */
  compactEveryBlocks?: number;
  /**
   * After the commit of every height divisible by N, close and reopen the LevelDB handle (default
   * DEFAULT_REOPEN_BLOCKS; 0: never). LevelDB appends to its info `LOG` and its `MANIFEST` for as long as a handle is
   * open (~3.8 KB per 1,000-request block measured, docs/state.md "Disk under steady load") and starts both afresh
   * only at open (LOG -> LOG.old, a new MANIFEST holding just the live files); classic-level exposes neither
   * LevelDB's info_log nor a manifest size limit, so the reopen is what keeps a node's disk flat. It runs inside
   * commit (the app's calls are serialized, so no state read runs meanwhile; ~20-100 ms) and is put off to a later
   * commit while a snapshot export or an async read holds the handle. Storage only: no effect on state or app hash.
   */
  reopenEveryBlocks?: number;
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
export const DEFAULT_REOPEN_BLOCKS = 200;

const STATE = 's';
const META_HEIGHT = 'mheight';
const META_APPHASH = 'mapphash';
const AUX = 'a';
const UNDO = 'u';
const LEAF_HASH = 'h'; // format 1 (keys and tree in memory): leaf-hash records, converted at open
// Written only by the current layout (16-way node records, leaves inline): a store without it is converted at open.
const META_COUNT = 'mcount3';
/** The entry count of earlier layouts (2: one record per leaf), deleted by the conversion. */
const OLD_META_COUNTS = ['mcount2'];
const KEY_PAGES_CACHED = 256;
const pageKey = (id: number): Buffer => {
  const b = Buffer.allocUnsafe(5);
  b.write(PAGE, 0, 'latin1');
  b.writeUInt32BE(id, 1);
  return b;
};

/**
 * The LevelDB key of a tree record, in one reused buffer: valid until the next call. Safe for the chained batch's
 * public put/del: with no prewrite hooks and no 'write' listeners (none here) abstract-level hands the key straight
 * to the native batch, which copies it (classic-level binding.cc batch_put/batch_del).
 */
const nodeKeyBuf = Buffer.alloc(1 + 32, NODE);
function nodeKey(h: Hash): Buffer {
  nodeKeyBuf.write(h, 1, 32, 'latin1');
  return nodeKeyBuf;
}

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
  /** The sparse Merkle tree, nodes loaded on demand (node-tree.ts). */
  private tree!: PersistentTree;
  /** The ordered key set, pages loaded on demand (key-index.ts). */
  private keys!: KeyIndex;
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
    private readonly cacheBytes: number,
    private readonly compactEvery: number = 0,
    private readonly reopenEvery: number = 0,
  ) {
    this.cache = new ValueCache(cacheBytes);
  }

  /**
   * Holders of the LevelDB handle outside a commit (snapshot exports, async reads): a due reopen waits until none is
   * left. `reopening` is the reopen in flight (async readers wait for it); `reopenDue` a reopen put off.
   */
  private holders = 0;
  private reopening: Promise<void> | undefined;
  private reopenDue = false;
  /** Reopens done since open, and the longest one in ms (tests, benchmarks). */
  reopens = 0;
  reopenMaxMs = 0;

  /** Whether the LevelDB handle is being reopened right now (tests). */
  get reopenInFlight(): boolean {
    return this.reopening !== undefined;
  }

  /** Runs `fn` holding the handle: a reopen in flight is waited for, and none starts until `fn` settles. */
  private async holding<T>(fn: () => Promise<T>): Promise<T> {
    while (this.reopening !== undefined) await this.reopening;
    this.holders++;
    try {
      return await fn();
    } finally {
      this.holders--;
    }
  }

  /** The background compaction in flight (close() waits for it), and how many have run (tests, metrics). */
  private compacting: Promise<void> | undefined;
  compactions = 0;

  private readNode = (h: Hash): Buffer | undefined => this.db.getSync(kb(NODE + h));
  private readPage = (id: number): Buffer | undefined => this.db.getSync(pageKey(id));

  private initStructures(root: Hash, count: number, keyMeta: Buffer | undefined): void {
    this.tree = new PersistentTree(this.readNode, root, count, this.cacheBytes);
    this.keys = new KeyIndex(this.readPage, keyMeta, KEY_PAGES_CACHED);
  }

  /**
   * Tree records and key pages read from LevelDB since open, the estimated heap bytes of the tree nodes held now, and
   * the trims that unloaded nodes (benchmarks, tests).
   */
  get diskReads(): { nodes: number; pages: number; nodeBytes: number; evictions: number } {
    return { nodes: this.tree.reads, pages: this.keys.reads, nodeBytes: this.tree.heldBytes, evictions: this.tree.evictions };
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
    return this.tree.size;
  }

  static async open(dir: string, opts: OpenOptions = {}): Promise<CommittedStore> {
    mkdirSync(dir, { recursive: true });
    const db: DB = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    const history = Math.max(1, Math.floor(opts.historyBlocks ?? DEFAULT_HISTORY_BLOCKS));
    const store = new CommittedStore(
      db, opts.sync ?? true, history, Math.max(1 << 20, opts.cacheBytes ?? DEFAULT_CACHE_BYTES),
      Math.max(0, Math.floor(opts.compactEveryBlocks ?? 0)), Math.max(0, Math.floor(opts.reopenEveryBlocks ?? DEFAULT_REOPEN_BLOCKS)),
    );
    try {
      await store.load(dir);
    } catch (e) {
      await db.close();
      throw e;
    }
    return store;
  }

  /**
   * Reads the commit metadata (height, app hash, entry count, the key index's page list) and checks that the root
   * node is on disk: no scan, no rebuild. A store of format 1 (keys and tree in memory, 'h' records) is converted
   * once: its state entries are read, the tree and key index written, and the root compared with the app hash.
   */
  private async load(dir: string): Promise<void> {
    const h = await this.db.get(kb(META_HEIGHT));
    const stored = await this.db.get(kb(META_APPHASH));
    const count = await this.db.get(kb(META_COUNT));
    const keyMeta = await this.db.get(kb(KEY_INDEX_META));
    if (h === undefined || stored === undefined) {
      const any = await this.db.keys({ gte: kb(STATE), lt: kb(prefixEnd(STATE)!), limit: 1 }).all();
      if (any.length > 0) throw new Error(`state store at ${dir} is corrupt: state entries but no commit metadata`);
      this.initStructures(EMPTY_HASH, 0, undefined);
      return;
    }
    if (h.length !== 8 || stored.length !== 32) throw new Error(`state store at ${dir} is corrupt: bad commit metadata`);
    this._height = h.readBigUInt64BE();
    this._appHash = Uint8Array.from(stored);
    const root = stored.toString('latin1');
    if (keyMeta === undefined || count === undefined) {
      await this.convertFormat1(dir, root);
    } else {
      this.initStructures(root, Number(count.readBigUInt64BE()), keyMeta);
      if (root !== EMPTY_HASH && this.readNode(root) === undefined) {
        throw new Error(`state store at ${dir} is corrupt: the root node of app hash ${stored.toString('hex')} at height ${this._height} is missing`);
      }
    }
    await this.loadHistory();
  }

  /**
   * Format 1 (or the earlier node records of format 2: binary, or 16-way with one record per leaf) -> current: builds the persisted tree and key index
   * from the state entries (once). Idempotent: a crash midway leaves a store that is converted again.
   */
  private async convertFormat1(dir: string, root: Hash): Promise<void> {
    for (const p of [NODE, PAGE]) await this.db.clear({ gte: kb(p), lt: kb(prefixEnd(p)!) });
    await this.db.del(kb(KEY_INDEX_META));
    for (const k of OLD_META_COUNTS) await this.db.del(kb(k));
    this.initStructures(EMPTY_HASH, 0, undefined);
    await this.scan(STATE, (k, v) => {
      const key = k.toString('latin1', 1);
      const path = sha256Key(key);
      this.tree.upsert(new PLeaf(key, path, leafHash(path, sha256(v))));
      this.keys.insert(key);
    });
    const batch = this.db.batch();
    const got = this.flushStructures(batch);
    if (got !== root) {
      await batch.close();
      throw new Error(
        `state store at ${dir} is corrupt: rebuilt root ${Buffer.from(got, 'latin1').toString('hex')} != stored app hash ` +
          `${Buffer.from(root, 'latin1').toString('hex')} at height ${this._height}`,
      );
    }
    await batch.write({ sync: this.sync });
    await this.db.clear({ gte: kb(LEAF_HASH), lt: kb(prefixEnd(LEAF_HASH)!) });
    this.tree.trim();
  }

  /** Adds the tree's and key index's changes and the entry count to a commit batch; returns the root. */
  private flushStructures(batch: ReturnType<DB['batch']>): Hash {
    const root = this.tree.flush({ put: (h, r) => batch.put(nodeKey(h), r), del: (h) => batch.del(nodeKey(h)) });
    this.keys.flush({
      putPage: (id, r) => batch.put(pageKey(id), r),
      delPage: (id) => batch.del(pageKey(id)),
      putMeta: (r) => batch.put(kb(KEY_INDEX_META), r),
    });
    batch.put(kb(META_COUNT), u64(BigInt(this.tree.size)));
    return root;
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

  /** Sets `key` in the tree and key index (its value lives in `staged` until commit, then in LevelDB). */
  private put(key: Key, value: Uint8Array, existed: boolean): void {
    const path = sha256Key(key);
    this.tree.upsert(new PLeaf(key, path, leafHash(path, sha256(value))));
    if (!existed) this.keys.insert(key);
  }

  private del(key: Key): void {
    this.tree.remove(sha256Key(key));
    this.keys.remove(key);
  }

  /**
   * The value of `key`: staged or cached in memory, else read from LevelDB (getSync). (Format 1 checked a value read
   * from disk against a leaf hash held in memory; with the tree on disk that check would cost a tree walk per read.)
   */
  get(key: Key): Uint8Array | undefined {
    const s = this.staged.get(key);
    if (s !== undefined) return s ?? undefined;
    if (this.writing !== undefined) {
      const w = this.writing.get(key);
      if (w !== undefined) return w ?? undefined;
    }
    const c = this.cache.get(key);
    if (c) return c;
    const raw = this.db.getSync(kb(STATE + key));
    if (raw === undefined) return undefined;
    const v = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    this.cache.set(key, v);
    return v;
  }

  has(key: Key): boolean {
    return this.get(key) !== undefined;
  }

  *iterate(start: Key, end: Key | undefined, reverse = false): IterableIterator<[Key, Uint8Array]> {
    for (const k of this.keys.range(start, end, reverse)) {
      const v = this.get(k);
      if (v === undefined) throw new Error(`state store is corrupt: key ${Buffer.from(k, 'latin1').toString('hex')} is indexed but has no value`);
      yield [k, v];
    }
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
      const before = this.get(key);
      if (!undo.has(key)) {
        if (before !== undefined) undo.set(key, before);
        else if (value !== null) undo.set(key, null);
      }
      if (value === null) {
        if (before !== undefined) {
          this.del(key);
          this.staged.set(key, null);
        }
      } else {
        this.put(key, value, before !== undefined);
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
    // than abstract-level's array batch, which clones and validates every op object. Its public put/del measured
    // within noise of classic-level's private _put/_del (docs/state.md), so the public API is used.
    const batch = this.db.batch();
    let root: Uint8Array;
    try {
      for (const [k, v] of staged) {
        const key = kb(STATE + k);
        if (v === null) batch.del(key);
        else batch.put(key, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      }
      for (const op of aux) {
        const key = kb(auxPrefix(op.ns) + op.key);
        if (op.value === null) batch.del(key);
        else batch.put(key, Buffer.from(op.value));
      }
      root = hashToBytes(this.flushStructures(batch));
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
    this.tree.trim();
    if (this.blockUndo === undo) this.blockUndo = new Map();
    else for (const k of undo.keys()) this.blockUndo.delete(k); // (cannot happen: applyBlock is not called mid-commit)
    const floor = this.windowFloor(height);
    let first = this.firstUndo;
    while (first < floor && first < this.firstUndo + 64n) first++;
    this.firstUndo = !withHistory ? height + 1n : first > height ? height : first;
    this.stamp++;
    if (this.compactEvery > 0 && height % BigInt(this.compactEvery) === 0n && this.compacting === undefined) {
      // Not awaited: LevelDB compacts on its own thread while blocks go on. A failure only leaves the disk as it was.
      this.compacting = this.compact().then(
        () => { this.compactions++; },
        () => undefined,
      ).finally(() => { this.compacting = undefined; });
    }
    if (this.reopenEvery > 0 && height % BigInt(this.reopenEvery) === 0n) this.reopenDue = true;
    if (this.reopenDue && this.holders === 0 && this.compacting === undefined) await this.reopen();
  }

  /**
   * Closes and reopens the LevelDB handle (see OpenOptions.reopenEveryBlocks). The store's in-memory structures stay
   * valid: the data on disk is the same. If the open fails it is tried once more; a store that cannot be reopened
   * is a storage failure like a failed commit write, and the error goes to the caller.
   */
  private async reopen(): Promise<void> {
    this.reopenDue = false;
    const run = (async () => {
      const t0 = performance.now();
      await this.db.close();
      try {
        await this.db.open();
      } catch {
        await this.db.open();
      }
      this.reopens++;
      this.reopenMaxMs = Math.max(this.reopenMaxMs, performance.now() - t0);
    })();
    this.reopening = run;
    try {
      await run;
    } finally {
      this.reopening = undefined;
    }
  }

  /** Undoes every staged (applied, not committed) write: the live state is the last commit again. */
  rollbackStaged(): void {
    if (this.committing) throw new Error('cannot roll back during a commit');
    for (const [k, old] of this.blockUndo) {
      const now = this.get(k);
      if (old === null) {
        if (now !== undefined) this.del(k);
      } else this.put(k, old, now !== undefined);
    }
    this.blockUndo = new Map();
    this.staged = new Map();
    this.stamp++;
  }

  /**
   * The committed state as of now, for a state-sync snapshot: a LevelDB snapshot is taken synchronously, so the
   * entries are exactly those of `height` even while later blocks commit. Entries come in ascending key order.
   * Call close() when done: until then the export holds the LevelDB handle (a due reopen waits). Throws while a reopen
   * is in flight (it cannot be: both run only between the app's serialized calls).
   */
  exportCommitted(): { height: bigint; appHash: Uint8Array; entries(): AsyncIterable<[Key, Uint8Array]>; close(): Promise<void> } {
    if (this.reopening !== undefined) throw new Error('state store is reopening its LevelDB handle; export after it');
    const snap = this.db.snapshot();
    const db = this.db;
    this.holders++;
    let closed: Promise<void> | undefined;
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
      close: () => (closed ??= snap.close().finally(() => { this.holders--; })),
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
    return this.holding(() => this.buildVersion(h));
  }

  private async buildVersion(h: bigint): Promise<StateVersion> {
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
        else this.tree.upsert(new PLeaf(k, path, leafHash(path, sha256(val))));
      }
      const p = this.proveInTree(key, (k) => (v.overlay.has(k) ? v.overlay.get(k) ?? undefined : this.get(k)));
      if (!bytesEqual(p.root, v.appHash)) {
        throw new Error(`rewound state of height ${v.height} has root ${Buffer.from(p.root).toString('hex')}, its app hash is ${Buffer.from(v.appHash).toString('hex')}`);
      }
      return p;
    } finally {
      for (const [k, path] of paths) {
        const cur = this.get(k);
        if (cur !== undefined) this.tree.upsert(new PLeaf(k, path, leafHash(path, sha256(cur))));
        else this.tree.remove(path);
      }
    }
  }

  async auxGet(ns: string, key: Key): Promise<Uint8Array | undefined> {
    const v = await this.holding(() => this.db.get(kb(auxPrefix(ns) + key)));
    return v === undefined ? undefined : new Uint8Array(v);
  }

  async *auxIterate(
    ns: string,
    opts: { gte?: Key; lt?: Key; reverse?: boolean; limit?: number } = {},
  ): AsyncIterable<[Key, Uint8Array]> {
    const p = auxPrefix(ns);
    const hi = opts.lt !== undefined ? p + opts.lt : prefixEnd(p);
    while (this.reopening !== undefined) await this.reopening;
    this.holders++;
    const openIterator = () => this.db.iterator({
      gte: kb(p + (opts.gte ?? '')),
      ...(hi !== undefined ? { lt: kb(hi) } : {}),
      reverse: opts.reverse ?? false,
      limit: opts.limit ?? -1,
    });
    let it: ReturnType<typeof openIterator>;
    try {
      it = openIterator();
    } catch (e) {
      this.holders--;
      throw e;
    }
    try {
      for await (const [k, v] of it) yield [k.toString('latin1', p.length), new Uint8Array(v)];
    } finally {
      try {
        await it.close();
      } finally {
        this.holders--;
      }
    }
  }

  /**
   * Proof for `key` against the current (staged) root, which is also returned as `root`. Between
   * applyBlock and commit that root is the *next* app hash, not `appHash` (check `pending === 0`).
   */
  prove(key: Key): { exists: boolean; value?: Uint8Array; proof: CommitmentProof; root: Uint8Array } {
    return this.proveInTree(key, (k) => this.get(k));
  }

  /** Proof from the tree as it is now (leaves found by walking the tree, not through the key map). */
  private proveInTree(key: Key, valueOf: (k: Key) => Uint8Array | undefined): { exists: boolean; value?: Uint8Array; proof: CommitmentProof; root: Uint8Array } {
    const kbytes = kb(key);
    const path = sha256Key(key);
    const root = this.root();
    const valueAt = (l: PLeaf): Uint8Array => {
      const v = valueOf(l.key);
      if (v === undefined) throw new Error(`state store is corrupt: tree leaf ${Buffer.from(l.key, 'latin1').toString('hex')} has no value`);
      return v;
    };
    const { steps, end } = this.tree.walk(path);
    if (end instanceof PLeaf && end.path === path) {
      const value = valueAt(end);
      return { exists: true, value: Uint8Array.from(value), proof: { exist: existenceProof(kbytes, value, steps) }, root };
    }
    const nb = (l: PLeaf | null) => (l ? existenceProof(kb(l.key), valueAt(l), this.tree.walk(l.path).steps) : undefined);
    const left = nb(this.tree.neighbour(path, -1));
    const right = nb(this.tree.neighbour(path, 1));
    return { exists: false, proof: { nonexist: { key: Uint8Array.from(kbytes), left, right } }, root };
  }

  /**
   * Asks LevelDB to compact the whole store now (obsolete versions and tombstones are dropped, on LevelDB's own
   * background thread; reads and commits go on meanwhile). Storage only: the state, the tree and the app hash are
   * unchanged. Used by `npm run bench -- state --direct --compact-every=N` to measure what periodic compaction does
   * to disk use under steady churn (docs/state.md).
   */
  async compact(): Promise<void> {
    const db = this.db as unknown as { compactRange(start: Buffer, end: Buffer): Promise<void> };
    await this.holding(() => db.compactRange(Buffer.from([0]), Buffer.alloc(64, 0xff)));
  }

  /** Resolves when no background compaction is running. */
  async compactionIdle(): Promise<void> {
    await this.compacting;
  }

  async close(): Promise<void> {
    await this.compacting;
    while (this.reopening !== undefined) await this.reopening;
    await this.db.close();
  }
}
