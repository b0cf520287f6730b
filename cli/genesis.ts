/**
 * `proofbook genesis …`: how a network starts from several independent operators (the Cosmos SDK's
 * `genesis add-genesis-account` / `gentx` / `collect-gentxs`). Each operator funds its account in the shared
 * genesis, signs a MsgCreateValidator offline (a gentx: account number 0, sequence 0, no fee; src/client/gentx.ts)
 * with its keyring key and its CometBFT consensus key, and sends the file to the coordinator; the coordinator
 * collects the files into `app_state.staking.gen_txs`. InitChain executes them and answers CometBFT with the first
 * validator set, so genesis.json's `validators` stays empty. Nothing here talks to a node.
 */
import { Command } from 'commander';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TxRaw, TxBody } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { MsgCreateValidator } from 'cosmjs-types/cosmos/staking/v1beta1/tx';
import { Bip39, EnglishMnemonic, Slip10, Slip10Curve, stringToPath } from '@cosmjs/crypto';
import { fromBech32 } from '@cosmjs/encoding';
import { Ctx, CliError, EXIT, pathExists } from './common.js';
import { ConsensusKeyError, readConsensusKey } from '../src/client/consensus-key.js';
import { buildGentx, valoperOf } from '../src/client/gentx.js';
import { rawKeyFromPrivkey, type RawKey } from '../src/client/sign.js';
import { CoinsError, parseCoins, NATIVE_DENOM } from '../src/types/coins.js';
import { DEC_ONE, parseDecHuman } from '../src/types/dec.js';

const CREATE_VALIDATOR = '/cosmos.staking.v1beta1.MsgCreateValidator';

interface GenesisFile { chain_id: string; app_state: Record<string, any> }

async function readGenesis(file: string): Promise<GenesisFile> {
  let g: any;
  try {
    g = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read genesis ${file}: ${(e as Error).message}`, EXIT.FAILED, 'run `proofbook init` first, or pass --genesis');
  }
  if (typeof g?.chain_id !== 'string' || typeof g?.app_state !== 'object' || g.app_state === null) {
    throw new CliError(`${file} is not a proofbook genesis ({chain_id, app_state})`, EXIT.FAILED);
  }
  return g as GenesisFile;
}

async function writeGenesis(file: string, g: GenesisFile): Promise<void> {
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(g, null, 2) + '\n');
  await fs.rename(tmp, file); // never a half-written genesis
}

const genesisPath = (ctx: Ctx, o: { genesis?: string }) => o.genesis ?? path.join(ctx.home, 'genesis.json');

function checkAddress(a: string, what: string): void {
  try {
    if (fromBech32(a).prefix !== 'proof') throw new Error('prefix');
  } catch {
    throw new CliError(`${what} '${a}' is not a proof1… address`, EXIT.USAGE);
  }
}

/** The key's secp256k1 private key, derived from its mnemonic on its HD path (the same key `keys` shows). */
async function rawKeyOf(ctx: Ctx, nameOrAddress: string): Promise<RawKey> {
  const kr = ctx.keyring();
  const info = await kr.resolve(nameOrAddress);
  const mnemonic = await kr.exportMnemonic(info.name);
  const seed = await Bip39.mnemonicToSeed(new EnglishMnemonic(mnemonic));
  const key = rawKeyFromPrivkey(Slip10.derivePath(Slip10Curve.Secp256k1, seed, stringToPath(info.hdPath)).privkey);
  if (key.address !== info.address) throw new CliError(`key '${info.name}': derived ${key.address}, stored ${info.address}`, EXIT.KEYRING);
  return key;
}

function uproofAmount(s: string, what: string): bigint {
  let coins;
  try {
    coins = parseCoins(s);
  } catch (e) {
    throw new CliError(`${what} '${s}': ${e instanceof CoinsError ? e.message : String(e)}`, EXIT.USAGE);
  }
  if (coins.length !== 1 || coins[0]!.denom !== NATIVE_DENOM) throw new CliError(`${what} must be one amount of ${NATIVE_DENOM}, e.g. 10000000${NATIVE_DENOM}`, EXIT.USAGE);
  return BigInt(coins[0]!.amount);
}

function dec(s: string, what: string): bigint {
  let d: bigint;
  try {
    d = parseDecHuman(s);
  } catch {
    throw new CliError(`${what} '${s}' is not a decimal`, EXIT.USAGE);
  }
  if (d < 0n || d > DEC_ONE) throw new CliError(`${what} ${s} must be between 0 and 1`, EXIT.USAGE);
  return d;
}

/** A gentx file's MsgCreateValidator (and refusal of anything else), for collect-gentxs. */
function decodeGentx(b64: string, where: string): MsgCreateValidator {
  try {
    const raw = TxRaw.decode(Buffer.from(b64, 'base64'));
    const body = TxBody.decode(raw.bodyBytes);
    if (body.messages.length !== 1 || body.messages[0]!.typeUrl !== CREATE_VALIDATOR) throw new Error('a gentx holds exactly one MsgCreateValidator');
    if (raw.signatures.length !== 1) throw new Error('a gentx has exactly one signature');
    return MsgCreateValidator.decode(body.messages[0]!.value);
  } catch (e) {
    throw new CliError(`${where}: not a gentx (${(e as Error).message})`, EXIT.FAILED);
  }
}

export function genesisCommand(): Command {
  const g = new Command('genesis').description('build a multi-operator genesis: add-account, gentx, collect-gentxs (offline)');

  g.command('add-account')
    .description('fund an address in genesis.json (bank balances; supply follows)')
    .argument('<address-or-key>', 'a proof1… address, or the name of a key in the keyring')
    .argument('<amount>', 'e.g. 100000000uproof')
    .option('--genesis <file>', 'genesis file (default: <home>/genesis.json)')
    .action(async (who: string, amount: string, o: { genesis?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const value = uproofAmount(amount, 'amount');
      let isBech32 = true;
      try { fromBech32(who); } catch { isBech32 = false; }
      const address = isBech32 ? who : (await ctx.keyring().resolve(who)).address;
      checkAddress(address, 'address');
      const file = genesisPath(ctx, o);
      const gen = await readGenesis(file);
      const bank = (gen.app_state.bank ??= { balances: [] });
      bank.balances ??= [];
      let entry = bank.balances.find((b: any) => b.address === address);
      if (!entry) bank.balances.push((entry = { address, coins: [] }));
      const coin = entry.coins.find((c: any) => c.denom === NATIVE_DENOM);
      if (coin) coin.amount = (BigInt(coin.amount) + value).toString();
      else entry.coins.push({ denom: NATIVE_DENOM, amount: value.toString() });
      // supply is the sum of balances when present; keep it consistent (initGenesis refuses a mismatch)
      if (Array.isArray(bank.supply) && bank.supply.length) {
        const s = bank.supply.find((c: any) => c.denom === NATIVE_DENOM);
        if (s) s.amount = (BigInt(s.amount) + value).toString();
        else bank.supply.push({ denom: NATIVE_DENOM, amount: value.toString() });
      }
      await writeGenesis(file, gen);
      ctx.print({ address, added: `${value}${NATIVE_DENOM}`, balance: `${coin?.amount ?? value}${NATIVE_DENOM}`, genesis: file },
        () => `${address}: +${value}${NATIVE_DENOM} in ${file}`);
    });

  g.command('gentx')
    .description("sign this operator's MsgCreateValidator for genesis and write it to <home>/gentx/")
    .argument('<key>', 'keyring key of the operator (its account must be funded in genesis)')
    .argument('<amount>', 'self-delegation, e.g. 10000000uproof (1 PROOF = voting power 1)')
    .requiredOption('--pubkey <file-or-json>', "the validator's consensus key: CometBFT's priv_validator_key.json, `cometbft show-validator` JSON or base64")
    .requiredOption('--moniker <name>', 'validator name')
    .option('--commission-rate <dec>', 'commission rate', '0.1')
    .option('--commission-max-rate <dec>', 'maximum commission rate', '0.2')
    .option('--commission-max-change-rate <dec>', 'maximum daily change of the rate', '0.01')
    .option('--min-self-delegation <uproof>', 'minimum self-delegation (uproof)', '1')
    .option('--genesis <file>', 'genesis file for the chain id (default: <home>/genesis.json)')
    .option('--output-document <file>', 'where to write the gentx (default: <home>/gentx/gentx-<valoper>.json)')
    .action(async (keyName: string, amount: string, o: { pubkey: string; moniker: string; commissionRate: string; commissionMaxRate: string; commissionMaxChangeRate: string; minSelfDelegation: string; genesis?: string; outputDocument?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const value = uproofAmount(amount, 'amount');
      let consensusPubkey: Uint8Array;
      try {
        consensusPubkey = readConsensusKey(o.pubkey);
      } catch (e) {
        throw new CliError((e as ConsensusKeyError).message, EXIT.USAGE);
      }
      if (!o.moniker.trim()) throw new CliError('--moniker must not be empty', EXIT.USAGE);
      const rate = dec(o.commissionRate, '--commission-rate');
      const maxRate = dec(o.commissionMaxRate, '--commission-max-rate');
      const maxChangeRate = dec(o.commissionMaxChangeRate, '--commission-max-change-rate');
      if (rate > maxRate) throw new CliError(`--commission-rate ${o.commissionRate} exceeds --commission-max-rate ${o.commissionMaxRate}`, EXIT.USAGE);
      if (maxChangeRate > maxRate) throw new CliError('--commission-max-change-rate exceeds --commission-max-rate', EXIT.USAGE);
      if (!/^[1-9][0-9]*$/.test(o.minSelfDelegation)) throw new CliError(`--min-self-delegation '${o.minSelfDelegation}' must be a positive integer`, EXIT.USAGE);
      const minSelfDelegation = BigInt(o.minSelfDelegation);
      if (value < minSelfDelegation) throw new CliError(`amount ${amount} is below --min-self-delegation ${o.minSelfDelegation}`, EXIT.USAGE);
      const gen = await readGenesis(genesisPath(ctx, o));
      const key = await rawKeyOf(ctx, keyName);
      // Refuse here what InitChain would refuse later, with the reason: the operator's genesis balance.
      const bal = (gen.app_state.bank?.balances ?? []).find((b: any) => b.address === key.address)?.coins?.find((c: any) => c.denom === NATIVE_DENOM)?.amount ?? '0';
      if (BigInt(bal) < value) {
        throw new CliError(`${key.address} holds ${bal}${NATIVE_DENOM} in genesis, less than the self-delegation ${value}${NATIVE_DENOM}`, EXIT.FAILED, `run \`proofbook genesis add-account ${keyName} ${value}${NATIVE_DENOM}\` first`);
      }
      const tx = buildGentx(key, { chainId: gen.chain_id, consensusPubkey, amount: value, moniker: o.moniker, rate, maxRate, maxChangeRate, minSelfDelegation });
      const valoper = valoperOf(key);
      const out = o.outputDocument ?? path.join(ctx.home, 'gentx', `gentx-${valoper}.json`);
      await fs.mkdir(path.dirname(out), { recursive: true });
      await fs.writeFile(out, JSON.stringify({ chain_id: gen.chain_id, validator: valoper, moniker: o.moniker, gentx: Buffer.from(tx).toString('base64') }, null, 2) + '\n');
      ctx.print({ file: out, chain_id: gen.chain_id, validator: valoper, self_delegation: `${value}${NATIVE_DENOM}` },
        () => `wrote ${out} (${valoper}, ${value}${NATIVE_DENOM}, chain ${gen.chain_id}); send it to the genesis coordinator`);
    });

  g.command('collect-gentxs')
    .description("put every gentx file of a directory into genesis.json's app_state.staking.gen_txs")
    .option('--gentx-dir <dir>', 'directory of gentx-*.json files (default: <home>/gentx)')
    .option('--genesis <file>', 'genesis file (default: <home>/genesis.json)')
    .action(async (o: { gentxDir?: string; genesis?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const dir = o.gentxDir ?? path.join(ctx.home, 'gentx');
      if (!(await pathExists(dir))) throw new CliError(`no gentx directory ${dir}`, EXIT.FAILED, 'pass --gentx-dir');
      const file = genesisPath(ctx, o);
      const gen = await readGenesis(file);
      // File names sorted bytewise: every coordinator that collects the same files writes the same genesis.
      const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json')).sort();
      const staking = (gen.app_state.staking ??= {});
      const have = new Set<string>(staking.gen_txs ?? []);
      const seenKeys = new Set<string>();
      const added: { file: string; validator: string; moniker: string }[] = [];
      for (const n of names) {
        const where = path.join(dir, n);
        let doc: any;
        try {
          doc = JSON.parse(await fs.readFile(where, 'utf8'));
        } catch (e) {
          throw new CliError(`${where}: ${(e as Error).message}`, EXIT.FAILED);
        }
        if (typeof doc?.gentx !== 'string') throw new CliError(`${where}: no "gentx" field`, EXIT.FAILED);
        if (doc.chain_id !== undefined && doc.chain_id !== gen.chain_id) throw new CliError(`${where} was signed for chain ${doc.chain_id}, genesis is ${gen.chain_id}`, EXIT.FAILED);
        const msg = decodeGentx(doc.gentx, where);
        const ck = Buffer.from(msg.pubkey?.value ?? []).toString('hex');
        if (seenKeys.has(ck)) throw new CliError(`${where}: a second gentx with the same consensus key`, EXIT.FAILED);
        seenKeys.add(ck);
        if (have.has(doc.gentx)) continue;
        have.add(doc.gentx);
        (staking.gen_txs ??= []).push(doc.gentx);
        added.push({ file: where, validator: msg.validatorAddress, moniker: msg.description?.moniker ?? '' });
      }
      await writeGenesis(file, gen);
      ctx.print({ genesis: file, added, gen_txs: staking.gen_txs?.length ?? 0 },
        () => [...added.map((a) => `added ${a.validator} (${a.moniker}) from ${a.file}`), `${file}: ${staking.gen_txs?.length ?? 0} gentxs`].join('\n'));
    });
  return g;
}
