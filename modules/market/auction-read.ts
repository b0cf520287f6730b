/**
 * What the auction reads per circuit and block (issue 10 #5): only asks that can actually be assigned, and only the
 * open requests whose fee lies in the band those asks can fund.
 *
 * An ask is live when it is unexpired, has capacity left, and its prover is bonded, not jailed, admitted (free
 * collateral >= min_bond_per_ask x its number of asks) and can fund a request at the ask's own price (free >=
 * ceil(collateral_ratio_bps x price / 10000)). Every request's lock is at least ceil(collateral_ratio_bps x fee / 10000)
 * (matching.ts collateralFor), so an assignable request has a fee in [floor, ceiling]:
 *   floor   = the cheapest live ask's price (an ask priced above the fee cannot take it);
 *   ceiling = max over live asks of floor(free x 10000 / collateral_ratio_bps) (no prover could lock more).
 * A request outside the band is never allocated, and a request that is never allocated changes neither the
 * allocation nor the price (matching.ts: both depend only on the allocated requests and the asks), so reading only
 * the band gives exactly the full clear's matches (test/market-auction-equivalence.test.ts checks it block by block).
 *
 * The band is read from two indexes (keys.ts): 'o' by maxEff = min(max_fee, escrow) descending (every fee is <= its
 * key), sought directly to the ceiling, down to the floor; and for requests keyed above the ceiling whose fee may
 * still be below it (ramping), 'o' above the ceiling and 'g' (ramping requests by lowest fee) up to the ceiling read
 * in lock step: either list, once complete, holds every such request, so the cost is twice the shorter one.
 */
import { prefixEnd, iteratePrefix, type KV } from '../../src/store/kv.js';
import type { Ask, Params } from '../../src/gen/proofbook/market/v1/market.js';
import type { Address } from '../../src/crypto/address.js';
import {
  BPS,
  askWithRoomPrefix,
  askByProverPrefix,
  ascAmountKey,
  decodeOpenEntry,
  descAmountKey,
  openByCircuitPrefix,
  rampingByCircuitPrefix,
  readAscAmountKey,
  readDescAmountKey,
  trailingId,
  type OpenEntry,
} from './keys.js';
import { rampedFee } from './fee-ramp.js';

/** What the auction knows of a prover during one block's auction (the first look fixes its status and ask count). */
export interface ProverState {
  /** Bonded and not jailed. */
  active: boolean;
  /** Free collateral now (lowered as the block's matches lock it). */
  free: bigint;
  /** Its ask records when first looked at (the admission rule's count; pruning in this block does not change it). */
  asks: bigint;
}

export interface BondView {
  isActive(prover: Address): boolean;
  freeCollateral(prover: Address): bigint;
}

/** Per-block cache of provers' status, shared by every circuit's clear in the block (and by the reference). */
export class ProverView {
  private readonly m = new Map<string, ProverState>();
  constructor(
    private readonly kv: KV,
    private readonly bond: BondView,
  ) {}

  get(prover: string): ProverState {
    let s = this.m.get(prover);
    if (s === undefined) {
      const active = this.bond.isActive(prover as Address);
      let asks = 0n;
      for (const _ of iteratePrefix(this.kv, askByProverPrefix(prover as Address))) asks++;
      s = { active, free: active ? this.bond.freeCollateral(prover as Address) : 0n, asks };
      this.m.set(prover, s);
    }
    return s;
  }
}

/** ceil(collateral_ratio_bps x price / 10000): the least any assignment at `price` or above locks. */
export function leastLock(p: Params, price: bigint): bigint {
  return (p.collateralRatioBps * price + BPS - 1n) / BPS;
}

/** The highest fee a prover with `free` collateral could take: floor(free x 10000 / collateral_ratio_bps). */
export function feeCeiling(p: Params, free: bigint): bigint {
  return (free * BPS) / p.collateralRatioBps;
}

/** Whether the prover meets ask admission: active, and free >= min_bond_per_ask x its asks (`extra` more to come). */
export function admitted(p: Params, s: ProverState, extra = 0n): boolean {
  return s.active && s.free >= BigInt(p.minBondPerAsk) * (s.asks + extra);
}

/**
 * An ask's standing in this block: 'live' (can be assigned), 'dead' (an idle ask of a prover that is not admitted or
 * cannot fund a request at the ask's price: removed), 'skip' (expired, full, or busy while its prover cannot take
 * more: kept for its assignments, takes nothing new).
 */
export function askStanding(p: Params, a: Ask, s: ProverState, h: bigint): 'live' | 'dead' | 'skip' {
  if (a.expiryHeight <= h) return 'skip';
  const ok = admitted(p, s) && s.free >= leastLock(p, BigInt(a.price));
  if (!ok) return a.active === 0n ? 'dead' : 'skip';
  return a.active < a.capacity ? 'live' : 'skip';
}

/**
 * The circuit's cheapest live ask priced at or below `topFee`, walking its asks with capacity left cheapest first
 * (index 'y'); idle asks met on the way that fail admission are returned in `dead` (the caller removes them, so each
 * costs one visit). Asks at full capacity are not in 'y' and cost nothing here.
 */
export function cheapestLiveAsk(
  kv: KV,
  p: Params,
  circuitId: string,
  topFee: bigint,
  h: bigint,
  load: (id: bigint) => Ask | undefined,
  view: ProverView,
): { ask: Ask | undefined; dead: Ask[] } {
  const prefix = askWithRoomPrefix(circuitId);
  const dead: Ask[] = [];
  for (const [k] of iteratePrefix(kv, prefix)) {
    if (readAscAmountKey(k, prefix.length).amount > topFee) break;
    const a = load(trailingId(k));
    if (a === undefined) continue;
    const st = askStanding(p, a, view.get(a.prover), h);
    if (st === 'live') return { ask: a, dead };
    if (st === 'dead') dead.push(a);
  }
  return { ask: undefined, dead };
}

/**
 * An auctioned request as the indexes give it, `currentFee` its fee now. `maxFee` is the bound the stream is ordered
 * by (descending): the key amount maxEff for requests read in key order, the exact fee for the few keyed above the
 * band (read whole). clearFromIndex needs only that every request after one has a fee at most its bound.
 */
export interface BandEntry {
  id: bigint;
  maxFee: bigint;
  currentFee: bigint;
  /** The request's min_collateral, from the entry. */
  minCollateral: bigint;
}

/** The fee of an index entry at height h: the ramp, clamped to the escrow (maxEff). */
export function entryFee(e: OpenEntry, h: bigint): bigint {
  const f = rampedFee(e.minFee, e.maxFee, e.rampBlocks, e.submittedHeight, h);
  return f < e.maxEff ? f : e.maxEff;
}

/** Reads the work done (for the bench and tests). */
export interface BandStats {
  entries: number;
}

/** A closed fee range [floor, ceiling]. */
export interface FeeBand {
  floor: bigint;
  ceiling: bigint;
}

/**
 * The union of the live asks' bands [price, fee ceiling of its prover], as disjoint ranges, highest first. A request
 * can be given to an ask only if its fee lies in that ask's band, so only fees in the union need to be read.
 */
export function feeBands(bands: readonly FeeBand[]): FeeBand[] {
  const sorted = bands.filter((b) => b.floor <= b.ceiling).sort((a, b) => (a.floor < b.floor ? -1 : a.floor > b.floor ? 1 : 0));
  const out: FeeBand[] = [];
  for (const b of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && b.floor <= last.ceiling + 1n) {
      if (b.ceiling > last.ceiling) last.ceiling = b.ceiling;
    } else {
      out.push({ ...b });
    }
  }
  return out.reverse();
}

const byIndexOrder = (x: BandEntry, y: BandEntry): number => (x.maxFee !== y.maxFee ? (x.maxFee > y.maxFee ? -1 : 1) : x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

/**
 * Requests keyed above `band.ceiling` whose fee is in the band now (only requests whose fee still moves can be): 'o'
 * above the ceiling and 'g' up to the ceiling, read in lock step; the first to end is a complete superset.
 */
function aboveBand(kv: KV, circuitId: string, h: bigint, band: FeeBand, stats?: BandStats): BandEntry[] {
  const o = openByCircuitPrefix(circuitId);
  const g = rampingByCircuitPrefix(circuitId);
  const itAbove = kv.iterate(o, o + descAmountKey(band.ceiling));
  const itRamp = kv.iterate(g, g + ascAmountKey(band.ceiling + 1n));
  const fromAbove: BandEntry[] = [];
  const fromRamp: BandEntry[] = [];
  const inBand = (f: bigint) => f >= band.floor && f <= band.ceiling;
  let done: BandEntry[];
  for (;;) {
    const a = itAbove.next();
    if (a.done) {
      done = fromAbove;
      break;
    }
    if (stats) stats.entries++;
    const ea = decodeOpenEntry(a.value[1]);
    const fa = entryFee(ea, h);
    if (inBand(fa)) fromAbove.push({ id: trailingId(a.value[0]), maxFee: fa, currentFee: fa, minCollateral: ea.minCollateral });
    const b = itRamp.next();
    if (b.done) {
      done = fromRamp;
      break;
    }
    if (stats) stats.entries++;
    const eb = decodeOpenEntry(b.value[1]);
    const fb = entryFee(eb, h);
    if (eb.maxEff > band.ceiling && inBand(fb)) fromRamp.push({ id: trailingId(b.value[0]), maxFee: fb, currentFee: fb, minCollateral: eb.minCollateral });
  }
  itAbove.return?.();
  itRamp.return?.();
  return done;
}

/** Requests keyed in [band.floor, band.ceiling] whose fee has reached the floor, in index order. */
function* withinBand(kv: KV, circuitId: string, h: bigint, band: FeeBand, stats?: BandStats): Generator<BandEntry> {
  const o = openByCircuitPrefix(circuitId);
  for (const [k, v] of kv.iterate(o + descAmountKey(band.ceiling), prefixEnd(o))) {
    if (stats) stats.entries++;
    const maxEff = readDescAmountKey(k, o.length).amount;
    if (maxEff < band.floor) return;
    const e = decodeOpenEntry(v);
    const fee = entryFee(e, h);
    if (fee >= band.floor) yield { id: trailingId(k), maxFee: maxEff, currentFee: fee, minCollateral: e.minCollateral };
  }
}

/**
 * The circuit's auctioned requests whose fee at height h lies in one of `bands` (disjoint, highest first: feeBands),
 * ordered by bound descending, then id (BandEntry), without decoding any record.
 */
export function* requestsInBands(kv: KV, circuitId: string, h: bigint, bands: readonly FeeBand[], stats?: BandStats): Generator<BandEntry> {
  const above: BandEntry[] = [];
  for (const b of bands) above.push(...aboveBand(kv, circuitId, h, b, stats));
  above.sort(byIndexOrder);
  let i = 0;
  for (const b of bands) {
    for (const e of withinBand(kv, circuitId, h, b, stats)) {
      while (i < above.length && byIndexOrder(above[i], e) < 0) yield above[i++];
      yield e;
    }
  }
  while (i < above.length) yield above[i++];
}
