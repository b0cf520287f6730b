/**
 * Distribution invariants (checked after every block in tests):
 * - module-balance: the `distribution` account holds exactly Σ outstanding rewards + community pool, per denom, to
 *   the atto (allocation splits whole fees into 18-dec parts that sum to them; withdrawals remove exactly what they
 *   pay plus the fraction moved to the pool) — no rounding dust is lost or created;
 * - non-negative: no outstanding, commission, current or pool amount is negative, and commission ≤ outstanding;
 * - reference-count: each validator's historical records are referenced exactly by its open period, its delegations'
 *   starting infos and its slash events.
 */
import type { Invariant } from '../../src/framework/module.js';
import { iteratePrefix, keyToU64 } from '../../src/store/kv.js';
import { DEC_ONE } from '../../src/types/dec.js';
import { valoperFromBytes } from '../staking/addresses.js';
import * as D from './deccoins.js';
import type { DistributionKeeperImpl } from './keeper.js';
import { DISTRIBUTION_ACCOUNT, OUTSTANDING_PREFIX, historicalPrefix, readA, slashPrefix, startingPrefix } from './keys.js';
import type { DistrBankKeeper } from './expected.js';

function validators(k: DistributionKeeperImpl, ctx: Parameters<Invariant['check']>[0]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const [key] of iteratePrefix(k.store(ctx), OUTSTANDING_PREFIX)) out.push(readA(key, 1)[0]);
  return out;
}

export function distributionInvariants(k: DistributionKeeperImpl, bank: DistrBankKeeper): Invariant[] {
  return [
    {
      name: 'module-balance',
      check(ctx) {
        let expected = k.communityPool(ctx);
        for (const vb of validators(k, ctx)) expected = D.add(expected, k.outstanding(ctx, vb) ?? []);
        const held = D.fromCoins(bank.balances(ctx, bank.moduleAccount(DISTRIBUTION_ACCOUNT)));
        const diff = D.sub(held, expected);
        return D.isZero(diff) ? undefined : `distribution holds ${D.toString(held)}, outstanding + community pool = ${D.toString(expected)}`;
      },
    },
    {
      name: 'non-negative',
      check(ctx) {
        const problems: string[] = [];
        if (D.isAnyNegative(k.communityPool(ctx))) problems.push('negative community pool');
        for (const vb of validators(k, ctx)) {
          const out = k.outstanding(ctx, vb) ?? [];
          const com = k.commission(ctx, vb) ?? [];
          const name = valoperFromBytes(vb);
          if (D.isAnyNegative(out)) problems.push(`${name}: negative outstanding ${D.toString(out)}`);
          if (D.isAnyNegative(com)) problems.push(`${name}: negative commission`);
          if (D.isAnyNegative(D.sub(out, com))) problems.push(`${name}: commission ${D.toString(com)} above outstanding ${D.toString(out)}`);
          if (D.isAnyNegative(k.current(ctx, vb)?.rewards ?? [])) problems.push(`${name}: negative current rewards`);
        }
        return problems.length ? problems.slice(0, 5).join('; ') : undefined;
      },
    },
    {
      name: 'reference-count',
      check(ctx) {
        const kv = k.store(ctx);
        const problems: string[] = [];
        for (const vb of validators(k, ctx)) {
          let refs = 0;
          for (const [key] of iteratePrefix(kv, historicalPrefix(vb))) refs += k.historical(ctx, vb, keyToU64(key, historicalPrefix(vb).length))!.refs;
          let expected = 1; // the open period references the one before it
          for (const _ of iteratePrefix(kv, startingPrefix(vb))) expected++;
          for (const _ of iteratePrefix(kv, slashPrefix(vb))) expected++;
          if (refs !== expected) problems.push(`${valoperFromBytes(vb)}: ${refs} references, expected ${expected}`);
        }
        return problems.length ? problems.slice(0, 5).join('; ') : undefined;
      },
    },
  ];
}
void DEC_ONE;
