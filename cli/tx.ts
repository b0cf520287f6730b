/** `proofbook tx …`: sign (SIGN_MODE_DIRECT), broadcast, wait for inclusion. */
import { Command } from 'commander';
import type { GasPrice, DeliverTxResponse, StdFee, SigningStargateClient } from '@cosmjs/stargate';
import type { AccountData, EncodeObject } from '@cosmjs/proto-signing';
import type { Comet38Client } from '@cosmjs/tendermint-rpc';
import { Ctx, CliError, EXIT } from './common.js';
import { addressArg } from './query.js';
import { bankSendMsg, connectComet, simulateGas } from '../src/client/tx.js';
import { parseCoins, coinsToProto } from '../src/types/coins.js';

export const DEFAULT_GAS = 200_000;
export const DEFAULT_GAS_ADJUSTMENT = 1.4;

export interface TxFlags {
  fees?: string;
  gas?: string;
  gasPrices?: string;
  gasAdjustment?: string;
  memo?: string;
  chainId?: string;
}

const TX_FLAGS_HELP = `
Fees: give either the fee coins (--fees 2000uproof, gas limit --gas N or ${DEFAULT_GAS}) or a gas price
(--gas-prices 0.001uproof) with --gas auto (simulated, times --gas-adjustment) or --gas N.
The command waits until the tx is in a block and prints its hash, height, code and gas.
Exit code 0: included with code 0; 1: rejected by CheckTx or executed with a non-zero code (the app's log is shown).`;

function addTxFlags(cmd: Command): Command {
  return cmd
    .option('--fees <coins>', 'fee to pay, e.g. 2000uproof')
    .option('--gas <limit>', `gas limit: a number or "auto" (simulate) (default ${DEFAULT_GAS})`)
    .option('--gas-prices <price>', 'price per gas unit, e.g. 0.001uproof (fee = ceil(gas * price))')
    .option('--gas-adjustment <factor>', 'multiplier for --gas auto', String(DEFAULT_GAS_ADJUSTMENT))
    .option('--memo <text>', 'transaction memo', '')
    .option('--chain-id <id>', 'expected chain id (checked against the node; default: the node\'s)');
}

/**
 * The fee for `msgs` from the tx flags: --fees as given, or --gas-prices × gas, where gas is --gas N, or --gas auto
 * (simulated with the fee coins the tx will carry, times --gas-adjustment), or `defaultGas`. Every tx command uses this.
 */
export async function resolveFee(client: SigningStargateClient, comet: Comet38Client, signer: AccountData, msgs: EncodeObject[], f: TxFlags, defaultGas: number = DEFAULT_GAS): Promise<StdFee> {
  const { GasPrice, calculateFee } = await import('@cosmjs/stargate');
  const parsePrice = (s: string): GasPrice => {
    try {
      return GasPrice.fromString(s);
    } catch (e) {
      throw new CliError(`bad --gas-prices '${s}': ${(e as Error).message}`, EXIT.USAGE, 'e.g. --gas-prices 0.001uproof');
    }
  };
  if (f.fees === undefined && f.gasPrices === undefined) {
    throw new CliError('no fee given', EXIT.USAGE, 'add --fees 2000uproof, or --gas auto --gas-prices 0.001uproof');
  }
  let gas: number;
  if (f.gas === 'auto') {
    const adj = Number(f.gasAdjustment ?? DEFAULT_GAS_ADJUSTMENT);
    if (!(adj >= 1 && adj <= 10)) throw new CliError(`--gas-adjustment must be between 1 and 10, got '${f.gasAdjustment}'`, EXIT.USAGE);
    // Simulate with the fee coins the tx will carry (see simulateGas) so the fee deduction is counted.
    const feeGuess = f.fees !== undefined ? coinsToProto(parseCoins(f.fees)) : calculateFee(defaultGas, parsePrice(f.gasPrices!)).amount;
    const { sequence } = await client.getSequence(signer.address);
    const simulated = await simulateGas(comet, client.registry, { pubkey: signer.pubkey, sequence }, msgs, f.memo ?? '', feeGuess);
    gas = Math.ceil(Number(simulated) * adj);
  } else if (f.gas !== undefined) {
    if (!/^[1-9][0-9]{0,15}$/.test(f.gas)) throw new CliError(`--gas must be a positive integer or "auto", got '${f.gas}'`, EXIT.USAGE);
    gas = Number(f.gas);
  } else {
    gas = defaultGas;
  }
  if (f.fees !== undefined) {
    try {
      return { amount: coinsToProto(parseCoins(f.fees)), gas: String(gas) };
    } catch (e) {
      throw new CliError(`bad --fees '${f.fees}': ${(e as Error).message}`, EXIT.USAGE, 'e.g. --fees 2000uproof');
    }
  }
  return calculateFee(gas, parsePrice(f.gasPrices!));
}


export function txResultData(r: DeliverTxResponse) {
  return { txhash: r.transactionHash, height: r.height, code: r.code, gasWanted: r.gasWanted, gasUsed: r.gasUsed, log: r.rawLog ?? '', events: r.events };
}

/** Signs `msgs` with the key `fromKey`, broadcasts, waits, prints, and fails with exit 1 on a non-zero code. */
/**
 * Checks the fee flags' syntax before any key or node is touched, so a malformed --fees/--gas/--gas-prices is a
 * usage error (exit 2) whether or not the key exists or the node answers.
 */
export function checkFeeFlags(f: TxFlags): void {
  if (f.fees !== undefined) {
    try {
      parseCoins(f.fees);
    } catch (e) {
      throw new CliError(`bad --fees '${f.fees}': ${(e as Error).message}`, EXIT.USAGE, 'e.g. --fees 2000uproof');
    }
  }
  if (f.gas !== undefined && f.gas !== 'auto' && !/^[1-9][0-9]{0,15}$/.test(f.gas)) {
    throw new CliError(`--gas must be a positive integer or "auto", got '${f.gas}'`, EXIT.USAGE);
  }
  if (f.gasPrices !== undefined && !/^(\d+(\.\d+)?|\.\d+)[a-z][a-z0-9/:._-]{2,127}$/i.test(f.gasPrices.trim())) {
    throw new CliError(`bad --gas-prices '${f.gasPrices}': expected a decimal amount and a denom`, EXIT.USAGE, 'e.g. --gas-prices 0.001uproof');
  }
  if (f.gasAdjustment !== undefined) {
    const adj = Number(f.gasAdjustment);
    if (!(adj >= 1 && adj <= 10)) throw new CliError(`--gas-adjustment must be between 1 and 10, got '${f.gasAdjustment}'`, EXIT.USAGE);
  }
}

export async function signAndSend(ctx: Ctx, fromKey: string, build: (from: string) => EncodeObject[], f: TxFlags): Promise<DeliverTxResponse> {
  checkFeeFlags(f);
  const kr = ctx.keyring();
  const key = await kr.resolve(fromKey);
  const { wallet } = await kr.signer(key.name);
  const comet = await connectComet(ctx.node);
  const { SigningStargateClient } = await import('@cosmjs/stargate');
  const client = SigningStargateClient.createWithSigner(comet, wallet, { broadcastPollIntervalMs: 300, broadcastTimeoutMs: 60_000 });
  const [account] = await wallet.getAccounts();
  try {
    const chainId = await client.getChainId();
    if (f.chainId !== undefined && f.chainId !== chainId) {
      throw new CliError(`--chain-id ${f.chainId} does not match the node's chain id ${chainId}`, EXIT.USAGE, `check --node (${ctx.node})`);
    }
    const msgs = build(key.address);
    const fee = await resolveFee(client, comet, account, msgs, f);
    const r = await client.signAndBroadcast(key.address, msgs, fee, f.memo ?? '');
    const data = txResultData(r);
    ctx.print(data, () =>
      [`txhash: ${data.txhash}`, `height: ${data.height}`, `code: ${data.code}`, `gas_used: ${data.gasUsed}`, `gas_wanted: ${data.gasWanted}`, ...(data.log ? [`log: ${data.log}`] : [])].join('\n'),
    );
    if (r.code !== 0) throw new CliError(`transaction ${r.transactionHash} failed in block ${r.height} with code ${r.code}: ${r.rawLog ?? ''}`, EXIT.FAILED);
    return r;
  } finally {
    client.disconnect();
  }
}

export function txCommand(): Command {
  const tx = new Command('tx')
    .description('sign and broadcast transactions with a key from the keyring')
    .addHelpText('after', `${TX_FLAGS_HELP}

Example:
  $ proofbook tx bank send devnet0 proof1… 1000uproof --fees 2000uproof`);
  const bank = tx.command('bank').description('bank module transactions');
  addTxFlags(
    bank
      .command('send')
      .argument('<from_key>', 'name (or address) of the sending key in the keyring')
      .argument('<to_address>', 'recipient: bech32 address (proof1…) or a key name')
      .argument('<amount>', 'coins to send, e.g. 1000uproof or 10uproof,5ufoo')
      .description('send coins from a key to an address'),
  )
    .addHelpText('after', `${TX_FLAGS_HELP}

Examples:
  $ proofbook tx bank send devnet0 proof1… 1000uproof --fees 2000uproof
  $ proofbook tx bank send alice bob 25uproof --gas auto --gas-prices 0.001uproof --memo "thanks" --output json`)
    .action(async (from: string, to: string, amount: string, f: TxFlags, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const coins = parseCoins(amount);
      if (coins.length === 0) throw new CliError(`amount '${amount}' is empty or zero`, EXIT.USAGE, 'e.g. 1000uproof');
      const toAddr = await addressArg(ctx, to);
      await signAndSend(ctx, from, (fromAddr) => [bankSendMsg(fromAddr, toAddr, coinsToProto(coins))], f);
    });
  return tx;
}
