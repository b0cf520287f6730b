/**
 * The height from which anyone but the assignee may deliver an OPEN or ASSIGNED request: one pure rule that the chain
 * (modules/market/penalties.ts fallbackOpensAt, on every commitment and fallback fee) and its clients (the worker's
 * racers and accept-phase declines, the simulator) compute alike, so they cannot drift. Bigint arithmetic on request
 * fields only: deterministic.
 *
 * The earlier of:
 * - the requester's patience (fallback_after_blocks > 0): submitted_height + fallback_after_blocks, for an assignment
 *   never before its accept phase has ended, so the assigned prover always learns the terms (and may decline for free)
 *   before anyone may race it;
 * - the live assignment's overdue_height (its prover's own record; 0 = none).
 * undefined when neither is set: the request is not open before a miss or the failed-assignment limit puts it in FALLBACK.
 */
export interface RaceTerms {
  fallbackAfterBlocks: bigint;
  submittedHeight: bigint;
  /** The live assignment of an ASSIGNED request (none for an OPEN one). */
  assignment?: { acceptUntilHeight: bigint; overdueHeight: bigint };
}

export function raceOpensAt(r: RaceTerms): bigint | undefined {
  const a = r.assignment;
  let at: bigint | undefined;
  if (r.fallbackAfterBlocks > 0n) {
    const h = r.submittedHeight + r.fallbackAfterBlocks;
    at = a && a.acceptUntilHeight + 1n > h ? a.acceptUntilHeight + 1n : h;
  }
  const overdue = a?.overdueHeight ?? 0n;
  if (overdue > 0n && (at === undefined || overdue < at)) at = overdue;
  return at;
}
