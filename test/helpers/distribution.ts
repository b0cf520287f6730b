/** Shared helpers of the distribution tests: a genesis of validators with chosen commission, balances, rewards. */
import { QueryDelegationRewardsRequest, QueryDelegationRewardsResponse, QueryCommunityPoolRequest, QueryCommunityPoolResponse } from 'cosmjs-types/cosmos/distribution/v1beta1/query';
import { QueryValidatorCommissionRequest, QueryValidatorCommissionResponse, QueryValidatorOutstandingRewardsRequest, QueryValidatorOutstandingRewardsResponse } from 'cosmjs-types/cosmos/distribution/v1beta1/query';
import { TestChain, TEST_CHAIN_ID, devnetKey } from './chain.js';
import { defaultGenesis, type AppState } from '../../genesis/index.js';
import { buildGentx, valoperOf } from '../../src/client/gentx.js';
import type { RawKey } from '../../src/client/sign.js';
import { moduleAddress } from '../../src/crypto/address.js';
import { consKey } from './staking.js';

export const PROOF = 1_000_000n;
export const ATTO = 10n ** 18n;
export const FEE_COLLECTOR = moduleAddress('fee_collector');
export const TREASURY = moduleAddress('treasury');
export const DISTRIBUTION = moduleAddress('distribution');

/** Gentxs of devnet keys 0..n-1 bonding `vals[i].amount` with commission `vals[i].rate` (18-dec). */
export async function distributionGenesis(vals: { amount: bigint; rate: bigint }[], patch: (s: AppState) => void = () => undefined): Promise<{ appState: AppState; ops: RawKey[] }> {
  const appState = defaultGenesis();
  const ops = await Promise.all(vals.map((_, i) => devnetKey(i)));
  const genTxs = vals.map((v, i) => Buffer.from(buildGentx(ops[i]!, { chainId: TEST_CHAIN_ID, consensusPubkey: consKey(i), amount: v.amount, moniker: `val${i}`, rate: v.rate })).toString('base64'));
  appState.staking = { ...(appState.staking as object), gen_txs: genTxs };
  patch(appState);
  return { appState, ops };
}

const sumUproof = (coins: { denom: string; amount: string }[]): bigint => coins.filter((c) => c.denom === 'uproof').reduce((a, c) => a + BigInt(c.amount), 0n);

async function q<T>(chain: TestChain, path: string, req: Uint8Array, dec: { decode(b: Uint8Array): T }): Promise<T> {
  const r = await chain.query(path, req);
  if (r.code !== 0) throw new Error(`${path}: ${r.log}`);
  return dec.decode(r.value);
}

/** Pending rewards (atto uproof) of a delegation. */
export async function pendingAtto(chain: TestChain, del: string, val: RawKey): Promise<bigint> {
  const r = await q(chain, '/cosmos.distribution.v1beta1.Query/DelegationRewards', QueryDelegationRewardsRequest.encode({ delegatorAddress: del, validatorAddress: valoperOf(val) }).finish(), QueryDelegationRewardsResponse);
  return sumUproof(r.rewards);
}
export async function commissionAtto(chain: TestChain, val: RawKey): Promise<bigint> {
  const r = await q(chain, '/cosmos.distribution.v1beta1.Query/ValidatorCommission', QueryValidatorCommissionRequest.encode({ validatorAddress: valoperOf(val) }).finish(), QueryValidatorCommissionResponse);
  return sumUproof(r.commission!.commission);
}
export async function outstandingAtto(chain: TestChain, val: RawKey): Promise<bigint> {
  const r = await q(chain, '/cosmos.distribution.v1beta1.Query/ValidatorOutstandingRewards', QueryValidatorOutstandingRewardsRequest.encode({ validatorAddress: valoperOf(val) }).finish(), QueryValidatorOutstandingRewardsResponse);
  return sumUproof(r.rewards!.rewards);
}
export async function communityPoolAtto(chain: TestChain): Promise<bigint> {
  const r = await q(chain, '/cosmos.distribution.v1beta1.Query/CommunityPool', QueryCommunityPoolRequest.encode({}).finish(), QueryCommunityPoolResponse);
  return sumUproof(r.pool);
}
