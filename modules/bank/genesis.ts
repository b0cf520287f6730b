/**
 * Bank genesis (JSON, amounts as decimal strings):
 *
 *   { "balances": [{ "address": "proof1…", "coins": [{ "denom": "uproof", "amount": "1000" }] }],
 *     "supply":  [{ "denom": "uproof", "amount": "1000" }],    // optional; when non-empty it must equal the sum
 *     "burned":  [{ "denom": "uproof", "amount": "5" }],       // optional; burned-so-far counters
 *     "module_accounts": ["fee_collector"],                    // optional; module accounts MsgSend must refuse
 *     "denom_metadata": [{ "base": "uproof", "display": "proof", "denom_units": [...], ... }] }  // optional (SDK shape)
 *
 * initGenesis validates everything before writing anything. Supply is always computed as the sum of balances.
 * exportGenesis lists balances in store order (address bytes, 20-byte before 32-byte) and coins by denom, so
 * export → init → export is the identity.
 */
import type { Context } from '../../src/framework/context.js';
import { isJsonObject } from '../../src/framework/proto-json.js';
import { moduleAddress, parseAddress, type Address } from '../../src/crypto/address.js';
import { isValidDenom, type Coin, type Coins } from '../../src/types/coins.js';
import { iteratePrefix } from '../../src/store/kv.js';
import { Metadata } from 'cosmjs-types/cosmos/bank/v1beta1/bank';
import type { AccountKeeper } from './keeper.js';
import {
  BALANCE_PREFIX,
  BANK_STORE_PREFIX,
  BURNED_PREFIX,
  MAX_AMOUNT,
  METADATA_PREFIX,
  MODULE_ACCOUNT_PREFIX,
  SUPPLY_PREFIX,
  balanceKey,
  burnedKey,
  decodeAmount,
  decodeString,
  encodeAmount,
  encodeString,
  moduleAccountKey,
  parseBalanceKey,
  supplyKey,
} from './keys.js';

export interface GenesisCoin {
  denom: string;
  amount: string;
}

export interface BankGenesis {
  balances: { address: string; coins: GenesisCoin[] }[];
  supply?: GenesisCoin[];
  burned?: GenesisCoin[];
  module_accounts?: string[];
  /** Client metadata of denoms (as the SDK's bank genesis `denom_metadata`): served by DenomMetadata/DenomsMetadata. */
  denom_metadata?: DenomMetadataJson[];
}

/** cosmos.bank.v1beta1.Metadata in the SDK's genesis JSON. */
export interface DenomMetadataJson {
  description: string;
  denom_units: { denom: string; exponent: number; aliases: string[] }[];
  base: string;
  display: string;
  name: string;
  symbol: string;
  uri: string;
  uri_hash: string;
}

/** The native token: 1 PROOF = 10^6 uproof. */
export const UPROOF_METADATA: DenomMetadataJson = {
  description: 'The native token of proofbook: fees, request escrow and prover collateral.',
  denom_units: [
    { denom: 'uproof', exponent: 0, aliases: ['microproof'] },
    { denom: 'proof', exponent: 6, aliases: ['PROOF'] },
  ],
  base: 'uproof',
  display: 'proof',
  name: 'PROOF',
  symbol: 'PROOF',
  uri: '',
  uri_hash: '',
};

export function defaultBankGenesis(): BankGenesis {
  return { balances: [], denom_metadata: [UPROOF_METADATA] };
}

/** Checks one metadata entry as the SDK's Metadata.Validate does; returns it normalized. */
function parseMetadata(raw: unknown, at: string): Metadata {
  if (!isJsonObject(raw)) throw new Error(`bank genesis: ${at} must be an object {base, display, denom_units, ...}`);
  const str = (k: string): string => {
    const v = raw[k] ?? '';
    if (typeof v !== 'string') throw new Error(`bank genesis: ${at}.${k} must be a string`);
    return v;
  };
  const base = str('base'), display = str('display'), name = str('name'), symbol = str('symbol');
  if (!isValidDenom(base)) throw new Error(`bank genesis: ${at}.base: invalid denom '${base}'`);
  if (!isValidDenom(display)) throw new Error(`bank genesis: ${at}.display: invalid denom '${display}'`);
  if (name.trim() === '' || symbol.trim() === '') throw new Error(`bank genesis: ${at}: name and symbol must not be blank`);
  const units = raw.denom_units;
  if (!Array.isArray(units) || units.length === 0) throw new Error(`bank genesis: ${at}.denom_units must be a non-empty array`);
  const seen = new Set<string>();
  let last = -1;
  const denomUnits = units.map((u, i) => {
    if (!isJsonObject(u) || typeof u.denom !== 'string' || !Number.isInteger(u.exponent ?? 0) || (u.exponent as number ?? 0) < 0) {
      throw new Error(`bank genesis: ${at}.denom_units[${i}] must be {denom, exponent (integer >= 0), aliases}`);
    }
    const exponent = (u.exponent as number | undefined) ?? 0;
    if (i === 0 && (u.denom !== base || exponent !== 0)) throw new Error(`bank genesis: ${at}: the first denom unit must be the base denom '${base}' with exponent 0`);
    if (exponent <= last) throw new Error(`bank genesis: ${at}.denom_units must have strictly increasing exponents`);
    last = exponent;
    const aliases = (u.aliases ?? []) as unknown;
    if (!Array.isArray(aliases) || aliases.some((a) => typeof a !== 'string')) throw new Error(`bank genesis: ${at}.denom_units[${i}].aliases must be strings`);
    for (const d of [u.denom, ...(aliases as string[])]) {
      if (seen.has(d)) throw new Error(`bank genesis: ${at}: duplicate denom unit or alias '${d}'`);
      seen.add(d);
    }
    return { denom: u.denom, exponent, aliases: aliases as string[] };
  });
  if (!denomUnits.some((u) => u.denom === display)) throw new Error(`bank genesis: ${at}: display '${display}' is not one of the denom units`);
  return Metadata.fromPartial({ description: str('description'), denomUnits, base, display, name, symbol, uri: str('uri'), uriHash: str('uri_hash') });
}

export function metadataToJson(m: Metadata): DenomMetadataJson {
  return {
    description: m.description, denom_units: m.denomUnits.map((u) => ({ denom: u.denom, exponent: u.exponent, aliases: [...u.aliases] })),
    base: m.base, display: m.display, name: m.name, symbol: m.symbol, uri: m.uri, uri_hash: m.uriHash,
  };
}

export interface ValidGenesis {
  balances: { address: Address; coins: Coins }[];
  supply: Coins;
  burned: Coins;
  moduleAccounts: string[];
  metadata: Metadata[];
}

const byDenom = (a: Coin, b: Coin) => (a.denom < b.denom ? -1 : a.denom > b.denom ? 1 : 0);

/** Parses a list of {denom, amount} at `where`; amounts positive canonical decimals, denoms valid and unique. */
function parseCoinList(raw: unknown, where: string): Coins {
  if (!Array.isArray(raw)) throw new Error(`bank genesis: ${where} must be an array of {denom, amount}`);
  const out: Coin[] = [];
  raw.forEach((c, j) => {
    const at = `${where}[${j}]`;
    if (!isJsonObject(c)) throw new Error(`bank genesis: ${at} must be an object {denom, amount}`);
    if (typeof c.denom !== 'string' || !isValidDenom(c.denom)) throw new Error(`bank genesis: ${at}: invalid denom ${JSON.stringify(c.denom)}`);
    if (typeof c.amount !== 'string' || !/^[0-9]+$/.test(c.amount)) {
      throw new Error(`bank genesis: ${at} (${c.denom}): amount ${JSON.stringify(c.amount)} must be a decimal integer string`);
    }
    if (/^0[0-9]/.test(c.amount)) throw new Error(`bank genesis: ${at} (${c.denom}): amount '${c.amount}' has leading zeros`);
    const amount = BigInt(c.amount);
    if (amount === 0n) throw new Error(`bank genesis: ${at} (${c.denom}): amount must be positive (omit zero entries)`);
    if (amount > MAX_AMOUNT) throw new Error(`bank genesis: ${at} (${c.denom}): amount exceeds 2^256-1`);
    out.push({ denom: c.denom, amount });
  });
  out.sort(byDenom);
  for (let i = 1; i < out.length; i++) {
    if (out[i - 1].denom === out[i].denom) throw new Error(`bank genesis: ${where}: duplicate denom '${out[i].denom}'`);
  }
  return out;
}

/** Validates a genesis section without touching state; throws Error naming the bad entry. */
export function validateBankGenesis(raw: unknown): ValidGenesis {
  if (!isJsonObject(raw)) throw new Error('bank genesis must be an object {balances, supply?, burned?, module_accounts?, denom_metadata?}');
  for (const k of Object.keys(raw)) {
    if (k !== 'balances' && k !== 'supply' && k !== 'burned' && k !== 'module_accounts' && k !== 'denom_metadata') {
      throw new Error(`bank genesis: unknown field '${k}' (expected balances, supply, burned, module_accounts, denom_metadata)`);
    }
  }
  const rawBalances = raw.balances ?? [];
  if (!Array.isArray(rawBalances)) throw new Error('bank genesis: balances must be an array of {address, coins}');
  const seen = new Set<string>();
  const sums = new Map<string, bigint>();
  const balances = rawBalances.map((b, i) => {
    const at = `balances[${i}]`;
    if (!isJsonObject(b)) throw new Error(`bank genesis: ${at} must be an object {address, coins}`);
    if (typeof b.address !== 'string') throw new Error(`bank genesis: ${at}: address must be a bech32 string`);
    let address: Address;
    try {
      address = parseAddress(b.address);
    } catch (e) {
      throw new Error(`bank genesis: ${at}: ${(e as Error).message}`);
    }
    if (seen.has(address)) throw new Error(`bank genesis: ${at}: duplicate balance entry for ${address}`);
    seen.add(address);
    const coins = parseCoinList(b.coins, `${at}.coins (${address})`);
    if (coins.length === 0) throw new Error(`bank genesis: ${at} (${address}): coins must not be empty`);
    for (const c of coins) {
      const s = (sums.get(c.denom) ?? 0n) + c.amount;
      if (s > MAX_AMOUNT) throw new Error(`bank genesis: total supply of ${c.denom} exceeds 2^256-1 at ${at}`);
      sums.set(c.denom, s);
    }
    return { address, coins };
  });
  const supply: Coins = [...sums].map(([denom, amount]) => ({ denom, amount })).sort(byDenom);
  if (raw.supply !== undefined) {
    const given = parseCoinList(raw.supply, 'supply');
    if (given.length > 0) {
      const fmt = (cs: Coins) => cs.map((c) => `${c.amount}${c.denom}`).join(',') || '(none)';
      const same = given.length === supply.length && given.every((c, i) => c.denom === supply[i].denom && c.amount === supply[i].amount);
      if (!same) throw new Error(`bank genesis: supply ${fmt(given)} does not equal the sum of balances ${fmt(supply)}`);
    }
  }
  const burned = raw.burned === undefined ? [] : parseCoinList(raw.burned, 'burned');
  const moduleAccounts: string[] = [];
  if (raw.module_accounts !== undefined) {
    if (!Array.isArray(raw.module_accounts)) throw new Error('bank genesis: module_accounts must be an array of module names');
    raw.module_accounts.forEach((n, i) => {
      if (typeof n !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(n)) throw new Error(`bank genesis: module_accounts[${i}]: invalid module name ${JSON.stringify(n)}`);
      if (moduleAccounts.includes(n)) throw new Error(`bank genesis: module_accounts[${i}]: duplicate module name '${n}'`);
      moduleAccounts.push(n);
    });
  }
  if (raw.denom_metadata !== undefined && !Array.isArray(raw.denom_metadata)) throw new Error('bank genesis: denom_metadata must be an array');
  const metadata = ((raw.denom_metadata ?? []) as unknown[]).map((m, i) => parseMetadata(m, `denom_metadata[${i}]`));
  const bases = new Set<string>();
  for (const m of metadata) {
    if (bases.has(m.base)) throw new Error(`bank genesis: duplicate denom_metadata for '${m.base}'`);
    bases.add(m.base);
  }
  return { balances, supply, burned, moduleAccounts, metadata };
}

export function initBankGenesis(ctx: Context, raw: unknown, accounts: AccountKeeper): void {
  const g = validateBankGenesis(raw);
  const kv = ctx.store(BANK_STORE_PREFIX);
  for (const b of g.balances) {
    for (const c of b.coins) kv.set(balanceKey(b.address, c.denom), encodeAmount(c.amount));
    accounts.ensureAccount(ctx, b.address);
  }
  for (const c of g.supply) kv.set(supplyKey(c.denom), encodeAmount(c.amount));
  for (const c of g.burned) kv.set(burnedKey(c.denom), encodeAmount(c.amount));
  for (const name of g.moduleAccounts) kv.set(moduleAccountKey(moduleAddress(name)), encodeString(name));
  for (const m of g.metadata) kv.set(METADATA_PREFIX + m.base, Metadata.encode(m).finish());
}

export function exportBankGenesis(ctx: Context): BankGenesis {
  const kv = ctx.store(BANK_STORE_PREFIX);
  const balances: BankGenesis['balances'] = [];
  for (const [k, v] of iteratePrefix(kv, BALANCE_PREFIX)) {
    const { address, denom } = parseBalanceKey(k);
    const last = balances[balances.length - 1];
    const coin = { denom, amount: decodeAmount(v).toString() };
    if (last && last.address === address) last.coins.push(coin);
    else balances.push({ address, coins: [coin] });
  }
  const list = (prefix: string) => {
    const out: GenesisCoin[] = [];
    for (const [k, v] of iteratePrefix(kv, prefix)) out.push({ denom: k.slice(prefix.length), amount: decodeAmount(v).toString() });
    return out;
  };
  const moduleAccounts: string[] = [];
  for (const [, v] of iteratePrefix(kv, MODULE_ACCOUNT_PREFIX)) moduleAccounts.push(decodeString(v));
  moduleAccounts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const denomMetadata: DenomMetadataJson[] = [];
  for (const [, v] of iteratePrefix(kv, METADATA_PREFIX)) denomMetadata.push(metadataToJson(Metadata.decode(v)));
  return { balances, supply: list(SUPPLY_PREFIX), burned: list(BURNED_PREFIX), module_accounts: moduleAccounts, denom_metadata: denomMetadata };
}
