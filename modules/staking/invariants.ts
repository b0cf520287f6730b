/**
 * Staking invariants (checked after every block in tests):
 *  - bonded-pool: bonded_tokens_pool holds exactly the tokens of the BONDED validators;
 *  - not-bonded-pool: not_bonded_tokens_pool holds exactly the tokens of the other validators plus every unbonding
 *    entry's balance;
 *  - shares: per validator, the delegations' shares add up to delegator_shares; no negative tokens, shares or
 *    balances; a validator without shares has no tokens;
 *  - indexes: the power index lists exactly the non-jailed validators with power ≥ 1 at their power; the set last
 *    sent to CometBFT is exactly the BONDED validators.
 */
import { Delegation, UnbondingDelegation, Validator, BondStatus } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import type { Context } from '../../src/framework/context.js';
import type { Invariant } from '../../src/framework/module.js';
import type { BankKeeper } from '../bank/keeper.js';
import { iteratePrefix } from '../../src/store/kv.js';
import { parseDecWire } from '../../src/types/dec.js';
import { parseValoper } from './addresses.js';
import { powerOf, sharesOf, tokensOf, type StakingKeeperImpl } from './keeper.js';
import { BONDED_POOL, DELEGATION_PREFIX, LAST_POWER_PREFIX, NOT_BONDED_POOL, POWER_INDEX_PREFIX, UBD_PREFIX, VALIDATOR_PREFIX, lastPowerKey, powerIndexKey } from './keys.js';

const MAX_REPORTED = 5;
function report(problems: string[]): string | undefined {
  if (problems.length === 0) return undefined;
  return problems.slice(0, MAX_REPORTED).join('; ') + (problems.length > MAX_REPORTED ? ` (and ${problems.length - MAX_REPORTED} more)` : '');
}

export function stakingInvariants(k: StakingKeeperImpl, bank: BankKeeper): Invariant[] {
  const validators = (ctx: Context) => {
    const out: Validator[] = [];
    for (const [, v] of iteratePrefix(k.store(ctx), VALIDATOR_PREFIX)) out.push(Validator.decode(v));
    return out;
  };
  const pools: Invariant = {
    name: 'pools',
    check(ctx) {
      const denom = k.params(ctx).bondDenom;
      let bonded = 0n;
      let notBonded = 0n;
      for (const v of validators(ctx)) {
        if (v.status === BondStatus.BOND_STATUS_BONDED) bonded += tokensOf(v);
        else notBonded += tokensOf(v);
      }
      for (const [, raw] of iteratePrefix(k.store(ctx), UBD_PREFIX)) for (const e of UnbondingDelegation.decode(raw).entries) notBonded += BigInt(e.balance);
      const problems: string[] = [];
      const hb = bank.balance(ctx, bank.moduleAccount(BONDED_POOL), denom);
      const hn = bank.balance(ctx, bank.moduleAccount(NOT_BONDED_POOL), denom);
      if (hb !== bonded) problems.push(`bonded pool holds ${hb}${denom}, bonded validators' tokens sum to ${bonded}`);
      if (hn !== notBonded) problems.push(`not-bonded pool holds ${hn}${denom}, other validators' tokens + unbonding entries sum to ${notBonded}`);
      return report(problems);
    },
  };
  const shares: Invariant = {
    name: 'shares',
    check(ctx) {
      const problems: string[] = [];
      const sums = new Map<string, bigint>();
      for (const [, raw] of iteratePrefix(k.store(ctx), DELEGATION_PREFIX)) {
        const d = Delegation.decode(raw);
        const s = parseDecWire(d.shares);
        if (s <= 0n) problems.push(`delegation ${d.delegatorAddress} -> ${d.validatorAddress} has ${s} shares`);
        sums.set(d.validatorAddress, (sums.get(d.validatorAddress) ?? 0n) + s);
      }
      for (const v of validators(ctx)) {
        const total = sharesOf(v);
        if (tokensOf(v) < 0n || total < 0n) problems.push(`validator ${v.operatorAddress} has negative tokens or shares`);
        if (total === 0n && tokensOf(v) !== 0n) problems.push(`validator ${v.operatorAddress} has ${v.tokens} tokens and no shares`);
        const sum = sums.get(v.operatorAddress) ?? 0n;
        if (sum !== total) problems.push(`validator ${v.operatorAddress}: delegations hold ${sum} shares, delegator_shares is ${total}`);
        sums.delete(v.operatorAddress);
      }
      for (const addr of [...sums.keys()].sort()) problems.push(`delegations to unknown validator ${addr}`);
      for (const [, raw] of iteratePrefix(k.store(ctx), UBD_PREFIX)) {
        for (const e of UnbondingDelegation.decode(raw).entries) if (BigInt(e.balance) < 0n || BigInt(e.balance) > BigInt(e.initialBalance)) problems.push(`unbonding entry balance ${e.balance} outside [0, ${e.initialBalance}]`);
      }
      return report(problems);
    },
  };
  const indexes: Invariant = {
    name: 'indexes',
    check(ctx) {
      const kv = k.store(ctx);
      const problems: string[] = [];
      let wantIndex = 0;
      let wantLast = 0;
      for (const v of validators(ctx)) {
        const val = parseValoper(v.operatorAddress).bytes;
        if (!v.jailed && powerOf(v) >= 1n) {
          wantIndex++;
          if (!kv.has(powerIndexKey(powerOf(v), val))) problems.push(`validator ${v.operatorAddress} missing from the power index`);
        }
        if (v.status === BondStatus.BOND_STATUS_BONDED) {
          wantLast++;
          if (!kv.has(lastPowerKey(val))) problems.push(`bonded validator ${v.operatorAddress} is not in the last validator set`);
        }
      }
      let haveIndex = 0;
      for (const _ of iteratePrefix(kv, POWER_INDEX_PREFIX)) haveIndex++;
      let haveLast = 0;
      for (const _ of iteratePrefix(kv, LAST_POWER_PREFIX)) haveLast++;
      if (haveIndex !== wantIndex) problems.push(`power index has ${haveIndex} entries for ${wantIndex} eligible validators`);
      if (haveLast !== wantLast) problems.push(`last validator set has ${haveLast} entries for ${wantLast} bonded validators`);
      return report(problems);
    },
  };
  return [pools, shares, indexes];
}
