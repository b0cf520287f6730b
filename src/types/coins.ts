/**
 * Coins as the state machine holds them: bigint amounts, denoms validated, lists sorted by denom with no
 * zero or duplicate entries (the Cosmos SDK's "sanitized coins" form), so equal values encode equally.
 */
import type { Coin as ProtoCoin } from 'cosmjs-types/cosmos/base/v1beta1/coin';

export interface Coin { readonly denom: string; readonly amount: bigint }
export type Coins = readonly Coin[];

export const NATIVE_DENOM = 'uproof';
const DENOM_RE = /^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$/;
const UINT_RE = /^(0|[1-9][0-9]{0,76})$/;

export class CoinsError extends Error {}

export function isValidDenom(denom: string): boolean {
  return DENOM_RE.test(denom);
}

/** Parses a decimal integer string (as Cosmos `Coin.amount` carries it) into a non-negative bigint. */
export function parseAmount(s: string): bigint {
  if (!UINT_RE.test(s)) throw new CoinsError(`amount '${s}' is not a non-negative integer`);
  return BigInt(s);
}

const byDenom = (a: Coin, b: Coin) => (a.denom < b.denom ? -1 : a.denom > b.denom ? 1 : 0);

/**
 * Sorts coins by denom in place (code-unit order, no locale) and returns them. Lists of one coin — nearly every fee
 * and transfer — are returned as they are: V8's sort allocates a work copy even for one element.
 */
function sortByDenom<T extends Coin>(coins: T[]): T[] {
  return coins.length > 1 ? coins.sort(byDenom) : coins;
}

/** Sorts coins by denom in place and throws `duplicate(denom)` for a denom listed twice; returns them. */
export function sortUniqueByDenom<T extends Coin>(coins: T[], duplicate: (denom: string) => Error): T[] {
  sortByDenom(coins);
  for (let i = 1; i < coins.length; i++) if (coins[i - 1].denom === coins[i].denom) throw duplicate(coins[i].denom);
  return coins;
}

/** Validates and normalizes: positive amounts, valid denoms, no duplicates; sorted by denom. */
export function normalizeCoins(coins: readonly Coin[]): Coins {
  const out = sortUniqueByDenom(coins.filter((c) => c.amount !== 0n), (d) => new CoinsError(`duplicate denom '${d}'`));
  for (const c of out) {
    if (!isValidDenom(c.denom)) throw new CoinsError(`invalid denom '${c.denom}'`);
    if (c.amount < 0n) throw new CoinsError(`negative amount ${c.amount}${c.denom}`);
  }
  return out;
}

export function coinsFromProto(coins: readonly ProtoCoin[]): Coins {
  return normalizeCoins(coins.map((c) => ({ denom: c.denom, amount: parseAmount(c.amount) })));
}

export function coinsToProto(coins: Coins): ProtoCoin[] {
  return coins.map((c) => ({ denom: c.denom, amount: c.amount.toString() }));
}

export function amountOf(coins: Coins, denom: string): bigint {
  for (const c of coins) if (c.denom === denom) return c.amount;
  return 0n;
}

export function addCoins(a: Coins, b: Coins): Coins {
  const m = new Map<string, bigint>();
  for (const c of [...a, ...b]) m.set(c.denom, (m.get(c.denom) ?? 0n) + c.amount);
  return normalizeCoins([...m].map(([denom, amount]) => ({ denom, amount })));
}

export function coinsToString(coins: Coins): string {
  return coins.length ? coins.map((c) => `${c.amount}${c.denom}`).join(',') : '0';
}

/** Parses "100uproof,5foo" (CLI form). */
export function parseCoins(s: string): Coins {
  if (s.trim() === '') return [];
  return normalizeCoins(
    s.split(',').map((part) => {
      const m = /^\s*([0-9]+)\s*([a-zA-Z][a-zA-Z0-9/:._-]*)\s*$/.exec(part);
      if (!m) throw new CoinsError(`cannot parse coin '${part}': expected e.g. 1000uproof`);
      return { denom: m[2], amount: parseAmount(m[1]) };
    }),
  );
}
