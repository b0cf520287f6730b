/**
 * Bounds on what live asks cost the auction (issue 10, "asks accumulation"):
 *  - per circuit at most MAX_ASKS_PER_CIRCUIT ask records; when full, a new ask must be priced below the most
 *    expensive idle ask (no assignments), which it evicts (price-priority admission). Asks serving assignments are never
 *    evicted; there are at most as many of them as assignments, which requests pay for.
 *  - the auction visits only circuits with open demand (the fee index) and loads a circuit's asks only when its
 *    cheapest live ask is within reach of its highest open max fee; otherwise nothing can match there (the clear would
 *    read no request), so skipping it changes no outcome.
 * Work per block: one seek per circuit with open requests plus, per circuit whose demand reaches its cheapest live ask,
 * at most MAX_ASKS_PER_CIRCUIT asks. The arithmetic is in docs/protocol.md "Ask admission".
 */
import { iteratePrefix, prefixEnd, type KV } from '../../src/store/kv.js';
import type { Ask } from '../../src/gen/proofbook/market/v1/market.js';
import { trailingId, askByPricePrefix, askCountKey, circIdFromKey, decodeU64, encodeU64, OPEN_BY_CIRCUIT_PREFIX, readAscAmountKey, readDescAmountKey } from './keys.js';

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

/** The most expensive ask of the circuit that serves no assignment (ties: the newest id, so an incumbent keeps its place), or undefined. */
export function evictionCandidate(kv: KV, circuitId: string, load: (id: bigint) => Ask | undefined): Ask | undefined {
  for (const [k] of iteratePrefix(kv, askByPricePrefix(circuitId), true)) {
    const a = load(trailingId(k));
    if (a !== undefined && a.active === 0n) return a;
  }
  return undefined;
}

/** Whether some live ask of the circuit is priced at or below `maxFee` (cheapest first; stops above it). */
export function hasAskWithin(kv: KV, circuitId: string, maxFee: bigint, live: (id: bigint) => boolean): boolean {
  const prefix = askByPricePrefix(circuitId);
  for (const [k] of iteratePrefix(kv, prefix)) {
    if (readAscAmountKey(k, prefix.length).amount > maxFee) return false;
    if (live(trailingId(k))) return true;
  }
  return false;
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
