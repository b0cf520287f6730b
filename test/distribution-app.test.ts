/**
 * Fee distribution through the real app (TestChain, every module's invariants checked after every block, including
 * distribution's exact module-balance check): the previous block's tx fees go to the validators that signed by vote
 * power, commission to the operator, the rest to delegators by stake; withdrawals pay exactly the expected split.
 * The numbers are chosen so that every share is a whole number of uproof: the expected balances are exact.
 */
import test from 'ava';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { MsgSetWithdrawAddress } from 'cosmjs-types/cosmos/distribution/v1beta1/tx';
import { TestChain, devnetKey } from './helpers/chain.js';
import { FEE, balance, commit, consAddr, duplicateVote, fails, m, ok, signed, type Msg } from './helpers/staking.js';
import { QueryValidatorSlashesRequest, QueryValidatorSlashesResponse } from 'cosmjs-types/cosmos/distribution/v1beta1/query';
import { valoperOf } from '../src/client/gentx.js';
import { ATTO, DISTRIBUTION, FEE_COLLECTOR, PROOF, TREASURY, commissionAtto, communityPoolAtto, distributionGenesis, outstandingAtto, pendingAtto } from './helpers/distribution.js';

const send = (from: string, to: string, amount: bigint): Msg => ({ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from, toAddress: to, amount: [{ denom: 'uproof', amount: amount.toString() }] }).finish() });

test('fees reach signers by power, commission to operators, delegators by stake; withdrawals pay the exact split', async (t) => {
  // val0: 10 PROOF self-bond, 10 % commission; val1: 30 PROOF, 20 %. Votes carry power 20 and 30 (total 50).
  const { appState, ops } = await distributionGenesis([{ amount: 10n * PROOF, rate: ATTO / 10n }, { amount: 30n * PROOF, rate: ATTO / 5n }]);
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  chain.consensus = () => ({ proposerAddress: consAddr(0), decidedLastCommit: commit([{ i: 0, power: 20n }, { i: 1, power: 30n }]) });
  const [op0, op1] = [ops[0]!, ops[1]!];
  const d = await devnetKey(5);
  const payer = await devnetKey(6);

  // Expected rewards (uproof) by owner, accumulated block by block from the fees waiting at the block's start.
  const exp = { op0: 0n, d: 0n, op1: 0n, com0: 0n, com1: 0n };
  let val0Stakes = { op0: 10n * PROOF, d: 0n };
  const block = async (txs: Uint8Array[]) => {
    const fees = (await balance(chain, FEE_COLLECTOR)) + (await balance(chain, TREASURY));
    t.is(fees % 50n, 0n);
    const r0 = (fees * 20n) / 50n;
    const r1 = fees - r0;
    const c0 = r0 / 10n;
    const c1 = r1 / 5n;
    exp.com0 += c0;
    exp.com1 += c1;
    exp.op1 += r1 - c1;
    const tokens0 = val0Stakes.op0 + val0Stakes.d;
    t.is(((r0 - c0) * val0Stakes.d) % tokens0, 0n, 'the test keeps shares whole');
    exp.d += ((r0 - c0) * val0Stakes.d) / tokens0;
    exp.op0 += ((r0 - c0) * val0Stakes.op0) / tokens0;
    const res = await chain.block(txs);
    for (const r of res.txResults) t.is(r.code, 0, r.log);
    t.is(await balance(chain, FEE_COLLECTOR), BigInt(res.txResults.length) * FEE, 'this block\'s fees wait for the next');
    return res;
  };

  // B1: d delegates 10 PROOF to val0 (val0: op0 10, d 10), and a payer's send adds one more fee.
  await block([await signed(chain, d, [m.delegate(d, op0, 10n * PROOF)]), await signed(chain, payer, [send(payer.address, d.address, 1n)])]);
  val0Stakes = { op0: 10n * PROOF, d: 10n * PROOF };
  // B2..B4: fees from sends
  for (let i = 0; i < 3; i++) await block([await signed(chain, payer, [send(payer.address, op1.address, 1n)])]);
  await block([]);
  t.is(await balance(chain, FEE_COLLECTOR), 0n);
  // Pending rewards and commission as the queries show them (atto units), before any withdrawal
  t.is(await pendingAtto(chain, d.address, op0), exp.d * ATTO);
  t.is(await pendingAtto(chain, op0.address, op0), exp.op0 * ATTO);
  t.is(await pendingAtto(chain, op1.address, op1), exp.op1 * ATTO);
  t.is(await commissionAtto(chain, op0), exp.com0 * ATTO);
  t.is(await commissionAtto(chain, op1), exp.com1 * ATTO);
  t.is(await outstandingAtto(chain, op0), (exp.op0 + exp.d + exp.com0) * ATTO);
  t.true(exp.d > 0n && exp.op0 >= exp.d && exp.com1 > 0n);
  t.log(`expected split: d ${exp.d}, op0 ${exp.op0} + commission ${exp.com0}, op1 ${exp.op1} + commission ${exp.com1}`);

  // Withdraw everything (one block; these txs' own fees are allocated in the next block).
  const bd = await balance(chain, d.address);
  const b0 = await balance(chain, op0.address);
  const b1 = await balance(chain, op1.address);
  const due = { ...exp };
  const res = await block([
    await signed(chain, d, [m.withdraw(d, op0)]),
    await signed(chain, op0, [m.withdraw(op0, op0), m.withdrawCommission(op0)]),
    await signed(chain, op1, [m.withdraw(op1, op1), m.withdrawCommission(op1)]),
  ]);
  t.is(await balance(chain, d.address), bd - FEE + due.d);
  t.is(await balance(chain, op0.address), b0 - FEE + due.op0 + due.com0);
  t.is(await balance(chain, op1.address), b1 - FEE + due.op1 + due.com1);
  const events = res.txResults.flatMap((r) => r.events.filter((e) => e.type === 'withdraw_rewards').map((e) => e.attributes.find((a) => a.key === 'amount')!.value));
  t.deepEqual(events, [`${due.d}uproof`, `${due.op0}uproof`, `${due.op1}uproof`]);
  // No dust here: the community pool is empty and the distribution account holds only what this block allocated.
  t.is(await communityPoolAtto(chain), 0n);
  const allocatedNow = (exp.d - due.d) + (exp.op0 - due.op0) + (exp.op1 - due.op1) + (exp.com0 - due.com0) + (exp.com1 - due.com1);
  t.is(await balance(chain, DISTRIBUTION), allocatedNow);
  // Nothing left to withdraw as commission right after withdrawing it (the block's allocation came before the txs)
  t.is(await commissionAtto(chain, op0), (exp.com0 - due.com0) * ATTO);
});

test('bad withdrawals change nothing; unsigned votes earn nothing; withdraw address is honoured; no votes from staking: fees wait', async (t) => {
  const { appState, ops } = await distributionGenesis([{ amount: 10n * PROOF, rate: ATTO / 10n }, { amount: 10n * PROOF, rate: ATTO / 10n }]);
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  const [op0, op1] = [ops[0]!, ops[1]!];
  const d = await devnetKey(5);
  const dest = await devnetKey(7);
  // No consensus info (votes unknown): fees stay in fee_collector.
  await ok(chain, d, m.delegate(d, op0, 10n * PROOF));
  await chain.block();
  t.is(await balance(chain, FEE_COLLECTOR), FEE);
  t.is(await balance(chain, DISTRIBUTION), 0n);
  // Only val1 signs: everything goes to val1 (val0 absent).
  chain.consensus = () => ({ proposerAddress: consAddr(1), decidedLastCommit: commit([{ i: 0, power: 10n, signed: false }, { i: 1, power: 10n }]) });
  await chain.block();
  t.is(await balance(chain, FEE_COLLECTOR), 0n);
  t.is(await outstandingAtto(chain, op0), 0n);
  t.is(await outstandingAtto(chain, op1), FEE * ATTO);
  t.is(await commissionAtto(chain, op1), (FEE / 10n) * ATTO);
  // Withdrawing from a validator one has no delegation with fails, changes nothing
  const before = await balance(chain, d.address);
  const bad = await fails(chain, d, m.withdraw(d, op1));
  t.not(bad.code, 0);
  t.regex(bad.log, /delegation does not exist/);
  t.is(await balance(chain, d.address), before - FEE);
  // Commission of a validator with none yet: refused
  chain.consensus = undefined;
  const none = await fails(chain, op0, m.withdrawCommission(op0));
  t.regex(none.log, /no validator commission/);
  // A withdraw address receives the rewards
  const setAddr: Msg = { typeUrl: '/cosmos.distribution.v1beta1.MsgSetWithdrawAddress', value: MsgSetWithdrawAddress.encode({ delegatorAddress: op1.address, withdrawAddress: dest.address }).finish() };
  await ok(chain, op1, setAddr);
  const bDest = await balance(chain, dest.address);
  await ok(chain, op1, m.withdraw(op1, op1));
  t.is(await balance(chain, dest.address), bDest + (FEE - FEE / 10n));
  // A module account may not be a withdraw address
  const toModule: Msg = { typeUrl: '/cosmos.distribution.v1beta1.MsgSetWithdrawAddress', value: MsgSetWithdrawAddress.encode({ delegatorAddress: op1.address, withdrawAddress: FEE_COLLECTOR }).finish() };
  t.regex((await fails(chain, op1, toModule)).log, /module account/);
});

test('double-sign evidence slashes a validator between allocations: its delegators keep their pro-rata shares (slash event recorded), withdrawals pay the floor of the exact share', async (t) => {
  const { appState, ops } = await distributionGenesis([{ amount: 10n * PROOF, rate: 0n }, { amount: 10n * PROOF, rate: 0n }]);
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  const [op0, op1] = [ops[0]!, ops[1]!];
  const d = await devnetKey(5);
  const payer = await devnetKey(6);
  let evidenceAt = -1n;
  chain.consensus = (h) => ({
    proposerAddress: consAddr(1),
    decidedLastCommit: commit([{ i: 0, power: 20n }, { i: 1, power: 10n }]),
    misbehavior: h === evidenceAt ? [duplicateVote(0, 20n, h - 1n, 30n)] : [],
  });
  await ok(chain, d, m.delegate(d, op0, 10n * PROOF)); // val0: op0 10 + d 10 PROOF; fee 5000 allocated next block
  await chain.block(); // allocation: val0 gets floor(5000 × 20/30) (atto), shared equally by op0 and d
  evidenceAt = chain.app.height + 1n;
  await chain.block([await signed(chain, payer, [send(payer.address, op1.address, 1n)])]); // slash (5 % of 20 PROOF), a 5000 fee
  await chain.block(); // allocation of that fee: val0 (tokens 19 PROOF now) still gets 20/30 of it by vote power
  const slashes = QueryValidatorSlashesResponse.decode((await chain.query('/cosmos.distribution.v1beta1.Query/ValidatorSlashes', QueryValidatorSlashesRequest.encode({ validatorAddress: valoperOf(op0), startingHeight: 0n, endingHeight: 0n }).finish())).value).slashes;
  t.is(slashes.length, 1);
  t.is(slashes[0]!.fraction, (ATTO / 20n).toString(), 'effective fraction: 1 PROOF of 20');
  const perAllocation = (5000n * ATTO * 20n) / 30n; // val0's reward per 5000 fee, atto
  const exactEach = perAllocation; // two allocations, half each: op0 and d hold equal shares throughout
  const pd = await pendingAtto(chain, d.address, op0);
  const p0 = await pendingAtto(chain, op0.address, op0);
  t.true(pd <= exactEach && exactEach - pd < 10n ** 12n, `pending ${pd} vs exact ${exactEach}`);
  t.is(pd, p0);
  const bd = await balance(chain, d.address);
  await ok(chain, d, m.withdraw(d, op0));
  t.is(await balance(chain, d.address), bd - FEE + exactEach / ATTO);
  // the fractions went to the community pool; the fee of the withdraw tx waits for the next block
  t.true((await communityPoolAtto(chain)) > 0n);
});
