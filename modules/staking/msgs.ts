/**
 * Staking messages under the Cosmos SDK's names (`/cosmos.staking.v1beta1.Msg…`), so cosmjs' and wallets' staking
 * messages work unchanged: MsgCreateValidator, MsgEditValidator, MsgDelegate, MsgUndelegate, MsgBeginRedelegate.
 * Decimal fields (commission rates) are LegacyDec in the wire form: integers of 10^-18 units.
 */
import {
  MsgBeginRedelegate, MsgBeginRedelegateResponse, MsgCreateValidator, MsgCreateValidatorResponse, MsgDelegate, MsgDelegateResponse,
  MsgEditValidator, MsgEditValidatorResponse, MsgUndelegate, MsgUndelegateResponse,
} from 'cosmjs-types/cosmos/staking/v1beta1/tx';
import type { Description } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import type { Coin } from 'cosmjs-types/cosmos/base/v1beta1/coin';
import type { MsgRoute } from '../../src/framework/module.js';
import type { Context } from '../../src/framework/context.js';
import { ErrInvalidAddress } from '../../src/framework/errors.js';
import { parseAddress, type Address } from '../../src/crypto/address.js';
import { parseAmount } from '../../src/types/coins.js';
import { DEC_ONE, DecError, parseDecWire } from '../../src/types/dec.js';
import { consAddress, ed25519FromAny, parseValoper } from './addresses.js';
import type { StakingKeeperImpl } from './keeper.js';
import { tokensOf } from './keeper.js';
import {
  COMMISSION_CHANGE_SECONDS, DESCRIPTION_LIMITS, DO_NOT_MODIFY,
  ErrBadDenom, ErrBadTokenAmount, ErrBadValidatorAddr, ErrCommissionChangeRateGTMaxRate, ErrCommissionGTMaxChangeRate, ErrCommissionGTMaxRate,
  ErrCommissionHuge, ErrCommissionLTMinRate, ErrCommissionUpdateTime, ErrInvalidCommission, ErrInvalidDescription,
  ErrMinSelfDelegationDecreased, ErrMinSelfDelegationInvalid, ErrSelfDelegationBelowMinimum, ErrValidatorOwnerExists, ErrValidatorPubKeyExists,
  consKey,
} from './keys.js';

export const MSG_CREATE_VALIDATOR = '/cosmos.staking.v1beta1.MsgCreateValidator';
export const MSG_EDIT_VALIDATOR = '/cosmos.staking.v1beta1.MsgEditValidator';
export const MSG_DELEGATE = '/cosmos.staking.v1beta1.MsgDelegate';
export const MSG_UNDELEGATE = '/cosmos.staking.v1beta1.MsgUndelegate';
export const MSG_BEGIN_REDELEGATE = '/cosmos.staking.v1beta1.MsgBeginRedelegate';

function account(s: string, field: string): Address {
  if (!s) throw ErrInvalidAddress(`${field} cannot be empty`);
  try {
    return parseAddress(s);
  } catch (e) {
    throw ErrInvalidAddress(`invalid ${field}: ${(e as Error).message}`);
  }
}

function dec(s: string, what: string): bigint {
  try {
    return parseDecWire(s, what);
  } catch (e) {
    throw ErrInvalidCommission((e as DecError).message);
  }
}

/** A positive integer amount of one coin. */
function amountOf(c: Coin | undefined, what: string): { denom: string; amount: bigint } {
  if (!c || !c.denom) throw ErrBadDenom(`${what}: a coin is required`);
  let amount: bigint;
  try {
    amount = parseAmount(c.amount);
  } catch (e) {
    throw ErrBadTokenAmount(`${what}: ${(e as Error).message}`);
  }
  if (amount <= 0n) throw ErrBadTokenAmount(`${what} must be positive`);
  return { denom: c.denom, amount };
}

function checkDescription(d: Description | undefined, requireMoniker: boolean): void {
  if (!d) throw ErrInvalidDescription('description is required');
  if (requireMoniker && d.moniker.trim() === '') throw ErrInvalidDescription('moniker cannot be blank');
  for (const [k, max] of Object.entries(DESCRIPTION_LIMITS) as [keyof typeof DESCRIPTION_LIMITS, number][]) {
    const v = d[k];
    if (v !== DO_NOT_MODIFY && v.length > max) throw ErrInvalidDescription(`${k} is ${v.length} characters, the limit is ${max}`);
  }
}

function checkRates(rate: bigint, maxRate: bigint, maxChangeRate: bigint): void {
  if (maxRate > DEC_ONE) throw ErrCommissionHuge(`max_rate ${maxRate} > 1`);
  if (rate > maxRate) throw ErrCommissionGTMaxRate(`rate ${rate} > max_rate ${maxRate}`);
  if (maxChangeRate > maxRate) throw ErrCommissionChangeRateGTMaxRate(`max_change_rate ${maxChangeRate} > max_rate ${maxRate}`);
}

function minSelf(s: string): bigint {
  let v: bigint;
  try {
    v = parseAmount(s);
  } catch {
    throw ErrMinSelfDelegationInvalid(`'${s}'`);
  }
  if (v <= 0n) throw ErrMinSelfDelegationInvalid(`'${s}'`);
  return v;
}

export function stakingMsgRoutes(k: StakingKeeperImpl): MsgRoute[] {
  const create: MsgRoute<MsgCreateValidator, MsgCreateValidatorResponse> = {
    typeUrl: MSG_CREATE_VALIDATOR,
    type: MsgCreateValidator,
    responseTypeUrl: '/cosmos.staking.v1beta1.MsgCreateValidatorResponse',
    responseType: MsgCreateValidatorResponse,
    signers: (m) => [parseValoper(m.validatorAddress).account],
    validateBasic(m) {
      const op = parseValoper(m.validatorAddress);
      if (m.delegatorAddress !== '' && account(m.delegatorAddress, 'delegator_address') !== op.account) {
        throw ErrBadValidatorAddr('delegator_address must be the operator account of validator_address (or empty)');
      }
      ed25519FromAny(m.pubkey);
      const value = amountOf(m.value, 'value (self-delegation)');
      checkDescription(m.description, true);
      if (!m.commission) throw ErrInvalidCommission('commission is required');
      checkRates(dec(m.commission.rate, 'rate'), dec(m.commission.maxRate, 'max_rate'), dec(m.commission.maxChangeRate, 'max_change_rate'));
      const min = minSelf(m.minSelfDelegation);
      if (value.amount < min) throw ErrSelfDelegationBelowMinimum(`self-delegation ${value.amount} < min_self_delegation ${min}`);
    },
    handle(ctx, m) {
      const op = parseValoper(m.validatorAddress);
      const p = k.params(ctx);
      const value = amountOf(m.value, 'value');
      if (value.denom !== p.bondDenom) throw ErrBadDenom(`self-delegation in ${value.denom}; the bond denom is ${p.bondDenom}`);
      if (k.validator(ctx, op.bytes) !== undefined) throw ErrValidatorOwnerExists(op.valoper);
      const pub = ed25519FromAny(m.pubkey);
      if (k.store(ctx).get(consKey(consAddress(pub))) !== undefined) throw ErrValidatorPubKeyExists();
      const rate = dec(m.commission.rate, 'rate');
      if (rate < parseDecWire(p.minCommissionRate)) throw ErrCommissionLTMinRate(`rate ${rate} < min_commission_rate ${p.minCommissionRate}`);
      k.createValidator(ctx, op.bytes, pub, m.description, rate, dec(m.commission.maxRate, 'max_rate'), dec(m.commission.maxChangeRate, 'max_change_rate'), minSelf(m.minSelfDelegation));
      k.delegate(ctx, op.account, op.bytes, value.amount, 'account');
      ctx.emit('create_validator', [['validator', op.valoper], ['amount', `${value.amount}${value.denom}`]]);
      return {};
    },
  };

  const edit: MsgRoute<MsgEditValidator, MsgEditValidatorResponse> = {
    typeUrl: MSG_EDIT_VALIDATOR,
    type: MsgEditValidator,
    responseTypeUrl: '/cosmos.staking.v1beta1.MsgEditValidatorResponse',
    responseType: MsgEditValidatorResponse,
    signers: (m) => [parseValoper(m.validatorAddress).account],
    validateBasic(m) {
      parseValoper(m.validatorAddress);
      checkDescription(m.description, false);
      if (m.commissionRate !== '') dec(m.commissionRate, 'commission_rate');
      if (m.minSelfDelegation !== '') minSelf(m.minSelfDelegation);
    },
    handle(ctx, m) {
      const op = parseValoper(m.validatorAddress);
      const v = k.mustValidator(ctx, op.bytes);
      const keep = (next: string, cur: string) => (next === DO_NOT_MODIFY ? cur : next);
      const d = m.description;
      const description: Description = {
        moniker: keep(d.moniker, v.description.moniker), identity: keep(d.identity, v.description.identity), website: keep(d.website, v.description.website),
        securityContact: keep(d.securityContact, v.description.securityContact), details: keep(d.details, v.description.details),
      };
      if (description.moniker.trim() === '') throw ErrInvalidDescription('moniker cannot be blank');
      let commission = v.commission;
      if (m.commissionRate !== '') {
        const rate = dec(m.commissionRate, 'commission_rate');
        const cur = BigInt(v.commission.commissionRates.rate);
        const maxRate = BigInt(v.commission.commissionRates.maxRate);
        const maxChange = BigInt(v.commission.commissionRates.maxChangeRate);
        if (ctx.block.timeSeconds - v.commission.updateTime.seconds < COMMISSION_CHANGE_SECONDS) throw ErrCommissionUpdateTime(`last change at ${v.commission.updateTime.seconds}`);
        if (rate > maxRate) throw ErrCommissionGTMaxRate(`rate ${rate} > max_rate ${maxRate}`);
        if ((rate > cur ? rate - cur : cur - rate) > maxChange) throw ErrCommissionGTMaxChangeRate(`change ${rate - cur} exceeds max_change_rate ${maxChange}`);
        if (rate < parseDecWire(k.params(ctx).minCommissionRate)) throw ErrCommissionLTMinRate();
        commission = { commissionRates: { ...v.commission.commissionRates, rate: rate.toString() }, updateTime: { seconds: ctx.block.timeSeconds, nanos: 0 } };
      }
      let minSelfDelegation = v.minSelfDelegation;
      if (m.minSelfDelegation !== '') {
        const next = minSelf(m.minSelfDelegation);
        if (next <= BigInt(v.minSelfDelegation)) throw ErrMinSelfDelegationDecreased(`${next} ≤ current ${v.minSelfDelegation}`);
        if (next > tokensOf(v)) throw ErrSelfDelegationBelowMinimum(`min_self_delegation ${next} > validator tokens ${v.tokens}`);
        minSelfDelegation = next.toString();
      }
      k.setValidator(ctx, { ...v, description, commission, minSelfDelegation });
      ctx.emit('edit_validator', [['validator', op.valoper], ['commission_rate', commission.commissionRates.rate], ['min_self_delegation', minSelfDelegation]]);
      return {};
    },
  };

  const delegate: MsgRoute<MsgDelegate, MsgDelegateResponse> = {
    typeUrl: MSG_DELEGATE,
    type: MsgDelegate,
    responseTypeUrl: '/cosmos.staking.v1beta1.MsgDelegateResponse',
    responseType: MsgDelegateResponse,
    signers: (m) => [account(m.delegatorAddress, 'delegator_address')],
    validateBasic(m) {
      account(m.delegatorAddress, 'delegator_address');
      parseValoper(m.validatorAddress);
      amountOf(m.amount, 'amount');
    },
    handle(ctx: Context, m) {
      const del = account(m.delegatorAddress, 'delegator_address');
      const op = parseValoper(m.validatorAddress);
      const a = amountOf(m.amount, 'amount');
      const bondDenom = k.params(ctx).bondDenom;
      if (a.denom !== bondDenom) throw ErrBadDenom(`got ${a.denom}, expected ${bondDenom}`);
      k.mustValidator(ctx, op.bytes);
      const shares = k.delegate(ctx, del, op.bytes, a.amount, 'account');
      ctx.emit('delegate', [['validator', op.valoper], ['delegator', del], ['amount', `${a.amount}${a.denom}`], ['new_shares', shares.toString()]]);
      return {};
    },
  };

  const undelegate: MsgRoute<MsgUndelegate, MsgUndelegateResponse> = {
    typeUrl: MSG_UNDELEGATE,
    type: MsgUndelegate,
    responseTypeUrl: '/cosmos.staking.v1beta1.MsgUndelegateResponse',
    responseType: MsgUndelegateResponse,
    signers: (m) => [account(m.delegatorAddress, 'delegator_address')],
    validateBasic(m) {
      account(m.delegatorAddress, 'delegator_address');
      parseValoper(m.validatorAddress);
      amountOf(m.amount, 'amount');
    },
    handle(ctx, m) {
      const del = account(m.delegatorAddress, 'delegator_address');
      const op = parseValoper(m.validatorAddress);
      const a = amountOf(m.amount, 'amount');
      const r = k.undelegate(ctx, del, op.bytes, a.amount, a.denom);
      ctx.emit('unbond', [['validator', op.valoper], ['delegator', del], ['amount', `${r.amount}${a.denom}`], ['completion_time', r.completionTime.toString()]]);
      return { completionTime: { seconds: r.completionTime, nanos: 0 }, amount: { denom: a.denom, amount: r.amount.toString() } };
    },
  };

  const redelegate: MsgRoute<MsgBeginRedelegate, MsgBeginRedelegateResponse> = {
    typeUrl: MSG_BEGIN_REDELEGATE,
    type: MsgBeginRedelegate,
    responseTypeUrl: '/cosmos.staking.v1beta1.MsgBeginRedelegateResponse',
    responseType: MsgBeginRedelegateResponse,
    signers: (m) => [account(m.delegatorAddress, 'delegator_address')],
    validateBasic(m) {
      account(m.delegatorAddress, 'delegator_address');
      parseValoper(m.validatorSrcAddress, 'validator_src_address');
      parseValoper(m.validatorDstAddress, 'validator_dst_address');
      amountOf(m.amount, 'amount');
    },
    handle(ctx, m) {
      const del = account(m.delegatorAddress, 'delegator_address');
      const src = parseValoper(m.validatorSrcAddress, 'validator_src_address');
      const dst = parseValoper(m.validatorDstAddress, 'validator_dst_address');
      const a = amountOf(m.amount, 'amount');
      const r = k.beginRedelegate(ctx, del, src.bytes, dst.bytes, a.amount, a.denom);
      ctx.emit('redelegate', [['source_validator', src.valoper], ['destination_validator', dst.valoper], ['amount', `${r.amount}${a.denom}`], ['completion_time', r.completionTime.toString()]]);
      return { completionTime: { seconds: r.completionTime, nanos: 0 } };
    },
  };

  return [create, edit, delegate, undelegate, redelegate];
}
