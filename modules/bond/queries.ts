/** Bond queries: '/proofbook.bond.v1.Query/Prover' (record + unbonding entries), '/Provers' (paginated), '/Params'. */
import type { QueryRoute } from '../../src/framework/module.js';
import { PrefixKV } from '../../src/store/kv.js';
import {
  Prover,
  QueryParamsRequest,
  QueryParamsResponse,
  QueryProverRequest,
  QueryProverResponse,
  QueryProversRequest,
  QueryProversResponse,
} from '../../src/gen/proofbook/bond/v1/bond.js';
import { paginate } from '../../src/framework/paginate.js';
import { proverAddress, type BondKeeperImpl } from './keeper.js';
import { BOND_STORE_PREFIX, ErrUnknownProver, PROVER_PREFIX } from './keys.js';

export const QUERY_PROVER = '/proofbook.bond.v1.Query/Prover';
export const QUERY_PROVERS = '/proofbook.bond.v1.Query/Provers';
export const QUERY_BOND_PARAMS = '/proofbook.bond.v1.Query/Params';

export function bondQueryRoutes(keeper: BondKeeperImpl): QueryRoute[] {
  const prover: QueryRoute<QueryProverRequest, QueryProverResponse> = {
    path: QUERY_PROVER,
    requestType: QueryProverRequest,
    responseType: QueryProverResponse,
    handle(ctx, req) {
      const addr = proverAddress(req.address, 'address');
      const p = keeper.prover(ctx, addr);
      if (p === undefined) throw ErrUnknownProver(`${addr} has never bonded`);
      return { prover: p, unbonding: keeper.unbondingsOf(ctx, addr) };
    },
  };
  const provers: QueryRoute<QueryProversRequest, QueryProversResponse> = {
    path: QUERY_PROVERS,
    requestType: QueryProversRequest,
    responseType: QueryProversResponse,
    handle(ctx, req) {
      const kv = new PrefixKV(ctx.store(BOND_STORE_PREFIX), PROVER_PREFIX);
      const out: Prover[] = [];
      const page = paginate(kv, req.pagination, (_k, v) => out.push(Prover.decode(v)));
      return { provers: out, pagination: { nextKey: Buffer.from(page.nextKey), total: page.total } };
    },
  };
  const params: QueryRoute<QueryParamsRequest, QueryParamsResponse> = {
    path: QUERY_BOND_PARAMS,
    requestType: QueryParamsRequest,
    responseType: QueryParamsResponse,
    handle(ctx) {
      return { params: keeper.params(ctx) };
    },
  };
  return [prover, provers, params];
}
