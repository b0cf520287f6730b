/**
 * Distribution queries at the Cosmos SDK's paths (`/cosmos.distribution.v1beta1.Query/<Method>`) and types, so
 * cosmjs' `setupDistributionExtension` works. Amounts are DecCoins in the wire form (atto-unit integers). Pending
 * rewards are computed by closing the validator's open period in a throw-away cache of the query's state, as the SDK
 * does in a branched context.
 */
import * as Q from 'cosmjs-types/cosmos/distribution/v1beta1/query';
import type { DelegationDelegatorReward } from 'cosmjs-types/cosmos/distribution/v1beta1/distribution';
import { queryRouter, type QueryRoute } from '../../src/framework/module.js';
import type { Context } from '../../src/framework/context.js';
import { ErrInvalidRequest } from '../../src/framework/errors.js';
import { CacheKV } from '../../src/store/cache.js';
import { addressBytes, addressFromBytes } from '../../src/crypto/address.js';
import { parseValoper } from '../staking/addresses.js';
import * as D from './deccoins.js';
import type { DistributionKeeperImpl } from './keeper.js';
import type { DistrStakingKeeper } from './expected.js';
import { account } from './msgs.js';
import { ErrNoDelegationExists, ErrNoValidatorExists } from './keys.js';
import { paginateList } from '../../src/framework/paginate.js';

const P = '/cosmos.distribution.v1beta1.Query/';

const route = queryRouter(P);

export function distributionQueryRoutes(k: DistributionKeeperImpl, staking: DistrStakingKeeper): QueryRoute[] {
  const validator = (ctx: Context, s: string) => {
    const op = parseValoper(s, 'validator_address');
    const v = staking.validator(ctx, op.bytes);
    if (v === undefined) throw ErrNoValidatorExists(`validator ${op.valoper} does not exist`);
    return { op, v };
  };
  /** Pending rewards of one delegation, computed in a scratch cache (nothing is written to the query's state). */
  const pending = (ctx: Context, delegator: string, valoper: string): D.DecCoins => {
    const del = account(delegator, 'delegator_address');
    const { op, v } = validator(ctx, valoper);
    if (staking.delegation(ctx, del, op.bytes) === undefined) throw ErrNoDelegationExists(`${del} has no delegation to ${op.valoper}`);
    return k.pendingRewards(ctx.with(new CacheKV(ctx.kv)), v, del);
  };
  return [
    route('Params', Q.QueryParamsRequest, Q.QueryParamsResponse, (ctx) => ({ params: k.params(ctx) })),
    route('ValidatorDistributionInfo', Q.QueryValidatorDistributionInfoRequest, Q.QueryValidatorDistributionInfoResponse, (ctx, r) => {
      const { op, v } = validator(ctx, r.validatorAddress);
      const self = staking.delegation(ctx, op.account, op.bytes);
      const selfBondRewards = self === undefined ? [] : k.pendingRewards(ctx.with(new CacheKV(ctx.kv)), v, op.account);
      return { operatorAddress: op.account, selfBondRewards: D.toProto(selfBondRewards), commission: D.toProto(k.commission(ctx, op.bytes) ?? []) };
    }),
    route('ValidatorOutstandingRewards', Q.QueryValidatorOutstandingRewardsRequest, Q.QueryValidatorOutstandingRewardsResponse, (ctx, r) => {
      const { op } = validator(ctx, r.validatorAddress);
      return { rewards: { rewards: D.toProto(k.outstanding(ctx, op.bytes) ?? []) } };
    }),
    route('ValidatorCommission', Q.QueryValidatorCommissionRequest, Q.QueryValidatorCommissionResponse, (ctx, r) => {
      const { op } = validator(ctx, r.validatorAddress);
      return { commission: { commission: D.toProto(k.commission(ctx, op.bytes) ?? []) } };
    }),
    route('ValidatorSlashes', Q.QueryValidatorSlashesRequest, Q.QueryValidatorSlashesResponse, (ctx, r) => {
      const op = parseValoper(r.validatorAddress, 'validator_address');
      if (r.endingHeight < r.startingHeight) throw ErrInvalidRequest('ending_height must not be below starting_height');
      const end = r.endingHeight === 0n ? ctx.height : r.endingHeight;
      const events = k.slashEvents(ctx, op.bytes, r.startingHeight, end).map((e) => ({ validatorPeriod: e.period, fraction: e.fraction.toString() }));
      const { items, pagination } = paginateList(events, r.pagination);
      return { slashes: items, pagination };
    }),
    route('DelegationRewards', Q.QueryDelegationRewardsRequest, Q.QueryDelegationRewardsResponse, (ctx, r) => ({
      rewards: D.toProto(pending(ctx, r.delegatorAddress, r.validatorAddress)),
    })),
    route('DelegationTotalRewards', Q.QueryDelegationTotalRewardsRequest, Q.QueryDelegationTotalRewardsResponse, (ctx, r) => {
      const del = account(r.delegatorAddress, 'delegator_address');
      const rewards: DelegationDelegatorReward[] = [];
      let total: D.DecCoins = [];
      for (const d of staking.delegationsOf(ctx, del)) {
        const one = pending(ctx, del, d.validatorAddress);
        rewards.push({ validatorAddress: d.validatorAddress, reward: D.toProto(one) });
        total = D.add(total, one);
      }
      return { rewards, total: D.toProto(total) };
    }),
    route('DelegatorValidators', Q.QueryDelegatorValidatorsRequest, Q.QueryDelegatorValidatorsResponse, (ctx, r) => ({
      validators: staking.delegationsOf(ctx, account(r.delegatorAddress, 'delegator_address')).map((d) => d.validatorAddress),
    })),
    route('DelegatorWithdrawAddress', Q.QueryDelegatorWithdrawAddressRequest, Q.QueryDelegatorWithdrawAddressResponse, (ctx, r) => ({
      withdrawAddress: k.withdrawAddress(ctx, addressFromBytes(addressBytes(account(r.delegatorAddress, 'delegator_address')))),
    })),
    route('CommunityPool', Q.QueryCommunityPoolRequest, Q.QueryCommunityPoolResponse, (ctx) => ({ pool: D.toProto(k.communityPool(ctx)) })),
  ];
}
