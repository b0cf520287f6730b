/**
 * Verifier invariants:
 *  - verifier/deposits: the verifier module account holds exactly the sum of all circuits' deposits, per denom;
 *  - verifier/circuit-ids: every circuit is stored under its id and its id is the hash of its proof system and key.
 */
import type { Context } from '../../src/framework/context.js';
import type { Invariant } from '../../src/framework/module.js';
import type { BankKeeper } from '../bank/keeper.js';
import { iteratePrefix, bytesToKey } from '../../src/store/kv.js';
import { Circuit } from '../../src/gen/proofbook/verifier/v1/verifier.js';
import { CIRCUIT_PREFIX, VERIFIER_MODULE_ACCOUNT, VERIFIER_STORE_PREFIX, circuitIdOf } from './keys.js';

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function verifierInvariants(bank: BankKeeper): Invariant[] {
  const deposits: Invariant = {
    name: 'deposits',
    check(ctx: Context) {
      const sums = new Map<string, bigint>();
      for (const [, v] of iteratePrefix(ctx.store(VERIFIER_STORE_PREFIX), CIRCUIT_PREFIX)) {
        for (const d of Circuit.decode(v).deposit) sums.set(d.denom, (sums.get(d.denom) ?? 0n) + BigInt(d.amount));
      }
      const held = new Map<string, bigint>();
      for (const c of bank.balances(ctx, bank.moduleAccount(VERIFIER_MODULE_ACCOUNT))) held.set(c.denom, c.amount);
      const problems: string[] = [];
      for (const d of [...new Set([...sums.keys(), ...held.keys()])].sort(cmp)) {
        const want = sums.get(d) ?? 0n;
        const have = held.get(d) ?? 0n;
        if (want !== have) problems.push(`${d}: module account holds ${have}, circuits' deposits sum to ${want}`);
      }
      return problems.length ? problems.join('; ') : undefined;
    },
  };
  const ids: Invariant = {
    name: 'circuit-ids',
    check(ctx: Context) {
      const problems: string[] = [];
      for (const [k, v] of iteratePrefix(ctx.store(VERIFIER_STORE_PREFIX), CIRCUIT_PREFIX)) {
        const c = Circuit.decode(v);
        const id = circuitIdOf(c);
        if (c.id !== id || k !== CIRCUIT_PREFIX + bytesToKey(Buffer.from(id, 'hex'))) problems.push(`circuit ${c.id} is stored under the wrong key or id (expected ${id})`);
      }
      return problems.length ? problems.slice(0, 5).join('; ') : undefined;
    },
  };
  return [deposits, ids];
}
