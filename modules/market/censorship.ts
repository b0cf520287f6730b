/**
 * Proposer censorship of proofs (issue 12 #4). A proposer can leave a prover's MsgSubmitProof out of the blocks it
 * proposes; if the last blocks of a proving window all come from one proposer, that proposer alone could get an
 * honest prover slashed. The rule (docs/protocol.md "Censorship by proposers"):
 *
 *   A proving window with deadline D is closed by block c (so a proof in block c+1 is refused and the deadline is
 *   slashed at the end of block c+1) only when c ≥ D and either
 *     - the LOOKBACK blocks c−LOOKBACK+1 … c were proposed by at least two different validators, or
 *     - c ≥ D + MAX_GRACE (a bounded grace: a validator proposing that many blocks in a row holds most of the power).
 *   Otherwise the window stays open (the prover's proof is accepted) into the next block.
 *
 * So one censoring proposer can take at most LOOKBACK−1 blocks off the end of a window: among the last LOOKBACK
 * blocks before the window closes, one came from another proposer, which includes a proof that was in the mempool.
 * With min_proving_window ≥ LOOKBACK a prover always keeps at least one block of another proposer. Where there is no
 * proposer history (single-validator chains, tools that drive the modules without FinalizeBlock) the window closes
 * at D exactly as before.
 */
import type { Context } from '../../src/framework/context.js';

/** How many of the last blocks must show two proposers (default 2: a lone censor removes at most one block). */
export const CENSORSHIP_LOOKBACK = 2n;
/** Most blocks a deadline can be held open for by a run of one proposer. */
export const CENSORSHIP_MAX_GRACE = 20n;

export interface ProposerHistoryReader {
  proposerAt(ctx: Context, height: bigint): { proposer: string; validators: number } | undefined;
}

export interface CensorshipRule {
  lookback: bigint;
  maxGrace: bigint;
}
export const DEFAULT_CENSORSHIP_RULE: CensorshipRule = { lookback: CENSORSHIP_LOOKBACK, maxGrace: CENSORSHIP_MAX_GRACE };

/**
 * Whether the proving window that ends at `deadline` is closed by block `c` (see the file comment). Pure: reads only
 * the recorded proposers of blocks c−lookback+1 … c.
 */
export function windowClosed(ctx: Context, history: ProposerHistoryReader | undefined, deadline: bigint, c: bigint, rule: CensorshipRule = DEFAULT_CENSORSHIP_RULE): boolean {
  if (c < deadline) return false;
  if (history === undefined || c >= deadline + rule.maxGrace) return true;
  const seen = new Set<string>();
  for (let h = c - rule.lookback + 1n; h <= c; h++) {
    const rec = h >= 1n ? history.proposerAt(ctx, h) : undefined;
    // No record (tools without FinalizeBlock, heights before the history) or a one-validator set: nothing to guard.
    if (rec === undefined || rec.validators <= 1) return true;
    seen.add(rec.proposer);
  }
  return seen.size >= 2;
}
