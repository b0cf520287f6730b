/**
 * The market keeper: proof requests with escrowed, ramping fees; prover asks; the per-block auction
 * (modules/market/matching.ts clearCircuit); proofs; deadlines, slashing and reputation. See docs/protocol.md.
 *
 * Every mutating message handler checks first and writes after; a thrown AppError fails the tx and the tx pipeline
 * drops all of the message's writes. endBlock runs each step (one deadline, one expiry, one match) in its own cache,
 * so one failing step (a bug) never discards the rest of the block's market work.
 */
import type { Context } from '../../src/framework/context.js';
import { ErrInvalidAddress } from '../../src/framework/errors.js';
import type { BankKeeper } from '../bank/keeper.js';
import type { BondKeeper } from '../bond/keeper.js';
import type { VerifierKeeper } from '../verifier/keeper.js';
import { parseAddress, type Address } from '../../src/crypto/address.js';
import { CacheKV } from '../../src/store/cache.js';
import { iteratePrefix, keyToU64, u64Key, type KV } from '../../src/store/kv.js';
import { R } from '../../src/zk/groth16.js';
import {
  Ask,
  FallbackCommit,
  MsgPostAsk,
  MsgSubmitRequest,
  Params,
  Reputation,
  Request,
  RequestStatus,
  type Assignment,
} from '../../src/gen/proofbook/market/v1/market.js';
import { addAskCount, askCount, circuitsWithDemand, evictionCandidate } from './ask-cap.js';
import { admitted, askStanding, cheapestLiveAsk, feeBands, feeCeiling, leastLock, ProverView, requestsInBands, type BandStats, type FeeBand } from './auction-read.js';
import { rampedFee } from './fee-ramp.js';
import { clearCircuit, clearFromIndex, collateralFor, type IndexedRequest, type MatchAsk, type MatchParams } from './matching.js';
import { preverifyItem, type ProofMsgView } from './preverify.js';
import { chargeHolding, settleHolding } from './holding.js';
import { assignableAt, bountyPlus, collateralCap, declineFee, fallbackOpen, isAssignee, isExcluded, fallbackOpensAt, overdueHeight, releaseSlash, splitSlash, viaFallback } from './penalties.js';
import { recentWins, recordWinner } from './recent-winners.js';
import { adjustSpreadPenalty, spreadPenaltyInForce } from './spread-penalty.js';
import { circuitPace, nextAverageMilli, recordPace } from './circuit-pace.js';
import {
  ASK_BY_EXPIRY_PREFIX,
  BPS,
  BY_DEADLINE_PREFIX,
  DEFAULT_PARAMS,
  EMPTY,
  ESCROW_ACCOUNT,
  MARKET_STORE_PREFIX,
  MAX_ASK_CAPACITY,
  askByPriceKey,
  askWithRoomKey,
  askWithRoomPrefix,
  MAX_SIGNALS,
  MAX_URI_LENGTH,
  NEXT_ASK_ID_KEY,
  NEXT_REQUEST_ID_KEY,
  OPEN_BY_EXPIRY_PREFIX,
  PARAMS_KEY,
  STATS_PREFIX,
  TREASURY_ACCOUNT,
  ErrDeadlinePassed,
  ErrInvalidAsk,
  ErrInvalidProof,
  ErrInvalidRequestParams,
  ErrInvalidSignals,
  ErrJailed,
  ErrNotAskOwner,
  ErrNotEligible,
  ErrNotInAcceptPhase,
  ErrNotAssignedProver,
  ErrNotBonded,
  ErrNotRequester,
  ErrSignalsMismatch,
  ErrTooManyAsks,
  ErrAskUnderfunded,
  ErrTooManyRequests,
  ErrUnknownAsk,
  ErrUnknownCircuit,
  ErrUnknownRequest,
  ErrWrongStatus,
  activeCountKey,
  askByCircuitKey,
  askByCircuitPrefix,
  askByExpiryKey,
  askByProverKey,
  askByProverPrefix,
  askKey,
  byDeadlineKey,
  byRequesterKey,
  byStatusKey,
  byStatusPrefix,
  byCircuitStatusKey,
  circIdFromKey,
  inputKey,
  clearingKey,
  decodeStats,
  decodeText,
  decodeU64,
  emptyStats,
  encodeStats,
  encodeText,
  encodeU64,
  openByCircuitKey,
  openByExpiryKey,
  encodeOpenEntry,
  openEntryOf,
  feeMoves,
  rampingByCircuitKey,
  ASK_BY_CIRCUIT_PREFIX,
  reputationKey,
  reputationPrefix,
  requestKey,
  statsKey,
  trailingId,
  type StatsCounters,
  SPREAD_WINDOW,
} from './keys.js';
import { isFinal, pruneSettled, scheduleSettled } from './retention.js';
import { addCommit, clearForfeits, commitKey, deleteCommit, dueCommits, earlierCommits, forfeitCommit, forfeitsOf, isForfeited, markRevealed, mayReveal, payoutHeightOf, payoutPending, refundCommits, revealableCommit } from './fallback.js';
import { fallbackReference, fallbackStart, rampedFallbackFee } from './fallback-fee.js';
import { windowClosed, type ProposerHistoryReader } from './censorship.js';
import { isHex64 } from '../../src/types/hex.js';

export { RequestStatus };

const S = RequestStatus;

export interface MarketKeeper {
  params(ctx: Context): Params;
  request(ctx: Context, id: bigint): Request | undefined;
  ask(ctx: Context, id: bigint): Ask | undefined;
  /** The request's fee at `height` (see currentFee). */
  currentFee(req: Request, height: bigint): bigint;
  reputation(ctx: Context, prover: Address, circuitId: string): Reputation;
}

// ---- pure helpers -----------------------------------------------------------------------------------------------

const UINT_RE = /^(0|[1-9][0-9]*)$/;

/** Strict non-negative decimal integer (no sign, no leading zeros); `what` names the field in the error. */
export function parseUint(s: string, what: string, err = ErrInvalidRequestParams): bigint {
  if (typeof s !== 'string' || !UINT_RE.test(s) || s.length > 78) throw err(`${what} must be a non-negative decimal integer, got ${JSON.stringify(s)}`);
  return BigInt(s);
}

/** Decimal field elements (< r), at most 256 of them. */
export function parseSignals(list: readonly string[], what: string): bigint[] {
  if (list.length > MAX_SIGNALS) throw ErrInvalidSignals(`${what}: at most ${MAX_SIGNALS} signals`);
  return list.map((s, i) => {
    const v = parseUint(s, `${what}[${i}]`, ErrInvalidSignals);
    if (v >= R) throw ErrInvalidSignals(`${what}[${i}] is not a field element (must be < r)`);
    return v;
  });
}

/**
 * A proof pays only for the statement its request committed to: its public signals must equal the request's
 * expected_public_signals, entry by entry. Every request made since the commitment became mandatory has them; a
 * record without them (imported from an older genesis) can never be paid, so no unbound proof is ever accepted.
 */
export function requireCommittedSignals(r: Request, signals: readonly bigint[]): void {
  const want = r.expectedPublicSignals;
  const same = want.length > 0 && want.length === signals.length && want.every((s, i) => BigInt(s) === signals[i]);
  if (!same) throw ErrSignalsMismatch(`request ${r.id} committed to public signals [${want.join(', ')}], the proof has [${signals.join(', ')}]`);
}

export { rampedFee };

/** Deterministic matching tie-break score from a reputation record. */
export function reputationScore(r: Reputation): bigint {
  return r.fulfilled * 1000n - r.missed * 3000n - r.released * 1000n;
}

export function addr(s: string, field: string): Address {
  if (!s) throw ErrInvalidAddress(`${field} cannot be empty`);
  try {
    return parseAddress(s);
  } catch (e) {
    throw ErrInvalidAddress(`invalid ${field}: ${(e as Error).message}`);
  }
}

/** Stateless checks of MsgSubmitRequest (validateBasic). */
export function validateSubmitRequest(m: MsgSubmitRequest): void {
  addr(m.requester, 'requester');
  if (!isHex64(m.circuitId)) throw ErrInvalidRequestParams(`circuit_id must be 64 lowercase hex characters, got ${JSON.stringify(m.circuitId)}`);
  const inline = m.inputInline.length > 0;
  const uri = m.inputUri.length > 0 || m.inputSha256.length > 0;
  if (inline === uri) throw ErrInvalidRequestParams('give the input either inline (input_inline) or by reference (input_uri + input_sha256), not both and not neither');
  if (uri) {
    if (m.inputUri.length === 0 || m.inputUri.length > MAX_URI_LENGTH || !/^[\x21-\x7e]+$/.test(m.inputUri)) {
      throw ErrInvalidRequestParams(`input_uri must be 1-${MAX_URI_LENGTH} printable ASCII characters without spaces`);
    }
    if (!isHex64(m.inputSha256)) throw ErrInvalidRequestParams('input_sha256 must be 64 lowercase hex characters');
  }
  // The proof is bound to its request only through these: a proof pays only if its public signals equal them, so a
  // proof of another statement (another request's, or one copied from the mempool) can never be paid here.
  if (m.expectedPublicSignals.length === 0) {
    throw ErrInvalidRequestParams(
      'expected_public_signals is required: commit to the full public signals the proof must have (the SDK\'s submitRequest and `proofbook request prove` compute them from the input with the circuit\'s witness generator)',
    );
  }
  parseSignals(m.expectedPublicSignals, 'expected_public_signals');
  const maxFee = parseUint(m.maxFee, 'max_fee');
  const minFee = m.minFee === '' ? maxFee : parseUint(m.minFee, 'min_fee');
  if (minFee > maxFee) throw ErrInvalidRequestParams(`min_fee ${minFee} is above max_fee ${maxFee}`);
  if (m.minCollateral !== '') parseUint(m.minCollateral, 'min_collateral');
  if (m.provingWindow === 0n) throw ErrInvalidRequestParams('proving_window must be positive');
  if (m.expiryHeight === 0n) throw ErrInvalidRequestParams('expiry_height must be positive');
}

export function validatePostAsk(m: MsgPostAsk): void {
  addr(m.prover, 'prover');
  if (!isHex64(m.circuitId)) throw ErrInvalidAsk(`circuit_id must be 64 lowercase hex characters, got ${JSON.stringify(m.circuitId)}`);
  const price = parseUint(m.price, 'price', ErrInvalidAsk);
  if (price === 0n) throw ErrInvalidAsk('price must be positive');
  if (m.capacity < 1n || m.capacity > MAX_ASK_CAPACITY) throw ErrInvalidAsk(`capacity must be 1..${MAX_ASK_CAPACITY}, got ${m.capacity}`);
  if (m.expiryHeight === 0n) throw ErrInvalidAsk('expiry_height must be positive');
}

function statusName(s: RequestStatus): string {
  switch (s) {
    case S.REQUEST_STATUS_OPEN: return 'OPEN';
    case S.REQUEST_STATUS_ASSIGNED: return 'ASSIGNED';
    case S.REQUEST_STATUS_FULFILLED: return 'FULFILLED';
    case S.REQUEST_STATUS_CANCELLED: return 'CANCELLED';
    case S.REQUEST_STATUS_EXPIRED: return 'EXPIRED';
    case S.REQUEST_STATUS_FALLBACK: return 'FALLBACK';
    default: return 'UNSPECIFIED';
  }
}
export { statusName };

/** Why a prover whose fallback commitment expired unrevealed is refused on that request (fallback.ts). */
const forfeitedMessage = (prover: string, id: bigint): string =>
  `${prover} let its fallback commitment on request ${id} expire unrevealed and may not commit to, fulfil or be assigned it again`;

const isLive = (s: RequestStatus): boolean => s === S.REQUEST_STATUS_OPEN || s === S.REQUEST_STATUS_ASSIGNED || s === S.REQUEST_STATUS_FALLBACK;

// ---- keeper -----------------------------------------------------------------------------------------------------

/**
 * Which auction rules the keeper runs (docs/mechanism.md). The chain runs DEFAULT_MECHANISM; the simulator also runs
 * MECHANISM_V1 (the rules of mechanism v1) and the rejected alternatives, through the same keeper, to compare them.
 */
export interface MarketMechanism {
  price: 'v1' | 'v2';
  allocation: 'v1' | 'lottery' | 'stakecap' | 'band' | 'sharecap' | 'spread';
  /**
   * Band and spread rules: width above the greedy price, bps (default 1000 for the band, 5000 for spread; the spread's
   * penalty is a market param). Share cap: most share of current load, bps (default 2500).
   */
  bps?: bigint;
  /**
   * Whether a FALLBACK request is still auctioned (to non-excluded provers) while its exclusion list has room. Default
   * true (mechanism v2 before the censorship targets); the chain runs false (DEFAULT_MECHANISM). See fallbackAuctioned.
   */
  reauctionAfterMiss?: boolean;
}
export const MECHANISM_V1: MarketMechanism = { price: 'v1', allocation: 'v1' };
/**
 * The chain's rules: price rule v2, the spread allocation (each request to the ask within 50 % above the greedy price
 * with the least price + params.spread_penalty x its prover's share of the last 128 assignments: docs/mechanism.md
 * "The spread rule"), and a request that missed its deadline is not auctioned again:
 * it waits in the permissionless FALLBACK (first valid proof from a bonded, non-excluded prover wins), so a holding
 * coalition cannot win it back (docs/mechanism.md "Censorship").
 */
export const DEFAULT_MECHANISM: MarketMechanism = { price: 'v2', allocation: 'spread', reauctionAfterMiss: false };

export class MarketKeeperImpl implements MarketKeeper {
  constructor(
    readonly bank: BankKeeper,
    readonly bond: BondKeeper,
    readonly verifier: VerifierKeeper,
    readonly mechanism: MarketMechanism = DEFAULT_MECHANISM,
    /** Recent proposers (the staking module), for the censorship grace on deadlines (censorship.ts). */
    readonly proposers?: ProposerHistoryReader,
  ) {}

  store(ctx: Context): KV {
    return ctx.store(MARKET_STORE_PREFIX);
  }

  params(ctx: Context): Params {
    const v = this.store(ctx).get(PARAMS_KEY);
    return v === undefined ? DEFAULT_PARAMS : Params.decode(v);
  }

  setParams(ctx: Context, p: Params): void {
    this.store(ctx).set(PARAMS_KEY, Params.encode(p).finish());
  }

  private nextId(ctx: Context, key: string): bigint {
    const kv = this.store(ctx);
    const v = kv.get(key);
    const id = v === undefined ? 1n : decodeU64(v);
    kv.set(key, encodeU64(id + 1n));
    return id;
  }

  peekNextId(ctx: Context, key: 'n' | 'N'): bigint {
    const v = this.store(ctx).get(key);
    return v === undefined ? 1n : decodeU64(v);
  }

  setNextId(ctx: Context, key: 'n' | 'N', id: bigint): void {
    this.store(ctx).set(key, encodeU64(id));
  }

  /** The stored record; `input_inline` is empty here (see requestWithInput). */
  request(ctx: Context, id: bigint): Request | undefined {
    const v = this.store(ctx).get(requestKey(id));
    return v === undefined ? undefined : Request.decode(v);
  }

  /** The record with its inline input put back (queries, genesis export). */
  requestWithInput(ctx: Context, id: bigint): Request | undefined {
    const r = this.request(ctx, id);
    return r === undefined ? undefined : this.withInput(ctx, r);
  }

  /** Puts a decoded record's inline input back into it. */
  withInput(ctx: Context, r: Request): Request {
    const input = this.store(ctx).get(inputKey(r.id));
    if (input !== undefined) r.inputInline = Buffer.from(input);
    return r;
  }

  ask(ctx: Context, id: bigint): Ask | undefined {
    const v = this.store(ctx).get(askKey(id));
    return v === undefined ? undefined : Ask.decode(v);
  }

  /** The ramped fee, never more than the escrow left (decline fees are paid out of it). */
  currentFee(req: Request, height: bigint): bigint {
    const fee = rampedFee(BigInt(req.minFee), BigInt(req.maxFee), req.rampBlocks, req.submittedHeight, height);
    const escrow = BigInt(req.escrow);
    return fee < escrow ? fee : escrow;
  }

  /**
   * What a fallback commitment made at height `h` locks (fallback-fee.ts): from the request's reference price up to its
   * current fee over params.fallback_ramp_blocks. A FALLBACK request uses the reference fixed when it entered; an OPEN
   * or ASSIGNED one past its patience, the higher of its assignment's price and the circuit's last clearing price now
   * (neither: the current fee).
   */
  fallbackFee(ctx: Context, r: Request, h: bigint): bigint {
    const current = this.currentFee(r, h);
    const maxFee = BigInt(r.maxFee);
    let ref: bigint;
    if ((r.fallbackReferenceFee ?? '') !== '') {
      ref = BigInt(r.fallbackReferenceFee);
    } else {
      // OPEN or ASSIGNED past the patience: the live assignment's price (the requester agreed to it) or the circuit's
      // last clearing price, whichever is higher
      const beforeFallback = r.status === S.REQUEST_STATUS_OPEN || r.status === S.REQUEST_STATUS_ASSIGNED;
      const last = beforeFallback ? this.lastClearing(ctx, r.circuitId)?.price : undefined;
      const assigned = r.status === S.REQUEST_STATUS_ASSIGNED && r.assignment ? BigInt(r.assignment.price) : undefined;
      if (last === undefined && assigned === undefined) return current; // no market reference (or a FALLBACK record from before the field)
      ref = fallbackReference(maxFee, assigned, last);
    }
    return rampedFallbackFee(current, maxFee, ref, fallbackStart(r), h, this.params(ctx).fallbackRampBlocks);
  }

  reputation(ctx: Context, prover: Address, circuitId: string): Reputation {
    const v = this.store(ctx).get(reputationKey(prover, circuitId));
    return v === undefined
      ? { prover, circuitId, fulfilled: 0n, missed: 0n, released: 0n, avgBlocksToProofMilli: 0n, declined: 0n }
      : Reputation.decode(v);
  }

  reputationsOf(ctx: Context, prover: Address): Reputation[] {
    const out: Reputation[] = [];
    for (const [, v] of iteratePrefix(this.store(ctx), reputationPrefix(prover))) out.push(Reputation.decode(v));
    return out;
  }

  setReputation(ctx: Context, r: Reputation): void {
    this.store(ctx).set(reputationKey(r.prover as Address, r.circuitId), Reputation.encode(r).finish());
  }

  private activeCount(ctx: Context, requester: Address): bigint {
    const v = this.store(ctx).get(activeCountKey(requester));
    return v === undefined ? 0n : decodeU64(v);
  }

  private addActiveCount(ctx: Context, requester: Address, delta: bigint): void {
    const n = this.activeCount(ctx, requester) + delta;
    const kv = this.store(ctx);
    if (n <= 0n) kv.delete(activeCountKey(requester));
    else kv.set(activeCountKey(requester), encodeU64(n));
  }

  // ---- record + index maintenance ------------------------------------------------------------------------------

  /**
   * Whether a FALLBACK request is auctioned: never under the chain's rules (reauctionAfterMiss false: only the
   * permissionless path serves it); with reauctionAfterMiss, while its exclusion list has room.
   */
  fallbackAuctioned(ctx: Context, r: Request): boolean {
    if (this.mechanism.reauctionAfterMiss === false) return false;
    return BigInt(r.excludedProvers.length) < this.params(ctx).maxFailedAssignments;
  }

  /**
   * Whether `r` sits in the auction's fee index: OPEN, or FALLBACK with room in its exclusion list, and no live
   * fallback commitment (the earliest committer holds it for its reveal window: fallback.ts).
   */
  auctioned(ctx: Context, r: Request): boolean {
    if ((r.fallbackCommits ?? 0) > 0) return false;
    return r.status === S.REQUEST_STATUS_OPEN || (r.status === S.REQUEST_STATUS_FALLBACK && this.fallbackAuctioned(ctx, r));
  }

  /** Index entries that depend on the request's status (all but the permanent by-requester entry). */
  private statusIndexKeys(ctx: Context, r: Request): string[] {
    const keys = [byStatusKey(r.status, r.id), byCircuitStatusKey(r.circuitId, r.status, r.id)];
    if (this.auctioned(ctx, r)) {
      const e = openEntryOf(r);
      keys.push(openByCircuitKey(r.circuitId, e.maxEff, r.id));
      if (feeMoves(e)) keys.push(rampingByCircuitKey(r.circuitId, e.lowFee, r.id));
    }
    if (r.status === S.REQUEST_STATUS_OPEN || r.status === S.REQUEST_STATUS_FALLBACK) {
      // FALLBACK: open to every eligible prover; still auctioned (to non-excluded provers) while the exclusion list has room
      keys.push(openByExpiryKey(r.expiryHeight, r.id));
    } else if (r.status === S.REQUEST_STATUS_ASSIGNED && r.assignment) {
      keys.push(byDeadlineKey(r.assignment.deadlineHeight, r.id));
    }
    return keys;
  }

  /** Writes the status-dependent index entries of `r`; the open-by-circuit entry carries the fee-ramp terms. */
  private setStatusIndexes(ctx: Context, kv: KV, r: Request): void {
    for (const k of this.statusIndexKeys(ctx, r)) kv.set(k, EMPTY);
    if (this.auctioned(ctx, r)) {
      // the fee terms, escrow clamp included (a decline lowers the escrow and rewrites these through updateRequest)
      const e = openEntryOf(r);
      const v = encodeOpenEntry(e);
      kv.set(openByCircuitKey(r.circuitId, e.maxEff, r.id), v);
      if (feeMoves(e)) kv.set(rampingByCircuitKey(r.circuitId, e.lowFee, r.id), v);
    }
  }

  /** Writes a new request with all its index entries. */
  putNewRequest(ctx: Context, r: Request): void {
    const kv = this.store(ctx);
    if (r.inputInline.length > 0) kv.set(inputKey(r.id), new Uint8Array(r.inputInline));
    kv.set(requestKey(r.id), Request.encode({ ...r, inputInline: Buffer.alloc(0) }).finish());
    kv.set(byRequesterKey(r.requester as Address, r.id), EMPTY);
    this.setStatusIndexes(ctx, kv, r);
    if (isLive(r.status)) this.addActiveCount(ctx, r.requester as Address, 1n);
  }

  /** Moves `before` (the stored record) to `after`, keeping every index in step. */
  updateRequest(ctx: Context, before: Request, after: Request): void {
    const kv = this.store(ctx);
    // A request that ends (fulfilled, expired, cancelled) refunds every live fallback commitment (fallback.ts), unless
    // it was delivered through the fallback with its payment held (the caller keeps the earlier ones and the payee's).
    if (isLive(before.status) && !isLive(after.status) && (before.fallbackCommits ?? 0) > 0 && !payoutPending(after)) {
      refundCommits(ctx, kv, this.bank, this.params(ctx).feeDenom, before.id);
      after.fallbackCommits = 0;
    }
    // ... and drops its forfeit markers (nobody can commit to it any more); the count stays in the record
    if (isLive(before.status) && !isLive(after.status) && (before.fallbackForfeits ?? 0) > 0) clearForfeits(kv, before.id);
    // Leaving the live states settles the holding deposit (holding.ts): unused open blocks refunded, the rest kept.
    if (isLive(before.status) && !isLive(after.status)) settleHolding(ctx, this.bank, this.params(ctx), ESCROW_ACCOUNT, after, ctx.height);
    for (const k of this.statusIndexKeys(ctx, before)) kv.delete(k);
    this.setStatusIndexes(ctx, kv, after);
    kv.set(requestKey(after.id), Request.encode(after).finish());
    if (isLive(before.status) && !isLive(after.status)) this.addActiveCount(ctx, after.requester as Address, -1n);
    // retention.ts; a delivery whose fallback payment is held is scheduled when it settles (settleFallbackPayout)
    if (!isFinal(before.status) && isFinal(after.status) && !payoutPending(after)) scheduleSettled(kv, ctx.height, after.id);
  }

  putNewAsk(ctx: Context, a: Ask): void {
    const kv = this.store(ctx);
    kv.set(askKey(a.id), Ask.encode(a).finish());
    kv.set(askByProverKey(a.prover as Address, a.id), EMPTY);
    kv.set(askByCircuitKey(a.circuitId, a.id), EMPTY);
    kv.set(askByExpiryKey(a.expiryHeight, a.id), EMPTY);
    kv.set(askByPriceKey(a.circuitId, BigInt(a.price), a.id), EMPTY);
    if (a.active < a.capacity) kv.set(askWithRoomKey(a.circuitId, BigInt(a.price), a.id), EMPTY);
    addAskCount(kv, a.circuitId, 1n);
  }

  private saveAsk(ctx: Context, before: Ask, after: Ask): void {
    const kv = this.store(ctx);
    if (before.expiryHeight !== after.expiryHeight) {
      kv.delete(askByExpiryKey(before.expiryHeight, before.id));
      kv.set(askByExpiryKey(after.expiryHeight, after.id), EMPTY);
    }
    const room = askWithRoomKey(after.circuitId, BigInt(after.price), after.id);
    if (after.active < after.capacity) kv.set(room, EMPTY);
    else kv.delete(room);
    kv.set(askKey(after.id), Ask.encode(after).finish());
  }

  private deleteAsk(ctx: Context, a: Ask): void {
    const kv = this.store(ctx);
    kv.delete(askKey(a.id));
    kv.delete(askByProverKey(a.prover as Address, a.id));
    kv.delete(askByCircuitKey(a.circuitId, a.id));
    kv.delete(askByExpiryKey(a.expiryHeight, a.id));
    kv.delete(askByPriceKey(a.circuitId, BigInt(a.price), a.id));
    kv.delete(askWithRoomKey(a.circuitId, BigInt(a.price), a.id));
    addAskCount(kv, a.circuitId, -1n);
    ctx.emit('proofbook.market.ask_removed', [['ask_id', a.id.toString()], ['prover', a.prover], ['circuit_id', a.circuitId]]);
  }

  /** ask.active -= 1; an expired ask that holds nothing any more is removed. */
  private releaseAskSlot(ctx: Context, askId: bigint): void {
    const a = this.ask(ctx, askId);
    if (a === undefined) return;
    const after = { ...a, active: a.active > 0n ? a.active - 1n : 0n };
    if (after.active === 0n && after.expiryHeight <= ctx.height) this.deleteAsk(ctx, a);
    else this.saveAsk(ctx, a, after);
  }

  private bumpStats(ctx: Context, circuitId: string, f: (s: StatsCounters) => void): void {
    const kv = this.store(ctx);
    const k = statsKey(ctx.height, circuitId);
    const v = kv.get(k);
    const s = v === undefined ? emptyStats() : decodeStats(v);
    f(s);
    kv.set(k, encodeStats(s));
  }

  private history(r: Request, height: bigint, event: string, prover = '', amount = '', compensation = ''): void {
    r.history = [...r.history, { height, status: r.status, event, prover, amount, compensation }];
  }

  private refund(ctx: Context, r: Request, amount: bigint): void {
    if (amount > 0n) this.bank.sendFromModule(ctx, ESCROW_ACCOUNT, r.requester as Address, [{ denom: this.params(ctx).feeDenom, amount }]);
  }

  /**
   * Pays `price` out of `r`'s escrow (`escrow`, at least `price`): the price less the protocol fee to `to`, the fee to
   * the treasury, the rest of the escrow back to the requester. The same for an assigned and a fallback delivery.
   */
  private payPrice(ctx: Context, r: Request, to: Address, price: bigint, escrow: bigint): { paid: bigint; fee: bigint } {
    const p = this.params(ctx);
    const fee = (price * p.protocolFeeBps) / BPS;
    const paid = price - fee;
    if (paid > 0n) this.bank.sendFromModule(ctx, ESCROW_ACCOUNT, to, [{ denom: p.feeDenom, amount: paid }]);
    if (fee > 0n) this.bank.moduleToModule(ctx, ESCROW_ACCOUNT, TREASURY_ACCOUNT, [{ denom: p.feeDenom, amount: fee }]);
    this.refund(ctx, r, escrow - price);
    return { paid, fee };
  }

  /** A delivery that took `sample` blocks, in the prover's reputation for the circuit (count, and a 1/8 moving average). */
  private recordFulfilment(ctx: Context, prover: Address, circuitId: string, sample: bigint): void {
    const rep = this.reputation(ctx, prover, circuitId);
    rep.avgBlocksToProofMilli = nextAverageMilli(rep.avgBlocksToProofMilli, rep.fulfilled, sample);
    rep.fulfilled += 1n;
    this.setReputation(ctx, rep);
  }

  /** Pays the request's bounty (slashed collateral held in escrow) to `to`; returns the amount. */
  private payBounty(ctx: Context, r: Request, to: Address): bigint {
    const bounty = r.bounty === '' ? 0n : BigInt(r.bounty);
    if (bounty > 0n) this.bank.sendFromModule(ctx, ESCROW_ACCOUNT, to, [{ denom: this.params(ctx).collateralDenom, amount: bounty }]);
    return bounty;
  }

  /**
   * Slashes `amount` of the prover's locked collateral for request `r`: slash_to_requester_bps to the requester,
   * fallback_bounty_bps into escrow as the request's bounty (returned, to add to r.bounty), the rest burned.
   */
  private slashFor(ctx: Context, prover: Address, r: Request, amount: bigint): { toRequester: bigint; bounty: bigint; burned: bigint } {
    const p = this.params(ctx);
    const parts = splitSlash(p, amount);
    if (parts.bounty > 0n) this.bond.slashLocked(ctx, prover, p.collateralDenom, parts.bounty, this.bank.moduleAccount(ESCROW_ACCOUNT), BPS);
    if (parts.toRequester > 0n) this.bond.slashLocked(ctx, prover, p.collateralDenom, parts.toRequester, r.requester as Address, BPS);
    if (parts.burned > 0n) this.bond.slashLocked(ctx, prover, p.collateralDenom, parts.burned, r.requester as Address, 0n);
    return parts;
  }

  /**
   * After a failed assignment (decline, release, miss) of `prover`: excluded from the request for good; back to
   * OPEN for the next auction, or into the permissionless FALLBACK when `toFallback` (a miss) or once
   * params.max_failed_assignments provers have failed it.
   */
  private afterFailure(ctx: Context, r: Request, prover: Address, toFallback: boolean, extra: Partial<Request>): Request {
    const p = this.params(ctx);
    const excludedProvers = isExcluded(r, prover) ? r.excludedProvers : [...r.excludedProvers, prover];
    const fallback = toFallback || r.fallbackHeight > 0n || BigInt(excludedProvers.length) >= p.maxFailedAssignments;
    const entering = fallback && r.fallbackHeight === 0n;
    // entering the fallback fixes the reference its fee ramps from (fallback-fee.ts): the failed assignment's price or
    // the circuit's last clearing price, whichever is higher
    const reference = entering
      ? fallbackReference(BigInt(r.maxFee), r.assignment ? BigInt(r.assignment.price) : undefined, this.lastClearing(ctx, r.circuitId)?.price).toString()
      : r.fallbackReferenceFee;
    return {
      ...r,
      ...extra,
      assignment: undefined,
      excludedProvers,
      status: fallback ? S.REQUEST_STATUS_FALLBACK : S.REQUEST_STATUS_OPEN,
      fallbackHeight: entering ? ctx.height : r.fallbackHeight,
      fallbackReferenceFee: reference,
    };
  }

  private emitReopened(ctx: Context, after: Request): void {
    if (after.status === S.REQUEST_STATUS_FALLBACK) {
      ctx.emit('proofbook.market.request_fallback', [['request_id', after.id.toString()], ['circuit_id', after.circuitId], ['excluded', after.excludedProvers.join(',')]]);
    } else {
      ctx.emit('proofbook.market.request_reopened', [['request_id', after.id.toString()], ['circuit_id', after.circuitId]]);
    }
  }

  // ---- messages ------------------------------------------------------------------------------------------------

  submitRequest(ctx: Context, m: MsgSubmitRequest): bigint {
    validateSubmitRequest(m);
    const p = this.params(ctx);
    const requester = addr(m.requester, 'requester');
    const circuit = this.verifier.circuit(ctx, m.circuitId);
    if (circuit === undefined) throw ErrUnknownCircuit(`circuit ${m.circuitId} is not registered`);
    if (BigInt(m.inputInline.length) > p.maxInlineInputBytes) {
      throw ErrInvalidRequestParams(`input_inline has ${m.inputInline.length} bytes, params.max_inline_input_bytes is ${p.maxInlineInputBytes}; publish it and pass input_uri + input_sha256`);
    }
    if (m.expectedPublicSignals.length !== circuit.numPublicInputs) {
      throw ErrInvalidRequestParams(`expected_public_signals has ${m.expectedPublicSignals.length} entries, the circuit has ${circuit.numPublicInputs} public signals`);
    }
    const maxFee = BigInt(m.maxFee);
    const minFee = m.minFee === '' ? maxFee : BigInt(m.minFee);
    const floor = BigInt(p.minFee);
    if (maxFee < floor) throw ErrInvalidRequestParams(`max_fee ${maxFee}${p.feeDenom} is below params.min_fee ${floor}${p.feeDenom}`);
    if (m.provingWindow < p.minProvingWindow || m.provingWindow > p.maxProvingWindow) {
      throw ErrInvalidRequestParams(`proving_window ${m.provingWindow} is outside [${p.minProvingWindow}, ${p.maxProvingWindow}]`);
    }
    if (m.expiryHeight <= ctx.height) throw ErrInvalidRequestParams(`expiry_height ${m.expiryHeight} must be above the current height ${ctx.height}`);
    if (m.expiryHeight > ctx.height + p.maxRequestLifetime) {
      throw ErrInvalidRequestParams(`expiry_height ${m.expiryHeight} is more than params.max_request_lifetime (${p.maxRequestLifetime}) blocks after the current height ${ctx.height}`);
    }
    if (m.minCollateral !== '' && BigInt(m.minCollateral) > collateralCap(p, maxFee)) {
      throw ErrInvalidRequestParams(
        `min_collateral ${m.minCollateral} is above params.max_collateral_ratio_bps (${p.maxCollateralRatioBps}) of max_fee ${maxFee}: at most ${collateralCap(p, maxFee)}`,
      );
    }
    const open = this.activeCount(ctx, requester);
    if (open >= p.maxOpenRequestsPerAccount) throw ErrTooManyRequests(`${requester} already has ${open} open or assigned requests (params.max_open_requests_per_account = ${p.maxOpenRequestsPerAccount})`);

    this.bank.sendToModule(ctx, requester, ESCROW_ACCOUNT, [{ denom: p.feeDenom, amount: maxFee }]);
    const id = this.nextId(ctx, NEXT_REQUEST_ID_KEY);
    const r: Request = {
      id,
      requester,
      circuitId: m.circuitId,
      inputInline: m.inputInline,
      inputUri: m.inputUri,
      inputSha256: m.inputSha256,
      expectedPublicSignals: m.expectedPublicSignals,
      minFee: minFee.toString(),
      maxFee: maxFee.toString(),
      rampBlocks: m.rampBlocks,
      provingWindow: m.provingWindow,
      expiryHeight: m.expiryHeight,
      minCollateral: m.minCollateral === '' ? '0' : BigInt(m.minCollateral).toString(),
      submittedHeight: ctx.height,
      status: S.REQUEST_STATUS_OPEN,
      assignment: undefined,
      escrow: maxFee.toString(),
      proof: Buffer.alloc(0),
      publicSignals: [],
      fulfilledHeight: 0n,
      paidPrice: '',
      assignmentsCount: 0,
      history: [],
      excludedProvers: [],
      bounty: '0',
      fallbackAfterBlocks: m.fallbackAfterBlocks ?? 0n, // (callers passing plain objects, e.g. the simulator, may omit it)
      fallbackHeight: 0n,
      declines: 0,
      holdingDeposit: '0',
      holdingBlocks: 0n,
      fallbackCommits: 0,
      fallbackReferenceFee: '',
      fallbackForfeits: 0,
      fallbackPayee: '',
      fallbackPayeeCommitId: 0n,
      fallbackPayoutHeight: 0n,
    };
    this.history(r, ctx.height, 'submitted', '', `${maxFee}${p.feeDenom}`);
    this.putNewRequest(ctx, chargeHolding(ctx, this.bank, p, ESCROW_ACCOUNT, r)); // holding.ts
    ctx.emit('proofbook.market.request_submitted', [
      ['request_id', id.toString()],
      ['requester', requester],
      ['circuit_id', m.circuitId],
      ['min_fee', r.minFee],
      ['max_fee', r.maxFee],
      ['ramp_blocks', r.rampBlocks.toString()],
      ['proving_window', r.provingWindow.toString()],
      ['expiry_height', r.expiryHeight.toString()],
    ]);
    return id;
  }

  private mustRequest(ctx: Context, id: bigint): Request {
    const r = this.request(ctx, id);
    if (r === undefined) throw ErrUnknownRequest(`request ${id} does not exist`);
    return r;
  }

  cancelRequest(ctx: Context, sender: Address, id: bigint): void {
    const r = this.mustRequest(ctx, id);
    if (r.requester !== sender) throw ErrNotRequester(`request ${id} belongs to ${r.requester}`);
    if (r.status !== S.REQUEST_STATUS_OPEN) throw ErrWrongStatus(`request ${id} is ${statusName(r.status)}; only OPEN requests can be cancelled`);
    const escrow = BigInt(r.escrow);
    this.refund(ctx, r, escrow);
    this.payBounty(ctx, r, r.requester as Address);
    const after: Request = { ...r, status: S.REQUEST_STATUS_CANCELLED, escrow: '0', bounty: '0' };
    this.history(after, ctx.height, 'cancelled', '', `${escrow}`);
    this.updateRequest(ctx, r, after);
    ctx.emit('proofbook.market.request_cancelled', [['request_id', id.toString()], ['requester', r.requester], ['refund', escrow.toString()]]);
  }

  postAsk(ctx: Context, m: MsgPostAsk): bigint {
    validatePostAsk(m);
    const p = this.params(ctx);
    const prover = addr(m.prover, 'prover');
    if (this.bond.prover(ctx, prover) === undefined) throw ErrNotBonded(`${prover} has no bond; bond collateral with MsgBond first`);
    if (this.bond.isJailed(ctx, prover)) throw ErrJailed(`${prover} is jailed; unjail first`);
    if (this.verifier.circuit(ctx, m.circuitId) === undefined) throw ErrUnknownCircuit(`circuit ${m.circuitId} is not registered`);
    if (m.expiryHeight <= ctx.height) throw ErrInvalidAsk(`expiry_height ${m.expiryHeight} must be above the current height ${ctx.height}`);
    if (m.expiryHeight > ctx.height + p.maxAskLifetime) {
      throw ErrInvalidAsk(`expiry_height ${m.expiryHeight} is more than params.max_ask_lifetime (${p.maxAskLifetime}) blocks after the current height ${ctx.height}; re-post the ask before it expires instead`);
    }
    const kv = this.store(ctx);
    const view = this.proverView(ctx);
    const me = view.get(prover);
    if (me.asks >= p.maxAsksPerAccount) throw ErrTooManyAsks(`${prover} already has ${me.asks} asks (params.max_asks_per_account = ${p.maxAsksPerAccount})`);
    // Ask admission (ask-cap.ts): free collateral for min_bond_per_ask per ask, this one included, and for the least
    // lock of a request at this price; the auction removes idle asks whose prover falls below either.
    const price = BigInt(m.price);
    if (!admitted(p, me, 1n) || me.free < leastLock(p, price)) {
      const need = BigInt(p.minBondPerAsk) * (me.asks + 1n);
      const want = need > leastLock(p, price) ? need : leastLock(p, price);
      throw ErrAskUnderfunded(
        `${prover} has ${me.free}${p.collateralDenom} free collateral; ${me.asks + 1n} asks at price ${price} need ${want} (params.min_bond_per_ask ${p.minBondPerAsk} per ask, and collateral_ratio_bps ${p.collateralRatioBps} of the price); bond more`,
      );
    }
    // Full circuit (ask-cap.ts): an ask of a prover that fails admission goes first, else the most expensive idle ask
    // if the new one is cheaper.
    if (askCount(kv, m.circuitId) >= p.maxAsksPerCircuit) {
      const victim = evictionCandidate(kv, m.circuitId, (id) => this.ask(ctx, id), (a) => askStanding(p, a, view.get(a.prover), ctx.height) === 'dead');
      const byPrice = victim !== undefined && victim.dead === false;
      if (victim === undefined || (byPrice && price >= BigInt(victim.ask.price))) {
        throw ErrTooManyAsks(`circuit ${m.circuitId} holds ${p.maxAsksPerCircuit} asks (params.max_asks_per_circuit); a new ask must be priced below ${victim === undefined ? 'an idle ask (every ask serves assignments)' : `${victim.ask.price}, the most expensive idle ask`}`);
      }
      this.deleteAsk(ctx, victim.ask);
      ctx.emit('proofbook.market.ask_evicted', [['ask_id', victim.ask.id.toString()], ['prover', victim.ask.prover], ['circuit_id', victim.ask.circuitId], ['price', victim.ask.price], ['reason', victim.dead ? 'underfunded' : 'price']]);
    }
    const id = this.nextId(ctx, NEXT_ASK_ID_KEY);
    const a: Ask = {
      id,
      prover,
      circuitId: m.circuitId,
      price: BigInt(m.price).toString(),
      capacity: m.capacity,
      active: 0n,
      expiryHeight: m.expiryHeight,
      createdHeight: ctx.height,
    };
    this.putNewAsk(ctx, a);
    ctx.emit('proofbook.market.ask_posted', [
      ['ask_id', id.toString()],
      ['prover', prover],
      ['circuit_id', a.circuitId],
      ['price', a.price],
      ['capacity', a.capacity.toString()],
      ['expiry_height', a.expiryHeight.toString()],
    ]);
    return id;
  }

  cancelAsk(ctx: Context, sender: Address, id: bigint): void {
    const a = this.ask(ctx, id);
    if (a === undefined) throw ErrUnknownAsk(`ask ${id} does not exist`);
    if (a.prover !== sender) throw ErrNotAskOwner(`ask ${id} belongs to ${a.prover}`);
    if (a.active === 0n) {
      this.deleteAsk(ctx, a);
    } else {
      // Keeps serving its assignments; takes no new work (an ask is live only while height < expiry_height).
      const expiry = a.expiryHeight < ctx.height ? a.expiryHeight : ctx.height;
      this.saveAsk(ctx, a, { ...a, expiryHeight: expiry });
    }
    ctx.emit('proofbook.market.ask_cancelled', [['ask_id', id.toString()], ['prover', a.prover], ['active', a.active.toString()]]);
  }

  private assignedTo(ctx: Context, sender: Address, id: bigint): { r: Request; asg: Assignment } {
    const r = this.mustRequest(ctx, id);
    if (r.status !== S.REQUEST_STATUS_ASSIGNED || !r.assignment) throw ErrWrongStatus(`request ${id} is ${statusName(r.status)}, not ASSIGNED`);
    if (r.assignment.prover !== sender) throw ErrNotAssignedProver(`request ${id} is assigned to ${r.assignment.prover}`);
    // Open through the deadline block, and beyond it while a run of one proposer holds the window open (censorship.ts).
    if (windowClosed(ctx, this.proposers, r.assignment.deadlineHeight, ctx.height - 1n)) throw ErrDeadlinePassed(`request ${id} was due at height ${r.assignment.deadlineHeight}, now ${ctx.height}`);
    return { r, asg: r.assignment };
  }

  submitProof(ctx: Context, sender: Address, id: bigint, proof: Uint8Array, signalStrings: readonly string[]): bigint {
    const pre = this.mustRequest(ctx, id);
    // the fallback path: FALLBACK, or OPEN/ASSIGNED past the requester's patience for anyone but the assigned prover
    if (viaFallback(pre, sender, ctx.height)) return this.fulfilFallback(ctx, sender, pre, proof, signalStrings);
    // delivered through the fallback, payment held: an earlier commitment may still reveal and be paid (fallback.ts)
    if (payoutPending(pre)) return this.revealEarlier(ctx, sender, pre, proof, signalStrings);
    const { r, asg } = this.assignedTo(ctx, sender, id);
    const signals = parseSignals(signalStrings, 'public_signals');
    requireCommittedSignals(r, signals);
    if (!this.verifier.verifyProof(ctx, r.circuitId, proof, signals)) {
      throw ErrInvalidProof(`the proof for request ${id} does not verify against circuit ${r.circuitId} with the given public signals`);
    }
    const p = this.params(ctx);
    const price = BigInt(asg.price);
    const escrow = BigInt(r.escrow);
    const { paid, fee } = this.payPrice(ctx, r, sender, price, escrow);
    const collateral = BigInt(asg.collateral);
    if (collateral > 0n) this.bond.unlock(ctx, sender, p.collateralDenom, collateral);
    this.releaseAskSlot(ctx, asg.askId);
    const bounty = this.payBounty(ctx, r, sender);

    const sample = ctx.height - asg.assignedHeight;
    this.recordFulfilment(ctx, sender, r.circuitId, sample);
    recordPace(this.store(ctx), r.circuitId, sample);
    this.bumpStats(ctx, r.circuitId, (s) => {
      s.fills += 1n;
      s.blocksSum += sample;
      s.assignedFills += 1n;
      s.assignedBlocksSum += sample;
    });

    const after: Request = {
      ...r,
      status: S.REQUEST_STATUS_FULFILLED,
      escrow: '0',
      bounty: '0',
      proof: Buffer.from(proof),
      publicSignals: signals.map((x) => x.toString()),
      fulfilledHeight: ctx.height,
      paidPrice: price.toString(),
    };
    this.history(after, ctx.height, 'fulfilled', sender, price.toString());
    this.updateRequest(ctx, r, after);
    ctx.emit('proofbook.market.request_fulfilled', [
      ['request_id', id.toString()],
      ['circuit_id', r.circuitId],
      ['prover', sender],
      ['price', price.toString()],
      ['protocol_fee', fee.toString()],
      ['refund', (escrow - price).toString()],
      ['blocks_to_proof', sample.toString()],
      ['bounty', bounty.toString()],
    ]);
    return paid;
  }

  /**
   * Who may commit to and reveal a fallback proof for `r`: a bonded, unjailed prover that neither failed the request
   * (declined, released, missed: excluded) nor let a fallback commitment on it expire unrevealed (forfeited).
   */
  private requireFallbackEligible(ctx: Context, r: Request, sender: Address): void {
    const pr = this.bond.prover(ctx, sender);
    const bonded = pr?.bonded.find((c) => c.denom === this.params(ctx).collateralDenom)?.amount ?? '0';
    if (pr === undefined || BigInt(bonded) === 0n) throw ErrNotBonded(`${sender} has no bond; only bonded provers may fulfil request ${r.id} through the fallback`);
    if (this.bond.isJailed(ctx, sender)) throw ErrJailed(`${sender} is jailed`);
    if (isExcluded(r, sender)) throw ErrNotEligible(`${sender} released, missed or declined request ${r.id} and may not fulfil it`);
    if (isForfeited(this.store(ctx), r, sender)) throw ErrNotEligible(forfeitedMessage(sender, r.id));
  }

  /**
   * A fallback reveal's checks, shared by the delivering reveal and an earlier commitment's later one: the sender may
   * use the fallback, the signals are the committed ones, the proof is the reveal of the sender's live commitment (made
   * in an earlier block, within its window: fallback.ts) and it verifies.
   */
  private verifiedReveal(ctx: Context, sender: Address, r: Request, proof: Uint8Array, signalStrings: readonly string[]) {
    this.requireFallbackEligible(ctx, r, sender);
    const signals = parseSignals(signalStrings, 'public_signals');
    requireCommittedSignals(r, signals);
    const kv = this.store(ctx);
    const commit = revealableCommit(kv, r, sender, proof, signals, ctx.height);
    if (!this.verifier.verifyProof(ctx, r.circuitId, proof, signals)) {
      throw ErrInvalidProof(`the proof for request ${r.id} does not verify against circuit ${r.circuitId} with the given public signals`);
    }
    return { kv, commit, signals };
  }

  /**
   * The permissionless fallback: any bonded, unjailed prover not excluded from the request may fulfil it; the first
   * valid reveal of a live commitment delivers (FULFILLED now). The payment goes to the earliest commitment that reveals
   * a valid proof (fallback.ts): with no earlier live commitment it is paid now (settleFallbackPayout), else it is held
   * until those windows close. Returns what the sender was paid now (0 while held).
   */
  private fulfilFallback(ctx: Context, sender: Address, r: Request, proof: Uint8Array, signalStrings: readonly string[]): bigint {
    const id = r.id;
    const { kv, commit, signals } = this.verifiedReveal(ctx, sender, r, proof, signalStrings);
    // an ASSIGNED request past the requester's patience or its overdue height: the fallback proof came first, the assignment ends as a release
    const base = r.status === S.REQUEST_STATUS_ASSIGNED ? this.outrace(ctx, r, sender) : r;
    const since = r.fallbackHeight > 0n ? r.fallbackHeight : r.submittedHeight;
    this.bumpStats(ctx, r.circuitId, (s) => {
      s.fills += 1n;
      s.blocksSum += ctx.height - since;
    });
    const earlier = earlierCommits(kv, id, commit.id);
    // later commitments can no longer be paid: deposits back now
    refundCommits(ctx, kv, this.bank, this.params(ctx).feeDenom, id, (c) => c.id > commit.id);
    markRevealed(kv, commit, ctx.height);
    const payoutHeight = payoutHeightOf(earlier);
    const after: Request = {
      ...base,
      status: S.REQUEST_STATUS_FULFILLED,
      proof: Buffer.from(proof),
      publicSignals: signals.map((x) => x.toString()),
      fulfilledHeight: ctx.height,
      fallbackCommits: earlier.length + 1,
      fallbackPayee: sender,
      fallbackPayeeCommitId: commit.id,
      fallbackPayoutHeight: payoutHeight,
    };
    // (a delivery paid at once records one 'fallback_fulfilled' entry, as before the held payment existed)
    if (earlier.length > 0) this.history(after, ctx.height, 'fallback_delivered', sender, commit.price);
    this.updateRequest(ctx, r, after);
    ctx.emit('proofbook.market.fallback_delivered', [
      ['request_id', id.toString()],
      ['circuit_id', r.circuitId],
      ['prover', sender],
      ['commit_id', commit.id.toString()],
      ['blocks_to_proof', (ctx.height - since).toString()],
      ['payout_height', earlier.length > 0 ? payoutHeight.toString() : ctx.height.toString()],
    ]);
    if (earlier.length > 0) return 0n;
    const paid = this.settleFallbackPayout(ctx, id);
    return paid.payee === sender ? paid.amount : 0n;
  }

  /**
   * A fallback proof delivered an ASSIGNED request past the requester's patience before its assigned prover did: the
   * assignment ends as a release at this height would (releaseSlash: release_slash_bps after the accept phase, rising to
   * 100 % at the deadline, split between the requester, the request's bounty — paid to the fallback payee — and the
   * burn; the rest unlocked; counted as a release, no miss, no jail). The prover accepted the race when it let its
   * accept phase pass with the patience known. Returns the request without its assignment and with the bounty added;
   * the caller writes it.
   */
  private outrace(ctx: Context, r: Request, by: Address): Request {
    const prover = r.assignment!.prover as Address;
    const { slash, toRequester, bounty, burned } = this.endAsReleased(ctx, r, r.assignment!);
    const out: Request = { ...r, assignment: undefined, bounty: bountyPlus(r, bounty) };
    this.history(out, ctx.height, 'outraced', prover, slash.toString(), toRequester.toString());
    ctx.emit('proofbook.market.assignment_outraced', [
      ['request_id', r.id.toString()],
      ['circuit_id', r.circuitId],
      ['prover', prover],
      ['by', by],
      ['slashed', slash.toString()],
      ['compensated', toRequester.toString()],
      ['bounty', bounty.toString()],
      ['burned', burned.toString()],
    ]);
    return out;
  }

  /**
   * On a request delivered through the fallback whose payment is held: a commitment EARLIER than the payee's reveals a
   * valid proof in its window and becomes the payee; the displaced payee and any commitment between the two get their
   * deposits back (no forfeit). With no earlier commitment left the payment settles now. Returns what was paid now.
   */
  private revealEarlier(ctx: Context, sender: Address, r: Request, proof: Uint8Array, signalStrings: readonly string[]): bigint {
    const id = r.id;
    const { kv, commit } = this.verifiedReveal(ctx, sender, r, proof, signalStrings);
    const displaced = r.fallbackPayee;
    refundCommits(ctx, kv, this.bank, this.params(ctx).feeDenom, id, (c) => c.id > commit.id);
    markRevealed(kv, commit, ctx.height);
    const earlier = earlierCommits(kv, id, commit.id);
    const after: Request = {
      ...r,
      fallbackCommits: earlier.length + 1,
      fallbackPayee: sender,
      fallbackPayeeCommitId: commit.id,
      fallbackPayoutHeight: payoutHeightOf(earlier),
    };
    this.history(after, ctx.height, 'fallback_payee_replaced', sender, commit.price);
    this.updateRequest(ctx, r, after);
    ctx.emit('proofbook.market.fallback_payee_replaced', [
      ['request_id', id.toString()],
      ['prover', sender],
      ['commit_id', commit.id.toString()],
      ['displaced', displaced],
      ['payout_height', earlier.length > 0 ? after.fallbackPayoutHeight.toString() : ctx.height.toString()],
    ]);
    if (earlier.length > 0) return 0n;
    const paid = this.settleFallbackPayout(ctx, id);
    return paid.payee === sender ? paid.amount : 0n;
  }

  /**
   * Pays a fallback delivery to its payee (no earlier commitment left): the fee its commitment locked (fallback-fee.ts;
   * never more than the escrow) less the protocol fee, the bounty and its deposit; the rest of the escrow back to the
   * requester. The request keeps its proof; retention starts now.
   */
  private settleFallbackPayout(ctx: Context, id: bigint): { payee: string; amount: bigint } {
    const r = this.mustRequest(ctx, id);
    const kv = this.store(ctx);
    const raw = kv.get(commitKey(id, r.fallbackPayeeCommitId));
    if (!payoutPending(r) || raw === undefined) throw new Error(`request ${id} has no held fallback payment to settle`);
    const commit = FallbackCommit.decode(raw);
    const sender = commit.prover as Address;
    const p = this.params(ctx);
    const escrow = BigInt(r.escrow);
    // ('' = a commitment made before the field existed: the fee at its reveal, as then)
    const locked = commit.price === '' ? this.fallbackFee(ctx, r, commit.revealedHeight > 0n ? commit.revealedHeight : ctx.height) : BigInt(commit.price);
    const price = locked < escrow ? locked : escrow;
    const { paid, fee } = this.payPrice(ctx, r, sender, price, escrow);
    const bounty = this.payBounty(ctx, r, sender);
    const deposit = BigInt(commit.deposit || '0');
    if (deposit > 0n) this.bank.sendFromModule(ctx, ESCROW_ACCOUNT, sender, [{ denom: p.feeDenom, amount: deposit }]);
    deleteCommit(kv, commit);
    const since = r.fallbackHeight > 0n ? r.fallbackHeight : r.submittedHeight;
    const sample = commit.revealedHeight - since;
    this.recordFulfilment(ctx, sender, r.circuitId, sample);
    const after: Request = {
      ...r,
      escrow: '0',
      bounty: '0',
      paidPrice: price.toString(),
      fallbackCommits: 0,
      fallbackPayee: sender,
      fallbackPayeeCommitId: 0n,
      fallbackPayoutHeight: 0n,
    };
    this.history(after, ctx.height, 'fallback_fulfilled', sender, price.toString(), bounty.toString());
    this.updateRequest(ctx, r, after);
    scheduleSettled(kv, ctx.height, id); // retention.ts: from the settlement on
    ctx.emit('proofbook.market.request_fulfilled', [
      ['request_id', id.toString()],
      ['circuit_id', r.circuitId],
      ['prover', sender],
      ['price', price.toString()],
      ['protocol_fee', fee.toString()],
      ['refund', (escrow - price).toString()],
      ['blocks_to_proof', sample.toString()],
      ['bounty', bounty.toString()],
      ['fallback', 'true'],
      ['delivered_height', r.fulfilledHeight.toString()],
    ]);
    ctx.emit('proofbook.market.fallback_payout_settled', [
      ['request_id', id.toString()],
      ['prover', sender],
      ['commit_id', commit.id.toString()],
      ['price', price.toString()],
      ['protocol_fee', fee.toString()],
      ['bounty', bounty.toString()],
      ['deposit', deposit.toString()],
    ]);
    return { payee: sender, amount: paid + bounty }; // (the deposit comes back besides, as before)
  }

  /**
   * MsgCommitFallbackProof: an eligible prover (bonded, unjailed, not excluded) commits to the fallback proof it will
   * reveal from the next block on, with params.fallback_commit_deposit; the request leaves the auction while a
   * commitment is live (fallback.ts, docs/protocol.md "The fallback path").
   */
  commitFallbackProof(ctx: Context, sender: Address, id: bigint, commitment: Uint8Array): { commitId: bigint; revealUntilHeight: bigint; price: string } {
    const r = this.mustRequest(ctx, id);
    if (!fallbackOpen(r, ctx.height)) {
      const opens = isLive(r.status) ? fallbackOpensAt(r) : undefined;
      const when = opens !== undefined ? ` (its fallback opens at height ${opens})` : '';
      throw ErrWrongStatus(`request ${id} is ${statusName(r.status)} and not open to the fallback${when}`);
    }
    // the assigned prover delivers its own assignment directly; a commitment would let it race itself for the fallback fee
    if (isAssignee(r, sender)) throw ErrNotEligible(`request ${id} is assigned to you: deliver it with MsgSubmitProof by height ${r.assignment!.deadlineHeight}`);
    const p = this.params(ctx);
    this.requireFallbackEligible(ctx, r, sender);
    const c = addCommit(ctx, this.store(ctx), this.bank, p, r, sender, commitment, this.fallbackFee(ctx, r, ctx.height));
    this.updateRequest(ctx, r, { ...r, fallbackCommits: (r.fallbackCommits ?? 0) + 1 });
    ctx.emit('proofbook.market.fallback_committed', [
      ['request_id', id.toString()],
      ['circuit_id', r.circuitId],
      ['prover', sender],
      ['commit_id', c.id.toString()],
      ['reveal_until', c.revealUntilHeight.toString()],
      ['deposit', c.deposit],
      ['price', c.price],
    ]);
    return { commitId: c.id, revealUntilHeight: c.revealUntilHeight, price: c.price };
  }

  /**
   * endBlock: a commitment's window ended unrevealed. Its deposit goes to the requester (compensation), its prover is
   * excluded from the request for good while the request is live (forfeit marker). On a request delivered through the
   * fallback whose payment it held back, the payment settles once no earlier commitment is left (fallback.ts).
   */
  private expireCommit(ctx: Context, requestId: bigint, commitId: bigint): void {
    const r = this.request(ctx, requestId);
    const pending = r !== undefined && payoutPending(r);
    if (r === undefined || (!isLive(r.status) && !pending) || (r.fallbackCommits ?? 0) < 1) throw new Error(`fallback commitment ${commitId} on request ${requestId} which is not live or counts none`);
    const kv = this.store(ctx);
    const p = this.params(ctx);
    const c = forfeitCommit(ctx, kv, this.bank, p.feeDenom, requestId, commitId, r.requester as Address, isLive(r.status));
    if (c === undefined) throw new Error(`commit expiry index points at missing commitment ${commitId} of request ${requestId}`);
    const earlier = pending ? earlierCommits(kv, requestId, r.fallbackPayeeCommitId) : [];
    this.updateRequest(ctx, r, {
      ...r,
      fallbackCommits: r.fallbackCommits - 1,
      fallbackForfeits: (r.fallbackForfeits ?? 0) + 1,
      ...(pending ? { fallbackPayoutHeight: payoutHeightOf(earlier) } : {}),
    });
    ctx.emit('proofbook.market.fallback_commit_expired', [
      ['request_id', requestId.toString()],
      ['prover', c.prover],
      ['commit_id', c.id.toString()],
      ['forfeited', c.deposit],
      ['compensated', c.deposit],
    ]);
    if (pending && earlier.length === 0) this.settleFallbackPayout(ctx, requestId);
  }

  /**
   * Ends assignment `asg` of `r` as a release at this height: its prover is slashed releaseSlash (split by slashFor),
   * the rest of its collateral unlocked, its ask slot freed, a release counted. The caller updates the request.
   */
  private endAsReleased(ctx: Context, r: Request, asg: Assignment): { slash: bigint; toRequester: bigint; bounty: bigint; burned: bigint } {
    const prover = asg.prover as Address;
    const p = this.params(ctx);
    const collateral = BigInt(asg.collateral);
    const slash = releaseSlash(p, collateral, asg.acceptUntilHeight, asg.deadlineHeight, ctx.height);
    const parts = this.slashFor(ctx, prover, r, slash);
    if (collateral - slash > 0n) this.bond.unlock(ctx, prover, p.collateralDenom, collateral - slash);
    this.releaseAskSlot(ctx, asg.askId);
    const rep = this.reputation(ctx, prover, r.circuitId);
    rep.released += 1n;
    this.setReputation(ctx, rep);
    if (slash > 0n) this.bumpStats(ctx, r.circuitId, (s) => void (s.slashes += 1n));
    return { slash, ...parts };
  }

  /**
   * The assigned prover gives the work back: slashed releaseSlashBps (release_slash_bps, rising to 100 % at the
   * deadline) of its collateral, split between the requester, the request's bounty and the burn; excluded from the
   * request; the request re-opens (or enters the fallback once max_failed_assignments provers have failed it).
   */
  releaseAssignment(ctx: Context, sender: Address, id: bigint): bigint {
    const { r, asg } = this.assignedTo(ctx, sender, id);
    const { slash, toRequester, bounty, burned } = this.endAsReleased(ctx, r, asg);
    const after = this.afterFailure(ctx, r, sender, false, { bounty: bountyPlus(r, bounty) });
    this.history(after, ctx.height, 'released', sender, slash.toString(), toRequester.toString());
    this.updateRequest(ctx, r, after);
    ctx.emit('proofbook.market.assignment_released', [
      ['request_id', id.toString()],
      ['circuit_id', r.circuitId],
      ['prover', sender],
      ['slashed', slash.toString()],
      ['compensated', toRequester.toString()],
      ['bounty', bounty.toString()],
      ['burned', burned.toString()],
    ]);
    this.emitReopened(ctx, after);
    return slash;
  }

  /**
   * In the accept phase (height <= accept_until_height) the assigned prover hands the request back without any slash
   * (its preflight found the witness does not give the committed signals, the input is unavailable, the window is too
   * short for it, …). It is paid the decline fee out of the escrow — the requester pays for a wasted assignment — and
   * excluded from the request; after max_failed_assignments failures the request enters the fallback, so declines
   * per request, and the decline fees a requester can be made to pay, are bounded.
   */
  declineAssignment(ctx: Context, sender: Address, id: bigint, reason: string): bigint {
    const { r, asg } = this.assignedTo(ctx, sender, id);
    if (ctx.height > asg.acceptUntilHeight) {
      throw ErrNotInAcceptPhase(`request ${id}'s accept phase ended at height ${asg.acceptUntilHeight} (now ${ctx.height}); release it with MsgReleaseAssignment instead`);
    }
    const p = this.params(ctx);
    const collateral = BigInt(asg.collateral);
    if (collateral > 0n) this.bond.unlock(ctx, sender, p.collateralDenom, collateral);
    this.releaseAskSlot(ctx, asg.askId);
    const fee = declineFee(p, r);
    if (fee > 0n) this.bank.sendFromModule(ctx, ESCROW_ACCOUNT, sender, [{ denom: p.feeDenom, amount: fee }]);
    const rep = this.reputation(ctx, sender, r.circuitId);
    rep.declined += 1n;
    this.setReputation(ctx, rep);
    const after = this.afterFailure(ctx, r, sender, false, { escrow: (BigInt(r.escrow) - fee).toString(), declines: r.declines + 1 });
    this.history(after, ctx.height, 'declined', sender, fee.toString());
    this.updateRequest(ctx, r, after);
    ctx.emit('proofbook.market.assignment_declined', [
      ['request_id', id.toString()],
      ['circuit_id', r.circuitId],
      ['prover', sender],
      ['decline_fee', fee.toString()],
      ['reason', reason.slice(0, 256)],
    ]);
    this.emitReopened(ctx, after);
    return fee;
  }

  // ---- block hooks ---------------------------------------------------------------------------------------------

  /**
   * Batch-verifies the block's MsgSubmitProof that would reach their pairing check (verdicts cached, no writes): only
   * proofs of the committed signals from a prover who may fulfil the request join the batch (preverify.ts).
   */
  beforeTxs(ctx: Context, msgs: readonly { readonly typeUrl: string; readonly value: unknown }[]): void {
    const items: { circuitId: string; proof: Uint8Array; publicSignals: bigint[] }[] = [];
    const denom = this.params(ctx).collateralDenom;
    for (const m of msgs) {
      if (m.typeUrl !== '/proofbook.market.v1.MsgSubmitProof') continue;
      const v = m.value as ProofMsgView;
      let r: Request | undefined;
      try {
        r = this.request(ctx, v.requestId);
      } catch {
        continue; // malformed: fails on its own in the tx
      }
      // a fallback proof joins the batch only as the reveal of a live commitment of the sender (fallback.ts)
      // (the assigned prover's own proof is the exception, also past the requester's patience)
      if (r !== undefined && !isAssignee(r, v.prover) && !mayReveal(this.store(ctx), r, v.prover, v.proof, v.publicSignals, ctx.height)) continue;
      const item = preverifyItem(ctx, this.bond, denom, r, v);
      if (item) items.push(item);
    }
    if (items.length > 0) this.verifier.preverify(ctx, items);
  }

  /** Runs `fn` on a nested cache; commits its writes and events only when it returns normally. */
  private atomically(ctx: Context, fn: (c: Context) => void): boolean {
    const cache = new CacheKV(ctx.kv);
    const sub = ctx.with(cache);
    try {
      fn(sub);
    } catch {
      return false;
    }
    cache.writeTo(ctx.kv);
    ctx.events.push(...sub.events);
    return true;
  }

  endBlock(ctx: Context): void {
    const kv = this.store(ctx);
    const h = ctx.height;
    // 1. missed deadlines (deadline < h)
    const due: bigint[] = [];
    for (const [k] of kv.iterate(BY_DEADLINE_PREFIX, BY_DEADLINE_PREFIX + u64Key(h))) {
      // A deadline that fell in a run of blocks from one proposer waits (at most CENSORSHIP_MAX_GRACE blocks) for a
      // block from another proposer: censorship.ts.
      if (!windowClosed(ctx, this.proposers, keyToU64(k, BY_DEADLINE_PREFIX.length), h - 1n)) continue;
      due.push(trailingId(k));
    }
    for (const id of due) this.atomically(ctx, (c) => this.missDeadline(c, id));
    // 1b. fallback commitments whose reveal window ended unrevealed (fallback.ts)
    for (const d of dueCommits(kv, h)) this.atomically(ctx, (c) => this.expireCommit(c, d.requestId, d.commitId));
    // 2. expiries of OPEN requests (expiry <= h)
    const expired: bigint[] = [];
    for (const [k] of kv.iterate(OPEN_BY_EXPIRY_PREFIX, OPEN_BY_EXPIRY_PREFIX + u64Key(h + 1n))) expired.push(trailingId(k));
    for (const id of expired) this.atomically(ctx, (c) => this.expire(c, id));
    // 3. expired asks without assignments are removed
    const oldAsks: bigint[] = [];
    for (const [k] of kv.iterate(ASK_BY_EXPIRY_PREFIX, ASK_BY_EXPIRY_PREFIX + u64Key(h + 1n))) oldAsks.push(trailingId(k));
    for (const id of oldAsks) {
      const a = this.ask(ctx, id);
      if (a !== undefined && a.active === 0n) this.atomically(ctx, (c) => this.deleteAsk(c, a));
    }
    // 4. the auction
    this.match(ctx);
    // 5. stats outside the window
    const window = this.params(ctx).statsWindow;
    if (h >= window) {
      const stale: string[] = [];
      for (const [k] of kv.iterate(STATS_PREFIX, STATS_PREFIX + u64Key(h - window + 1n))) stale.push(k);
      for (const k of stale) kv.delete(k);
    }
    // 6. settled requests past the retention window leave state (retention.ts)
    pruneSettled(ctx, kv, this.params(ctx).settledRetentionBlocks);
  }

  /**
   * A missed deadline: the whole collateral is slashed (requester, bounty, burn), the miss is recorded (jail after
   * max_misses) and the prover excluded; the request enters the permissionless fallback (or expires at expiry).
   */
  private missDeadline(ctx: Context, id: bigint): void {
    const r = this.request(ctx, id);
    if (r === undefined || r.status !== S.REQUEST_STATUS_ASSIGNED || !r.assignment) throw new Error(`deadline index points at request ${id} which is not ASSIGNED`);
    const asg = r.assignment;
    const prover = asg.prover as Address;
    const collateral = BigInt(asg.collateral);
    const { toRequester, bounty, burned } = this.slashFor(ctx, prover, r, collateral);
    this.bond.recordMiss(ctx, prover);
    const rep = this.reputation(ctx, prover, r.circuitId);
    rep.missed += 1n;
    this.setReputation(ctx, rep);
    this.releaseAskSlot(ctx, asg.askId);
    this.bumpStats(ctx, r.circuitId, (s) => void (s.slashes += 1n));
    ctx.emit('proofbook.market.deadline_missed', [
      ['request_id', id.toString()],
      ['circuit_id', r.circuitId],
      ['prover', prover],
      ['deadline', asg.deadlineHeight.toString()],
      ['slashed', collateral.toString()],
      ['compensated', toRequester.toString()],
      ['bounty', bounty.toString()],
      ['burned', burned.toString()],
    ]);
    const after = this.afterFailure(ctx, r, prover, true, { bounty: bountyPlus(r, bounty) });
    this.history(after, ctx.height, 'slashed', prover, collateral.toString(), toRequester.toString());
    if (ctx.height < r.expiryHeight) {
      this.updateRequest(ctx, r, after);
      this.emitReopened(ctx, after);
    } else {
      this.finishExpiry(ctx, r, after);
    }
  }

  private expire(ctx: Context, id: bigint): void {
    const r = this.request(ctx, id);
    if (r === undefined || (r.status !== S.REQUEST_STATUS_OPEN && r.status !== S.REQUEST_STATUS_FALLBACK)) throw new Error(`expiry index points at request ${id} which is not OPEN or FALLBACK`);
    this.finishExpiry(ctx, r, { ...r, status: S.REQUEST_STATUS_EXPIRED });
  }

  /** Ends a request without a proof: the escrow and the bounty (slashes held for its prover) go to the requester. */
  private finishExpiry(ctx: Context, before: Request, after: Request): void {
    const escrow = BigInt(before.escrow);
    this.refund(ctx, before, escrow);
    const bounty = this.payBounty(ctx, after, before.requester as Address);
    after.status = S.REQUEST_STATUS_EXPIRED;
    after.escrow = '0';
    after.bounty = '0';
    this.history(after, ctx.height, 'expired', '', escrow.toString(), bounty.toString());
    this.updateRequest(ctx, before, after);
    this.bumpStats(ctx, before.circuitId, (s) => void (s.expiries += 1n));
    ctx.emit('proofbook.market.request_expired', [['request_id', before.id.toString()], ['circuit_id', before.circuitId], ['refund', escrow.toString()], ['bounty', bounty.toString()]]);
  }

  /**
   * Live asks of a circuit (auction-read.ts askStanding: unexpired, capacity left, prover bonded, unjailed, admitted
   * and able to fund a request at the ask's price), judged with `view` (the block's auction) or a fresh one (queries),
   * in price order; only asks with capacity left are loaded (index 'y').
   */
  liveAsks(ctx: Context, circuitId: string, view: ProverView = this.proverView(ctx)): Ask[] {
    const p = this.params(ctx);
    const out: Ask[] = [];
    for (const [k] of iteratePrefix(this.store(ctx), askWithRoomPrefix(circuitId))) {
      const a = this.ask(ctx, trailingId(k));
      if (a !== undefined && askStanding(p, a, view.get(a.prover), ctx.height) === 'live') out.push(a);
    }
    return out;
  }

  /** A fresh cache of provers' status (bond, jail, free collateral, ask count) over `ctx`'s state. */
  proverView(ctx: Context): ProverView {
    const denom = this.params(ctx).collateralDenom;
    return new ProverView(this.store(ctx), {
      isActive: (a) => this.bond.prover(ctx, a) !== undefined && !this.bond.isJailed(ctx, a),
      freeCollateral: (a) => this.bond.freeCollateral(ctx, a, denom),
    });
  }

  /**
   * The rule options of the configured mechanism for one circuit's clear: price rule, allocation rule, the lottery's
   * seed (chain id, height and circuit: committed data nobody can grind), the stake-cap quotas, and the spread rule's
   * recent wins and penalty. `p`: the market params, decoded once per block by the caller.
   */
  mechanismParams(ctx: Context, circuitId: string, asks: readonly Ask[], p: Params, load?: ReadonlyMap<string, bigint>): Omit<MatchParams, 'collateralRatioBps'> {
    const m = this.mechanism;
    const out: Omit<MatchParams, 'collateralRatioBps'> = { priceRule: m.price };
    if (m.allocation === 'band') {
      out.allocation = 'band';
      out.bandBps = m.bps ?? 1000n;
      out.seed = `${ctx.block.chainId}/${ctx.height}/${circuitId}`;
      out.load = load ?? this.proverLoads(ctx);
    } else if (m.allocation === 'spread') {
      out.allocation = 'spread';
      out.bandBps = m.bps ?? 5000n;
      out.window = SPREAD_WINDOW;
      const kv = this.store(ctx);
      out.spreadPenalty = spreadPenaltyInForce(kv, p); // the controller's, else params.spread_penalty
      out.spreadFree = p.spreadFreeWins;
      const recent = new Map<string, bigint>();
      for (const a of asks) if (!recent.has(a.prover)) recent.set(a.prover, recentWins(kv, a.prover as Address));
      out.recent = recent;
    } else if (m.allocation === 'sharecap') {
      // a prover holding more than bps of all current assignments (over every circuit) takes nothing new:
      // its quota is max(1, floor(bps x (total + 1) / 10000)) - its load, at least 0
      const loads = load ?? this.proverLoads(ctx);
      let total = 0n;
      for (const v of loads.values()) total += v;
      let cap = ((m.bps ?? 2500n) * (total + 1n)) / BPS;
      if (cap < 1n) cap = 1n;
      const quota = new Map<string, bigint>();
      for (const a of asks) {
        const q = cap - (loads.get(a.prover) ?? 0n);
        quota.set(a.prover, q > 0n ? q : 0n);
      }
      out.quota = quota;
    } else if (m.allocation === 'lottery') {
      out.allocation = 'lottery';
      out.seed = `${ctx.block.chainId}/${ctx.height}/${circuitId}`;
    } else if (m.allocation === 'stakecap') {
      // a prover may hold at most max(1, ceil(2 x its share of the circuit's provers' bonds x (active + 1)))
      // assignments of this circuit: work spreads in proportion to stake once the cheapest provers hold their share
      const denom = p.collateralDenom;
      const stake = new Map<string, bigint>();
      const active = new Map<string, bigint>();
      let totalActive = 0n;
      for (const a of asks) {
        if (!stake.has(a.prover)) {
          const rec = this.bond.prover(ctx, a.prover as Address);
          stake.set(a.prover, BigInt(rec?.bonded.find((c) => c.denom === denom)?.amount ?? '0'));
        }
        active.set(a.prover, (active.get(a.prover) ?? 0n) + a.active);
        totalActive += a.active;
      }
      let totalStake = 0n;
      for (const v of stake.values()) totalStake += v;
      const quota = new Map<string, bigint>();
      for (const [prover, st] of stake) {
        const num = 2n * st * (totalActive + 1n);
        let cap = totalStake === 0n ? 1n : (num + totalStake - 1n) / totalStake;
        if (cap < 1n) cap = 1n;
        const q = cap - active.get(prover)!;
        quota.set(prover, q > 0n ? q : 0n);
      }
      out.quota = quota;
    }
    return out;
  }

  /**
   * Each prover's current load: the assignments its asks serve now (sum of `active`), over every circuit. One pass
   * over the ask index (bounded by the number of asks, which match() reads anyway). Provers with no load are absent.
   */
  proverLoads(ctx: Context): Map<string, bigint> {
    const out = new Map<string, bigint>();
    for (const [k] of iteratePrefix(this.store(ctx), ASK_BY_CIRCUIT_PREFIX)) {
      const a = this.ask(ctx, trailingId(k));
      if (a === undefined || a.active === 0n) continue;
      out.set(a.prover, (out.get(a.prover) ?? 0n) + a.active);
    }
    return out;
  }

  /** Circuits that have at least one ask (live or not), in circuit-id byte order; bounded by the number of asks. */
  circuitsWithAsks(ctx: Context): string[] {
    const out: string[] = [];
    let last = '';
    for (const [k] of iteratePrefix(this.store(ctx), ASK_BY_CIRCUIT_PREFIX)) {
      const c = k.slice(1, 33);
      if (c !== last) out.push(circIdFromKey(c));
      last = c;
    }
    return out;
  }

  /**
   * How the auction reads requests: 'band' (the chain) reads only the requests whose fee lies in the band the live asks
   * can fund (auction-read.ts); 'full' decodes every auctioned request of every circuit with asks and clears them all —
   * the straightforward reference that test/market-auction-equivalence.test.ts and `bench endblock` compare it with.
   */
  auctionRead: 'band' | 'full' = 'band';
  /** Work of the last auction (index entries read, asks loaded, records decoded): for the bench and tests. */
  readonly auctionWork = { entries: 0, asksLoaded: 0, decoded: 0 };

  /** Every auctioned request of the circuit, decoded from the status index (the 'full' reference; no fee index). */
  private allAuctioned(ctx: Context, circuitId: string): Request[] {
    const out: Request[] = [];
    for (const st of [S.REQUEST_STATUS_OPEN, S.REQUEST_STATUS_FALLBACK]) {
      for (const [k] of iteratePrefix(this.store(ctx), byStatusPrefix(st))) {
        const r = this.request(ctx, trailingId(k));
        if (r !== undefined && r.circuitId === circuitId && this.auctioned(ctx, r)) out.push(r);
      }
    }
    return out;
  }

  /** An idle ask whose prover fails admission leaves the book (auction-read.ts askStanding 'dead'). */
  private pruneAsk(ctx: Context, a: Ask): void {
    this.deleteAsk(ctx, a);
    ctx.emit('proofbook.market.ask_evicted', [['ask_id', a.id.toString()], ['prover', a.prover], ['circuit_id', a.circuitId], ['price', a.price], ['reason', 'underfunded']]);
  }

  /**
   * The auction. Per circuit with demand, it finds the cheapest live ask (auction-read.ts; idle asks of provers that
   * fail admission met on the way are removed), loads the circuit's live asks only when one is within reach of the
   * demand, and reads only the requests whose fee lies in the band those asks can fund; `minCollateral` is read from
   * the record only for those. Unfillable open requests, and asks nobody can be assigned to, cost nothing per block
   * (issue 10 #5; `bench endblock` measures it).
   */
  private match(ctx: Context): void {
    const p = this.params(ctx);
    const h = ctx.height;
    const alloc = this.mechanism.allocation;
    const full = this.auctionRead === 'full';
    const work = this.auctionWork;
    work.entries = 0;
    work.asksLoaded = 0;
    work.decoded = 0;
    const stats: BandStats = { entries: 0 };
    // load-aware rules see every prover's current assignments, updated as each circuit clears in this block
    let load: Map<string, bigint> | undefined;
    const kv = this.store(ctx);
    let assignedInBlock = false;
    const view = this.proverView(ctx);
    const loadAsk = (id: bigint): Ask | undefined => (work.asksLoaded++, this.ask(ctx, id));
    const circuits = full ? this.circuitsWithAsks(ctx).map((circuitId) => ({ circuitId, topMaxFee: 0n })) : circuitsWithDemand(kv);
    for (const { circuitId, topMaxFee } of circuits) {
      if (!full) {
        const { ask, dead } = cheapestLiveAsk(kv, p, circuitId, topMaxFee, h, loadAsk, view);
        for (const a of dead) this.atomically(ctx, (c) => this.pruneAsk(c, a));
        if (ask === undefined) continue; // no live ask any request of the circuit could pay: nothing can match
      }
      if (load === undefined && (alloc === 'band' || alloc === 'sharecap')) load = this.proverLoads(ctx);
      const asks = this.liveAsks(ctx, circuitId, view);
      work.asksLoaded += asks.length;
      if (asks.length === 0) continue;
      const masks: MatchAsk[] = [];
      const free = new Map<string, bigint>();
      // each live ask can take only fees in [its price, what its prover's free collateral can lock for]
      const bands: FeeBand[] = [];
      let maxFree = 0n;
      for (const a of asks) {
        const f = view.get(a.prover).free;
        free.set(a.prover, f);
        if (f > maxFree) maxFree = f;
        const price = BigInt(a.price);
        bands.push({ floor: price, ceiling: feeCeiling(p, f) });
        masks.push({
          id: a.id,
          prover: a.prover,
          price,
          capacity: a.capacity - a.active,
          busy: a.active,
          reputation: reputationScore(this.reputation(ctx, a.prover as Address, circuitId)),
        });
      }
      const params: MatchParams = { collateralRatioBps: p.collateralRatioBps, ...this.mechanismParams(ctx, circuitId, asks, p, load) };
      const requests = new Map<bigint, Request>();
      const keeper = this;
      /** The request as the clear sees it: fee clamped to the escrow, min_collateral within the cap at that fee. */
      const asMatch = (rec: Request, maxFee: bigint): IndexedRequest | undefined => {
        if (!assignableAt(p, rec, h)) return undefined; // too close to expiry for accept phase + min window
        requests.set(rec.id, rec);
        const fee = keeper.currentFee(rec, h); // never more than the escrow left (decline fees come out of it)
        const cap = collateralCap(p, fee);
        const minCollateral = BigInt(rec.minCollateral);
        // provers whose fallback commitment on it expired unrevealed are excluded like those that failed it (fallback.ts)
        const excluded = (rec.fallbackForfeits ?? 0) > 0 ? [...rec.excludedProvers, ...forfeitsOf(kv, rec.id).map((f) => f.prover)] : rec.excludedProvers;
        return { id: rec.id, maxFee, currentFee: fee, minCollateral: minCollateral < cap ? minCollateral : cap, excluded };
      };
      const union = feeBands(bands);
      // lowered by clearFromIndex as the block's matches use up collateral: a request above it cannot be allocated
      let reach: bigint | null = null;
      const source = (function* () {
        for (const e of requestsInBands(kv, circuitId, h, union, stats)) {
          if (reach !== null && e.currentFee > reach) continue;
          // the lock it needs (min_collateral within the cap at its fee, at least the ratio) is more than any live
          // ask's prover has free: never allocated, not decoded
          const cap = collateralCap(p, e.currentFee);
          if (collateralFor(e.minCollateral < cap ? e.minCollateral : cap, e.currentFee, p.collateralRatioBps) > maxFree) continue;
          const rec = keeper.request(ctx, e.id);
          work.decoded++;
          const m = rec === undefined ? undefined : asMatch(rec, e.maxFee);
          if (m !== undefined) yield m;
        }
      })();
      let result;
      try {
        if (full) {
          const all: IndexedRequest[] = [];
          for (const rec of this.allAuctioned(ctx, circuitId)) {
            work.decoded++;
            const m = asMatch(rec, BigInt(rec.maxFee));
            if (m !== undefined) all.push(m);
          }
          result = clearCircuit(all, masks, free, params);
        } else {
          result = clearFromIndex(source, masks, free, params, (fee) => void (reach = fee)).result;
        }
      } catch {
        continue; // MatchingInputError = a bug upstream; this circuit waits, the rest of the block goes on
      }
      let assigned = 0;
      // the circuit's pace, read once per circuit and only when the rule uses it (nothing in the auction changes it)
      const pace = p.overdueRacePaceBps > 0n && result.matches.length > 0 ? circuitPace(this.store(ctx), circuitId) : undefined;
      for (const match of result.matches) {
        // the lock never exceeds max_collateral_ratio_bps of the price paid, whatever min_collateral asked for
        const cap = collateralCap(p, match.price);
        const mt = { ...match, collateral: match.collateral < cap ? match.collateral : cap };
        const ok = this.atomically(ctx, (c) => {
          const r = requests.get(mt.requestId)!;
          const a = this.ask(c, mt.askId)!;
          const prover = mt.prover as Address;
          if (isExcluded(r, prover) || isForfeited(this.store(c), r, prover)) throw new Error(`matching assigned request ${r.id} to excluded prover ${prover}`);
          if (mt.collateral > 0n) this.bond.lock(c, prover, p.collateralDenom, mt.collateral);
          this.saveAsk(c, a, { ...a, active: a.active + 1n });
          // accept phase first, then the full proving window (assignableAt guarantees at least min_proving_window)
          const acceptUntil = h + p.acceptBlocks;
          let deadline = acceptUntil + r.provingWindow;
          if (deadline > r.expiryHeight) deadline = r.expiryHeight;
          // open to the race once overdue by the prover's own record, or the circuit's pace without one (penalties.ts
          // overdueHeight; 0 = none)
          const overdue = overdueHeight(p, this.reputation(c, prover, circuitId), pace, h, acceptUntil, deadline);
          const after: Request = {
            ...r,
            status: S.REQUEST_STATUS_ASSIGNED,
            assignment: {
              prover,
              askId: mt.askId,
              price: mt.price.toString(),
              collateral: mt.collateral.toString(),
              assignedHeight: h,
              deadlineHeight: deadline,
              acceptUntilHeight: acceptUntil,
              overdueHeight: overdue,
            },
            assignmentsCount: r.assignmentsCount + 1,
          };
          this.history(after, h, 'assigned', prover, mt.price.toString());
          this.updateRequest(c, r, after);
          this.bumpStats(c, circuitId, (s) => {
            s.matches += 1n;
            s.priceSum += mt.price;
          });
          c.emit('proofbook.market.request_assigned', [
            ['request_id', mt.requestId.toString()],
            ['circuit_id', circuitId],
            ['prover', prover],
            ['price', mt.price.toString()],
            ['collateral', mt.collateral.toString()],
            ['deadline', deadline.toString()],
            ['accept_until', acceptUntil.toString()],
            ['overdue_at', overdue.toString()],
          ]);
        });
        if (ok) {
          view.get(mt.prover).free -= mt.collateral;
          if (alloc === 'spread') recordWinner(kv, mt.prover as Address);
          assignedInBlock = true;
          if (load !== undefined) load.set(mt.prover, (load.get(mt.prover) ?? 0n) + 1n);
          assigned++;
        }
      }
      if (result.clearingPrice !== null && assigned > 0) {
        this.store(ctx).set(clearingKey(circuitId), encodeText(`${result.clearingPrice},${h}`));
        ctx.emit('proofbook.market.cleared', [
          ['circuit_id', circuitId],
          ['price', result.clearingPrice.toString()],
          ['matches', assigned.toString()],
          ['open', (result.unmatched.length + result.matches.length - assigned).toString()], // candidates read, left open
        ]);
      }
    }
    work.entries = stats.entries;
    // the spread penalty's controller steps on the window as this block left it (spread-penalty.ts)
    if (alloc === 'spread' && assignedInBlock) adjustSpreadPenalty(kv, p);
  }

  lastClearing(ctx: Context, circuitId: string): { price: bigint; height: bigint } | undefined {
    const v = this.store(ctx).get(clearingKey(circuitId));
    if (v === undefined) return undefined;
    const [price, height] = decodeText(v).split(',');
    return { price: BigInt(price), height: BigInt(height) };
  }
}
