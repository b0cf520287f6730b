/** Shared helpers of the staking / slashing / distribution app-level tests. */
import { createHash } from 'node:crypto';
import { BlockIDFlag } from 'cosmjs-types/tendermint/types/validator';
import { MisbehaviorType, type CommitInfo, type Misbehavior } from 'cosmjs-types/tendermint/abci/types';
import { MsgDelegate, MsgUndelegate, MsgBeginRedelegate, MsgEditValidator } from 'cosmjs-types/cosmos/staking/v1beta1/tx';
import { MsgUnjail } from 'cosmjs-types/cosmos/slashing/v1beta1/tx';
import { MsgWithdrawDelegatorReward, MsgWithdrawValidatorCommission } from 'cosmjs-types/cosmos/distribution/v1beta1/tx';
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { TestChain, TEST_CHAIN_ID, devnetKey } from './chain.js';
import { defaultGenesis, type AppState } from '../../genesis/index.js';
import { buildGentx, createValidatorMsg, valoperOf } from '../../src/client/gentx.js';
import type { RawKey } from '../../src/client/sign.js';
import { Context } from '../../src/framework/context.js';
import { CacheKV } from '../../src/store/cache.js';
import { consAddress } from '../../modules/staking/addresses.js';

export const FEE = 5000n;
export const GAS = 5_000_000n;
export type Msg = { typeUrl: string; value: Uint8Array };

/** A deterministic stand-in ed25519 public key (the app never verifies consensus signatures; CometBFT does). */
export function consKey(i: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`validator ${i}`).digest());
}
export const consAddr = (i: number): Uint8Array => consAddress(consKey(i));

export const m = {
  createValidator: (k: RawKey, i: number, amount: bigint, o: { minSelf?: bigint; rate?: bigint } = {}): Msg => createValidatorMsg(k, { consensusPubkey: consKey(i), amount, moniker: `val${i}`, minSelfDelegation: o.minSelf, rate: o.rate }),
  delegate: (k: RawKey, val: RawKey, amount: bigint): Msg => ({ typeUrl: '/cosmos.staking.v1beta1.MsgDelegate', value: MsgDelegate.encode({ delegatorAddress: k.address, validatorAddress: valoperOf(val), amount: { denom: 'uproof', amount: amount.toString() } }).finish() }),
  undelegate: (k: RawKey, val: RawKey, amount: bigint): Msg => ({ typeUrl: '/cosmos.staking.v1beta1.MsgUndelegate', value: MsgUndelegate.encode({ delegatorAddress: k.address, validatorAddress: valoperOf(val), amount: { denom: 'uproof', amount: amount.toString() } }).finish() }),
  redelegate: (k: RawKey, src: RawKey, dst: RawKey, amount: bigint): Msg => ({
    typeUrl: '/cosmos.staking.v1beta1.MsgBeginRedelegate',
    value: MsgBeginRedelegate.encode({ delegatorAddress: k.address, validatorSrcAddress: valoperOf(src), validatorDstAddress: valoperOf(dst), amount: { denom: 'uproof', amount: amount.toString() } }).finish(),
  }),
  edit: (val: RawKey, o: { rate?: bigint; minSelf?: bigint; moniker?: string }): Msg => ({
    typeUrl: '/cosmos.staking.v1beta1.MsgEditValidator',
    value: MsgEditValidator.encode({
      validatorAddress: valoperOf(val), commissionRate: o.rate?.toString() ?? '', minSelfDelegation: o.minSelf?.toString() ?? '',
      description: { moniker: o.moniker ?? '[do-not-modify]', identity: '[do-not-modify]', website: '[do-not-modify]', securityContact: '[do-not-modify]', details: '[do-not-modify]' },
    }).finish(),
  }),
  unjail: (val: RawKey): Msg => ({ typeUrl: '/cosmos.slashing.v1beta1.MsgUnjail', value: MsgUnjail.encode({ validatorAddr: valoperOf(val) }).finish() }),
  withdraw: (k: RawKey, val: RawKey): Msg => ({ typeUrl: '/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward', value: MsgWithdrawDelegatorReward.encode({ delegatorAddress: k.address, validatorAddress: valoperOf(val) }).finish() }),
  withdrawCommission: (val: RawKey): Msg => ({ typeUrl: '/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission', value: MsgWithdrawValidatorCommission.encode({ validatorAddress: valoperOf(val) }).finish() }),
};

/** Default genesis with gentxs of devnet keys `ops[i]` (consensus key consKey(i)) bonding `amounts[i]` uproof. */
export async function stakingGenesis(amounts: bigint[], patch: (s: AppState) => void = () => undefined): Promise<{ appState: AppState; ops: RawKey[] }> {
  const appState = defaultGenesis();
  const ops = await Promise.all(amounts.map((_, i) => devnetKey(i)));
  const genTxs = amounts.map((a, i) => Buffer.from(buildGentx(ops[i]!, { chainId: TEST_CHAIN_ID, consensusPubkey: consKey(i), amount: a, moniker: `val${i}` })).toString('base64'));
  appState.staking = { ...(appState.staking as object), gen_txs: genTxs };
  patch(appState);
  return { appState, ops };
}

export async function signed(chain: TestChain, k: RawKey, msgs: Msg[]): Promise<Uint8Array> {
  return chain.sign(k, { msgs, fee: [{ denom: 'uproof', amount: FEE }], gasLimit: GAS });
}

export async function ok(chain: TestChain, k: RawKey, ...msgs: Msg[]) {
  const res = await chain.block([await signed(chain, k, msgs)]);
  if (res.txResults[0]!.code !== 0) throw new Error(`tx failed: ${res.txResults[0]!.log}`);
  return res;
}

/** The tx result of a block holding one tx that is expected to fail (proposed as is, as a proposer could). */
export async function fails(chain: TestChain, k: RawKey, ...msgs: Msg[]) {
  const res = await chain.rawBlock([await signed(chain, k, msgs)]);
  const broken = chain.app.checkInvariants();
  if (broken.length) throw new Error(`invariants broken: ${broken.join('; ')}`);
  return res.txResults[0]!;
}

export async function balance(chain: TestChain, address: string, denom = 'uproof'): Promise<bigint> {
  const r = await chain.query('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom }).finish());
  return BigInt(QueryBalanceResponse.decode(r.value).balance!.amount);
}

export function queryCtx(chain: TestChain): Context {
  return new Context(new CacheKV(chain.app.store), { chainId: TEST_CHAIN_ID, height: chain.app.height, timeSeconds: 0n }, 'query');
}

/** decided_last_commit with the given validators (by consKey index) signing or absent. */
export function commit(vals: { i: number; power: bigint; signed?: boolean }[]): CommitInfo {
  return {
    round: 0,
    votes: vals.map((v) => ({ validator: { address: consAddr(v.i), power: v.power }, blockIdFlag: v.signed === false ? BlockIDFlag.BLOCK_ID_FLAG_ABSENT : BlockIDFlag.BLOCK_ID_FLAG_COMMIT })),
  };
}

export function duplicateVote(i: number, power: bigint, height: bigint, total: bigint): Misbehavior {
  return { type: MisbehaviorType.DUPLICATE_VOTE, validator: { address: consAddr(i), power }, height, time: { seconds: 1_700_000_000n, nanos: 0 }, totalVotingPower: total };
}
