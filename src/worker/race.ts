/**
 * When a racer starts on an assignment open to the race: past the requester's patience or the assignment's overdue
 * height (docs/protocol.md "The requester's patience", "Overdue by its own record").
 *
 * The chain lets anyone but the assignee race an ASSIGNED request from the height src/market/race-opens.ts gives; nothing on chain tells an
 * honest assignee still proving from one holding the request without proving. Racing at once burns the racer's proof
 * whenever the assignee was honest but slower than the race's opening (docs/mechanism.md measures it). The assignee's own
 * record tells them apart better: Reputation.avg_blocks_to_proof_milli is its moving average of blocks from assignment
 * to delivery for the circuit. A racer waits until the assignment is overdue by that record — 1.25× the average,
 * rounded up, plus 2 blocks for its proof tx to land — and never before the race opens. An assignee without deliveries
 * of the circuit has no record: raced from the opening on. Nor does it wait past the assignment's own overdue height
 * (Assignment.overdue_height): that is the chain's verdict that the assignment is overdue — twice the record, or less
 * where the record is capped (params.overdue_race_max_bps), since a record can be slowed on purpose to buy time.
 */
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
