import test from 'ava';
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
import { createBankModule } from '../modules/bank/index.js';
import { AppError, GRPC } from '../src/framework/errors.js';
import type { QueryRoute } from '../src/framework/module.js';
import { addressFromBytes, type Address } from '../src/crypto/address.js';
import { SortedArrayKV, TestAccounts, newContext } from './bank-kv.js';

const A = addressFromBytes(new Uint8Array(20).fill(1)) as Address;
const EMPTY = addressFromBytes(new Uint8Array(20).fill(9)) as Address;
const DENOMS = ['uaaa', 'ubbb', 'uccc', 'uddd', 'ueee', 'ufff', 'uggg'];

function setup() {
  const ctx = newContext(new SortedArrayKV());
  const { module } = createBankModule({ accounts: new TestAccounts() });
  module.initGenesis!(ctx, { balances: [{ address: A, coins: DENOMS.map((d, i) => ({ denom: d, amount: String(i + 1) })) }] });
  const qctx = newContext(ctx.kv, 'query');
  /** Runs a query the way the router does: request and response go through their protobuf encodings. */
  const query = <Q, R>(path: string, req: Q): R => {
    const r = module.queries!.find((q) => q.path === path) as QueryRoute<Q, R> | undefined;
    if (!r) throw new Error(`no route ${path}`);
    const decodedReq = r.requestType.decode(r.requestType.encode(req).finish());
    return r.responseType.decode(r.responseType.encode(r.handle(qctx, decodedReq)).finish());
  };
  return { ctx, module, query };
}

test('registers the Query paths cosmjs BankExtension uses, plus spendable/params/metadata', (t) => {
  const { module } = setup();
  t.deepEqual(module.queries!.map((q) => q.path), [
    '/cosmos.bank.v1beta1.Query/Balance',
    '/cosmos.bank.v1beta1.Query/AllBalances',
    '/cosmos.bank.v1beta1.Query/TotalSupply',
    '/cosmos.bank.v1beta1.Query/SupplyOf',
    '/cosmos.bank.v1beta1.Query/SpendableBalances',
    '/cosmos.bank.v1beta1.Query/SpendableBalanceByDenom',
    '/cosmos.bank.v1beta1.Query/Params',
    '/cosmos.bank.v1beta1.Query/DenomMetadata',
    '/cosmos.bank.v1beta1.Query/DenomsMetadata',
  ]);
});

test('SpendableBalances equals AllBalances (no locked coins); Params; DenomMetadata is NotFound', (t) => {
  const { query } = setup();
  const sp = query<QuerySpendableBalancesRequest, QuerySpendableBalancesResponse>('/cosmos.bank.v1beta1.Query/SpendableBalances', {
    address: A,
    pagination: { key: new Uint8Array(0), offset: 1n, limit: 2n, countTotal: false, reverse: false },
  });
  t.deepEqual(sp.balances.map((b) => `${b.amount}${b.denom}`), ['2ubbb', '3uccc']);
  const one = query<QuerySpendableBalanceByDenomRequest, QuerySpendableBalanceByDenomResponse>('/cosmos.bank.v1beta1.Query/SpendableBalanceByDenom', { address: A, denom: 'uggg' });
  t.deepEqual(one.balance, { denom: 'uggg', amount: '7' });
  const p = query<QueryParamsRequest, QueryParamsResponse>('/cosmos.bank.v1beta1.Query/Params', {});
  t.deepEqual(p.params, { sendEnabled: [], defaultSendEnabled: true });
  const err = t.throws(() => query<QueryDenomMetadataRequest, QueryDenomMetadataResponse>('/cosmos.bank.v1beta1.Query/DenomMetadata', { denom: 'uproof' })) as AppError;
  t.is(err.grpcCode, GRPC.NotFound);
  const dm = query<QueryDenomsMetadataRequest, QueryDenomsMetadataResponse>('/cosmos.bank.v1beta1.Query/DenomsMetadata', {});
  t.deepEqual(dm.metadatas, []);
});

test('Balance: existing, unknown account is zero, bad input is InvalidArgument with a clear message', (t) => {
  const { query } = setup();
  const q = (address: string, denom: string) => query<QueryBalanceRequest, QueryBalanceResponse>('/cosmos.bank.v1beta1.Query/Balance', { address, denom });
  t.deepEqual(q(A, 'uccc').balance, { denom: 'uccc', amount: '3' });
  t.deepEqual(q(EMPTY, 'uproof').balance, { denom: 'uproof', amount: '0' });
  const bad = (address: string, denom: string, re: RegExp) => {
    const err = t.throws(() => q(address, denom), { instanceOf: AppError }) as AppError;
    t.is(err.grpcCode, GRPC.InvalidArgument);
    t.regex(err.message, re);
  };
  bad('', 'uproof', /address cannot be empty/);
  bad('proof1zzzz', 'uproof', /invalid address: 'proof1zzzz' is not a valid bech32 address/);
  bad('cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu', 'uproof', /prefix 'cosmos', expected 'proof'/);
  bad(A, '', /denom cannot be empty/);
  bad(A, '1x', /invalid denom/);
});

test('AllBalances: default page returns everything with total; unknown account is empty', (t) => {
  const { query } = setup();
  const r = query<QueryAllBalancesRequest, QueryAllBalancesResponse>('/cosmos.bank.v1beta1.Query/AllBalances', QueryAllBalancesRequest.fromPartial({ address: A }));
  t.deepEqual(r.balances.map((b) => `${b.amount}${b.denom}`), ['1uaaa', '2ubbb', '3uccc', '4uddd', '5ueee', '6ufff', '7uggg']);
  t.is(r.pagination!.total, 7n);
  t.is(r.pagination!.nextKey.length, 0);
  const e = query<QueryAllBalancesRequest, QueryAllBalancesResponse>('/cosmos.bank.v1beta1.Query/AllBalances', QueryAllBalancesRequest.fromPartial({ address: EMPTY }));
  t.deepEqual(e.balances, []);
  t.is(e.pagination!.total, 0n);
});

test('AllBalances: key pagination walks every page via next_key, forward and reverse', (t) => {
  const { query } = setup();
  for (const reverse of [false, true]) {
    const seen: string[] = [];
    let key: Uint8Array = new Uint8Array(0);
    let pages = 0;
    do {
      const r = query<QueryAllBalancesRequest, QueryAllBalancesResponse>(
        '/cosmos.bank.v1beta1.Query/AllBalances',
        QueryAllBalancesRequest.fromPartial({ address: A, pagination: { key, limit: 3n, reverse } }),
      );
      t.true(r.balances.length <= 3);
      seen.push(...r.balances.map((b) => b.denom));
      key = r.pagination!.nextKey;
      pages++;
    } while (key.length > 0 && pages < 10);
    t.is(pages, 3);
    t.deepEqual(seen, reverse ? [...DENOMS].reverse() : DENOMS);
  }
});

test('AllBalances: offset pagination, count_total, and key+offset rejected', (t) => {
  const { query } = setup();
  const q = (pagination: object) =>
    query<QueryAllBalancesRequest, QueryAllBalancesResponse>('/cosmos.bank.v1beta1.Query/AllBalances', QueryAllBalancesRequest.fromPartial({ address: A, pagination }));
  const r = q({ offset: 2n, limit: 2n, countTotal: true });
  t.deepEqual(r.balances.map((b) => b.denom), ['uccc', 'uddd']);
  t.is(r.pagination!.total, 7n);
  t.is(new TextDecoder().decode(r.pagination!.nextKey), 'ueee');
  const noTotal = q({ offset: 2n, limit: 2n });
  t.is(noTotal.pagination!.total, 0n);
  const last = q({ offset: 6n, limit: 2n });
  t.deepEqual(last.balances.map((b) => b.denom), ['uggg']);
  t.is(last.pagination!.nextKey.length, 0);
  const rev = q({ offset: 1n, limit: 2n, reverse: true });
  t.deepEqual(rev.balances.map((b) => b.denom), ['ufff', 'ueee']);
  const err = t.throws(() => q({ key: new TextEncoder().encode('ubbb'), offset: 1n, limit: 2n })) as AppError;
  t.is(err.grpcCode, GRPC.InvalidArgument);
  t.regex(err.message, /either offset or key is expected, got both/);
});

test('TotalSupply (paginated) and SupplyOf', (t) => {
  const { query } = setup();
  const all = query<QueryTotalSupplyRequest, QueryTotalSupplyResponse>('/cosmos.bank.v1beta1.Query/TotalSupply', {});
  t.deepEqual(all.supply.map((c) => `${c.amount}${c.denom}`), ['1uaaa', '2ubbb', '3uccc', '4uddd', '5ueee', '6ufff', '7uggg']);
  const page = query<QueryTotalSupplyRequest, QueryTotalSupplyResponse>('/cosmos.bank.v1beta1.Query/TotalSupply', {
    pagination: { key: new TextEncoder().encode('ufff'), offset: 0n, limit: 5n, countTotal: false, reverse: false },
  });
  t.deepEqual(page.supply.map((c) => c.denom), ['ufff', 'uggg']);
  t.is(page.pagination!.nextKey.length, 0);
  const so = (denom: string) => query<QuerySupplyOfRequest, QuerySupplyOfResponse>('/cosmos.bank.v1beta1.Query/SupplyOf', { denom });
  t.deepEqual(so('ueee').amount, { denom: 'ueee', amount: '5' });
  t.deepEqual(so('unknown').amount, { denom: 'unknown', amount: '0' });
  t.is((t.throws(() => so('')) as AppError).grpcCode, GRPC.InvalidArgument);
});
