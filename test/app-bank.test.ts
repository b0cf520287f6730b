import test from 'ava';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
import { TestChain, devnetKey } from './helpers/chain.js';
import type { RawKey } from '../src/client/sign.js';

const FEE = [{ denom: 'uproof', amount: 200n }];

function send(from: RawKey, to: string, amount: bigint) {
  return {
    msgs: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from.address, toAddress: to, amount: [{ denom: 'uproof', amount: amount.toString() }] }).finish() }],
    fee: FEE,
    gasLimit: 200_000n,
  };
}

async function balance(chain: TestChain, address: string): Promise<bigint> {
  const r = await chain.query('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom: 'uproof' }).finish());
  if (r.code !== 0) throw new Error(r.log);
  return BigInt(QueryBalanceResponse.decode(r.value).balance!.amount);
}

test('a signed MsgSend moves funds, charges the fee, bumps the sequence and returns TxMsgData', async (t) => {
  const chain = await TestChain.create();
  t.teardown(() => chain.close());
  const a = await devnetKey(0);
  const b = await devnetKey(1);
  const a0 = await balance(chain, a.address);
  const b0 = await balance(chain, b.address);
  const tx = await chain.sign(a, send(a, b.address, 1234n));
  const check = await chain.checkTx(tx);
  t.is(check.code, 0, check.log);
  const res = await chain.block([tx]);
  t.is(res.txResults.length, 1);
  t.is(res.txResults[0].code, 0, res.txResults[0].log);
  t.true(res.txResults[0].gasUsed > 0n);
  const data = TxMsgData.decode(res.txResults[0].data);
  t.is(data.msgResponses[0].typeUrl, '/cosmos.bank.v1beta1.MsgSendResponse');
  t.is(await balance(chain, a.address), a0 - 1234n - 200n);
  t.is(await balance(chain, b.address), b0 + 1234n);
  t.is((await chain.account(a.address))!.sequence, 1n);
  t.is(res.appHash.length, 32);
});

test('replay, overdraft, bad signature and wrong chain id are rejected in CheckTx and change nothing', async (t) => {
  const chain = await TestChain.create();
  t.teardown(() => chain.close());
  const a = await devnetKey(0);
  const b = await devnetKey(1);
  const tx = await chain.sign(a, send(a, b.address, 10n));
  await chain.block([tx]);
  const hashBefore = chain.app.store.appHash;
  // replay: same bytes again -> wrong sequence
  const replay = await chain.checkTx(tx);
  t.is(replay.code, 32);
  t.regex(replay.log, /sequence mismatch, expected 1, got 0/);
  // overdraft
  const big = await chain.sign(a, send(a, b.address, 10n ** 30n));
  const over = await chain.checkTx(big);
  t.is(over.code, 5, over.log);
  // flipped signature bit
  const good = await chain.sign(a, send(a, b.address, 1n));
  const bad = new Uint8Array(good);
  bad[bad.length - 5] ^= 1;
  const badRes = await chain.checkTx(bad);
  t.not(badRes.code, 0);
  // garbage
  const garbage = await chain.checkTx(new Uint8Array([1, 2, 3, 4, 5]));
  t.is(garbage.code, 2);
  t.deepEqual(chain.app.store.appHash, hashBefore);
});
