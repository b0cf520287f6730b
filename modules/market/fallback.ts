/**
 * Commit-reveal for the permissionless fallback (issue 11), so a fallback proof cannot be copied from the mempool.
 *
 * A fallback MsgSubmitProof pays whoever sends it; without this, a second prover (or the block's proposer) that sees a
 * pending one could send the same proof under its own address and be paid first. The rule:
 *   1. commit: MsgCommitFallbackProof(request, sha256(proof, signals, prover address)) with a deposit of
 *      params.fallback_commit_deposit (fee_denom, held in market_escrow), by an eligible prover (bonded, unjailed,
 *      not excluded), while the request is open to the fallback; one live commitment per prover and request, at most
 *      params.max_fallback_commits per request. A request with a live commitment is not auctioned.
 *   2. reveal: MsgSubmitProof in a later block than the commitment. Only the EARLIEST live commitment of the request
 *      may be revealed (it holds the reveal), and the proof must hash to it with the sender's address. A commitment's
 *      reveal window is the params.fallback_reveal_blocks blocks after it starts to hold the reveal: from its own block
 *      when it is the earliest, else from the block in whose end the one before it expired; while queued behind an
 *      earlier one it has reveal_until_height 0 and no expiry-index entry. (A window counted from the commitment's
 *      own height would let a squatter committing in the same block ahead of an honest prover run the honest window
 *      out before it ever held the reveal.)
 *   3. settle: the revealer gets its deposit back with the payment (the fallback fee of its commitment's block, locked
 *      in FallbackCommit.price: fallback-fee.ts); other live commitments are refunded when the request is fulfilled or
 *      ends. A commitment not revealed in its window expires (endBlock): its deposit goes to the REQUESTER (the
 *      compensation for the delay), its prover is excluded from the request for good (a forfeit marker, below: it may
 *      never commit to it, be paid for it or be assigned it again), and the next commitment (if any) holds the reveal.
 * Squatting (docs/protocol.md "Squatting"): each prover can hold a request's reveal at most once, for at most
 * fallback_reveal_blocks + 1 blocks, so k squatters delay an honest prover ready at height t to at most
 * t + k * (fallback_reveal_blocks + 1) + 1, and pay the requester k deposits.
 * Why nobody can steal (docs/protocol.md "The fallback path"): the proof appears only in the reveal, which is only
 * sent after its commitment is in a block; any copier's commitment lands in a later block, so it is later than the
 * original's and cannot be revealed while the original holds its window. The commitment hides the proof (sha256 over
 * 256 proof bytes) and names the prover, so it cannot be copied or reused either.
 *
 * State (under the market prefix):
 *   'F' + u64(requestId) + u64(commitId)                  -> FallbackCommit   (per request, earliest first)
 *   'G' + u64(revealUntil) + u64(requestId) + u64(commitId) -> empty            (expiry index; the holder only)
 *   'J'                                                   -> u64 next commit id
 *   'X' + u64(requestId) + addr(prover)                   -> FallbackForfeit  (forfeit markers of a live request,
 *                                                             counted in Request.fallback_forfeits, removed when it ends)
 * The markers are per (request, prover) keys rather than a list in the request (excluded_provers holds at most
 * max_failed_assignments entries, mostly already used by the failures that sent the request to the fallback; a list
 * the record carries would be rewritten at every status change however long it grew). Each marker is paid for by a
 * forfeited deposit and at most one appears per fallback_reveal_blocks blocks of a request's life.
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

/** Writes `c`; only the holder of the reveal (reveal_until_height > 0) has an expiry-index entry. */
export function putCommit(kv: KV, c: FallbackCommit): void {
  kv.set(commitKey(c.requestId, c.id), FallbackCommit.encode(c).finish());
  if (c.revealUntilHeight > 0n) kv.set(commitExpiryKey(c), EMPTY);
}

function deleteCommit(kv: KV, c: FallbackCommit): void {
  kv.delete(commitKey(c.requestId, c.id));
  if (c.revealUntilHeight > 0n) kv.delete(commitExpiryKey(c));
}

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
    throw ErrTooManyCommits(`request ${r.id} already has ${live.length} live fallback commitments (params.max_fallback_commits); the earliest holds the reveal until height ${live[0].revealUntilHeight}`);
  }
  const deposit = BigInt(p.fallbackCommitDeposit || '0');
  // the first live commitment holds the reveal from its own block; later ones queue (their window starts when the one
  // before them leaves: promoteNext)
  const revealUntilHeight = live.length === 0 ? ctx.height + p.fallbackRevealBlocks : 0n;
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
  };
  putCommit(kv, c);
  return c;
}

/**
 * Checks that `sender` may reveal `proof` for `r` now: it holds the request's earliest live commitment, made in an
 * earlier block, and the proof, signals and its address hash to it. Returns that commitment; throws otherwise.
 */
export function revealableCommit(kv: KV, r: Request, sender: string, proof: Uint8Array, signals: readonly (bigint | string)[], h: bigint): FallbackCommit {
  const live = commitsOf(kv, r.id);
  if (live.length === 0) {
    throw ErrNoCommitment(`request ${r.id} is in the fallback: commit to the proof first (MsgCommitFallbackProof, then MsgSubmitProof from the next block on)`);
  }
  const first = live[0];
  if (first.prover !== sender) {
    // Code 21, not 20: the sender may be eligible; it has no commitment that may reveal now (none yet: commit first;
    // a queued one: wait for its turn). Clients tell the two apart from "not eligible" by the code.
    const mine = live.find((c) => c.prover === sender);
    throw ErrNoCommitment(
      `the fallback commitment of ${first.prover} (height ${first.height}) holds request ${r.id}'s reveal until height ${first.revealUntilHeight}` +
        (mine ? `; yours (height ${mine.height}) comes after it` : '; you have no commitment on it'),
    );
  }
  if (first.height >= h) throw ErrNoCommitment(`the fallback commitment on request ${r.id} was made at height ${first.height}; reveal from height ${first.height + 1n} on`);
  const want = fallbackCommitment(r.id, proof, signals, sender);
  if (Buffer.compare(Buffer.from(want), Buffer.from(first.commitment)) !== 0) {
    throw ErrNoCommitment(`the proof and public signals do not hash to ${sender}'s fallback commitment on request ${r.id}`);
  }
  return first;
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

/** Removes every live commitment of request `id` and refunds its deposit (the request was fulfilled or ended). */
export function refundCommits(ctx: Context, kv: KV, bank: CommitBank, feeDenom: string, id: bigint): bigint {
  let refunded = 0n;
  for (const c of commitsOf(kv, id)) {
    const d = BigInt(c.deposit || '0');
    if (d > 0n) bank.sendFromModule(ctx, ESCROW_ACCOUNT, c.prover as Address, [{ denom: feeDenom, amount: d }]);
    refunded += d;
    deleteCommit(kv, c);
  }
  return refunded;
}

/** Commitments whose reveal window ended at or before `h` (reveal_until_height <= h), in index order. */
export function dueCommits(kv: KV, h: bigint): { requestId: bigint; commitId: bigint }[] {
  const out: { requestId: bigint; commitId: bigint }[] = [];
  for (const [k] of kv.iterate(COMMIT_BY_EXPIRY_PREFIX, COMMIT_BY_EXPIRY_PREFIX + u64Key(h + 1n))) {
    out.push({ requestId: trailingId(k.slice(0, k.length - 8)), commitId: trailingId(k) });
  }
  return out;
}

/**
 * Expires one unrevealed commitment (the request's reveal holder): removed, its deposit to `requester` (compensation),
 * its prover marked forfeited on the request (FallbackForfeit at height `h`). Returns it (undefined if gone). The caller
 * counts the marker in the request and promotes the next commitment (promoteNext).
 */
export function forfeitCommit(ctx: Context, kv: KV, bank: CommitBank, feeDenom: string, requestId: bigint, commitId: bigint, requester: Address): FallbackCommit | undefined {
  const v = kv.get(commitKey(requestId, commitId));
  if (v === undefined) return undefined;
  const c = FallbackCommit.decode(v);
  const d = BigInt(c.deposit || '0');
  if (d > 0n) bank.sendFromModule(ctx, ESCROW_ACCOUNT, requester, [{ denom: feeDenom, amount: d }]);
  deleteCommit(kv, c);
  putForfeit(kv, { requestId, prover: c.prover, height: ctx.height });
  return c;
}

/**
 * The request's earliest live commitment, if queued, starts to hold the reveal: reveal_until_height = h + R (it may
 * reveal in blocks h + 1 .. h + R; h is the block whose end expired the one before). Returns it (undefined if none).
 */
export function promoteNext(kv: KV, requestId: bigint, h: bigint, revealBlocks: bigint): FallbackCommit | undefined {
  const next = commitsOf(kv, requestId)[0];
  if (next === undefined || next.revealUntilHeight > 0n) return next;
  const c = { ...next, revealUntilHeight: h + revealBlocks };
  putCommit(kv, c);
  return c;
}
