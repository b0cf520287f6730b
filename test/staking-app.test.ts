/**
 * The staking module through the real app (TestChain: LevelDB, CometBFT's call sequence, invariants after every
 * block): gentxs at InitChain, delegation, unbonding with its period, redelegation, the bounded active set and the
 * validator updates FinalizeBlock returns, self-delegation below the minimum, cosmjs-compatible queries.
 */
import test from 'ava';
import { BondStatus } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import {
  QueryDelegationRequest, QueryDelegationResponse, QueryValidatorsRequest, QueryValidatorsResponse, QueryPoolRequest, QueryPoolResponse,
  QueryUnbondingDelegationRequest, QueryUnbondingDelegationResponse,
} from 'cosmjs-types/cosmos/staking/v1beta1/query';
import { TestChain, devnetKey } from './helpers/chain.js';
import { FEE, balance, consKey, fails, m, ok, queryCtx, stakingGenesis } from './helpers/staking.js';
import { valoperOf } from '../src/client/gentx.js';
import { parseValoper } from '../modules/staking/addresses.js';
import type { RawKey } from '../src/client/sign.js';

const PROOF = 1_000_000n;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function setParams(o: Record<string, unknown>) {
  return (s: Record<string, unknown>) => {
    const st = s.staking as { params: Record<string, unknown> };
    st.params = { ...st.params, ...o };
  };
}

async function validators(chain: TestChain, status = '') {
  const r = await chain.query('/cosmos.staking.v1beta1.Query/Validators', QueryValidatorsRequest.encode({ status, pagination: undefined }).finish());
  if (r.code !== 0) throw new Error(r.log);
  return QueryValidatorsResponse.decode(r.value).validators;
}

function validator(chain: TestChain, k: RawKey) {
  return chain.app.modules.keepers.staking.validator(queryCtx(chain), parseValoper(valoperOf(k)).bytes);
}

test('gentxs create the initial set InitChain returns; queries answer in the Cosmos SDK types; the pools hold the stake', async (t) => {
  const { appState, ops } = await stakingGenesis([10n * PROOF, 20n * PROOF, 30n * PROOF]);
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  const set = chain.genesisValidators.map((v) => [b64(v.pubKey.ed25519!), v.power]).sort();
  t.deepEqual(set, [[b64(consKey(0)), 10n], [b64(consKey(1)), 20n], [b64(consKey(2)), 30n]].sort());
  await chain.block();
  const vals = await validators(chain, 'BOND_STATUS_BONDED');
  t.is(vals.length, 3);
  t.deepEqual(vals.map((v) => v.description.moniker).sort(), ['val0', 'val1', 'val2']);
  t.is(vals.find((v) => v.description.moniker === 'val1')!.tokens, (20n * PROOF).toString());
  const d = QueryDelegationResponse.decode((await chain.query('/cosmos.staking.v1beta1.Query/Delegation', QueryDelegationRequest.encode({ delegatorAddr: ops[0]!.address, validatorAddr: valoperOf(ops[0]!) }).finish())).value);
  t.is(d.delegationResponse!.balance.amount, (10n * PROOF).toString());
  t.is(d.delegationResponse!.delegation.shares, (10n * PROOF * 10n ** 18n).toString());
  const pool = QueryPoolResponse.decode((await chain.query('/cosmos.staking.v1beta1.Query/Pool', QueryPoolRequest.encode({}).finish())).value).pool!;
  t.is(pool.bondedTokens, (60n * PROOF).toString());
  t.is(pool.notBondedTokens, '0');
});

test('delegate raises power (update returned), undelegate pays out only after the unbonding time', async (t) => {
  const { appState, ops } = await stakingGenesis([10n * PROOF, 10n * PROOF], setParams({ unbonding_time: '10s' }));
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  const d = await devnetKey(5);
  const b0 = await balance(chain, d.address);
  const res = await ok(chain, d, m.delegate(d, ops[0]!, 5n * PROOF));
  t.deepEqual(res.validatorUpdates.map((u) => [b64(u.pubKey.ed25519!), u.power]), [[b64(consKey(0)), 15n]]);
  t.is(await balance(chain, d.address), b0 - FEE - 5n * PROOF);
  const un = await ok(chain, d, m.undelegate(d, ops[0]!, 2n * PROOF));
  t.deepEqual(un.validatorUpdates.map((u) => u.power), [13n]);
  const ubd = QueryUnbondingDelegationResponse.decode((await chain.query('/cosmos.staking.v1beta1.Query/UnbondingDelegation', QueryUnbondingDelegationRequest.encode({ delegatorAddr: d.address, validatorAddr: valoperOf(ops[0]!) }).finish())).value).unbond!;
  t.is(ubd.entries.length, 1);
  t.is(ubd.entries[0]!.balance, (2n * PROOF).toString());
  const unbondAt = ubd.entries[0]!.completionTime.seconds;
  const before = await balance(chain, d.address);
  // blocks are 1 s apart: 8 more blocks are still before completion
  for (let i = 0; i < 8; i++) await chain.block();
  t.is(await balance(chain, d.address), before);
  for (let i = 0; i < 3; i++) await chain.block();
  t.true(BigInt(chain.app.height) > 0n);
  t.is(await balance(chain, d.address), before + 2n * PROOF, `paid at or after ${unbondAt}`);
  // more than delegated: refused, nothing changes
  const r = await fails(chain, d, m.undelegate(d, ops[0]!, 4n * PROOF));
  t.not(r.code, 0);
  t.regex(r.log, /insufficient delegation shares|cannot undelegate/);
});

test('bounded active set: max_validators by power, ties by operator address; a delegation swaps a validator in and the other out', async (t) => {
  const { appState, ops } = await stakingGenesis([10n * PROOF, 10n * PROOF, 10n * PROOF], setParams({ max_validators: 2, unbonding_time: '5s' }));
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  // equal power: the two lowest operator addresses are in
  const byAddr = [0, 1, 2].sort((a, b) => Buffer.compare(Buffer.from(parseValoper(valoperOf(ops[a]!)).bytes), Buffer.from(parseValoper(valoperOf(ops[b]!)).bytes)));
  const inSet = chain.genesisValidators.map((v) => b64(v.pubKey.ed25519!)).sort();
  t.deepEqual(inSet, [b64(consKey(byAddr[0]!)), b64(consKey(byAddr[1]!))].sort());
  const out = byAddr[2]!;
  t.is(validator(chain, ops[out]!)!.status, BondStatus.BOND_STATUS_UNBONDED);
  // delegating 1 PROOF to the one left out makes it the strongest; the highest-address member of the set drops out
  const d = await devnetKey(6);
  const res = await ok(chain, d, m.delegate(d, ops[out]!, PROOF));
  const ups = new Map(res.validatorUpdates.map((u) => [b64(u.pubKey.ed25519!), u.power]));
  t.is(ups.get(b64(consKey(out))), 11n);
  t.is(ups.get(b64(consKey(byAddr[1]!))), 0n);
  t.is(ups.size, 2);
  t.is(validator(chain, ops[byAddr[1]!]!)!.status, BondStatus.BOND_STATUS_UNBONDING);
  t.is(validator(chain, ops[out]!)!.status, BondStatus.BOND_STATUS_BONDED);
  for (let i = 0; i < 6; i++) await chain.block();
  t.is(validator(chain, ops[byAddr[1]!]!)!.status, BondStatus.BOND_STATUS_UNBONDED);
  t.is((await validators(chain, 'BOND_STATUS_BONDED')).length, 2);
});

test('an operator undelegating below its min_self_delegation is jailed and leaves the set (power 0 update)', async (t) => {
  const { appState, ops } = await stakingGenesis([10n * PROOF, 10n * PROOF, 10n * PROOF]);
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  const op = ops[2]!;
  // gentx min_self_delegation is 1 uproof: raise it to 5 PROOF, then undelegate 6 of 10
  await ok(chain, op, m.edit(op, { minSelf: 5n * PROOF }));
  const res = await ok(chain, op, m.undelegate(op, op, 6n * PROOF));
  t.deepEqual(res.validatorUpdates.map((u) => [b64(u.pubKey.ed25519!), u.power]), [[b64(consKey(2)), 0n]]);
  const v = validator(chain, op)!;
  t.true(v.jailed);
  t.is(v.status, BondStatus.BOND_STATUS_UNBONDING);
  t.is(v.tokens, (4n * PROOF).toString());
  t.true(res.txResults[0]!.events.some((e) => e.type === 'jail_self_delegation'));
});

test('MsgCreateValidator on a running chain joins the set; duplicate key, bad commission and wrong denom are refused', async (t) => {
  const { appState } = await stakingGenesis([10n * PROOF, 10n * PROOF]);
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  const k = await devnetKey(7);
  const res = await ok(chain, k, m.createValidator(k, 7, 3n * PROOF));
  t.deepEqual(res.validatorUpdates.map((u) => [b64(u.pubKey.ed25519!), u.power]), [[b64(consKey(7)), 3n]]);
  t.is(validator(chain, k)!.description.moniker, 'val7');
  const k8 = await devnetKey(8);
  t.regex((await fails(chain, k8, m.createValidator(k8, 7, PROOF))).log, /pubkey/);
  t.regex((await fails(chain, k8, m.createValidator(k8, 8, PROOF, { rate: 3n * 10n ** 17n }))).log, /max rate/);
  t.regex((await fails(chain, k, m.createValidator(k, 9, PROOF))).log, /already exist/);
  const wrong = m.createValidator(k8, 8, PROOF);
  const { MsgCreateValidator } = await import('cosmjs-types/cosmos/staking/v1beta1/tx');
  const msg = MsgCreateValidator.decode(wrong.value);
  msg.value = { denom: 'ufoo', amount: '1000000' };
  t.regex((await fails(chain, k8, { typeUrl: wrong.typeUrl, value: MsgCreateValidator.encode(msg).finish() })).log, /bond denom/);
  t.is(validator(chain, k8), undefined);
});

test('redelegation moves stake at once (both powers update); a transitive redelegation is refused until the first completes', async (t) => {
  const { appState, ops } = await stakingGenesis([10n * PROOF, 10n * PROOF, 10n * PROOF]);
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  const d = await devnetKey(5);
  await ok(chain, d, m.delegate(d, ops[0]!, 4n * PROOF));
  const res = await ok(chain, d, m.redelegate(d, ops[0]!, ops[1]!, 3n * PROOF));
  const ups = new Map(res.validatorUpdates.map((u) => [b64(u.pubKey.ed25519!), u.power]));
  t.is(ups.get(b64(consKey(0))), 11n);
  t.is(ups.get(b64(consKey(1))), 13n);
  t.regex((await fails(chain, d, m.redelegate(d, ops[1]!, ops[2]!, PROOF))).log, /redelegation to this validator already in progress/);
  t.regex((await fails(chain, d, m.redelegate(d, ops[0]!, ops[0]!, PROOF))).log, /same validator/);
});
