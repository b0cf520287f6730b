/**
 * cosmjs' own BankExtension (QueryClient + setupBankExtension + the generated QueryClientImpl) against the bank query
 * routes. The CometBFT RPC hop is replaced by a direct `abciQuery` adapter that encodes errors the way the app's
 * query router does (code + "rpc error: code = …" log); everything cosmjs-side is the real library code.
 */
import test from 'ava';
import { QueryClient, setupBankExtension } from '@cosmjs/stargate';
import { createBankModule } from '../modules/bank/index.js';
import { AppError, toAppError } from '../src/framework/errors.js';
import { addressFromBytes, type Address } from '../src/crypto/address.js';
import { SortedArrayKV, TestAccounts, newContext } from './bank-kv.js';

const A = addressFromBytes(new Uint8Array(20).fill(1)) as Address;

function client() {
  const ctx = newContext(new SortedArrayKV());
  const { module, keeper } = createBankModule({ accounts: new TestAccounts() });
  module.initGenesis!(ctx, { balances: [{ address: A, coins: [{ denom: 'uproof', amount: '1234' }, { denom: 'ufoo', amount: '5' }] }] });
  keeper.mint(ctx, 'mint', [{ denom: 'uproof', amount: 66n }]);
  const comet = {
    async abciQuery(params: { path: string; data: Uint8Array }) {
      const route = module.queries!.find((q) => q.path === params.path);
      try {
        if (!route) throw new AppError('sdk', 6, `unknown query path ${params.path}`, 12);
        const res = route.handle(newContext(ctx.kv, 'query'), route.requestType.decode(params.data));
        return { code: 0, log: '', value: route.responseType.encode(res).finish(), height: 5, key: new Uint8Array(), index: 0, codespace: '' };
      } catch (e) {
        const err = toAppError(e);
        return { code: err.code, log: `rpc error: code = ${err.grpcCode} desc = ${err.message}`, value: new Uint8Array(), height: 5, key: new Uint8Array(), index: 0, codespace: err.codespace };
      }
    },
  };
  return QueryClient.withExtensions(comet as any, setupBankExtension);
}

test('cosmjs BankExtension: balance, allBalances, totalSupply, supplyOf', async (t) => {
  const q = client();
  t.deepEqual(await q.bank.balance(A, 'uproof'), { denom: 'uproof', amount: '1234' });
  t.deepEqual(await q.bank.balance(addressFromBytes(new Uint8Array(20)), 'uproof'), { denom: 'uproof', amount: '0' });
  t.deepEqual(await q.bank.allBalances(A), [{ denom: 'ufoo', amount: '5' }, { denom: 'uproof', amount: '1234' }]);
  const total = await q.bank.totalSupply();
  t.deepEqual(total.supply, [{ denom: 'ufoo', amount: '5' }, { denom: 'uproof', amount: '1300' }]);
  t.is(total.pagination?.total, 2n);
  t.deepEqual(await q.bank.supplyOf('uproof'), { denom: 'uproof', amount: '1300' });
});

test('cosmjs BankExtension: an invalid address surfaces as a query error naming the problem', async (t) => {
  const q = client();
  const err = await t.throwsAsync(() => q.bank.balance('cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu', 'uproof'));
  t.regex(err!.message, /Query failed with \(7\): rpc error: code = 3 desc = invalid address: .*prefix 'cosmos', expected 'proof'/);
});
