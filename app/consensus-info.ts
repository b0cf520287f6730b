/**
 * FinalizeBlock's consensus facts (proposer, last-commit votes, misbehavior) in the form modules read them
 * (BlockInfo.consensus, src/framework/context.ts): plain bytes and bigints, independent of the ABCI types.
 */
import { MisbehaviorType, type RequestFinalizeBlock } from 'cosmjs-types/tendermint/abci/types';
import { BlockIDFlag } from 'cosmjs-types/tendermint/types/validator';
import type { ConsensusInfo, MisbehaviorInfo } from '../src/framework/context.js';

export function consensusInfo(req: RequestFinalizeBlock): ConsensusInfo {
  const misbehavior: MisbehaviorInfo[] = [];
  for (const m of req.misbehavior ?? []) {
    const kind = m.type === MisbehaviorType.DUPLICATE_VOTE ? 'duplicate_vote' : m.type === MisbehaviorType.LIGHT_CLIENT_ATTACK ? 'light_client_attack' : undefined;
    if (kind === undefined || !m.validator) continue; // UNKNOWN evidence carries nothing to act on
    misbehavior.push({
      kind,
      address: m.validator.address,
      power: m.validator.power,
      height: m.height,
      timeSeconds: m.time?.seconds ?? 0n,
      totalVotingPower: m.totalVotingPower,
    });
  }
  return {
    proposer: req.proposerAddress ?? new Uint8Array(),
    lastCommitRound: req.decidedLastCommit?.round ?? 0,
    votes: (req.decidedLastCommit?.votes ?? []).map((v) => ({
      address: v.validator?.address ?? new Uint8Array(),
      power: v.validator?.power ?? 0n,
      signed: v.blockIdFlag === BlockIDFlag.BLOCK_ID_FLAG_COMMIT || v.blockIdFlag === BlockIDFlag.BLOCK_ID_FLAG_NIL,
    })),
    misbehavior,
  };
}
