/**
 * ProofbookApp: the ABCI 2.0 application. A pure function of (committed state, block) for everything CometBFT
 * calls: no clocks, no randomness, no iteration-order dependence, and no exception ever crosses the ABCI boundary —
 * failures become result codes with logs.
 *
 * State flow per height (CometBFT v0.38 semantics):
 *   FinalizeBlock: txs run on a block cache over the committed store; the cache's writes are staged into the store
 *                  (memory + Merkle tree) to compute the app hash; nothing is persisted.
 *   Commit:        the staged writes, height and app hash go to LevelDB in one atomic batch; CheckTx state is reset.
 *   Info:          reports the last *committed* height/app hash, so a crash before Commit replays the block.
 */
import '../src/codec/cosmjs-types-alloc.js';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import {
  CheckTxType, ResponseProcessProposal_ProposalStatus,
  ResponseVerifyVoteExtension_VerifyStatus,
  type RequestInfo, type ResponseInfo, type RequestInitChain, type ResponseInitChain, type RequestQuery, type ResponseQuery, type RequestOfferSnapshot, type RequestLoadSnapshotChunk, type RequestApplySnapshotChunk,
  type RequestCheckTx, type ResponseCheckTx, type RequestPrepareProposal, type ResponsePrepareProposal,
  type RequestProcessProposal, type ResponseProcessProposal, type RequestFinalizeBlock, type ResponseFinalizeBlock,
  type ResponseExtendVote, type ResponseVerifyVoteExtension, type ResponseCommit, type ResponseListSnapshots,
  type ResponseOfferSnapshot, type ResponseLoadSnapshotChunk, type ResponseApplySnapshotChunk, type ExecTxResult, type Event, type ValidatorUpdate,
} from 'cosmjs-types/tendermint/abci/types';
import { SimulateRequest, SimulateResponse } from 'cosmjs-types/cosmos/tx/v1beta1/service';
import { ConfigResponse } from 'cosmjs-types/cosmos/base/node/v1beta1/query';
import { CommitmentProof } from 'cosmjs-types/cosmos/ics23/v1/proofs';
import { SerialQueue, type AbciApplication } from './abci/application.js';
import { CommittedStore, type OpenOptions, type StateVersion } from '../src/store/committed.js';
import { HeightNotAvailableError } from '../src/store/history.js';
import { SnapshotManager, type SnapshotOptions } from './snapshots.js';
import { CacheKV } from '../src/store/cache.js';
import { bytesToKey, compareKeys, type KV, type KVReader } from '../src/store/kv.js';
import { Context, type BlockInfo } from '../src/framework/context.js';
import { createModules, type ModuleSet } from './modules.js';
import { consensusInfo } from './consensus-info.js';
import { runTx, type PipelineDeps, type TxOutcome } from './tx/pipeline.js';
import { decodeTx, forgetDecoded, txHashKey, type DecodedTx } from './tx/decode.js';
import { SignatureCache } from './tx/ante.js';
import { SignaturePrefetcher } from './tx/prefetch.js';
import { sharedVerifyPool } from '../src/crypto/verify-pool.js';
import { defaultVerifier, type Secp256k1Verify } from '../src/crypto/secp256k1.js';
import { AppError, ErrInvalidRequest, ErrUnknownRequest, ErrNotFound, ErrInvalidGasLimit, ErrOutOfGas, toAppError, GRPC } from '../src/framework/errors.js';
import { APP_VERSION } from './version.js';
import { NODE_CONFIG_QUERY_PATH, nodeConfig } from './node-config.js';
import { initVerifierBackend } from '../modules/verifier/index.js';
import { proofCaps } from '../modules/verifier/keys.js';
import { verifierParams } from '../modules/verifier/keeper.js';
import { BlockProofBudget, txProofWork, type ProofLimits } from './tx/proof-work.js';
import { runAnte } from './tx/ante.js';
import { GasKV, GasMeter } from '../src/framework/gas.js';
import { SimulateLimiter, type SimulateLimitOptions } from './simulate-limit.js';
import { BLOCK_MAX_GAS_KEY, blockMaxGas, gasWanted, genesisBlockMaxGas } from './tx/block-gas.js';

export interface AppOptions {
  home: string;
  logger?: Logger;
  /** Run every module's invariants after each block and log (and record) any broken one. Tests turn it on. */
  checkInvariants?: boolean;
  /** Signature verifier on the main thread (default: native libsecp256k1). */
  verify?: Secp256k1Verify;
  /**
   * Verify signatures ahead of execution on worker threads (default true; PROOFBOOK_SIG_WORKERS=0 also disables).
   * Off, every signature is verified on the main thread when its tx runs.
   */
  parallelVerify?: boolean;
  /** Store options: cache size, recent-height window (src/store/committed.ts OpenOptions). */
  store?: OpenOptions;
  /** State-sync snapshots: interval, keep-recent (app/snapshots.ts). Default: none taken (restoring always works). */
  snapshots?: SnapshotOptions;
  /** Simulate's share of the app's thread (app/simulate-limit.ts). */
  simulateLimit?: SimulateLimitOptions;
}

const APP_PREFIX = 'app/';
const CHAIN_ID_KEY = APP_PREFIX + 'chain_id';
const GRPC_NAMES: Record<number, string> = Object.fromEntries(Object.entries(GRPC).map(([k, v]) => [v, k]));

/** The ABCI query path for raw state reads with ICS-23 proofs: data = the raw store key. */
export const STORE_QUERY_PATH = '/store/key';

/** The ABCI query path of cosmos.tx.v1beta1.Service/GetTx. */
export const GET_TX_QUERY_PATH = '/cosmos.tx.v1beta1.Service/GetTx';

export class ProofbookApp implements AbciApplication {
  readonly queue = new SerialQueue();
  readonly modules: ModuleSet;
  private checkState: CacheKV;
  private chainId = '';
  private lastBlockTime = 0n;
  private pendingHeight: bigint | undefined;
  /** Hashes of the txs applied (successfully, in order) to checkState since the last commit: see prepareProposal. */
  private checkSeq: string[] = [];
  /** The txs of the block finalized and not yet committed (their caches are dropped at Commit). */
  private finalizedTxs: readonly Uint8Array[] = [];
  private readonly deps: PipelineDeps;
  private readonly prefetcher: SignaturePrefetcher;
  /** Invariant failures seen (only filled when checkInvariants is on). */
  readonly invariantFailures: { height: bigint; failures: string[] }[] = [];

  readonly snapshots: SnapshotManager;
  /** Bounds the thread time anyone can take with Simulate (app/simulate-limit.ts). */
  readonly simulateLimiter: SimulateLimiter;

  private constructor(readonly store: CommittedStore, readonly logger: Logger, private readonly opts: AppOptions) {
    this.modules = createModules();
    this.snapshots = new SnapshotManager(store, join(opts.home, 'data', 'snapshots'), opts.snapshots ?? {}, logger.child({ module: 'snapshots' }));
    this.checkState = new CacheKV(store);
    this.simulateLimiter = new SimulateLimiter(opts.simulateLimit);
    this.deps = {
      auth: this.modules.keepers.auth,
      bank: this.modules.keepers.bank,
      verify: opts.verify ?? defaultVerifier(),
      sigCache: new SignatureCache(),
      routes: this.modules.routes,
      moduleOf: this.modules.moduleOf,
      proofLimits: (ctx) => this.proofLimits(ctx),
      simulateGasLimit: () => blockMaxGas(this.store),
    };
    const parallel = opts.parallelVerify ?? true;
    this.prefetcher = new SignaturePrefetcher({
      auth: this.deps.auth, routes: this.modules.routes, sigCache: this.deps.sigCache,
      pool: () => (parallel ? sharedVerifyPool() : undefined),
    });
    const raw = store.get(CHAIN_ID_KEY);
    if (raw) this.chainId = new TextDecoder().decode(raw);
  }

  static async open(opts: AppOptions): Promise<ProofbookApp> {
    const dir = join(opts.home, 'data', 'state');
    mkdirSync(dir, { recursive: true });
    // The Groth16 verifier (mcl-wasm) must be compiled once before any block can verify proofs.
    await initVerifierBackend();
    const store = await CommittedStore.open(dir, opts.store);
    const logger = opts.logger ?? pino({ level: process.env.PROOFBOOK_LOG_LEVEL ?? 'info' });
    return new ProofbookApp(store, logger, opts);
  }

  get height(): bigint {
    return this.store.height;
  }

  get chain(): string {
    return this.chainId;
  }

  private blockInfo(height: bigint, timeSeconds = this.lastBlockTime): BlockInfo {
    return { chainId: this.chainId, height, timeSeconds };
  }

  /** The proof-work caps and verification gas prices in `ctx`'s state (verifier params; see app/tx/proof-work.ts). */
  private proofLimits(ctx: Context): ProofLimits {
    const p = verifierParams(ctx);
    const caps = proofCaps(p);
    return { perTx: caps.perTx, perBlock: caps.perBlock, gasPerBlock: caps.gasPerBlock, gasBase: p.verifyGasBase, gasPerInput: p.verifyGasPerInput };
  }

  /** A fresh budget for one block's proof work, under the committed params. */
  private blockProofBudget(height: bigint): BlockProofBudget {
    return new BlockProofBudget(this.proofLimits(new Context(new CacheKV(this.store), this.blockInfo(height), 'query')));
  }

  /** The proof work of a tx, or none when it does not decode (it then carries no work that could run). */
  private proofWorkOf(tx: Uint8Array) {
    try {
      return txProofWork(decodeTx(tx, this.modules.routes));
    } catch {
      return { proofs: 0n, signals: 0n };
    }
  }

  /** The gas a tx asks of its block (0 when it does not decode: it then runs nothing but its decoding). */
  private gasWantedOf(tx: Uint8Array): bigint {
    try {
      return gasWanted(decodeTx(tx, this.modules.routes));
    } catch {
      return 0n;
    }
  }

  /** CheckTx's refusal of a tx that wants more gas than a whole block holds (it could never be included). */
  private overBlockGas(tx: Uint8Array): AppError | undefined {
    const want = this.gasWantedOf(tx);
    const limit = blockMaxGas(this.store);
    return want > limit ? ErrInvalidGasLimit(`gas limit ${want} exceeds the block gas limit ${limit} (app/tx/block-gas.ts)`) : undefined;
  }

  // ---------------------------------------------------------------- info / genesis

  async info(_req: RequestInfo): Promise<ResponseInfo> {
    return {
      data: 'proofbook',
      version: APP_VERSION,
      appVersion: 1n,
      lastBlockHeight: this.store.height,
      lastBlockAppHash: this.store.height === 0n ? new Uint8Array() : this.store.appHash,
    };
  }

  /**
   * Builds the full app state from a genesis JSON object (missing sections get the module's default), delivers the
   * modules' genesis txs (gentxs) and returns the app hash with the initial validator set (empty when no module
   * creates validators: CometBFT then keeps genesis.json's).
   */
  private loadGenesis(appState: Record<string, unknown>, maxGas?: bigint): { appHash: Uint8Array; validators: ValidatorUpdate[] } {
    const known = new Set(this.modules.modules.map((m) => m.name));
    for (const k of Object.keys(appState).sort(compareKeys)) {
      if (!known.has(k)) throw new Error(`genesis app_state has an unknown section '${k}'; known: ${[...known].join(', ')}`);
    }
    const cache = new CacheKV(this.store);
    const ctx = new Context(cache, this.blockInfo(0n), 'genesis');
    cache.set(CHAIN_ID_KEY, new TextEncoder().encode(this.chainId));
    const gasLimit = genesisBlockMaxGas(maxGas);
    if (gasLimit) cache.set(BLOCK_MAX_GAS_KEY, gasLimit);
    for (const m of this.modules.modules) {
      const section = appState[m.name] ?? m.defaultGenesis?.();
      m.initGenesis?.(ctx, section);
    }
    for (const m of this.modules.modules) {
      const txs = m.genesisTxs?.(appState[m.name]) ?? [];
      txs.forEach((tx, i) => {
        const out = runTx(cache, this.blockInfo(0n), 'deliver', tx, this.deps);
        if (out.code !== 0) throw new Error(`genesis tx ${i} of ${m.name} failed (${out.codespace} ${out.code}): ${out.log}`);
      });
    }
    const validators: ValidatorUpdate[] = [];
    for (const m of this.modules.modules) for (const u of m.validatorUpdates?.(ctx) ?? []) validators.push({ pubKey: { ed25519: u.pubKeyEd25519 }, power: u.power });
    const broken = this.runInvariants(ctx);
    if (broken.length) throw new Error(`genesis breaks invariants: ${broken.join('; ')}`);
    return { appHash: this.store.applyBlock(cache.writes()), validators };
  }

  /** The app's initial set must be genesis.json's when that lists validators (the Cosmos SDK's InitChain check). */
  private static checkGenesisValidators(fromGenesisFile: readonly ValidatorUpdate[], fromApp: readonly ValidatorUpdate[]): void {
    if (fromGenesisFile.length === 0 || fromApp.length === 0) return;
    const norm = (l: readonly ValidatorUpdate[]) => l.map((v) => `${Buffer.from(v.pubKey.ed25519 ?? new Uint8Array()).toString('base64')}:${v.power}`).sort(compareKeys);
    const a = norm(fromGenesisFile);
    const b = norm(fromApp);
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
      throw new Error(`genesis.json validators (${a.join(', ')}) differ from those the gentxs create (${b.join(', ')}); empty genesis.json's "validators" or make them match`);
    }
  }

  async initChain(req: RequestInitChain): Promise<ResponseInitChain> {
    if (this.store.height !== 0n) throw new Error(`InitChain called but the app is at height ${this.store.height}`);
    this.chainId = req.chainId;
    let appState: Record<string, unknown> = {};
    if (req.appStateBytes.length > 0) {
      const text = new TextDecoder().decode(req.appStateBytes);
      try {
        appState = JSON.parse(text);
      } catch (e) {
        throw new Error(`genesis app_state is not valid JSON: ${(e as Error).message}`);
      }
      if (appState === null || typeof appState !== 'object' || Array.isArray(appState)) throw new Error('genesis app_state must be a JSON object');
    }
    this.lastBlockTime = req.time?.seconds ?? 0n;
    const { appHash, validators } = this.loadGenesis(appState, req.consensusParams?.block?.maxGas);
    ProofbookApp.checkGenesisValidators(req.validators ?? [], validators);
    this.logger.info({ chainId: this.chainId, appHash: Buffer.from(appHash).toString('hex'), validators: validators.length }, 'genesis loaded');
    return { validators, appHash };
  }

  // ---------------------------------------------------------------- mempool

  prefetchCheckTx(req: RequestCheckTx): void {
    // Committed state is the guess for account numbers and keys (see SignaturePrefetcher).
    this.prefetcher.prefetch(req.tx, this.store, this.blockInfo(this.store.height + 1n));
  }

  async checkTx(req: RequestCheckTx): Promise<ResponseCheckTx> {
    const pending = this.prefetcher.settled(req.tx);
    if (pending) await pending;
    const mode = req.type === CheckTxType.RECHECK ? 'recheck' : 'check';
    const tooBig = this.overBlockGas(req.tx);
    if (tooBig) return { code: tooBig.code, data: new Uint8Array(), log: tooBig.message, info: '', gasWanted: 0n, gasUsed: 0n, events: [], codespace: tooBig.codespace };
    const out = runTx(this.checkState, this.blockInfo(this.store.height + 1n), mode, req.tx, this.deps);
    if (out.code === 0 && out.tx) this.checkSeq.push(out.tx.hashKey);
    // CheckTx answers carry no data (like the Cosmos SDK): CometBFT relays broadcast_tx_sync's `data` as hex while
    // cosmjs decodes it as base64, so any payload here would break clients; the msg responses come with the block.
    return {
      code: out.code, data: new Uint8Array(), log: out.log, info: '', gasWanted: out.gasWanted, gasUsed: out.gasUsed,
      events: out.events, codespace: out.codespace,
    };
  }

  // ---------------------------------------------------------------- proposals

  async prepareProposal(req: RequestPrepareProposal): Promise<ResponsePrepareProposal> {
    // Fast path: CometBFT reaps the mempool in the order CheckTx applied the txs to checkState. If the candidates are
    // a prefix of that sequence, each one already passed on top of the committed state plus its predecessors, so
    // re-running them would only repeat that verdict. Take the longest prefix that fits in max_tx_bytes.
    // The proof-work caps (app/tx/proof-work.ts) end the prefix too: a proposal over them would be rejected.
    const budget = this.blockProofBudget(req.height);
    const gasLimit = blockMaxGas(this.store);
    if (req.txs.length <= this.checkSeq.length && req.txs.every((tx, i) => txHashKey(tx) === this.checkSeq[i])) {
      const txs: Uint8Array[] = [];
      let total = 0n;
      let gas = 0n;
      for (const tx of req.txs) {
        if (total + BigInt(tx.length) > req.maxTxBytes) break;
        const work = this.proofWorkOf(tx);
        if (!budget.fits(work)) break;
        const want = this.gasWantedOf(tx);
        if (gas + want > gasLimit) break;
        gas += want;
        budget.add(work);
        txs.push(tx);
        total += BigInt(tx.length);
      }
      return { txs };
    }
    // Otherwise re-run the candidates in order on scratch state and keep those that still pass and fit.
    const scratch = new CacheKV(this.store);
    const block = this.blockInfo(req.height, req.time?.seconds ?? this.lastBlockTime);
    const txs: Uint8Array[] = [];
    let bytes = 0n;
    let gasSum = 0n;
    for (const tx of req.txs) {
      const size = BigInt(tx.length);
      if (bytes + size > req.maxTxBytes) continue;
      const work = this.proofWorkOf(tx);
      if (!budget.fits(work)) continue;
      const want = this.gasWantedOf(tx);
      if (gasSum + want > gasLimit) continue;
      const out = runTx(scratch, block, 'recheck', tx, this.deps);
      if (out.code !== 0) continue;
      gasSum += want;
      budget.add(work);
      txs.push(tx);
      bytes += size;
    }
    return { txs };
  }

  async processProposal(req: RequestProcessProposal): Promise<ResponseProcessProposal> {
    const { ACCEPT, REJECT } = ResponseProcessProposal_ProposalStatus;
    // A proposal is acceptable when every tx at least decodes into known messages; txs that fail later are
    // recorded with a non-zero code like any other failing tx. Rejecting on execution results would let a
    // proposer's view of the mempool, not the block, decide.
    // The proof-work caps are checked over every tx of the proposal (paid or not): an honest PrepareProposal keeps
    // within them, so a proposal beyond them can only be an attempt to stuff the block with verification work.
    const budget = this.blockProofBudget(req.height);
    const gasLimit = blockMaxGas(this.store);
    let gas = 0n;
    for (const tx of req.txs) {
      let work;
      try {
        const decoded = decodeTx(tx, this.modules.routes);
        work = txProofWork(decoded);
        gas += gasWanted(decoded);
      } catch (e) {
        this.logger.warn({ height: req.height.toString(), err: (e as Error).message }, 'rejecting proposal with an undecodable tx');
        return { status: REJECT };
      }
      if (!budget.fits(work)) {
        this.logger.warn({ height: req.height.toString(), why: budget.why(work) }, 'rejecting proposal over the proof-work caps');
        return { status: REJECT };
      }
      budget.add(work);
      if (gas > gasLimit) {
        this.logger.warn({ height: req.height.toString(), gas: gas.toString(), limit: gasLimit.toString() }, 'rejecting proposal over the block gas limit');
        return { status: REJECT };
      }
    }
    // Signatures this node has not verified yet (txs it never saw in CheckTx) are verified on worker threads while
    // the votes for this proposal go round; FinalizeBlock waits for them.
    const block = this.blockInfo(req.height, req.time?.seconds ?? this.lastBlockTime);
    for (const tx of req.txs) this.prefetcher.prefetch(tx, this.store, block, true);
    return { status: ACCEPT };
  }

  // ---------------------------------------------------------------- blocks

  /** Runs a block hook in its own cache so a bug in one module's hook cannot leave half-written state. */
  private runHook(blockCache: KV, block: BlockInfo, name: string, hook: (ctx: Context) => void, events: Event[]): void {
    const cache = new CacheKV(blockCache);
    const ctx = new Context(cache, block, 'block');
    try {
      hook(ctx);
      cache.writeTo(blockCache);
      events.push(...ctx.events);
    } catch (e) {
      this.logger.error({ hook: name, height: block.height.toString(), err: (e as Error).message }, 'block hook failed; its writes were discarded');
    }
  }

  /**
   * The proof-carrying messages FinalizeBlock may batch-verify ahead of execution: those of txs whose signatures
   * and fees pass, within the block's proof caps. Nothing about a tx's proofs is looked at before that.
   *
   * The ante handlers run here on a throwaway cache, in block order, one after another (fees deducted, sequences
   * bumped) but without the messages in between: the real run afterwards is the usual sequential one. A tx whose
   * ante passes here but fails in the real run (an earlier tx's messages spent its fee) gets its proofs verified
   * unpaid; that is bounded by the block caps and needs funds that could pay every fee at the start of the block.
   * Proofs not batch-verified here are verified one by one when their message runs, with gas charged.
   */
  private paidProofMsgs(blockCache: KV, block: BlockInfo, txs: readonly Uint8Array[]): { typeUrl: string; value: unknown }[] {
    const decoded: (DecodedTx | undefined)[] = txs.map((tx) => {
      try {
        return decodeTx(tx, this.modules.routes);
      } catch {
        return undefined; // fails on its own in runTx
      }
    });
    if (!decoded.some((tx) => tx !== undefined && txProofWork(tx).proofs > 0n)) return [];
    const scratch = new CacheKV(blockCache);
    const budget = new BlockProofBudget(this.proofLimits(new Context(scratch, block, 'deliver')));
    const msgs: { typeUrl: string; value: unknown }[] = [];
    for (const tx of decoded) {
      if (tx === undefined) continue;
      const work = txProofWork(tx);
      const gasLimit = tx.authInfo.fee?.gasLimit ?? 0n;
      const meter = new GasMeter(gasLimit);
      const cache = new CacheKV(scratch);
      try {
        runAnte(new Context(new GasKV(cache, meter), block, 'deliver', meter), tx, this.deps);
      } catch {
        continue; // unpaid: none of its work runs ahead of it
      }
      cache.writeTo(scratch);
      // Batch only what the tx's own gas limit can pay for and what fits in the block's caps.
      if (work.proofs === 0n || !budget.fits(work) || meter.reported() + budget.verifyGasOf(work) > gasLimit) continue;
      budget.add(work);
      for (const m of tx.msgs) if (m.route.proofWork) msgs.push({ typeUrl: m.typeUrl, value: m.value });
    }
    return msgs;
  }

  /** Lets modules batch work over the block's paid proof messages (see Module.beforeTxs); runs on a throwaway cache. */
  private runBeforeTxs(blockCache: KV, block: BlockInfo, msgs: readonly { typeUrl: string; value: unknown }[]): void {
    const hooks = this.modules.modules.filter((m) => m.beforeTxs);
    if (hooks.length === 0 || msgs.length === 0) return;
    for (const m of hooks) {
      const ctx = new Context(new CacheKV(blockCache), block, 'block');
      try {
        m.beforeTxs!(ctx, msgs);
      } catch (e) {
        this.logger.error({ hook: `${m.name}.beforeTxs`, err: (e as Error).message }, 'beforeTxs hook failed (ignored)');
      }
    }
  }

  async finalizeBlock(req: RequestFinalizeBlock): Promise<ResponseFinalizeBlock> {
    const block: BlockInfo = { ...this.blockInfo(req.height, req.time?.seconds ?? this.lastBlockTime), consensus: consensusInfo(req) };
    // Verify the block's not-yet-verified signatures in parallel on the worker pool first (a replaying or catching-up
    // node has seen none of them); the txs then run in order on this thread and find the verdicts cached.
    // Txs past the block gas limit (only in a block forced past ProcessProposal) fail before anything of theirs runs,
    // their signatures included.
    const gasLimit = blockMaxGas(this.store);
    let gasSum = 0n;
    const admitted = req.txs.map((tx) => {
      const want = this.gasWantedOf(tx);
      if (gasSum + want > gasLimit) return false;
      gasSum += want;
      return true;
    });
    const txsIn = req.txs.filter((_, i) => admitted[i]);
    for (const tx of txsIn) this.prefetcher.prefetch(tx, this.store, block, true);
    await this.prefetcher.settledAll(txsIn);
    const blockCache = new CacheKV(this.store);
    const events: Event[] = [];
    for (const m of this.modules.modules) if (m.beginBlock) this.runHook(blockCache, block, `${m.name}.beginBlock`, m.beginBlock, events);
    this.runBeforeTxs(blockCache, block, this.paidProofMsgs(blockCache, block, txsIn));
    const txResults: ExecTxResult[] = req.txs.map((tx, i) => {
      if (!admitted[i]) {
        const e = ErrOutOfGas(`the block's txs want more than the block gas limit ${gasLimit}; this tx did not run`);
        return { code: e.code, data: new Uint8Array(), log: e.message, info: '', gasWanted: this.gasWantedOf(tx), gasUsed: 0n, events: [], codespace: e.codespace };
      }
      const out: TxOutcome = runTx(blockCache, block, 'deliver', tx, this.deps);
      return { code: out.code, data: out.data, log: out.log, info: '', gasWanted: out.gasWanted, gasUsed: out.gasUsed, events: out.events, codespace: out.codespace };
    });
    for (const m of this.modules.modules) if (m.endBlock) this.runHook(blockCache, block, `${m.name}.endBlock`, m.endBlock, events);
    const validatorUpdates: ValidatorUpdate[] = [];
    for (const m of this.modules.modules) {
      if (!m.validatorUpdates) continue;
      this.runHook(blockCache, block, `${m.name}.validatorUpdates`, (ctx) => {
        for (const u of m.validatorUpdates!(ctx)) validatorUpdates.push({ pubKey: { ed25519: u.pubKeyEd25519 }, power: u.power });
      }, events);
    }

    if (this.opts.checkInvariants) {
      const broken = this.runInvariants(new Context(blockCache, block, 'query'));
      if (broken.length) {
        this.invariantFailures.push({ height: req.height, failures: broken });
        this.logger.fatal({ height: req.height.toString(), broken }, 'INVARIANT BROKEN');
      }
    }
    const appHash = this.store.applyBlock(blockCache.writes());
    this.pendingHeight = req.height;
    this.finalizedTxs = req.txs;
    this.lastBlockTime = block.timeSeconds;
    return { events, txResults, validatorUpdates, appHash };
  }

  async commit(): Promise<ResponseCommit> {
    const height = this.pendingHeight ?? this.store.height + 1n; // InitChain-only (no block yet) never commits alone
    await this.store.commit(height);
    this.snapshots.afterCommit(height);
    this.pendingHeight = undefined;
    this.checkState = new CacheKV(this.store);
    this.checkSeq = [];
    // Committed txs can never run again (their sequences are used): drop what was cached about them.
    for (const tx of this.finalizedTxs) {
      const key = txHashKey(tx);
      forgetDecoded(key);
      this.deps.sigCache.forget(key);
    }
    this.finalizedTxs = [];
    return { retainHeight: 0n };
  }

  // ---------------------------------------------------------------- queries

  private queryError(err: unknown, height: bigint): ResponseQuery {
    const e = toAppError(err);
    const status = GRPC_NAMES[e.grpcCode] ?? 'Unknown';
    return {
      code: e.code, log: `rpc error: code = ${status} desc = ${e.message}`, info: '', index: 0n, key: new Uint8Array(),
      value: new Uint8Array(), height, codespace: e.codespace,
    };
  }

  /**
   * The committed state at `height` (0 = latest) for a read: the live store when that is the latest commit and
   * nothing is staged, else a recent version (store.versionAt: reverse diffs, proofs against that height's app
   * hash). Outside the window (--history-blocks) it throws a clear InvalidRequest error, never another height's state.
   */
  private async stateAt(height: bigint): Promise<{ height: bigint; reader: KVReader; version?: StateVersion }> {
    const latest = this.store.height;
    const h = height === 0n ? latest : height;
    if (latest === 0n || (h === latest && this.store.pending === 0)) {
      if (h !== latest) throw ErrInvalidRequest(new HeightNotAvailableError(h, latest, latest).message);
      return { height: latest, reader: this.store };
    }
    try {
      const version = await this.store.versionAt(h);
      return { height: h, reader: this.store.readerAt(version), version };
    } catch (e) {
      if (e instanceof HeightNotAvailableError) throw ErrInvalidRequest(e.message);
      throw e;
    }
  }

  /**
   * Runs `fn` on the state at `height` (0 = latest) — the API for height-aware callers (gRPC's
   * `x-cosmos-block-height`, REST's `height`): `fn` gets a query Context whose height is the state's height and
   * must be synchronous (the version is bound to the live tree until the next block). Throws an AppError
   * (InvalidRequest) for a height outside the recent-height window.
   */
  async queryAt<T>(height: bigint, fn: (ctx: Context) => T): Promise<T> {
    const st = await this.stateAt(height);
    return fn(new Context(new CacheKV(st.reader), this.blockInfo(st.height), 'query'));
  }

  /**
   * Answers `/cosmos.tx.v1beta1.Service/GetTx` ABCI queries (the path cosmjs' setupTxExtension uses): txs live in
   * CometBFT's index, not in app state, so the node wiring (devnet, `proofbook start`) sets a lookup over CometBFT
   * RPC here (app/grpc/server.ts txLookup). Never reached by consensus.
   */
  setTxLookup(fn: (request: Uint8Array) => Promise<Uint8Array>): void {
    this.txLookup = fn;
  }
  private txLookup?: (request: Uint8Array) => Promise<Uint8Array>;

  /**
   * GetTx reads CometBFT's tx index over RPC, not app state, so drivers answer it outside the SerialQueue
   * (AbciApplication.unqueuedQuery): awaited inside the queue, a slow or unreachable RPC would stall FinalizeBlock
   * and Commit queued behind it. Every other query returns undefined and is queued as usual.
   */
  unqueuedQuery(req: RequestQuery): Promise<ResponseQuery> | undefined {
    return req.path === GET_TX_QUERY_PATH ? this.lookupTx(req) : undefined;
  }

  /**
   * GET_TX_QUERY_PATH: the tx index is not versioned, so any committed height (0 = latest) gets the same answer; the
   * answer reports the height committed when the index answered (not when the query arrived).
   */
  private async lookupTx(req: RequestQuery): Promise<ResponseQuery> {
    // Synchronous reads of the committed height: no state is touched, so no queue is needed.
    const at = (): bigint => (req.height === 0n ? this.store.height : req.height);
    try {
      const latest = this.store.height;
      if (req.height < 0n) throw ErrInvalidRequest(`negative height ${req.height}`);
      if (req.height > latest) throw ErrInvalidRequest(new HeightNotAvailableError(req.height, latest, latest).message);
      if (!this.txLookup) throw ErrUnknownRequest(`${GET_TX_QUERY_PATH} is not served by this node (no CometBFT RPC configured for tx lookups)`);
      const value = await this.txLookup(req.data);
      return { code: 0, log: '', info: '', index: 0n, key: req.data, value, height: at(), codespace: '' };
    } catch (e) {
      return this.queryError(e, at());
    }
  }

  async query(req: RequestQuery): Promise<ResponseQuery> {
    let height = req.height === 0n ? this.store.height : req.height;
    try {
      if (req.height < 0n) throw ErrInvalidRequest(`negative height ${req.height}`);
      const st = await this.stateAt(req.height);
      height = st.height;
      const ok = (value: Uint8Array, extra: Partial<ResponseQuery> = {}): ResponseQuery => ({
        code: 0, log: '', info: '', index: 0n, key: req.data, value, height, codespace: '', ...extra,
      });
      if (req.path === STORE_QUERY_PATH || req.path === 'store/key') {
        const key = bytesToKey(req.data);
        if (!req.prove) {
          const v = st.reader.get(key);
          if (!v) throw ErrNotFound(`no value at key ${Buffer.from(req.data).toString('hex')}`);
          return ok(v);
        }
        const { exists, value, proof } = st.version ? this.store.proveAt(st.version, key) : this.store.prove(key);
        const proofOps = { ops: [{ type: exists ? 'ics23:smt' : 'ics23:smt-nonexist', key: req.data, data: CommitmentProof.encode(proof).finish() }] };
        return ok(value ?? new Uint8Array(), { proofOps });
      }
      if (req.path === '/cosmos.tx.v1beta1.Service/Simulate') return ok(this.simulateLimiter.run(() => this.simulate(req.data)));
      // Drivers answer GetTx through unqueuedQuery; a direct caller gets the same answer.
      if (req.path === GET_TX_QUERY_PATH) return await this.lookupTx(req);
      if (req.path === NODE_CONFIG_QUERY_PATH) {
        const ctx = new Context(new CacheKV(st.reader), this.blockInfo(height), 'query');
        return ok(ConfigResponse.encode(nodeConfig(this.modules.keepers.auth.params(ctx), this.store.historyBlocks)).finish());
      }
      const route = this.modules.queries.get(req.path);
      if (!route) throw ErrUnknownRequest(`unknown query path '${req.path}'`);
      let request;
      try {
        request = route.requestType.decode(req.data);
      } catch (e) {
        throw ErrInvalidRequest(`cannot decode the request for ${req.path}: ${(e as Error).message}`);
      }
      const ctx = new Context(new CacheKV(st.reader), this.blockInfo(height), 'query');
      const response = route.handle(ctx, request);
      return ok(route.responseType.encode(response).finish());
    } catch (e) {
      return this.queryError(e, height);
    }
  }

  /**
   * `/cosmos.tx.v1beta1.Service/Simulate`: runs the tx on a throwaway copy of the mempool state, signatures unchecked,
   * proofs not pairing-checked, gas limited to the block gas limit; query() runs it inside the SimulateLimiter's budget.
   */
  private simulate(data: Uint8Array): Uint8Array {
    let req: SimulateRequest;
    try {
      req = SimulateRequest.decode(data);
    } catch (e) {
      throw ErrInvalidRequest(`cannot decode SimulateRequest: ${(e as Error).message}`);
    }
    if (req.txBytes.length === 0) throw ErrInvalidRequest('SimulateRequest.tx_bytes is empty');
    const out = runTx(new CacheKV(this.checkState), this.blockInfo(this.store.height + 1n), 'simulate', req.txBytes, this.deps);
    if (out.code !== 0) throw new AppError(out.codespace, out.code, out.log);
    const resp = SimulateResponse.fromPartial({
      gasInfo: { gasWanted: out.gasWanted, gasUsed: out.gasUsed },
      result: { data: out.data, log: '', events: out.events, msgResponses: [] },
    });
    return SimulateResponse.encode(resp).finish();
  }

  /** sha256 over the mempool state's pending writes: lets tests and operators see whether CheckTx changed anything. */
  checkStateDigest(): string {
    const h = createHash('sha256');
    for (const [k, v] of this.checkState.writes()) {
      h.update(Buffer.from(k, 'latin1'));
      h.update(v === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), v]));
    }
    return h.digest('hex');
  }

  // ---------------------------------------------------------------- invariants

  private runInvariants(ctx: Context): string[] {
    const broken: string[] = [];
    for (const m of this.modules.modules) {
      for (const inv of m.invariants ?? []) {
        let msg: string | undefined;
        try {
          msg = inv.check(ctx);
        } catch (e) {
          msg = `invariant threw: ${(e as Error).message}`;
        }
        if (msg) broken.push(`${m.name}/${inv.name}: ${msg}`);
      }
    }
    return broken;
  }

  /** Checks every module invariant against the committed state; returns the broken ones (empty when all hold). */
  checkInvariants(): string[] {
    return this.runInvariants(new Context(new CacheKV(this.store), this.blockInfo(this.store.height), 'query'));
  }

  // ---------------------------------------------------------------- vote extensions & snapshots (unused for now)

  async extendVote(): Promise<ResponseExtendVote> {
    return { voteExtension: new Uint8Array() };
  }
  async verifyVoteExtension(): Promise<ResponseVerifyVoteExtension> {
    return { status: ResponseVerifyVoteExtension_VerifyStatus.ACCEPT };
  }
  // State sync (app/snapshots.ts).
  async listSnapshots(): Promise<ResponseListSnapshots> {
    return { snapshots: this.snapshots.list() };
  }
  async offerSnapshot(req: RequestOfferSnapshot): Promise<ResponseOfferSnapshot> {
    return { result: this.snapshots.offer(req) };
  }
  async loadSnapshotChunk(req: RequestLoadSnapshotChunk): Promise<ResponseLoadSnapshotChunk> {
    return { chunk: this.snapshots.loadChunk(req) };
  }
  async applySnapshotChunk(req: RequestApplySnapshotChunk): Promise<ResponseApplySnapshotChunk> {
    const { done, ...res } = await this.snapshots.apply(req);
    if (done) {
      // The store now holds the snapshot height's state: re-read what the app keeps from it.
      const raw = this.store.get(CHAIN_ID_KEY);
      if (raw) this.chainId = new TextDecoder().decode(raw);
      this.checkState = new CacheKV(this.store);
      this.checkSeq = [];
    }
    return res;
  }

  async close(): Promise<void> {
    await this.snapshots.idle();
    await this.store.close();
  }
}
