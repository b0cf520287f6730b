/** `proofbook query …` and `proofbook status`: read-only RPC calls. */
import { Command } from 'commander';
import { toHex } from '@cosmjs/encoding';
import { sha256 } from '@cosmjs/crypto';
import { Ctx, CliError, EXIT } from './common.js';
import { connectQueryClient } from '../src/client/tx.js';
import { parseAddress } from '../src/crypto/address.js';
import { NATIVE_DENOM } from '../src/types/coins.js';

async function withClient<T>(ctx: Ctx, f: (c: Awaited<ReturnType<typeof connectQueryClient>>) => Promise<T>): Promise<T> {
  const c = await connectQueryClient(ctx.node);
  try {
    return await f(c);
  } finally {
    c.client.disconnect();
  }
}

/** Addresses given on the command line: validated and canonicalized, or a local key name. */
export async function addressArg(ctx: Ctx, s: string): Promise<string> {
  if (s.startsWith('proof1')) return parseAddress(s);
  const kr = ctx.keyring();
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s) && (await kr.has(s))) return (await kr.get(s)).address;
  if (/^[a-z0-9]+1[02-9ac-hj-np-z]{6,}$/i.test(s)) return parseAddress(s); // another prefix: parseAddress says so
  throw new CliError(`'${s}' is neither a proof1… address nor a key in ${kr.dir}`, EXIT.USAGE, 'list your keys with `proofbook keys list`');
}

export function queryCommand(): Command {
  const q = new Command('query')
    .alias('q')
    .description('query the chain over CometBFT RPC (--node, default http://127.0.0.1:26657)')
    .addHelpText('after', `
Examples:
  $ proofbook query balance proof1… --denom uproof
  $ proofbook query account devnet0
  $ proofbook query tx 0A1B…
  $ proofbook query block 12 --output json`);

  q.command('account')
    .argument('<address>', 'bech32 address (proof1…) or a local key name')
    .description('account number, sequence and public key of an account')
    .addHelpText('after', '\nExample:\n  $ proofbook query account proof1…')
    .action(async (a: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const address = await addressArg(ctx, a);
      const acc = await withClient(ctx, ({ client }) => client.getAccount(address));
      if (!acc) throw new CliError(`account ${address} not found on chain (it has never received funds)`, EXIT.FAILED, 'send it some uproof first, e.g. `proofbook tx bank send devnet0 ' + address + ' 1000uproof --fees 2000uproof`');
      const data = {
        address: acc.address,
        accountNumber: acc.accountNumber,
        sequence: acc.sequence,
        pubkey: acc.pubkey ? { type: acc.pubkey.type, value: acc.pubkey.value } : null,
      };
      ctx.print(data, () =>
        [`address: ${data.address}`, `account_number: ${data.accountNumber}`, `sequence: ${data.sequence}`, `pubkey: ${data.pubkey ? `${data.pubkey.type} ${String(data.pubkey.value)}` : '(none yet: the account has not signed a tx)'}`].join('\n'),
      );
    });

  q.command('balance')
    .alias('balances')
    .argument('<address>', 'bech32 address (proof1…) or a local key name')
    .description('balances of an account (all denoms, or one with --denom)')
    .option('--denom <denom>', 'only this denom (e.g. uproof)')
    .addHelpText('after', `\nExamples:\n  $ proofbook query balance proof1…\n  $ proofbook query balance devnet0 --denom ${NATIVE_DENOM} --output json`)
    .action(async (a: string, opts: { denom?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const address = await addressArg(ctx, a);
      const coins = await withClient(ctx, async ({ client }) =>
        opts.denom ? [await client.getBalance(address, opts.denom)] : [...(await client.getAllBalances(address))],
      );
      ctx.print({ address, balances: coins }, () =>
        coins.length ? coins.map((c) => `${c.amount}${c.denom}`).join('\n') : `no balances for ${address}`,
      );
    });

  q.command('tx')
    .argument('<hash>', 'transaction hash (hex)')
    .description('a transaction by hash: height, code, gas, log and decoded messages')
    .addHelpText('after', '\nExample:\n  $ proofbook query tx 6F1C…E2 --output json')
    .action(async (hash: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      if (!/^[0-9a-fA-F]{64}$/.test(hash)) throw new CliError(`'${hash}' is not a tx hash (64 hex characters)`, EXIT.USAGE);
      const tx = await withClient(ctx, ({ client }) => client.getTx(hash.toUpperCase()));
      if (!tx) throw new CliError(`transaction ${hash.toUpperCase()} not found`, EXIT.FAILED, 'it may not be in a block yet, or the node does not index txs');
      const { decodeTxRaw } = await import('@cosmjs/proto-signing');
      const decoded = decodeTxRaw(tx.tx);
      const data = {
        hash: tx.hash,
        height: tx.height,
        index: tx.txIndex,
        code: tx.code,
        gasWanted: tx.gasWanted,
        gasUsed: tx.gasUsed,
        log: tx.rawLog,
        memo: decoded.body.memo,
        messages: decoded.body.messages.map((m) => m.typeUrl),
        fee: decoded.authInfo.fee ? { amount: decoded.authInfo.fee.amount, gasLimit: decoded.authInfo.fee.gasLimit } : null,
        events: tx.events,
      };
      ctx.print(data, () =>
        [
          `hash: ${data.hash}`, `height: ${data.height}`, `code: ${data.code}`, `gas: ${data.gasUsed} used / ${data.gasWanted} wanted`,
          `messages: ${data.messages.join(', ')}`, `memo: ${data.memo}`,
          `fee: ${data.fee ? data.fee.amount.map((c) => c.amount + c.denom).join(',') : ''}`, ...(data.log ? [`log: ${data.log}`] : []),
        ].join('\n'),
      );
    });

  q.command('block')
    .argument('[height]', 'block height (default: latest)')
    .description('a block header and its transaction hashes')
    .addHelpText('after', '\nExamples:\n  $ proofbook query block\n  $ proofbook query block 10 --output json')
    .action(async (h: string | undefined, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      let height: number | undefined;
      if (h !== undefined) {
        if (!/^[1-9][0-9]*$/.test(h)) throw new CliError(`'${h}' is not a block height`, EXIT.USAGE);
        height = Number(h);
      }
      const b = await withClient(ctx, ({ client }) => client.getBlock(height));
      const data = {
        hash: b.id,
        height: b.header.height,
        chainId: b.header.chainId,
        time: b.header.time,
        txs: b.txs.map((t) => toHex(sha256(t)).toUpperCase()),
      };
      ctx.print(data, () => [`height: ${data.height}`, `hash: ${data.hash}`, `chain_id: ${data.chainId}`, `time: ${data.time}`, `txs: ${data.txs.length}`, ...data.txs.map((t) => `  ${t}`)].join('\n'));
    });

  return q;
}

export function statusCommand(): Command {
  return new Command('status')
    .description('node status: chain id, latest height and app hash, node version, catching up')
    .addHelpText('after', '\nExamples:\n  $ proofbook status\n  $ proofbook status --node http://127.0.0.1:26657 --output json')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const st = await withClient(ctx, ({ comet }) => comet.status());
      const data = {
        node: ctx.node,
        chainId: st.nodeInfo.network,
        version: st.nodeInfo.version,
        moniker: st.nodeInfo.moniker,
        latestBlockHeight: st.syncInfo.latestBlockHeight,
        latestBlockHash: toHex(st.syncInfo.latestBlockHash).toUpperCase(),
        latestAppHash: toHex(st.syncInfo.latestAppHash).toUpperCase(),
        latestBlockTime: st.syncInfo.latestBlockTime.toISOString(),
        catchingUp: st.syncInfo.catchingUp,
      };
      ctx.print(data, () =>
        [
          `node: ${data.node}`, `chain_id: ${data.chainId}`, `version: ${data.version} (${data.moniker})`,
          `latest_block_height: ${data.latestBlockHeight}`, `latest_app_hash: ${data.latestAppHash}`,
          `latest_block_time: ${data.latestBlockTime}`, `catching_up: ${data.catchingUp}`,
        ].join('\n'),
      );
    });
}
