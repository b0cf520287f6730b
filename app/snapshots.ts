/**
 * State-sync snapshots (ABCI ListSnapshots / LoadSnapshotChunk / OfferSnapshot / ApplySnapshotChunk).
 *
 * Taking: after the Commit of every height divisible by `interval`, the committed state is exported in the
 * background from a LevelDB snapshot (CommittedStore.exportCommitted), so block processing goes on meanwhile:
 *   DIR/<height>.tmp/chunk-<i>   format 1: records u32 keyLen || key || u32 valueLen || value, keys ascending,
 *                                a chunk closes once it holds >= chunkBytes
 *   DIR/<height>.tmp/meta.json   { height, format, chunks, hash, chunkHashes, appHash }
 * then the directory is renamed to DIR/<height> (a crash leaves only a .tmp, removed at start). Only the newest
 * `keepRecent` snapshots are kept. Snapshot.hash = sha256(chunk hash 0 || chunk hash 1 || ...), Snapshot.metadata =
 * the concatenated 32-byte chunk hashes, so a restoring node checks every chunk before applying it.
 *
 * Restoring (an empty node): OfferSnapshot accepts format 1 when the metadata matches the hash; each chunk must
 * hash to its entry in the metadata (else RETRY it and reject the sender) and continue the ascending key order;
 * its entries are staged into the store. After the last chunk the Merkle root must equal the app hash CometBFT's
 * light client verified (RequestOfferSnapshot.app_hash): then the state is committed at the snapshot height; if not,
 * the staged state is rolled back and the snapshot rejected.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  ResponseApplySnapshotChunk_Result,
  ResponseOfferSnapshot_Result,
  type RequestApplySnapshotChunk,
  type RequestLoadSnapshotChunk,
  type RequestOfferSnapshot,
  type ResponseApplySnapshotChunk,
  type Snapshot,
} from 'cosmjs-types/tendermint/abci/types';
import type { CommittedStore } from '../src/store/committed.js';
import type { Key, Write } from '../src/store/kv.js';

export const SNAPSHOT_FORMAT = 1;
export const DEFAULT_CHUNK_BYTES = 4 << 20;

export interface SnapshotOptions {
  /** Take a snapshot after every height divisible by this (0 = never; default 0). */
  interval?: number;
  /** Snapshots kept on disk, newest first (default 2). */
  keepRecent?: number;
  /** Chunk size target in bytes (default 4 MiB; CometBFT's p2p chunk limit is 16 MiB). */
  chunkBytes?: number;
}

interface Meta {
  height: string;
  format: number;
  chunks: number;
  hash: string;
  chunkHashes: string[];
  appHash: string;
}

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

interface Restore {
  height: bigint;
  appHash: Uint8Array;
  chunkHashes: Buffer[];
  next: number;
  lastKey: Key | undefined;
}

export class SnapshotManager {
  private readonly interval: number;
  private readonly keepRecent: number;
  private readonly chunkBytes: number;
  private running: Promise<void> | undefined;
  private restore: Restore | undefined;

  constructor(
    private readonly store: CommittedStore,
    private readonly dir: string,
    opts: SnapshotOptions,
    private readonly logger: Logger,
  ) {
    this.interval = Math.max(0, Math.floor(opts.interval ?? 0));
    this.keepRecent = Math.max(1, Math.floor(opts.keepRecent ?? 2));
    this.chunkBytes = Math.max(1024, Math.floor(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES));
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) if (name.endsWith('.tmp')) rmSync(join(dir, name), { recursive: true, force: true });
  }

  // ------------------------------------------------------------------------------------------ taking

  /** Called right after a Commit (before any later block can commit): starts a snapshot when one is due. */
  afterCommit(height: bigint): void {
    if (this.interval === 0 || height === 0n || height % BigInt(this.interval) !== 0n) return;
    if (this.running) {
      this.logger.warn({ height: height.toString() }, 'snapshot skipped: the previous one is still being written');
      return;
    }
    const exp = this.store.exportCommitted(); // synchronously: exactly the state of `height`
    this.running = this.write(exp).catch((err: unknown) => {
      this.logger.error({ err, height: height.toString() }, 'snapshot failed');
    }).finally(() => {
      this.running = undefined;
    });
  }

  /** Waits for a snapshot being written (tests; close). */
  async idle(): Promise<void> {
    await this.running;
  }

  private async write(exp: ReturnType<CommittedStore['exportCommitted']>): Promise<void> {
    const t0 = process.hrtime.bigint();
    const tmp = join(this.dir, `${exp.height}.tmp`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const hashes: Buffer[] = [];
    let parts: Buffer[] = [];
    let size = 0;
    let entries = 0;
    const flush = (): void => {
      const chunk = Buffer.concat(parts);
      writeFileSync(join(tmp, `chunk-${hashes.length}`), chunk);
      hashes.push(sha256(chunk));
      parts = [];
      size = 0;
    };
    try {
      for await (const [k, v] of exp.entries()) {
        const head = Buffer.allocUnsafe(4);
        head.writeUInt32BE(k.length);
        const kb = Buffer.from(k, 'latin1');
        const vl = Buffer.allocUnsafe(4);
        vl.writeUInt32BE(v.length);
        parts.push(head, kb, vl, Buffer.from(v));
        size += 8 + kb.length + v.length;
        entries++;
        if (size >= this.chunkBytes) flush();
      }
    } finally {
      await exp.close();
    }
    if (size > 0 || hashes.length === 0) flush(); // an empty state is one empty chunk
    const meta: Meta = {
      height: exp.height.toString(),
      format: SNAPSHOT_FORMAT,
      chunks: hashes.length,
      hash: sha256(Buffer.concat(hashes)).toString('hex'),
      chunkHashes: hashes.map((h) => h.toString('hex')),
      appHash: Buffer.from(exp.appHash).toString('hex'),
    };
    writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta) + '\n');
    const final = join(this.dir, exp.height.toString());
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    this.logger.info({ height: meta.height, chunks: meta.chunks, entries, ms: Math.round(ms) }, 'state snapshot written');
    // keep-recent
    const heights = this.heights();
    for (const h of heights.slice(this.keepRecent)) rmSync(join(this.dir, h.toString()), { recursive: true, force: true });
  }

  /** Completed snapshot heights, newest first. */
  private heights(): bigint[] {
    return readdirSync(this.dir)
      .filter((n) => /^[0-9]+$/.test(n) && existsSync(join(this.dir, n, 'meta.json')))
      .map((n) => BigInt(n))
      .sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  }

  private meta(height: bigint): Meta | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, height.toString(), 'meta.json'), 'utf8')) as Meta;
    } catch {
      return undefined;
    }
  }

  list(): Snapshot[] {
    const out: Snapshot[] = [];
    for (const h of this.heights()) {
      const m = this.meta(h);
      if (!m) continue;
      out.push({
        height: BigInt(m.height),
        format: m.format,
        chunks: m.chunks,
        hash: Buffer.from(m.hash, 'hex'),
        metadata: Buffer.concat(m.chunkHashes.map((x) => Buffer.from(x, 'hex'))),
      });
    }
    return out;
  }

  loadChunk(req: RequestLoadSnapshotChunk): Uint8Array {
    if (req.format !== SNAPSHOT_FORMAT) return new Uint8Array();
    const m = this.meta(req.height);
    if (!m || !Number.isInteger(req.chunk) || req.chunk < 0 || req.chunk >= m.chunks) return new Uint8Array();
    try {
      return readFileSync(join(this.dir, req.height.toString(), `chunk-${req.chunk}`));
    } catch {
      return new Uint8Array(); // pruned meanwhile: the peer asks another sender
    }
  }

  // ------------------------------------------------------------------------------------------ restoring

  offer(req: RequestOfferSnapshot): ResponseOfferSnapshot_Result {
    const s = req.snapshot;
    if (!s) return ResponseOfferSnapshot_Result.REJECT;
    if (s.format !== SNAPSHOT_FORMAT) return ResponseOfferSnapshot_Result.REJECT_FORMAT;
    if (this.store.height !== 0n || this.store.size !== 0) {
      this.logger.error({ height: this.store.height.toString() }, 'snapshot offered to a node that already has state');
      return ResponseOfferSnapshot_Result.ABORT;
    }
    if (s.chunks < 1 || s.metadata.length !== 32 * s.chunks || !sha256(s.metadata).equals(Buffer.from(s.hash)) || req.appHash.length !== 32) {
      return ResponseOfferSnapshot_Result.REJECT;
    }
    if (this.store.pending > 0) this.store.rollbackStaged(); // a previous, abandoned restore
    const chunkHashes: Buffer[] = [];
    for (let i = 0; i < s.chunks; i++) chunkHashes.push(Buffer.from(s.metadata.subarray(32 * i, 32 * i + 32)));
    this.restore = { height: s.height, appHash: Uint8Array.from(req.appHash), chunkHashes, next: 0, lastKey: undefined };
    this.logger.info({ height: s.height.toString(), chunks: s.chunks }, 'restoring state snapshot');
    return ResponseOfferSnapshot_Result.ACCEPT;
  }

  /** Applies one chunk; after the last one the root is checked and the state committed (`done` true). */
  async apply(req: RequestApplySnapshotChunk): Promise<ResponseApplySnapshotChunk & { done?: true }> {
    const r = this.restore;
    const res = (result: ResponseApplySnapshotChunk_Result, extra: Partial<ResponseApplySnapshotChunk> = {}) => ({
      result, refetchChunks: [] as number[], rejectSenders: [] as string[], ...extra,
    });
    if (!r) return res(ResponseApplySnapshotChunk_Result.ABORT);
    if (req.index !== r.next) {
      return res(ResponseApplySnapshotChunk_Result.RETRY, { refetchChunks: [r.next] });
    }
    if (!sha256(req.chunk).equals(r.chunkHashes[req.index]!)) {
      this.logger.warn({ index: req.index, sender: req.sender }, 'snapshot chunk does not match its hash: refetching');
      return res(ResponseApplySnapshotChunk_Result.RETRY, { refetchChunks: [req.index], rejectSenders: req.sender ? [req.sender] : [] });
    }
    const writes: Write[] = [];
    const b = Buffer.from(req.chunk.buffer, req.chunk.byteOffset, req.chunk.byteLength);
    let o = 0;
    let last = r.lastKey;
    try {
      while (o < b.length) {
        const kl = b.readUInt32BE(o);
        const key = b.toString('latin1', o + 4, o + 4 + kl);
        o += 4 + kl;
        const vl = b.readUInt32BE(o);
        const value = new Uint8Array(b.subarray(o + 4, o + 4 + vl));
        o += 4 + vl;
        if (o > b.length || (last !== undefined && key <= last)) throw new Error('malformed or unordered chunk');
        writes.push([key, value]);
        last = key;
      }
    } catch (e) {
      // The chunk matched the hash the snapshot announced, so the snapshot itself is bad.
      this.logger.error({ err: (e as Error).message, index: req.index }, 'bad snapshot chunk');
      this.abandon();
      return res(ResponseApplySnapshotChunk_Result.REJECT_SNAPSHOT);
    }
    this.store.applyBlock(writes);
    r.lastKey = last;
    r.next++;
    if (r.next < r.chunkHashes.length) return res(ResponseApplySnapshotChunk_Result.ACCEPT);
    const root = this.store.root();
    if (!Buffer.from(root).equals(Buffer.from(r.appHash))) {
      this.logger.error({ height: r.height.toString(), root: Buffer.from(root).toString('hex'), want: Buffer.from(r.appHash).toString('hex') }, 'restored state does not match the trusted app hash');
      this.abandon();
      return res(ResponseApplySnapshotChunk_Result.REJECT_SNAPSHOT);
    }
    await this.store.commit(r.height, [], { history: false });
    this.logger.info({ height: r.height.toString(), appHash: Buffer.from(root).toString('hex'), entries: this.store.size }, 'state snapshot restored; app hash verified');
    this.restore = undefined;
    return { ...res(ResponseApplySnapshotChunk_Result.ACCEPT), done: true };
  }

  private abandon(): void {
    this.store.rollbackStaged();
    this.restore = undefined;
  }
}
