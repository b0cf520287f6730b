/**
 * Settled requests leave consensus state.
 *
 * A request that reaches a final status (FULFILLED, EXPIRED, CANCELLED) is scheduled under
 *   'z' + u64(settled height) + u64(id) -> empty
 * and, once `params.settled_retention_blocks` blocks have passed, `pruneSettled` (run from the keeper's endBlock)
 * deletes its record (with the proof and public signals it holds), its inline input, its by-requester, by-status
 * and by-circuit-and-status index entries and the schedule entry. What a user needs afterwards stays in the tx/event history that
 * CometBFT indexes (`tx_search`, gRPC `GetTxsEvent`): the submit tx (input), the MsgSubmitProof tx (proof, signals)
 * and the events `request_fulfilled` / `request_expired` / `request_cancelled` / `request_pruned`. The requester
 * CLI and SDK fall back to that history when a request is no longer in state (src/client/history.ts).
 *
 * `settled_retention_blocks = 0` keeps settled requests for good (the behaviour before retention existed, and what
 * a genesis file without the field gets). A block removes at most MAX_PRUNE_PER_BLOCK requests, so lowering the
 * param on a large state spreads the work over several blocks instead of one slow block.
 */
import type { Context } from '../../src/framework/context.js';
import { type KV, u64Key } from '../../src/store/kv.js';
import type { Address } from '../../src/crypto/address.js';
import { Request, RequestStatus } from '../../src/gen/proofbook/market/v1/market.js';
import { EMPTY, byCircuitStatusKey, byRequesterKey, byStatusKey, inputKey, requestKey, trailingId } from './keys.js';

export const SETTLED_PREFIX = 'z';
export const MAX_PRUNE_PER_BLOCK = 5_000;

export const settledKey = (height: bigint, id: bigint): string => SETTLED_PREFIX + u64Key(height) + u64Key(id);

export function isFinal(s: RequestStatus): boolean {
  return s === RequestStatus.REQUEST_STATUS_FULFILLED || s === RequestStatus.REQUEST_STATUS_EXPIRED || s === RequestStatus.REQUEST_STATUS_CANCELLED;
}

/** Schedules a request that just became final (kv: the market store). */
export function scheduleSettled(kv: KV, height: bigint, id: bigint): void {
  kv.set(settledKey(height, id), EMPTY);
}

/** The height a stored final request settled at: its last status change (genesis import uses it). */
export function settledHeight(r: Request, fallback: bigint): bigint {
  const last = r.history.length > 0 ? r.history[r.history.length - 1]!.height : 0n;
  return last > 0n ? last : r.fulfilledHeight > 0n ? r.fulfilledHeight : fallback;
}

/**
 * Removes requests that settled at height <= h - retention (kv: the market store). Deterministic: the schedule is
 * walked in key order (settled height, then id). Returns how many were removed.
 */
export function pruneSettled(ctx: Context, kv: KV, retention: bigint): number {
  const h = ctx.height;
  if (retention === 0n || h < retention) return 0;
  const end = SETTLED_PREFIX + u64Key(h - retention + 1n);
  const due: string[] = [];
  for (const [k] of kv.iterate(SETTLED_PREFIX, end)) {
    due.push(k);
    if (due.length >= MAX_PRUNE_PER_BLOCK) break;
  }
  for (const k of due) {
    const id = trailingId(k);
    kv.delete(k);
    const raw = kv.get(requestKey(id));
    if (raw === undefined) continue; // already gone (e.g. re-scheduled twice); nothing else to remove
    const r = Request.decode(raw);
    if (!isFinal(r.status)) continue; // never prune a live request (cannot happen: statuses never leave final)
    // nor a fallback delivery whose payment is held (it is scheduled when it settles; cannot happen either)
    if ((r.fallbackPayeeCommitId ?? 0n) > 0n) continue;
    kv.delete(requestKey(id));
    kv.delete(inputKey(id));
    kv.delete(byRequesterKey(r.requester as Address, id));
    kv.delete(byStatusKey(r.status, id));
    kv.delete(byCircuitStatusKey(r.circuitId, r.status, id));
    ctx.emit('proofbook.market.request_pruned', [
      ['request_id', id.toString()],
      ['requester', r.requester],
      ['status', RequestStatus[r.status] ?? String(r.status)],
    ]);
  }
  return due.length;
}
