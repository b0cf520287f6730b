/**
 * The spread penalty's controller (params.spread_target_hhi_bps > 0; docs/protocol.md "The penalty adjusts itself").
 *
 * The spread rule's penalty is the Lagrange multiplier of the winners' HHI, and the multiplier a market needs depends
 * on how far apart its asks are: the same 15,000 uproof that brings 16 provers to HHI 0.24 pushes 64 to 0.12-0.14,
 * paying for spread nobody asked for (docs/mechanism.md). So the chain looks for it the way EIP-1559 looks for its base
 * fee: after every block that assigned work, the penalty moves toward the window's HHI target by up to
 * spread_adjust_bps of itself, in proportion to how far the window is from the target.
 *
 *   'P' -> decimal: the penalty in force (absent: params.spread_penalty, where the controller starts)
 *
 * The window's HHI is estimated without bias, (sum c^2 - n) / (n (n - 1)) over its n assignments: the plain share sum
 * reads a window of one assignment as a monopoly (HHI 1), which would drive the penalty up on a young chain. Below
 * SPREAD_MIN_SAMPLE assignments the estimate is too noisy to act on and the penalty stays where it is. The penalty
 * stays within [1, SPREAD_PENALTY_CAP x spread_penalty]: at least 1 so a multiplicative step can grow it again, at
 * most a bounded multiple so a market that cannot get under the target (two provers) does not drive it without end,
 * and comes back from the cap in ~31 blocks of full steps (ln 64 / ln (1 / 0.875)).
 */
import { type KV, type KVReader } from '../../src/store/kv.js';
import type { Params } from '../../src/gen/proofbook/market/v1/market.js';
import { BPS, decodeText, encodeText } from './keys.js';
import { recentCounts } from './recent-winners.js';

const PENALTY_KEY = 'P';
/** Assignments the window must hold before the controller acts on its HHI. */
export const SPREAD_MIN_SAMPLE = 32n;
/** The penalty's ceiling, as a multiple of params.spread_penalty. */
export const SPREAD_PENALTY_CAP = 64n;

/** Whether the params run the controller: a positive HHI target and a penalty to start from (0 is greedy, left alone). */
export const controlled = (p: Params): boolean => p.spreadTargetHhiBps > 0n && BigInt(p.spreadPenalty) > 0n;

/** The highest penalty the controller may reach. */
export const spreadPenaltyCap = (p: Params): bigint => BigInt(p.spreadPenalty) * SPREAD_PENALTY_CAP;

/** The penalty as stored by the controller; undefined before its first step (and always without a controller). */
export function storedSpreadPenalty(kv: KVReader): bigint | undefined {
  const v = kv.get(PENALTY_KEY);
  return v === undefined ? undefined : BigInt(decodeText(v));
}

/** The penalty the auction applies this block. */
export function spreadPenaltyInForce(kv: KVReader, p: Params): bigint {
  return (controlled(p) ? storedSpreadPenalty(kv) : undefined) ?? BigInt(p.spreadPenalty);
}

/** Sets the penalty in force (genesis import); the caller has checked it with spreadPenaltyProblem. */
export function setSpreadPenalty(kv: KV, value: bigint): void {
  kv.set(PENALTY_KEY, encodeText(value.toString()));
}

/** The window's size and its HHI in bps, estimated without bias; hhiBps is 0 below two assignments. */
export function windowHhi(counts: Iterable<bigint>): { n: bigint; hhiBps: bigint } {
  let n = 0n;
  let squares = 0n;
  for (const c of counts) {
    n += c;
    squares += c * c;
  }
  return { n, hhiBps: n < 2n ? 0n : ((squares - n) * BPS) / (n * (n - 1n)) };
}

/**
 * One step of the controller: the penalty moves by adjustBps x (hhi - target) / target of itself, the relative gap
 * capped at 1 either way (so one block moves it by at most adjustBps), by at least 1 when it moves at all (so a small
 * penalty is not stuck by rounding), and stays within [1, cap]. Integer arithmetic, truncating toward zero.
 */
export function nextSpreadPenalty(current: bigint, hhiBps: bigint, targetBps: bigint, adjustBps: bigint, cap: bigint): bigint {
  let gap = ((hhiBps - targetBps) * BPS) / targetBps;
  if (gap > BPS) gap = BPS;
  if (gap < -BPS) gap = -BPS;
  let next = current + (current * adjustBps * gap) / (BPS * BPS);
  if (next === current && gap !== 0n && adjustBps > 0n) next += gap > 0n ? 1n : -1n;
  if (next < 1n) next = 1n;
  if (next > cap) next = cap;
  return next;
}

/** After a block that assigned work under the spread rule: one controller step on the window as it now stands. */
export function adjustSpreadPenalty(kv: KV, p: Params): void {
  if (!controlled(p)) return;
  const { n, hhiBps } = windowHhi(recentCounts(kv).values());
  if (n < SPREAD_MIN_SAMPLE) return;
  setSpreadPenalty(kv, nextSpreadPenalty(spreadPenaltyInForce(kv, p), hhiBps, p.spreadTargetHhiBps, p.spreadAdjustBps, spreadPenaltyCap(p)));
}

/**
 * What is wrong with `text` as the penalty in force under `p`, named `name` in the message (undefined: nothing): it must
 * be a positive integer, a controller must run, and it must not exceed the cap. Genesis import and the invariant.
 */
export function spreadPenaltyProblem(name: string, text: string, p: Params): string | undefined {
  if (!/^[1-9][0-9]*$/.test(text)) return `${name} must be a positive integer, got ${JSON.stringify(text)}`;
  if (!controlled(p)) return `${name} needs a controller (spread_target_hhi_bps and spread_penalty > 0)`;
  if (BigInt(text) > spreadPenaltyCap(p)) return `${name} ${text} is above its cap ${spreadPenaltyCap(p)} (${SPREAD_PENALTY_CAP} x spread_penalty)`;
  return undefined;
}

/** The invariant (part of market/recent-winners): a stored penalty belongs to a controller and is within its bounds. */
export function checkSpreadPenalty(kv: KVReader, p: Params): string | undefined {
  const v = kv.get(PENALTY_KEY);
  return v === undefined ? undefined : spreadPenaltyProblem('the stored spread penalty', decodeText(v), p);
}
