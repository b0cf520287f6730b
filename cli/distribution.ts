/**
 * `proofbook tx distribution withdraw-rewards|withdraw-all-rewards|set-withdraw-addr …` and
 * `proofbook query distribution rewards|commission|community-pool|params …` (the Cosmos SDK's command names).
 * Reward amounts are DecCoins: printed with the SDK's 18 decimal places ("4500.000000000000000000uproof"); only the
 * whole coins are paid on withdrawal (the fraction goes to the community pool).
 */
import { Command } from 'commander';
import type { EncodeObject } from '@cosmjs/proto-signing';
import { MsgSetWithdrawAddress, MsgWithdrawDelegatorReward, MsgWithdrawValidatorCommission } from 'cosmjs-types/cosmos/distribution/v1beta1/tx';
import * as Q from 'cosmjs-types/cosmos/distribution/v1beta1/query';
import type { DecCoin } from 'cosmjs-types/cosmos/base/v1beta1/coin';
import { Ctx, CliError, EXIT } from './common.js';
import { addressArg } from './query.js';
import { signAndSend, type TxFlags } from './tx.js';
import { connectComet } from '../src/client/tx.js';
import { formatDec, parseDecWire } from '../src/types/dec.js';
import { parseValoper, valoperFromBytes } from '../modules/staking/addresses.js';
import { addressBytes } from '../src/crypto/address.js';

interface FromFlags extends TxFlags {
  from: string;
}

function addFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--from <key>', 'name (or address) of the signing key in the keyring')
    .option('--fees <coins>', 'fee to pay, e.g. 2000uproof')
    .option('--gas <limit>', 'gas limit: a number or "auto" (simulate)')
    .option('--gas-prices <price>', 'price per gas unit, e.g. 0.001uproof (fee = ceil(gas * price))')
    .option('--gas-adjustment <factor>', 'multiplier for --gas auto', '1.5')
    .option('--memo <text>', 'transaction memo', '')
    .option('--chain-id <id>', "expected chain id (checked against the node's)");
}

function valoperArg(s: string): string {
  try {
    return parseValoper(s, 'validator address').valoper;
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.USAGE, 'a validator operator address looks like proofvaloper1…');
  }
}

async function abciQuery(ctx: Ctx, p: string, data: Uint8Array): Promise<Uint8Array> {
  const comet = await connectComet(ctx.node);
  try {
    const res = await comet.abciQuery({ path: p, data });
    if ((res.code ?? 0) !== 0) throw new CliError(`query ${p} failed (codespace ${res.codespace}, code ${res.code}): ${res.log}`, EXIT.FAILED);
    return res.value;
  } finally {
    comet.disconnect();
  }
}

/** DecCoins (wire: atto integers) in the SDK's JSON / text form. */
export const decCoinsJson = (l: readonly DecCoin[]) => l.map((c) => ({ denom: c.denom, amount: formatDec(parseDecWire(c.amount)) }));
export const decCoinsText = (l: readonly DecCoin[]) => l.map((c) => formatDec(parseDecWire(c.amount)) + c.denom).join(',') || '0';

export function distributionTxCommand(): Command {
  const d = new Command('distribution').description('distribution module transactions: fee rewards and commission');
  addFlags(
    d.command('withdraw-rewards')
      .argument('<validator>', 'validator operator address (proofvaloper1…)')
      .option('--commission', "also withdraw the validator's commission (the signer must be its operator)")
      .description('withdraw the rewards of a delegation (and, with --commission, the accumulated commission)'),
  )
    .addHelpText('after', '\nExamples:\n  $ proofbook tx distribution withdraw-rewards proofvaloper1… --from alice --fees 2000uproof\n  $ proofbook tx distribution withdraw-rewards proofvaloper1… --commission --from validator0 --fees 2000uproof')
    .action(async (val: string, f: FromFlags & { commission?: boolean }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const valoper = valoperArg(val);
      await signAndSend(ctx, f.from, (from) => {
        const msgs: EncodeObject[] = [{ typeUrl: '/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward', value: MsgWithdrawDelegatorReward.fromPartial({ delegatorAddress: from, validatorAddress: valoper }) }];
        if (f.commission) {
          if (valoperFromBytes(addressBytes(from as never)) !== valoper) throw new CliError(`--commission: ${from} is not the operator of ${valoper}`, EXIT.USAGE);
          msgs.push({ typeUrl: '/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission', value: MsgWithdrawValidatorCommission.fromPartial({ validatorAddress: valoper }) });
        }
        return msgs;
      }, f);
    });
  addFlags(d.command('withdraw-all-rewards').description('withdraw the rewards of every delegation of the signer, in one tx'))
    .addHelpText('after', '\nExample:\n  $ proofbook tx distribution withdraw-all-rewards --from alice --fees 4000uproof')
    .action(async (f: FromFlags, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const delegator = await addressArg(ctx, f.from);
      const vals = Q.QueryDelegatorValidatorsResponse.decode(await abciQuery(ctx, '/cosmos.distribution.v1beta1.Query/DelegatorValidators', Q.QueryDelegatorValidatorsRequest.encode({ delegatorAddress: delegator }).finish())).validators;
      if (vals.length === 0) throw new CliError(`${delegator} has no delegations`, EXIT.FAILED);
      await signAndSend(ctx, f.from, (from) => vals.map((v) => ({ typeUrl: '/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward', value: MsgWithdrawDelegatorReward.fromPartial({ delegatorAddress: from, validatorAddress: v }) })), f);
    });
  addFlags(
    d.command('set-withdraw-addr')
      .argument('<address>', 'where rewards and commission are paid from now on (proof1… or a key name)')
      .description('set the address rewards are withdrawn to'),
  )
    .addHelpText('after', '\nExample:\n  $ proofbook tx distribution set-withdraw-addr proof1… --from alice --fees 2000uproof')
    .action(async (to: string, f: FromFlags, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const withdrawAddress = await addressArg(ctx, to);
      await signAndSend(ctx, f.from, (from) => [{ typeUrl: '/cosmos.distribution.v1beta1.MsgSetWithdrawAddress', value: MsgSetWithdrawAddress.fromPartial({ delegatorAddress: from, withdrawAddress }) }], f);
    });
  return d;
}

export function distributionQueryCommand(): Command {
  const d = new Command('distribution').description('distribution module queries (rewards, commission, community pool)');
  d.command('rewards')
    .argument('<delegator>', 'delegator address (proof1…) or a key name')
    .argument('[validator]', 'only the rewards from this validator (proofvaloper1…)')
    .description("a delegator's pending rewards: per validator and total, or from one validator")
    .addHelpText('after', '\nExamples:\n  $ proofbook query distribution rewards proof1…\n  $ proofbook query distribution rewards alice proofvaloper1… --output json')
    .action(async (del: string, val: string | undefined, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const delegatorAddress = await addressArg(ctx, del);
      if (val !== undefined) {
        const validatorAddress = valoperArg(val);
        const r = Q.QueryDelegationRewardsResponse.decode(await abciQuery(ctx, '/cosmos.distribution.v1beta1.Query/DelegationRewards', Q.QueryDelegationRewardsRequest.encode({ delegatorAddress, validatorAddress }).finish()));
        ctx.print({ rewards: decCoinsJson(r.rewards) }, () => `rewards: ${decCoinsText(r.rewards)}`);
        return;
      }
      const r = Q.QueryDelegationTotalRewardsResponse.decode(await abciQuery(ctx, '/cosmos.distribution.v1beta1.Query/DelegationTotalRewards', Q.QueryDelegationTotalRewardsRequest.encode({ delegatorAddress }).finish()));
      ctx.print(
        { rewards: r.rewards.map((x) => ({ validator_address: x.validatorAddress, reward: decCoinsJson(x.reward) })), total: decCoinsJson(r.total) },
        () => [...r.rewards.map((x) => `${x.validatorAddress}: ${decCoinsText(x.reward)}`), `total: ${decCoinsText(r.total)}`].join('\n'),
      );
    });
  d.command('commission')
    .argument('<validator>', 'validator operator address (proofvaloper1…)')
    .description("a validator's accumulated, unwithdrawn commission")
    .action(async (val: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const r = Q.QueryValidatorCommissionResponse.decode(await abciQuery(ctx, '/cosmos.distribution.v1beta1.Query/ValidatorCommission', Q.QueryValidatorCommissionRequest.encode({ validatorAddress: valoperArg(val) }).finish()));
      const c = r.commission?.commission ?? [];
      ctx.print({ commission: decCoinsJson(c) }, () => `commission: ${decCoinsText(c)}`);
    });
  d.command('outstanding-rewards')
    .argument('<validator>', 'validator operator address (proofvaloper1…)')
    .description("everything allocated to a validator and not yet paid (its delegators' rewards and its commission)")
    .action(async (val: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const r = Q.QueryValidatorOutstandingRewardsResponse.decode(await abciQuery(ctx, '/cosmos.distribution.v1beta1.Query/ValidatorOutstandingRewards', Q.QueryValidatorOutstandingRewardsRequest.encode({ validatorAddress: valoperArg(val) }).finish()));
      const c = r.rewards?.rewards ?? [];
      ctx.print({ rewards: decCoinsJson(c) }, () => `rewards: ${decCoinsText(c)}`);
    });
  d.command('community-pool')
    .description('the community pool (rounding remainders and unattributed shares)')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const r = Q.QueryCommunityPoolResponse.decode(await abciQuery(ctx, '/cosmos.distribution.v1beta1.Query/CommunityPool', Q.QueryCommunityPoolRequest.encode({}).finish()));
      ctx.print({ pool: decCoinsJson(r.pool) }, () => `pool: ${decCoinsText(r.pool)}`);
    });
  d.command('params')
    .description('distribution parameters')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const p = Q.QueryParamsResponse.decode(await abciQuery(ctx, '/cosmos.distribution.v1beta1.Query/Params', Q.QueryParamsRequest.encode({}).finish())).params!;
      const j = { community_tax: formatDec(parseDecWire(p.communityTax)), withdraw_addr_enabled: p.withdrawAddrEnabled };
      ctx.print(j, () => `community_tax: ${j.community_tax}\nwithdraw_addr_enabled: ${j.withdraw_addr_enabled}`);
    });
  return d;
}
