/**
 * A price quote for N proofs of a circuit, from the order book and recent fills. Pure (inputs are query results).
 *
 * The per-block auction (docs/matching.md) assigns requests to the cheapest free ask units and charges one uniform
 * price p = min(f_k, price(u_{k+1})): the price of the first unit left out, capped by the fee of the last request
 * served (p = f_k when no unit is left out). So for N new requests, behind the open requests already in the book:
 *  - if free capacity > open + N, the likely price is the price of unit (open + N + 1) — it does not depend on your fee
 *    as long as your fee covers it;
 *  - if free capacity = open + N, the marginal request sets the price: you pay your own fee (at least the price of
 *    unit open + N);
 *  - if free capacity < open + N, some requests wait for capacity; recent clearing prices are the best guide.
 */
import type { QueryBookResponse, CircuitStats } from '../gen-sdk/proofbook/market/v1/market.js';

export interface Quote {
  circuitId: string;
  count: bigint;
  /** Free ask units in the book and open requests ahead of yours. */
  freeCapacity: bigint;
  openRequests: bigint;
  /** The cheapest and the marginal (the one your last request would take) free units' prices. */
  cheapestAsk: bigint | null;
  marginalAsk: bigint | null;
  /** Price of the first unit left out (sets the uniform price), if any. */
  nextAsk: bigint | null;
  lastClearingPrice: bigint | null;
  lastClearingHeight: bigint;
  meanClearingPrice: bigint | null;
  recentFills: bigint;
  /** The likely per-proof price now, or null when the book cannot serve the requests now. */
  estimate: bigint | null;
  /** A max fee that should clear now (estimate + 10 %, at least the params' min fee and the last clearing price). */
  suggestedMaxFee: bigint;
  /** Human-readable reasoning behind the numbers. */
  explanation: string[];
}

export function quote(circuitId: string, count: bigint, book: QueryBookResponse, stats: readonly Pick<CircuitStats, 'circuitId' | 'fills' | 'meanClearingPrice' | 'windowBlocks'>[], minFee: bigint): Quote {
  if (count <= 0n) throw new RangeError('count must be positive');
  let freeCapacity = 0n;
  const levels = [...book.asks].map((l) => ({ price: BigInt(l.price), qty: l.quantity })).sort((a, b) => (a.price < b.price ? -1 : a.price > b.price ? 1 : 0));
  for (const l of levels) freeCapacity += l.qty;
  const openRequests = book.requests.reduce((s, l) => s + l.quantity, 0n);
  const need = openRequests + count;
  // Price of the i-th cheapest free unit (1-based), without materialising huge capacities.
  const unitPrice = (i: bigint): bigint | null => {
    let seen = 0n;
    for (const l of levels) {
      if (i <= seen + l.qty) return l.price;
      seen += l.qty;
    }
    return null;
  };
  const cheapestAsk = levels.length > 0 ? levels[0]!.price : null;
  const marginalAsk = unitPrice(need);
  const nextAsk = unitPrice(need + 1n);
  const st = stats.find((s) => s.circuitId === circuitId);
  const meanClearingPrice = st && st.fills > 0n && st.meanClearingPrice !== '' ? BigInt(st.meanClearingPrice) : null;
  const lastClearingPrice = book.lastClearingPrice !== '' && book.lastClearingHeight > 0n ? BigInt(book.lastClearingPrice) : null;
  const explanation: string[] = [];
  explanation.push(`book: ${freeCapacity} free ask unit(s)${cheapestAsk !== null ? `, cheapest at ${cheapestAsk}` : ''}; ${openRequests} open request(s) ahead of yours`);
  let estimate: bigint | null;
  if (nextAsk !== null) {
    estimate = nextAsk;
    explanation.push(`your ${count} request(s) would take units up to ${marginalAsk}; the first unit left out is at ${nextAsk}, which sets the uniform price (if your max fee covers it)`);
  } else if (marginalAsk !== null) {
    estimate = marginalAsk;
    explanation.push(`the book has exactly enough capacity: no unit is left out, so the marginal request's own fee sets the price — you pay your max fee (at least ${marginalAsk}, the marginal ask)`);
  } else {
    estimate = null;
    explanation.push(`not enough free capacity now (${freeCapacity} < ${need} needed): requests wait until provers add capacity or assignments finish`);
  }
  if (lastClearingPrice !== null) explanation.push(`last clearing price ${lastClearingPrice} at height ${book.lastClearingHeight}`);
  if (meanClearingPrice !== null) explanation.push(`mean clearing price ${meanClearingPrice} over ${st!.fills} fill(s) in the last ${st!.windowBlocks} blocks`);
  let base = estimate ?? lastClearingPrice ?? meanClearingPrice ?? minFee;
  if (lastClearingPrice !== null && lastClearingPrice > base) base = lastClearingPrice;
  let suggestedMaxFee = base + (base + 9n) / 10n;
  if (suggestedMaxFee < minFee) suggestedMaxFee = minFee;
  explanation.push(`suggested --max-fee ${suggestedMaxFee} (estimate or recent price + 10 %, at least the chain's min fee ${minFee})`);
  return {
    circuitId, count, freeCapacity, openRequests, cheapestAsk, marginalAsk, nextAsk, lastClearingPrice,
    lastClearingHeight: book.lastClearingHeight, meanClearingPrice, recentFills: st?.fills ?? 0n, estimate, suggestedMaxFee, explanation,
  };
}
