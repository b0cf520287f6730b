/**
 * Which fallback commitments keep the worker off a request (modules/market/fallback.ts, the delivery rule): any live
 * commitment may reveal in its own window, the first valid reveal delivers the proof, and the payment goes to the
 * earliest commitment that reveals a valid proof in its window.
 *
 * An honest prover commits only with its proof in hand (the commitment hashes the proof) and reveals in the next block,
 * so a commitment that is still unrevealed `graceBlocks` blocks after it was made is most likely a squatter's (a
 * censoring prover that commits garbage to hold the request; it can never reveal). The worker stays off a request only
 * while one of its commitments is younger than that (its proof is probably about to land, and being earlier it would
 * be paid instead of us) or has revealed (the request is delivered; its payment is being held). Otherwise it proves:
 * its own reveal delivers the proof at once, and it is paid unless an earlier commitment reveals a valid proof in its
 * window after all — then its deposit comes back and only the proving time is lost. Before the delivery rule the worker
 * skipped every request with a live commitment, so a squatter kept it away until the squatter's window ran out.
 */
export interface CommitView {
  height: bigint;
  revealedHeight?: bigint;
}

/** The first commitment that keeps the worker off the request at `height`, or undefined when none does. */
export function blockingCommit<C extends CommitView>(commits: readonly C[], height: bigint, graceBlocks: bigint): C | undefined {
  return commits.find((c) => (c.revealedHeight ?? 0n) > 0n || height - c.height <= graceBlocks);
}

/**
 * What a fallback delivery pays its prover: the fee its commitment locked, less the protocol fee, plus the bounty
 * (modules/market/keeper.ts, the fallback settlement). The worker's estimate when it takes a request and its record of
 * a settled one use the same sum.
 */
export function fallbackPayout(fee: bigint, protocolFeeBps: bigint, bounty: bigint): bigint {
  return fee - (fee * protocolFeeBps) / 10_000n + bounty;
}
