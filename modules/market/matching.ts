/**
 * Deterministic per-circuit batch auction (see docs/matching.md for the mechanism, its properties and a worked example).
 *
 * Pure and synchronous: no I/O, no store access, bigint amounts only, no dependence on Map/object iteration order.
 * The market module calls `clearCircuit` at the end of every block, once per circuit, with that circuit's open
 * requests (and their current, possibly ramped, fees), its live asks and the provers' free collateral.
 *
 * Summary of the rule:
 *  1. Requests are sorted by current fee descending, then id ascending; asks by price ascending, reputation
 *     descending, then id ascending. Both are total orders on unique ids, so the input order never matters.
 *  2. Each request, in that order, takes the first ask (in ask order) that has free capacity, a price <= the
 *     request's current fee, and whose prover's remaining free collateral covers the request's collateral *reserve*
 *     `max(minCollateral, ceil(collateralRatioBps * currentFee / 10_000))`. Collateral is accounted per prover,
 *     across all its asks.
 *  3. Uniform-price guard: once a request's fee is below the highest ask price already matched (M), no uniform price
 *     could satisfy both sides, so allocation stops there (every later request has a fee <= this one).
 *  4. Clearing price p = min(F, max(M, U)) where F is the lowest matched fee, M the highest matched ask price and U
 *     the price of the cheapest ask that still has a free unit and whose prover could still afford the smallest
 *     matched reserve (the "(k+1)-th" competing unit); U = infinity when there is none. M <= p <= F always.
 *  5. Every match is paid p and locks `max(minCollateral, ceil(collateralRatioBps * p / 10_000))`, which is never more
 *     than the reserve checked in step 2 (p <= currentFee), so locked collateral never exceeds free collateral.
 */

export interface MatchRequest {
  id: bigint;
  currentFee: bigint;
  minCollateral: bigint;
  /** Provers that may not be given this request (e.g. they released or missed it before). */
  excluded?: readonly string[];
}
export interface MatchAsk {
  id: bigint;
  prover: string;
  price: bigint;
  capacity: bigint;
  reputation: bigint;
  /** Units of this ask already serving assignments (price rule v2 counts them as competing offers). Default 0. */
  busy?: bigint;
}
export interface MatchParams {
  collateralRatioBps: bigint;
  /**
   * 'v1' (default): p = min(F, max(M, U)), p = F when no free unit competes. 'v2': when no free unit competes, the
   * cheapest busy unit of a prover that won nothing in this clear does (B); with neither, p = M (the highest matched
   * ask): a lone request against a lone ask pays the ask, not its whole fee. See docs/matching.md.
   */
  priceRule?: 'v1' | 'v2';
  /**
   * 'v1' (default): every match goes to the first feasible ask in ask order. 'lottery': the same requests match at the
   * same price, but each is then given to a stake-weighted draw among the asks priced at or below the price, seeded by `seed` (committed data). See docs/matching.md "Work spread".
   */
  allocation?: 'v1' | 'lottery' | 'band' | 'spread';
  /**
   * Band rule (allocation 'band'): how far above the greedy clearing price p an ask may be and still take work, in
   * basis points (the band top is min(F, p x (10000 + bandBps) / 10000)). Default 1000 (10 %).
   */
  bandBps?: bigint;
  /**
   * Band rule: each prover's current load (assignments it is serving now, over all circuits). Work goes to the least
   * loaded prover in the band. A prover missing from the map has load 0.
   */
  load?: ReadonlyMap<string, bigint>;
  /**
   * Spread rule (allocation 'spread', the band's width from bandBps): each prover's count among the chain's last
   * `window` assignments (missing = 0), and the penalty per unit of that share, in the fee denom: a request goes to
   * the band ask with the least `price + spreadPenalty x count / window`.
   */
  recent?: ReadonlyMap<string, bigint>;
  window?: bigint;
  spreadPenalty?: bigint;
  /** Spread rule: how many recent wins a prover may hold before the penalty starts (default 0). */
  spreadFree?: bigint;
  /** Seed of the lottery (the caller derives it from committed data: chain id, height, circuit). */
  seed?: string;
  /**
   * Per-prover cap on new assignments in this clear (a prover missing from the map has no cap). The stake-cap rule
   * passes max(1, ceil(share of stake × demand)) here; capped-out units no longer compete for the price.
   */
  quota?: ReadonlyMap<string, bigint>;
}
export interface Match {
  requestId: bigint;
  askId: bigint;
  prover: string;
  price: bigint;
  collateral: bigint;
}
export interface ClearingResult {
  /** Sorted by requestId ascending. */
  matches: Match[];
  /** The uniform price paid by every matched request to its prover; null when nothing matched. */
  clearingPrice: bigint | null;
  /** Ids of the requests left open, sorted ascending. */
  unmatched: bigint[];
}

import { createHash } from 'node:crypto';
import { MinHeap } from '../../src/collections/min-heap.js';

export const BPS_DENOMINATOR = 10_000n;

/** Thrown for caller bugs: duplicate ids or negative amounts. */
export class MatchingInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MatchingInputError';
  }
}

/** max(minCollateral, ceil(collateralRatioBps * price / 10_000)); rounding up so the ratio is never undershot. */
export function collateralFor(minCollateral: bigint, price: bigint, collateralRatioBps: bigint): bigint {
  const byRatio = (collateralRatioBps * price + BPS_DENOMINATOR - 1n) / BPS_DENOMINATOR;
  return byRatio > minCollateral ? byRatio : minCollateral;
}

/** Request priority: current fee descending, then id ascending. */
export function compareRequests(a: MatchRequest, b: MatchRequest): number {
  if (a.currentFee !== b.currentFee) return a.currentFee > b.currentFee ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** Ask priority: price ascending, then reputation descending, then id ascending. */
export function compareAsks(a: MatchAsk, b: MatchAsk): number {
  if (a.price !== b.price) return a.price < b.price ? -1 : 1;
  if (a.reputation !== b.reputation) return a.reputation > b.reputation ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/**
 * Checks the inputs and returns the request indices sorted by id (used for the output order). Duplicates are found
 * as equal neighbours after sorting: sorting bigints is much cheaper than a Set of bigints.
 */
function validate(
  requests: readonly MatchRequest[],
  asks: readonly MatchAsk[],
  freeCollateral: ReadonlyMap<string, bigint>,
  params: MatchParams,
): number[] {
  if (params.collateralRatioBps < 0n) throw new MatchingInputError('collateralRatioBps must be >= 0');
  for (const r of requests) {
    if (r.currentFee < 0n) throw new MatchingInputError(`request ${r.id}: negative currentFee`);
    if (r.minCollateral < 0n) throw new MatchingInputError(`request ${r.id}: negative minCollateral`);
  }
  const byId = new Array<number>(requests.length);
  for (let i = 0; i < requests.length; i++) byId[i] = i;
  byId.sort((a, b) => cmpBig(requests[a].id, requests[b].id));
  for (let i = 1; i < byId.length; i++) {
    if (requests[byId[i]].id === requests[byId[i - 1]].id) {
      throw new MatchingInputError(`duplicate request id ${requests[byId[i]].id}`);
    }
  }
  for (const a of asks) {
    if (a.price < 0n) throw new MatchingInputError(`ask ${a.id}: negative price`);
    if (a.capacity < 0n) throw new MatchingInputError(`ask ${a.id}: negative capacity`);
    const free = freeCollateral.get(a.prover);
    if (free !== undefined && free < 0n) throw new MatchingInputError(`prover ${a.prover}: negative free collateral`);
  }
  const askIds = asks.map((a) => a.id).sort(cmpBig);
  for (let i = 1; i < askIds.length; i++) {
    if (askIds[i] === askIds[i - 1]) throw new MatchingInputError(`duplicate ask id ${askIds[i]}`);
  }
  return byId;
}

interface Allocation {
  /** Index of the request in the caller's array. */
  index: number;
  request: MatchRequest;
  ask: MatchAsk;
  reserve: bigint;
}

/** What the price step needs to know about the units left after the allocation. */
interface Leftover {
  /** Price of the cheapest free unit (ask order) whose prover could still post `minReserve` (U), or null. */
  unused(minReserve: bigint): bigint | null;
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Price of the cheapest busy unit (ask order) of a prover that won nothing in this clear (B, price rule v2): an offer
 * that competes as soon as it frees. A winner's own busy units never set its price (it could bid them up).
 */
function busyCompetitor(sortedAsks: readonly MatchAsk[], allocations: readonly Allocation[]): bigint | null {
  const winners = new Set<string>();
  for (const a of allocations) winners.add(a.ask.prover);
  for (const a of sortedAsks) if ((a.busy ?? 0n) > 0n && !winners.has(a.prover)) return a.price;
  return null;
}

/** The uniform price of a non-empty allocation (see the file comment and docs/matching.md). */
function clearingPriceOf(allocations: readonly Allocation[], leftover: Leftover, sortedAsks: readonly MatchAsk[], params: MatchParams): bigint {
  let lowestFee = allocations[0].request.currentFee;
  let highestAsk = allocations[0].ask.price;
  let minReserve = allocations[0].reserve;
  for (const a of allocations) {
    if (a.request.currentFee < lowestFee) lowestFee = a.request.currentFee;
    if (a.ask.price > highestAsk) highestAsk = a.ask.price;
    if (a.reserve < minReserve) minReserve = a.reserve;
  }
  let competitor = leftover.unused(minReserve);
  if (competitor === null && params.priceRule === 'v2') competitor = busyCompetitor(sortedAsks, allocations) ?? highestAsk;
  // p = min(F, max(M, U)) with U = +infinity when there is no competing unit.
  let price = competitor === null || competitor > highestAsk ? competitor : highestAsk;
  if (price === null || price > lowestFee) price = lowestFee;
  return price;
}

/** sha256(seed || request id) as a bigint: the lottery's draw for one request. */
function draw(seed: string, requestId: bigint): bigint {
  return BigInt('0x' + createHash('sha256').update(`${seed}/${requestId}`).digest('hex'));
}

/**
 * The lottery (allocation 'lottery'): the requests v1 matched, in v1's order, are re-dealt at the same price among
 * the eligible asks: those priced at or below the price (v1's winners are priced <= M <= p). With the (k+1)-th price
 * the asks strictly below p are v1's winners, so the deal has to include the unit that set the price to spread work
 * at all; that unit's prover can then raise its ask up to the next ask and still win sometimes (the incentive cost,
 * docs/matching.md). Each request draws a prover with probability proportional to its remaining free collateral (+1), among
 * provers with an eligible ask with capacity left whose collateral covers the request's reserve and that are not
 * excluded or capped out; the prover serves it from its cheapest such ask. Requests with no eligible prover left stay
 * unmatched. Cost O(k * P) for k matches and P eligible provers.
 */
function lottery(
  allocations: readonly Allocation[],
  sortedAsks: readonly MatchAsk[],
  freeCollateral: ReadonlyMap<string, bigint>,
  params: MatchParams,
  price: bigint,
): Allocation[] {
  const used = new Set<bigint>();
  for (const a of allocations) used.add(a.ask.id);
  const eligible = sortedAsks.filter((a) => a.capacity > 0n && (a.price <= price || used.has(a.id)));
  const provers: string[] = [];
  const asksOf = new Map<string, MatchAsk[]>();
  for (const a of eligible) {
    let l = asksOf.get(a.prover);
    if (l === undefined) {
      l = [];
      asksOf.set(a.prover, l);
      provers.push(a.prover);
    }
    l.push(a);
  }
  const capLeft = new Map<bigint, bigint>(eligible.map((a) => [a.id, a.capacity]));
  const remaining = new Map<string, bigint>(provers.map((p) => [p, freeCollateral.get(p) ?? 0n]));
  const quotaLeft = new Map<string, bigint>();
  for (const p of provers) {
    const q = params.quota?.get(p);
    if (q !== undefined) quotaLeft.set(p, q);
  }
  const seed = params.seed ?? '';
  const out: Allocation[] = [];
  for (const al of allocations) {
    const excluded = al.request.excluded ?? [];
    const cands: { prover: string; ask: MatchAsk; weight: bigint }[] = [];
    let total = 0n;
    for (const p of provers) {
      const rem = remaining.get(p)!;
      if (rem < al.reserve || excluded.includes(p)) continue;
      const q = quotaLeft.get(p);
      if (q !== undefined && q <= 0n) continue;
      const ask = asksOf.get(p)!.find((a) => capLeft.get(a.id)! > 0n);
      if (ask === undefined) continue;
      const weight = rem + 1n;
      cands.push({ prover: p, ask, weight });
      total += weight;
    }
    if (cands.length === 0) continue;
    let x = draw(seed, al.request.id) % total;
    let pick = cands[cands.length - 1];
    for (const c of cands) {
      if (x < c.weight) {
        pick = c;
        break;
      }
      x -= c.weight;
    }
    capLeft.set(pick.ask.id, capLeft.get(pick.ask.id)! - 1n);
    remaining.set(pick.prover, remaining.get(pick.prover)! - al.reserve);
    const q = quotaLeft.get(pick.prover);
    if (q !== undefined) quotaLeft.set(pick.prover, q - 1n);
    out.push({ ...al, ask: pick.ask });
  }
  return out;
}

/**
 * The band rule (allocation 'band'): the requests the greedy rule matched, in its order, are re-dealt among the asks
 * priced at most `top` = min(F, p x (1 + bandBps / 10000)) (F = lowest matched fee, p = greedy clearing price): each
 * goes to a prover with the smallest load (assignments it serves now over every circuit, plus those dealt in this
 * clear), ties broken by a draw seeded from committed data (sha256(seed || request id), equal chances; `provers` is
 * in ask order, so the draw does not depend on input order). Everyone is then paid the uniform price
 * max(p, highest dealt ask) <= top <= F: the requester pays at most bandBps above the greedy price and no prover is
 * paid below its ask. Cost O(k * P) for k matches and P provers in the band; no state, no randomness.
 */
const leastLoaded: Chooser = (cands, request, count, params) => {
  let tied: Candidate[] = [];
  let least = 0n;
  for (const c of cands) {
    const l = count.get(c.prover)!;
    if (tied.length === 0 || l < least) {
      tied = [c];
      least = l;
    } else if (l === least) {
      tied.push(c);
    }
  }
  return tied.length === 0 ? undefined : tied[Number(draw(params.seed ?? '', request.id) % BigInt(tied.length))];
};

/**
 * The spread rule (allocation 'spread'): the same band, but each request goes to the ask with the least penalised
 * price `price + spreadPenalty x wins / window`, where `wins` is the prover's count among the chain's last `window`
 * assignments (`recent`, plus those dealt in this clear); ties to the earlier ask in ask order, so with no penalty (or
 * every prover within its free wins) the deal is greedy's. The penalty is the
 * Lagrange multiplier of the winners' HHI (its marginal, 2 x wins + 1, grows with the count): it is one amount per
 * job whatever the job's size, so a small job moves off a busy cheap prover for a small price difference while a large
 * job stays with the cheapest ask. Paid like the band (uniform max(p, highest dealt ask) <= top). This scan, O(k * P), is
 * the reference (clearCircuitReference); clearCircuit deals with `dealPenalised`, a heap that picks the same asks.
 */
const leastPenalised: Chooser = (cands, _request, count, params) => {
  let best: Candidate | undefined;
  let bestScore = 0n;
  for (const c of cands) {
    const score = penalisedScore(c.ask, count.get(c.prover)!, params);
    // ties in ask order (price, reputation, id), as greedy breaks them: with no penalty this rule is greedy
    if (best === undefined || score < bestScore || (score === bestScore && compareAsks(c.ask, best.ask) < 0)) {
      best = c;
      bestScore = score;
    }
  }
  return best;
};

/** An ask's penalised price times the window (integer): price x window + spreadPenalty x max(0, wins - spreadFree). */
function penalisedScore(ask: MatchAsk, wins: bigint, params: MatchParams): bigint {
  const over = wins - (params.spreadFree ?? 0n);
  return ask.price * (params.window ?? 1n) + (over > 0n ? (params.spreadPenalty ?? 0n) * over : 0n);
}

interface Candidate {
  prover: string;
  ask: MatchAsk;
}
/** Picks the prover for one request among those able to take it (in ask order); `count` is the rule's per-prover tally. */
type Chooser = (cands: readonly Candidate[], request: MatchRequest, count: ReadonlyMap<string, bigint>, params: MatchParams) => Candidate | undefined;

/**
 * What a re-deal tracks: the band's provers (asks with capacity priced at most `top`) in ask order of their cheapest
 * band ask, their band asks in ask order, capacity left per ask, and per prover the collateral left, the rule's tally
 * (`start`, +1 per deal) and the quota left (if any).
 */
class BandBook {
  readonly provers: string[] = [];
  private readonly asksOf = new Map<string, MatchAsk[]>();
  private readonly capLeft = new Map<bigint, bigint>();
  readonly remaining = new Map<string, bigint>();
  readonly count = new Map<string, bigint>();
  private readonly quotaLeft = new Map<string, bigint>();

  constructor(sortedAsks: readonly MatchAsk[], freeCollateral: ReadonlyMap<string, bigint>, params: MatchParams, top: bigint, start: ReadonlyMap<string, bigint> | undefined) {
    for (const a of sortedAsks) {
      if (a.capacity <= 0n || a.price > top) continue;
      let l = this.asksOf.get(a.prover);
      if (l === undefined) {
        this.asksOf.set(a.prover, (l = []));
        this.provers.push(a.prover);
        this.remaining.set(a.prover, freeCollateral.get(a.prover) ?? 0n);
        this.count.set(a.prover, start?.get(a.prover) ?? 0n);
        const q = params.quota?.get(a.prover);
        if (q !== undefined) this.quotaLeft.set(a.prover, q);
      }
      l.push(a);
      this.capLeft.set(a.id, a.capacity);
    }
  }

  /** The prover's first band ask with capacity left, if any. */
  head(prover: string): MatchAsk | undefined {
    return this.asksOf.get(prover)!.find((a) => this.capLeft.get(a.id)! > 0n);
  }

  cappedOut(prover: string): boolean {
    const q = this.quotaLeft.get(prover);
    return q !== undefined && q <= 0n;
  }

  /** Deals one request of reserve `reserve` to `prover` on `ask`. */
  take(prover: string, ask: MatchAsk, reserve: bigint): void {
    this.capLeft.set(ask.id, this.capLeft.get(ask.id)! - 1n);
    this.remaining.set(prover, this.remaining.get(prover)! - reserve);
    this.count.set(prover, this.count.get(prover)! + 1n);
    const q = this.quotaLeft.get(prover);
    if (q !== undefined) this.quotaLeft.set(prover, q - 1n);
  }
}

/**
 * Re-deals the requests the greedy rule matched, in its order, among the asks priced at most `top`: a prover must have
 * an ask in the band with capacity left, collateral covering the request's reserve, quota left (if any), and not be
 * excluded from the request; `choose` picks among them and the winner's tally goes up. O(P) per request.
 */
function deal(
  allocations: readonly Allocation[],
  book: BandBook,
  params: MatchParams,
  choose: Chooser,
): Allocation[] {
  const out: Allocation[] = [];
  for (const al of allocations) {
    const excluded = al.request.excluded ?? [];
    const cands: Candidate[] = [];
    for (const p of book.provers) {
      if (book.remaining.get(p)! < al.reserve || excluded.includes(p) || book.cappedOut(p)) continue;
      const ask = book.head(p);
      if (ask !== undefined) cands.push({ prover: p, ask });
    }
    const pick = choose(cands, al.request, book.count, params);
    if (pick === undefined) continue;
    book.take(pick.prover, pick.ask, al.reserve);
    out.push({ ...al, ask: pick.ask });
  }
  return out;
}

/**
 * The spread deal of `leastPenalised` in O((1 + s) log P) per request instead of O(P), s being the provers set aside
 * for that request (excluded from it) or parked or unparked by it (short of collateral for one reserve, enough for a
 * later, smaller one). Each prover sits in a min-heap once,
 * keyed by (its penalised price, its current ask in ask order); keys only grow (a deal adds to the count, a full ask
 * passes to the prover's next, dearer band ask), so a stale entry is recognised by its version and skipped. The first
 * eligible prover popped is exactly the one `leastPenalised` picks among all candidates (same key, same tie order):
 * property-tested against it (`clearCircuitReference` runs the scan).
 */
function dealPenalised(allocations: readonly Allocation[], book: BandBook, params: MatchParams): Allocation[] {
  interface Entry {
    prover: string;
    ask: MatchAsk;
    score: bigint;
    version: number;
  }
  const version = new Map<string, number>(book.provers.map((p) => [p, 0]));
  const { remaining, count } = book;
  const heap = new MinHeap<Entry>((a, b) => a.score < b.score || (a.score === b.score && compareAsks(a.ask, b.ask) < 0));
  /** Pushes the prover's entry for its first band ask with capacity left (none: it leaves the deal). */
  const enter = (p: string): void => {
    const ask = book.head(p);
    if (ask === undefined) return;
    heap.push({ prover: p, ask, score: penalisedScore(ask, count.get(p)!, params), version: version.get(p)! });
  };
  for (const p of book.provers) enter(p);
  // provers found short of collateral wait here, richest first: a prover is dealt nothing while parked, so its remaining
  // collateral is fixed, and it returns to the heap for the first request whose reserve it covers
  const parked = new MinHeap<Entry>((a, b) => remaining.get(a.prover)! > remaining.get(b.prover)! || (remaining.get(a.prover) === remaining.get(b.prover) && compareAsks(a.ask, b.ask) < 0));
  const out: Allocation[] = [];
  for (const al of allocations) {
    while (parked.size > 0 && remaining.get(parked.peek()!.prover)! >= al.reserve) heap.push(parked.pop()!);
    const excluded = al.request.excluded ?? [];
    const aside: Entry[] = [];
    let pick: Entry | undefined;
    while (heap.size > 0) {
      const e = heap.pop()!;
      if (e.version !== version.get(e.prover)) continue; // superseded by a later entry of the same prover
      if (book.cappedOut(e.prover)) continue; // capped out for the rest of this clear
      if (remaining.get(e.prover)! < al.reserve) {
        parked.push(e);
        continue;
      }
      if (excluded.includes(e.prover)) {
        aside.push(e);
        continue;
      }
      pick = e;
      break;
    }
    for (const e of aside) heap.push(e);
    if (pick === undefined) continue;
    book.take(pick.prover, pick.ask, al.reserve);
    version.set(pick.prover, version.get(pick.prover)! + 1);
    enter(pick.prover);
    out.push({ ...al, ask: pick.ask });
  }
  return out;
}

/** Shared last step: clearing price, optional lottery, locked collateral, output ordering (by request id). */
function settle(
  requests: readonly MatchRequest[],
  byId: readonly number[],
  v1Allocations: readonly Allocation[],
  leftover: Leftover,
  sortedAsks: readonly MatchAsk[],
  freeCollateral: ReadonlyMap<string, bigint>,
  params: MatchParams,
  /** The reference scan (clearCircuitReference): the spread deal by scanning every candidate per request. */
  reference = false,
): ClearingResult {
  if (v1Allocations.length === 0) {
    return { matches: [], clearingPrice: null, unmatched: byId.map((i) => requests[i].id) };
  }
  let price = clearingPriceOf(v1Allocations, leftover, sortedAsks, params);
  let allocations: readonly Allocation[];
  if (params.allocation === 'lottery') {
    allocations = lottery(v1Allocations, sortedAsks, freeCollateral, params, price);
  } else if (params.allocation === 'band' || params.allocation === 'spread') {
    let lowestFee = v1Allocations[0].request.currentFee;
    for (const a of v1Allocations) if (a.request.currentFee < lowestFee) lowestFee = a.request.currentFee;
    const widened = (price * (BPS_DENOMINATOR + (params.bandBps ?? 1000n))) / BPS_DENOMINATOR;
    const top = widened < lowestFee ? widened : lowestFee;
    const book = new BandBook(sortedAsks, freeCollateral, params, top, params.allocation === 'band' ? params.load : params.recent);
    allocations =
      params.allocation === 'band'
        ? deal(v1Allocations, book, params, leastLoaded)
        : reference
          ? deal(v1Allocations, book, params, leastPenalised)
          : dealPenalised(v1Allocations, book, params);
    for (const a of allocations) if (a.ask.price > price) price = a.ask.price;
  } else {
    allocations = v1Allocations;
  }
  if (allocations.length === 0) {
    return { matches: [], clearingPrice: null, unmatched: byId.map((i) => requests[i].id) };
  }
  const matchOf = new Array<Allocation | undefined>(requests.length);
  for (const a of allocations) matchOf[a.index] = a;
  const matches: Match[] = [];
  const unmatched: bigint[] = [];
  const ratio = params.collateralRatioBps;
  for (const i of byId) {
    const a = matchOf[i];
    if (a === undefined) {
      unmatched.push(requests[i].id);
    } else {
      matches.push({
        requestId: a.request.id,
        askId: a.ask.id,
        prover: a.ask.prover,
        price,
        collateral: collateralFor(a.request.minCollateral, price, ratio),
      });
    }
  }
  return { matches, clearingPrice: price, unmatched };
}

/** Request indices in priority order. */
function requestOrder(requests: readonly MatchRequest[]): number[] {
  const n = requests.length;
  const order = new Array<number>(n);
  const fee = new Array<bigint>(n);
  const id = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    order[i] = i;
    fee[i] = requests[i].currentFee;
    id[i] = requests[i].id;
  }
  // Same order as compareRequests: fee descending, then id ascending.
  return order.sort((a, b) => (fee[a] !== fee[b] ? (fee[a] > fee[b] ? -1 : 1) : id[a] < id[b] ? -1 : id[a] > id[b] ? 1 : 0));
}

/**
 * Clears one circuit's batch. Throws MatchingInputError on duplicate ids or negative amounts (caller bugs).
 * A prover missing from `freeCollateral` has 0 free collateral.
 *
 * Cost: O(R log R + A log A + R log A) for R requests and A asks (plus O(|excluded| log A) per request with an
 * exclusion list). Asks are sorted once; a max segment tree over the sorted asks holds, at each prover's cheapest ask
 * with capacity left (its "head"), the prover's remaining collateral, so "first ask with price <= fee whose prover
 * can afford reserve" is one O(log A) descent. Excluded provers' heads are hidden for the one descent.
 */
export function clearCircuit(
  requests: readonly MatchRequest[],
  asks: readonly MatchAsk[],
  freeCollateral: ReadonlyMap<string, bigint>,
  params: MatchParams,
): ClearingResult {
  const byId = validate(requests, asks, freeCollateral, params);
  const ratio = params.collateralRatioBps;

  const order = requestOrder(requests);
  const allSorted = asks.slice().sort(compareAsks);
  const sortedAsks = allSorted.filter((a) => a.capacity > 0n);
  const n = sortedAsks.length;

  // Prover index (numbering follows the sorted ask order, so it is deterministic), remaining collateral, quota,
  // and per prover the positions of its asks in sorted order plus a cursor to its head.
  const proverIndex = new Map<string, number>();
  const remaining: bigint[] = [];
  const quotaLeft: (bigint | undefined)[] = [];
  const proverAsks: number[][] = [];
  const proverHead: number[] = [];
  const askProver = new Int32Array(n);
  const capLeft: bigint[] = new Array<bigint>(n);
  const prices: bigint[] = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    const a = sortedAsks[i];
    let p = proverIndex.get(a.prover);
    if (p === undefined) {
      p = remaining.length;
      proverIndex.set(a.prover, p);
      remaining.push(freeCollateral.get(a.prover) ?? 0n);
      quotaLeft.push(params.quota?.get(a.prover));
      proverAsks.push([]);
      proverHead.push(0);
    }
    proverAsks[p].push(i);
    askProver[i] = p;
    capLeft[i] = a.capacity;
    prices[i] = a.price;
  }
  const cappedOut = (p: number): boolean => quotaLeft[p] !== undefined && quotaLeft[p]! <= 0n;

  // Max segment tree over ask positions; -1n marks "not a head" (all real values are >= 0).
  let size = 1;
  while (size < n) size <<= 1;
  const tree: bigint[] = new Array<bigint>(2 * size).fill(-1n);
  for (let p = 0; p < remaining.length; p++) if (!cappedOut(p)) tree[size + proverAsks[p][0]] = remaining[p];
  for (let i = size - 1; i >= 1; i--) tree[i] = tree[2 * i] > tree[2 * i + 1] ? tree[2 * i] : tree[2 * i + 1];
  const setLeaf = (pos: number, value: bigint): void => {
    let i = size + pos;
    tree[i] = value;
    for (i >>= 1; i >= 1; i >>= 1) {
      const l = tree[2 * i];
      const r = tree[2 * i + 1];
      tree[i] = l > r ? l : r;
    }
  };
  // Leftmost position < hi whose leaf is >= need, or -1.
  const findFirst = (node: number, lo: number, span: number, hi: number, need: bigint): number => {
    if (lo >= hi || tree[node] < need) return -1;
    if (span === 1) return lo;
    const half = span >> 1;
    const left = findFirst(2 * node, lo, half, hi, need);
    if (left >= 0) return left;
    return findFirst(2 * node + 1, lo + half, half, hi, need);
  };
  // Number of asks with price <= fee (prices are non-decreasing).
  const upperBound = (fee: bigint): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (prices[mid] <= fee) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  /** Position of prover p's head, or -1 when it has no capacity left or is capped out. */
  const headOf = (p: number): number => {
    const list = proverAsks[p];
    return proverHead[p] < list.length && !cappedOut(p) ? list[proverHead[p]] : -1;
  };

  const allocations: Allocation[] = [];
  let highestAsk = -1n;
  for (const index of order) {
    const request = requests[index];
    if (request.currentFee < highestAsk) break; // uniform-price guard: no later request can be matched either
    const hi = upperBound(request.currentFee);
    if (hi === 0) continue;
    const reserve = collateralFor(request.minCollateral, request.currentFee, ratio);
    // hide excluded provers' heads for this one descent
    const hidden: number[] = [];
    for (const name of request.excluded ?? []) {
      const p = proverIndex.get(name);
      if (p === undefined) continue;
      const h = headOf(p);
      if (h >= 0 && tree[size + h] >= 0n) {
        setLeaf(h, -1n);
        hidden.push(p);
      }
    }
    const pos = findFirst(1, 0, size, hi, reserve);
    for (const p of hidden) setLeaf(headOf(p), remaining[p]);
    if (pos < 0) continue;
    const p = askProver[pos];
    remaining[p] -= reserve;
    capLeft[pos] -= 1n;
    if (quotaLeft[p] !== undefined) quotaLeft[p]! -= 1n;
    if (prices[pos] > highestAsk) highestAsk = prices[pos];
    allocations.push({ index, request, ask: sortedAsks[pos], reserve });
    if (cappedOut(p)) {
      setLeaf(pos, -1n);
      if (capLeft[pos] === 0n) proverHead[p]++;
    } else if (capLeft[pos] === 0n) {
      setLeaf(pos, -1n);
      const list = proverAsks[p];
      let h = proverHead[p] + 1;
      while (h < list.length && capLeft[list[h]] === 0n) h++;
      proverHead[p] = h;
      if (h < list.length) setLeaf(list[h], remaining[p]);
    } else {
      setLeaf(pos, remaining[p]);
    }
  }

  const leftover: Leftover = {
    unused(minReserve) {
      for (let i = 0; i < n; i++) {
        const p = askProver[i];
        if (capLeft[i] > 0n && !cappedOut(p) && remaining[p] >= minReserve) return prices[i];
      }
      return null;
    },
  };
  return settle(requests, byId, allocations, leftover, allSorted, freeCollateral, params);
}

/**
 * Reference implementation of the same rule, written for clarity: for every request it scans the sorted asks from
 * the start (O(R * A)). Used by the property tests (must equal `clearCircuit`) and as the benchmark baseline.
 */
export function clearCircuitReference(
  requests: readonly MatchRequest[],
  asks: readonly MatchAsk[],
  freeCollateral: ReadonlyMap<string, bigint>,
  params: MatchParams,
): ClearingResult {
  const byId = validate(requests, asks, freeCollateral, params);
  const order = requestOrder(requests);
  const sortedAsks = asks.slice().sort(compareAsks);
  const capLeft = sortedAsks.map((a) => a.capacity);
  const remaining = new Map<string, bigint>();
  const quotaLeft = new Map<string, bigint>();
  for (const a of sortedAsks) {
    remaining.set(a.prover, freeCollateral.get(a.prover) ?? 0n);
    const q = params.quota?.get(a.prover);
    if (q !== undefined) quotaLeft.set(a.prover, q);
  }
  const underQuota = (prover: string): boolean => !quotaLeft.has(prover) || quotaLeft.get(prover)! > 0n;

  const allocations: Allocation[] = [];
  let highestAsk: bigint | null = null;
  for (const index of order) {
    const request = requests[index];
    if (highestAsk !== null && request.currentFee < highestAsk) break;
    const reserve = collateralFor(request.minCollateral, request.currentFee, params.collateralRatioBps);
    for (let i = 0; i < sortedAsks.length; i++) {
      const ask = sortedAsks[i];
      if (ask.price > request.currentFee) break;
      const free = remaining.get(ask.prover)!;
      if (capLeft[i] > 0n && free >= reserve && underQuota(ask.prover) && !(request.excluded ?? []).includes(ask.prover)) {
        capLeft[i] -= 1n;
        remaining.set(ask.prover, free - reserve);
        if (quotaLeft.has(ask.prover)) quotaLeft.set(ask.prover, quotaLeft.get(ask.prover)! - 1n);
        if (highestAsk === null || ask.price > highestAsk) highestAsk = ask.price;
        allocations.push({ index, request, ask, reserve });
        break;
      }
    }
  }
  const leftover: Leftover = {
    unused(minReserve) {
      for (let i = 0; i < sortedAsks.length; i++) {
        const a = sortedAsks[i];
        if (capLeft[i] > 0n && underQuota(a.prover) && remaining.get(a.prover)! >= minReserve) return a.price;
      }
      return null;
    },
  };
  return settle(requests, byId, allocations, leftover, sortedAsks, freeCollateral, params, true);
}

// ---- clearing from the open-request index ---------------------------------------------------------------------------

/** An open request as the market's fee index yields it: `maxFee` is the index order (descending), `currentFee <= maxFee`. */
export interface IndexedRequest extends MatchRequest {
  maxFee: bigint;
}

export interface IndexedClearing {
  result: ClearingResult;
  /** Index entries read (the work done), and how many of them could pay the cheapest ask. */
  read: number;
  candidates: number;
}

/**
 * Clears a circuit reading open requests lazily from an iterator in `maxFee`-descending order (the market's fee
 * index), touching only requests that can match. Gives exactly the matches and price `clearCircuit` gives on the
 * whole book (property-tested), because:
 *  - a request whose current fee is below the cheapest ask is never matched and never moves the price, so it is
 *    dropped, and reading stops at the first entry whose max fee (an upper bound of its fee) is below that ask;
 *  - after reading entries down to max fee T, every unread request has fee <= T, so the read requests with fee > T
 *    are exactly the first ones in the auction's order. If clearing just those uses up all capacity, or matches an ask
 *    priced above T (the guard then stops every later request), no later request can change the outcome.
 * Otherwise the next batch (doubling) is read. `unmatched` lists only the requests read.
 */
export function clearFromIndex(
  source: Iterator<IndexedRequest>,
  asks: readonly MatchAsk[],
  freeCollateral: ReadonlyMap<string, bigint>,
  params: MatchParams,
  /** Told, after each batch, the highest fee any ask can still take: the source may skip requests above it. */
  onReach?: (fee: bigint) => void,
): IndexedClearing {
  let minAsk: bigint | null = null;
  const capPer = new Map<string, bigint>();
  for (const a of asks) {
    if (a.capacity <= 0n) continue;
    if (minAsk === null || a.price < minAsk) minAsk = a.price;
    capPer.set(a.prover, (capPer.get(a.prover) ?? 0n) + a.capacity);
  }
  const empty: ClearingResult = { matches: [], clearingPrice: null, unmatched: [] };
  if (minAsk === null) return { result: empty, read: 0, candidates: 0 };
  let totalCap = 0n;
  for (const [p, c] of capPer) {
    const q = params.quota?.get(p);
    totalCap += q !== undefined && q < c ? (q > 0n ? q : 0n) : c;
  }
  const got: IndexedRequest[] = [];
  let read = 0;
  let batch = 64;
  for (;;) {
    let threshold: bigint | null = null;
    let done = false;
    for (let i = 0; i < batch; i++) {
      const next = source.next();
      if (next.done || next.value.maxFee < minAsk) {
        done = true;
        break;
      }
      read++;
      const r = next.value;
      if (r.currentFee > r.maxFee) throw new MatchingInputError(`request ${r.id}: currentFee above maxFee`);
      if (threshold !== null && r.maxFee > threshold) throw new MatchingInputError('index not in maxFee-descending order');
      threshold = r.maxFee;
      if (r.currentFee >= minAsk) got.push(r);
    }
    if (done || threshold === null) {
      return { result: clearCircuit(got, asks, freeCollateral, params), read, candidates: got.length };
    }
    const t = threshold;
    const prefix = got.filter((r) => r.currentFee > t);
    // The stop test looks at the v1 allocation (the lottery only re-deals v1's matches afterwards).
    const v1 = params.allocation === 'lottery' || params.allocation === 'band' || params.allocation === 'spread' ? { ...params, allocation: 'v1' as const } : params;
    const res = clearCircuit(prefix, asks, freeCollateral, v1);
    const finish = () => ({ result: v1 === params ? res : clearCircuit(prefix, asks, freeCollateral, params), read, candidates: got.length });
    if (res.matches.length > 0) {
      let highest = -1n;
      const priceOf = new Map(asks.map((a) => [a.id, a.price]));
      for (const m of res.matches) {
        const pr = priceOf.get(m.askId)!;
        if (pr > highest) highest = pr;
      }
      if (BigInt(res.matches.length) >= totalCap || highest > t) return finish();
    }
    const reach = reachAfter(prefix, res, asks, freeCollateral, params, t);
    if (reach < 0n) return finish();
    onReach?.(reach);
    batch *= 2;
  }
}

/**
 * After the prefix's v1 allocation `res`: the highest fee (<= t) any ask could still take, or -1 when none can. An ask
 * can take fee f only with capacity and quota left, price <= f, and its prover's remaining free collateral covering
 * the least lock ceil(collateralRatioBps x f / 10000). Every later request has fee <= t and is processed after the
 * prefix (remaining collateral only falls), so with -1 the prefix's clear is the whole clear, and a request whose fee
 * is above the reach can be skipped.
 */
function reachAfter(prefix: readonly MatchRequest[], res: ClearingResult, asks: readonly MatchAsk[], freeCollateral: ReadonlyMap<string, bigint>, params: MatchParams, t: bigint): bigint {
  const byId = new Map(prefix.map((r) => [r.id, r]));
  const used = new Map<bigint, bigint>();
  const spent = new Map<string, bigint>();
  const taken = new Map<string, bigint>();
  for (const m of res.matches) {
    const r = byId.get(m.requestId)!;
    used.set(m.askId, (used.get(m.askId) ?? 0n) + 1n);
    spent.set(m.prover, (spent.get(m.prover) ?? 0n) + collateralFor(r.minCollateral, r.currentFee, params.collateralRatioBps));
    taken.set(m.prover, (taken.get(m.prover) ?? 0n) + 1n);
  }
  let reach = -1n;
  for (const a of asks) {
    if (a.price > t || a.capacity - (used.get(a.id) ?? 0n) <= 0n) continue;
    const q = params.quota?.get(a.prover);
    if (q !== undefined && q - (taken.get(a.prover) ?? 0n) <= 0n) continue;
    const left = (freeCollateral.get(a.prover) ?? 0n) - (spent.get(a.prover) ?? 0n);
    let top = params.collateralRatioBps === 0n ? t : (left * BPS_DENOMINATOR) / params.collateralRatioBps;
    if (top > t) top = t;
    if (top >= a.price && top > reach) reach = top;
  }
  return reach;
}
