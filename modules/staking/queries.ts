/**
 * Staking queries at the Cosmos SDK's paths (`/cosmos.staking.v1beta1.Query/<Method>`), answering with the SDK's
 * types, so cosmjs' `setupStakingExtension` (validators, delegation, delegatorDelegations, unbondingDelegation, …)
 * and `StargateClient.getDelegation` work. HistoricalInfo is not served (historical_entries is 0, as the SDK would
 * answer NotFound).
 */
import * as Q from 'cosmjs-types/cosmos/staking/v1beta1/query';
import { BondStatus, Validator, type DelegationResponse, type RedelegationResponse, type UnbondingDelegation, type Delegation } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import { queryRouter, type QueryRoute } from '../../src/framework/module.js';
import type { Context } from '../../src/framework/context.js';
import { ErrInvalidAddress, ErrInvalidRequest } from '../../src/framework/errors.js';
import { addressBytes, parseAddress, type Address } from '../../src/crypto/address.js';
import { PrefixKV, iteratePrefix } from '../../src/store/kv.js';
import { paginate } from '../../src/framework/paginate.js';
import { parseDecWire } from '../../src/types/dec.js';
import { parseValoper } from './addresses.js';
import type { StakingKeeperImpl } from './keeper.js';
import {
  A, BONDED_POOL, NOT_BONDED_POOL, RED_PREFIX, UBD_BY_VAL_PREFIX, UBD_PREFIX, VALIDATOR_PREFIX,
  ErrNoDelegation, ErrNoUnbondingDelegation, ErrNoValidatorFound, readA,
} from './keys.js';
import { UnbondingDelegation as UBD, Redelegation } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import type { BankKeeper } from '../bank/keeper.js';
import { paginateList } from '../../src/framework/paginate.js';

const P = '/cosmos.staking.v1beta1.Query/';

function addr(s: string, field: string): Address {
  if (!s) throw ErrInvalidAddress(`${field} cannot be empty`);
  try {
    return parseAddress(s);
  } catch (e) {
    throw ErrInvalidAddress(`invalid ${field}: ${(e as Error).message}`);
  }
}

const STATUS: Record<string, BondStatus> = {
  BOND_STATUS_BONDED: BondStatus.BOND_STATUS_BONDED,
  BOND_STATUS_UNBONDING: BondStatus.BOND_STATUS_UNBONDING,
  BOND_STATUS_UNBONDED: BondStatus.BOND_STATUS_UNBONDED,
};

const route = queryRouter(P);

export function stakingQueryRoutes(k: StakingKeeperImpl, bank: BankKeeper): QueryRoute[] {
  const bondDenom = (ctx: Context) => k.params(ctx).bondDenom;
  const delegationResponse = (ctx: Context, d: Delegation): DelegationResponse => {
    const v = k.validator(ctx, parseValoper(d.validatorAddress).bytes);
    const balance = v === undefined ? 0n : k.tokensFromShares(v, parseDecWire(d.shares));
    return { delegation: d, balance: { denom: bondDenom(ctx), amount: balance.toString() } };
  };
  const validator = (ctx: Context, s: string, field = 'validator_addr') => {
    const op = parseValoper(s, field);
    const v = k.validator(ctx, op.bytes);
    if (v === undefined) throw ErrNoValidatorFound(`validator ${op.valoper} not found`);
    return { op, v };
  };
  const ubdsOf = (ctx: Context, del: Address): UnbondingDelegation[] => {
    const out: UnbondingDelegation[] = [];
    for (const [, v] of iteratePrefix(k.store(ctx), UBD_PREFIX + A(addressBytes(del)))) out.push(UBD.decode(v));
    return out;
  };
  const redelegationResponse = (ctx: Context, r: Redelegation): RedelegationResponse => {
    const dst = k.validator(ctx, parseValoper(r.validatorDstAddress).bytes);
    return {
      redelegation: r,
      entries: r.entries.map((e) => ({ redelegationEntry: e, balance: (dst ? k.tokensFromShares(dst, parseDecWire(e.sharesDst)) : 0n).toString() })),
    };
  };

  return [
    route('Validators', Q.QueryValidatorsRequest, Q.QueryValidatorsResponse, (ctx, r) => {
      if (r.status === '') {
        const out: Validator[] = [];
        const pg = paginate(new PrefixKV(k.store(ctx), VALIDATOR_PREFIX), r.pagination, (_k, v) => out.push(Validator.decode(v)));
        return { validators: out, pagination: pg };
      }
      const status = STATUS[r.status];
      if (status === undefined) throw ErrInvalidRequest(`invalid validator status '${r.status}'; use BOND_STATUS_BONDED, BOND_STATUS_UNBONDING or BOND_STATUS_UNBONDED`);
      const { items, pagination } = paginateList(k.allValidators(ctx).filter((v) => v.status === status), r.pagination);
      return { validators: items, pagination };
    }),
    route('Validator', Q.QueryValidatorRequest, Q.QueryValidatorResponse, (ctx, r) => ({ validator: validator(ctx, r.validatorAddr).v })),
    route('ValidatorDelegations', Q.QueryValidatorDelegationsRequest, Q.QueryValidatorDelegationsResponse, (ctx, r) => {
      const { op } = validator(ctx, r.validatorAddr);
      const { items, pagination } = paginateList(k.delegationsTo(ctx, op.bytes), r.pagination);
      return { delegationResponses: items.map((d) => delegationResponse(ctx, d)), pagination };
    }),
    route('ValidatorUnbondingDelegations', Q.QueryValidatorUnbondingDelegationsRequest, Q.QueryValidatorUnbondingDelegationsResponse, (ctx, r) => {
      const { op } = validator(ctx, r.validatorAddr);
      const kv = k.store(ctx);
      const prefix = UBD_BY_VAL_PREFIX + A(op.bytes);
      const all: UnbondingDelegation[] = [];
      for (const [key] of iteratePrefix(kv, prefix)) {
        const del = readA(key, prefix.length)[0];
        const u = k.ubd(ctx, del, op.bytes);
        if (u) all.push(u);
      }
      const { items, pagination } = paginateList(all, r.pagination);
      return { unbondingResponses: items, pagination };
    }),
    route('Delegation', Q.QueryDelegationRequest, Q.QueryDelegationResponse, (ctx, r) => {
      const del = addr(r.delegatorAddr, 'delegator_addr');
      const op = parseValoper(r.validatorAddr);
      const d = k.delegation(ctx, del, op.bytes);
      // "key not found" as the Cosmos SDK's store errors said it: cosmjs' StargateClient.getDelegation matches on it
      // to answer null for "no delegation" (wallets call it for every validator they list).
      if (d === undefined) throw ErrNoDelegation(`delegation with delegator ${del} not found for validator ${op.valoper}: key not found`);
      return { delegationResponse: delegationResponse(ctx, d) };
    }),
    route('UnbondingDelegation', Q.QueryUnbondingDelegationRequest, Q.QueryUnbondingDelegationResponse, (ctx, r) => {
      const del = addr(r.delegatorAddr, 'delegator_addr');
      const op = parseValoper(r.validatorAddr);
      const u = k.ubd(ctx, addressBytes(del), op.bytes);
      if (u === undefined) throw ErrNoUnbondingDelegation(`unbonding delegation with delegator ${del} not found for validator ${op.valoper}`);
      return { unbond: u };
    }),
    route('DelegatorDelegations', Q.QueryDelegatorDelegationsRequest, Q.QueryDelegatorDelegationsResponse, (ctx, r) => {
      const { items, pagination } = paginateList(k.delegationsOf(ctx, addr(r.delegatorAddr, 'delegator_addr')), r.pagination);
      return { delegationResponses: items.map((d) => delegationResponse(ctx, d)), pagination };
    }),
    route('DelegatorUnbondingDelegations', Q.QueryDelegatorUnbondingDelegationsRequest, Q.QueryDelegatorUnbondingDelegationsResponse, (ctx, r) => {
      const { items, pagination } = paginateList(ubdsOf(ctx, addr(r.delegatorAddr, 'delegator_addr')), r.pagination);
      return { unbondingResponses: items, pagination };
    }),
    route('Redelegations', Q.QueryRedelegationsRequest, Q.QueryRedelegationsResponse, (ctx, r) => {
      const del = addr(r.delegatorAddr, 'delegator_addr');
      const all: Redelegation[] = [];
      for (const [, v] of iteratePrefix(k.store(ctx), RED_PREFIX + A(addressBytes(del)))) all.push(Redelegation.decode(v));
      const src = r.srcValidatorAddr ? parseValoper(r.srcValidatorAddr, 'src_validator_addr').valoper : undefined;
      const dst = r.dstValidatorAddr ? parseValoper(r.dstValidatorAddr, 'dst_validator_addr').valoper : undefined;
      const { items, pagination } = paginateList(all.filter((x) => (src === undefined || x.validatorSrcAddress === src) && (dst === undefined || x.validatorDstAddress === dst)), r.pagination);
      return { redelegationResponses: items.map((x) => redelegationResponse(ctx, x)), pagination };
    }),
    route('DelegatorValidators', Q.QueryDelegatorValidatorsRequest, Q.QueryDelegatorValidatorsResponse, (ctx, r) => {
      const ds = k.delegationsOf(ctx, addr(r.delegatorAddr, 'delegator_addr'));
      const vals = ds.map((d) => k.validator(ctx, parseValoper(d.validatorAddress).bytes)).filter((v): v is Validator => v !== undefined);
      const { items, pagination } = paginateList(vals, r.pagination);
      return { validators: items, pagination };
    }),
    route('DelegatorValidator', Q.QueryDelegatorValidatorRequest, Q.QueryDelegatorValidatorResponse, (ctx, r) => {
      const del = addr(r.delegatorAddr, 'delegator_addr');
      const { op, v } = validator(ctx, r.validatorAddr);
      if (k.delegation(ctx, del, op.bytes) === undefined) throw ErrNoDelegation(`${del} does not delegate to ${op.valoper}`);
      return { validator: v };
    }),
    route('Pool', Q.QueryPoolRequest, Q.QueryPoolResponse, (ctx) => {
      const d = bondDenom(ctx);
      return {
        pool: {
          bondedTokens: bank.balance(ctx, bank.moduleAccount(BONDED_POOL), d).toString(),
          notBondedTokens: bank.balance(ctx, bank.moduleAccount(NOT_BONDED_POOL), d).toString(),
        },
      };
    }),
    route('Params', Q.QueryParamsRequest, Q.QueryParamsResponse, (ctx) => ({ params: k.params(ctx) })),
  ];
}

