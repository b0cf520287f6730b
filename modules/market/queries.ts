/** Market queries: '/proofbook.market.v1.Query/<Method>' (see proto/proofbook/market/v1/market.proto). */
import type { QueryRoute } from '../../src/framework/module.js';
import type { Context } from '../../src/framework/context.js';
import { ErrInvalidRequest, ErrNotFound } from '../../src/framework/errors.js';
import { PrefixKV, compareKeys, iteratePrefix, keyToU64, u64Key } from '../../src/store/kv.js';
import { isHex64 } from '../../src/types/hex.js';
import { paginate } from '../../src/framework/paginate.js';
import {
  Ask,
  CircuitStats,
  PriceLevel,
  QueryAsksRequest,
  QueryAsksResponse,
  QueryBookRequest,
  QueryBookResponse,
  QueryParamsRequest,
  QueryParamsResponse,
  QueryReputationRequest,
  QueryReputationResponse,
  QueryRequestRequest,
  QueryRequestResponse,
  QueryRequestsRequest,
  QueryRequestsResponse,
  QueryStatsRequest,
  QueryStatsResponse,
  QueryStatsHistoryRequest,
  QueryStatsHistoryResponse,
  QuerySpreadRequest,
  QuerySpreadResponse,
  type BlockStats,
  Request,
  RequestStatus,
} from '../../src/gen/proofbook/market/v1/market.js';
import { addr, type MarketKeeperImpl } from './keeper.js';
import { recentWinners } from './recent-winners.js';
import { spreadPenaltyInForce, windowHhi } from './spread-penalty.js';
import {
  ASK_PREFIX,
  OPEN_BY_CIRCUIT_PREFIX,
  REQUEST_PREFIX,
  STATS_PREFIX,
  askByCircuitPrefix,
  askByProverPrefix,
  byRequesterPrefix,
  byStatusPrefix,
  byCircuitPrefix,
  byCircuitStatusPrefix,
  circIdFromKey,
  circKey,
  decodeStats,
  emptyStats,
  STATS_FIELDS,
  trailingId,
  type StatsCounters,
} from './keys.js';

const Q = (m: string) => `/proofbook.market.v1.Query/${m}`;
export const QUERY_REQUEST = Q('Request');
export const QUERY_REQUESTS = Q('Requests');
export const QUERY_BOOK = Q('Book');
export const QUERY_ASKS = Q('Asks');
export const QUERY_REPUTATION = Q('Reputation');
export const QUERY_STATS = Q('Stats');
export const QUERY_PARAMS = Q('Params');
export const QUERY_STATS_HISTORY = Q('StatsHistory');
export const QUERY_SPREAD = Q('Spread');

function circuitArg(id: string): string {
  if (!isHex64(id)) throw ErrInvalidRequest(`circuit_id must be 64 lowercase hex characters, got ${JSON.stringify(id)}`);
  return id;
}

/** A mean of `count` block counts summing to `sum`, times 1000 (0 when there are none). */
const meanMilli = (sum: bigint, count: bigint): bigint => (count === 0n ? 0n : (sum * 1000n) / count);

/** Per-circuit totals of the stats counters over (height - window, height]. */
export function windowStats(ctx: Context, k: MarketKeeperImpl, circuitFilter?: string): Map<string, StatsCounters> {
  const window = k.params(ctx).statsWindow;
  const from = ctx.height >= window ? ctx.height - window + 1n : 0n;
  const out = new Map<string, StatsCounters>();
  for (const [key, v] of k.store(ctx).iterate(STATS_PREFIX + u64Key(from), STATS_PREFIX + u64Key(ctx.height + 1n))) {
    const circuitId = circIdFromKey(key.slice(9, 41));
    if (circuitFilter !== undefined && circuitId !== circuitFilter) continue;
    const s = decodeStats(v);
    const t = out.get(circuitId) ?? emptyStats();
    for (const f of STATS_FIELDS) t[f] += s[f];
    out.set(circuitId, t);
  }
  return out;
}

import { commitsOf } from './fallback.js';
import { fallbackOpen, outraceBounty } from './penalties.js';
import { circuitPace } from './circuit-pace.js';

export function marketQueryRoutes(k: MarketKeeperImpl): QueryRoute[] {
  const request: QueryRoute<QueryRequestRequest, QueryRequestResponse> = {
    path: QUERY_REQUEST,
    requestType: QueryRequestRequest,
    responseType: QueryRequestResponse,
    handle(ctx, q) {
      const r = k.requestWithInput(ctx, q.id);
      if (r === undefined) throw ErrNotFound(`request ${q.id}`);
      // a commitment in the next block locks fallbackFee(h + 1) (fallback-fee.ts; non-decreasing, so later: at least this)
      const next = ctx.height + 1n;
      const open = fallbackOpen(r, next);
      const fallbackFee = open ? k.fallbackFee(ctx, r, next).toString() : '';
      // racing an assignment also pays the bounty share of its release slash (non-decreasing in h: at least this)
      const outrace = open && r.status === RequestStatus.REQUEST_STATUS_ASSIGNED && r.assignment !== undefined;
      const raceBounty = outrace ? outraceBounty(k.params(ctx), r.assignment!, next).toString() : '';
      return { request: r, currentFee: k.currentFee(r, ctx.height).toString(), fallbackCommits: commitsOf(k.store(ctx), r.id), fallbackFee, outraceBounty: raceBounty };
    },
  };
  const requests: QueryRoute<QueryRequestsRequest, QueryRequestsResponse> = {
    path: QUERY_REQUESTS,
    requestType: QueryRequestsRequest,
    responseType: QueryRequestsResponse,
    handle(ctx, q) {
      const kv = k.store(ctx);
      const out: Request[] = [];
      const status = q.status;
      const circuit = (q.circuitId ?? '') === '' ? undefined : circuitArg(q.circuitId);
      const anyStatus = status === RequestStatus.REQUEST_STATUS_UNSPECIFIED;
      let view;
      // filters the chosen index does not answer are checked on each record (a requester's own requests only)
      let filterStatus = false;
      let filterCircuit = false;
      if (q.requester !== '') {
        view = new PrefixKV(kv, byRequesterPrefix(addr(q.requester, 'requester')));
        filterStatus = !anyStatus;
        filterCircuit = circuit !== undefined;
      } else if (circuit !== undefined) {
        // by circuit, then status, then id: one status's requests of the circuit are one contiguous range
        view = new PrefixKV(kv, anyStatus ? byCircuitPrefix(circuit) : byCircuitStatusPrefix(circuit, status));
      } else if (!anyStatus) {
        view = new PrefixKV(kv, byStatusPrefix(status));
      } else {
        view = new PrefixKV(kv, REQUEST_PREFIX);
      }
      const pagination = paginate(view, q.pagination, (key) => {
        const r = k.requestWithInput(ctx, trailingId(key));
        if (r !== undefined && (!filterStatus || r.status === status) && (!filterCircuit || r.circuitId === circuit)) out.push(r);
      });
      return { requests: out, pagination: { nextKey: Buffer.from(pagination.nextKey), total: pagination.total } };
    },
  };
  const book: QueryRoute<QueryBookRequest, QueryBookResponse> = {
    path: QUERY_BOOK,
    requestType: QueryBookRequest,
    responseType: QueryBookResponse,
    handle(ctx, q) {
      const circuitId = circuitArg(q.circuitId);
      const askLevels = new Map<bigint, PriceLevel>();
      for (const a of k.liveAsks(ctx, circuitId)) {
        const price = BigInt(a.price);
        const lvl = askLevels.get(price) ?? { price: a.price, quantity: 0n, orders: 0n };
        lvl.quantity += a.capacity - a.active;
        lvl.orders += 1n;
        askLevels.set(price, lvl);
      }
      const reqLevels = new Map<bigint, PriceLevel>();
      for (const [key] of iteratePrefix(k.store(ctx), OPEN_BY_CIRCUIT_PREFIX + circKey(circuitId))) {
        const r = k.request(ctx, trailingId(key));
        if (r === undefined) continue;
        const fee = k.currentFee(r, ctx.height);
        const lvl = reqLevels.get(fee) ?? { price: fee.toString(), quantity: 0n, orders: 0n };
        lvl.quantity += 1n;
        lvl.orders += 1n;
        reqLevels.set(fee, lvl);
      }
      const asc = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
      const last = k.lastClearing(ctx, circuitId);
      return {
        asks: [...askLevels.keys()].sort(asc).map((p) => askLevels.get(p)!),
        requests: [...reqLevels.keys()].sort((a, b) => asc(b, a)).map((p) => reqLevels.get(p)!),
        lastClearingPrice: last ? last.price.toString() : '',
        lastClearingHeight: last ? last.height : 0n,
      };
    },
  };
  const asks: QueryRoute<QueryAsksRequest, QueryAsksResponse> = {
    path: QUERY_ASKS,
    requestType: QueryAsksRequest,
    responseType: QueryAsksResponse,
    handle(ctx, q) {
      const kv = k.store(ctx);
      const out: Ask[] = [];
      const circuit = q.circuitId === '' ? undefined : circuitArg(q.circuitId);
      let view;
      let filterCircuit = false;
      if (q.prover !== '') {
        view = new PrefixKV(kv, askByProverPrefix(addr(q.prover, 'prover')));
        filterCircuit = circuit !== undefined;
      } else if (circuit !== undefined) {
        view = new PrefixKV(kv, askByCircuitPrefix(circuit));
      } else {
        view = new PrefixKV(kv, ASK_PREFIX);
      }
      const pagination = paginate(view, q.pagination, (key) => {
        const a = k.ask(ctx, trailingId(key));
        if (a !== undefined && (!filterCircuit || a.circuitId === circuit)) out.push(a);
      });
      return { asks: out, pagination: { nextKey: Buffer.from(pagination.nextKey), total: pagination.total } };
    },
  };
  const reputation: QueryRoute<QueryReputationRequest, QueryReputationResponse> = {
    path: QUERY_REPUTATION,
    requestType: QueryReputationRequest,
    responseType: QueryReputationResponse,
    handle: (ctx, q) => ({ reputations: k.reputationsOf(ctx, addr(q.prover, 'prover')) }),
  };
  const stats: QueryRoute<QueryStatsRequest, QueryStatsResponse> = {
    path: QUERY_STATS,
    requestType: QueryStatsRequest,
    responseType: QueryStatsResponse,
    handle(ctx, q) {
      const filter = q.circuitId === '' ? undefined : circuitArg(q.circuitId);
      const window = k.params(ctx).statsWindow;
      const totals = windowStats(ctx, k, filter);
      if (filter !== undefined && !totals.has(filter)) totals.set(filter, emptyStats());
      const out: CircuitStats[] = [...totals.keys()].sort(compareKeys).map((id) => {
        const s = totals.get(id)!;
        return {
          circuitId: id,
          fills: s.fills,
          meanClearingPrice: s.matches === 0n ? '0' : (s.priceSum / s.matches).toString(),
          meanBlocksToProofMilli: meanMilli(s.blocksSum, s.fills),
          slashes: s.slashes,
          expiries: s.expiries,
          windowBlocks: window,
          assignedFills: s.assignedFills,
          meanAssignedBlocksToProofMilli: meanMilli(s.assignedBlocksSum, s.assignedFills),
          paceBlocksToProofMilli: circuitPace(k.store(ctx), id)?.avgBlocksToProofMilli ?? 0n,
        };
      });
      return { stats: out };
    },
  };
  const params: QueryRoute<QueryParamsRequest, QueryParamsResponse> = {
    path: QUERY_PARAMS,
    requestType: QueryParamsRequest,
    responseType: QueryParamsResponse,
    handle: (ctx) => ({ params: k.params(ctx) }),
  };
  // The per-block counters Stats sums, one entry per block with activity (the explorer's price and latency charts).
  const statsHistory: QueryRoute<QueryStatsHistoryRequest, QueryStatsHistoryResponse> = {
    path: QUERY_STATS_HISTORY,
    requestType: QueryStatsHistoryRequest,
    responseType: QueryStatsHistoryResponse,
    handle(ctx, q) {
      const circuitId = circuitArg(q.circuitId);
      const window = k.params(ctx).statsWindow;
      const from = ctx.height >= window ? ctx.height - window + 1n : 0n;
      const blocks: BlockStats[] = [];
      for (const [key, v] of k.store(ctx).iterate(STATS_PREFIX + u64Key(from), STATS_PREFIX + u64Key(ctx.height + 1n))) {
        if (circIdFromKey(key.slice(9, 41)) !== circuitId) continue;
        const s = decodeStats(v);
        blocks.push({
          height: keyToU64(key, 1),
          matches: s.matches,
          meanPrice: s.matches === 0n ? '' : (s.priceSum / s.matches).toString(),
          fills: s.fills,
          meanBlocksToProofMilli: meanMilli(s.blocksSum, s.fills),
          slashes: s.slashes,
          expiries: s.expiries,
          assignedFills: s.assignedFills,
          meanAssignedBlocksToProofMilli: meanMilli(s.assignedBlocksSum, s.assignedFills),
        });
      }
      return { blocks, windowBlocks: window };
    },
  };
  // The spread rule's state: the penalty the next auction applies and the window it is charged on (spread-penalty.ts).
  const spread: QueryRoute<QuerySpreadRequest, QuerySpreadResponse> = {
    path: QUERY_SPREAD,
    requestType: QuerySpreadRequest,
    responseType: QuerySpreadResponse,
    handle(ctx) {
      const kv = k.store(ctx);
      const p = k.params(ctx);
      const wins = new Map<string, bigint>();
      for (const w of recentWinners(kv)) wins.set(w, (wins.get(w) ?? 0n) + 1n);
      const { n, hhiBps } = windowHhi(wins.values());
      const provers = [...wins]
        .sort(([a, x], [b, y]) => (x !== y ? (x > y ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0))
        .map(([prover, w]) => ({ prover, wins: w }));
      return { penaltyInForce: spreadPenaltyInForce(kv, p).toString(), windowAssignments: n, windowHhiBps: hhiBps, targetHhiBps: p.spreadTargetHhiBps, provers };
    },
  };
  return [request, requests, book, asks, reputation, stats, params, statsHistory, spread];
}
