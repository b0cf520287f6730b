/**
 * `proofbook tx staking create-validator|delegate|unbond|redelegate|edit-validator`, `proofbook tx slashing unjail`,
 * `proofbook query staking validators|validator|delegation|delegations|unbonding-delegations|params|pool` and
 * `proofbook query slashing signing-info|signing-infos|params`. The messages and queries are the Cosmos SDK's
 * (`cosmos.staking.v1beta1`, `cosmos.slashing.v1beta1`); cli/main.ts mounts these groups lazily.
 * Decimals (commission rates, shares, fractions) are read and printed in the human form ("0.1"), as the SDK's CLI.
 */
import { Command } from 'commander';
import type { EncodeObject } from '@cosmjs/proto-signing';
import { toBech32 } from '@cosmjs/encoding';
import { MsgBeginRedelegate, MsgCreateValidator, MsgDelegate, MsgEditValidator, MsgUndelegate, MsgUndelegateResponse, MsgBeginRedelegateResponse } from 'cosmjs-types/cosmos/staking/v1beta1/tx';
import * as SQ from 'cosmjs-types/cosmos/staking/v1beta1/query';
import { BondStatus, Validator, type DelegationResponse, type UnbondingDelegation } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import * as LQ from 'cosmjs-types/cosmos/slashing/v1beta1/query';
import type { ValidatorSigningInfo } from 'cosmjs-types/cosmos/slashing/v1beta1/slashing';
import { MsgUnjail } from 'cosmjs-types/cosmos/slashing/v1beta1/tx';
import { Ctx, CliError, EXIT } from './common.js';
import { addressArg } from './query.js';
import { resolveFee, txResultData, type TxFlags } from './tx.js';
import { connectComet } from '../src/client/tx.js';
import { proofbookRegistry } from '../src/client/registry.js';
import { ConsensusKeyError, readConsensusKey } from '../src/client/consensus-key.js';
import { ed25519Any, consAddress, parseValoper, valconsFromBytes, VALOPER_PREFIX, VALCONS_PREFIX, ed25519FromAny } from '../modules/staking/addresses.js';
import { addressBytes, type Address } from '../src/crypto/address.js';
import { CoinsError, parseCoins } from '../src/types/coins.js';
import { DEC_ONE, formatDec, parseDecHuman, parseDecWire } from '../src/types/dec.js';

/** Staking txs touch several records (validator, delegation, pools, power index): a higher default gas limit. */
export const STAKING_DEFAULT_GAS = 400_000;
const KEEP = '[do-not-modify]';

interface SendFlags extends TxFlags {
  from: string;
}

function addFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--from <key>', 'name (or address) of the signing key in the keyring')
    .option('--fees <coins>', 'fee to pay, e.g. 5000uproof')
    .option('--gas <limit>', `gas limit: a number or "auto" (simulate) (default ${STAKING_DEFAULT_GAS})`)
    .option('--gas-prices <price>', 'price per gas unit, e.g. 0.001uproof (fee = ceil(gas * price))')
    .option('--gas-adjustment <factor>', 'multiplier for --gas auto', '1.4')
    .option('--memo <text>', 'transaction memo', '')
    .option('--chain-id <id>', "expected chain id (checked against the node's)");
}

/** Signs `build(address)` with key `f.from`, broadcasts, waits, prints; exit 1 on a failed tx. */
async function send(cmd: Command, f: SendFlags, build: (address: string) => EncodeObject, extra?: (msgResponse: Uint8Array) => Record<string, string>): Promise<void> {
  const ctx = Ctx.of(cmd);
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
    const fee = await resolveFee(client, comet, account!, msgs, f, STAKING_DEFAULT_GAS);
    const r = await client.signAndBroadcast(key.address, msgs, fee, f.memo ?? '');
    const resp = r.msgResponses[0];
    const more = r.code === 0 && extra && resp ? extra(resp.value) : {};
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

// ---- argument parsing (usage errors exit 2) ---------------------------------------------------------------------

function oneCoin(s: string, what = 'amount'): { denom: string; amount: string } {
  let coins;
  try {
    coins = parseCoins(s);
  } catch (e) {
    throw new CliError(`bad ${what} '${s}': ${(e as CoinsError).message}`, EXIT.USAGE, 'e.g. 1000000uproof');
  }
  if (coins.length !== 1) throw new CliError(`${what} '${s}' must be one positive coin`, EXIT.USAGE, 'e.g. 1000000uproof');
  return { denom: coins[0]!.denom, amount: coins[0]!.amount.toString() };
}

function rate(s: string, flag: string): bigint {
  let v: bigint;
  try {
    v = parseDecHuman(s, flag);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.USAGE, `e.g. ${flag} 0.05`);
  }
  if (v > DEC_ONE) throw new CliError(`${flag} ${s} is above 1`, EXIT.USAGE);
  return v;
}

function positiveInt(s: string, flag: string): string {
  if (!/^[1-9][0-9]{0,30}$/.test(s)) throw new CliError(`${flag} must be a positive integer (uproof), got '${s}'`, EXIT.USAGE);
  return s;
}

/** A validator given as proofvaloper1… or as a local key name (its operator address). */
async function valoperArg(ctx: Ctx, s: string, what = 'validator'): Promise<string> {
  if (s.startsWith(VALOPER_PREFIX)) {
    try {
      return parseValoper(s, what).valoper;
    } catch (e) {
      throw new CliError((e as Error).message, EXIT.USAGE);
    }
  }
  const kr = ctx.keyring();
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s) && (await kr.has(s))) return toBech32(VALOPER_PREFIX, addressBytes((await kr.get(s)).address as Address));
  throw new CliError(`${what} '${s}' is neither a ${VALOPER_PREFIX}1… address nor a key in ${kr.dir}`, EXIT.USAGE, 'list validators with `proofbook query staking validators`');
}

const valoperOfAddress = (address: string) => toBech32(VALOPER_PREFIX, addressBytes(address as Address));

// ---- tx ---------------------------------------------------------------------------------------------------------

export function stakingTxCommand(): Command {
  const s = new Command('staking').description('staking transactions: become a validator, delegate, unbond, redelegate');
  addFlags(
    s.command('create-validator')
      .description('create a validator operated by --from, with its CometBFT consensus key and a self-delegation')
      .requiredOption('--amount <coin>', 'self-delegation, e.g. 10000000uproof (1 PROOF = 10^6 uproof = voting power 1)')
      .requiredOption('--pubkey <file|json>', 'consensus key: path to CometBFT\'s config/priv_validator_key.json, or the JSON `cometbft show-validator` prints')
      .requiredOption('--moniker <name>', 'public name of the validator')
      .option('--commission-rate <dec>', 'commission rate', '0.1')
      .option('--commission-max-rate <dec>', 'highest commission rate ever allowed (fixed)', '0.2')
      .option('--commission-max-change-rate <dec>', 'largest change of the rate per day (fixed)', '0.01')
      .option('--min-self-delegation <uproof>', 'the validator is jailed when its self-delegation falls below this', '1')
      .option('--identity <s>', 'optional identity signature (e.g. Keybase)', '')
      .option('--website <url>', 'optional website', '')
      .option('--security-contact <email>', 'optional security contact', '')
      .option('--details <s>', 'optional details', ''),
  )
    .addHelpText('after', `
The key --from signs and pays the self-delegation; its operator address is the same bytes as proofvaloper1….
The validator joins CometBFT's set at the end of the block when its power ranks within params.max_validators.

Example:
  $ proofbook tx staking create-validator --from op --amount 10000000uproof --moniker op \\
      --pubkey ~/.cometbft/config/priv_validator_key.json --fees 5000uproof
  $ proofbook tx staking create-validator --from op --amount 10000000uproof --moniker op \\
      --pubkey "$(cometbft show-validator)" --fees 5000uproof`)
    .action(async (o: SendFlags & { amount: string; pubkey: string; moniker: string; commissionRate: string; commissionMaxRate: string; commissionMaxChangeRate: string; minSelfDelegation: string; identity: string; website: string; securityContact: string; details: string }, cmd: Command) => {
      const value = oneCoin(o.amount, '--amount');
      let key: Uint8Array;
      try {
        key = readConsensusKey(o.pubkey);
      } catch (e) {
        throw new CliError((e as ConsensusKeyError).message, EXIT.USAGE, 'give the path of priv_validator_key.json or the output of `cometbft show-validator`');
      }
      const r = rate(o.commissionRate, '--commission-rate');
      const max = rate(o.commissionMaxRate, '--commission-max-rate');
      const change = rate(o.commissionMaxChangeRate, '--commission-max-change-rate');
      if (r > max) throw new CliError(`--commission-rate ${o.commissionRate} exceeds --commission-max-rate ${o.commissionMaxRate}`, EXIT.USAGE);
      if (change > max) throw new CliError(`--commission-max-change-rate ${o.commissionMaxChangeRate} exceeds --commission-max-rate ${o.commissionMaxRate}`, EXIT.USAGE);
      const minSelf = positiveInt(o.minSelfDelegation, '--min-self-delegation');
      if (BigInt(value.amount) < BigInt(minSelf)) throw new CliError(`--amount ${o.amount} is below --min-self-delegation ${minSelf}`, EXIT.USAGE);
      if (o.moniker.trim() === '') throw new CliError('--moniker cannot be blank', EXIT.USAGE);
      let operator = '';
      await send(cmd, o, (address) => ({
        typeUrl: '/cosmos.staking.v1beta1.MsgCreateValidator',
        value: MsgCreateValidator.fromPartial({
          description: { moniker: o.moniker, identity: o.identity, website: o.website, securityContact: o.securityContact, details: o.details },
          commission: { rate: r.toString(), maxRate: max.toString(), maxChangeRate: change.toString() },
          minSelfDelegation: minSelf,
          delegatorAddress: '',
          validatorAddress: (operator = valoperOfAddress(address)),
          pubkey: ed25519Any(key),
          value,
        }),
      }), () => ({ validator: operator, consensus_address: valconsFromBytes(consAddress(key)) }));
    });

  addFlags(
    s.command('delegate')
      .argument('<validator>', 'proofvaloper1… (or the key name of its operator)')
      .argument('<amount>', 'tokens to delegate, e.g. 1000000uproof')
      .description('delegate tokens to a validator'),
  )
    .addHelpText('after', '\nExample:\n  $ proofbook tx staking delegate proofvaloper1… 1000000uproof --from alice --fees 5000uproof')
    .action(async (val: string, amount: string, f: SendFlags, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const validatorAddress = await valoperArg(ctx, val);
      const coin = oneCoin(amount);
      await send(cmd, f, (delegatorAddress) => ({ typeUrl: '/cosmos.staking.v1beta1.MsgDelegate', value: MsgDelegate.fromPartial({ delegatorAddress, validatorAddress, amount: coin }) }));
    });

  addFlags(
    s.command('unbond')
      .argument('<validator>', 'proofvaloper1… (or the key name of its operator)')
      .argument('<amount>', 'tokens to undelegate, e.g. 1000000uproof')
      .description('undelegate: the tokens return after params.unbonding_time (and stay slashable until then)'),
  )
    .addHelpText('after', '\nPrints the completion time (unix seconds).\n\nExample:\n  $ proofbook tx staking unbond proofvaloper1… 1000000uproof --from alice --fees 5000uproof')
    .action(async (val: string, amount: string, f: SendFlags, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const validatorAddress = await valoperArg(ctx, val);
      const coin = oneCoin(amount);
      await send(cmd, f, (delegatorAddress) => ({ typeUrl: '/cosmos.staking.v1beta1.MsgUndelegate', value: MsgUndelegate.fromPartial({ delegatorAddress, validatorAddress, amount: coin }) }),
        (b) => {
          const d = MsgUndelegateResponse.decode(b);
          return { completion_time: (d.completionTime?.seconds ?? 0n).toString(), amount: d.amount ? `${d.amount.amount}${d.amount.denom}` : '' };
        });
    });

  addFlags(
    s.command('redelegate')
      .argument('<src-validator>', 'proofvaloper1… to move the delegation from')
      .argument('<dst-validator>', 'proofvaloper1… to move it to')
      .argument('<amount>', 'tokens to move, e.g. 1000000uproof')
      .description('move a delegation to another validator at once (the source stays slashable for it until params.unbonding_time)'),
  )
    .addHelpText('after', '\nExample:\n  $ proofbook tx staking redelegate proofvaloper1a… proofvaloper1b… 1000000uproof --from alice --fees 5000uproof')
    .action(async (src: string, dst: string, amount: string, f: SendFlags, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const validatorSrcAddress = await valoperArg(ctx, src, 'source validator');
      const validatorDstAddress = await valoperArg(ctx, dst, 'destination validator');
      const coin = oneCoin(amount);
      await send(cmd, f, (delegatorAddress) => ({ typeUrl: '/cosmos.staking.v1beta1.MsgBeginRedelegate', value: MsgBeginRedelegate.fromPartial({ delegatorAddress, validatorSrcAddress, validatorDstAddress, amount: coin }) }),
        (b) => ({ completion_time: (MsgBeginRedelegateResponse.decode(b).completionTime?.seconds ?? 0n).toString() }));
    });

  addFlags(
    s.command('edit-validator')
      .description('change the description, commission rate (once a day, within max change) or raise min self-delegation of --from\'s validator')
      .option('--moniker <name>', 'new moniker')
      .option('--identity <s>', 'new identity')
      .option('--website <url>', 'new website')
      .option('--security-contact <email>', 'new security contact')
      .option('--details <s>', 'new details')
      .option('--commission-rate <dec>', 'new commission rate')
      .option('--min-self-delegation <uproof>', 'new (higher) minimum self-delegation'),
  )
    .addHelpText('after', '\nExample:\n  $ proofbook tx staking edit-validator --from op --moniker "op (EU)" --commission-rate 0.05 --fees 5000uproof')
    .action(async (o: SendFlags & { moniker?: string; identity?: string; website?: string; securityContact?: string; details?: string; commissionRate?: string; minSelfDelegation?: string }, cmd: Command) => {
      const commissionRate = o.commissionRate === undefined ? '' : rate(o.commissionRate, '--commission-rate').toString();
      const minSelfDelegation = o.minSelfDelegation === undefined ? '' : positiveInt(o.minSelfDelegation, '--min-self-delegation');
      if ([o.moniker, o.identity, o.website, o.securityContact, o.details, o.commissionRate, o.minSelfDelegation].every((x) => x === undefined)) {
        throw new CliError('nothing to change', EXIT.USAGE, 'give at least one of --moniker, --identity, --website, --security-contact, --details, --commission-rate, --min-self-delegation');
      }
      if (o.moniker !== undefined && o.moniker.trim() === '') throw new CliError('--moniker cannot be blank', EXIT.USAGE);
      await send(cmd, o, (address) => ({
        typeUrl: '/cosmos.staking.v1beta1.MsgEditValidator',
        value: MsgEditValidator.fromPartial({
          validatorAddress: valoperOfAddress(address),
          description: { moniker: o.moniker ?? KEEP, identity: o.identity ?? KEEP, website: o.website ?? KEEP, securityContact: o.securityContact ?? KEEP, details: o.details ?? KEEP },
          commissionRate,
          minSelfDelegation,
        }),
      }));
    });
  return s;
}

export function slashingTxCommand(): Command {
  const s = new Command('slashing').description('slashing transactions');
  addFlags(s.command('unjail').description('bring --from\'s validator back after a downtime jail (from its jailed_until time on; never after double signing)'))
    .addHelpText('after', '\nExample:\n  $ proofbook tx slashing unjail --from op --fees 5000uproof')
    .action(async (f: SendFlags, cmd: Command) => {
      await send(cmd, f, (address) => ({ typeUrl: '/cosmos.slashing.v1beta1.MsgUnjail', value: MsgUnjail.fromPartial({ validatorAddr: valoperOfAddress(address) }) }));
    });
  return s;
}

// ---- queries ----------------------------------------------------------------------------------------------------

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

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
/** LegacyDec fields the wire carries as 10^-18 integers; printed in the human form. */
const DEC_FIELDS = new Set(['delegator_shares', 'shares', 'rate', 'max_rate', 'max_change_rate', 'min_commission_rate', 'shares_dst']);
/** Proto3 JSON (cosmjs-types' toJSON) with snake_case keys and decimals in the human form, as the SDK's CLI prints. */
function json(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(json);
  if (x !== null && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([k, v]) => {
      const key = k.startsWith('@') ? k : snake(k);
      if (DEC_FIELDS.has(key) && typeof v === 'string' && /^[0-9]+$/.test(v)) return [key, formatDec(parseDecWire(v))];
      return [key, json(v)];
    }));
  }
  return x;
}

const STATUS_NAMES: Record<number, string> = { [BondStatus.BOND_STATUS_BONDED]: 'BONDED', [BondStatus.BOND_STATUS_UNBONDING]: 'UNBONDING', [BondStatus.BOND_STATUS_UNBONDED]: 'UNBONDED' };

function validatorJson(v: Validator): unknown {
  const j = json(Validator.toJSON(v)) as Record<string, unknown>;
  let cons = '';
  try {
    cons = valconsFromBytes(consAddress(ed25519FromAny(v.consensusPubkey)));
  } catch { /* not ed25519: leave empty */ }
  // proto3 JSON leaves out defaults (jailed false, tokens "0", status 0): print them all.
  const status = ['BOND_STATUS_UNSPECIFIED', 'BOND_STATUS_UNBONDED', 'BOND_STATUS_UNBONDING', 'BOND_STATUS_BONDED'][v.status] ?? String(v.status);
  return { ...j, operator_address: v.operatorAddress, jailed: v.jailed, status, tokens: v.tokens || '0', consensus_address: cons };
}

function validatorText(v: Validator): string {
  let cons = '';
  try {
    cons = valconsFromBytes(consAddress(ed25519FromAny(v.consensusPubkey)));
  } catch { /* */ }
  const c = v.commission?.commissionRates;
  return [
    `operator: ${v.operatorAddress}`, `moniker: ${v.description?.moniker ?? ''}`, `consensus_address: ${cons}`,
    `status: ${STATUS_NAMES[v.status] ?? v.status}`, `jailed: ${v.jailed}`, `tokens: ${v.tokens}`,
    `delegator_shares: ${formatDec(parseDecWire(v.delegatorShares))}`,
    `commission: rate ${formatDec(parseDecWire(c?.rate ?? ''))}, max ${formatDec(parseDecWire(c?.maxRate ?? ''))}, max change ${formatDec(parseDecWire(c?.maxChangeRate ?? ''))}`,
    `min_self_delegation: ${v.minSelfDelegation}`,
    ...(v.status === BondStatus.BOND_STATUS_UNBONDING ? [`unbonding: height ${v.unbondingHeight}, done at time ${v.unbondingTime?.seconds ?? 0n}`] : []),
  ].join('\n');
}

function paginationFlags(cmd: Command): Command {
  return cmd.option('--limit <n>', 'page size (default 100)').option('--offset <n>', 'skip this many');
}
function pageReq(o: { limit?: string; offset?: string }) {
  const num = (s: string | undefined, what: string) => {
    if (s === undefined) return 0n;
    if (!/^[0-9]{1,9}$/.test(s)) throw new CliError(`--${what} must be a non-negative integer, got '${s}'`, EXIT.USAGE);
    return BigInt(s);
  };
  return { key: new Uint8Array(), offset: num(o.offset, 'offset'), limit: num(o.limit, 'limit'), countTotal: true, reverse: false };
}

const delegationLine = (d: DelegationResponse) =>
  `${d.delegation?.delegatorAddress} -> ${d.delegation?.validatorAddress}: ${d.balance?.amount}${d.balance?.denom} (shares ${formatDec(parseDecWire(d.delegation?.shares ?? ''))})`;
const ubdLines = (u: UnbondingDelegation) =>
  u.entries.map((e) => `${u.delegatorAddress} <- ${u.validatorAddress}: ${e.balance}uproof at time ${e.completionTime?.seconds ?? 0n} (created at height ${e.creationHeight}, initial ${e.initialBalance})`);

const STATUS_ARG: Record<string, string> = { bonded: 'BOND_STATUS_BONDED', unbonding: 'BOND_STATUS_UNBONDING', unbonded: 'BOND_STATUS_UNBONDED' };

export function stakingQueryCommand(): Command {
  const s = new Command('staking').description('staking queries (validators, delegations, unbondings, params, pool)');
  const P = '/cosmos.staking.v1beta1.Query/';
  paginationFlags(s.command('validators').description('every validator (operator address order), or those with --status'))
    .option('--status <s>', 'bonded | unbonding | unbonded')
    .addHelpText('after', '\nExample:\n  $ proofbook query staking validators --status bonded --output json')
    .action(async (o: { status?: string; limit?: string; offset?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      let status = '';
      if (o.status !== undefined) {
        status = STATUS_ARG[o.status.toLowerCase()] ?? '';
        if (!status) throw new CliError(`--status must be bonded, unbonding or unbonded, got '${o.status}'`, EXIT.USAGE);
      }
      const r = SQ.QueryValidatorsResponse.decode(await abciQuery(ctx, P + 'Validators', SQ.QueryValidatorsRequest.encode({ status, pagination: pageReq(o) }).finish()));
      ctx.print({ validators: r.validators.map(validatorJson), pagination: { total: (r.pagination?.total ?? 0n).toString() } }, () =>
        r.validators.map((v) => `${v.operatorAddress}  ${STATUS_NAMES[v.status] ?? v.status}${v.jailed ? ' JAILED' : ''}  tokens=${v.tokens}  ${v.description?.moniker ?? ''}`).join('\n') || 'no validators');
    });
  s.command('validator')
    .argument('<validator>', 'proofvaloper1… (or the key name of its operator)')
    .description('one validator')
    .action(async (val: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const validatorAddr = await valoperArg(ctx, val);
      const v = SQ.QueryValidatorResponse.decode(await abciQuery(ctx, P + 'Validator', SQ.QueryValidatorRequest.encode({ validatorAddr }).finish())).validator!;
      ctx.print(validatorJson(v), () => validatorText(v));
    });
  s.command('delegation')
    .argument('<delegator>', 'proof1… address or key name')
    .argument('<validator>', 'proofvaloper1… (or the key name of its operator)')
    .description('one delegation and its token balance')
    .action(async (del: string, val: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const delegatorAddr = await addressArg(ctx, del);
      const validatorAddr = await valoperArg(ctx, val);
      const d = SQ.QueryDelegationResponse.decode(await abciQuery(ctx, P + 'Delegation', SQ.QueryDelegationRequest.encode({ delegatorAddr, validatorAddr }).finish())).delegationResponse!;
      ctx.print(json(SQ.QueryDelegationResponse.toJSON({ delegationResponse: d })), () => delegationLine(d));
    });
  paginationFlags(s.command('delegations')
    .argument('<address>', 'a delegator (proof1… or key name), or a validator (proofvaloper1…) for the delegations to it')
    .description('the delegations of a delegator, or to a validator'))
    .action(async (a: string, o: { limit?: string; offset?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      let list: DelegationResponse[];
      let total: bigint;
      if (a.startsWith(VALOPER_PREFIX)) {
        const validatorAddr = await valoperArg(ctx, a);
        const r = SQ.QueryValidatorDelegationsResponse.decode(await abciQuery(ctx, P + 'ValidatorDelegations', SQ.QueryValidatorDelegationsRequest.encode({ validatorAddr, pagination: pageReq(o) }).finish()));
        list = r.delegationResponses; total = r.pagination?.total ?? 0n;
      } else {
        const delegatorAddr = await addressArg(ctx, a);
        const r = SQ.QueryDelegatorDelegationsResponse.decode(await abciQuery(ctx, P + 'DelegatorDelegations', SQ.QueryDelegatorDelegationsRequest.encode({ delegatorAddr, pagination: pageReq(o) }).finish()));
        list = r.delegationResponses; total = r.pagination?.total ?? 0n;
      }
      ctx.print({ delegation_responses: json(list.map((d) => SQ.QueryDelegationResponse.toJSON({ delegationResponse: d }).delegationResponse)), pagination: { total: total.toString() } }, () =>
        list.map(delegationLine).join('\n') || 'no delegations');
    });
  paginationFlags(s.command('unbonding-delegations')
    .argument('<address>', 'a delegator (proof1… or key name), or a validator (proofvaloper1…) for the unbondings from it')
    .description('pending unbonding entries (tokens, completion time)'))
    .action(async (a: string, o: { limit?: string; offset?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      let list: UnbondingDelegation[];
      let total: bigint;
      if (a.startsWith(VALOPER_PREFIX)) {
        const validatorAddr = await valoperArg(ctx, a);
        const r = SQ.QueryValidatorUnbondingDelegationsResponse.decode(await abciQuery(ctx, P + 'ValidatorUnbondingDelegations', SQ.QueryValidatorUnbondingDelegationsRequest.encode({ validatorAddr, pagination: pageReq(o) }).finish()));
        list = r.unbondingResponses; total = r.pagination?.total ?? 0n;
      } else {
        const delegatorAddr = await addressArg(ctx, a);
        const r = SQ.QueryDelegatorUnbondingDelegationsResponse.decode(await abciQuery(ctx, P + 'DelegatorUnbondingDelegations', SQ.QueryDelegatorUnbondingDelegationsRequest.encode({ delegatorAddr, pagination: pageReq(o) }).finish()));
        list = r.unbondingResponses; total = r.pagination?.total ?? 0n;
      }
      ctx.print({ unbonding_responses: json(SQ.QueryDelegatorUnbondingDelegationsResponse.toJSON({ unbondingResponses: list }).unbondingResponses), pagination: { total: total.toString() } }, () =>
        list.flatMap(ubdLines).join('\n') || 'no unbonding delegations');
    });
  s.command('params').description('staking parameters').action(async (_o: unknown, cmd: Command) => {
    const ctx = Ctx.of(cmd);
    const p = SQ.QueryParamsResponse.decode(await abciQuery(ctx, P + 'Params', SQ.QueryParamsRequest.encode({}).finish())).params!;
    const j = { ...(json(SQ.QueryParamsResponse.toJSON({ params: p }).params) as Record<string, unknown>), unbonding_time: `${p.unbondingTime?.seconds ?? 0n}s` };
    ctx.print(j, () => [`bond_denom: ${p.bondDenom}`, `max_validators: ${p.maxValidators}`, `unbonding_time: ${p.unbondingTime?.seconds ?? 0n}s`,
      `max_entries: ${p.maxEntries}`, `min_commission_rate: ${formatDec(parseDecWire(p.minCommissionRate))}`].join('\n'));
  });
  s.command('pool').description('tokens in the bonded and not-bonded pools').action(async (_o: unknown, cmd: Command) => {
    const ctx = Ctx.of(cmd);
    const p = SQ.QueryPoolResponse.decode(await abciQuery(ctx, P + 'Pool', SQ.QueryPoolRequest.encode({}).finish())).pool!;
    ctx.print({ bonded_tokens: p.bondedTokens, not_bonded_tokens: p.notBondedTokens }, () => `bonded_tokens: ${p.bondedTokens}\nnot_bonded_tokens: ${p.notBondedTokens}`);
  });
  return s;
}

function signingInfoJson(i: ValidatorSigningInfo): unknown {
  return { address: i.address, start_height: i.startHeight.toString(), index_offset: i.indexOffset.toString(), jailed_until: (i.jailedUntil?.seconds ?? 0n).toString(), tombstoned: i.tombstoned, missed_blocks_counter: i.missedBlocksCounter.toString() };
}
const signingInfoText = (i: ValidatorSigningInfo) =>
  `${i.address}  start_height=${i.startHeight} missed=${i.missedBlocksCounter} jailed_until=${i.jailedUntil?.seconds ?? 0n}${i.tombstoned ? ' TOMBSTONED' : ''}`;

export function slashingQueryCommand(): Command {
  const s = new Command('slashing').description('slashing queries (liveness records, params)');
  const P = '/cosmos.slashing.v1beta1.Query/';
  s.command('signing-info')
    .argument('<validator>', `a consensus address (${VALCONS_PREFIX}1…), a consensus key (priv_validator_key.json / show-validator JSON), or a ${VALOPER_PREFIX}1… / key name`)
    .description('a validator\'s liveness record: missed blocks, jailed until, tombstoned')
    .action(async (a: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      let consAddress_: string;
      if (a.startsWith(VALCONS_PREFIX)) consAddress_ = a;
      else if (a.startsWith(VALOPER_PREFIX) || (!a.trim().startsWith('{') && !a.includes('/') && !a.endsWith('='))) {
        const validatorAddr = await valoperArg(ctx, a);
        const v = SQ.QueryValidatorResponse.decode(await abciQuery(ctx, '/cosmos.staking.v1beta1.Query/Validator', SQ.QueryValidatorRequest.encode({ validatorAddr }).finish())).validator!;
        consAddress_ = valconsFromBytes(consAddress(ed25519FromAny(v.consensusPubkey)));
      } else {
        try {
          consAddress_ = valconsFromBytes(consAddress(readConsensusKey(a)));
        } catch (e) {
          throw new CliError((e as Error).message, EXIT.USAGE);
        }
      }
      const i = LQ.QuerySigningInfoResponse.decode(await abciQuery(ctx, P + 'SigningInfo', LQ.QuerySigningInfoRequest.encode({ consAddress: consAddress_ }).finish())).valSigningInfo!;
      ctx.print(signingInfoJson(i), () => signingInfoText(i));
    });
  paginationFlags(s.command('signing-infos').description('every validator\'s liveness record'))
    .action(async (o: { limit?: string; offset?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const r = LQ.QuerySigningInfosResponse.decode(await abciQuery(ctx, P + 'SigningInfos', LQ.QuerySigningInfosRequest.encode({ pagination: pageReq(o) }).finish()));
      ctx.print({ info: r.info.map(signingInfoJson), pagination: { total: (r.pagination?.total ?? 0n).toString() } }, () => r.info.map(signingInfoText).join('\n') || 'no signing infos');
    });
  s.command('params').description('slashing parameters').action(async (_o: unknown, cmd: Command) => {
    const ctx = Ctx.of(cmd);
    const p = LQ.QueryParamsResponse.decode(await abciQuery(ctx, P + 'Params', LQ.QueryParamsRequest.encode({}).finish())).params!;
    const dec = (b: Uint8Array) => formatDec(parseDecWire(Buffer.from(b).toString('utf8')));
    const j = {
      signed_blocks_window: p.signedBlocksWindow.toString(), min_signed_per_window: dec(p.minSignedPerWindow), downtime_jail_duration: `${p.downtimeJailDuration?.seconds ?? 0n}s`,
      slash_fraction_double_sign: dec(p.slashFractionDoubleSign), slash_fraction_downtime: dec(p.slashFractionDowntime),
    };
    ctx.print(j, () => Object.entries(j).map(([k, v]) => `${k}: ${v}`).join('\n'));
  });
  return s;
}
