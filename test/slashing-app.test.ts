/**
 * Slashing through the real app (TestChain with FinalizeBlock's decided_last_commit and misbehavior set per block):
 * downtime over the sliding window jails with the small slash and MsgUnjail brings the validator back after the jail
 * time; double-sign evidence slashes (reaching unbonding entries created after the infraction, not those before),
 * jails and tombstones.
 */
import test from 'ava';
import { BondStatus } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import { QuerySigningInfoRequest, QuerySigningInfoResponse } from 'cosmjs-types/cosmos/slashing/v1beta1/query';
import { QuerySupplyOfRequest, QuerySupplyOfResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { TestChain, devnetKey } from './helpers/chain.js';
import { commit, consAddr, consKey, duplicateVote, fails, m, ok, queryCtx, stakingGenesis } from './helpers/staking.js';
import { valoperOf } from '../src/client/gentx.js';
import { parseValoper, valconsFromBytes } from '../modules/staking/addresses.js';
import type { RawKey } from '../src/client/sign.js';

const PROOF = 1_000_000n;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const validator = (chain: TestChain, k: RawKey) => chain.app.modules.keepers.staking.validator(queryCtx(chain), parseValoper(valoperOf(k)).bytes)!;

async function signingInfo(chain: TestChain, i: number) {
  const r = await chain.query('/cosmos.slashing.v1beta1.Query/SigningInfo', QuerySigningInfoRequest.encode({ consAddress: valconsFromBytes(consAddr(i)) }).finish());
  if (r.code !== 0) throw new Error(r.log);
  return QuerySigningInfoResponse.decode(r.value).valSigningInfo!;
}
async function supply(chain: TestChain) {
  return BigInt(QuerySupplyOfResponse.decode((await chain.query('/cosmos.bank.v1beta1.Query/SupplyOf', QuerySupplyOfRequest.encode({ denom: 'uproof' }).finish())).value).amount!.amount);
}

const params = (s: Record<string, unknown>) => {
  s.slashing = { params: { signed_blocks_window: '10', min_signed_per_window: '0.5', downtime_jail_duration: '5s', slash_fraction_double_sign: '0.05', slash_fraction_downtime: '0.01' }, signing_infos: [] };
  (s.staking as { params: Record<string, unknown> }).params.unbonding_time = '100s';
};

test('downtime: more than half of the window missed -> 1 % slash, jail, leaves the set; unjail refused before the jail time, accepted after', async (t) => {
  const { appState, ops } = await stakingGenesis([10n * PROOF, 10n * PROOF, 10n * PROOF, 10n * PROOF], params);
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  let offline = true;
  chain.consensus = () => ({ proposerAddress: consAddr(0), decidedLastCommit: commit([0, 1, 2, 3].map((i) => ({ i, power: 10n, signed: !(i === 3 && offline) }))) });
  let jailedAt = 0n;
  for (let h = 0; h < 20 && jailedAt === 0n; h++) {
    const res = await chain.block();
    if (res.validatorUpdates.length) {
      t.deepEqual(res.validatorUpdates.map((u) => [b64(u.pubKey.ed25519!), u.power]), [[b64(consKey(3)), 0n]]);
      jailedAt = res.height;
    }
  }
  // window 10, at most 5 misses: jailed at the first height > start + window (11) with 6 misses counted
  t.is(jailedAt, 11n);
  const v = validator(chain, ops[3]!);
  t.true(v.jailed);
  t.is(v.status, BondStatus.BOND_STATUS_UNBONDING);
  t.is(v.tokens, (10n * PROOF - PROOF / 10n).toString()); // 1 % of power 10
  const info = await signingInfo(chain, 3);
  t.is(info.missedBlocksCounter, 0n); // reset with the jail
  t.false(info.tombstoned);
  // the jail lasts 5 s (blocks are 1 s apart)
  t.regex((await fails(chain, ops[3]!, m.unjail(ops[3]!))).log, /still jailed|jailed until/);
  offline = false;
  for (let i = 0; i < 4; i++) await chain.block();
  const res = await ok(chain, ops[3]!, m.unjail(ops[3]!));
  t.deepEqual(res.validatorUpdates.map((u) => [b64(u.pubKey.ed25519!), u.power]), [[b64(consKey(3)), 9n]]);
  t.false(validator(chain, ops[3]!).jailed);
  t.is(validator(chain, ops[3]!).status, BondStatus.BOND_STATUS_BONDED);
  t.is((await signingInfo(chain, 3)).startHeight, res.height); // a fresh window: no immediate re-jail
  t.regex((await fails(chain, ops[3]!, m.unjail(ops[3]!))).log, /not jailed/);
});

test('double-sign evidence: 5 % of the stake at the infraction, taken from unbonding entries made after it and then the validator; jailed and tombstoned for good', async (t) => {
  const { appState, ops } = await stakingGenesis([10n * PROOF, 10n * PROOF, 10n * PROOF], params);
  const chain = await TestChain.create({ appState });
  t.teardown(() => chain.close());
  let evidence: ReturnType<typeof duplicateVote>[] = [];
  chain.consensus = () => ({ proposerAddress: consAddr(0), decidedLastCommit: commit([0, 1, 2].map((i) => ({ i, power: 10n }))), misbehavior: evidence });
  const d = await devnetKey(5);
  const val = ops[1]!;
  await ok(chain, d, m.delegate(d, val, 10n * PROOF));
  const before = await ok(chain, d, m.undelegate(d, val, 2n * PROOF)); // entry B, before the infraction
  await chain.block();
  const after = await ok(chain, d, m.undelegate(d, val, 4n * PROOF)); // entry C, at the infraction height's block
  const supply0 = await supply(chain);
  // the validator double-signed at height after.height + 1; its power then was 14
  evidence = [duplicateVote(1, 14n, after.height + 1n, 44n)];
  const res = await chain.block();
  evidence = [];
  t.deepEqual(res.validatorUpdates.map((u) => [b64(u.pubKey.ed25519!), u.power]), [[b64(consKey(1)), 0n]]);
  const slashAmount = (14n * PROOF * 5n) / 100n; // 0.7 PROOF
  const fromC = (4n * PROOF * 5n) / 100n; // 0.2 PROOF
  const { QueryUnbondingDelegationRequest, QueryUnbondingDelegationResponse } = await import('cosmjs-types/cosmos/staking/v1beta1/query');
  const u = QueryUnbondingDelegationResponse.decode((await chain.query('/cosmos.staking.v1beta1.Query/UnbondingDelegation', QueryUnbondingDelegationRequest.encode({ delegatorAddr: d.address, validatorAddr: valoperOf(val) }).finish())).value).unbond!;
  t.deepEqual(u.entries.map((e) => [e.creationHeight, e.balance]), [[before.height, (2n * PROOF).toString()], [after.height, (4n * PROOF - fromC).toString()]]);
  const v = validator(chain, val);
  t.is(v.tokens, (14n * PROOF - (slashAmount - fromC)).toString());
  t.true(v.jailed);
  t.is(await supply(chain), supply0 - slashAmount);
  const info = await signingInfo(chain, 1);
  t.true(info.tombstoned);
  // a second report of the same validator changes nothing; unjail is refused for ever
  evidence = [duplicateVote(1, 14n, after.height + 1n, 44n)];
  await chain.block();
  evidence = [];
  t.is(validator(chain, val).tokens, v.tokens);
  for (let i = 0; i < 3; i++) await chain.block();
  t.regex((await fails(chain, val, m.unjail(val))).log, /tombstoned/);
});
