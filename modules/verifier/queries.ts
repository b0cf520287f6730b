/** Verifier queries: '/proofbook.verifier.v1.Query/Circuit', '/Circuits' (paginated like the SDK), '/Params'. */
import type { QueryRoute } from '../../src/framework/module.js';
import { PrefixKV } from '../../src/store/kv.js';
import {
  Circuit,
  QueryCircuitRequest,
  QueryCircuitResponse,
  QueryCircuitsRequest,
  QueryCircuitsResponse,
  QueryParamsRequest,
  QueryParamsResponse,
} from '../../src/gen/proofbook/verifier/v1/verifier.js';
import { paginate } from '../../src/framework/paginate.js';
import type { VerifierKeeperImpl } from './keeper.js';
import { CIRCUIT_PREFIX, ErrInvalidCircuit, ErrUnknownCircuit, VERIFIER_STORE_PREFIX } from './keys.js';
import { isHex64 } from '../../src/types/hex.js';

export const QUERY_CIRCUIT = '/proofbook.verifier.v1.Query/Circuit';
export const QUERY_CIRCUITS = '/proofbook.verifier.v1.Query/Circuits';
export const QUERY_PARAMS = '/proofbook.verifier.v1.Query/Params';

export function verifierQueryRoutes(keeper: VerifierKeeperImpl): QueryRoute[] {
  const circuit: QueryRoute<QueryCircuitRequest, QueryCircuitResponse> = {
    path: QUERY_CIRCUIT,
    requestType: QueryCircuitRequest,
    responseType: QueryCircuitResponse,
    handle(ctx, req) {
      if (!isHex64(req.id)) throw ErrInvalidCircuit(`circuit id must be 64 lowercase hex characters, got ${JSON.stringify(req.id)}`);
      const c = keeper.circuit(ctx, req.id);
      if (c === undefined) throw ErrUnknownCircuit(`circuit ${req.id} is not registered`);
      return { circuit: c };
    },
  };
  const circuits: QueryRoute<QueryCircuitsRequest, QueryCircuitsResponse> = {
    path: QUERY_CIRCUITS,
    requestType: QueryCircuitsRequest,
    responseType: QueryCircuitsResponse,
    handle(ctx, req) {
      const kv = new PrefixKV(ctx.store(VERIFIER_STORE_PREFIX), CIRCUIT_PREFIX);
      const out: Circuit[] = [];
      const page = paginate(kv, req.pagination, (_k, v) => out.push(Circuit.decode(v)));
      return { circuits: out, pagination: { nextKey: Buffer.from(page.nextKey), total: page.total } };
    },
  };
  const params: QueryRoute<QueryParamsRequest, QueryParamsResponse> = {
    path: QUERY_PARAMS,
    requestType: QueryParamsRequest,
    responseType: QueryParamsResponse,
    handle(ctx) {
      return { params: keeper.params(ctx) };
    },
  };
  return [circuit, circuits, params];
}
