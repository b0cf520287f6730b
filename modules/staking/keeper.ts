/**
 * The staking keeper: validators, delegations, unbonding delegations, redelegations and the active validator set, in
 * the Cosmos SDK's x/staking model.
 *
 * Stake and shares. A validator holds `tokens` (uproof) and has issued `delegator_shares` (18-decimal fixed point,
 * src/types/dec.ts) to its delegators; a delegation owns shares, worth shares × tokens / delegator_shares. Slashing
 * lowers tokens and leaves shares alone, so every delegation of the validator loses the same fraction.
 *
 * Pools. Tokens of BONDED validators sit in the `bonded_tokens_pool` module account; tokens of UNBONDING and UNBONDED
 * validators and every unbonding entry's balance in `not_bonded_tokens_pool`. Coins move between the two when a
 * validator enters or leaves the active set (invariants.ts checks both).
 *
 * The active set. After every block (`applyValidatorSetUpdates`) the `max_validators` non-jailed validators with the
 * most power (tokens / 10^6; power ≥ 1), ties broken by operator address bytes ascending, are BONDED; a validator
 * that drops out becomes UNBONDING for `unbonding_time` (still slashable for what it did while bonded), then
 * UNBONDED. The difference to the set last sent to CometBFT is returned as validator updates (power 0 removes).
 *
 * Every mutating method checks what can fail before it writes; message handlers run inside the tx's cache anyway.
 */
import { Delegation, Params, Redelegation, UnbondingDelegation, Validator, BondStatus, type Description, type UnbondingDelegationEntry, type RedelegationEntry } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import { fromBech32 } from '@cosmjs/encoding';
import type { Context } from '../../src/framework/context.js';
import type { ValidatorPowerUpdate } from '../../src/framework/module.js';
import { ErrInsufficientFunds, ErrInternal, ErrInvalidRequest } from '../../src/framework/errors.js';
import type { BankKeeper } from '../bank/keeper.js';
import { addressBytes, addressFromBytes, type Address } from '../../src/crypto/address.js';
import { iteratePrefix, keyToU64, u64Key, type KV } from '../../src/store/kv.js';
import { DEC_ONE, mulDecFloor, parseDecWire } from '../../src/types/dec.js';
import { consAddress, ed25519Any, ed25519FromAny, valoperFromBytes } from './addresses.js';
import { proposerAt, type ProposerRecord } from './proposers.js';
import {
  A, BONDED_POOL, CONS_PREFIX, DEFAULT_STAKING_PARAMS, DELEGATION_BY_VAL_PREFIX, DELEGATION_PREFIX, EMPTY, LAST_POWER_PREFIX, NOT_BONDED_POOL,
  PARAMS_KEY, POWER_INDEX_PREFIX, POWER_REDUCTION, RED_BY_DST_PREFIX, RED_BY_SRC_PREFIX, RED_PREFIX, RED_QUEUE_PREFIX, STAKING_STORE_PREFIX,
  UBD_BY_VAL_PREFIX, UBD_PREFIX, UBD_QUEUE_PREFIX, VAL_QUEUE_PREFIX, VALIDATOR_PREFIX,
  ErrBadRedelegationDst, ErrBadSharesAmount, ErrBadTokenAmount, ErrDelegatorShareExRateInvalid, ErrInsufficientShares,
  ErrMaxRedelegationEntries, ErrMaxUnbondingDelegationEntries, ErrNoDelegation, ErrNoValidatorFound, ErrSelfRedelegation,
  ErrTinyRedelegationAmount, ErrTransitiveRedelegation, ErrBadDenom,
  consKey, delegationByValKey, delegationKey, lastPowerKey, powerIndexKey, readA, redByDstKey, redBySrcKey, redKey, redQueueKey,
  ubdByValKey, ubdKey, ubdQueueKey, valQueueKey, validatorKey,
} from './keys.js';

/** What other modules learn about staking changes (distribution keeps rewards, slashing keeps signing info). */
export interface StakingHooks {
  afterValidatorCreated?(ctx: Context, val: Uint8Array): void;
  afterValidatorBonded?(ctx: Context, cons: Uint8Array, val: Uint8Array): void;
  beforeValidatorRemoved?(ctx: Context, val: Uint8Array): void;
  /** Before a delegation's shares change (or it is created or removed): pending rewards are settled here. */
  beforeDelegationSharesModified?(ctx: Context, del: Address, val: Uint8Array): void;
  /** After a delegation was created or its shares changed (not after removal). */
  afterDelegationModified?(ctx: Context, del: Address, val: Uint8Array): void;
  beforeDelegationRemoved?(ctx: Context, del: Address, val: Uint8Array): void;
  /** Before a validator's tokens are slashed by `fraction` (18-dec, of its current tokens; rounded up): rewards close a period. */
  beforeValidatorSlashed?(ctx: Context, val: Uint8Array, fraction: bigint): void;
}

/** The small interface slashing and distribution program against. */
export interface StakingKeeper {
  params(ctx: Context): Params;
  validator(ctx: Context, val: Uint8Array): Validator | undefined;
  validatorByCons(ctx: Context, cons: Uint8Array): Validator | undefined;
  operatorOfCons(ctx: Context, cons: Uint8Array): Uint8Array | undefined;
  delegation(ctx: Context, del: Address, val: Uint8Array): Delegation | undefined;
  delegationsOf(ctx: Context, del: Address): Delegation[];
  /** Slashes `fraction` of the stake a validator had at `infractionHeight` (power given by the evidence). */
  slash(ctx: Context, cons: Uint8Array, infractionHeight: bigint, power: bigint, fraction: bigint): bigint;
  jail(ctx: Context, cons: Uint8Array): void;
  unjail(ctx: Context, val: Uint8Array): void;
  /** Tokens of the operator's self-delegation (for the unjail check). */
  selfDelegationTokens(ctx: Context, val: Uint8Array): bigint;
  tokensFromShares(v: Validator, shares: bigint): bigint;
  power(v: Validator): bigint;
}

export function tokensOf(v: Validator): bigint {
  return BigInt(v.tokens || '0');
}
export function sharesOf(v: Validator): bigint {
  return parseDecWire(v.delegatorShares, 'delegator_shares');
}
export function powerOf(v: Validator): bigint {
  return tokensOf(v) / POWER_REDUCTION;
}
export function consOf(v: Validator): Uint8Array {
  return consAddress(ed25519FromAny(v.consensusPubkey));
}

const cmpBytes = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class StakingKeeperImpl implements StakingKeeper {
  private hooks: StakingHooks[] = [];

  constructor(private readonly bank: BankKeeper) {}

  /** Wiring (app/modules.ts): modules that follow staking changes register here, in a fixed order. */
  addHooks(h: StakingHooks): void {
    this.hooks.push(h);
  }

  store(ctx: Context): KV {
    return ctx.store(STAKING_STORE_PREFIX);
  }

  proposerAt(ctx: Context, height: bigint): ProposerRecord | undefined {
    return proposerAt(this.store(ctx), height);
  }

  // ---- params -----------------------------------------------------------------------------------------------------

  params(ctx: Context): Params {
    const v = this.store(ctx).get(PARAMS_KEY);
    return v === undefined ? DEFAULT_STAKING_PARAMS : Params.decode(v);
  }

  setParams(ctx: Context, p: Params): void {
    this.store(ctx).set(PARAMS_KEY, Params.encode(p).finish());
  }

  unbondingSeconds(ctx: Context): bigint {
    return this.params(ctx).unbondingTime.seconds;
  }

  // ---- validators -------------------------------------------------------------------------------------------------

  validator(ctx: Context, val: Uint8Array): Validator | undefined {
    const v = this.store(ctx).get(validatorKey(val));
    return v === undefined ? undefined : Validator.decode(v);
  }

  mustValidator(ctx: Context, val: Uint8Array): Validator {
    const v = this.validator(ctx, val);
    if (v === undefined) throw ErrNoValidatorFound(`no validator ${valoperFromBytes(val)}`);
    return v;
  }

  operatorOfCons(ctx: Context, cons: Uint8Array): Uint8Array | undefined {
    const v = this.store(ctx).get(consKey(cons));
    return v === undefined ? undefined : v;
  }

  validatorByCons(ctx: Context, cons: Uint8Array): Validator | undefined {
    const op = this.operatorOfCons(ctx, cons);
    return op === undefined ? undefined : this.validator(ctx, op);
  }

  power(v: Validator): bigint {
    return powerOf(v);
  }

  private indexed(v: Validator): boolean {
    return !v.jailed && powerOf(v) >= 1n;
  }

  /** Writes a validator and keeps its power index entry in step with the stored version. */
  setValidator(ctx: Context, v: Validator): void {
    const kv = this.store(ctx);
    const val = this.valBytes(v);
    const old = this.validator(ctx, val);
    if (old !== undefined && this.indexed(old)) kv.delete(powerIndexKey(powerOf(old), val));
    kv.set(validatorKey(val), Validator.encode(v).finish());
    if (this.indexed(v)) kv.set(powerIndexKey(powerOf(v), val), EMPTY);
  }

  valBytes(v: Validator): Uint8Array {
    return this.valBytesOf(v.operatorAddress);
  }

  private valBytesOf(valoper: string): Uint8Array {
    // Stored validators always carry a canonical address (written by createValidator or checked by genesis).
    return fromBech32(valoper).data;
  }

  /** A new validator, UNBONDED with no stake (the creation message then delegates its self-bond). */
  createValidator(ctx: Context, val: Uint8Array, pubkey: Uint8Array, description: Description, rate: bigint, maxRate: bigint, maxChangeRate: bigint, minSelfDelegation: bigint): Validator {
    const v: Validator = {
      operatorAddress: valoperFromBytes(val),
      consensusPubkey: ed25519Any(pubkey),
      jailed: false,
      status: BondStatus.BOND_STATUS_UNBONDED,
      tokens: '0',
      delegatorShares: '0',
      description,
      unbondingHeight: 0n,
      unbondingTime: { seconds: 0n, nanos: 0 },
      commission: {
        commissionRates: { rate: rate.toString(), maxRate: maxRate.toString(), maxChangeRate: maxChangeRate.toString() },
        updateTime: { seconds: ctx.block.timeSeconds, nanos: 0 },
      },
      minSelfDelegation: minSelfDelegation.toString(),
      unbondingOnHoldRefCount: 0n,
      unbondingIds: [],
    };
    this.setValidator(ctx, v);
    this.store(ctx).set(consKey(consAddress(pubkey)), val);
    for (const h of this.hooks) h.afterValidatorCreated?.(ctx, val);
    return v;
  }

  private removeValidator(ctx: Context, v: Validator): void {
    const val = this.valBytes(v);
    if (tokensOf(v) !== 0n || sharesOf(v) !== 0n) throw ErrInternal(`cannot remove validator ${v.operatorAddress} with tokens ${v.tokens}`);
    for (const h of this.hooks) h.beforeValidatorRemoved?.(ctx, val);
    const kv = this.store(ctx);
    if (this.indexed(v)) kv.delete(powerIndexKey(powerOf(v), val));
    kv.delete(validatorKey(val));
    kv.delete(consKey(consOf(v)));
    ctx.emit('remove_validator', [['validator', v.operatorAddress]]);
  }

  /** Every validator in operator-address order. */
  allValidators(ctx: Context): Validator[] {
    const out: Validator[] = [];
    for (const [, v] of iteratePrefix(this.store(ctx), VALIDATOR_PREFIX)) out.push(Validator.decode(v));
    return out;
  }

  private poolOf(v: Validator): string {
    return v.status === BondStatus.BOND_STATUS_BONDED ? BONDED_POOL : NOT_BONDED_POOL;
  }

  tokensFromShares(v: Validator, shares: bigint): bigint {
    const total = sharesOf(v);
    if (total === 0n) return 0n;
    return (shares * tokensOf(v)) / total;
  }

  /** Shares worth `amount` tokens, floor. */
  private sharesFromTokens(v: Validator, amount: bigint): bigint {
    const tokens = tokensOf(v);
    if (tokens === 0n) throw ErrDelegatorShareExRateInvalid(`validator ${v.operatorAddress} has no tokens`);
    return (sharesOf(v) * amount) / tokens;
  }

  // ---- delegations ------------------------------------------------------------------------------------------------

  delegation(ctx: Context, del: Address, val: Uint8Array): Delegation | undefined {
    const v = this.store(ctx).get(delegationKey(addressBytes(del), val));
    return v === undefined ? undefined : Delegation.decode(v);
  }

  delegationsOf(ctx: Context, del: Address): Delegation[] {
    const out: Delegation[] = [];
    for (const [, v] of iteratePrefix(this.store(ctx), DELEGATION_PREFIX + A(addressBytes(del)))) out.push(Delegation.decode(v));
    return out;
  }

  delegationsTo(ctx: Context, val: Uint8Array): Delegation[] {
    const kv = this.store(ctx);
    const prefix = DELEGATION_BY_VAL_PREFIX + A(val);
    const out: Delegation[] = [];
    for (const [k] of iteratePrefix(kv, prefix)) {
      const [del] = readA(k, prefix.length);
      const d = kv.get(delegationKey(del, val));
      if (d === undefined) throw ErrInternal('delegation index names a missing delegation');
      out.push(Delegation.decode(d));
    }
    return out;
  }

  setDelegation(ctx: Context, d: Delegation, val: Uint8Array): void {
    const del = addressBytes(d.delegatorAddress as Address);
    const kv = this.store(ctx);
    kv.set(delegationKey(del, val), Delegation.encode(d).finish());
    kv.set(delegationByValKey(val, del), EMPTY);
  }

  private removeDelegation(ctx: Context, del: Address, val: Uint8Array): void {
    for (const h of this.hooks) h.beforeDelegationRemoved?.(ctx, del, val);
    const kv = this.store(ctx);
    const d = addressBytes(del);
    kv.delete(delegationKey(d, val));
    kv.delete(delegationByValKey(val, d));
  }

  selfDelegationTokens(ctx: Context, val: Uint8Array): bigint {
    const v = this.validator(ctx, val);
    if (v === undefined) return 0n;
    const d = this.delegation(ctx, addressFromBytes(val), val);
    return d === undefined ? 0n : this.tokensFromShares(v, parseDecWire(d.shares));
  }

  /**
   * Delegates `amount` to validator `val`. `source`: where the tokens come from — the delegator's account, or (for a
   * redelegation) the pool that held them. Returns the shares issued.
   */
  delegate(ctx: Context, del: Address, val: Uint8Array, amount: bigint, source: 'account' | typeof BONDED_POOL | typeof NOT_BONDED_POOL): bigint {
    if (amount <= 0n) throw ErrBadTokenAmount(`delegation amount must be positive, got ${amount}`);
    const v = this.mustValidator(ctx, val);
    if (tokensOf(v) === 0n && sharesOf(v) > 0n) throw ErrDelegatorShareExRateInvalid(`validator ${v.operatorAddress} has shares but no tokens (fully slashed)`);
    const shares = sharesOf(v) === 0n ? amount * DEC_ONE : this.sharesFromTokens(v, amount);
    if (shares <= 0n) throw ErrBadSharesAmount(`${amount} tokens buy no shares of ${v.operatorAddress}`);
    const existing = this.delegation(ctx, del, val);
    for (const h of this.hooks) h.beforeDelegationSharesModified?.(ctx, del, val);
    const denom = this.params(ctx).bondDenom;
    const pool = this.poolOf(v);
    if (source === 'account') {
      if (this.bank.balance(ctx, del, denom) < amount) throw ErrInsufficientFunds(`${del} has ${this.bank.balance(ctx, del, denom)}${denom}, cannot delegate ${amount}${denom}`);
      this.bank.sendToModule(ctx, del, pool, [{ denom, amount }]);
    } else if (source !== pool) {
      this.bank.moduleToModule(ctx, source, pool, [{ denom, amount }]);
    }
    this.setValidator(ctx, { ...v, tokens: (tokensOf(v) + amount).toString(), delegatorShares: (sharesOf(v) + shares).toString() });
    const before = existing === undefined ? 0n : parseDecWire(existing.shares);
    this.setDelegation(ctx, { delegatorAddress: del, validatorAddress: v.operatorAddress, shares: (before + shares).toString() }, val);
    for (const h of this.hooks) h.afterDelegationModified?.(ctx, del, val);
    return shares;
  }

  /**
   * Shares to remove for an undelegation of `amount` tokens: at most the delegation's shares (a full withdrawal may
   * ask for a token amount that converts to a hair more than the delegation holds, from rounding).
   */
  private sharesForUnbond(ctx: Context, del: Address, v: Validator, amount: bigint): bigint {
    if (amount <= 0n) throw ErrBadTokenAmount(`amount must be positive, got ${amount}`);
    const d = this.delegation(ctx, del, this.valBytes(v));
    if (d === undefined) throw ErrNoDelegation(`${del} has no delegation to ${v.operatorAddress}`);
    const held = parseDecWire(d.shares);
    const shares = this.sharesFromTokens(v, amount);
    if (shares <= 0n) throw ErrBadSharesAmount(`${amount} tokens are less than one share of ${v.operatorAddress}`);
    if (shares > held) {
      const heldTokens = this.tokensFromShares(v, held);
      if (amount > heldTokens) throw ErrInsufficientShares(`${del} has ${heldTokens} tokens delegated to ${v.operatorAddress}, cannot undelegate ${amount}`);
      return held;
    }
    return shares;
  }

  /** Removes shares from a delegation and the tokens they are worth from the validator; returns those tokens. */
  private unbond(ctx: Context, del: Address, val: Uint8Array, shares: bigint): bigint {
    const v = this.mustValidator(ctx, val);
    const d = this.delegation(ctx, del, val);
    if (d === undefined) throw ErrNoDelegation(`${del} has no delegation to ${v.operatorAddress}`);
    const held = parseDecWire(d.shares);
    if (shares > held) throw ErrInsufficientShares(`${del} holds ${held} shares of ${v.operatorAddress}, not ${shares}`);
    for (const h of this.hooks) h.beforeDelegationSharesModified?.(ctx, del, val);
    const remaining = held - shares;
    if (remaining === 0n) this.removeDelegation(ctx, del, val);
    else {
      this.setDelegation(ctx, { ...d, shares: remaining.toString() }, val);
      for (const h of this.hooks) h.afterDelegationModified?.(ctx, del, val);
    }
    // RemoveDelShares: the last shares take every remaining token.
    const totalShares = sharesOf(v);
    const tokens = tokensOf(v);
    const out = totalShares === shares ? tokens : (shares * tokens) / totalShares;
    let after: Validator = { ...v, tokens: (tokens - out).toString(), delegatorShares: (totalShares - shares).toString() };
    // An operator whose own stake falls below its min_self_delegation is jailed (it leaves the set at the block end).
    if (del === addressFromBytes(val) && !after.jailed) {
      const selfTokens = remaining === 0n ? 0n : this.tokensFromShares(after, remaining);
      if (selfTokens < BigInt(after.minSelfDelegation)) {
        after = { ...after, jailed: true };
        ctx.emit('jail_self_delegation', [['validator', v.operatorAddress], ['self_delegation', selfTokens.toString()], ['min_self_delegation', after.minSelfDelegation]]);
      }
    }
    this.setValidator(ctx, after);
    if (sharesOf(after) === 0n && after.status === BondStatus.BOND_STATUS_UNBONDED) this.removeValidator(ctx, after);
    return out;
  }

  // ---- undelegate -------------------------------------------------------------------------------------------------

  ubd(ctx: Context, del: Uint8Array, val: Uint8Array): UnbondingDelegation | undefined {
    const v = this.store(ctx).get(ubdKey(del, val));
    return v === undefined ? undefined : UnbondingDelegation.decode(v);
  }

  setUbd(ctx: Context, u: UnbondingDelegation, del: Uint8Array, val: Uint8Array): void {
    const kv = this.store(ctx);
    if (u.entries.length === 0) {
      kv.delete(ubdKey(del, val));
      kv.delete(ubdByValKey(val, del));
      return;
    }
    kv.set(ubdKey(del, val), UnbondingDelegation.encode(u).finish());
    kv.set(ubdByValKey(val, del), EMPTY);
  }

  undelegate(ctx: Context, del: Address, val: Uint8Array, amount: bigint, denom: string): { completionTime: bigint; amount: bigint } {
    const p = this.params(ctx);
    if (denom !== p.bondDenom) throw ErrBadDenom(`invalid coin denomination: got ${denom}, expected ${p.bondDenom}`);
    const v = this.mustValidator(ctx, val);
    const delB = addressBytes(del);
    const existing = this.ubd(ctx, delB, val);
    if (existing !== undefined && existing.entries.length >= p.maxEntries) throw ErrMaxUnbondingDelegationEntries(`${existing.entries.length} entries pending, the limit is ${p.maxEntries}`);
    const shares = this.sharesForUnbond(ctx, del, v, amount);
    const wasBonded = v.status === BondStatus.BOND_STATUS_BONDED;
    const out = this.unbond(ctx, del, val, shares);
    if (out <= 0n) throw ErrTinyRedelegationAmount(`undelegating ${amount} returns no tokens`);
    if (wasBonded) this.bank.moduleToModule(ctx, BONDED_POOL, NOT_BONDED_POOL, [{ denom: p.bondDenom, amount: out }]);
    const completion = ctx.block.timeSeconds + p.unbondingTime.seconds;
    const entry: UnbondingDelegationEntry = {
      creationHeight: ctx.height, completionTime: { seconds: completion, nanos: 0 }, initialBalance: out.toString(), balance: out.toString(),
      unbondingId: 0n, unbondingOnHoldRefCount: 0n,
    };
    const u = existing ?? { delegatorAddress: del, validatorAddress: v.operatorAddress, entries: [] };
    this.setUbd(ctx, { ...u, entries: [...u.entries, entry] }, delB, val);
    this.store(ctx).set(ubdQueueKey(completion, delB, val), EMPTY);
    return { completionTime: completion, amount: out };
  }

  // ---- redelegate -------------------------------------------------------------------------------------------------

  redelegation(ctx: Context, del: Uint8Array, src: Uint8Array, dst: Uint8Array): Redelegation | undefined {
    const v = this.store(ctx).get(redKey(del, src, dst));
    return v === undefined ? undefined : Redelegation.decode(v);
  }

  setRedelegation(ctx: Context, r: Redelegation, del: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
    const kv = this.store(ctx);
    if (r.entries.length === 0) {
      kv.delete(redKey(del, src, dst));
      kv.delete(redBySrcKey(src, del, dst));
      kv.delete(redByDstKey(dst, del, src));
      return;
    }
    kv.set(redKey(del, src, dst), Redelegation.encode(r).finish());
    kv.set(redBySrcKey(src, del, dst), EMPTY);
    kv.set(redByDstKey(dst, del, src), EMPTY);
  }

  /** Whether `del` has a redelegation in progress INTO `val` (a redelegation out of it must wait for it). */
  private hasReceivingRedelegation(ctx: Context, del: Uint8Array, val: Uint8Array): boolean {
    for (const _ of iteratePrefix(this.store(ctx), RED_BY_DST_PREFIX + A(val) + A(del))) return true;
    return false;
  }

  beginRedelegate(ctx: Context, del: Address, src: Uint8Array, dst: Uint8Array, amount: bigint, denom: string): { completionTime: bigint; amount: bigint } {
    const p = this.params(ctx);
    if (denom !== p.bondDenom) throw ErrBadDenom(`invalid coin denomination: got ${denom}, expected ${p.bondDenom}`);
    if (cmpBytes(src, dst) === 0) throw ErrSelfRedelegation();
    const vs = this.mustValidator(ctx, src);
    const vd = this.validator(ctx, dst);
    if (vd === undefined) throw ErrBadRedelegationDst(`no validator ${valoperFromBytes(dst)}`);
    const delB = addressBytes(del);
    if (this.hasReceivingRedelegation(ctx, delB, src)) throw ErrTransitiveRedelegation();
    const existing = this.redelegation(ctx, delB, src, dst);
    if (existing !== undefined && existing.entries.length >= p.maxEntries) throw ErrMaxRedelegationEntries(`${existing.entries.length} entries pending, the limit is ${p.maxEntries}`);
    const shares = this.sharesForUnbond(ctx, del, vs, amount);
    const srcPool = this.poolOf(vs);
    const out = this.unbond(ctx, del, src, shares);
    if (out <= 0n) throw ErrTinyRedelegationAmount();
    const sharesDst = this.delegate(ctx, del, dst, out, srcPool as typeof BONDED_POOL | typeof NOT_BONDED_POOL);
    // The source can still be slashed for what it did while this stake backed it: until the source's unbonding
    // would have ended. An UNBONDED source has nothing pending: the redelegation completes at once.
    let completion = ctx.block.timeSeconds + p.unbondingTime.seconds;
    if (vs.status === BondStatus.BOND_STATUS_UNBONDED) return { completionTime: ctx.block.timeSeconds, amount: out };
    if (vs.status === BondStatus.BOND_STATUS_UNBONDING) completion = vs.unbondingTime.seconds;
    const entry: RedelegationEntry = {
      creationHeight: ctx.height, completionTime: { seconds: completion, nanos: 0 }, initialBalance: out.toString(), sharesDst: sharesDst.toString(),
      unbondingId: 0n, unbondingOnHoldRefCount: 0n,
    };
    const r = existing ?? { delegatorAddress: del, validatorSrcAddress: vs.operatorAddress, validatorDstAddress: vd.operatorAddress, entries: [] };
    this.setRedelegation(ctx, { ...r, entries: [...r.entries, entry] }, delB, src, dst);
    this.store(ctx).set(redQueueKey(completion, delB, src, dst), EMPTY);
    return { completionTime: completion, amount: out };
  }

  // ---- jail / slash -----------------------------------------------------------------------------------------------

  jail(ctx: Context, cons: Uint8Array): void {
    const v = this.validatorByCons(ctx, cons);
    if (v === undefined || v.jailed) return;
    this.setValidator(ctx, { ...v, jailed: true });
  }

  unjail(ctx: Context, val: Uint8Array): void {
    const v = this.mustValidator(ctx, val);
    if (!v.jailed) return;
    this.setValidator(ctx, { ...v, jailed: false });
  }

  /**
   * The SDK's Slash: `fraction` of the tokens the validator had at the infraction (power × 10^6) are burned. Stake that
   * left the validator after the infraction is still reached: unbonding entries and redelegations created at or after
   * `infractionHeight` lose `fraction` of their initial balance (redelegated stake is unbonded from the destination
   * and burned); the rest comes out of the validator's current tokens, capped at what it has. Returns the amount burned.
   */
  slash(ctx: Context, cons: Uint8Array, infractionHeight: bigint, power: bigint, fraction: bigint): bigint {
    if (fraction < 0n || fraction > DEC_ONE) throw ErrInvalidRequest(`slash fraction ${fraction} is outside [0, 1]`);
    const v0 = this.validatorByCons(ctx, cons);
    if (v0 === undefined || v0.status === BondStatus.BOND_STATUS_UNBONDED) return 0n; // removed or unbonded: nothing at stake
    const val = this.valBytes(v0);
    const denom = this.params(ctx).bondDenom;
    const slashAmount = mulDecFloor(power * POWER_REDUCTION, fraction);
    let covered = 0n;
    let burned = 0n;
    if (infractionHeight < ctx.height) {
      const kv = this.store(ctx);
      // unbonding delegations from this validator
      const ubdPrefix = UBD_BY_VAL_PREFIX + A(val);
      const dels: Uint8Array[] = [];
      for (const [k] of iteratePrefix(kv, ubdPrefix)) dels.push(readA(k, ubdPrefix.length)[0]);
      for (const del of dels) {
        const u = this.ubd(ctx, del, val)!;
        let changed = false;
        const entries = u.entries.map((e) => {
          if (e.creationHeight < infractionHeight || e.completionTime.seconds <= ctx.block.timeSeconds) return e;
          const s = mulDecFloor(BigInt(e.initialBalance), fraction);
          covered += s;
          const take = s < BigInt(e.balance) ? s : BigInt(e.balance);
          if (take === 0n) return e;
          burned += take;
          changed = true;
          this.bank.burn(ctx, NOT_BONDED_POOL, [{ denom, amount: take }]);
          return { ...e, balance: (BigInt(e.balance) - take).toString() };
        });
        if (changed) this.setUbd(ctx, { ...u, entries }, del, val);
      }
      // redelegations out of this validator
      const redPrefix = RED_BY_SRC_PREFIX + A(val);
      const pairs: [Uint8Array, Uint8Array][] = [];
      for (const [k] of iteratePrefix(kv, redPrefix)) {
        const [del, off] = readA(k, redPrefix.length);
        pairs.push([del, readA(k, off)[0]]);
      }
      for (const [del, dst] of pairs) {
        const r = this.redelegation(ctx, del, val, dst)!;
        for (const e of r.entries) {
          if (e.creationHeight < infractionHeight || e.completionTime.seconds <= ctx.block.timeSeconds) continue;
          covered += mulDecFloor(BigInt(e.initialBalance), fraction);
          const delAddr = addressFromBytes(del);
          const d = this.delegation(ctx, delAddr, dst);
          if (d === undefined) continue; // already undelegated from the destination (that unbonding entry is the destination's)
          const want = mulDecFloor(parseDecWire(e.sharesDst), fraction);
          const shares = want < parseDecWire(d.shares) ? want : parseDecWire(d.shares);
          if (shares === 0n) continue;
          const vd = this.mustValidator(ctx, dst);
          const pool = this.poolOf(vd);
          const out = this.unbond(ctx, delAddr, dst, shares);
          if (out > 0n) {
            this.bank.burn(ctx, pool, [{ denom, amount: out }]);
            burned += out;
          }
        }
      }
    }
    const v = this.mustValidator(ctx, val);
    const rest = slashAmount - covered;
    const tokens = tokensOf(v);
    const fromValidator = rest <= 0n ? 0n : rest < tokens ? rest : tokens;
    if (fromValidator > 0n) {
      // The SDK's effective fraction of the current tokens, rounded up (delegators' tracked stake never exceeds theirs).
      const effective = (fromValidator * DEC_ONE + tokens - 1n) / tokens;
      for (const h of this.hooks) h.beforeValidatorSlashed?.(ctx, val, effective > DEC_ONE ? DEC_ONE : effective);
      this.bank.burn(ctx, this.poolOf(v), [{ denom, amount: fromValidator }]);
      this.setValidator(ctx, { ...v, tokens: (tokens - fromValidator).toString() });
      burned += fromValidator;
    }
    ctx.emit('slash', [['address', v.operatorAddress], ['infraction_height', infractionHeight.toString()], ['power', power.toString()], ['burned', burned.toString()]]);
    return burned;
  }

  // ---- end of block -----------------------------------------------------------------------------------------------

  /** Matured unbonding validators, unbonding delegations and redelegations (completion time ≤ block time). */
  endBlock(ctx: Context): void {
    const kv = this.store(ctx);
    const now = ctx.block.timeSeconds;
    const until = (prefix: string) => prefix + u64Key(now + 1n);
    const denom = this.params(ctx).bondDenom;

    const vals: [string, Uint8Array][] = [];
    for (const [k] of kv.iterate(VAL_QUEUE_PREFIX, until(VAL_QUEUE_PREFIX))) vals.push([k, readA(k, 9)[0]]);
    for (const [k, val] of vals) {
      kv.delete(k);
      const v = this.validator(ctx, val);
      if (v === undefined || v.status !== BondStatus.BOND_STATUS_UNBONDING || v.unbondingTime.seconds !== keyToU64(k, 1)) continue;
      const after = { ...v, status: BondStatus.BOND_STATUS_UNBONDED };
      this.setValidator(ctx, after);
      if (sharesOf(after) === 0n) this.removeValidator(ctx, after);
    }

    const ubds: [string, Uint8Array, Uint8Array][] = [];
    for (const [k] of kv.iterate(UBD_QUEUE_PREFIX, until(UBD_QUEUE_PREFIX))) {
      const [del, off] = readA(k, 9);
      ubds.push([k, del, readA(k, off)[0]]);
    }
    for (const [k, del, val] of ubds) {
      kv.delete(k);
      const u = this.ubd(ctx, del, val);
      if (u === undefined) continue;
      const keep: UnbondingDelegationEntry[] = [];
      let pay = 0n;
      for (const e of u.entries) {
        if (e.completionTime.seconds <= now) pay += BigInt(e.balance);
        else keep.push(e);
      }
      const delAddr = addressFromBytes(del);
      if (pay > 0n) this.bank.sendFromModule(ctx, NOT_BONDED_POOL, delAddr, [{ denom, amount: pay }]);
      this.setUbd(ctx, { ...u, entries: keep }, del, val);
      ctx.emit('complete_unbonding', [['amount', `${pay}${denom}`], ['validator', u.validatorAddress], ['delegator', delAddr]]);
    }

    const reds: [string, Uint8Array, Uint8Array, Uint8Array][] = [];
    for (const [k] of kv.iterate(RED_QUEUE_PREFIX, until(RED_QUEUE_PREFIX))) {
      const [del, o1] = readA(k, 9);
      const [src, o2] = readA(k, o1);
      reds.push([k, del, src, readA(k, o2)[0]]);
    }
    for (const [k, del, src, dst] of reds) {
      kv.delete(k);
      const r = this.redelegation(ctx, del, src, dst);
      if (r === undefined) continue;
      this.setRedelegation(ctx, { ...r, entries: r.entries.filter((e) => e.completionTime.seconds > now) }, del, src, dst);
    }
  }

  /** The validators in the active set now: the first max_validators of the power index (power desc, operator asc). */
  private activeSet(ctx: Context): { val: Uint8Array; power: bigint }[] {
    const max = this.params(ctx).maxValidators;
    const out: { val: Uint8Array; power: bigint }[] = [];
    for (const [k] of iteratePrefix(this.store(ctx), POWER_INDEX_PREFIX)) {
      if (out.length >= max) break;
      out.push({ val: readA(k, 9)[0], power: 0xffffffffffffffffn - keyToU64(k, 1) });
    }
    return out;
  }

  lastPowers(ctx: Context): Map<string, { val: Uint8Array; power: bigint }> {
    const out = new Map<string, { val: Uint8Array; power: bigint }>();
    for (const [k, v] of iteratePrefix(this.store(ctx), LAST_POWER_PREFIX)) {
      const [val] = readA(k, 1);
      out.set(k.slice(1), { val, power: keyToU64(Buffer.from(v).toString('latin1')) });
    }
    return out;
  }

  /**
   * Brings validator statuses in line with the active set and returns CometBFT's updates: new members and changed
   * powers, and power 0 for validators that left. Never empties the set (CometBFT would halt): if nobody would be
   * left, nothing changes this block.
   */
  applyValidatorSetUpdates(ctx: Context): ValidatorPowerUpdate[] {
    const kv = this.store(ctx);
    const denom = this.params(ctx).bondDenom;
    const last = this.lastPowers(ctx);
    const next = this.activeSet(ctx);
    if (next.length === 0 && last.size > 0) {
      ctx.emit('validator_set_unchanged', [['reason', 'no eligible validator left; the current set stays']]);
      return [];
    }
    const updates: ValidatorPowerUpdate[] = [];
    const seen = new Set<string>();
    for (const { val, power } of next) {
      const key = A(val);
      seen.add(key);
      let v = this.mustValidator(ctx, val);
      if (v.status !== BondStatus.BOND_STATUS_BONDED) {
        if (v.status === BondStatus.BOND_STATUS_UNBONDING) kv.delete(valQueueKey(v.unbondingTime.seconds, val));
        const tokens = tokensOf(v);
        if (tokens > 0n) this.bank.moduleToModule(ctx, NOT_BONDED_POOL, BONDED_POOL, [{ denom, amount: tokens }]);
        v = { ...v, status: BondStatus.BOND_STATUS_BONDED, unbondingHeight: 0n, unbondingTime: { seconds: 0n, nanos: 0 } };
        this.setValidator(ctx, v);
        for (const h of this.hooks) h.afterValidatorBonded?.(ctx, consOf(v), val);
        ctx.emit('bond_validator', [['validator', v.operatorAddress], ['power', power.toString()]]);
      }
      if (last.get(key)?.power !== power) {
        updates.push({ pubKeyEd25519: ed25519FromAny(v.consensusPubkey), power });
        kv.set(lastPowerKey(val), new Uint8Array(Buffer.from(u64Key(power), 'latin1')));
      }
    }
    // Leavers in operator-address order (the map iterates in key order of the store scan).
    for (const [key, { val }] of last) {
      if (seen.has(key)) continue;
      kv.delete(lastPowerKey(val));
      const v = this.validator(ctx, val);
      if (v === undefined) throw ErrInternal(`last validator set names missing validator ${valoperFromBytes(val)}`);
      updates.push({ pubKeyEd25519: ed25519FromAny(v.consensusPubkey), power: 0n });
      if (v.status === BondStatus.BOND_STATUS_BONDED) {
        const tokens = tokensOf(v);
        if (tokens > 0n) this.bank.moduleToModule(ctx, BONDED_POOL, NOT_BONDED_POOL, [{ denom, amount: tokens }]);
        const completion = ctx.block.timeSeconds + this.unbondingSeconds(ctx);
        this.setValidator(ctx, { ...v, status: BondStatus.BOND_STATUS_UNBONDING, unbondingHeight: ctx.height, unbondingTime: { seconds: completion, nanos: 0 } });
        kv.set(valQueueKey(completion, val), EMPTY);
        ctx.emit('unbond_validator', [['validator', v.operatorAddress], ['completion_time', completion.toString()]]);
      }
    }
    return updates;
  }

  /** Sum of the powers in the current set (what CometBFT has). */
  lastTotalPower(ctx: Context): bigint {
    let total = 0n;
    for (const { power } of this.lastPowers(ctx).values()) total += power;
    return total;
  }
}

