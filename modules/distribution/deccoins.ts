/**
 * DecCoins: amounts per denom as 18-decimal fixed point (the SDK's LegacyDec, src/types/dec.ts), kept as a list
 * sorted by denom with no zero entries, so equal values have one form. On the wire a DecCoin's amount is the atto-unit
 * integer string (the SDK's LegacyDec marshalling). All arithmetic is bigint; every division truncates (toward zero
 * for the non-negative values used here), which is what makes the module's rounding dust bounded and one-sided.
 */
import type { DecCoin } from 'cosmjs-types/cosmos/base/v1beta1/coin';
import type { Coins } from '../../src/types/coins.js';
import { DEC_ONE, parseDecWire } from '../../src/types/dec.js';

export interface DecAmount { readonly denom: string; readonly atto: bigint }
export type DecCoins = readonly DecAmount[];

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function norm(m: Map<string, bigint>): DecCoins {
  return [...m.entries()].filter(([, v]) => v !== 0n).sort((a, b) => cmp(a[0], b[0])).map(([denom, atto]) => ({ denom, atto }));
}

export function add(a: DecCoins, b: DecCoins): DecCoins {
  const m = new Map<string, bigint>();
  for (const c of a) m.set(c.denom, c.atto);
  for (const c of b) m.set(c.denom, (m.get(c.denom) ?? 0n) + c.atto);
  return norm(m);
}

/** a − b; may produce negative entries (callers check with isAnyNegative where that matters). */
export function sub(a: DecCoins, b: DecCoins): DecCoins {
  return add(a, b.map((c) => ({ denom: c.denom, atto: -c.atto })));
}

export function amountOf(a: DecCoins, denom: string): bigint {
  return a.find((c) => c.denom === denom)?.atto ?? 0n;
}

export const isZero = (a: DecCoins): boolean => a.length === 0;
export const isAnyNegative = (a: DecCoins): boolean => a.some((c) => c.atto < 0n);

/** Per denom min(a, b) (the SDK's Intersect): what can really be paid of a computed reward. */
export function intersect(a: DecCoins, b: DecCoins): DecCoins {
  return norm(new Map(a.map((c) => { const o = amountOf(b, c.denom); return [c.denom, c.atto < o ? c.atto : o]; })));
}

/** Each amount × `dec` (an 18-decimal factor), truncated. */
export function mulDec(a: DecCoins, dec: bigint): DecCoins {
  return norm(new Map(a.map((c) => [c.denom, (c.atto * dec) / DEC_ONE])));
}

/** Each amount ÷ an integer, truncated (reward ÷ tokens: the reward ratio per token). */
export function quoInt(a: DecCoins, n: bigint): DecCoins {
  return norm(new Map(a.map((c) => [c.denom, c.atto / n])));
}

/** Each amount × num ÷ den, truncated (one rounding, for power fractions). */
export function mulFrac(a: DecCoins, num: bigint, den: bigint): DecCoins {
  return norm(new Map(a.map((c) => [c.denom, (c.atto * num) / den])));
}

/** Splits into whole coins and the fractional remainder (the SDK's TruncateDecimal). */
export function truncate(a: DecCoins): { coins: Coins; change: DecCoins } {
  const coins = a.map((c) => ({ denom: c.denom, amount: c.atto / DEC_ONE })).filter((c) => c.amount > 0n);
  const change = norm(new Map(a.map((c) => [c.denom, c.atto % DEC_ONE])));
  return { coins, change };
}

export function fromCoins(c: Coins): DecCoins {
  return norm(new Map(c.map((x) => [x.denom, x.amount * DEC_ONE])));
}

export function toProto(a: DecCoins): DecCoin[] {
  return a.map((c) => ({ denom: c.denom, amount: c.atto.toString() }));
}

/** From the wire (or stored) form: atto-unit integer strings; negative values are refused. */
export function fromProto(a: readonly DecCoin[], what = 'dec coins'): DecCoins {
  const m = new Map<string, bigint>();
  for (const c of a) m.set(c.denom, (m.get(c.denom) ?? 0n) + parseDecWire(c.amount, what));
  return norm(m);
}

/** "1.5uproof,2.000000000000000000ufoo" with the SDK's 18 places (CLI / events). */
export function toString(a: DecCoins): string {
  return a.map((c) => `${c.atto / DEC_ONE}.${(c.atto % DEC_ONE).toString().padStart(18, '0')}${c.denom}`).join(',');
}
