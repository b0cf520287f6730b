/**
 * `proofbook tx bond bond|unbond|unjail …` and `proofbook query bond prover|provers|params`.
 * The lead mounts them: txCommand().addCommand(bondTxCommand()), queryCommand().addCommand(bondQueryCommand()).
 */
import { Command } from 'commander';
import type { StdFee, SigningStargateClient, GasPrice } from '@cosmjs/stargate';
import type { AccountData, EncodeObject } from '@cosmjs/proto-signing';
import type { Comet38Client } from '@cosmjs/tendermint-rpc';
import { Ctx, CliError, EXIT } from './common.js';
import { addressArg } from './query.js';
import { DEFAULT_GAS, DEFAULT_GAS_ADJUSTMENT, checkFeeFlags, resolveFee, txResultData, type TxFlags } from './tx.js';
import { connectComet, simulateGas } from '../src/client/tx.js';
import { proofbookRegistry, TYPE_URLS } from '../src/client/registry.js';
import { CoinsError, coinsToProto, parseCoins } from '../src/types/coins.js';
import {
  MsgBond,
  MsgUnbond,
  MsgUnbondResponse,
  MsgUnjail,
  QueryParamsRequest,
  QueryParamsResponse,
  QueryProverRequest,
  QueryProverResponse,
  QueryProversRequest,
  QueryProversResponse,
  type Prover,
} from '../src/gen/proofbook/bond/v1/bond.js';
import { bondParamsToJson, proverToJson, unbondingToJson } from '../modules/bond/genesis.js';

interface BondTxFlags extends TxFlags {
  from: string;
}

function amountArg(s: string): { denom: string; amount: string }[] {
  let coins;
  try {
    coins = parseCoins(s);
  } catch (e) {
    throw new CliError(`bad amount '${s}': ${(e as CoinsError).message}`, EXIT.USAGE, 'e.g. 1000000uproof');
  }
  if (coins.length === 0) throw new CliError(`amount '${s}' is zero`, EXIT.USAGE, 'e.g. 1000000uproof');
  return coinsToProto(coins);
}

/** Signs one proofbook message with key `f.from` (proofbook registry), broadcasts, waits, prints; exit 1 on failure. */
async function sendBondMsg(cmd: Command, f: BondTxFlags, build: (address: string) => EncodeObject, extra?: (r: { msgResponses: readonly { typeUrl: string; value: Uint8Array }[] }) => Record<string, string>): Promise<void> {
  const ctx = Ctx.of(cmd);
  checkFeeFlags(f);
  const kr = ctx.keyring();
  const key = await kr.resolve(f.from);
  const { wallet } = await kr.signer(key.name);
  const comet = await connectComet(ctx.node);
  const { SigningStargateClient } = await import('@cosmjs/stargate');
  const client = SigningStargateClient.createWithSigner(comet, wallet, { registry: proofbookRegistry(), broadcastPollIntervalMs: 300, broadcastTimeoutMs: 60_000 });
  try {
    const chainId = await client.getChainId();
    if (f.chainId !== undefined && f.chainId !== chainId) throw new CliError(`--chain-id ${f.chainId} does not match the node's chain id ${chainId}`, EXIT.USAGE, `check --node (${ctx.node})`);
    const msgs = [build(key.address)];
    const [account] = await wallet.getAccounts();
    const fee = await resolveFee(client, comet, account, msgs, f);
    const r = await client.signAndBroadcast(key.address, msgs, fee, f.memo ?? '');
    const more = r.code === 0 && extra ? extra(r) : {};
    const data = { ...txResultData(r), ...more };
    ctx.print(data, () =>
      [`txhash: ${data.txhash}`, `height: ${data.height}`, `code: ${data.code}`, `gas_used: ${data.gasUsed}`, `gas_wanted: ${data.gasWanted}`,
        ...Object.entries(more).map(([k, v]) => `${k}: ${v}`), ...(data.log ? [`log: ${data.log}`] : [])].join('\n'),
    );
    if (r.code !== 0) throw new CliError(`transaction ${r.transactionHash} failed in block ${r.height} with code ${r.code}: ${r.rawLog ?? ''}`, EXIT.FAILED);
  } finally {
    client.disconnect();
  }
}

function addFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--from <key>', 'name (or address) of the prover key in the keyring')
    .option('--fees <coins>', 'fee to pay, e.g. 2000uproof')
    .option('--gas <limit>', `gas limit: a number or "auto" (simulate) (default ${DEFAULT_GAS})`)
    .option('--gas-prices <price>', 'price per gas unit, e.g. 0.001uproof (fee = ceil(gas * price))')
    .option('--gas-adjustment <factor>', 'multiplier for --gas auto', String(DEFAULT_GAS_ADJUSTMENT))
    .option('--memo <text>', 'transaction memo', '')
    .option('--chain-id <id>', "expected chain id (checked against the node's)");
}

export function bondTxCommand(): Command {
  const b = new Command('bond').description('bond module transactions: prover collateral');
  addFlags(
    b.command('bond')
      .argument('<amount>', 'collateral to bond, e.g. 1000000uproof (denoms: params.collateral_denoms)')
      .description('bond collateral as a prover (moves coins into the bond module account)'),
  )
    .addHelpText('after', '\nExample:\n  $ proofbook tx bond bond 1000000uproof --from prover0 --fees 2000uproof')
    .action(async (amount: string, f: BondTxFlags, cmd: Command) => {
      const coins = amountArg(amount);
      await sendBondMsg(cmd, f, (prover) => ({ typeUrl: TYPE_URLS.bond, value: MsgBond.fromPartial({ prover, amount: coins }) }));
    });
  addFlags(
    b.command('unbond')
      .argument('<amount>', 'free collateral (bonded − locked) to unbond, e.g. 500000uproof')
      .description('start unbonding: the coins return to the prover after params.unbonding_blocks blocks'),
  )
    .addHelpText('after', '\nPrints the unbonding id and the completion height.\n\nExample:\n  $ proofbook tx bond unbond 500000uproof --from prover0 --fees 2000uproof')
    .action(async (amount: string, f: BondTxFlags, cmd: Command) => {
      const coins = amountArg(amount);
      await sendBondMsg(
        cmd,
        f,
        (prover) => ({ typeUrl: TYPE_URLS.unbond, value: MsgUnbond.fromPartial({ prover, amount: coins }) }),
        (r): Record<string, string> => {
          const resp = r.msgResponses[0];
          if (!resp) return {};
          const d = MsgUnbondResponse.decode(resp.value);
          return { unbonding_id: d.unbondingId.toString(), completion_height: d.completionHeight.toString() };
        },
      );
    });
  addFlags(b.command('unjail').description('leave jail (accepted from the prover\'s jailed_until height on)'))
    .addHelpText('after', '\nExample:\n  $ proofbook tx bond unjail --from prover0 --fees 2000uproof')
    .action(async (f: BondTxFlags, cmd: Command) => {
      await sendBondMsg(cmd, f, (prover) => ({ typeUrl: TYPE_URLS.unjail, value: MsgUnjail.fromPartial({ prover }) }));
    });
  return b;
}

// ---- queries --------------------------------------------------------------------------------------------------------

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

const fmt = (l: readonly { denom: string; amount: string }[]) => l.map((c) => c.amount + c.denom).join(',') || '0';

export function proverText(p: Prover): string {
  return [
    `address: ${p.address}`, `bonded: ${fmt(p.bonded)}`, `locked: ${fmt(p.locked)}`,
    `jailed: ${p.jailed}${p.jailed ? ` (until height ${p.jailedUntil})` : ''}`, `recent_misses: ${p.recentMisses}`, `slashed: ${fmt(p.slashed)}`,
  ].join('\n');
}

export function bondQueryCommand(): Command {
  const b = new Command('bond').description('bond module queries (prover collateral)');
  b.command('prover')
    .argument('<address>', 'prover address (proof1…) or a key name')
    .description('a prover\'s collateral record and its pending unbondings')
    .addHelpText('after', '\nExample:\n  $ proofbook query bond prover proof1… --output json')
    .action(async (a: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const address = await addressArg(ctx, a);
      const r = QueryProverResponse.decode(await abciQuery(ctx, '/proofbook.bond.v1.Query/Prover', QueryProverRequest.encode({ address }).finish()));
      ctx.print({ prover: proverToJson(r.prover!), unbonding: r.unbonding.map(unbondingToJson) }, () =>
        [proverText(r.prover!), ...r.unbonding.map((e) => `unbonding #${e.id}: ${fmt(e.amount)} at height ${e.completionHeight}`)].join('\n'),
      );
    });
  b.command('provers')
    .description('every prover in address order (paginated)')
    .option('--limit <n>', 'page size (default 100)')
    .option('--offset <n>', 'skip this many provers')
    .option('--page-key <hex>', 'next_key of the previous page')
    .addHelpText('after', '\nExample:\n  $ proofbook query bond provers --limit 10 --output json')
    .action(async (o: { limit?: string; offset?: string; pageKey?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const num = (s: string | undefined, what: string) => {
        if (s === undefined) return 0n;
        if (!/^[0-9]{1,9}$/.test(s)) throw new CliError(`--${what} must be a non-negative integer, got '${s}'`, EXIT.USAGE);
        return BigInt(s);
      };
      if (o.pageKey !== undefined && !/^([0-9a-fA-F]{2})+$/.test(o.pageKey)) throw new CliError(`--page-key must be hex, got '${o.pageKey}'`, EXIT.USAGE);
      if (o.pageKey !== undefined && o.offset !== undefined) throw new CliError('give either --page-key or --offset, not both', EXIT.USAGE);
      const req = QueryProversRequest.encode({
        pagination: { key: Buffer.from(o.pageKey ?? '', 'hex'), offset: num(o.offset, 'offset'), limit: num(o.limit, 'limit'), countTotal: true, reverse: false },
      }).finish();
      const r = QueryProversResponse.decode(await abciQuery(ctx, '/proofbook.bond.v1.Query/Provers', req));
      const nextKey = Buffer.from(r.pagination?.nextKey ?? []).toString('hex');
      ctx.print({ provers: r.provers.map(proverToJson), pagination: { next_key: nextKey, total: (r.pagination?.total ?? 0n).toString() } }, () =>
        [...r.provers.map((p) => `${p.address}  bonded=${fmt(p.bonded)} locked=${fmt(p.locked)}${p.jailed ? ` JAILED until ${p.jailedUntil}` : ''}`),
          ...(nextKey ? [`next page: --page-key ${nextKey}`] : [])].join('\n') || 'no provers',
      );
    });
  b.command('params')
    .description('bond parameters (collateral denoms, unbonding period, jail rules)')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const p = QueryParamsResponse.decode(await abciQuery(ctx, '/proofbook.bond.v1.Query/Params', QueryParamsRequest.encode({}).finish())).params!;
      const j = bondParamsToJson(p);
      ctx.print(j, () =>
        [`collateral_denoms: ${j.collateral_denoms.join(',')}`, `unbonding_blocks: ${j.unbonding_blocks}`, `max_misses: ${j.max_misses}`, `jail_blocks: ${j.jail_blocks}`].join('\n'),
      );
    });
  return b;
}
