/**
 * Issue 10 item 3: the minimum gas price is the documented 0.001 uproof/gas (10^15 in the 10^-18 units of
 * auth params.min_gas_price_atto), in the code default and in the default genesis.
 */
import test from 'ava';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { TestChain, devnetKey } from './helpers/chain.js';
import { defaultGenesis } from '../genesis/index.js';
import { DEFAULT_AUTH_PARAMS } from '../modules/auth/keeper.js';
import type { RawKey } from '../src/client/sign.js';

const send = (from: RawKey, to: string, fee: bigint, gasLimit: bigint) => ({
  msgs: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from.address, toAddress: to, amount: [{ denom: 'uproof', amount: '1' }] }).finish() }],
  fee: [{ denom: 'uproof', amount: fee }],
  gasLimit,
});

test('default params: 0.001 uproof per gas', (t) => {
  t.is(DEFAULT_AUTH_PARAMS.minGasPriceAtto, 10n ** 15n);
  const auth = (defaultGenesis() as any).auth;
  const price = auth?.params?.min_gas_price_atto;
  if (price !== undefined) t.is(price, (10n ** 15n).toString());
});

test('a tx paying below 0.001 uproof/gas is refused in CheckTx and in a block; one paying exactly the minimum passes', async (t) => {
  const chain = await TestChain.create();
  t.teardown(() => chain.close());
  const a = await devnetKey(0);
  const b = await devnetKey(1);
  // 200,000 gas at 0.001 uproof/gas = 200 uproof; the issue saw a 1-uproof fee accepted.
  for (const fee of [1n, 199n]) {
    const tx = await chain.sign(a, send(a, b.address, fee, 200_000n));
    const r = await chain.checkTx(tx);
    t.is(r.code, 13, r.log);
    t.regex(r.log, /below the minimum 200uproof/);
    const res = await chain.rawBlock([tx]);
    t.is(res.txResults[0].code, 13);
  }
  t.is((await chain.account(a.address))!.sequence, 0n);
  const ok = await chain.sign(a, send(a, b.address, 200n, 200_000n));
  t.is((await chain.checkTx(ok)).code, 0);
  t.is((await chain.block([ok])).txResults[0].code, 0);
});
