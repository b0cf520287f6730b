/**
 * When a racer starts on an assignment open to the race: past the requester's patience or the assignment's overdue
 * height (docs/protocol.md "The requester's patience", "Overdue by its own record").
 *
 * The chain lets anyone but the assignee race an ASSIGNED request from fallbackOpensAt on; nothing on chain tells an
 * honest assignee still proving from one holding the request without proving. Racing at once burns the racer's proof
 * whenever the assignee was honest but slower than the race's opening (docs/mechanism.md measures it). The assignee's own
 * record tells them apart better: Reputation.avg_blocks_to_proof_milli is its moving average of blocks from assignment
 * to delivery for the circuit. A racer waits until the assignment is overdue by that record — 1.25× the average,
 * rounded up, plus 2 blocks for its proof tx to land — and never before the race opens. An assignee without deliveries
 * of the circuit has no record: raced from the opening on. Nor does it wait past the assignment's own overdue height
 * (Assignment.overdue_height): that is the chain's verdict that the assignment is overdue — twice the record, or less
 * where the record is capped (params.overdue_race_max_bps), since a record can be slowed on purpose to buy time.
 */
/** The request fields raceOpensAt reads. */
export interface RaceTerms {
  fallbackAfterBlocks: bigint;
  submittedHeight: bigint;
  /** The live assignment of an ASSIGNED request (none for an OPEN one). */
  assignment?: { acceptUntilHeight: bigint; overdueHeight: bigint };
}

/**
 * The first height from which anyone but the assignee may deliver an OPEN or ASSIGNED request: the requester's patience
 * (submitted + fallback_after_blocks, for an assignment never inside its accept phase), or the assignment's overdue
 * height if that comes first; undefined when neither is set. The worker's copy of the chain's rule
 * (modules/market/penalties.ts fallbackOpensAt, which a library under src/ does not import; test/worker-unit.test.ts
 * checks that the two agree).
 */
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

export interface AssigneeRecord {
  fulfilled: bigint;
  avgBlocksToProofMilli: bigint;
}

/**
 * The first height a racer starts at: max(opensAt, min(assignedHeight + ceil(1.25 × avg) + 2, overdueHeight)), where
 * overdueHeight 0 is none.
 */
export function raceFrom(opensAt: bigint, assignedHeight: bigint, rec?: AssigneeRecord, overdueHeight = 0n): bigint {
  if (rec === undefined || rec.fulfilled === 0n) return opensAt;
  let due = assignedHeight + (rec.avgBlocksToProofMilli * 5n + 3999n) / 4000n + 2n;
  if (overdueHeight !== 0n && overdueHeight < due) due = overdueHeight;
  return due > opensAt ? due : opensAt;
}
