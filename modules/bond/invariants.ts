/**
 * Bond invariants:
 *  - module-balance: the 'bond' module account holds exactly Σ bonded + Σ unbonding, per denom;
 *  - locked-le-bonded: per prover and denom, 0 ≤ locked ≤ bonded;
 *  - unbonding-index: every UnbondingEntry has exactly one queue key (at its completion height) and one address-index
 *    key, and no index key names a missing or different entry.
 */
import type { Context } from '../../src/framework/context.js';
import type { Invariant } from '../../src/framework/module.js';
import type { BankKeeper } from '../bank/keeper.js';
import { iteratePrefix, keyToU64 } from '../../src/store/kv.js';
import { Prover, UnbondingEntry } from '../../src/gen/proofbook/bond/v1/bond.js';
import type { Address } from '../../src/crypto/address.js';
import {
  BOND_MODULE_ACCOUNT,
  BOND_STORE_PREFIX,
  BY_ADDRESS_PREFIX,
  PROVER_PREFIX,
  QUEUE_PREFIX,
  UNBONDING_PREFIX,
  byAddressKey,
  proverKey,
  queueKey,
} from './keys.js';
import { amountIn } from './keeper.js';

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const MAX_REPORTED = 5;

function report(problems: string[]): string | undefined {
  if (problems.length === 0) return undefined;
  const more = problems.length > MAX_REPORTED ? ` (and ${problems.length - MAX_REPORTED} more)` : '';
  return problems.slice(0, MAX_REPORTED).join('; ') + more;
}

export function bondInvariants(bank: BankKeeper): Invariant[] {
  const moduleBalance: Invariant = {
    name: 'module-balance',
    check(ctx: Context) {
      const kv = ctx.store(BOND_STORE_PREFIX);
      const sums = new Map<string, bigint>();
      const add = (denom: string, amount: string) => sums.set(denom, (sums.get(denom) ?? 0n) + BigInt(amount));
      for (const [, v] of iteratePrefix(kv, PROVER_PREFIX)) for (const c of Prover.decode(v).bonded) add(c.denom, c.amount);
      for (const [, v] of iteratePrefix(kv, UNBONDING_PREFIX)) for (const c of UnbondingEntry.decode(v).amount) add(c.denom, c.amount);
      const held = new Map<string, bigint>();
      for (const c of bank.balances(ctx, bank.moduleAccount(BOND_MODULE_ACCOUNT))) held.set(c.denom, c.amount);
      const problems: string[] = [];
      for (const d of [...new Set([...sums.keys(), ...held.keys()])].sort(cmp)) {
        const want = sums.get(d) ?? 0n;
        const have = held.get(d) ?? 0n;
        if (want !== have) problems.push(`${d}: bond module account holds ${have}, bonded + unbonding sum to ${want}`);
      }
      return report(problems);
    },
  };
  const lockedLeBonded: Invariant = {
    name: 'locked-le-bonded',
    check(ctx: Context) {
      const problems: string[] = [];
      for (const [k, v] of iteratePrefix(ctx.store(BOND_STORE_PREFIX), PROVER_PREFIX)) {
        const p = Prover.decode(v);
        if (k !== proverKey(p.address as Address)) problems.push(`prover ${p.address} stored under the wrong key`);
        for (const c of [...p.bonded, ...p.locked, ...p.slashed]) {
          if (BigInt(c.amount) <= 0n) problems.push(`prover ${p.address} has non-positive ${c.amount}${c.denom} in its ledger`);
        }
        for (const c of p.locked) {
          const bonded = amountIn(p.bonded, c.denom);
          if (BigInt(c.amount) > bonded) problems.push(`prover ${p.address} has ${c.amount}${c.denom} locked but only ${bonded}${c.denom} bonded`);
        }
      }
      return report(problems);
    },
  };
  const unbondingIndex: Invariant = {
    name: 'unbonding-index',
    check(ctx: Context) {
      const kv = ctx.store(BOND_STORE_PREFIX);
      const problems: string[] = [];
      const entries = new Map<bigint, UnbondingEntry>();
      for (const [k, v] of iteratePrefix(kv, UNBONDING_PREFIX)) {
        const e = UnbondingEntry.decode(v);
        const id = keyToU64(k, 1);
        if (e.id !== id) problems.push(`unbonding entry ${e.id} stored under id ${id}`);
        entries.set(id, e);
      }
      const queued = new Map<bigint, number>();
      for (const [k] of iteratePrefix(kv, QUEUE_PREFIX)) {
        const completion = keyToU64(k, 1);
        const id = keyToU64(k, 9);
        queued.set(id, (queued.get(id) ?? 0) + 1);
        const e = entries.get(id);
        if (e === undefined) problems.push(`queue names missing unbonding entry ${id}`);
        else if (e.completionHeight !== completion) problems.push(`unbonding ${id} queued at height ${completion}, completes at ${e.completionHeight}`);
      }
      let indexed = 0;
      for (const [k] of iteratePrefix(kv, BY_ADDRESS_PREFIX)) {
        indexed++;
        const id = keyToU64(k, k.length - 8);
        const e = entries.get(id);
        if (e === undefined) problems.push(`address index names missing unbonding entry ${id}`);
        else if (k !== byAddressKey(e.address as Address, id)) problems.push(`unbonding ${id} indexed under another address`);
      }
      const ids = [...entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const id of ids) {
        const e = entries.get(id)!;
        const n = queued.get(id) ?? 0;
        if (n !== 1 || !kv.has(queueKey(e.completionHeight, id))) problems.push(`unbonding ${id} is in the maturity queue ${n} times`);
      }
      if (indexed !== entries.size) problems.push(`address index has ${indexed} keys for ${entries.size} unbonding entries`);
      return report(problems);
    },
  };
  return [moduleBalance, lockedLeBonded, unbondingIndex];
}
