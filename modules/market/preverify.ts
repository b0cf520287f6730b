/**
 * Which MsgSubmitProof the block's batch pre-verification takes (issue 10 item 4).
 *
 * FinalizeBlock hands the market the proof messages of paid txs (app.ts paidProofMsgs) so their pairings can be
 * batched ahead of execution. A proof that its message would refuse before verifying it must not cost a pairing
 * there either, so only messages that pass every check submitProof makes ahead of the pairing join the batch:
 *   - the public signals equal the request's committed signals (requireCommittedSignals), and
 *   - the sender may fulfil the request now: it is the assigned prover of an ASSIGNED request, or the request is in
 *     the permissionless fallback and the sender is a bonded, unjailed prover not excluded from it.
 * Everything else is left to its own message, where it fails without a pairing (or, for anything this filter lets
 * through wrongly, is verified one by one with gas charged). Pure reads; no writes, no gas.
 */
import type { Context } from '../../src/framework/context.js';
import type { Address } from '../../src/crypto/address.js';
import type { Request } from '../../src/gen/proofbook/market/v1/market.js';
import type { BondKeeper } from '../bond/keeper.js';
import { isAssignee, isExcluded, viaFallback } from './penalties.js';

export interface ProofMsgView {
  prover: string;
  requestId: bigint;
  proof: Uint8Array;
  publicSignals: readonly string[];
}

/** Whether `signals` (decimal strings, as in the message) are exactly the request's committed public signals. */
export function matchesCommitted(r: Request, signals: readonly string[]): boolean {
  const want = r.expectedPublicSignals;
  if (want.length === 0 || want.length !== signals.length) return false;
  for (let i = 0; i < want.length; i++) {
    const s = signals[i];
    if (typeof s !== 'string' || !/^[0-9]{1,78}$/.test(s) || BigInt(s) !== BigInt(want[i])) return false;
  }
  return true;
}

/** Whether `sender` may fulfil `r` at height `h` (the checks submitProof makes before it verifies anything). */
export function mayFulfil(ctx: Context, bond: BondKeeper, collateralDenom: string, r: Request, sender: string, h: bigint): boolean {
  if (viaFallback(r, sender, h)) {
    const pr = bond.prover(ctx, sender as Address);
    const bonded = pr?.bonded.find((c) => c.denom === collateralDenom)?.amount ?? '0';
    return pr !== undefined && BigInt(bonded) > 0n && !bond.isJailed(ctx, sender as Address) && !isExcluded(r, sender);
  }
  return isAssignee(r, sender);
}

/** The batch item of a proof message when it may join the pre-verification batch, else undefined. Never throws. */
export function preverifyItem(
  ctx: Context,
  bond: BondKeeper,
  collateralDenom: string,
  r: Request | undefined,
  v: ProofMsgView,
): { circuitId: string; proof: Uint8Array; publicSignals: bigint[] } | undefined {
  try {
    if (r === undefined || !matchesCommitted(r, v.publicSignals)) return undefined;
    if (!mayFulfil(ctx, bond, collateralDenom, r, v.prover, ctx.height)) return undefined;
    return { circuitId: r.circuitId, proof: v.proof, publicSignals: v.publicSignals.map((s) => BigInt(s)) };
  } catch {
    return undefined; // malformed: fails on its own in the tx
  }
}
