/**
 * The distribution keeper: fee rewards to validators and delegators, in the Cosmos SDK's x/distribution model (F1 fee
 * distribution, lazy per delegator). docs/distribution.md has the rules and the arithmetic; in short:
 *
 * Allocation (beginBlock, O(votes in the last commit) per block). Everything in `fee_collector` and `treasury` (the
 * previous block's tx fees, holding charges and market protocol fees) moves to the `distribution` account and is
 * split among the validators that signed the previous block (FinalizeBlock's decided_last_commit), by vote power:
 *   reward_v = floor((fees × (1 − community_tax)) × power_v / Σ power of signers)       (per denom, 18-dec)
 *   commission_v = floor(reward_v × rate_v)  → the operator;  reward_v − commission_v → the validator's delegators
 *   community pool += fees − Σ reward_v                                                  (tax + rounding dust)
 * No proposer bonus (the SDK removed it in v0.50). A block with no signing vote that staking knows moves nothing: the
 * fees wait in their accounts (a chain whose CometBFT validators are outside staking keeps its fees there).
 *
 * F1 (delegators, lazy). A validator's rewards accrue to its open period; every change of a delegation's stake (and
 * every slash) closes the period: its rewards ÷ the validator's tokens is added to the cumulative reward ratio stored
 * for that period. A delegation remembers the period it started after and its stake then; its reward is
 *   Σ over its periods of (ratio[end] − ratio[start]) × stake,  stake reduced by (1 − f) at each slash event between.
 * Withdrawal pays the whole coins to the withdraw address and moves the fraction to the community pool. Nothing is
 * created or lost: distribution's balance = Σ outstanding rewards + community pool, exactly (invariants.ts).
 */
import type { Validator } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import {
  DelegatorStartingInfo, FeePool, Params, ValidatorAccumulatedCommission, ValidatorCurrentRewards, ValidatorHistoricalRewards,
  ValidatorOutstandingRewards, ValidatorSlashEvent,
} from 'cosmjs-types/cosmos/distribution/v1beta1/distribution';
import { fromBech32 } from '@cosmjs/encoding';
import type { Context } from '../../src/framework/context.js';
import { ErrInternal, ErrUnauthorized } from '../../src/framework/errors.js';
import { addressBytes, addressFromBytes, type Address } from '../../src/crypto/address.js';
import { iteratePrefix, keyToU64, type KV } from '../../src/store/kv.js';
import type { Coins } from '../../src/types/coins.js';
import { DEC_ONE, parseDecWire } from '../../src/types/dec.js';
import type { StakingHooks } from '../staking/keeper.js';
import * as D from './deccoins.js';
import type { DecCoins } from './deccoins.js';
import type { DistrBankKeeper, DistrStakingKeeper } from './expected.js';
import {
  DEFAULT_DISTRIBUTION_PARAMS, DISTRIBUTION_ACCOUNT, DISTRIBUTION_STORE_PREFIX, FEE_POOL_KEY, FEE_SOURCES, PARAMS_KEY,
  ErrEmptyDelegationDistInfo, ErrNoDelegationExists, ErrNoValidatorCommission, ErrNoValidatorExists, ErrSetWithdrawAddrDisabled,
  commissionKey, currentKey, historicalKey, historicalPrefix, outstandingKey, slashKey, slashPrefix, startingKey, startingPrefix, withdrawKey,
} from './keys.js';

export const valBytesOf = (v: Validator): Uint8Array => fromBech32(v.operatorAddress).data;
export const tokensOf = (v: Validator): bigint => BigInt(v.tokens || '0');
export const sharesOf = (v: Validator): bigint => parseDecWire(v.delegatorShares, 'delegator_shares');

/** Tokens worth `shares` (atto) of `v`, as an 18-decimal amount, truncated (the SDK's TokensFromSharesTruncated). */
export function stakeOf(v: Validator, sharesAtto: bigint): bigint {
  const total = sharesOf(v);
  return total === 0n ? 0n : (sharesAtto * tokensOf(v) * DEC_ONE) / total;
}

export class DistributionKeeperImpl {
  constructor(private readonly staking: DistrStakingKeeper, private readonly bank: DistrBankKeeper) {}

  store(ctx: Context): KV {
    return ctx.store(DISTRIBUTION_STORE_PREFIX);
  }

  get moduleAddress(): Address {
    return this.bank.moduleAccount(DISTRIBUTION_ACCOUNT);
  }

  // ---- params, pool, records ----------------------------------------------------------------------------------------

  params(ctx: Context): Params {
    const v = this.store(ctx).get(PARAMS_KEY);
    return v === undefined ? DEFAULT_DISTRIBUTION_PARAMS : Params.decode(v);
  }
  setParams(ctx: Context, p: Params): void {
    this.store(ctx).set(PARAMS_KEY, Params.encode(p).finish());
  }

  communityPool(ctx: Context): DecCoins {
    const v = this.store(ctx).get(FEE_POOL_KEY);
    return v === undefined ? [] : D.fromProto(FeePool.decode(v).communityPool);
  }
  setCommunityPool(ctx: Context, pool: DecCoins): void {
    this.store(ctx).set(FEE_POOL_KEY, FeePool.encode({ communityPool: D.toProto(pool) }).finish());
  }
  private addToPool(ctx: Context, amount: DecCoins): void {
    if (!D.isZero(amount)) this.setCommunityPool(ctx, D.add(this.communityPool(ctx), amount));
  }

  outstanding(ctx: Context, val: Uint8Array): DecCoins | undefined {
    const v = this.store(ctx).get(outstandingKey(val));
    return v === undefined ? undefined : D.fromProto(ValidatorOutstandingRewards.decode(v).rewards);
  }
  setOutstanding(ctx: Context, val: Uint8Array, r: DecCoins): void {
    this.store(ctx).set(outstandingKey(val), ValidatorOutstandingRewards.encode({ rewards: D.toProto(r) }).finish());
  }

  commission(ctx: Context, val: Uint8Array): DecCoins | undefined {
    const v = this.store(ctx).get(commissionKey(val));
    return v === undefined ? undefined : D.fromProto(ValidatorAccumulatedCommission.decode(v).commission);
  }
  setCommission(ctx: Context, val: Uint8Array, c: DecCoins): void {
    this.store(ctx).set(commissionKey(val), ValidatorAccumulatedCommission.encode({ commission: D.toProto(c) }).finish());
  }

  current(ctx: Context, val: Uint8Array): { rewards: DecCoins; period: bigint } | undefined {
    const v = this.store(ctx).get(currentKey(val));
    if (v === undefined) return undefined;
    const c = ValidatorCurrentRewards.decode(v);
    return { rewards: D.fromProto(c.rewards), period: c.period };
  }
  setCurrent(ctx: Context, val: Uint8Array, rewards: DecCoins, period: bigint): void {
    this.store(ctx).set(currentKey(val), ValidatorCurrentRewards.encode({ rewards: D.toProto(rewards), period }).finish());
  }

  historical(ctx: Context, val: Uint8Array, period: bigint): { ratio: DecCoins; refs: number } | undefined {
    const v = this.store(ctx).get(historicalKey(val, period));
    if (v === undefined) return undefined;
    const h = ValidatorHistoricalRewards.decode(v);
    return { ratio: D.fromProto(h.cumulativeRewardRatio), refs: h.referenceCount };
  }
  setHistorical(ctx: Context, val: Uint8Array, period: bigint, ratio: DecCoins, refs: number): void {
    this.store(ctx).set(historicalKey(val, period), ValidatorHistoricalRewards.encode({ cumulativeRewardRatio: D.toProto(ratio), referenceCount: refs }).finish());
  }

  startingInfo(ctx: Context, val: Uint8Array, del: Uint8Array): DelegatorStartingInfo | undefined {
    const v = this.store(ctx).get(startingKey(val, del));
    return v === undefined ? undefined : DelegatorStartingInfo.decode(v);
  }
  setStartingInfo(ctx: Context, val: Uint8Array, del: Uint8Array, s: DelegatorStartingInfo): void {
    this.store(ctx).set(startingKey(val, del), DelegatorStartingInfo.encode(s).finish());
  }

  withdrawAddress(ctx: Context, del: Address): Address {
    const v = this.store(ctx).get(withdrawKey(addressBytes(del)));
    return v === undefined ? del : addressFromBytes(v);
  }

  /** Slash events of `val` with start ≤ height ≤ end, in (height, period) order. */
  slashEvents(ctx: Context, val: Uint8Array, start: bigint, end: bigint): { height: bigint; period: bigint; fraction: bigint }[] {
    const out: { height: bigint; period: bigint; fraction: bigint }[] = [];
    const p = slashPrefix(val);
    for (const [k, v] of iteratePrefix(this.store(ctx), p)) {
      const height = keyToU64(k, p.length);
      if (height < start) continue;
      if (height > end) break;
      out.push({ height, period: keyToU64(k, p.length + 8), fraction: parseDecWire(ValidatorSlashEvent.decode(v).fraction, 'slash fraction') });
    }
    return out;
  }

  // ---- F1 periods ---------------------------------------------------------------------------------------------------

  /** A new validator: period 0's ratio is zero (referenced by the open period 1), and empty rewards / commission. */
  initializeValidator(ctx: Context, val: Uint8Array): void {
    this.setHistorical(ctx, val, 0n, [], 1);
    this.setCurrent(ctx, val, [], 1n);
    this.setCommission(ctx, val, []);
    this.setOutstanding(ctx, val, []);
  }

  private incrementRef(ctx: Context, val: Uint8Array, period: bigint): void {
    const h = this.historical(ctx, val, period);
    if (h === undefined) throw ErrInternal(`no historical rewards of period ${period}`);
    this.setHistorical(ctx, val, period, h.ratio, h.refs + 1);
  }

  private decrementRef(ctx: Context, val: Uint8Array, period: bigint): void {
    const h = this.historical(ctx, val, period);
    if (h === undefined) throw ErrInternal(`no historical rewards of period ${period}`);
    if (h.refs === 0) throw ErrInternal(`negative reference count of period ${period}`);
    if (h.refs === 1) this.store(ctx).delete(historicalKey(val, period));
    else this.setHistorical(ctx, val, period, h.ratio, h.refs - 1);
  }

  /**
   * Closes the open period: its rewards ÷ the validator's tokens (truncated) extend the cumulative ratio; a validator
   * without tokens has nobody to pay, so its period's rewards go to the community pool. Returns the closed period.
   */
  incrementValidatorPeriod(ctx: Context, v: Validator): bigint {
    const val = valBytesOf(v);
    const cur = this.current(ctx, val);
    if (cur === undefined) throw ErrInternal(`no current rewards of ${v.operatorAddress}`);
    let ratio: DecCoins = [];
    const tokens = tokensOf(v);
    if (tokens === 0n) {
      if (!D.isZero(cur.rewards)) {
        this.addToPool(ctx, cur.rewards);
        this.setOutstanding(ctx, val, D.sub(this.outstanding(ctx, val) ?? [], cur.rewards));
      }
    } else {
      ratio = D.quoInt(cur.rewards, tokens);
    }
    const prev = this.historical(ctx, val, cur.period - 1n);
    if (prev === undefined) throw ErrInternal(`no historical rewards of period ${cur.period - 1n}`);
    this.decrementRef(ctx, val, cur.period - 1n);
    this.setHistorical(ctx, val, cur.period, D.add(prev.ratio, ratio), 1);
    this.setCurrent(ctx, val, [], cur.period + 1n);
    return cur.period;
  }

  /** A delegation (re)starts: it references the period just closed and records its stake now. */
  initializeDelegation(ctx: Context, val: Uint8Array, del: Address): void {
    const v = this.staking.validator(ctx, val);
    const d = this.staking.delegation(ctx, del, val);
    const cur = this.current(ctx, val);
    if (v === undefined || d === undefined || cur === undefined) throw ErrInternal('initializing rewards of a missing delegation');
    const previous = cur.period - 1n;
    this.incrementRef(ctx, val, previous);
    this.setStartingInfo(ctx, val, addressBytes(del), { previousPeriod: previous, stake: stakeOf(v, parseDecWire(d.shares)).toString(), height: ctx.height });
  }

  private rewardsBetween(ctx: Context, val: Uint8Array, start: bigint, end: bigint, stake: bigint): DecCoins {
    if (start > end) throw ErrInternal(`rewards from period ${start} to ${end}`);
    const a = this.historical(ctx, val, start);
    const b = this.historical(ctx, val, end);
    if (a === undefined || b === undefined) throw ErrInternal(`missing historical rewards (${start}, ${end})`);
    const diff = D.sub(b.ratio, a.ratio);
    if (D.isAnyNegative(diff)) throw ErrInternal('negative reward ratio difference');
    return D.mulDec(diff, stake);
  }

  /** What the delegation earned from its starting period to `endingPeriod` (closed), slashes applied on the way. */
  calculateDelegationRewards(ctx: Context, v: Validator, del: Address, endingPeriod: bigint): DecCoins {
    const val = valBytesOf(v);
    const s = this.startingInfo(ctx, val, addressBytes(del));
    if (s === undefined) throw ErrEmptyDelegationDistInfo(`${del} has no rewards record with ${v.operatorAddress}`);
    let start = s.previousPeriod;
    let stake = parseDecWire(s.stake, 'stake');
    let rewards: DecCoins = [];
    for (const e of this.slashEvents(ctx, val, s.height, ctx.height)) {
      if (e.period <= start) continue; // slashed before this delegation started (same block)
      rewards = D.add(rewards, this.rewardsBetween(ctx, val, start, e.period, stake));
      stake = (stake * (DEC_ONE - e.fraction)) / DEC_ONE;
      start = e.period;
    }
    // Rounding can leave the tracked stake a hair above the stake now; never pay on more than is held.
    const d = this.staking.delegation(ctx, del, val);
    const now = d === undefined ? 0n : stakeOf(v, parseDecWire(d.shares));
    if (stake > now) stake = now;
    return D.add(rewards, this.rewardsBetween(ctx, val, start, endingPeriod, stake));
  }

  /** Pays a delegation's rewards (whole coins; the fraction to the community pool) and ends its record. */
  withdrawDelegationRewards(ctx: Context, v: Validator, del: Address): Coins {
    const val = valBytesOf(v);
    const delB = addressBytes(del);
    const s = this.startingInfo(ctx, val, delB);
    if (s === undefined) throw ErrEmptyDelegationDistInfo(`${del} has no rewards record with ${v.operatorAddress}`);
    const ending = this.incrementValidatorPeriod(ctx, v);
    const raw = this.calculateDelegationRewards(ctx, v, del, ending);
    const outstanding = this.outstanding(ctx, val) ?? [];
    // Truncation makes the computed reward ≤ what is outstanding; the intersection only guards that bound.
    const rewards = D.intersect(raw, outstanding);
    const { coins, change } = D.truncate(rewards);
    if (coins.length) this.bank.sendFromModule(ctx, DISTRIBUTION_ACCOUNT, this.withdrawAddress(ctx, del), coins);
    this.setOutstanding(ctx, val, D.sub(outstanding, rewards));
    this.addToPool(ctx, change);
    this.decrementRef(ctx, val, s.previousPeriod);
    this.store(ctx).delete(startingKey(val, delB));
    ctx.emit('withdraw_rewards', [['amount', coinsText(coins)], ['validator', v.operatorAddress], ['delegator', del]]);
    return coins;
  }

  /** MsgWithdrawDelegatorReward: settle and restart the record (the delegation stays). */
  withdrawRewards(ctx: Context, del: Address, val: Uint8Array): Coins {
    const v = this.staking.validator(ctx, val);
    if (v === undefined) throw ErrNoValidatorExists();
    if (this.staking.delegation(ctx, del, val) === undefined) throw ErrNoDelegationExists(`${del} has no delegation to ${v.operatorAddress}`);
    const coins = this.withdrawDelegationRewards(ctx, v, del);
    this.initializeDelegation(ctx, val, del);
    return coins;
  }

  /** MsgWithdrawValidatorCommission: the whole coins of the accumulated commission to the operator's withdraw address. */
  withdrawCommission(ctx: Context, val: Uint8Array): Coins {
    const v = this.staking.validator(ctx, val);
    if (v === undefined) throw ErrNoValidatorExists();
    const acc = this.commission(ctx, val) ?? [];
    const { coins, change } = D.truncate(acc);
    if (coins.length === 0) throw ErrNoValidatorCommission();
    this.setCommission(ctx, val, change);
    const paid = D.fromCoins(coins);
    this.setOutstanding(ctx, val, D.sub(this.outstanding(ctx, val) ?? [], paid));
    this.bank.sendFromModule(ctx, DISTRIBUTION_ACCOUNT, this.withdrawAddress(ctx, addressFromBytes(val)), coins);
    ctx.emit('withdraw_commission', [['amount', coinsText(coins)]]);
    return coins;
  }

  setWithdrawAddress(ctx: Context, del: Address, to: Address): void {
    if (!this.params(ctx).withdrawAddrEnabled) throw ErrSetWithdrawAddrDisabled();
    if (this.bank.isBlockedAddress(ctx, to)) throw ErrUnauthorized(`${to} is a module account and may not receive rewards`);
    const kv = this.store(ctx);
    if (to === del) kv.delete(withdrawKey(addressBytes(del)));
    else kv.set(withdrawKey(addressBytes(del)), addressBytes(to));
    ctx.emit('set_withdraw_address', [['withdraw_address', to]]);
  }

  /** Pending rewards without changing state (queries): the open period is closed in a throw-away view. */
  pendingRewards(ctx: Context, v: Validator, del: Address): DecCoins {
    const ending = this.incrementValidatorPeriod(ctx, v);
    return this.calculateDelegationRewards(ctx, v, del, ending);
  }

  // ---- allocation ---------------------------------------------------------------------------------------------------

  allocateTokensToValidator(ctx: Context, v: Validator, tokens: DecCoins): void {
    const val = valBytesOf(v);
    const rate = parseDecWire(v.commission?.commissionRates?.rate ?? '0', 'commission rate');
    const commission = D.mulDec(tokens, rate);
    const shared = D.sub(tokens, commission);
    const cur = this.current(ctx, val);
    if (cur === undefined) throw ErrInternal(`no current rewards of ${v.operatorAddress}`);
    this.setCommission(ctx, val, D.add(this.commission(ctx, val) ?? [], commission));
    this.setCurrent(ctx, val, D.add(cur.rewards, shared), cur.period);
    this.setOutstanding(ctx, val, D.add(this.outstanding(ctx, val) ?? [], tokens));
    ctx.emit('commission', [['amount', D.toString(commission)], ['validator', v.operatorAddress]]);
    ctx.emit('rewards', [['amount', D.toString(tokens)], ['validator', v.operatorAddress]]);
  }

  /**
   * BeginBlock: the fees collected since the last allocation go to the previous block's signers by power. Work:
   * O(votes) record updates (the active set), nothing per delegator.
   */
  allocateTokens(ctx: Context): void {
    const c = ctx.block.consensus;
    if (c === undefined) return;
    const signers: { v: Validator; power: bigint }[] = [];
    let total = 0n;
    for (const vote of c.votes) {
      if (!vote.signed || vote.power <= 0n) continue;
      const v = this.staking.validatorByCons(ctx, vote.address);
      if (v === undefined || this.current(ctx, valBytesOf(v)) === undefined) continue;
      signers.push({ v, power: vote.power });
      total += vote.power;
    }
    if (signers.length === 0) return;
    let collected: Coins = [];
    for (const source of FEE_SOURCES) {
      const coins = this.bank.balances(ctx, this.bank.moduleAccount(source)).filter((x) => x.amount > 0n);
      if (coins.length === 0) continue;
      this.bank.moduleToModule(ctx, source, DISTRIBUTION_ACCOUNT, coins);
      collected = [...collected, ...coins];
    }
    const fees = D.fromCoins(collected.length ? mergeCoins(collected) : []);
    if (D.isZero(fees)) return;
    const tax = parseDecWire(this.params(ctx).communityTax, 'community_tax');
    const forVoters = D.mulDec(fees, DEC_ONE - tax);
    let remaining = fees;
    for (const { v, power } of signers) {
      const reward = D.mulFrac(forVoters, power, total);
      if (D.isZero(reward)) continue;
      this.allocateTokensToValidator(ctx, v, reward);
      remaining = D.sub(remaining, reward);
    }
    this.addToPool(ctx, remaining);
  }

  // ---- staking hooks ------------------------------------------------------------------------------------------------

  hooks(): StakingHooks {
    return {
      afterValidatorCreated: (ctx, val) => this.initializeValidator(ctx, val),
      beforeDelegationSharesModified: (ctx, del, val) => {
        const v = this.staking.validator(ctx, val);
        if (v === undefined) return;
        if (this.startingInfo(ctx, val, addressBytes(del)) === undefined) this.incrementValidatorPeriod(ctx, v); // a new delegation
        else this.withdrawDelegationRewards(ctx, v, del);
      },
      afterDelegationModified: (ctx, del, val) => this.initializeDelegation(ctx, val, del),
      beforeValidatorSlashed: (ctx, val, fraction) => {
        const v = this.staking.validator(ctx, val);
        if (v === undefined || fraction <= 0n) return;
        const period = this.incrementValidatorPeriod(ctx, v);
        this.incrementRef(ctx, val, period);
        this.store(ctx).set(slashKey(val, ctx.height, period), ValidatorSlashEvent.encode({ validatorPeriod: period, fraction: fraction.toString() }).finish());
      },
      beforeValidatorRemoved: (ctx, val) => this.removeValidator(ctx, val),
    };
  }

  /**
   * A validator leaves state (no shares left, unbonded): its commission is paid out, the rest of its outstanding
   * rewards (rounding dust of the reward ratios) goes to the community pool, and its records are deleted.
   */
  private removeValidator(ctx: Context, val: Uint8Array): void {
    let outstanding = this.outstanding(ctx, val) ?? [];
    const commission = this.commission(ctx, val) ?? [];
    if (!D.isZero(commission)) {
      outstanding = D.sub(outstanding, commission);
      const { coins, change } = D.truncate(commission);
      this.addToPool(ctx, change);
      if (coins.length) this.bank.sendFromModule(ctx, DISTRIBUTION_ACCOUNT, this.withdrawAddress(ctx, addressFromBytes(val)), coins);
    }
    this.addToPool(ctx, outstanding);
    const kv = this.store(ctx);
    const keys: string[] = [outstandingKey(val), commissionKey(val), currentKey(val)];
    for (const p of [historicalPrefix(val), slashPrefix(val), startingPrefix(val)]) for (const [k] of iteratePrefix(kv, p)) keys.push(k);
    for (const k of keys) kv.delete(k);
  }
}

function mergeCoins(c: Coins): Coins {
  const m = new Map<string, bigint>();
  for (const x of c) m.set(x.denom, (m.get(x.denom) ?? 0n) + x.amount);
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([denom, amount]) => ({ denom, amount }));
}

export function coinsText(c: Coins): string {
  return c.map((x) => `${x.amount}${x.denom}`).join(',');
}
