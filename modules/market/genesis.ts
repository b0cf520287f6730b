/**
 * Market genesis: the proto3 JSON of proofbook.market.v1.GenesisState with snake_case field names (uint64 as decimal
 * strings, bytes as base64, enums by name), e.g.
 *   { "params": { "fee_denom": "uproof", "collateral_ratio_bps": "20000", … }, "requests": [], "asks": [],
 *     "reputations": [], "next_request_id": "1", "next_ask_id": "1" }
 * initGenesis rebuilds every index from the records; escrow and locked collateral must agree with the bank and bond
 * genesis (the invariants check it after the first block).
 */
import type { Context } from '../../src/framework/context.js';
import { GenesisState, Params, RequestStatus, type FallbackCommit } from '../../src/gen/proofbook/market/v1/market.js';
import { isValidDenom } from '../../src/types/coins.js';
import type { MarketKeeperImpl } from './keeper.js';
import { ASK_PREFIX, BPS, DEFAULT_PARAMS, REPUTATION_PREFIX, REQUEST_PREFIX, SPREAD_WINDOW } from './keys.js';
import { Ask, Reputation, Request } from '../../src/gen/proofbook/market/v1/market.js';
import { iteratePrefix } from '../../src/store/kv.js';
import { isJsonObject, snakeJsonKeys, unknownJsonFields } from '../../src/framework/proto-json.js';
import { recentWinners, recordWinner } from './recent-winners.js';
import { setSpreadPenalty, spreadPenaltyProblem, storedSpreadPenalty } from './spread-penalty.js';
import { allCircuitPaces, circuitPaceProblem, setCircuitPace } from './circuit-pace.js';
import type { Address } from '../../src/crypto/address.js';
import { isFinal, scheduleSettled, settledHeight } from './retention.js';
import { allCommits, allForfeits, isRevealed, payoutHeightOf, payoutPending, peekNextCommitId, putCommit, putForfeit, setNextCommitId } from './fallback.js';

export function paramsToJson(p: Params): unknown {
  return snakeJsonKeys(Params.toJSON(p));
}

/** Refuses a field the market's GenesisState or Params does not have (proto3 JSON would skip it, and a misspelt param read 0). */
function refuseUnknownFields(state: unknown): void {
  const refuse = (where: string, keys: string[], why = '') => {
    if (keys.length > 0) throw new Error(`${where}: unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}${why}`);
  };
  if (!isJsonObject(state)) return;
  refuse('market genesis', unknownJsonFields(state, GenesisState.fromPartial({})));
  if (isJsonObject(state.params)) refuse('market params', unknownJsonFields(state.params, Params.fromPartial({})), ' (a param left out reads 0)');
}

export function validateParams(p: Params): void {
  const bad = (m: string) => {
    throw new Error(`market params: ${m}`);
  };
  if (!isValidDenom(p.feeDenom)) bad(`invalid fee_denom '${p.feeDenom}'`);
  if (!isValidDenom(p.collateralDenom)) bad(`invalid collateral_denom '${p.collateralDenom}'`);
  for (const [name, v] of [['protocol_fee_bps', p.protocolFeeBps], ['release_slash_bps', p.releaseSlashBps], ['slash_to_requester_bps', p.slashToRequesterBps]] as const) {
    if (v > BPS) bad(`${name} must be at most 10000, got ${v}`);
  }
  if (!/^(0|[1-9][0-9]*)$/.test(p.minFee)) bad(`min_fee must be a non-negative integer, got ${JSON.stringify(p.minFee)}`);
  if (p.minProvingWindow === 0n || p.minProvingWindow > p.maxProvingWindow) bad('need 0 < min_proving_window <= max_proving_window');
  if (p.maxRequestLifetime === 0n) bad('max_request_lifetime must be positive');
  if (p.statsWindow === 0n) bad('stats_window must be positive');
  if (p.maxCollateralRatioBps < p.collateralRatioBps) bad('max_collateral_ratio_bps must be at least collateral_ratio_bps');
  if (p.collateralRatioBps === 0n || p.releaseSlashBps === 0n) bad('collateral_ratio_bps and release_slash_bps must be positive (a release must always cost something)');
  if (p.slashToRequesterBps + p.fallbackBountyBps >= BPS) bad('slash_to_requester_bps + fallback_bounty_bps must be below 10000 (part of every slash is burned)');
  if (p.maxFailedAssignments < 1n || p.maxFailedAssignments > 16n) bad('max_failed_assignments must be 1..16');
  if (p.declineFeeBps * p.maxFailedAssignments > BPS / 2n) bad('decline_fee_bps * max_failed_assignments must be at most 5000 (decline fees take at most half the escrow)');
  if (p.acceptBlocks > 100n) bad('accept_blocks must be at most 100');
  if (!/^(0|[1-9][0-9]*)$/.test(p.fallbackCommitDeposit)) bad(`fallback_commit_deposit must be a non-negative integer, got ${JSON.stringify(p.fallbackCommitDeposit)}`);
  if (p.fallbackRevealBlocks < 1n || p.fallbackRevealBlocks > 1000n) bad('fallback_reveal_blocks must be 1..1000');
  if (p.maxFallbackCommits < 1n || p.maxFallbackCommits > 64n) bad('max_fallback_commits must be 1..64');
  if (p.fallbackRampBlocks > 100_000n) bad('fallback_ramp_blocks must be at most 100000');
  if (p.maxAsksPerCircuit < 1n || p.maxAsksPerCircuit > 10_000n) bad(`max_asks_per_circuit must be 1..10000 (the auction may load that many asks per circuit and block), got ${p.maxAsksPerCircuit}`);
  if (!/^(0|[1-9][0-9]*)$/.test(p.minBondPerAsk)) bad(`min_bond_per_ask must be a non-negative integer, got ${JSON.stringify(p.minBondPerAsk)}`);
  if (p.maxAskLifetime === 0n) bad('max_ask_lifetime must be positive');
  if (!/^(0|[1-9][0-9]*)$/.test(p.spreadPenalty)) bad(`spread_penalty must be a non-negative integer, got ${JSON.stringify(p.spreadPenalty)}`);
  if (p.spreadFreeWins > SPREAD_WINDOW) bad(`spread_free_wins must be at most the window, ${SPREAD_WINDOW}`);
  if (p.spreadTargetHhiBps > BPS) bad(`spread_target_hhi_bps must be at most 10000, got ${p.spreadTargetHhiBps}`);
  if (p.spreadAdjustBps > BPS) bad(`spread_adjust_bps must be at most 10000, got ${p.spreadAdjustBps}`);
  if (p.overdueRaceBps !== 0n && p.overdueRaceBps < BPS) bad(`overdue_race_bps must be 0 (off) or at least 10000 (an assignment is never raced before its prover's own average), got ${p.overdueRaceBps}`);
  if (p.overdueRaceBps > 100n * BPS) bad(`overdue_race_bps must be at most 1000000, got ${p.overdueRaceBps}`);
  if (p.overdueRaceNewBps > BPS) bad(`overdue_race_new_bps must be at most 10000 (a share of the proving window), got ${p.overdueRaceNewBps}`);
  if (p.overdueRaceMaxBps > BPS) bad(`overdue_race_max_bps must be at most 10000 (a share of the proving window), got ${p.overdueRaceMaxBps}`);
  if (p.overdueRacePaceBps !== 0n && p.overdueRacePaceBps < BPS) bad(`overdue_race_pace_bps must be 0 (off) or at least 10000 (a prover is never raced before the circuit's pace), got ${p.overdueRacePaceBps}`);
  if (p.overdueRacePaceBps > 100n * BPS) bad(`overdue_race_pace_bps must be at most 1000000, got ${p.overdueRacePaceBps}`);
  if (p.overdueRaceSlackBlocks > 1000n) bad(`overdue_race_slack_blocks must be at most 1000, got ${p.overdueRaceSlackBlocks}`);
}

export function defaultMarketGenesis(): unknown {
  return { params: paramsToJson(DEFAULT_PARAMS), requests: [], asks: [], reputations: [], next_request_id: '1', next_ask_id: '1' };
}

export function initMarketGenesis(ctx: Context, state: unknown, k: MarketKeeperImpl): void {
  refuseUnknownFields(state);
  const g = GenesisState.fromJSON(state ?? {});
  const params = g.params ?? DEFAULT_PARAMS;
  validateParams(params);
  let maxReq = 0n;
  for (const r of g.requests) {
    if (r.id === 0n) throw new Error('market genesis: request id 0');
    if (r.status === RequestStatus.REQUEST_STATUS_ASSIGNED && !r.assignment) throw new Error(`market genesis: request ${r.id} is ASSIGNED without an assignment`);
    if (r.id > maxReq) maxReq = r.id;
  }
  let maxAsk = 0n;
  for (const a of g.asks) if (a.id > maxAsk) maxAsk = a.id;
  const nextReq = g.nextRequestId === 0n ? 1n : g.nextRequestId;
  const nextAsk = g.nextAskId === 0n ? 1n : g.nextAskId;
  if (nextReq <= maxReq) throw new Error(`market genesis: next_request_id ${nextReq} must exceed every request id (max ${maxReq})`);
  if (nextAsk <= maxAsk) throw new Error(`market genesis: next_ask_id ${nextAsk} must exceed every ask id (max ${maxAsk})`);
  k.setParams(ctx, params);
  k.setNextId(ctx, 'n', nextReq);
  k.setNextId(ctx, 'N', nextAsk);
  for (const r of g.requests) {
    k.putNewRequest(ctx, r);
    // (a fallback delivery whose payment is held is scheduled when it settles: fallback.ts)
    if (isFinal(r.status) && !payoutPending(r)) scheduleSettled(k.store(ctx), settledHeight(r, ctx.height), r.id);
  }
  for (const a of g.asks) k.putNewAsk(ctx, a);
  for (const r of g.reputations) k.setReputation(ctx, r);
  // each circuit's pace (circuit-pace.ts), once per circuit
  const paced = new Set<string>();
  for (const pace of g.circuitPaces) {
    const problem = circuitPaceProblem(pace) ?? (paced.has(pace.circuitId) ? `circuit_paces: ${pace.circuitId} appears twice` : undefined);
    if (problem !== undefined) throw new Error(`market genesis: ${problem}`);
    paced.add(pace.circuitId);
    setCircuitPace(k.store(ctx), pace);
  }
  // fallback commitments (fallback.ts): each on a live request, or on a delivery whose payment is held, that counts it;
  // deposits in escrow (invariants check)
  let maxCommit = 0n;
  const perRequest = new Map<bigint, number>();
  const liveCommitters = new Set<string>();
  const byId = new Map(g.requests.map((r) => [r.id, r]));
  const unrevealedOf = new Map<bigint, FallbackCommit[]>();
  const commits = [...g.fallbackCommits].sort((a, b) => (a.requestId !== b.requestId ? (a.requestId < b.requestId ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const c of commits) {
    if (c.id === 0n) throw new Error('market genesis: fallback commitment id 0');
    if (c.id > maxCommit) maxCommit = c.id;
    const r = byId.get(c.requestId);
    if (r !== undefined && isFinal(r.status) && !payoutPending(r)) throw new Error(`market genesis: fallback commitment ${c.id} is on request ${c.requestId}, which has ended`);
    // every commitment's window is its own (height + 1 .. reveal_until_height); a revealed one is a held payment's payee
    if (c.revealUntilHeight <= c.height) throw new Error(`market genesis: fallback commitment ${c.id} must have reveal_until_height above its height ${c.height}`);
    if (isRevealed(c)) {
      if (r === undefined || r.fallbackPayeeCommitId !== c.id || r.fallbackPayee !== c.prover) throw new Error(`market genesis: fallback commitment ${c.id} is revealed but is not request ${c.requestId}'s payee`);
      if (c.revealedHeight <= c.height || c.revealedHeight > c.revealUntilHeight) throw new Error(`market genesis: fallback commitment ${c.id} was revealed outside its window`);
    } else {
      if (r !== undefined && payoutPending(r) && c.id > r.fallbackPayeeCommitId) throw new Error(`market genesis: fallback commitment ${c.id} is later than request ${c.requestId}'s payee and must have been refunded`);
      unrevealedOf.set(c.requestId, [...(unrevealedOf.get(c.requestId) ?? []), c]);
    }
    perRequest.set(c.requestId, (perRequest.get(c.requestId) ?? 0) + 1);
    liveCommitters.add(`${c.requestId}/${c.prover}`);
    putCommit(k.store(ctx), c);
  }
  // forfeit markers (fallback.ts): on live requests that count them, provers without a live commitment there
  const forfeitsPer = new Map<bigint, number>();
  const forfeitSeen = new Set<string>();
  for (const f of g.fallbackForfeits) {
    const at = `${f.requestId}/${f.prover}`;
    if (forfeitSeen.has(at)) throw new Error(`market genesis: fallback forfeit of ${f.prover} on request ${f.requestId} listed twice`);
    if (liveCommitters.has(at)) throw new Error(`market genesis: ${f.prover} forfeited request ${f.requestId} and holds a live commitment on it`);
    try {
      putForfeit(k.store(ctx), f);
    } catch (e) {
      throw new Error(`market genesis: fallback forfeit on request ${f.requestId}: invalid prover address ${JSON.stringify(f.prover)} (${(e as Error).message})`);
    }
    forfeitSeen.add(at);
    forfeitsPer.set(f.requestId, (forfeitsPer.get(f.requestId) ?? 0) + 1);
  }
  for (const r of g.requests) {
    const n = forfeitsPer.get(r.id) ?? 0;
    forfeitsPer.delete(r.id);
    if (isFinal(r.status)) {
      if (n > 0) throw new Error(`market genesis: request ${r.id} has ended and keeps no fallback forfeits, genesis has ${n}`);
    } else if (n !== (r.fallbackForfeits ?? 0)) throw new Error(`market genesis: request ${r.id} counts ${r.fallbackForfeits} fallback forfeits, genesis has ${n}`);
  }
  for (const id of forfeitsPer.keys()) throw new Error(`market genesis: fallback forfeit on unknown request ${id}`);
  for (const r of g.requests) {
    if (payoutPending(r)) {
      // a held fallback payment: FULFILLED, its payee's commitment present, at least one earlier window still open
      const earlier = unrevealedOf.get(r.id) ?? [];
      if (r.status !== RequestStatus.REQUEST_STATUS_FULFILLED) throw new Error(`market genesis: request ${r.id} holds a fallback payment but is not FULFILLED`);
      if (!commits.some((c) => c.requestId === r.id && c.id === r.fallbackPayeeCommitId && isRevealed(c))) throw new Error(`market genesis: request ${r.id}'s fallback payee commitment ${r.fallbackPayeeCommitId} is missing`);
      if (earlier.length === 0) throw new Error(`market genesis: request ${r.id} holds a fallback payment with no earlier commitment left`);
      if (r.fallbackPayoutHeight !== payoutHeightOf(earlier)) throw new Error(`market genesis: request ${r.id} settles its fallback payment at ${r.fallbackPayoutHeight}, its earlier windows end at ${payoutHeightOf(earlier)}`);
    } else if ((r.fallbackPayoutHeight ?? 0n) !== 0n) throw new Error(`market genesis: request ${r.id} has a fallback payout height but no held payment`);
    if ((perRequest.get(r.id) ?? 0) !== r.fallbackCommits) throw new Error(`market genesis: request ${r.id} counts ${r.fallbackCommits} fallback commitments, genesis has ${perRequest.get(r.id) ?? 0}`);
    perRequest.delete(r.id);
  }
  for (const id of perRequest.keys()) throw new Error(`market genesis: fallback commitment on unknown request ${id}`);
  const nextCommit = g.nextFallbackCommitId === 0n ? 1n : g.nextFallbackCommitId;
  if (nextCommit <= maxCommit) throw new Error(`market genesis: next_fallback_commit_id ${nextCommit} must exceed every commitment id (max ${maxCommit})`);
  setNextCommitId(k.store(ctx), nextCommit);
  // the spread rule's window, oldest first (recent-winners.ts): replayed, so the next assignment evicts the oldest
  if (BigInt(g.recentWinners.length) > SPREAD_WINDOW) throw new Error(`market genesis: ${g.recentWinners.length} recent winners, the window holds ${SPREAD_WINDOW}`);
  for (const w of g.recentWinners) {
    try {
      recordWinner(k.store(ctx), w as Address);
    } catch (e) {
      throw new Error(`market genesis: recent winner ${JSON.stringify(w)} is not an address (${(e as Error).message})`);
    }
  }
  // the spread penalty in force, where its controller had taken it (spread-penalty.ts)
  const current = g.spreadPenaltyCurrent;
  if (current !== '') {
    const problem = spreadPenaltyProblem('spread_penalty_current', current, params);
    if (problem !== undefined) throw new Error(`market genesis: ${problem}`);
    setSpreadPenalty(k.store(ctx), BigInt(current));
  }
}

export function exportMarketGenesis(ctx: Context, k: MarketKeeperImpl): unknown {
  const kv = k.store(ctx);
  const requests = [...iteratePrefix(kv, REQUEST_PREFIX)].map(([, v]) => k.withInput(ctx, Request.decode(v)));
  const asks = [...iteratePrefix(kv, ASK_PREFIX)].map(([, v]) => Ask.decode(v));
  const reputations = [...iteratePrefix(kv, REPUTATION_PREFIX)].map(([, v]) => Reputation.decode(v));
  const g: GenesisState = {
    params: k.params(ctx),
    requests,
    asks,
    reputations,
    nextRequestId: k.peekNextId(ctx, 'n'),
    nextAskId: k.peekNextId(ctx, 'N'),
    fallbackCommits: allCommits(kv),
    nextFallbackCommitId: peekNextCommitId(kv),
    fallbackForfeits: allForfeits(kv),
    recentWinners: recentWinners(kv),
    spreadPenaltyCurrent: storedSpreadPenalty(kv)?.toString() ?? '',
    circuitPaces: allCircuitPaces(kv),
  };
  return snakeJsonKeys(GenesisState.toJSON(g));
}
