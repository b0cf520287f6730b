/**
 * The one linear fee ramp of the market: a request's own ramp (min_fee → max_fee over ramp_blocks) and the fallback's
 * (reference → max_fee over fallback_ramp_blocks, fallback-fee.ts) are the same function of height.
 */

/** fee(h) = from + (to - from) * min(h - start, ramp) / ramp, floored; ramp 0 = `to` at once. */
export function rampedFee(from: bigint, to: bigint, rampBlocks: bigint, startHeight: bigint, height: bigint): bigint {
  if (rampBlocks === 0n) return to;
  let elapsed = height > startHeight ? height - startHeight : 0n;
  if (elapsed > rampBlocks) elapsed = rampBlocks;
  return from + ((to - from) * elapsed) / rampBlocks;
}
