/**
 * A patience for a request (MsgSubmitRequest.fallback_after_blocks) from how long the circuit's assigned provers have
 * taken lately: what `proofbook request prove --patience auto` and the SDK's `fallbackAfterBlocks: 'auto'` set. Pure
 * (the input is a StatsHistory query result), so the CLI, the SDK and the simulator compute the same number.
 *
 * Why a requester wants one: without a patience an assignment is raced only from its overdue height (its prover's own
 * record, or half its proving window for a prover without one; docs/protocol.md "Overdue by its own record"), so a
 * censoring prover without a record holds a request for half the window. With a patience, any bonded prover may race
 * it from `submitted + patience` (never inside the accept phase).
 *
 *   patience = ceil(2 x m) + 3   m = the median blocks from assignment to proof of the assigned provers' deliveries
 *                                    in the stats window (StatsHistory's assigned_fills, weighted by count)
 *            = ceil(window / 4)  when the window holds no such delivery (a new circuit, a new chain)
 *
 * Twice the median plus the block the auction takes and the chain's 2-block slack is the chain's own overdue rule
 * (2 x a prover's average + 2) with the market's record standing in for a prover without one. The median, not the
 * mean, and only deliveries by the assigned prover: a coalition holding or padding its assignments lengthens the
 * mean (and a racer's delivery of a held request counts from submission), but moves the median only once it delivers
 * half the circuit's proofs, which a coalition of the cheapest provers can. Why it is not the default: an honest
 * prover slower than twice the median may be outraced (its worker declines such an assignment in the accept phase
 * instead, and the request goes to a faster, often dearer prover); docs/mechanism.md "A patience from the market"
 * measures both sides.
 */
import type { BlockStats } from '../gen-sdk/proofbook/market/v1/market.js';

/** Blocks of slack past twice the median: 1 for the auction that assigns it, 2 as in the chain's overdue rule. */
export const PATIENCE_SLACK_BLOCKS = 3n;

/** The weighted median of the per-block mean delivery times (milli-blocks), or undefined without any delivery. */
export function medianAssignedMilli(blocks: readonly Pick<BlockStats, 'assignedFills' | 'meanAssignedBlocksToProofMilli'>[]): bigint | undefined {
  const samples = blocks.filter((b) => b.assignedFills > 0n).map((b) => ({ milli: b.meanAssignedBlocksToProofMilli, n: b.assignedFills }));
  const total = samples.reduce((s, x) => s + x.n, 0n);
  if (total === 0n) return undefined;
  samples.sort((a, b) => (a.milli < b.milli ? -1 : a.milli > b.milli ? 1 : 0));
  // the lower median: the first value whose cumulative count reaches half the total
  const half = (total + 1n) / 2n;
  let seen = 0n;
  for (const x of samples) {
    seen += x.n;
    if (seen >= half) return x.milli;
  }
  return samples[samples.length - 1].milli;
}

/** The patience for a request with `provingWindow` blocks, given the median (medianAssignedMilli; undefined: none). */
export function patienceFor(medianMilli: bigint | undefined, provingWindow: bigint): bigint {
  if (provingWindow <= 0n) throw new RangeError('provingWindow must be positive');
  if (medianMilli === undefined) return (provingWindow + 3n) / 4n;
  return (2n * medianMilli + 999n) / 1000n + PATIENCE_SLACK_BLOCKS;
}

/** The patience for a request with `provingWindow` blocks, from the circuit's StatsHistory `blocks`. */
export function suggestPatience(blocks: readonly Pick<BlockStats, 'assignedFills' | 'meanAssignedBlocksToProofMilli'>[], provingWindow: bigint): bigint {
  return patienceFor(medianAssignedMilli(blocks), provingWindow);
}
