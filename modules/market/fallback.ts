/**
 * Commit-reveal for the permissionless fallback (issue 11), so a fallback proof cannot be copied from the mempool.
 *
 * A fallback MsgSubmitProof pays whoever sends it; without this, a second prover (or the block's proposer) that sees a
 * pending one could send the same proof under its own address and be paid first. The rule (docs/protocol.md "The
 * fallback path: commit–reveal"):
 *   1. commit: MsgCommitFallbackProof(request, sha256(proof, signals, prover address)) with a deposit of
 *      params.fallback_commit_deposit (fee_denom, held in market_escrow), by an eligible prover (bonded, unjailed,
 *      not excluded), while the request is open to the fallback; one live commitment per prover and request, at most
 *      params.max_fallback_commits per request. A request with a live commitment is not auctioned. Its reveal window
 *      is its own: blocks height + 1 .. height + params.fallback_reveal_blocks (reveal_until_height).
 *   2. reveal: MsgSubmitProof in a later block than the commitment, within its window, by ANY live commitment's prover;
 *      the proof must hash to it with the sender's address. The FIRST valid reveal delivers: the request is FULFILLED
 *      at once (proof stored).
 *   3. pay the earliest: commitments are ordered by id (a later block, or later in the same block, is a higher id). If
 *      no earlier commitment is live, the revealer is paid at once (the fallback fee its commitment locked, bounty,
 *      deposit back). Otherwise the payment is held (escrow and bounty stay in market_escrow): the request names the
 *      payee (Request.fallback_payee_commit_id; its commitment stays, revealed_height set, out of the expiry index),
 *      later commitments are refunded, and an EARLIER live commitment may still reveal a valid proof in its window —
 *      then it becomes the payee and the displaced one (and any between) get their deposits back, no forfeit: they
 *      delivered or could no longer be paid. The payment settles when no earlier commitment is live: at the latest in
 *      the end of the last earlier reveal_until_height (Request.fallback_payout_height).
 *   4. expire: a commitment not revealed in its window expires (endBlock): its deposit goes to the REQUESTER, its prover
 *      is excluded from the request for good while the request is live (a forfeit marker, below).
 * Squatting (docs/protocol.md "Squatting the fallback"): squatters' commitments no longer stand in a queue before an
 * honest reveal, so k squatters do not delay DELIVERY (an honest prover ready at t commits at t, delivers at t + 1);
 * only the payment waits, at most fallback_reveal_blocks blocks, and each squatter pays the requester its deposit.
 * Why nobody can steal: the proof appears only in a reveal, sent after its commitment is in a block; a copier can only
 * commit after it saw the proof, so its commitment is later than the original's, and the original, revealing in its own
 * window, is paid instead (a thief needs the original censored for its whole window). The commitment hides the proof
 * (sha256 over 256 proof bytes) and names the prover, so it cannot be copied or reused either.
 *
 * State (under the market prefix):
 *   'F' + u64(requestId) + u64(commitId)                  -> FallbackCommit   (per request, earliest first)
 *   'G' + u64(revealUntil) + u64(requestId) + u64(commitId) -> empty            (expiry index; unrevealed ones only)
 *   'J'                                                   -> u64 next commit id
 *   'X' + u64(requestId) + addr(prover)                   -> FallbackForfeit  (forfeit markers of a live request,
 *                                                             counted in Request.fallback_forfeits, removed when it ends)
 * The markers are per (request, prover) keys rather than a list in the request (excluded_provers holds at most
 * max_failed_assignments entries, mostly already used by the failures that sent the request to the fallback; a list
 * the record carries would be rewritten at every status change however long it grew). Each marker is paid for by a
 * forfeited deposit. An earlier commitment that expires after the request was delivered forfeits its deposit the same
 * way but leaves no marker (the request is no longer live: nobody can commit to it).
 */
import type { Context } from '../../src/framework/context.js';
import type { BankKeeper } from '../bank/keeper.js';
import type { Address } from '../../src/crypto/address.js';
import { iteratePrefix, u64Key, type KV } from '../../src/store/kv.js';
import { FallbackCommit, FallbackForfeit, type Request } from '../../src/gen/proofbook/market/v1/market.js';
import { fallbackCommitment } from '../../src/zk/fallback-commitment.js';
import { addrKey, decodeU64, encodeU64, EMPTY, ESCROW_ACCOUNT, ErrInvalidRequestParams, trailingId } from './keys.js';
import { registerError, GRPC } from '../../src/framework/errors.js';

export const COMMIT_PREFIX = 'F';
export const COMMIT_BY_EXPIRY_PREFIX = 'G';
export const NEXT_COMMIT_ID_KEY = 'J';
export const FORFEIT_PREFIX = 'X';

export const ErrNoCommitment = registerError('market', 21, 'no matching fallback commitment', GRPC.FailedPrecondition);
export const ErrTooManyCommits = registerError('market', 22, 'too many fallback commitments', GRPC.ResourceExhausted);

export const commitKey = (requestId: bigint, commitId: bigint): string => COMMIT_PREFIX + u64Key(requestId) + u64Key(commitId);
export const commitsOfPrefix = (requestId: bigint): string => COMMIT_PREFIX + u64Key(requestId);
export const commitExpiryKey = (c: FallbackCommit): string => COMMIT_BY_EXPIRY_PREFIX + u64Key(c.revealUntilHeight) + u64Key(c.requestId) + u64Key(c.id);
export const forfeitsOfPrefix = (requestId: bigint): string => FORFEIT_PREFIX + u64Key(requestId);
export const forfeitKey = (requestId: bigint, prover: string): string => forfeitsOfPrefix(requestId) + addrKey(prover as Address);

/** The bank moves the fallback code needs. */
export type CommitBank = Pick<BankKeeper, 'sendToModule' | 'sendFromModule' | 'moduleToModule'>;

/** The records under `prefix`, decoded, in key order. */
function decodedUnder<T>(kv: KV, prefix: string, decode: (v: Uint8Array) => T): T[] {
  const out: T[] = [];
  for (const [, v] of iteratePrefix(kv, prefix)) out.push(decode(v));
  return out;
}

/** Live commitments of a request, earliest first. */
export const commitsOf = (kv: KV, requestId: bigint): FallbackCommit[] => decodedUnder(kv, commitsOfPrefix(requestId), (v) => FallbackCommit.decode(v));
export const allCommits = (kv: KV): FallbackCommit[] => decodedUnder(kv, COMMIT_PREFIX, (v) => FallbackCommit.decode(v));

/** Whether `c` was revealed and waits for its payment (no expiry any more). */
export const isRevealed = (c: FallbackCommit): boolean => (c.revealedHeight ?? 0n) > 0n;

/** Whether request `r` was delivered through the fallback and its payment waits for earlier commitments' windows. */
export const payoutPending = (r: Request): boolean => (r.fallbackPayeeCommitId ?? 0n) > 0n;

/** Writes `c`; an unrevealed commitment has an expiry-index entry. */
export function putCommit(kv: KV, c: FallbackCommit): void {
  kv.set(commitKey(c.requestId, c.id), FallbackCommit.encode(c).finish());
  if (!isRevealed(c)) kv.set(commitExpiryKey(c), EMPTY);
}

export function deleteCommit(kv: KV, c: FallbackCommit): void {
  kv.delete(commitKey(c.requestId, c.id));
  if (!isRevealed(c)) kv.delete(commitExpiryKey(c));
}

/** Marks `c` revealed at `h` (its payment waits): out of the expiry index. Returns the new record. */
export function markRevealed(kv: KV, c: FallbackCommit, h: bigint): FallbackCommit {
  kv.delete(commitExpiryKey(c));
  const out = { ...c, revealedHeight: h };
  putCommit(kv, out);
  return out;
}

/** The live, unrevealed commitments of request `id` earlier than commitment `commitId` (lower id), earliest first. */
export const earlierCommits = (kv: KV, id: bigint, commitId: bigint): FallbackCommit[] => commitsOf(kv, id).filter((c) => c.id < commitId && !isRevealed(c));

/** The block in whose end a held payment settles at the latest: the last reveal_until_height of `earlier` (0 if none). */
export const payoutHeightOf = (earlier: readonly FallbackCommit[]): bigint => earlier.reduce((m, c) => (c.revealUntilHeight > m ? c.revealUntilHeight : m), 0n);

/** Whether `prover` let a fallback commitment on request `r` expire unrevealed (excluded from it for good). */
export function isForfeited(kv: KV, r: Request, prover: string): boolean {
  if ((r.fallbackForfeits ?? 0) === 0) return false;
  return kv.get(forfeitKey(r.id, prover)) !== undefined;
}

/** The forfeit markers of request `id`, in key order. */
export const forfeitsOf = (kv: KV, id: bigint): FallbackForfeit[] => decodedUnder(kv, forfeitsOfPrefix(id), (v) => FallbackForfeit.decode(v));
export const allForfeits = (kv: KV): FallbackForfeit[] => decodedUnder(kv, FORFEIT_PREFIX, (v) => FallbackForfeit.decode(v));

export function putForfeit(kv: KV, f: FallbackForfeit): void {
  kv.set(forfeitKey(f.requestId, f.prover), FallbackForfeit.encode(f).finish());
}

/** Removes the forfeit markers of request `id` (it ended: nobody can commit to it any more). */
export function clearForfeits(kv: KV, id: bigint): void {
  const keys: string[] = [];
  for (const [k] of iteratePrefix(kv, forfeitsOfPrefix(id))) keys.push(k);
  for (const k of keys) kv.delete(k);
}

export function peekNextCommitId(kv: KV): bigint {
  const v = kv.get(NEXT_COMMIT_ID_KEY);
  return v === undefined ? 1n : decodeU64(v);
}

export function setNextCommitId(kv: KV, id: bigint): void {
  kv.set(NEXT_COMMIT_ID_KEY, encodeU64(id));
}

/**
 * Records `prover`'s commitment on `r` (already checked open to the fallback and the prover eligible) and takes the
 * deposit; returns the commitment. Throws (nothing written) when the prover already has one or the request is full.
 */
export function addCommit(
  ctx: Context,
  kv: KV,
  bank: CommitBank,
  p: { feeDenom: string; fallbackCommitDeposit: string; fallbackRevealBlocks: bigint; maxFallbackCommits: bigint },
  r: Request,
  prover: Address,
  commitment: Uint8Array,
  price: bigint,
): FallbackCommit {
  const live = commitsOf(kv, r.id);
  if (live.some((c) => c.prover === prover)) throw ErrInvalidRequestParams(`${prover} already has a live fallback commitment on request ${r.id}`);
  if (BigInt(live.length) >= p.maxFallbackCommits) {
    const last = payoutHeightOf(live);
    throw ErrTooManyCommits(`request ${r.id} already has ${live.length} live fallback commitments (params.max_fallback_commits); the last window ends at height ${last}`);
  }
  const deposit = BigInt(p.fallbackCommitDeposit || '0');
  // every commitment's window is its own: it may reveal in blocks height + 1 .. height + R
  const revealUntilHeight = ctx.height + p.fallbackRevealBlocks;
  if (deposit > 0n) bank.sendToModule(ctx, prover, ESCROW_ACCOUNT, [{ denom: p.feeDenom, amount: deposit }]);
  const id = peekNextCommitId(kv);
  setNextCommitId(kv, id + 1n);
  const c: FallbackCommit = {
    id,
    requestId: r.id,
    prover,
    commitment: Buffer.from(commitment),
    height: ctx.height,
    revealUntilHeight,
    deposit: deposit.toString(),
    price: price.toString(),
    revealedHeight: 0n,
  };
  putCommit(kv, c);
  return c;
}

/**
 * Checks that `sender` may reveal `proof` for `r` now: it holds a live, unrevealed commitment on it, made in an earlier
 * block (its window runs to reveal_until_height; endBlock expires it after that), and the proof, signals and its
 * address hash to it. On a request already delivered whose payment waits, only a commitment EARLIER than the payee's
 * may still reveal (to be paid instead). Returns that commitment; throws otherwise.
 */
export function revealableCommit(kv: KV, r: Request, sender: string, proof: Uint8Array, signals: readonly (bigint | string)[], h: bigint): FallbackCommit {
  const live = commitsOf(kv, r.id);
  const mine = live.find((c) => c.prover === sender && !isRevealed(c));
  if (mine === undefined) {
    // Code 21, not 20: the sender may be eligible; it has no commitment that may reveal now. Clients tell the two
    // apart from "not eligible" by the code.
    if (payoutPending(r)) throw ErrNoCommitment(`request ${r.id} was delivered through the fallback at height ${r.fulfilledHeight}; only a commitment earlier than the payee's may still reveal, and you have none`);
    throw ErrNoCommitment(`request ${r.id} is in the fallback: commit to the proof first (MsgCommitFallbackProof, then MsgSubmitProof from the next block on)`);
  }
  if (payoutPending(r) && mine.id > r.fallbackPayeeCommitId) throw ErrNoCommitment(`request ${r.id} was delivered by an earlier commitment than yours`);
  if (mine.height >= h) throw ErrNoCommitment(`your fallback commitment on request ${r.id} was made at height ${mine.height}; reveal from height ${mine.height + 1n} on`);
  if (h > mine.revealUntilHeight) throw ErrNoCommitment(`your fallback commitment on request ${r.id} could be revealed until height ${mine.revealUntilHeight}`);
  const want = fallbackCommitment(r.id, proof, signals, sender);
  if (Buffer.compare(Buffer.from(want), Buffer.from(mine.commitment)) !== 0) {
    throw ErrNoCommitment(`the proof and public signals do not hash to ${sender}'s fallback commitment on request ${r.id}`);
  }
  return mine;
}

/** Whether revealableCommit would accept (no throw): the batch pre-verification's filter. */
export function mayReveal(kv: KV, r: Request, sender: string, proof: Uint8Array, signals: readonly string[], h: bigint): boolean {
  try {
    revealableCommit(kv, r, sender, proof, signals, h);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the live commitments of request `id` that `which` selects (default: all) and refunds their deposits (the
 * request ended, or they can no longer be paid: later than the payee). Returns the amount refunded.
 */
export function refundCommits(ctx: Context, kv: KV, bank: CommitBank, feeDenom: string, id: bigint, which: (c: FallbackCommit) => boolean = () => true): bigint {
  let refunded = 0n;
  for (const c of commitsOf(kv, id)) {
    if (!which(c)) continue;
    const d = BigInt(c.deposit || '0');
    if (d > 0n) bank.sendFromModule(ctx, ESCROW_ACCOUNT, c.prover as Address, [{ denom: feeDenom, amount: d }]);
    refunded += d;
    deleteCommit(kv, c);
  }
  return refunded;
}

/** Unrevealed commitments whose reveal window ended at or before `h` (reveal_until_height <= h), in index order. */
export function dueCommits(kv: KV, h: bigint): { requestId: bigint; commitId: bigint }[] {
  const out: { requestId: bigint; commitId: bigint }[] = [];
  for (const [k] of kv.iterate(COMMIT_BY_EXPIRY_PREFIX, COMMIT_BY_EXPIRY_PREFIX + u64Key(h + 1n))) {
    out.push({ requestId: trailingId(k.slice(0, k.length - 8)), commitId: trailingId(k) });
  }
  return out;
}

/**
 * Expires one unrevealed commitment: removed, its deposit to `requester` (compensation). On a live request its prover
 * is marked forfeited (FallbackForfeit at height `h`: excluded for good); on a delivered one (`live` false) no marker is
 * needed. Returns it (undefined if gone). The caller counts it in the request.
 */
export function forfeitCommit(ctx: Context, kv: KV, bank: CommitBank, feeDenom: string, requestId: bigint, commitId: bigint, requester: Address, live: boolean): FallbackCommit | undefined {
  const v = kv.get(commitKey(requestId, commitId));
  if (v === undefined) return undefined;
  const c = FallbackCommit.decode(v);
  if (isRevealed(c)) return undefined;
  const d = BigInt(c.deposit || '0');
  if (d > 0n) bank.sendFromModule(ctx, ESCROW_ACCOUNT, requester, [{ denom: feeDenom, amount: d }]);
  deleteCommit(kv, c);
  if (live) putForfeit(kv, { requestId, prover: c.prover, height: ctx.height });
  return c;
}
