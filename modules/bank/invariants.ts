/**
 * Bank invariants, checked by the crisis/invariant runner and by tests:
 *  - bank/total-supply: for every denom, the sum of all stored balances (module accounts included) equals its supply,
 *    and no supply entry is stored as zero;
 *  - bank/nonnegative: every stored balance is a positive canonical decimal (zero balances must have been deleted)
 *    under a well-formed key.
 */
import type { Context } from '../../src/framework/context.js';
import type { Invariant } from '../../src/framework/module.js';
import { iteratePrefix } from '../../src/store/kv.js';
import { BALANCE_PREFIX, BANK_STORE_PREFIX, SUPPLY_PREFIX, balanceKeyDenom, decodeAmountLoose, decodeString, parseBalanceKey } from './keys.js';

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const MAX_REPORTED = 5;

function report(problems: string[]): string | undefined {
  if (problems.length === 0) return undefined;
  const more = problems.length > MAX_REPORTED ? `; and ${problems.length - MAX_REPORTED} more` : '';
  return problems.slice(0, MAX_REPORTED).join('; ') + more;
}

export const totalSupplyInvariant: Invariant = {
  name: 'bank/total-supply',
  check(ctx: Context) {
    const kv = ctx.store(BANK_STORE_PREFIX);
    const sums = new Map<string, bigint>();
    const problems: string[] = [];
    for (const [k, v] of iteratePrefix(kv, BALANCE_PREFIX)) {
      let denom: string;
      try {
        denom = balanceKeyDenom(k);
      } catch (e) {
        problems.push(`malformed balance key: ${(e as Error).message}`);
        continue;
      }
      const n = decodeAmountLoose(v);
      if (n === undefined) {
        problems.push(`unreadable balance of ${denom}: ${JSON.stringify(decodeString(v))}`);
        continue;
      }
      sums.set(denom, (sums.get(denom) ?? 0n) + n);
    }
    const supply = new Map<string, bigint>();
    for (const [k, v] of iteratePrefix(kv, SUPPLY_PREFIX)) {
      const denom = k.slice(SUPPLY_PREFIX.length);
      const n = decodeAmountLoose(v);
      if (n === undefined || n <= 0n) problems.push(`supply of ${denom} is stored as ${JSON.stringify(decodeString(v))}`);
      supply.set(denom, n ?? 0n);
    }
    const denoms = [...new Set([...sums.keys(), ...supply.keys()])].sort(cmp);
    for (const d of denoms) {
      const sum = sums.get(d) ?? 0n;
      const sup = supply.get(d) ?? 0n;
      if (sum !== sup) problems.push(`${d}: sum of balances ${sum} != supply ${sup} (diff ${sum - sup})`);
    }
    return report(problems);
  },
};

export const nonnegativeInvariant: Invariant = {
  name: 'bank/nonnegative',
  check(ctx: Context) {
    const kv = ctx.store(BANK_STORE_PREFIX);
    const problems: string[] = [];
    for (const [k, v] of iteratePrefix(kv, BALANCE_PREFIX)) {
      let where: string;
      try {
        const { address, denom } = parseBalanceKey(k);
        where = `${address} ${denom}`;
      } catch (e) {
        problems.push(`malformed balance key: ${(e as Error).message}`);
        continue;
      }
      const s = decodeString(v);
      if (!/^[1-9][0-9]*$/.test(s)) {
        const n = decodeAmountLoose(v);
        problems.push(`${where}: stored balance ${JSON.stringify(s)} is ${n === undefined ? 'not an integer' : n === 0n ? 'zero (should be deleted)' : n < 0n ? 'negative' : 'not canonical'}`);
      }
    }
    return report(problems);
  },
};

export const bankInvariants: readonly Invariant[] = [totalSupplyInvariant, nonnegativeInvariant];
