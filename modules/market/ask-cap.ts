/**
 * Bounds on what asks cost the auction (issue 10, "asks accumulation"):
 *  - ask admission: an ask is posted, and stays, only while its prover is bonded, unjailed and its free collateral
 *    covers params.min_bond_per_ask per ask (and the least lock at the ask's price); the auction removes idle asks that
 *    fail this when it meets them (auction-read.ts), so an unfunded ask costs at most one visit;
 *  - per circuit at most params.max_asks_per_circuit ask records; when full, a new ask evicts an idle ask of a prover
 *    that fails admission (any price), else must be priced below the most expensive idle ask, which it evicts. Asks
 *    serving assignments are never evicted; there are at most as many of them as assignments, which requests pay for.
 *  - the auction visits only circuits with open demand (the fee index) and loads a circuit's asks only when its
 *    cheapest live ask is within reach of its highest open fee; otherwise nothing can match there.
 * The arithmetic is in docs/protocol.md "Ask admission".
 */
import { iteratePrefix, prefixEnd, type KV } from '../../src/store/kv.js';
import type { Ask } from '../../src/gen/proofbook/market/v1/market.js';
import { trailingId, askByPricePrefix, askCountKey, circIdFromKey, decodeU64, encodeU64, OPEN_BY_CIRCUIT_PREFIX, readDescAmountKey } from './keys.js';

export function askCount(kv: KV, circuitId: string): bigint {
  const v = kv.get(askCountKey(circuitId));
  return v === undefined ? 0n : decodeU64(v);
}

export function addAskCount(kv: KV, circuitId: string, delta: bigint): void {
  const n = askCount(kv, circuitId) + delta;
  if (n < 0n) throw new Error(`ask count of circuit ${circuitId} would go negative`);
  if (n === 0n) kv.delete(askCountKey(circuitId));
  else kv.set(askCountKey(circuitId), encodeU64(n));
}

/**
 * The ask a new one displaces in a full circuit: the most expensive idle ask (no assignments) whose prover fails
 * admission (`dead`: unbonded, jailed or underfunded; any price), else the most expensive idle ask (ties: the newest
 * id, so an incumbent keeps its place), or undefined when every ask serves assignments. Reads at most the circuit's
 * asks (params.max_asks_per_circuit), only when the circuit is full.
 */
export function evictionCandidate(kv: KV, circuitId: string, load: (id: bigint) => Ask | undefined, dead: (a: Ask) => boolean): { ask: Ask; dead: boolean } | undefined {
  let top: Ask | undefined;
  for (const [k] of iteratePrefix(kv, askByPricePrefix(circuitId), true)) {
    const a = load(trailingId(k));
    if (a === undefined || a.active !== 0n) continue;
    if (dead(a)) return { ask: a, dead: true };
    if (top === undefined) top = a;
  }
  return top === undefined ? undefined : { ask: top, dead: false };
}

/**
 * Circuits with OPEN (or auctioned FALLBACK) requests, in circuit-id byte order, each with its highest max fee: one
 * seek per circuit over the fee index (highest max fee first within a circuit).
 */
export function circuitsWithDemand(kv: KV): { circuitId: string; topMaxFee: bigint }[] {
  const out: { circuitId: string; topMaxFee: bigint }[] = [];
  const end = prefixEnd(OPEN_BY_CIRCUIT_PREFIX);
  let start = OPEN_BY_CIRCUIT_PREFIX;
  for (;;) {
    const it = kv.iterate(start, end);
    const first = it.next();
    it.return?.();
    if (first.done) break;
    const k = first.value[0];
    const c = k.slice(1, 33);
    out.push({ circuitId: circIdFromKey(c), topMaxFee: readDescAmountKey(k, 33).amount });
    const next = prefixEnd(OPEN_BY_CIRCUIT_PREFIX + c);
    if (next === undefined) break;
    start = next;
  }
  return out;
}
