/**
 * What a fallback proof is paid (issue 11): a fee that starts from a price the market already produced and ramps up to
 * the request's current fee, instead of the current fee from the start (by the time a request misses its deadline its
 * own ramp has usually reached max_fee, so the old rule paid about twice the market price; docs/mechanism.md).
 *
 *   reference ref  = max(price of the failed assignment, the circuit's last clearing price), at most max_fee; fixed
 *                    when the request enters FALLBACK (Request.fallback_reference_fee). For an OPEN or ASSIGNED request
 *                    past fallbackOpensAt (patience or overdue): the live assignment's price (ASSIGNED) or the circuit's last
 *                    clearing price, whichever is higher, read when the commitment is made (neither: no reduction).
 *   start h0       = fallback_height (FALLBACK), or when the requester's patience or the assignment's overdue height
 *                    opened it (penalties.ts fallbackOpensAt: submitted_height + fallback_after_blocks, for an
 *                    ASSIGNED request not before its accept phase ended; or Assignment.overdue_height if earlier)
 *   fee(h)         = min(current_fee(h), ref + floor((max_fee - ref) * min(h - h0, R) / R)),  R = fallback_ramp_blocks
 *                    (R = 0: current_fee(h), the rule before)
 *
 * A commitment locks fee(h) of its block (FallbackCommit.price); its reveal is paid that, less the protocol fee, plus
 * the bounty. Why a censoring coalition cannot starve the fallback by lowering the reference: fee(h) is non-decreasing
 * in h and fee(h0 + R) = current_fee(h0 + R), so whatever the reference, the fallback pays the old rule's fee at most R
 * blocks after it opened — the most any manipulation of the reference can delay a prover whose price the old rule met.
 * And the reference is a max of two prices the coalition can only lower by selling proofs at the lower price: the
 * failed assignment's uniform price is the (k+1)-th ask of its block, the clearing price that of the circuit's last
 * auction, so lowering either means every request cleared in that auction gets the lower price. The fee never exceeds
 * the current fee, so a high reference (stale, or raised by provers) cannot make the requester pay more than before.
 * Pure bigint arithmetic on committed state: deterministic.
 */
import type { Request } from '../../src/gen/proofbook/market/v1/market.js';
import { rampedFee } from './fee-ramp.js';
import { fallbackOpensAt } from './penalties.js';

/** min(a, b). */
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** The reference fixed when a request enters FALLBACK: max(failed assignment price, last clearing price), ≤ max_fee. */
export function fallbackReference(maxFee: bigint, assignmentPrice: bigint | undefined, lastClearing: bigint | undefined): bigint {
  let ref = 0n;
  if (assignmentPrice !== undefined && assignmentPrice > ref) ref = assignmentPrice;
  if (lastClearing !== undefined && lastClearing > ref) ref = lastClearing;
  return min(ref, maxFee);
}

/**
 * fee(h) above: `current` is the request's current fee at h (its own ramp, at most its escrow), `ref` the reference,
 * `h0` the height the fallback opened, `rampBlocks` params.fallback_ramp_blocks.
 */
export function rampedFallbackFee(current: bigint, maxFee: bigint, ref: bigint, h0: bigint, h: bigint, rampBlocks: bigint): bigint {
  if (rampBlocks === 0n) return current;
  return min(current, rampedFee(min(ref, maxFee), maxFee, rampBlocks, h0, h));
}

/** The height the fallback opened for `r` (FALLBACK: when it entered; OPEN or ASSIGNED: fallbackOpensAt, the patience or the overdue height). */
export function fallbackStart(r: Request): bigint {
  return r.fallbackHeight > 0n ? r.fallbackHeight : (fallbackOpensAt(r) ?? r.submittedHeight);
}
