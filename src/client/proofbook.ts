/**
 * The proofbook TypeScript SDK: typed market/bond/verifier calls on top of @cosmjs/stargate.
 *
 *   const client = await ProofbookClient.connect('http://127.0.0.1:26657', wallet);
 *   const { requestId } = await client.submitRequest({ circuitId, input: { preimage: '1', nonce: '2' }, maxFee: 20_000n, provingWindow: 20n });
 *   const { proof, publicSignals } = await client.waitForProof(requestId, { timeoutMs: 120_000 });
 *
 * `ProofbookQueryClient` has the read calls and waitForProof; `ProofbookClient` adds the signing calls. Amounts are
 * bigint (in the market's fee denom, `uproof` by default, or the bond denom for bond/unbond) or a cosmjs Coin.
 * Errors: ProofbookTxError (a tx was rejected: code, codespace, log, txHash), ProofbookNotFoundError,
 * ProofbookTimeoutError, ProofbookRequestEndedError (EXPIRED/CANCELLED), ProofbookAbortedError, ProofbookSignalsMismatchError.
 */
import '../codec/cosmjs-types-alloc.js';
import type { Comet38Client } from '@cosmjs/tendermint-rpc';
import type { SigningStargateClient, DeliverTxResponse, StdFee } from '@cosmjs/stargate';
import type { EncodeObject, OfflineDirectSigner } from '@cosmjs/proto-signing';
import type { Coin } from 'cosmjs-types/cosmos/base/v1beta1/coin';
import { connectComet, normalizeNodeUrl, simulateGas, SimulationError } from './tx.js';
import { proofbookRegistry, TYPE_URLS } from './registry.js';
import { requestFromHistory } from './history.js';
import * as market from '../gen-sdk/proofbook/market/v1/market.js';
import * as bond from '../gen-sdk/proofbook/bond/v1/bond.js';
import * as verifier from '../gen-sdk/proofbook/verifier/v1/verifier.js';
import type { PageRequest } from '../gen-sdk/proofbook/base/v1/base.js';
import { decodeProof, encodeProof, proofFromSnarkjs, proofToSnarkjs, type Groth16Proof } from '../zk/groth16.js';

export { RequestStatus } from '../gen-sdk/proofbook/market/v1/market.js';
export { describeHistoryEntry } from './describe.js';
import { describeHistoryEntry } from './describe.js';
import { suggestPatience } from './patience.js';
import { fallbackCommitment } from '../zk/fallback-commitment.js';
import { publicSignalsOf, openBlockSocket } from './platform.js';
import { fromHex, toUtf8 } from '@cosmjs/encoding';

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A snarkjs proof.json object, a decoded Groth16Proof, or the canonical 256-byte encoding, as canonical bytes. */
function toProofBytes(proof: unknown): Uint8Array {
  if (proof instanceof Uint8Array) return proof;
  if (typeof proof === 'object' && proof !== null && 'pi_a' in proof) return encodeProof(proofFromSnarkjs(proof));
  return encodeProof(proof as Groth16Proof);
}
export type { Request, Ask, Reputation, PriceLevel, CircuitStats } from '../gen-sdk/proofbook/market/v1/market.js';
export type { Prover, UnbondingEntry } from '../gen-sdk/proofbook/bond/v1/bond.js';
export type { Circuit } from '../gen-sdk/proofbook/verifier/v1/verifier.js';

export const DEFAULT_GAS_PRICE = '0.001uproof';
export const DEFAULT_DENOM = 'uproof';

// ------------------------------------------------------------------------------------------ errors

/** A transaction was rejected (in CheckTx, in the block, or in simulation). */
export class ProofbookTxError extends Error {
  constructor(readonly code: number, readonly codespace: string, readonly log: string, readonly txHash: string) {
    super(`tx ${txHash || '(not broadcast)'} failed: codespace ${codespace || '?'} code ${code}: ${log}`);
    this.name = 'ProofbookTxError';
  }
}

/** The queried object does not exist. */
export class ProofbookNotFoundError extends Error {
  constructor(readonly what: string, message: string) {
    super(message);
    this.name = 'ProofbookNotFoundError';
  }
}

/** A query failed for another reason than NotFound. */
export class ProofbookQueryError extends Error {
  constructor(readonly path: string, readonly code: number, readonly codespace: string, readonly log: string) {
    super(`query ${path} failed (codespace ${codespace}, code ${code}): ${log}`);
    this.name = 'ProofbookQueryError';
  }
}

/** waitForProof gave up after timeoutMs. */
export class ProofbookTimeoutError extends Error {
  constructor(readonly requestId: bigint, readonly timeoutMs: number, readonly lastStatus: market.RequestStatus | undefined) {
    super(`request ${requestId} was not fulfilled within ${timeoutMs} ms (last status: ${lastStatus === undefined ? 'unknown' : statusName(lastStatus)})`);
    this.name = 'ProofbookTimeoutError';
  }
}

/** The request reached a final state without a proof (EXPIRED or CANCELLED). */
export class ProofbookRequestEndedError extends Error {
  constructor(readonly requestId: bigint, readonly status: 'EXPIRED' | 'CANCELLED', readonly request: market.Request) {
    super(`request ${requestId} ${status.toLowerCase()} without a proof`);
    this.name = 'ProofbookRequestEndedError';
  }
}

/** The fulfilled request's public signals are not the statement the requester asked for (never expected: the chain checks them). */
export class ProofbookSignalsMismatchError extends Error {
  constructor(readonly requestId: bigint, readonly expected: string[], readonly got: string[]) {
    super(`request ${requestId} was fulfilled with public signals [${got.join(', ')}], expected [${expected.join(', ')}]`);
    this.name = 'ProofbookSignalsMismatchError';
  }
}

/** waitForProof's AbortSignal fired. */
export class ProofbookAbortedError extends Error {
  constructor(readonly requestId: bigint, reason?: unknown) {
    super(`waiting for request ${requestId} was aborted${reason instanceof Error ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : ''}`);
    this.name = 'ProofbookAbortedError';
  }
}

export function statusName(s: market.RequestStatus): string {
  return market.requestStatusToJSON(s).replace(/^REQUEST_STATUS_/, '');
}


// ------------------------------------------------------------------------------------------ amounts

export type Amount = bigint | Coin;

export function toCoin(a: Amount, defaultDenom = DEFAULT_DENOM): Coin {
  if (typeof a === 'bigint') {
    if (a < 0n) throw new RangeError(`amount cannot be negative: ${a}`);
    return { denom: defaultDenom, amount: a.toString() };
  }
  if (!/^\d+$/.test(a.amount)) throw new RangeError(`coin amount must be a non-negative integer string, got '${a.amount}'`);
  return { denom: a.denom, amount: a.amount };
}

function amountString(a: Amount, denom: string, what: string): string {
  const c = toCoin(a, denom);
  if (c.denom !== denom) throw new RangeError(`${what} must be in ${denom}, got ${c.denom}`);
  return c.amount;
}

// ------------------------------------------------------------------------------------------ query client

type Codec<T> = { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T; fromPartial(o: object): T };

export interface WaitForProofOptions {
  /** Give up after this long (ProofbookTimeoutError). Default 5 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each new status seen (OPEN, ASSIGNED, …) and the request. */
  onProgress?: (p: { status: string; request: market.Request; height: bigint }) => void;
  /**
   * Called once per entry of the request's on-chain history, in order (including those before the wait began):
   * assignments, declines, releases and misses with the slash and the compensation the requester received,
   * reassignments, the fallback and who fulfilled it. `text` is a one-line description (describeHistoryEntry).
   */
  onEvent?: (e: { entry: market.StatusChange; text: string; request: market.Request }) => void;
  /** Polling interval, used besides (or instead of, if the websocket fails) NewBlock events. Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * The public signals the proof must have (e.g. submitRequest's `expectedPublicSignals`). The returned signals are
   * always checked against the request's on-chain commitment, and against these too when given.
   */
  expectedPublicSignals?: readonly (string | bigint)[];
}

export interface ProofResult {
  /** snarkjs proof.json object. */
  proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[]; protocol: 'groth16'; curve: 'bn128' };
  /** snarkjs public.json array (decimal strings). */
  publicSignals: string[];
  request: market.Request;
}

export interface Params {
  market: market.Params;
  bond: bond.Params;
  verifier: verifier.Params;
}

/** The read calls and waitForProof, shared by ProofbookQueryClient and ProofbookClient. */
export class ProofbookReader {
  protected constructor(readonly comet: Comet38Client, readonly rpcUrl: string) {}

  disconnect(): void {
    this.comet.disconnect();
  }

  /** Raw ABCI query with typed request/response; NotFound -> ProofbookNotFoundError. */
  protected async query<Req, Res>(path: string, reqType: Codec<Req>, req: object, resType: Codec<Res>, what = path): Promise<Res> {
    const r = await this.comet.abciQuery({ path, data: reqType.encode(reqType.fromPartial(req)).finish() });
    const code = r.code ?? 0;
    if (code !== 0) {
      const log = r.log ?? '';
      const m = /^rpc error: code = (\w+) desc = ([\s\S]*)$/.exec(log);
      if (m && m[1] === 'NotFound') throw new ProofbookNotFoundError(what, m[2]!);
      throw new ProofbookQueryError(path, code, r.codespace ?? '', m ? m[2]! : log);
    }
    return resType.decode(r.value);
  }

  /**
   * The request from state; a settled request already removed from state (params.settled_retention_blocks) is
   * rebuilt from the tx/event history (history.ts) and comes back with `fromHistory: true`. With its current fee, its
   * live fallback commitments and, when it is open to the fallback, the fee a fallback commitment in the next block
   * would lock (fallbackFee; modules/market/fallback-fee.ts) and, for an assignment open to the race, what outracing
   * it adds to the bounty (outraceBounty, at least this later: the release slash only rises).
   */
  async request(id: bigint): Promise<{ request: market.Request; currentFee: bigint; fromHistory?: true; fallbackCommits: market.FallbackCommit[]; fallbackFee?: bigint; outraceBounty?: bigint }> {
    let r: market.QueryRequestResponse;
    try {
      r = await this.query('/proofbook.market.v1.Query/Request', market.QueryRequestRequest, { id }, market.QueryRequestResponse, `request ${id}`);
    } catch (e) {
      if (!(e instanceof ProofbookNotFoundError)) throw e;
      const old = await requestFromHistory(this.comet, id).catch(() => undefined);
      if (old === undefined) throw e;
      return { request: old, currentFee: 0n, fromHistory: true, fallbackCommits: [] };
    }
    if (!r.request) throw new ProofbookNotFoundError(`request ${id}`, `request ${id} not found`);
    return {
      request: r.request,
      currentFee: r.currentFee === '' ? 0n : BigInt(r.currentFee),
      fallbackCommits: r.fallbackCommits ?? [],
      ...((r.fallbackFee ?? '') === '' ? {} : { fallbackFee: BigInt(r.fallbackFee) }),
      ...((r.outraceBounty ?? '') === '' ? {} : { outraceBounty: BigInt(r.outraceBounty) }),
    };
  }

  /** Requests by requester, status and/or circuit (circuitId: 64 hex characters), one page. */
  async requests(filter: { requester?: string; status?: market.RequestStatus; circuitId?: string; pagination?: Partial<PageRequest> } = {}): Promise<market.QueryRequestsResponse> {
    return this.query('/proofbook.market.v1.Query/Requests', market.QueryRequestsRequest, filter, market.QueryRequestsResponse);
  }

  async book(circuitId: string): Promise<market.QueryBookResponse> {
    return this.query('/proofbook.market.v1.Query/Book', market.QueryBookRequest, { circuitId }, market.QueryBookResponse, `book of ${circuitId}`);
  }

  async asks(filter: { prover?: string; circuitId?: string; pagination?: Partial<PageRequest> } = {}): Promise<market.QueryAsksResponse> {
    return this.query('/proofbook.market.v1.Query/Asks', market.QueryAsksRequest, filter, market.QueryAsksResponse);
  }

  async reputation(prover: string): Promise<market.Reputation[]> {
    return (await this.query('/proofbook.market.v1.Query/Reputation', market.QueryReputationRequest, { prover }, market.QueryReputationResponse)).reputations;
  }

  async stats(circuitId = ''): Promise<market.CircuitStats[]> {
    return (await this.query('/proofbook.market.v1.Query/Stats', market.QueryStatsRequest, { circuitId }, market.QueryStatsResponse)).stats;
  }

  /** The per-block series behind stats(), oldest first, over the stats window. */
  async statsHistory(circuitId: string): Promise<market.QueryStatsHistoryResponse> {
    return this.query('/proofbook.market.v1.Query/StatsHistory', market.QueryStatsHistoryRequest, { circuitId }, market.QueryStatsHistoryResponse);
  }

  /** A patience for a request of `circuitId` with `provingWindow` blocks from its recent assigned deliveries (patience.ts; opt-in: `fallbackAfterBlocks: 'auto'`). */
  async suggestedPatience(circuitId: string, provingWindow: bigint): Promise<bigint> {
    return suggestPatience((await this.statsHistory(circuitId)).blocks, provingWindow);
  }

  /** The spread rule: the penalty the next auction applies, the window's HHI and its target, each prover's recent wins. */
  async spread(): Promise<market.QuerySpreadResponse> {
    return this.query('/proofbook.market.v1.Query/Spread', market.QuerySpreadRequest, {}, market.QuerySpreadResponse);
  }

  async prover(address: string): Promise<bond.QueryProverResponse> {
    return this.query('/proofbook.bond.v1.Query/Prover', bond.QueryProverRequest, { address }, bond.QueryProverResponse, `prover ${address}`);
  }

  async circuits(pagination?: Partial<PageRequest>): Promise<verifier.QueryCircuitsResponse> {
    return this.query('/proofbook.verifier.v1.Query/Circuits', verifier.QueryCircuitsRequest, { pagination }, verifier.QueryCircuitsResponse);
  }

  async circuit(id: string): Promise<verifier.Circuit> {
    const r = await this.query('/proofbook.verifier.v1.Query/Circuit', verifier.QueryCircuitRequest, { id }, verifier.QueryCircuitResponse, `circuit ${id}`);
    if (!r.circuit) throw new ProofbookNotFoundError(`circuit ${id}`, `circuit ${id} not found`);
    return r.circuit;
  }

  async params(): Promise<Params> {
    const [m, b, v] = await Promise.all([
      this.query('/proofbook.market.v1.Query/Params', market.QueryParamsRequest, {}, market.QueryParamsResponse),
      this.query('/proofbook.bond.v1.Query/Params', bond.QueryParamsRequest, {}, bond.QueryParamsResponse),
      this.query('/proofbook.verifier.v1.Query/Params', verifier.QueryParamsRequest, {}, verifier.QueryParamsResponse),
    ]);
    return { market: m.params!, bond: b.params!, verifier: v.params! };
  }

  /**
   * The public signals of the statement `input` (a JSON object, or its UTF-8 JSON bytes) proves for circuit
   * `circuitId`, computed with the circuit's own witness generator, fetched by its registered sha256 and checked.
   * `artifactDirs`: local directories searched when neither the node nor the registered URI serves it. Throws when
   * the input does not satisfy the circuit (such a request could never be proved).
   */
  async publicSignalsFor(circuitId: string, input: Record<string, unknown> | Uint8Array, artifactDirs?: readonly string[]): Promise<bigint[]> {
    return publicSignalsOf(await this.circuit(circuitId), input, { nodeUrl: this.rpcUrl, artifactDirs });
  }

  async height(): Promise<bigint> {
    return BigInt((await this.comet.status()).syncInfo.latestBlockHeight);
  }

  /**
   * Resolves with the verified proof once request `requestId` is FULFILLED. Re-checks the request on every new block
   * (websocket NewBlock subscription) and every pollIntervalMs (the fallback when the websocket is unavailable).
   */
  waitForProof(requestId: bigint, opts: WaitForProofOptions = {}): Promise<ProofResult> {
    const timeoutMs = opts.timeoutMs ?? 300_000;
    const pollMs = opts.pollIntervalMs ?? 1000;
    return new Promise<ProofResult>((resolve, reject) => {
      let done = false;
      let lastStatus: market.RequestStatus | undefined;
      let seenHistory = 0;
      let checking = false;
      let again = false;
      let ws: { disconnect(): void } | undefined;
      const cleanup = (): void => {
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        opts.signal?.removeEventListener('abort', onAbort);
        try { ws?.disconnect(); } catch { /* already closed */ }
      };
      const fail = (e: Error): void => { if (!done) { cleanup(); reject(e); } };
      const onAbort = (): void => fail(new ProofbookAbortedError(requestId, opts.signal?.reason));
      if (opts.signal?.aborted) { onAbort(); return; }
      opts.signal?.addEventListener('abort', onAbort);
      const timer = setTimeout(() => fail(new ProofbookTimeoutError(requestId, timeoutMs, lastStatus)), timeoutMs);

      const check = async (): Promise<void> => {
        if (done) return;
        if (checking) { again = true; return; }
        checking = true;
        try {
          do {
            again = false;
            let r: { request: market.Request };
            try {
              r = await this.request(requestId);
            } catch (e) {
              if (e instanceof ProofbookNotFoundError) { fail(e); return; }
              continue; // transient (node restarting): try on the next tick
            }
            if (done) return;
            const rq = r.request;
            for (; seenHistory < rq.history.length; seenHistory++) {
              const entry = rq.history[seenHistory]!;
              try { opts.onEvent?.({ entry, text: describeHistoryEntry(entry, rq.assignment), request: rq }); } catch { /* the callback's problem */ }
            }
            if (rq.status !== lastStatus) {
              lastStatus = rq.status;
              const last = rq.history[rq.history.length - 1];
              try { opts.onProgress?.({ status: statusName(rq.status), request: rq, height: last?.height ?? 0n }); } catch { /* the callback's problem */ }
            }
            switch (rq.status) {
              case market.RequestStatus.REQUEST_STATUS_FULFILLED: {
                const got = rq.publicSignals.map((x) => BigInt(x).toString());
                const same = (want: readonly (string | bigint)[]): boolean => want.length === got.length && want.every((x, i) => BigInt(x).toString() === got[i]);
                if (!same(rq.expectedPublicSignals) || (opts.expectedPublicSignals !== undefined && !same(opts.expectedPublicSignals))) {
                  fail(new ProofbookSignalsMismatchError(requestId, (opts.expectedPublicSignals ?? rq.expectedPublicSignals).map(String), got));
                  return;
                }
                cleanup();
                resolve({ proof: proofToSnarkjs(decodeProof(rq.proof)), publicSignals: [...rq.publicSignals], request: rq });
                return;
              }
              case market.RequestStatus.REQUEST_STATUS_EXPIRED:
                fail(new ProofbookRequestEndedError(requestId, 'EXPIRED', rq));
                return;
              case market.RequestStatus.REQUEST_STATUS_CANCELLED:
                fail(new ProofbookRequestEndedError(requestId, 'CANCELLED', rq));
                return;
              default:
            }
          } while (again && !done);
        } finally {
          checking = false;
        }
      };
      const poll = setInterval(() => { void check(); }, pollMs);
      void check();

      // Websocket (CometBFT `subscribe` to NewBlock): re-check on every new block (platform.ts: `ws` under Node, the
      // page's WebSocket in a browser).
      void (async () => {
        try {
          if (done) return;
          const url = `${this.rpcUrl.replace(/^http/i, 'ws').replace(/\/+$/, '')}/websocket`;
          const subscribe = JSON.stringify({ jsonrpc: '2.0', id: 'proofbook-wait', method: 'subscribe', params: { query: "tm.event='NewBlock'" } });
          ws = await openBlockSocket(url, subscribe, () => { void check(); });
          if (done) ws.disconnect();
        } catch {
          // polling only
        }
      })();
    });
  }
}

/** Read-only client: queries and waitForProof, no signer. */
export class ProofbookQueryClient extends ProofbookReader {
  static async connect(rpcUrl: string): Promise<ProofbookQueryClient> {
    return new ProofbookQueryClient(await connectComet(rpcUrl), normalizeNodeUrl(rpcUrl));
  }
}

// ------------------------------------------------------------------------------------------ signing client

export interface ProofbookClientOptions {
  /** Default 0.001uproof. */
  gasPrice?: string;
  /** Simulated gas times this. Default 1.4. */
  gasAdjustment?: number;
  /** Inclusion polling (ms) and timeout (ms) for signAndBroadcast. */
  pollIntervalMs?: number;
  broadcastTimeoutMs?: number;
  /** Which of the signer's accounts to use (default the first). */
  address?: string;
  /**
   * Local directories searched for a circuit's witness generator (circuit.wasm, matched by sha256) when neither the
   * node (GET /artifacts/<sha256>) nor the circuit's registered URI serves it.
   */
  artifactDirs?: string[];
}

export interface TxResult { txHash: string; height: number; gasUsed: bigint; gasWanted: bigint }

export interface SubmitRequestInput {
  circuitId: string;
  /** The prover's input: a JSON object (sent inline, as UTF-8 JSON) or raw bytes. Omit when inputUri is given. */
  input?: Record<string, unknown> | Uint8Array;
  inputUri?: string;
  inputSha256?: string;
  /**
   * The public signals the proof must have; the request commits to them and only a proof of exactly this statement is
   * paid. Omit them to have them computed from `input` with the circuit's witness generator (circuit.wasm, fetched
   * by hash and checked); required when the input is given by `inputUri` only.
   */
  expectedPublicSignals?: readonly (string | bigint)[];
  /** The fee ramps from minFee (default = maxFee) to maxFee over rampBlocks. */
  maxFee: Amount;
  minFee?: Amount;
  rampBlocks?: bigint;
  /** Blocks the assigned prover has to deliver, after its accept phase (params.accept_blocks). */
  provingWindow: bigint;
  /**
   * Patience: after this many blocks any bonded prover may fulfil the request through the fallback, racing its assigned
   * prover (0/omitted: off; 'auto': suggestedPatience, from how long the circuit's assigned provers have taken lately,
   * what `proofbook request prove --patience auto` sets).
   */
  fallbackAfterBlocks?: bigint | 'auto';
  /** Absolute expiry height, or `lifetimeBlocks` from now (default 200 blocks). */
  expiryHeight?: bigint;
  lifetimeBlocks?: bigint;
  minCollateral?: Amount;
}

export class ProofbookClient extends ProofbookReader {
  private constructor(
    comet: Comet38Client, rpcUrl: string,
    readonly signing: SigningStargateClient,
    readonly address: string,
    private readonly pubkey: Uint8Array,
    private readonly opts: ProofbookClientOptions,
  ) {
    super(comet, rpcUrl);
  }

  static async connect(rpcUrl: string, signer: OfflineDirectSigner, opts: ProofbookClientOptions = {}): Promise<ProofbookClient> {
    const comet = await connectComet(rpcUrl);
    const { GasPrice, SigningStargateClient } = await import('@cosmjs/stargate');
    const signing = SigningStargateClient.createWithSigner(comet, signer, {
      registry: proofbookRegistry(),
      gasPrice: GasPrice.fromString(opts.gasPrice ?? DEFAULT_GAS_PRICE),
      broadcastPollIntervalMs: opts.pollIntervalMs ?? 300,
      broadcastTimeoutMs: opts.broadcastTimeoutMs ?? 60_000,
    });
    const accounts = await signer.getAccounts();
    const acc = opts.address ? accounts.find((a) => a.address === opts.address) : accounts[0];
    if (!acc) throw new Error(opts.address ? `the signer has no account ${opts.address}` : 'the signer has no accounts');
    return new ProofbookClient(comet, normalizeNodeUrl(rpcUrl), signing, acc.address, acc.pubkey, opts);
  }

  override disconnect(): void {
    this.signing.disconnect();
  }

  /** Simulates (with the real fee and a placeholder signature), signs, broadcasts, waits for the block. */
  async execute(msgs: EncodeObject[], memo = ''): Promise<DeliverTxResponse> {
    const { GasPrice, calculateFee } = await import('@cosmjs/stargate');
    const gasPrice = GasPrice.fromString(this.opts.gasPrice ?? DEFAULT_GAS_PRICE);
    const { sequence } = await this.signing.getSequence(this.address);
    let gas: bigint;
    try {
      gas = await simulateGas(this.comet, this.signing.registry, { pubkey: this.pubkey, sequence }, msgs, memo, calculateFee(400_000, gasPrice).amount);
    } catch (e) {
      if (e instanceof SimulationError) throw new ProofbookTxError(e.code, e.codespace, e.log, '');
      throw e;
    }
    const limit = Math.ceil(Number(gas) * (this.opts.gasAdjustment ?? 1.4));
    const fee: StdFee = calculateFee(limit, gasPrice);
    let res: DeliverTxResponse;
    try {
      res = await this.signing.signAndBroadcast(this.address, msgs, fee, memo);
    } catch (e) {
      const b = e as { code?: number; codespace?: string; log?: string; name?: string };
      if (typeof b.code === 'number' && b.log !== undefined) throw new ProofbookTxError(b.code, b.codespace ?? '', b.log, '');
      throw e;
    }
    if (res.code !== 0) {
      let codespace = '';
      try { codespace = (await this.comet.tx({ hash: fromHex(res.transactionHash) })).result.codespace ?? ''; } catch { /* keep '' */ }
      throw new ProofbookTxError(res.code, codespace, res.rawLog ?? '', res.transactionHash);
    }
    return res;
  }

  private static result(r: DeliverTxResponse): TxResult {
    return { txHash: r.transactionHash, height: r.height, gasUsed: r.gasUsed, gasWanted: r.gasWanted };
  }

  private static response<T>(r: DeliverTxResponse, typeUrl: string, codec: { decode(b: Uint8Array): T }): T {
    const any = r.msgResponses.find((m) => m.typeUrl === `${typeUrl}Response`);
    if (!any) throw new ProofbookTxError(0, '', `the tx has no ${typeUrl}Response`, r.transactionHash);
    return codec.decode(any.value);
  }

  async registerCircuit(c: {
    name: string; verifyingKey: Uint8Array; proofSystem?: verifier.ProofSystem; constraints?: bigint;
    wasm?: verifier.Artifact; provingKey?: verifier.Artifact;
  }): Promise<TxResult & { circuitId: string }> {
    const value = verifier.MsgRegisterCircuit.fromPartial({
      creator: this.address, name: c.name, proofSystem: c.proofSystem ?? verifier.ProofSystem.PROOF_SYSTEM_GROTH16_BN254,
      verifyingKey: Uint8Array.from(c.verifyingKey), constraints: c.constraints ?? 0n, wasm: c.wasm, provingKey: c.provingKey,
    });
    const r = await this.execute([{ typeUrl: TYPE_URLS.registerCircuit, value }]);
    return { ...ProofbookClient.result(r), circuitId: ProofbookClient.response(r, TYPE_URLS.registerCircuit, verifier.MsgRegisterCircuitResponse).circuitId };
  }

  async bond(amount: Amount | Amount[]): Promise<TxResult> {
    const coins = (Array.isArray(amount) ? amount : [amount]).map((a) => toCoin(a));
    return ProofbookClient.result(await this.execute([{ typeUrl: TYPE_URLS.bond, value: bond.MsgBond.fromPartial({ prover: this.address, amount: coins }) }]));
  }

  async unbond(amount: Amount | Amount[]): Promise<TxResult & { unbondingId: bigint; completionHeight: bigint }> {
    const coins = (Array.isArray(amount) ? amount : [amount]).map((a) => toCoin(a));
    const r = await this.execute([{ typeUrl: TYPE_URLS.unbond, value: bond.MsgUnbond.fromPartial({ prover: this.address, amount: coins }) }]);
    const res = ProofbookClient.response(r, TYPE_URLS.unbond, bond.MsgUnbondResponse);
    return { ...ProofbookClient.result(r), unbondingId: res.unbondingId, completionHeight: res.completionHeight };
  }

  /** expiryHeight defaults to `lifetimeBlocks` (default 100,000) after the current height. */
  async postAsk(a: { circuitId: string; price: Amount; capacity?: bigint; expiryHeight?: bigint; lifetimeBlocks?: bigint }): Promise<TxResult & { askId: bigint }> {
    const feeDenom = (await this.params()).market.feeDenom;
    const expiryHeight = a.expiryHeight ?? (await this.height()) + (a.lifetimeBlocks ?? 100_000n);
    const value = market.MsgPostAsk.fromPartial({
      prover: this.address, circuitId: a.circuitId, price: amountString(a.price, feeDenom, 'price'), capacity: a.capacity ?? 1n, expiryHeight,
    });
    const r = await this.execute([{ typeUrl: TYPE_URLS.postAsk, value }]);
    return { ...ProofbookClient.result(r), askId: ProofbookClient.response(r, TYPE_URLS.postAsk, market.MsgPostAskResponse).askId };
  }

  async cancelAsk(askId: bigint): Promise<TxResult> {
    return ProofbookClient.result(await this.execute([{ typeUrl: TYPE_URLS.cancelAsk, value: market.MsgCancelAsk.fromPartial({ prover: this.address, askId }) }]));
  }

  async submitRequest(q: SubmitRequestInput): Promise<TxResult & { requestId: bigint; expectedPublicSignals: string[] }> {
    const feeDenom = (await this.params()).market.feeDenom;
    let inputInline = new Uint8Array(0);
    if (q.input instanceof Uint8Array) inputInline = Uint8Array.from(q.input);
    else if (q.input !== undefined) inputInline = toUtf8(JSON.stringify(q.input));
    if (inputInline.length === 0 && !q.inputUri) throw new Error('submitRequest: give `input` (inline) or `inputUri`');
    const maxFee = amountString(q.maxFee, feeDenom, 'maxFee');
    let expected = (q.expectedPublicSignals ?? []).map(String);
    if (expected.length === 0) {
      if (inputInline.length === 0) throw new Error('submitRequest: with `inputUri` and no inline `input`, give `expectedPublicSignals` (the public signals the proof must have)');
      expected = (await this.publicSignalsFor(q.circuitId, inputInline, this.opts.artifactDirs)).map(String);
    }
    const expiryHeight = q.expiryHeight ?? (await this.height()) + (q.lifetimeBlocks ?? 200n);
    const value = market.MsgSubmitRequest.fromPartial({
      requester: this.address, circuitId: q.circuitId, inputInline, inputUri: q.inputUri ?? '', inputSha256: q.inputSha256 ?? '',
      expectedPublicSignals: expected,
      minFee: q.minFee === undefined ? maxFee : amountString(q.minFee, feeDenom, 'minFee'), maxFee,
      rampBlocks: q.rampBlocks ?? 0n, provingWindow: q.provingWindow, expiryHeight, fallbackAfterBlocks: q.fallbackAfterBlocks === 'auto' ? await this.suggestedPatience(q.circuitId, q.provingWindow) : q.fallbackAfterBlocks ?? 0n,
      minCollateral: q.minCollateral === undefined ? '0' : amountString(q.minCollateral, (await this.params()).market.collateralDenom, 'minCollateral'),
    });
    const r = await this.execute([{ typeUrl: TYPE_URLS.submitRequest, value }]);
    return {
      ...ProofbookClient.result(r),
      requestId: ProofbookClient.response(r, TYPE_URLS.submitRequest, market.MsgSubmitRequestResponse).requestId,
      expectedPublicSignals: expected,
    };
  }


  async cancelRequest(requestId: bigint): Promise<TxResult> {
    return ProofbookClient.result(await this.execute([{ typeUrl: TYPE_URLS.cancelRequest, value: market.MsgCancelRequest.fromPartial({ requester: this.address, requestId }) }]));
  }

  /**
   * Delivers a proof for request `requestId`. `proof`: a snarkjs proof.json object, a decoded Groth16Proof, or the
   * canonical 256-byte encoding. For a request assigned to this account it is one MsgSubmitProof. For a request in the
   * permissionless fallback (or OPEN, or assigned to another prover, past the requester's patience) it is commit-reveal (docs/protocol.md "The fallback path"): the reveal is simulated first
   * (so an ineligible sender or wrong signals fail before any deposit), then MsgCommitFallbackProof (unless this account
   * already holds a matching commitment), then the MsgSubmitProof reveal right after, in a later block (every live
   * commitment may reveal in its own window); `commit` says which. The first valid reveal delivers the proof; when an
   * earlier commitment is still in its window the payment is held (`paid` 0) and `payout` says until which height it
   * may move to that commitment (the payment settles then, to this account if no earlier commitment reveals).
   */
  async submitProof(requestId: bigint, proof: unknown, publicSignals: readonly (string | bigint)[]): Promise<TxResult & { paid: bigint; commit?: { commitId: bigint; revealUntilHeight: bigint; height: number; price: bigint }; payout?: { payee: string; height: bigint } }> {
    const bytes = toProofBytes(proof);
    const value = market.MsgSubmitProof.fromPartial({ prover: this.address, requestId, proof: Uint8Array.from(bytes), publicSignals: publicSignals.map(String) });
    let commit: { commitId: bigint; revealUntilHeight: bigint; height: number; price: bigint } | undefined;
    const q = await this.request(requestId).catch(() => undefined);
    const r = q?.request;
    const mine = r !== undefined && r.status === market.RequestStatus.REQUEST_STATUS_ASSIGNED && r.assignment?.prover === this.address;
    // FALLBACK, or OPEN / ASSIGNED to another prover past the requester's patience (a race): commit–reveal
    const live = r !== undefined && (r.status === market.RequestStatus.REQUEST_STATUS_FALLBACK || r.status === market.RequestStatus.REQUEST_STATUS_OPEN || r.status === market.RequestStatus.REQUEST_STATUS_ASSIGNED);
    if (!mine && live) {
      const want = fallbackCommitment(requestId, bytes, publicSignals, this.address);
      const held = q!.fallbackCommits.find((c) => c.prover === this.address && bytesEqual(c.commitment, want));
      if (held === undefined) {
        await this.simulateExpecting([{ typeUrl: TYPE_URLS.submitProof, value }], 21); // 21: no commitment yet (the only error expected before committing)
        commit = await this.commitFallbackProof(requestId, bytes, publicSignals);
      }
      // execute returned once the commitment was in a block: the reveal goes into a later one
    }
    const res = await this.execute([{ typeUrl: TYPE_URLS.submitProof, value }]);
    const paid = ProofbookClient.response(res, TYPE_URLS.submitProof, market.MsgSubmitProofResponse).paid;
    let payout: { payee: string; height: bigint } | undefined;
    if (!mine) {
      // a fallback delivery: is its payment held for an earlier commitment's window?
      const after = (await this.request(requestId).catch(() => undefined))?.request;
      if (after !== undefined && (after.fallbackPayeeCommitId ?? 0n) > 0n) payout = { payee: after.fallbackPayee, height: after.fallbackPayoutHeight };
    }
    return { ...ProofbookClient.result(res), paid: paid === '' ? 0n : BigInt(paid), ...(commit ? { commit } : {}), ...(payout ? { payout } : {}) };
  }

  /**
   * MsgCommitFallbackProof for `proof` (see submitProof): takes params.fallback_commit_deposit until the reveal; `price`
   * is the fallback fee the commitment locked (the reveal is paid it, less the protocol fee, plus the bounty).
   */
  async commitFallbackProof(requestId: bigint, proof: unknown, publicSignals: readonly (string | bigint)[]): Promise<TxResult & { commitId: bigint; revealUntilHeight: bigint; price: bigint }> {
    const commitment = fallbackCommitment(requestId, toProofBytes(proof), publicSignals, this.address);
    const r = await this.execute([{ typeUrl: TYPE_URLS.commitFallbackProof, value: market.MsgCommitFallbackProof.fromPartial({ prover: this.address, requestId, commitment }) }]);
    const res = ProofbookClient.response(r, TYPE_URLS.commitFallbackProof, market.MsgCommitFallbackProofResponse);
    return { ...ProofbookClient.result(r), commitId: res.commitId, revealUntilHeight: res.revealUntilHeight, price: res.price === '' ? 0n : BigInt(res.price) };
  }

  /** Simulates `msgs`; passes when they would succeed or fail with market error `okCode`, throws ProofbookTxError otherwise. */
  private async simulateExpecting(msgs: EncodeObject[], okCode: number): Promise<void> {
    const { GasPrice, calculateFee } = await import('@cosmjs/stargate');
    const { sequence } = await this.signing.getSequence(this.address);
    try {
      await simulateGas(this.comet, this.signing.registry, { pubkey: this.pubkey, sequence }, msgs, '', calculateFee(400_000, GasPrice.fromString(this.opts.gasPrice ?? DEFAULT_GAS_PRICE)).amount);
    } catch (e) {
      if (e instanceof SimulationError) {
        if (e.codespace === 'market' && e.code === okCode) return;
        throw new ProofbookTxError(e.code, e.codespace, e.log, '');
      }
      throw e;
    }
  }

  /** In the accept phase: hand the assignment back for free (paid the decline fee); see docs/protocol.md. */
  async decline(requestId: bigint, reason = ''): Promise<TxResult & { feePaid: bigint }> {
    const r = await this.execute([{ typeUrl: TYPE_URLS.declineAssignment, value: market.MsgDeclineAssignment.fromPartial({ prover: this.address, requestId, reason }) }]);
    const fee = ProofbookClient.response(r, TYPE_URLS.declineAssignment, market.MsgDeclineAssignmentResponse).feePaid;
    return { ...ProofbookClient.result(r), feePaid: fee === '' ? 0n : BigInt(fee) };
  }

  async release(requestId: bigint): Promise<TxResult & { slashed: bigint }> {
    const r = await this.execute([{ typeUrl: TYPE_URLS.releaseAssignment, value: market.MsgReleaseAssignment.fromPartial({ prover: this.address, requestId }) }]);
    const slashed = ProofbookClient.response(r, TYPE_URLS.releaseAssignment, market.MsgReleaseAssignmentResponse).slashed;
    return { ...ProofbookClient.result(r), slashed: slashed === '' ? 0n : BigInt(slashed) };
  }
}
