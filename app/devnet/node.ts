/**
 * The in-process single-validator block producer. It drives the app with CometBFT v0.38's call sequence:
 *
 *  start-up (consensus/replay.go handshake): Info; app height 0 -> InitChain; block store ahead of the app ->
 *  FinalizeBlock + Commit of each missing block, checking the app hash against the persisted results.
 *
 *  each block: PrepareProposal -> ProcessProposal (REJECT of our own proposal -> loud log, empty block) ->
 *  persist block + commit -> FinalizeBlock -> persist results, tx index and state atomically -> Commit (mempool
 *  locked) -> mempool update + RECHECK -> events (NewBlock, NewBlockHeader, Tx).
 *
 * Every app call goes through the app's SerialQueue, except queries the app answers without its state
 * (AbciApplication.unqueuedQuery: GetTx over this node's RPC). Header app_hash at height h is the app hash returned by
 * block h-1 (InitChain's for h = 1); last_results_hash likewise.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type pino from 'pino';
import type { Timestamp } from 'cosmjs-types/google/protobuf/timestamp';
import type { Block } from 'cosmjs-types/tendermint/types/block';
import type { BlockID, Commit, Header } from 'cosmjs-types/tendermint/types/types';
import { BlockIDFlag } from 'cosmjs-types/tendermint/types/validator';
import {
  type ResponseFinalizeBlock, ResponseProcessProposal_ProposalStatus,
  type RequestFinalizeBlock, type ResponseCheckTx, type ResponseQuery, type ResponseInfo,
} from 'cosmjs-types/tendermint/abci/types';
import { Block as BlockCodec } from 'cosmjs-types/tendermint/types/block';
import type { AbciApplication, SerialQueue } from '../abci/application.js';
import { DevnetStore, type ChainState, type GenesisDoc } from './store.js';
import { loadOrCreateValidatorKey, type ValidatorKey } from './validator-key.js';
import { Mempool, DEFAULT_MEMPOOL_CONFIG, type MempoolConfig } from './mempool.js';
import {
  commitHash, consensusParamsHash, dataHash, headerHash, partSetHeader, precommitSignBytes, resultsHash, txHash,
  validatorSetHash, sha256,
} from './hashing.js';
import { hex, rfc3339Nano } from './json.js';

export const COMETBFT_VERSION = '0.38.26';
export const BLOCK_PROTOCOL = 11n;
export const P2P_PROTOCOL = 8n;
export const VALIDATOR_POWER = 10n;
const DEFAULT_MAX_BYTES = 22020096n;
const MAX_BLOCK_SIZE_BYTES = 104857600n;

export type DevnetApp = AbciApplication & { queue: SerialQueue };

export interface NewBlockEvent {
  block: Block;
  blockId: BlockID;
  results: ResponseFinalizeBlock;
}

export interface NodeOptions {
  home: string;
  chainId: string;
  appState: object;
  app: DevnetApp;
  logger?: pino.Logger;
  mempool?: Partial<MempoolConfig>;
  /** Test hook: called after a block and its commit are persisted and before FinalizeBlock. */
  afterBlockPersisted?: (height: bigint) => void | Promise<void>;
  /** Test hook: called after results are persisted and before Commit. */
  beforeCommit?: (height: bigint) => void | Promise<void>;
}

function tsToNs(t: Timestamp): bigint {
  return t.seconds * 1_000_000_000n + BigInt(t.nanos);
}
function nsToTs(ns: bigint): Timestamp {
  return { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) };
}
function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

function emptyBlockId(): BlockID {
  return { hash: new Uint8Array(), partSetHeader: { total: 0, hash: new Uint8Array() } };
}

/** types.MaxDataBytes for one validator and no evidence. */
export function maxDataBytes(maxBytes: bigint, validators: number): bigint {
  const limit = maxBytes === -1n ? MAX_BLOCK_SIZE_BYTES : maxBytes;
  const maxCommitBytes = 94n + 109n * BigInt(validators);
  return limit - 11n - 626n - maxCommitBytes;
}

export class DevnetNode {
  readonly store: DevnetStore;
  readonly key: ValidatorKey;
  readonly mempool: Mempool;
  readonly genesis: GenesisDoc;
  private state: ChainState;
  private readonly listeners = new Set<(ev: NewBlockEvent) => void>();
  private readonly heightWaiters: { h: bigint; resolve: () => void; reject: (e: Error) => void }[] = [];
  private producing: Promise<void> = Promise.resolve();
  halted: Error | null = null;
  readonly log: pino.Logger | undefined;

  private constructor(
    readonly opts: NodeOptions, store: DevnetStore, key: ValidatorKey, genesis: GenesisDoc, state: ChainState,
  ) {
    this.store = store;
    this.key = key;
    this.genesis = genesis;
    this.state = state;
    this.log = opts.logger;
    this.mempool = new Mempool(opts.app, opts.app.queue, { ...DEFAULT_MEMPOOL_CONFIG, ...opts.mempool },
      (msg, err) => this.log?.error({ err }, msg));
  }

  get app(): DevnetApp { return this.opts.app; }
  get chainId(): string { return this.genesis.chain_id; }
  get height(): bigint { return BigInt(this.state.lastBlockHeight); }
  get chainState(): Readonly<ChainState> { return this.state; }

  static async open(opts: NodeOptions): Promise<DevnetNode> {
    const dir = join(opts.home, 'devnet');
    mkdirSync(dir, { recursive: true });
    const key = loadOrCreateValidatorKey(join(dir, 'priv_validator_key.json'));
    const store = await DevnetStore.open(join(dir, 'db'));
    try {
      let genesis = await store.getGenesis();
      if (!genesis) {
        const t = nsToTs(nowNs());
        genesis = {
          genesis_time: rfc3339Nano(t),
          genesis_seconds: t.seconds.toString(),
          genesis_nanos: t.nanos,
          chain_id: opts.chainId,
          initial_height: '1',
          consensus_params: { block: { max_bytes: DEFAULT_MAX_BYTES.toString(), max_gas: '-1' } },
          app_state: opts.appState,
        };
        await store.putGenesis(genesis);
      } else if (genesis.chain_id !== opts.chainId) {
        throw new Error(`devnet home has chain id ${genesis.chain_id}, not ${opts.chainId}`);
      }
      const state: ChainState = (await store.getState()) ?? {
        lastBlockHeight: '0', appHash: '', lastResultsHash: hex(sha256(new Uint8Array())),
        maxBytes: genesis.consensus_params.block.max_bytes, maxGas: genesis.consensus_params.block.max_gas,
        appVersion: '0', initialized: false,
      };
      const node = new DevnetNode(opts, store, key, genesis, state);
      await node.handshake();
      return node;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  /** Runs one app call on the shared queue; a rejection (an app bug) is rethrown with context. */
  private call<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.app.queue.run(async () => {
      try {
        return await fn();
      } catch (err) {
        this.log?.error({ err }, `app ${name} threw`);
        throw new Error(`app ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  info(): Promise<ResponseInfo> {
    return this.call('Info', () => this.app.info({
      version: COMETBFT_VERSION, blockVersion: BLOCK_PROTOCOL, p2pVersion: P2P_PROTOCOL, abciVersion: '2.0.0',
    }));
  }

  query(path: string, data: Uint8Array, height: bigint, prove: boolean): Promise<ResponseQuery> {
    const req = { path, data, height, prove };
    // GetTx looks the tx up over this node's RPC, not in app state: outside the queue, so a slow lookup cannot
    // delay the block in progress (AbciApplication.unqueuedQuery).
    let direct: Promise<ResponseQuery> | undefined;
    try { direct = this.app.unqueuedQuery?.(req); } catch (err) { direct = Promise.reject(err); }
    if (direct) {
      return direct.catch((err: unknown) => {
        this.log?.error({ err }, 'app Query threw');
        throw new Error(`app Query failed: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    return this.call('Query', () => this.app.query(req));
  }

  checkTx(tx: Uint8Array): Promise<{ hash: Uint8Array; res: ResponseCheckTx }> {
    return this.mempool.checkTx(tx);
  }

  private genesisTime(): Timestamp {
    return { seconds: BigInt(this.genesis.genesis_seconds), nanos: this.genesis.genesis_nanos };
  }

  private validatorsHash(): Uint8Array {
    return validatorSetHash([{ pubKeyEd25519: this.key.pubKey, power: VALIDATOR_POWER }]);
  }

  private async handshake(): Promise<void> {
    const info = await this.info();
    // Like CometBFT's handshake: the app version in headers comes from Info (InitChain params may override it).
    this.state = { ...this.state, appVersion: info.appVersion.toString() };
    const appHeight = info.lastBlockHeight;
    const storeHeight = await this.store.blockStoreHeight();
    this.log?.info({ appHeight: appHeight.toString(), storeHeight: storeHeight.toString(), stateHeight: this.state.lastBlockHeight }, 'devnet handshake');
    if (appHeight > storeHeight) {
      throw new Error(`app block height (${appHeight}) is higher than the devnet block store (${storeHeight})`);
    }
    if (storeHeight > BigInt(this.state.lastBlockHeight) + 1n) {
      throw new Error(`block store height ${storeHeight} is more than one block ahead of the state ${this.state.lastBlockHeight}`);
    }
    if (appHeight === 0n) await this.initChain();
    for (let h = appHeight + 1n; h <= storeHeight; h++) {
      const stored = await this.store.getBlock(h);
      if (!stored) throw new Error(`block ${h} missing from the devnet block store`);
      this.log?.info({ height: h.toString() }, 'replaying block');
      await this.execute(stored.block, stored.blockId);
    }
    if (storeHeight > 0n) {
      const after = await this.info();
      if (after.lastBlockHeight !== storeHeight) {
        throw new Error(`after replay the app reports height ${after.lastBlockHeight}, expected ${storeHeight}`);
      }
      if (!eq(after.lastBlockAppHash, fromHex(this.state.appHash))) {
        throw new Error(`app hash mismatch at height ${storeHeight}: app ${hex(after.lastBlockAppHash)}, devnet state ${this.state.appHash}`);
      }
    }
  }

  private async initChain(): Promise<void> {
    const g = this.genesis;
    const res = await this.call('InitChain', () => this.app.initChain({
      time: this.genesisTime(),
      chainId: g.chain_id,
      consensusParams: {
        block: { maxBytes: BigInt(g.consensus_params.block.max_bytes), maxGas: BigInt(g.consensus_params.block.max_gas) },
        evidence: { maxAgeNumBlocks: 100000n, maxAgeDuration: { seconds: 172800n, nanos: 0 }, maxBytes: 1048576n },
        validator: { pubKeyTypes: ['ed25519'] },
        version: { app: 0n },
        abci: { voteExtensionsEnableHeight: 0n },
      },
      validators: [{ pubKey: { ed25519: this.key.pubKey }, power: VALIDATOR_POWER }],
      appStateBytes: new TextEncoder().encode(JSON.stringify(g.app_state ?? {})),
      initialHeight: 1n,
    }));
    if (res.validators.length > 0) {
      const same = res.validators.length === 1 && res.validators[0]!.pubKey.ed25519 !== undefined
        && eq(res.validators[0]!.pubKey.ed25519, this.key.pubKey);
      if (!same) this.log?.warn('InitChain returned a validator set; the devnet keeps its single validator');
    }
    if (this.state.initialized) return; // app was reset: blocks will be replayed from height 1
    const next: ChainState = { ...this.state, appHash: hex(res.appHash), initialized: true };
    if (res.consensusParams?.block) {
      next.maxBytes = res.consensusParams.block.maxBytes.toString();
      next.maxGas = res.consensusParams.block.maxGas.toString();
    }
    if (res.consensusParams?.version) next.appVersion = res.consensusParams.version.app.toString();
    this.state = next;
    await this.store.putState(next);
  }

  private finalizeRequest(block: Block, blockId: BlockID): RequestFinalizeBlock {
    const h = block.header;
    return {
      txs: block.data.txs,
      decidedLastCommit: {
        round: block.lastCommit?.round ?? 0,
        votes: h.height > 1n ? [{ validator: { address: this.key.address, power: VALIDATOR_POWER }, blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_COMMIT }] : [],
      },
      misbehavior: [],
      hash: blockId.hash,
      height: h.height,
      time: h.time,
      nextValidatorsHash: h.nextValidatorsHash,
      proposerAddress: h.proposerAddress,
    };
  }

  /** FinalizeBlock -> persist results -> Commit -> mempool update -> events. */
  private async execute(block: Block, blockId: BlockID): Promise<void> {
    const height = block.header.height;
    const res = await this.call('FinalizeBlock', () => this.app.finalizeBlock(this.finalizeRequest(block, blockId)));
    if (res.txResults.length !== block.data.txs.length) {
      throw new Error(`FinalizeBlock at height ${height} returned ${res.txResults.length} tx results for ${block.data.txs.length} txs`);
    }
    const persisted = await this.store.getResults(height);
    if (persisted) {
      if (!eq(persisted.appHash, res.appHash)) {
        throw new Error(`app hash mismatch replaying height ${height}: got ${hex(res.appHash)}, persisted ${hex(persisted.appHash)}`);
      }
    } else {
      const next: ChainState = {
        ...this.state,
        lastBlockHeight: height.toString(),
        appHash: hex(res.appHash),
        lastResultsHash: hex(resultsHash(res.txResults)),
      };
      if (res.consensusParamUpdates?.block) {
        next.maxBytes = res.consensusParamUpdates.block.maxBytes.toString();
        next.maxGas = res.consensusParamUpdates.block.maxGas.toString();
      }
      if (res.consensusParamUpdates?.version) next.appVersion = res.consensusParamUpdates.version.app.toString();
      if (res.validatorUpdates.length > 0) this.log?.warn({ height: height.toString() }, 'FinalizeBlock returned validator updates; the devnet keeps its single validator');
      await this.store.putResults(height, block.data.txs, block.data.txs.map((tx) => hex(txHash(tx))), res, next);
      this.state = next;
    }
    await this.opts.beforeCommit?.(height);
    await this.mempool.lock.lock(async () => {
      await this.call('Commit', () => this.app.commit());
      await this.mempool.update(block.data.txs);
    });
    this.notifyHeight();
    const ev: NewBlockEvent = { block, blockId, results: res };
    for (const l of [...this.listeners]) {
      try { l(ev); } catch (err) { this.log?.error({ err }, 'block listener threw'); }
    }
  }

  onBlock(listener: (ev: NewBlockEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notifyHeight(): void {
    const h = this.height;
    for (let i = this.heightWaiters.length - 1; i >= 0; i--) {
      const w = this.heightWaiters[i]!;
      if (w.h <= h) { this.heightWaiters.splice(i, 1); w.resolve(); }
    }
  }

  waitForHeight(target: bigint | number): Promise<void> {
    const h = BigInt(target);
    if (this.height >= h) return Promise.resolve();
    if (this.halted) return Promise.reject(this.halted);
    return new Promise((resolve, reject) => this.heightWaiters.push({ h, resolve, reject }));
  }

  /** Produces and commits the next block (serialized with any block in progress). */
  produceBlock(): Promise<void> {
    const run = this.producing.then(() => this.produceNext());
    this.producing = run.catch(() => undefined);
    return run;
  }

  private async produceNext(): Promise<void> {
    if (this.halted) throw this.halted;
    try {
      await this.produceUnguarded();
    } catch (err) {
      this.halted = err instanceof Error ? err : new Error(String(err));
      this.log?.fatal({ err }, 'devnet block production halted');
      for (const w of this.heightWaiters.splice(0)) w.reject(this.halted);
      throw err;
    }
  }

  private buildBlock(height: bigint, time: Timestamp, txs: Uint8Array[], last: { blockId: BlockID; commit: Commit }): { block: Block; blockId: BlockID } {
    const valsHash = this.validatorsHash();
    const header: Header = {
      version: { block: BLOCK_PROTOCOL, app: BigInt(this.state.appVersion) },
      chainId: this.chainId,
      height,
      time,
      lastBlockId: last.blockId,
      lastCommitHash: commitHash(last.commit.signatures),
      dataHash: dataHash(txs),
      validatorsHash: valsHash,
      nextValidatorsHash: valsHash,
      consensusHash: consensusParamsHash(BigInt(this.state.maxBytes), BigInt(this.state.maxGas)),
      appHash: fromHex(this.state.appHash),
      lastResultsHash: fromHex(this.state.lastResultsHash),
      evidenceHash: sha256(new Uint8Array()),
      proposerAddress: this.key.address,
    };
    const block: Block = { header, data: { txs }, evidence: { evidence: [] }, lastCommit: last.commit };
    const blockId: BlockID = { hash: headerHash(header), partSetHeader: partSetHeader(BlockCodec.encode(block).finish()) };
    return { block, blockId };
  }

  private async produceUnguarded(): Promise<void> {
    const height = this.height + 1n;
    let last: { blockId: BlockID; commit: Commit; time: Timestamp };
    if (height === 1n) {
      last = { blockId: emptyBlockId(), commit: { height: 0n, round: 0, blockId: emptyBlockId(), signatures: [] }, time: this.genesisTime() };
    } else {
      const prev = await this.store.getBlock(height - 1n);
      const commit = await this.store.getCommit(height - 1n);
      if (!prev || !commit) throw new Error(`block ${height - 1n} missing from the devnet block store`);
      last = { blockId: prev.blockId, commit, time: prev.block.header.time };
    }
    const minNs = tsToNs(last.time) + (height === 1n ? 0n : 1_000_000n);
    const n = nowNs();
    const time = nsToTs(height === 1n ? tsToNs(this.genesisTime()) : (n > minNs ? n : minNs));

    const maxData = maxDataBytes(BigInt(this.state.maxBytes), 1);
    const candidates = this.mempool.reap(Number(maxData), BigInt(this.state.maxGas));
    const localLastCommit = {
      round: last.commit.round,
      votes: height > 1n ? [{
        validator: { address: this.key.address, power: VALIDATOR_POWER },
        voteExtension: new Uint8Array(), extensionSignature: new Uint8Array(), blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_COMMIT,
      }] : [],
    };
    const nextValidatorsHash = this.validatorsHash();
    const prepared = await this.call('PrepareProposal', () => this.app.prepareProposal({
      maxTxBytes: maxData, txs: candidates, localLastCommit, misbehavior: [], height, time,
      nextValidatorsHash, proposerAddress: this.key.address,
    }));
    let txs = prepared.txs;
    const total = txs.reduce((s, tx) => s + tx.length, 0);
    if (BigInt(total) > maxData) {
      this.log?.error({ height: height.toString(), total, maxData: maxData.toString() }, 'PrepareProposal exceeded max_tx_bytes: producing an empty block');
      txs = [];
    }
    let built = this.buildBlock(height, time, txs, last);
    const verdict = await this.call('ProcessProposal', () => this.app.processProposal({
      txs, proposedLastCommit: { round: last.commit.round, votes: localLastCommit.votes.map((v) => ({ validator: v.validator, blockIdFlag: v.blockIdFlag })) },
      misbehavior: [], hash: built.blockId.hash, height, time, nextValidatorsHash, proposerAddress: this.key.address,
    }));
    if (verdict.status !== ResponseProcessProposal_ProposalStatus.ACCEPT) {
      this.log?.error({ height: height.toString(), status: verdict.status, txs: txs.length },
        'ProcessProposal did not ACCEPT our own proposal (app bug: PrepareProposal and ProcessProposal disagree); producing an empty block');
      built = this.buildBlock(height, time, [], last);
    }
    // The validator's precommit for this block becomes the block's commit (and the next block's last_commit).
    const voteNs = nowNs() > tsToNs(time) ? nowNs() : tsToNs(time) + 1_000_000n;
    const voteTime = nsToTs(voteNs);
    const signature = this.key.sign(precommitSignBytes(this.chainId, height, 0, built.blockId, voteTime));
    const commit: Commit = {
      height, round: 0, blockId: built.blockId,
      signatures: [{ blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_COMMIT, validatorAddress: this.key.address, timestamp: voteTime, signature }],
    };
    await this.store.putBlock(built.block, built.blockId, commit);
    await this.opts.afterBlockPersisted?.(height);
    await this.execute(built.block, built.blockId);
  }

  /** Waits for a block in progress, then closes the store (the app is closed by the caller). */
  async close(): Promise<void> {
    await this.producing;
    await this.store.close();
  }
}
