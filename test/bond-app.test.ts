/**
 * The bond module inside the real app (LevelDB, the ABCI call sequence, every invariant after every block): MsgBond,
 * MsgUnbond (response, maturity release in EndBlock, surviving a restart), MsgUnjail on a genesis-jailed prover,
 * rejections with codespace/code, and the queries over ABCI.
 */
import test from 'ava';
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
import { TestChain, devnetKey } from './helpers/chain.js';
import type { RawKey } from '../src/client/sign.js';
import { defaultGenesis } from '../genesis/index.js';
import { moduleAddress } from '../src/crypto/address.js';
import { initVerifierBackend } from '../modules/verifier/index.js';
import {
  MsgBond,
  MsgUnbond,
  MsgUnbondResponse,
  MsgUnjail,
  QueryParamsRequest,
  QueryParamsResponse,
  QueryProverRequest,
  QueryProverResponse,
  QueryProversRequest,
  QueryProversResponse,
} from '../src/gen/proofbook/bond/v1/bond.js';

// The default genesis registers the verifier's genesis circuit, whose key checks need the pairing backend.
test.before(async () => {
  await initVerifierBackend();
});

const FEE = [{ denom: 'uproof', amount: 2000n }];
const BOND_ACCT = moduleAddress('bond');

function bondTx(key: RawKey, typeUrl: string, value: Uint8Array) {
  return { msgs: [{ typeUrl, value }], fee: FEE, gasLimit: 300_000n };
}
const bondMsg = (k: RawKey, amount: string, denom = 'uproof') =>
  bondTx(k, '/proofbook.bond.v1.MsgBond', MsgBond.encode({ prover: k.address, amount: [{ denom, amount }] }).finish());
const unbondMsg = (k: RawKey, amount: string) =>
  bondTx(k, '/proofbook.bond.v1.MsgUnbond', MsgUnbond.encode({ prover: k.address, amount: [{ denom: 'uproof', amount }] }).finish());
const unjailMsg = (k: RawKey) => bondTx(k, '/proofbook.bond.v1.MsgUnjail', MsgUnjail.encode({ prover: k.address }).finish());

async function balance(chain: TestChain, address: string): Promise<bigint> {
  const r = await chain.query('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom: 'uproof' }).finish());
  if (r.code !== 0) throw new Error(r.log);
  return BigInt(QueryBalanceResponse.decode(r.value).balance!.amount);
}

async function prover(chain: TestChain, address: string) {
  const r = await chain.query('/proofbook.bond.v1.Query/Prover', QueryProverRequest.encode({ address }).finish());
  return r.code === 0 ? { code: 0, log: r.log, ...QueryProverResponse.decode(r.value) } : { code: r.code, log: r.log, prover: undefined, unbonding: [] };
}

async function genesisWithJailedProver(jailed: RawKey) {
  const state = defaultGenesis() as any;
  state.bond = {
    params: { collateral_denoms: ['uproof'], unbonding_blocks: '3', max_misses: '3', jail_blocks: '200' },
    provers: [{ address: jailed.address, bonded: [{ denom: 'uproof', amount: '5000' }], locked: [], jailed: true, jailed_until: '4', recent_misses: '3', slashed: [] }],
    unbondings: [],
    next_unbonding_id: '1',
  };
  state.bank.balances.push({ address: BOND_ACCT, coins: [{ denom: 'uproof', amount: '5000' }] });
  return state;
}

test('MsgBond and MsgUnbond through signed txs; EndBlock releases at completion height, also after a restart', async (t) => {
  const a = await devnetKey(0);
  const j = await devnetKey(2);
  const chain = await TestChain.create({ appState: await genesisWithJailedProver(j) });
  t.teardown(() => chain.close());
  t.is(await balance(chain, BOND_ACCT), 5000n);

  const a0 = await balance(chain, a.address);
  const r1 = await chain.block([await chain.sign(a, bondMsg(a, '7000'))]);
  t.is(r1.txResults[0].code, 0, r1.txResults[0].log);
  t.truthy(r1.txResults[0].events.find((e) => e.type === 'proofbook.bond.bonded'));
  t.is(await balance(chain, a.address), a0 - 7000n - 2000n);
  t.is(await balance(chain, BOND_ACCT), 12_000n);
  t.deepEqual((await prover(chain, a.address)).prover!.bonded, [{ denom: 'uproof', amount: '7000' }]);

  const r2 = await chain.block([await chain.sign(a, unbondMsg(a, '2500'))]);
  t.is(r2.txResults[0].code, 0, r2.txResults[0].log);
  const data = TxMsgData.decode(r2.txResults[0].data);
  t.is(data.msgResponses[0].typeUrl, '/proofbook.bond.v1.MsgUnbondResponse');
  const resp = MsgUnbondResponse.decode(data.msgResponses[0].value);
  t.is(resp.unbondingId, 1n);
  t.is(resp.completionHeight, r2.height + 3n);
  const q = await prover(chain, a.address);
  t.deepEqual(q.prover!.bonded, [{ denom: 'uproof', amount: '4500' }]);
  t.deepEqual(q.unbonding.map((e) => [e.id, e.completionHeight]), [[1n, r2.height + 3n]]);

  // Above free collateral: refused with the bond codespace (CheckTx already, and in a block a proposer forced in).
  const check = await chain.checkTx(await chain.sign(a, unbondMsg(a, '4501')));
  t.is(check.codespace, 'bond');
  t.is(check.code, 4);
  const r3 = await chain.rawBlock([await chain.sign(a, unbondMsg(a, '4501'))]);
  t.is(r3.txResults[0].codespace, 'bond');
  t.is(r3.txResults[0].code, 4);
  t.regex(r3.txResults[0].log, /free collateral is 4500uproof/);
  // Non-collateral denom.
  const r4 = await chain.rawBlock([await chain.sign(a, bondMsg(a, '1', 'ufoo'))]);
  t.is(r4.txResults[0].code, 3);
  t.is(r4.height, r2.height + 2n);

  await chain.restart();
  const before = await balance(chain, a.address);
  t.is(await balance(chain, BOND_ACCT), 5000n + 7000n);
  await chain.block(); // height r2 + 3: completion
  t.is(await balance(chain, a.address), before + 2500n);
  t.is(await balance(chain, BOND_ACCT), 5000n + 4500n);
  t.deepEqual((await prover(chain, a.address)).unbonding, []);
});

test('MsgUnjail: refused before jailed_until and for provers not jailed; accepted after; queries over ABCI', async (t) => {
  const a = await devnetKey(0);
  const j = await devnetKey(2);
  const chain = await TestChain.create({ appState: await genesisWithJailedProver(j) });
  t.teardown(() => chain.close());
  const early = await chain.rawBlock([await chain.sign(j, unjailMsg(j))]);
  t.is(early.height, 1n);
  t.is(early.txResults[0].codespace, 'bond');
  t.is(early.txResults[0].code, 7);
  t.regex(early.txResults[0].log, /can unjail from height 4 \(now 1\)/);
  // A jailed prover may still unbond its free collateral.
  const ub = await chain.block([await chain.sign(j, unbondMsg(j, '1000'))]);
  t.is(ub.txResults[0].code, 0, ub.txResults[0].log);
  await chain.block();
  const ok = await chain.block([await chain.sign(j, unjailMsg(j))]);
  t.is(ok.height, 4n);
  t.is(ok.txResults[0].code, 0, ok.txResults[0].log);
  t.truthy(ok.txResults[0].events.find((e) => e.type === 'proofbook.bond.unjailed'));
  const p = (await prover(chain, j.address)).prover!;
  t.false(p.jailed);
  t.is(p.recentMisses, 0n);
  const again = await chain.rawBlock([await chain.sign(j, unjailMsg(j))]);
  t.is(again.txResults[0].code, 6);
  // Unknown prover: unjail fails with code 2; Prover query answers NotFound.
  const unk = await chain.rawBlock([await chain.sign(a, unjailMsg(a))]);
  t.is(unk.txResults[0].code, 2);
  const nf = await prover(chain, a.address);
  t.not(nf.code, 0);
  t.regex(nf.log, /NotFound|never bonded/);

  const list = await chain.query('/proofbook.bond.v1.Query/Provers', QueryProversRequest.encode({ pagination: undefined }).finish());
  t.is(list.code, 0, list.log);
  const provers = QueryProversResponse.decode(list.value);
  t.deepEqual(provers.provers.map((x) => x.address), [j.address]);
  t.is(provers.pagination!.total, 1n);
  const params = await chain.query('/proofbook.bond.v1.Query/Params', QueryParamsRequest.encode({}).finish());
  t.deepEqual(QueryParamsResponse.decode(params.value).params, { collateralDenoms: ['uproof'], unbondingBlocks: 3n, maxMisses: 3n, jailBlocks: 200n });
});
