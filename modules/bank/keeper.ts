/**
 * The bank keeper: balances, transfers between accounts and module accounts, mint and burn with supply accounting.
 *
 * Every mutating method checks everything first and writes only when the whole operation will succeed, so a
 * rejected call (insufficient funds, bad coins) leaves the store untouched even without a surrounding cache.
 */
import type { Context } from '../../src/framework/context.js';
import { ErrInsufficientFunds, ErrInternal, ErrInvalidCoins, ErrInvalidRequest } from '../../src/framework/errors.js';
import { isValidDenom, sortUniqueByDenom, type Coin, type Coins } from '../../src/types/coins.js';
import { moduleAddress, type Address } from '../../src/crypto/address.js';
import { iteratePrefix, type KV } from '../../src/store/kv.js';
import {
  BANK_STORE_PREFIX,
  MAX_AMOUNT,
  SUPPLY_PREFIX,
  accountBalancesPrefix,
  balanceKey,
  burnedKey,
  decodeAmount,
  decodeString,
  encodeAmount,
  encodeString,
  moduleAccountKey,
  supplyKey,
} from './keys.js';

/** What bank needs from auth: create the account (assign its number) the first time an address receives coins. */
export interface AccountKeeper {
  ensureAccount(ctx: Context, addr: Address): void;
}

export interface BankKeeper {
  balance(ctx: Context, addr: Address, denom: string): bigint;
  /** All non-zero balances of `addr`, sorted by denom. */
  balances(ctx: Context, addr: Address): Coins;
  /** Throws ErrInsufficientFunds ("spendable balance 5uproof is smaller than 10uproof") and changes nothing. */
  send(ctx: Context, from: Address, to: Address, coins: Coins): void;
  sendFromModule(ctx: Context, module: string, to: Address, coins: Coins): void;
  sendToModule(ctx: Context, from: Address, module: string, coins: Coins): void;
  moduleToModule(ctx: Context, fromModule: string, toModule: string, coins: Coins): void;
  /** Creates coins in the module's account and raises supply. */
  mint(ctx: Context, module: string, coins: Coins): void;
  /** Destroys coins held by the module's account, lowers supply and adds to burned(denom). */
  burn(ctx: Context, module: string, coins: Coins): void;
  supply(ctx: Context, denom: string): bigint;
  /** Every denom with non-zero supply, sorted by denom. */
  totalSupply(ctx: Context): Coins;
  /** Total ever burned of `denom` (never decreases). */
  burned(ctx: Context, denom: string): bigint;
  moduleAccount(name: string): Address;
  /** True when `addr` must not receive funds through MsgSend (module accounts). */
  isBlockedAddress(ctx: Context, addr: Address): boolean;
}

/**
 * Keeper-side coin check: valid denoms, no negatives, no duplicate denoms (ErrInvalidCoins otherwise). Zero entries
 * are dropped (a zero transfer moves nothing) and the result is sorted by denom, so any order is accepted.
 */
export function checkCoins(coins: Coins): Coins {
  const out: Coin[] = [];
  for (const c of coins) {
    if (typeof c.denom !== 'string' || !isValidDenom(c.denom)) throw ErrInvalidCoins(`invalid denom '${String(c.denom)}'`);
    if (typeof c.amount !== 'bigint') throw ErrInvalidCoins(`amount of ${c.denom} is not an integer`);
    if (c.amount < 0n) throw ErrInvalidCoins(`negative amount ${c.amount}${c.denom}`);
    if (c.amount > MAX_AMOUNT) throw ErrInvalidCoins(`amount of ${c.denom} exceeds 2^256-1`);
    if (c.amount !== 0n) out.push({ denom: c.denom, amount: c.amount });
  }
  return sortUniqueByDenom(out, (d) => ErrInvalidCoins(`duplicate denom '${d}'`));
}

/** SDK `Coins.String()`: "10foo,100uproof"; empty coins print as "". */
export function formatCoins(coins: Coins): string {
  return coins.map((c) => `${c.amount}${c.denom}`).join(',');
}

function checkModuleName(name: string): void {
  if (typeof name !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(name)) {
    throw ErrInvalidRequest(`invalid module account name ${JSON.stringify(name)} (1-128 printable ASCII characters, no spaces)`);
  }
}

export class BankKeeperImpl implements BankKeeper {
  private readonly moduleAddrs = new Map<string, Address>();
  private readonly staticBlocked: ReadonlySet<string>;

  constructor(
    private readonly accounts: AccountKeeper,
    /** Module account names whose addresses may never receive MsgSend funds, even before they hold anything. */
    blockedModules: readonly string[],
  ) {
    this.staticBlocked = new Set(blockedModules.map((n) => this.moduleAccount(n)));
  }

  private store(ctx: Context): KV {
    return ctx.store(BANK_STORE_PREFIX);
  }

  moduleAccount(name: string): Address {
    let a = this.moduleAddrs.get(name);
    if (a === undefined) {
      checkModuleName(name);
      a = moduleAddress(name);
      this.moduleAddrs.set(name, a);
    }
    return a;
  }

  isBlockedAddress(ctx: Context, addr: Address): boolean {
    return this.staticBlocked.has(addr) || this.store(ctx).has(moduleAccountKey(addr));
  }

  /** Name of a module account recorded in state, if `addr` is one. */
  moduleAccountName(ctx: Context, addr: Address): string | undefined {
    const v = this.store(ctx).get(moduleAccountKey(addr));
    return v === undefined ? undefined : decodeString(v);
  }

  balance(ctx: Context, addr: Address, denom: string): bigint {
    const v = this.store(ctx).get(balanceKey(addr, denom));
    return v === undefined ? 0n : decodeAmount(v);
  }

  balances(ctx: Context, addr: Address): Coins {
    const prefix = accountBalancesPrefix(addr);
    const out: Coin[] = [];
    for (const [k, v] of iteratePrefix(this.store(ctx), prefix)) out.push({ denom: k.slice(prefix.length), amount: decodeAmount(v) });
    return out;
  }

  supply(ctx: Context, denom: string): bigint {
    const v = this.store(ctx).get(supplyKey(denom));
    return v === undefined ? 0n : decodeAmount(v);
  }

  totalSupply(ctx: Context): Coins {
    const out: Coin[] = [];
    for (const [k, v] of iteratePrefix(this.store(ctx), SUPPLY_PREFIX)) out.push({ denom: k.slice(1), amount: decodeAmount(v) });
    return out;
  }

  burned(ctx: Context, denom: string): bigint {
    const v = this.store(ctx).get(burnedKey(denom));
    return v === undefined ? 0n : decodeAmount(v);
  }

  send(ctx: Context, from: Address, to: Address, coins: Coins): void {
    const amt = checkCoins(coins);
    if (amt.length === 0) return;
    this.sendChecked(ctx, from, to, amt);
  }

  /** send() for coins that already passed checkCoins and are non-empty. */
  private sendChecked(ctx: Context, from: Address, to: Address, amt: Coins): void {
    const s = formatCoins(amt);
    this.subtract(ctx, from, amt, this.checkFunds(ctx, from, amt), s);
    this.add(ctx, to, amt, s);
    this.accounts.ensureAccount(ctx, to);
    ctx.emit('transfer', [['recipient', to], ['sender', from], ['amount', s]]);
    ctx.emit('message', [['sender', from]]);
  }

  sendFromModule(ctx: Context, module: string, to: Address, coins: Coins): void {
    this.send(ctx, this.moduleAccount(module), to, coins);
  }

  sendToModule(ctx: Context, from: Address, module: string, coins: Coins): void {
    const addr = this.moduleAccount(module);
    const amt = checkCoins(coins);
    if (amt.length === 0) return;
    this.sendChecked(ctx, from, addr, amt);
    this.markModule(ctx, module, addr);
  }

  moduleToModule(ctx: Context, fromModule: string, toModule: string, coins: Coins): void {
    const toAddr = this.moduleAccount(toModule);
    const amt = checkCoins(coins);
    if (amt.length === 0) return;
    this.sendChecked(ctx, this.moduleAccount(fromModule), toAddr, amt);
    this.markModule(ctx, toModule, toAddr);
  }

  mint(ctx: Context, module: string, coins: Coins): void {
    const addr = this.moduleAccount(module);
    const amt = checkCoins(coins);
    if (amt.length === 0) return;
    const kv = this.store(ctx);
    const newSupply = amt.map((c) => {
      const s = this.supply(ctx, c.denom) + c.amount;
      if (s > MAX_AMOUNT) throw ErrInvalidCoins(`minting ${c.amount}${c.denom} would push its supply past 2^256-1`);
      return s;
    });
    const formatted = formatCoins(amt);
    this.add(ctx, addr, amt, formatted);
    amt.forEach((c, i) => kv.set(supplyKey(c.denom), encodeAmount(newSupply[i])));
    this.accounts.ensureAccount(ctx, addr);
    this.markModule(ctx, module, addr);
    ctx.emit('coinbase', [['minter', addr], ['amount', formatted]]);
  }

  burn(ctx: Context, module: string, coins: Coins): void {
    const addr = this.moduleAccount(module);
    const amt = checkCoins(coins);
    if (amt.length === 0) return;
    const kv = this.store(ctx);
    // Check the module's funds first (a user-facing failure), then supply (only an already-broken state fails here).
    const have = this.checkFunds(ctx, addr, amt);
    const newSupply = amt.map((c) => {
      const s = this.supply(ctx, c.denom) - c.amount;
      if (s < 0n) throw ErrInternal(`burning ${c.amount}${c.denom} exceeds its recorded supply (state is inconsistent)`);
      return s;
    });
    const formatted = formatCoins(amt);
    this.subtract(ctx, addr, amt, have, formatted);
    amt.forEach((c, i) => {
      if (newSupply[i] === 0n) kv.delete(supplyKey(c.denom));
      else kv.set(supplyKey(c.denom), encodeAmount(newSupply[i]));
      kv.set(burnedKey(c.denom), encodeAmount(this.burned(ctx, c.denom) + c.amount));
    });
    ctx.emit('burn', [['burner', addr], ['amount', formatted]]);
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  /** Throws ErrInsufficientFunds naming have/need for the first short denom; returns the current balances. */
  private checkFunds(ctx: Context, addr: Address, amt: Coins): bigint[] {
    return amt.map((c) => {
      const have = this.balance(ctx, addr, c.denom);
      if (have < c.amount) {
        throw ErrInsufficientFunds(`spendable balance ${have}${c.denom} is smaller than ${c.amount}${c.denom}`);
      }
      return have;
    });
  }

  /** Debits `amt` given the balances checkFunds returned (`formatted`: formatCoins(amt)); emits coin_spent. */
  private subtract(ctx: Context, addr: Address, amt: Coins, have: bigint[], formatted: string): void {
    const kv = this.store(ctx);
    amt.forEach((c, i) => {
      const left = have[i] - c.amount;
      if (left === 0n) kv.delete(balanceKey(addr, c.denom));
      else kv.set(balanceKey(addr, c.denom), encodeAmount(left));
    });
    ctx.emit('coin_spent', [['spender', addr], ['amount', formatted]]);
  }

  /** Credits all of `amt` or nothing (`formatted`: formatCoins(amt)); emits coin_received. */
  private add(ctx: Context, addr: Address, amt: Coins, formatted: string): void {
    const kv = this.store(ctx);
    const next = amt.map((c) => {
      const n = this.balance(ctx, addr, c.denom) + c.amount;
      if (n > MAX_AMOUNT) throw ErrInvalidCoins(`balance of ${c.denom} would exceed 2^256-1`);
      return n;
    });
    amt.forEach((c, i) => kv.set(balanceKey(addr, c.denom), encodeAmount(next[i])));
    ctx.emit('coin_received', [['receiver', addr], ['amount', formatted]]);
  }

  /** Records that `addr` is module `name`'s account (so MsgSend refuses it); one read when already recorded. */
  private markModule(ctx: Context, name: string, addr: Address): void {
    const kv = this.store(ctx);
    const key = moduleAccountKey(addr);
    if (!kv.has(key)) kv.set(key, encodeString(name));
  }
}
