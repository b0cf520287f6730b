/**
 * The market's penalty and payout arithmetic, pure (bigint, floors), so the keeper, the docs' tables and the property
 * tests all use the same formulas. See docs/protocol.md "Who gains and loses what".
 */
import { RequestStatus, type Assignment, type CircuitPace, type Params, type Reputation, type Request } from '../../src/gen/proofbook/market/v1/market.js';
import { BPS } from './keys.js';
import { raceOpensAt } from '../../src/market/race-opens.js';

/** ceil(a * bps / 10000). */
function ceilBps(a: bigint, bps: bigint): bigint {
  return (a * bps + BPS - 1n) / BPS;
}

/**
 * Most collateral an assignment at `price` may lock: ceil(max_collateral_ratio_bps * price / 10000). It is never below
 * the ratio collateral ceil(collateral_ratio_bps * price / 10000) (validateParams keeps max ≥ ratio).
 */
export function collateralCap(p: Params, price: bigint): bigint {
  return ceilBps(price, p.maxCollateralRatioBps);
}

/**
 * Share of the collateral slashed when the prover releases at height `h`: release_slash_bps up to the end of the
 * accept phase, then rising linearly to 100 % at the deadline — holding work until the deadline and releasing it
 * costs what a miss costs, so release is never a cheap way to sit on a request.
 */
export function releaseSlashBps(p: Params, acceptUntil: bigint, deadline: bigint, h: bigint): bigint {
  const base = p.releaseSlashBps;
  if (h <= acceptUntil || deadline <= acceptUntil) return h <= acceptUntil ? base : BPS;
  const elapsed = h >= deadline ? deadline - acceptUntil : h - acceptUntil;
  return base + ((BPS - base) * elapsed) / (deadline - acceptUntil);
}

/** The release slash at height `h`: ceil(collateral * releaseSlashBps / 10000), so any release of any lock costs ≥ 1. */
export function releaseSlash(p: Params, collateral: bigint, acceptUntil: bigint, deadline: bigint, h: bigint): bigint {
  return ceilBps(collateral, releaseSlashBps(p, acceptUntil, deadline, h));
}

/**
 * What a fallback proof that outraces assignment `asg` at height `h` adds to the request's bounty: the bounty share of
 * the release slash at `h` (keeper.outrace). A racer is paid it on top of the locked fee and the bounty already there.
 */
export function outraceBounty(p: Params, asg: Assignment, h: bigint): bigint {
  return splitSlash(p, releaseSlash(p, BigInt(asg.collateral), asg.acceptUntilHeight, asg.deadlineHeight, h)).bounty;
}

/** How a slash of `amount` is split: requester compensation, bounty kept for the request's eventual prover, burned. */
export function splitSlash(p: Params, amount: bigint): { toRequester: bigint; bounty: bigint; burned: bigint } {
  const toRequester = (amount * p.slashToRequesterBps) / BPS;
  const bounty = (amount * p.fallbackBountyBps) / BPS;
  return { toRequester, bounty, burned: amount - toRequester - bounty };
}

/** Paid to a prover declining in the accept phase, out of the escrow: max_fee * decline_fee_bps / 10000, at most the escrow. */
export function declineFee(p: Params, r: Request): bigint {
  const fee = (BigInt(r.maxFee) * p.declineFeeBps) / BPS;
  const escrow = BigInt(r.escrow);
  return fee < escrow ? fee : escrow;
}

/** Whether `prover` released, missed or declined request `r` (it is never assigned it again nor paid through the fallback). */
export function isExcluded(r: Request, prover: string): boolean {
  return r.excludedProvers.includes(prover);
}

/**
 * The first height at which an assignment is overdue (params.overdue_race_*, stored as Assignment.overdue_height when it
 * is made), never inside the accept phase:
 * - by its prover's own record of the circuit: assigned + ceil(overdue_race_bps x avg blocks to proof / 10000) +
 *   overdue_race_slack_blocks, but never later than accept_until + ceil(overdue_race_max_bps x the proving window /
 *   10000) (0 = no cap): a record is the prover's own deliveries, which it can slow on purpose until it is never overdue;
 * - a prover without a delivery of the circuit has no record: accept_until + ceil(overdue_race_new_bps x the proving
 *   window / 10000) (0 = none), or, when earlier, the circuit's pace in place of a record: assigned +
 *   ceil(overdue_race_pace_bps x the pace / 10000) + overdue_race_slack_blocks (0 = not used; `pace` undefined before
 *   the circuit's first assigned delivery). A pace slowed on purpose can therefore only bring back the window's share.
 * 0n (none) when the rule is off (overdue_race_bps 0) or the height is not before the deadline (the miss comes first).
 */
export function overdueHeight(
  p: Pick<Params, 'overdueRaceBps' | 'overdueRaceSlackBlocks' | 'overdueRaceNewBps' | 'overdueRaceMaxBps' | 'overdueRacePaceBps'>,
  rep: Pick<Reputation, 'fulfilled' | 'avgBlocksToProofMilli'>,
  pace: Pick<CircuitPace, 'avgBlocksToProofMilli'> | undefined,
  assignedHeight: bigint,
  acceptUntil: bigint,
  deadline: bigint,
): bigint {
  if (p.overdueRaceBps === 0n) return 0n;
  // the height `bps` of the proving window (accept_until .. deadline) in, rounded up
  const intoWindow = (bps: bigint) => acceptUntil + ceilBps(deadline - acceptUntil, bps);
  // `bps` of an average in milli-blocks after the assignment, rounded up, plus the slack
  const byAverage = (avgMilli: bigint, bps: bigint) => assignedHeight + (avgMilli * bps + BPS * 1000n - 1n) / (BPS * 1000n) + p.overdueRaceSlackBlocks;
  let h: bigint;
  if (rep.fulfilled > 0n) {
    h = byAverage(rep.avgBlocksToProofMilli, p.overdueRaceBps);
    const cap = p.overdueRaceMaxBps > 0n ? intoWindow(p.overdueRaceMaxBps) : undefined;
    if (cap !== undefined && cap < h) h = cap;
  } else {
    if (p.overdueRaceNewBps === 0n) return 0n;
    h = intoWindow(p.overdueRaceNewBps);
    if (pace !== undefined && p.overdueRacePaceBps > 0n) {
      const byPace = byAverage(pace.avgBlocksToProofMilli, p.overdueRacePaceBps);
      if (byPace < h) h = byPace;
    }
  }
  const at = h > acceptUntil ? h : acceptUntil + 1n;
  return at < deadline ? at : 0n;
}

/**
 * The first height at which `r` is open to the fallback while OPEN or ASSIGNED (undefined: not before a miss or the
 * failed-assignment limit puts it in FALLBACK): the requester's patience, for an ASSIGNED request never before its
 * accept phase has ended, or the assignment's overdue_height if earlier (src/market/race-opens.ts, the rule the worker
 * computes too).
 */
export function fallbackOpensAt(r: Pick<Request, 'fallbackAfterBlocks' | 'submittedHeight' | 'status' | 'assignment'>): bigint | undefined {
  const assignment = r.status === RequestStatus.REQUEST_STATUS_ASSIGNED ? r.assignment : undefined;
  return raceOpensAt({ fallbackAfterBlocks: r.fallbackAfterBlocks, submittedHeight: r.submittedHeight, assignment });
}

/**
 * Whether `r` can be fulfilled through the permissionless fallback at height `h`: it is in REQUEST_STATUS_FALLBACK, or
 * it is OPEN or ASSIGNED past fallbackOpensAt (the requester's patience, or an assignment overdue by its prover's
 * record). An ASSIGNED request past it is a race: its assigned prover may still deliver it directly until its deadline, anyone else eligible
 * through commit–reveal; the first valid proof wins (docs/protocol.md "The requester's patience").
 */
export function fallbackOpen(r: Request, h: bigint): boolean {
  if (r.status === RequestStatus.REQUEST_STATUS_FALLBACK) return true;
  if (r.status !== RequestStatus.REQUEST_STATUS_OPEN && r.status !== RequestStatus.REQUEST_STATUS_ASSIGNED) return false;
  const at = fallbackOpensAt(r);
  return at !== undefined && h >= at;
}

/** Whether `sender`'s proof for `r` at `h` goes through the fallback path: it is open to it and `sender` is not its assigned prover. */
export function viaFallback(r: Request, sender: string, h: bigint): boolean {
  return fallbackOpen(r, h) && !isAssignee(r, sender);
}

/** The request's bounty (slashed collateral held for its eventual prover) with `amount` more, as the record stores it. */
export function bountyPlus(r: Request, amount: bigint): string {
  return (BigInt(r.bounty || '0') + amount).toString();
}

/** Whether `sender` is the prover `r` is ASSIGNED to. */
export function isAssignee(r: Request, sender: string): boolean {
  return r.status === RequestStatus.REQUEST_STATUS_ASSIGNED && r.assignment !== undefined && r.assignment.prover === sender;
}

/**
 * Whether an OPEN request may be assigned at height `h`: at least accept_blocks + min_proving_window blocks must be
 * left to its expiry, so the prover always has its accept phase and a full minimum window after it.
 */
export function assignableAt(p: Params, r: Request, h: bigint): boolean {
  return r.expiryHeight >= h + p.acceptBlocks + p.minProvingWindow;
}
