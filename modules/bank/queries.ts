/**
 * Bank gRPC-style queries as @cosmjs/stargate's BankExtension calls them (Balance, AllBalances, TotalSupply,
 * SupplyOf), with the Cosmos SDK's argument checks and `query.Paginate` semantics.
 */
import {
  QueryDenomMetadataRequest,
  QueryDenomMetadataResponse,
  QueryDenomsMetadataRequest,
  QueryDenomsMetadataResponse,
  QueryParamsRequest,
  QueryParamsResponse,
  QuerySpendableBalanceByDenomRequest,
  QuerySpendableBalanceByDenomResponse,
  QuerySpendableBalancesRequest,
  QuerySpendableBalancesResponse,
  QueryAllBalancesRequest,
  QueryAllBalancesResponse,
  QueryBalanceRequest,
  QueryBalanceResponse,
  QuerySupplyOfRequest,
  QuerySupplyOfResponse,
  QueryTotalSupplyRequest,
  QueryTotalSupplyResponse,
} from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { Metadata } from 'cosmjs-types/cosmos/bank/v1beta1/bank';
import type { QueryRoute } from '../../src/framework/module.js';
import { ErrInvalidAddress, ErrInvalidRequest, ErrNotFound } from '../../src/framework/errors.js';
import { parseAddress, type Address } from '../../src/crypto/address.js';
import { isValidDenom } from '../../src/types/coins.js';
import { bytesToKey, keyToBytes, PrefixKV, type KV, type Key } from '../../src/store/kv.js';
import type { BankKeeper } from './keeper.js';
import { BANK_STORE_PREFIX, METADATA_PREFIX, SUPPLY_PREFIX, accountBalancesPrefix, decodeAmount } from './keys.js';

export const QUERY_BALANCE = '/cosmos.bank.v1beta1.Query/Balance';
export const QUERY_ALL_BALANCES = '/cosmos.bank.v1beta1.Query/AllBalances';
export const QUERY_TOTAL_SUPPLY = '/cosmos.bank.v1beta1.Query/TotalSupply';
export const QUERY_SUPPLY_OF = '/cosmos.bank.v1beta1.Query/SupplyOf';
export const QUERY_SPENDABLE_BALANCES = '/cosmos.bank.v1beta1.Query/SpendableBalances';
export const QUERY_SPENDABLE_BALANCE_BY_DENOM = '/cosmos.bank.v1beta1.Query/SpendableBalanceByDenom';
export const QUERY_PARAMS = '/cosmos.bank.v1beta1.Query/Params';
export const QUERY_DENOM_METADATA = '/cosmos.bank.v1beta1.Query/DenomMetadata';
export const QUERY_DENOMS_METADATA = '/cosmos.bank.v1beta1.Query/DenomsMetadata';

// query.Paginate lives in src/framework (shared by every module's list queries); re-exported for existing callers.
export { paginate, DEFAULT_PAGE_LIMIT } from '../../src/framework/paginate.js';
import { paginate } from '../../src/framework/paginate.js';

function queryAddress(address: string): Address {
  if (!address) throw ErrInvalidAddress('address cannot be empty');
  try {
    return parseAddress(address);
  } catch (e) {
    throw ErrInvalidAddress(`invalid address: ${(e as Error).message}`);
  }
}

function queryDenom(denom: string): string {
  if (!denom) throw ErrInvalidRequest('invalid denom: denom cannot be empty');
  if (!isValidDenom(denom)) throw ErrInvalidRequest(`invalid denom: '${denom}' (expected 3-128 characters [a-zA-Z][a-zA-Z0-9/:._-]*)`);
  return denom;
}

export function bankQueryRoutes(keeper: BankKeeper): QueryRoute[] {
  const balance: QueryRoute<QueryBalanceRequest, QueryBalanceResponse> = {
    path: QUERY_BALANCE,
    requestType: QueryBalanceRequest,
    responseType: QueryBalanceResponse,
    handle(ctx, req) {
      const addr = queryAddress(req.address);
      const denom = queryDenom(req.denom);
      return { balance: { denom, amount: keeper.balance(ctx, addr, denom).toString() } };
    },
  };
  const allBalances: QueryRoute<QueryAllBalancesRequest, QueryAllBalancesResponse> = {
    path: QUERY_ALL_BALANCES,
    requestType: QueryAllBalancesRequest,
    responseType: QueryAllBalancesResponse,
    handle(ctx, req) {
      const addr = queryAddress(req.address);
      const kv = new PrefixKV(ctx.store(BANK_STORE_PREFIX), accountBalancesPrefix(addr));
      const balances: { denom: string; amount: string }[] = [];
      const pagination = paginate(kv, req.pagination, (k, v) => balances.push({ denom: k, amount: decodeAmount(v).toString() }));
      return { balances, pagination };
    },
  };
  const totalSupply: QueryRoute<QueryTotalSupplyRequest, QueryTotalSupplyResponse> = {
    path: QUERY_TOTAL_SUPPLY,
    requestType: QueryTotalSupplyRequest,
    responseType: QueryTotalSupplyResponse,
    handle(ctx, req) {
      const kv = new PrefixKV(ctx.store(BANK_STORE_PREFIX), SUPPLY_PREFIX);
      const supply: { denom: string; amount: string }[] = [];
      const pagination = paginate(kv, req.pagination, (k, v) => supply.push({ denom: k, amount: decodeAmount(v).toString() }));
      return { supply, pagination };
    },
  };
  const supplyOf: QueryRoute<QuerySupplyOfRequest, QuerySupplyOfResponse> = {
    path: QUERY_SUPPLY_OF,
    requestType: QuerySupplyOfRequest,
    responseType: QuerySupplyOfResponse,
    handle(ctx, req) {
      const denom = queryDenom(req.denom);
      return { amount: { denom, amount: keeper.supply(ctx, denom).toString() } };
    },
  };
  // There are no vesting or locked coins, so spendable == balance.
  const spendableBalances: QueryRoute<QuerySpendableBalancesRequest, QuerySpendableBalancesResponse> = {
    path: QUERY_SPENDABLE_BALANCES,
    requestType: QuerySpendableBalancesRequest,
    responseType: QuerySpendableBalancesResponse,
    handle: (ctx, req) => allBalances.handle(ctx, QueryAllBalancesRequest.fromPartial({ address: req.address, pagination: req.pagination })),
  };
  const spendableByDenom: QueryRoute<QuerySpendableBalanceByDenomRequest, QuerySpendableBalanceByDenomResponse> = {
    path: QUERY_SPENDABLE_BALANCE_BY_DENOM,
    requestType: QuerySpendableBalanceByDenomRequest,
    responseType: QuerySpendableBalanceByDenomResponse,
    handle: (ctx, req) => balance.handle(ctx, req),
  };
  // Sending is enabled for every denom and there are no bank params to change.
  const params: QueryRoute<QueryParamsRequest, QueryParamsResponse> = {
    path: QUERY_PARAMS,
    requestType: QueryParamsRequest,
    responseType: QueryParamsResponse,
    handle: () => ({ params: { sendEnabled: [], defaultSendEnabled: true } }),
  };
  // Denom metadata from genesis ('d' + base denom), as the SDK's DenomMetadata / DenomsMetadata.
  const denomMetadata: QueryRoute<QueryDenomMetadataRequest, QueryDenomMetadataResponse> = {
    path: QUERY_DENOM_METADATA,
    requestType: QueryDenomMetadataRequest,
    responseType: QueryDenomMetadataResponse,
    handle(ctx, req) {
      const denom = queryDenom(req.denom);
      const raw = ctx.store(BANK_STORE_PREFIX).get(METADATA_PREFIX + denom);
      if (!raw) throw ErrNotFound(`client metadata for denom ${denom}`);
      return { metadata: Metadata.decode(raw) };
    },
  };
  const denomsMetadata: QueryRoute<QueryDenomsMetadataRequest, QueryDenomsMetadataResponse> = {
    path: QUERY_DENOMS_METADATA,
    requestType: QueryDenomsMetadataRequest,
    responseType: QueryDenomsMetadataResponse,
    handle(ctx, req) {
      const metadatas: Metadata[] = [];
      const kv = new PrefixKV(ctx.store(BANK_STORE_PREFIX), METADATA_PREFIX);
      const pagination = paginate(kv, req.pagination, (_k, v) => metadatas.push(Metadata.decode(v)));
      return { metadatas, pagination };
    },
  };
  return [balance, allBalances, totalSupply, supplyOf, spendableBalances, spendableByDenom, params, denomMetadata, denomsMetadata];
}
