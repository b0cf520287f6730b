/**
 * A FIFO mempool with CometBFT's (v0.38 CListMempool) admission rules and error texts: size limits, an LRU
 * cache of seen tx hashes that rejects duplicates, CheckTx NEW through the app's queue (only code 0 is kept),
 * and RECHECK of the remaining txs after each commit, dropping the ones that now fail.
 */
import { CheckTxType, type ResponseCheckTx } from 'cosmjs-types/tendermint/abci/types';
import type { AbciApplication, SerialQueue } from '../abci/application.js';
import { hex } from './json.js';
import { txHash } from './hashing.js';

export interface MempoolConfig {
  size: number;
  maxTxsBytes: number;
  maxTxBytes: number;
  cacheSize: number;
}

export const DEFAULT_MEMPOOL_CONFIG: MempoolConfig = {
  size: 5000,
  maxTxsBytes: 1073741824,
  maxTxBytes: 1048576,
  cacheSize: 10000,
};

export class MempoolError extends Error {}

/** A promise-chain mutex: the mempool is locked during Commit, update and recheck (like CometBFT). */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async lock<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => { release = r; });
    await prev;
    try { return await fn(); } finally { release(); }
  }
}

interface Entry { tx: Uint8Array; hash: string; gasWanted: bigint }

export class Mempool {
  private readonly txs = new Map<string, Entry>(); // insertion order = arrival order
  private bytes = 0;
  private readonly cache = new Map<string, true>(); // insertion order = LRU order
  readonly lock = new Mutex();

  constructor(
    private readonly app: AbciApplication,
    private readonly queue: SerialQueue,
    readonly config: MempoolConfig = DEFAULT_MEMPOOL_CONFIG,
    private readonly onError: (msg: string, err: unknown) => void = () => {},
  ) {}

  get size(): number { return this.txs.size; }
  get sizeBytes(): number { return this.bytes; }
  has(hashHex: string): boolean { return this.txs.has(hashHex); }
  list(): Uint8Array[] { return [...this.txs.values()].map((e) => e.tx); }

  private cachePush(hash: string): boolean {
    if (this.cache.has(hash)) {
      this.cache.delete(hash);
      this.cache.set(hash, true);
      return false;
    }
    this.cache.set(hash, true);
    while (this.cache.size > this.config.cacheSize) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
    return true;
  }

  private async callCheckTx(tx: Uint8Array, type: CheckTxType): Promise<ResponseCheckTx> {
    return this.queue.run(async () => {
      try {
        return await this.app.checkTx({ tx, type });
      } catch (err) {
        this.onError('CheckTx threw', err);
        return { code: 1, data: new Uint8Array(), log: `internal error: ${String(err)}`, info: '', gasWanted: 0n, gasUsed: 0n, events: [], codespace: 'devnet' };
      }
    });
  }

  /**
   * CheckTx NEW. Throws MempoolError with CometBFT's text for size/full/duplicate; otherwise returns the app's
   * response (the tx entered the mempool iff code == 0).
   */
  async checkTx(tx: Uint8Array): Promise<{ hash: Uint8Array; res: ResponseCheckTx }> {
    try { this.app.prefetchCheckTx?.({ tx, type: CheckTxType.NEW }); } catch { /* an optimisation only */ }
    return this.lock.lock(async () => {
      const hashBytes = txHash(tx);
      const hash = hex(hashBytes);
      if (tx.length > this.config.maxTxBytes) {
        throw new MempoolError(`tx too large. Max size is ${this.config.maxTxBytes}, but got ${tx.length}`);
      }
      if (this.txs.size >= this.config.size || tx.length + this.bytes > this.config.maxTxsBytes) {
        throw new MempoolError(
          `mempool is full: number of txs ${this.txs.size} (max: ${this.config.size}), total txs bytes ${this.bytes} (max: ${this.config.maxTxsBytes})`,
        );
      }
      if (!this.cachePush(hash)) throw new MempoolError('tx already exists in cache');
      const res = await this.callCheckTx(tx, CheckTxType.NEW);
      if (res.code === 0) {
        this.txs.set(hash, { tx, hash, gasWanted: res.gasWanted });
        this.bytes += tx.length;
      } else {
        this.cache.delete(hash);
      }
      return { hash: hashBytes, res };
    });
  }

  /** Txs in arrival order, up to maxBytes total (and maxGas total when >= 0), for a proposal. */
  reap(maxBytes: number, maxGas: bigint): Uint8Array[] {
    const out: Uint8Array[] = [];
    let bytes = 0;
    let gas = 0n;
    for (const e of this.txs.values()) {
      if (bytes + e.tx.length > maxBytes) break;
      if (maxGas >= 0n && gas + e.gasWanted > maxGas) break;
      bytes += e.tx.length;
      gas += e.gasWanted;
      out.push(e.tx);
    }
    return out;
  }

  /** After Commit (caller holds the lock): drop committed txs, keep them cached, recheck the rest. */
  async update(committed: readonly Uint8Array[]): Promise<void> {
    for (const tx of committed) {
      const hash = hex(txHash(tx));
      this.cachePush(hash);
      const e = this.txs.get(hash);
      if (e) { this.txs.delete(hash); this.bytes -= e.tx.length; }
    }
    for (const e of [...this.txs.values()]) {
      const res = await this.callCheckTx(e.tx, CheckTxType.RECHECK);
      if (res.code !== 0) {
        this.txs.delete(e.hash);
        this.bytes -= e.tx.length;
        this.cache.delete(e.hash);
      } else {
        e.gasWanted = res.gasWanted;
      }
    }
  }
}
