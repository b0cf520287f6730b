/**
 * The devnet's LevelDB: genesis, consensus state, blocks (proto bytes), seen commits, FinalizeBlock results and
 * the tx index. Keys are strings; heights are zero-padded so lexicographic order is height order.
 *
 *   genesis                         JSON GenesisDoc
 *   state                           JSON ChainState (last executed height, app hash for the next header, ...)
 *   block/<h>                       tendermint.types.Block proto
 *   blockid/<h>                     tendermint.types.BlockID proto
 *   commit/<h>                      tendermint.types.Commit proto (the commit for block h)
 *   results/<h>                     tendermint.abci.ResponseFinalizeBlock proto
 *   tx/<HASH>                       JSON { height, index }
 *   ev/<type.key>\0<value>\0<h>\0<i>  tx hash (upper hex), one entry per indexed attribute
 */
import { Level } from 'level';
import { Block } from 'cosmjs-types/tendermint/types/block';
import { BlockID, Commit } from 'cosmjs-types/tendermint/types/types';
import { ResponseFinalizeBlock, ExecTxResult } from 'cosmjs-types/tendermint/abci/types';

export const pad = (h: bigint | number): string => BigInt(h).toString().padStart(20, '0');
const padIdx = (i: number): string => String(i).padStart(10, '0');

export interface GenesisDoc {
  genesis_time: string;
  /** Seconds and nanos of genesis_time, for exact arithmetic. */
  genesis_seconds: string;
  genesis_nanos: number;
  chain_id: string;
  initial_height: string;
  consensus_params: { block: { max_bytes: string; max_gas: string } };
  app_state: unknown;
}

export interface ChainState {
  /** Height of the last block whose FinalizeBlock results are persisted (0 before the first block). */
  lastBlockHeight: string;
  /** App hash returned by block lastBlockHeight (or InitChain): goes into the next header. */
  appHash: string;
  /** Results hash of block lastBlockHeight: goes into the next header. */
  lastResultsHash: string;
  maxBytes: string;
  maxGas: string;
  appVersion: string;
  /** True once InitChain has been answered and its result persisted. */
  initialized: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface TxLocation { height: number; index: number }

export class DevnetStore {
  private constructor(private readonly db: Level<string, Uint8Array>) {}

  static async open(dir: string): Promise<DevnetStore> {
    const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    return new DevnetStore(db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  private async getJson<T>(key: string): Promise<T | undefined> {
    const v = await this.db.get(key);
    return v === undefined ? undefined : (JSON.parse(dec.decode(v)) as T);
  }

  getGenesis(): Promise<GenesisDoc | undefined> { return this.getJson<GenesisDoc>('genesis'); }
  async putGenesis(g: GenesisDoc): Promise<void> { await this.db.put('genesis', enc.encode(JSON.stringify(g))); }
  getState(): Promise<ChainState | undefined> { return this.getJson<ChainState>('state'); }
  async putState(s: ChainState): Promise<void> { await this.db.put('state', enc.encode(JSON.stringify(s))); }

  /** Highest stored block (may be one ahead of the state after a crash). */
  async blockStoreHeight(): Promise<bigint> {
    for await (const key of this.db.keys({ gt: 'block/', lt: 'block/~', reverse: true, limit: 1 })) {
      return BigInt(key.slice('block/'.length));
    }
    return 0n;
  }

  async baseHeight(): Promise<bigint> {
    for await (const key of this.db.keys({ gt: 'block/', lt: 'block/~', limit: 1 })) return BigInt(key.slice('block/'.length));
    return 0n;
  }

  /** Persists a block and its commit before it is executed. */
  async putBlock(block: Block, blockId: BlockID, commit: Commit): Promise<void> {
    const h = pad(block.header.height);
    await this.db.batch()
      .put(`block/${h}`, Block.encode(block).finish())
      .put(`blockid/${h}`, BlockID.encode(blockId).finish())
      .put(`commit/${h}`, Commit.encode(commit).finish())
      .write();
  }

  async getBlock(height: bigint): Promise<{ block: Block; blockId: BlockID; size: number } | undefined> {
    const raw = await this.db.get(`block/${pad(height)}`);
    const id = await this.db.get(`blockid/${pad(height)}`);
    if (!raw || !id) return undefined;
    return { block: Block.decode(raw), blockId: BlockID.decode(id), size: raw.length };
  }

  async getCommit(height: bigint): Promise<Commit | undefined> {
    const raw = await this.db.get(`commit/${pad(height)}`);
    return raw ? Commit.decode(raw) : undefined;
  }

  async getResults(height: bigint): Promise<ResponseFinalizeBlock | undefined> {
    const raw = await this.db.get(`results/${pad(height)}`);
    return raw ? ResponseFinalizeBlock.decode(raw) : undefined;
  }

  /** Atomically persists a block's results, its tx index entries and the new state. */
  async putResults(height: bigint, txs: readonly Uint8Array[], txHashes: readonly string[], res: ResponseFinalizeBlock, state: ChainState): Promise<void> {
    const batch = this.db.batch();
    batch.put(`results/${pad(height)}`, ResponseFinalizeBlock.encode(res).finish());
    txs.forEach((_tx, i) => {
      const hash = txHashes[i]!;
      batch.put(`tx/${hash}`, enc.encode(JSON.stringify({ height: Number(height), index: i } satisfies TxLocation)));
      const r = res.txResults[i] ?? ExecTxResult.fromPartial({});
      for (const ev of r.events) {
        if (ev.type.length === 0) continue;
        for (const a of ev.attributes) {
          if (!a.index) continue;
          batch.put(`ev/${ev.type}.${a.key}\u0000${a.value}\u0000${pad(height)}\u0000${padIdx(i)}`, enc.encode(hash));
        }
      }
    });
    // FinalizeBlock's own events (end-block slashes, auctions…) indexed by height, as CometBFT's kv block indexer
    // does for block_search. As there, an event whose type and key make `block.height` (reserved) fails the whole
    // block's indexing: none of its events, nor its height, is found by block_search (marked `bnoidx/`).
    const reserved = res.events.some((ev) => ev.type.length > 0 && ev.attributes.some((a) => a.key.length > 0 && `${ev.type}.${a.key}` === 'block.height'));
    if (reserved) batch.put(`bnoidx/${pad(height)}`, enc.encode('1'));
    else {
      for (const ev of res.events) {
        if (ev.type.length === 0) continue;
        for (const a of ev.attributes) {
          if (!a.index || a.key.length === 0) continue;
          batch.put(`bev/${ev.type}.${a.key}\u0000${a.value}\u0000${pad(height)}`, enc.encode(height.toString()));
        }
      }
    }
    batch.put('state', enc.encode(JSON.stringify(state)));
    await batch.write();
  }

  getTxLocation(hashHex: string): Promise<TxLocation | undefined> {
    return this.getJson<TxLocation>(`tx/${hashHex.toUpperCase()}`);
  }

  /** Tx hashes with an indexed attribute `compositeKey` (equal to `value` when given). */
  async scanEventIndex(compositeKey: string, value?: string): Promise<string[]> {
    const prefix = value === undefined ? `ev/${compositeKey}\u0000` : `ev/${compositeKey}\u0000${value}\u0000`;
    const out: string[] = [];
    for await (const [key, v] of this.db.iterator({ gte: prefix, lt: `${prefix}\uffff` })) {
      if (value === undefined && key.slice(prefix.length).split('\u0000').length !== 3) continue;
      out.push(dec.decode(v));
    }
    return out;
  }

  /** Heights whose FinalizeBlock events have an indexed attribute `compositeKey` (equal to `value` when given), ascending. */
  async scanBlockEventIndex(compositeKey: string, value?: string): Promise<bigint[]> {
    const prefix = value === undefined ? `bev/${compositeKey}\u0000` : `bev/${compositeKey}\u0000${value}\u0000`;
    const out = new Set<bigint>();
    for await (const [key, v] of this.db.iterator({ gte: prefix, lt: `${prefix}\uffff` })) {
      if (value === undefined && key.slice(prefix.length).split('\u0000').length !== 2) continue;
      out.add(BigInt(dec.decode(v)));
    }
    return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Whether block_search can find `height` (CometBFT's block index has it): false for a block whose indexing failed. */
  async blockIndexed(height: bigint): Promise<boolean> {
    return (await this.db.get(`bnoidx/${pad(height)}`)) === undefined;
  }

  async allTxHashes(): Promise<string[]> {
    const out: string[] = [];
    for await (const key of this.db.keys({ gt: 'tx/', lt: 'tx/~' })) out.push(key.slice(3));
    return out;
  }
}
