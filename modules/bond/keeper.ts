/**
 * The bond keeper: provers' collateral ledger over the `bond` module account.
 *
 * A prover's `bonded` coins include its `locked` ones (collateral the market has pledged to assigned requests);
 * free = bonded − locked. MsgUnbond moves free collateral out of `bonded` at once into an UnbondingEntry that the
 * keeper pays back to the prover in endBlock at completion height; until then the coins stay in the module account.
 * Slashing only ever takes locked collateral. Missed deadlines count towards a jail; a jailed prover's free collateral
 * reads as 0 (it can take no new work) but it may still unbond.
 *
 * Every mutating method checks everything first and writes only when it will succeed.
 */
import type { Context } from '../../src/framework/context.js';
import { ErrInternal, ErrInvalidAddress, ErrInvalidCoins } from '../../src/framework/errors.js';
import type { BankKeeper } from '../bank/keeper.js';
import { formatCoins } from '../bank/keeper.js';
import { strictCoins } from '../bank/msgs.js';
import { parseAddress, type Address } from '../../src/crypto/address.js';
import { type Coins } from '../../src/types/coins.js';
import { iteratePrefix, keyToU64, u64Key, type KV } from '../../src/store/kv.js';
import { CacheKV } from '../../src/store/cache.js';
import { Params, Prover, UnbondingEntry } from '../../src/gen/proofbook/bond/v1/bond.js';
import type { Coin as ProtoCoin } from '../../src/gen/proofbook/base/v1/base.js';
import {
  BOND_MODULE_ACCOUNT,
  BOND_STORE_PREFIX,
  DEFAULT_PARAMS,
  EMPTY,
  ErrDenomNotCollateral,
  ErrInsufficientCollateral,
  ErrInsufficientLocked,
  ErrInvalidBondAmount,
  ErrJailNotExpired,
  ErrNotJailed,
  ErrProverJailed,
  ErrUnknownProver,
  NEXT_ID_KEY,
  PARAMS_KEY,
  QUEUE_PREFIX,
  byAddressKey,
  byAddressPrefix,
  proverKey,
  queueKey,
  unbondingKey,
} from './keys.js';

export interface BondKeeper {
  prover(ctx: Context, addr: Address): Prover | undefined;
  /** bonded - locked in `denom`; 0n when the prover is jailed or unknown. */
  freeCollateral(ctx: Context, addr: Address, denom: string): bigint;
  isJailed(ctx: Context, addr: Address): boolean;
  /** Throws AppError if free < amount. */
  lock(ctx: Context, addr: Address, denom: string, amount: bigint): void;
  /** Throws if locked < amount (a bug). */
  unlock(ctx: Context, addr: Address, denom: string, amount: bigint): void;
  /**
   * Removes `amount` of LOCKED collateral from the prover (locked and bonded both drop); pays toBeneficiaryBps/10000
   * of it from the bond module account to `beneficiary`, burns the rest (bank.burn). Returns what went where.
   */
  slashLocked(ctx: Context, addr: Address, denom: string, amount: bigint, beneficiary: Address, toBeneficiaryBps: bigint): { compensated: bigint; burned: bigint };
  /** Counts a missed deadline; jails the prover for params.jail_blocks after params.max_misses recent misses. */
  recordMiss(ctx: Context, addr: Address): void;
}

// ---- proto coin-list helpers (lists kept sorted by denom, no zero entries) ----------------------------------------

export function amountIn(list: readonly ProtoCoin[], denom: string): bigint {
  for (const c of list) if (c.denom === denom) return BigInt(c.amount);
  return 0n;
}

/** A copy of `list` with `denom` set to `amount` (removed when 0), sorted by denom. */
export function withAmount(list: readonly ProtoCoin[], denom: string, amount: bigint): ProtoCoin[] {
  if (amount < 0n) throw ErrInternal(`negative ${denom} amount ${amount} in the bond ledger`);
  const out = list.filter((c) => c.denom !== denom);
  if (amount > 0n) out.push({ denom, amount: amount.toString() });
  out.sort((a, b) => (a.denom < b.denom ? -1 : a.denom > b.denom ? 1 : 0));
  return out;
}

export function toProtoCoins(coins: Coins): ProtoCoin[] {
  return coins.map((c) => ({ denom: c.denom, amount: c.amount.toString() }));
}

export function fromProtoCoins(list: readonly ProtoCoin[]): Coins {
  return list.map((c) => ({ denom: c.denom, amount: BigInt(c.amount) }));
}

/**
 * Message-side coin check: every entry a valid denom with a positive integer amount ≤ 2^256−1, no duplicates, at least
 * one entry. Returns the coins sorted by denom.
 */
export function msgAmount(coins: readonly ProtoCoin[], what: string): Coins {
  return strictCoins(coins, what, { allowEmpty: false });
}

/** Parses a signer/prover address field (ErrInvalidAddress names the field). */
export function proverAddress(s: string, field = 'prover'): Address {
  if (!s) throw ErrInvalidAddress(`${field} cannot be empty`);
  try {
    return parseAddress(s);
  } catch (e) {
    throw ErrInvalidAddress(`invalid ${field}: ${(e as Error).message}`);
  }
}

function emptyProver(addr: Address): Prover {
  return { address: addr, bonded: [], locked: [], jailed: false, jailedUntil: 0n, recentMisses: 0n, slashed: [] };
}

export class BondKeeperImpl implements BondKeeper {
  constructor(private readonly bank: BankKeeper) {}

  store(ctx: Context): KV {
    return ctx.store(BOND_STORE_PREFIX);
  }

  // ---- params / ids ----------------------------------------------------------------------------------------------

  params(ctx: Context): Params {
    const v = this.store(ctx).get(PARAMS_KEY);
    return v === undefined ? DEFAULT_PARAMS : Params.decode(v);
  }

  setParams(ctx: Context, p: Params): void {
    this.store(ctx).set(PARAMS_KEY, Params.encode(p).finish());
  }

  nextUnbondingId(ctx: Context): bigint {
    const v = this.store(ctx).get(NEXT_ID_KEY);
    return v === undefined ? 1n : keyToU64(Buffer.from(v).toString('latin1'));
  }

  setNextUnbondingId(ctx: Context, id: bigint): void {
    this.store(ctx).set(NEXT_ID_KEY, new Uint8Array(Buffer.from(u64Key(id), 'latin1')));
  }

  // ---- provers ---------------------------------------------------------------------------------------------------

  prover(ctx: Context, addr: Address): Prover | undefined {
    const v = this.store(ctx).get(proverKey(addr));
    return v === undefined ? undefined : Prover.decode(v);
  }

  setProver(ctx: Context, p: Prover): void {
    this.store(ctx).set(proverKey(p.address as Address), Prover.encode(p).finish());
  }

  freeCollateral(ctx: Context, addr: Address, denom: string): bigint {
    const p = this.prover(ctx, addr);
    if (p === undefined || p.jailed) return 0n;
    return amountIn(p.bonded, denom) - amountIn(p.locked, denom);
  }

  isJailed(ctx: Context, addr: Address): boolean {
    return this.prover(ctx, addr)?.jailed ?? false;
  }

  lock(ctx: Context, addr: Address, denom: string, amount: bigint): void {
    if (amount <= 0n) throw ErrInvalidBondAmount(`lock amount must be positive, got ${amount}${denom}`);
    const p = this.prover(ctx, addr);
    if (p === undefined) throw ErrUnknownProver(`${addr} has no bonded collateral`);
    if (p.jailed) throw ErrProverJailed(`${addr} is jailed until height ${p.jailedUntil}`);
    const bonded = amountIn(p.bonded, denom);
    const locked = amountIn(p.locked, denom);
    if (bonded - locked < amount) {
      throw ErrInsufficientCollateral(`${addr} has ${bonded - locked}${denom} free (bonded ${bonded}, locked ${locked}), needs ${amount}${denom}`);
    }
    p.locked = withAmount(p.locked, denom, locked + amount);
    this.setProver(ctx, p);
    ctx.emit('proofbook.bond.locked', [['prover', addr], ['amount', `${amount}${denom}`], ['locked', `${locked + amount}${denom}`]]);
  }

  unlock(ctx: Context, addr: Address, denom: string, amount: bigint): void {
    if (amount <= 0n) throw ErrInvalidBondAmount(`unlock amount must be positive, got ${amount}${denom}`);
    const p = this.prover(ctx, addr);
    if (p === undefined) throw ErrUnknownProver(`${addr} has no bonded collateral`);
    const locked = amountIn(p.locked, denom);
    if (locked < amount) throw ErrInsufficientLocked(`cannot unlock ${amount}${denom} of ${addr}: only ${locked}${denom} locked`);
    p.locked = withAmount(p.locked, denom, locked - amount);
    this.setProver(ctx, p);
    ctx.emit('proofbook.bond.unlocked', [['prover', addr], ['amount', `${amount}${denom}`], ['locked', `${locked - amount}${denom}`]]);
  }

  slashLocked(ctx: Context, addr: Address, denom: string, amount: bigint, beneficiary: Address, toBeneficiaryBps: bigint): { compensated: bigint; burned: bigint } {
    if (amount < 0n) throw ErrInvalidBondAmount(`slash amount must not be negative, got ${amount}${denom}`);
    if (toBeneficiaryBps < 0n || toBeneficiaryBps > 10_000n) throw ErrInvalidBondAmount(`beneficiary share must be 0..10000 bps, got ${toBeneficiaryBps}`);
    if (amount === 0n) return { compensated: 0n, burned: 0n };
    const p = this.prover(ctx, addr);
    if (p === undefined) throw ErrUnknownProver(`${addr} has no bonded collateral`);
    const locked = amountIn(p.locked, denom);
    const bonded = amountIn(p.bonded, denom);
    if (locked < amount) throw ErrInsufficientLocked(`cannot slash ${amount}${denom} of ${addr}: only ${locked}${denom} locked`);
    if (bonded < amount) throw ErrInternal(`bond ledger broken: ${addr} has ${locked}${denom} locked but only ${bonded}${denom} bonded`);
    const compensated = (amount * toBeneficiaryBps) / 10_000n;
    const burned = amount - compensated;
    // Bank moves first (they check the module account's funds); the ledger is written only once they succeeded.
    if (compensated > 0n) this.bank.sendFromModule(ctx, BOND_MODULE_ACCOUNT, beneficiary, [{ denom, amount: compensated }]);
    if (burned > 0n) this.bank.burn(ctx, BOND_MODULE_ACCOUNT, [{ denom, amount: burned }]);
    p.locked = withAmount(p.locked, denom, locked - amount);
    p.bonded = withAmount(p.bonded, denom, bonded - amount);
    p.slashed = withAmount(p.slashed, denom, amountIn(p.slashed, denom) + amount);
    this.setProver(ctx, p);
    ctx.emit('proofbook.bond.slashed', [
      ['prover', addr],
      ['amount', `${amount}${denom}`],
      ['beneficiary', beneficiary],
      ['compensated', `${compensated}${denom}`],
      ['burned', `${burned}${denom}`],
    ]);
    return { compensated, burned };
  }

  recordMiss(ctx: Context, addr: Address): void {
    const p = this.prover(ctx, addr);
    if (p === undefined) throw ErrUnknownProver(`${addr} has no bonded collateral`);
    const params = this.params(ctx);
    p.recentMisses += 1n;
    ctx.emit('proofbook.bond.missed', [['prover', addr], ['recent_misses', p.recentMisses.toString()]]);
    if (!p.jailed && p.recentMisses >= params.maxMisses) {
      p.jailed = true;
      p.jailedUntil = ctx.height + params.jailBlocks;
      ctx.emit('proofbook.bond.jailed', [['prover', addr], ['jailed_until', p.jailedUntil.toString()], ['recent_misses', p.recentMisses.toString()]]);
    }
    this.setProver(ctx, p);
  }

  // ---- messages --------------------------------------------------------------------------------------------------

  /** MsgBond: coins (positive, collateral denoms) move prover -> 'bond'; creates the Prover record on first bond. */
  bond(ctx: Context, addr: Address, coins: Coins): Prover {
    const params = this.params(ctx);
    if (coins.length === 0) throw ErrInvalidCoins('bond amount cannot be empty');
    for (const c of coins) {
      if (c.amount <= 0n) throw ErrInvalidCoins(`bond amount of ${c.denom} must be positive`);
      if (!params.collateralDenoms.includes(c.denom)) {
        throw ErrDenomNotCollateral(`'${c.denom}' cannot be bonded; collateral denoms are ${params.collateralDenoms.join(', ') || '(none)'}`);
      }
    }
    const p = this.prover(ctx, addr) ?? emptyProver(addr);
    this.bank.sendToModule(ctx, addr, BOND_MODULE_ACCOUNT, coins);
    for (const c of coins) p.bonded = withAmount(p.bonded, c.denom, amountIn(p.bonded, c.denom) + c.amount);
    this.setProver(ctx, p);
    ctx.emit('proofbook.bond.bonded', [['prover', addr], ['amount', formatCoins(coins)], ['bonded', formatCoins(fromProtoCoins(p.bonded))]]);
    return p;
  }

  /** MsgUnbond: amount ≤ bonded − locked per denom (jailed or not); starts an UnbondingEntry. */
  unbond(ctx: Context, addr: Address, coins: Coins): UnbondingEntry {
    if (coins.length === 0) throw ErrInvalidCoins('unbond amount cannot be empty');
    const p = this.prover(ctx, addr);
    if (p === undefined) throw ErrUnknownProver(`${addr} has no bonded collateral`);
    for (const c of coins) {
      if (c.amount <= 0n) throw ErrInvalidCoins(`unbond amount of ${c.denom} must be positive`);
      const bonded = amountIn(p.bonded, c.denom);
      const locked = amountIn(p.locked, c.denom);
      if (bonded - locked < c.amount) {
        throw ErrInsufficientCollateral(`cannot unbond ${c.amount}${c.denom}: free collateral is ${bonded - locked}${c.denom} (bonded ${bonded}, locked ${locked})`);
      }
    }
    const params = this.params(ctx);
    const id = this.nextUnbondingId(ctx);
    const entry: UnbondingEntry = {
      id,
      address: addr,
      amount: toProtoCoins(coins),
      creationHeight: ctx.height,
      completionHeight: ctx.height + params.unbondingBlocks,
    };
    for (const c of coins) p.bonded = withAmount(p.bonded, c.denom, amountIn(p.bonded, c.denom) - c.amount);
    this.setProver(ctx, p);
    this.putUnbonding(ctx, entry);
    this.setNextUnbondingId(ctx, id + 1n);
    ctx.emit('proofbook.bond.unbonding', [
      ['prover', addr],
      ['unbonding_id', id.toString()],
      ['amount', formatCoins(coins)],
      ['completion_height', entry.completionHeight.toString()],
    ]);
    return entry;
  }

  /** MsgUnjail: only a jailed prover, only from jailed_until on; resets recent_misses. */
  unjail(ctx: Context, addr: Address): void {
    const p = this.prover(ctx, addr);
    if (p === undefined) throw ErrUnknownProver(`${addr} has no bonded collateral`);
    if (!p.jailed) throw ErrNotJailed(`${addr} is not jailed`);
    if (ctx.height < p.jailedUntil) throw ErrJailNotExpired(`${addr} can unjail from height ${p.jailedUntil} (now ${ctx.height})`);
    p.jailed = false;
    p.jailedUntil = 0n;
    p.recentMisses = 0n;
    this.setProver(ctx, p);
    ctx.emit('proofbook.bond.unjailed', [['prover', addr]]);
  }

  // ---- unbonding queue -------------------------------------------------------------------------------------------

  putUnbonding(ctx: Context, e: UnbondingEntry): void {
    const kv = this.store(ctx);
    const addr = e.address as Address;
    kv.set(unbondingKey(e.id), UnbondingEntry.encode(e).finish());
    kv.set(queueKey(e.completionHeight, e.id), EMPTY);
    kv.set(byAddressKey(addr, e.id), EMPTY);
  }

  unbonding(ctx: Context, id: bigint): UnbondingEntry | undefined {
    const v = this.store(ctx).get(unbondingKey(id));
    return v === undefined ? undefined : UnbondingEntry.decode(v);
  }

  /** A prover's unbonding entries in id order. */
  unbondingsOf(ctx: Context, addr: Address): UnbondingEntry[] {
    const kv = this.store(ctx);
    const prefix = byAddressPrefix(addr);
    const ids: bigint[] = [];
    for (const [k] of iteratePrefix(kv, prefix)) ids.push(keyToU64(k, prefix.length));
    const out: UnbondingEntry[] = [];
    for (const id of ids) {
      const e = this.unbonding(ctx, id);
      if (e === undefined) throw ErrInternal(`unbonding index names missing entry ${id}`);
      out.push(e);
    }
    return out;
  }

  /**
   * Pays out every entry with completion_height ≤ the block height, in (completion, id) order. Each payout runs in its
   * own cache: an entry that cannot be paid (only possible when the ledger is already broken, which the invariants
   * report) stays queued and is retried next block, without holding back the others.
   */
  endBlock(ctx: Context): void {
    const matured: bigint[] = [];
    const end = ctx.height >= 0xffffffffffffffffn ? undefined : QUEUE_PREFIX + u64Key(ctx.height + 1n);
    for (const [k] of this.store(ctx).iterate(QUEUE_PREFIX, end ?? 'r')) matured.push(keyToU64(k, 9));
    for (const id of matured) {
      const cache = new CacheKV(ctx.kv);
      const sub = ctx.with(cache);
      try {
        this.release(sub, id);
      } catch {
        cache.discard();
        continue;
      }
      cache.writeTo(ctx.kv);
      ctx.events.push(...sub.events);
    }
  }

  private release(ctx: Context, id: bigint): void {
    const kv = this.store(ctx);
    const e = this.unbonding(ctx, id);
    if (e === undefined) throw ErrInternal(`unbonding queue names missing entry ${id}`);
    const addr = e.address as Address;
    const coins = fromProtoCoins(e.amount);
    this.bank.sendFromModule(ctx, BOND_MODULE_ACCOUNT, addr, coins);
    kv.delete(unbondingKey(id));
    kv.delete(queueKey(e.completionHeight, id));
    kv.delete(byAddressKey(addr, id));
    ctx.emit('proofbook.bond.unbonded', [['prover', addr], ['unbonding_id', id.toString()], ['amount', formatCoins(coins)]]);
  }
}
