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
  /** Provers that may not take this request (they released, missed or declined it); their asks are skipped for it. */
  excluded?: readonly string[];
}
export interface MatchAsk {
  id: bigint;
  prover: string;
  price: bigint;
  capacity: bigint;
  reputation: bigint;
}
export interface MatchParams {
  collateralRatioBps: bigint;
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

/** Shared last step: clearing price, locked collateral, output ordering (by request id). */
function settle(
  requests: readonly MatchRequest[],
  byId: readonly number[],
  allocations: readonly Allocation[],
  unusedCandidatePrice: (minReserve: bigint) => bigint | null,
  params: MatchParams,
): ClearingResult {
  if (allocations.length === 0) {
    return { matches: [], clearingPrice: null, unmatched: byId.map((i) => requests[i].id) };
  }
  let lowestFee = allocations[0].request.currentFee;
  let highestAsk = allocations[0].ask.price;
  let minReserve = allocations[0].reserve;
  for (const a of allocations) {
    if (a.request.currentFee < lowestFee) lowestFee = a.request.currentFee;
    if (a.ask.price > highestAsk) highestAsk = a.ask.price;
    if (a.reserve < minReserve) minReserve = a.reserve;
  }
  const competitor = unusedCandidatePrice(minReserve);
  // p = min(F, max(M, U)) with U = +infinity when there is no competing unit.
  let price = competitor === null || competitor > highestAsk ? competitor : highestAsk;
  if (price === null || price > lowestFee) price = lowestFee;

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

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
 * Cost: O(R log R + A log A + R log A) for R requests and A asks. Asks are sorted once; a max segment tree over
 * the sorted asks holds, at each prover's cheapest ask with capacity left (its "head"), the prover's remaining
 * collateral, so "first ask with price <= fee whose prover can afford reserve" is one O(log A) descent.
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
  const sortedAsks = asks.filter((a) => a.capacity > 0n).sort(compareAsks);
  const n = sortedAsks.length;

  // Prover index (numbering follows the sorted ask order, so it is deterministic), remaining collateral,
  // and per prover the positions of its asks in sorted order plus a cursor to its head.
  const proverIndex = new Map<string, number>();
  const remaining: bigint[] = [];
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
      proverAsks.push([]);
      proverHead.push(0);
    }
    proverAsks[p].push(i);
    askProver[i] = p;
    capLeft[i] = a.capacity;
    prices[i] = a.price;
  }

  // Max segment tree over ask positions; -1n marks "not a head" (all real values are >= 0).
  let size = 1;
  while (size < n) size <<= 1;
  const tree: bigint[] = new Array<bigint>(2 * size).fill(-1n);
  for (let p = 0; p < remaining.length; p++) tree[size + proverAsks[p][0]] = remaining[p];
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

  const allocations: Allocation[] = [];
  let highestAsk = -1n;
  for (const index of order) {
    const request = requests[index];
    if (request.currentFee < highestAsk) break; // uniform-price guard: no later request can be matched either
    const hi = upperBound(request.currentFee);
    if (hi === 0) continue;
    const reserve = collateralFor(request.minCollateral, request.currentFee, ratio);
    // Excluded provers: hide their heads from the descent for this one request (a handful at most), then restore.
    const hidden: number[] = [];
    for (const ex of request.excluded ?? []) {
      const xp = proverIndex.get(ex);
      if (xp === undefined || proverHead[xp] >= proverAsks[xp].length) continue;
      hidden.push(xp);
      setLeaf(proverAsks[xp][proverHead[xp]], -1n);
    }
    const pos = findFirst(1, 0, size, hi, reserve);
    for (const xp of hidden) setLeaf(proverAsks[xp][proverHead[xp]], remaining[xp]);
    if (pos < 0) continue;
    const p = askProver[pos];
    remaining[p] -= reserve;
    capLeft[pos] -= 1n;
    if (prices[pos] > highestAsk) highestAsk = prices[pos];
    allocations.push({ index, request, ask: sortedAsks[pos], reserve });
    if (capLeft[pos] === 0n) {
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

  const competitorPrice = (minReserve: bigint): bigint | null => {
    for (let i = 0; i < n; i++) {
      if (capLeft[i] > 0n && remaining[askProver[i]] >= minReserve) return prices[i];
    }
    return null;
  };
  return settle(requests, byId, allocations, competitorPrice, params);
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
  for (const a of sortedAsks) remaining.set(a.prover, freeCollateral.get(a.prover) ?? 0n);

  const allocations: Allocation[] = [];
  let highestAsk: bigint | null = null;
  for (const index of order) {
    const request = requests[index];
    if (highestAsk !== null && request.currentFee < highestAsk) break;
    const reserve = collateralFor(request.minCollateral, request.currentFee, params.collateralRatioBps);
    for (let i = 0; i < sortedAsks.length; i++) {
      const ask = sortedAsks[i];
      if (ask.price > request.currentFee) break;
      if (request.excluded?.includes(ask.prover)) continue;
      const free = remaining.get(ask.prover)!;
      if (capLeft[i] > 0n && free >= reserve) {
        capLeft[i] -= 1n;
        remaining.set(ask.prover, free - reserve);
        if (highestAsk === null || ask.price > highestAsk) highestAsk = ask.price;
        allocations.push({ index, request, ask, reserve });
        break;
      }
    }
  }
  const competitorPrice = (minReserve: bigint): bigint | null => {
    for (let i = 0; i < sortedAsks.length; i++) {
      if (capLeft[i] > 0n && remaining.get(sortedAsks[i].prover)! >= minReserve) return sortedAsks[i].price;
    }
    return null;
  };
  return settle(requests, byId, allocations, competitorPrice, params);
}
