/**
 * Bond genesis (JSON, Cosmos-style snake_case, uint64 and amounts as decimal strings):
 *
 *   { "params": { "collateral_denoms": ["uproof"], "unbonding_blocks": "100", "max_misses": "3", "jail_blocks": "200" },
 *     "provers": [{ "address": "proof1…", "bonded": [{ "denom": "uproof", "amount": "5000" }], "locked": [],
 *                   "jailed": false, "jailed_until": "0", "recent_misses": "0", "slashed": [] }],
 *     "unbondings": [{ "id": "1", "address": "proof1…", "amount": [...], "creation_height": "10", "completion_height": "110" }],
 *     "next_unbonding_id": "2" }
 *
 * The coins themselves live in the bank genesis (the 'bond' module account's balance); the bond/module-balance
 * invariant, checked after InitChain, ties the two together. initGenesis validates everything before writing anything;
 * export lists provers by address key and unbondings by id, so export → init → export is the identity.
 */
import type { Context } from '../../src/framework/context.js';
import { isJsonObject } from '../../src/framework/proto-json.js';
import { AppError } from '../../src/framework/errors.js';
import { parseAddress, type Address } from '../../src/crypto/address.js';
import { isValidDenom } from '../../src/types/coins.js';
import { iteratePrefix } from '../../src/store/kv.js';
import { Prover, UnbondingEntry, type Params } from '../../src/gen/proofbook/bond/v1/bond.js';
import type { Coin as ProtoCoin } from '../../src/gen/proofbook/base/v1/base.js';
import { amountIn, msgAmount, type BondKeeperImpl } from './keeper.js';
import { DEFAULT_PARAMS, PROVER_PREFIX, UNBONDING_PREFIX, proverKey } from './keys.js';

export interface CoinJson {
  denom: string;
  amount: string;
}
export interface BondParamsJson {
  collateral_denoms: string[];
  unbonding_blocks: string;
  max_misses: string;
  jail_blocks: string;
}
export interface ProverJson {
  address: string;
  bonded: CoinJson[];
  locked: CoinJson[];
  jailed: boolean;
  jailed_until: string;
  recent_misses: string;
  slashed: CoinJson[];
}
export interface UnbondingJson {
  id: string;
  address: string;
  amount: CoinJson[];
  creation_height: string;
  completion_height: string;
}
export interface BondGenesis {
  params: BondParamsJson;
  provers: ProverJson[];
  unbondings: UnbondingJson[];
  next_unbonding_id: string;
}

const coinsJson = (l: readonly ProtoCoin[]): CoinJson[] => l.map((c) => ({ denom: c.denom, amount: c.amount }));

export function bondParamsToJson(p: Params): BondParamsJson {
  return {
    collateral_denoms: [...p.collateralDenoms],
    unbonding_blocks: p.unbondingBlocks.toString(),
    max_misses: p.maxMisses.toString(),
    jail_blocks: p.jailBlocks.toString(),
  };
}

export function proverToJson(p: Prover): ProverJson {
  return {
    address: p.address,
    bonded: coinsJson(p.bonded),
    locked: coinsJson(p.locked),
    jailed: p.jailed,
    jailed_until: p.jailedUntil.toString(),
    recent_misses: p.recentMisses.toString(),
    slashed: coinsJson(p.slashed),
  };
}

export function unbondingToJson(e: UnbondingEntry): UnbondingJson {
  return {
    id: e.id.toString(),
    address: e.address,
    amount: coinsJson(e.amount),
    creation_height: e.creationHeight.toString(),
    completion_height: e.completionHeight.toString(),
  };
}

export function defaultBondGenesis(): BondGenesis {
  return { params: bondParamsToJson(DEFAULT_PARAMS), provers: [], unbondings: [], next_unbonding_id: '1' };
}

// ---- parsing ------------------------------------------------------------------------------------------------------

const fail = (msg: string): never => {
  throw new Error(`bond genesis: ${msg}`);
};

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${where}: unknown field '${k}' (expected ${allowed.join(', ')})`);
}

function u64(v: unknown, where: string): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(v) || BigInt(v) > 0xffffffffffffffffn) {
    fail(`${where} must be a uint64 decimal string, got ${JSON.stringify(v)}`);
  }
  return BigInt(v as string);
}

function address(v: unknown, where: string): Address {
  if (typeof v !== 'string') return fail(`${where} must be a bech32 address string`);
  try {
    const a = parseAddress(v);
    if (a !== v) fail(`${where} must be in canonical (lowercase) form: ${a}`);
    return a;
  } catch (e) {
    if ((e as Error).message.startsWith('bond genesis')) throw e;
    return fail(`${where}: ${(e as Error).message}`);
  }
}

/** Coins list: positive amounts, valid unique denoms, sorted by denom (the stored form). Empty allowed. */
function coinList(v: unknown, where: string): ProtoCoin[] {
  if (!Array.isArray(v)) return fail(`${where} must be an array of {denom, amount}`);
  const out = v.map((c, i) => {
    if (!isJsonObject(c) || typeof c.denom !== 'string' || typeof c.amount !== 'string') fail(`${where}[${i}] must be {denom, amount} strings`);
    onlyKeys(c as Record<string, unknown>, ['denom', 'amount'], `${where}[${i}]`);
    return { denom: (c as CoinJson).denom, amount: (c as CoinJson).amount };
  });
  if (out.length === 0) return out;
  try {
    msgAmount(out, where);
  } catch (e) {
    fail((e as AppError).message);
  }
  for (let i = 1; i < out.length; i++) if (!(out[i - 1].denom < out[i].denom)) fail(`${where} must be sorted by denom`);
  return out;
}

export function bondParamsFromJson(v: unknown): Params {
  if (!isJsonObject(v)) return fail('params must be an object');
  onlyKeys(v, ['collateral_denoms', 'unbonding_blocks', 'max_misses', 'jail_blocks'], 'params');
  if (!Array.isArray(v.collateral_denoms)) return fail('params.collateral_denoms must be an array of denoms');
  const denoms = v.collateral_denoms.map((d, i) => {
    if (typeof d !== 'string' || !isValidDenom(d)) fail(`params.collateral_denoms[${i}] is not a valid denom: ${JSON.stringify(d)}`);
    return d as string;
  });
  if (new Set(denoms).size !== denoms.length) fail('params.collateral_denoms has duplicates');
  const p: Params = {
    collateralDenoms: denoms,
    unbondingBlocks: u64(v.unbonding_blocks, 'params.unbonding_blocks'),
    maxMisses: u64(v.max_misses, 'params.max_misses'),
    jailBlocks: u64(v.jail_blocks, 'params.jail_blocks'),
  };
  if (p.maxMisses === 0n) fail('params.max_misses must be at least 1');
  return p;
}

function proverFromJson(v: unknown, where: string): Prover {
  if (!isJsonObject(v)) return fail(`${where} must be an object`);
  onlyKeys(v, ['address', 'bonded', 'locked', 'jailed', 'jailed_until', 'recent_misses', 'slashed'], where);
  if (typeof v.jailed !== 'boolean') fail(`${where}.jailed must be true or false`);
  const p: Prover = {
    address: address(v.address, `${where}.address`),
    bonded: coinList(v.bonded, `${where}.bonded`),
    locked: coinList(v.locked, `${where}.locked`),
    jailed: v.jailed as boolean,
    jailedUntil: u64(v.jailed_until, `${where}.jailed_until`),
    recentMisses: u64(v.recent_misses, `${where}.recent_misses`),
    slashed: coinList(v.slashed, `${where}.slashed`),
  };
  for (const c of p.locked) {
    if (BigInt(c.amount) > amountIn(p.bonded, c.denom)) fail(`${where}: locked ${c.amount}${c.denom} exceeds bonded ${amountIn(p.bonded, c.denom)}${c.denom}`);
  }
  if (!p.jailed && p.jailedUntil !== 0n) fail(`${where}: jailed_until must be 0 when not jailed`);
  return p;
}

function unbondingFromJson(v: unknown, where: string): UnbondingEntry {
  if (!isJsonObject(v)) return fail(`${where} must be an object`);
  onlyKeys(v, ['id', 'address', 'amount', 'creation_height', 'completion_height'], where);
  const e: UnbondingEntry = {
    id: u64(v.id, `${where}.id`),
    address: address(v.address, `${where}.address`),
    amount: coinList(v.amount, `${where}.amount`),
    creationHeight: u64(v.creation_height, `${where}.creation_height`),
    completionHeight: u64(v.completion_height, `${where}.completion_height`),
  };
  if (e.id === 0n) fail(`${where}.id must be positive`);
  if (e.amount.length === 0) fail(`${where}.amount cannot be empty`);
  if (e.completionHeight < e.creationHeight) fail(`${where}: completion_height ${e.completionHeight} is before creation_height ${e.creationHeight}`);
  return e;
}

export interface ValidBondGenesis {
  params: Params;
  provers: Prover[];
  unbondings: UnbondingEntry[];
  nextUnbondingId: bigint;
}

export function validateBondGenesis(state: unknown): ValidBondGenesis {
  if (!isJsonObject(state)) return fail('must be an object {params, provers, unbondings, next_unbonding_id}');
  onlyKeys(state, ['params', 'provers', 'unbondings', 'next_unbonding_id'], 'top level');
  const params = bondParamsFromJson(state.params);
  if (!Array.isArray(state.provers)) fail('provers must be an array');
  if (!Array.isArray(state.unbondings)) fail('unbondings must be an array');
  const provers = (state.provers as unknown[]).map((p, i) => proverFromJson(p, `provers[${i}]`));
  const seen = new Set<string>();
  for (const p of provers) {
    if (seen.has(p.address)) fail(`prover ${p.address} listed twice`);
    seen.add(p.address);
  }
  const unbondings = (state.unbondings as unknown[]).map((e, i) => unbondingFromJson(e, `unbondings[${i}]`));
  const ids = new Set<bigint>();
  let maxId = 0n;
  for (const e of unbondings) {
    if (ids.has(e.id)) fail(`unbonding id ${e.id} listed twice`);
    ids.add(e.id);
    if (e.id > maxId) maxId = e.id;
    if (!seen.has(e.address)) fail(`unbonding ${e.id} belongs to ${e.address}, which is not among the provers`);
  }
  const nextUnbondingId = u64(state.next_unbonding_id, 'next_unbonding_id');
  if (nextUnbondingId === 0n) fail('next_unbonding_id must be at least 1');
  if (nextUnbondingId <= maxId) fail(`next_unbonding_id ${nextUnbondingId} must exceed every unbonding id (max ${maxId})`);
  return { params, provers, unbondings, nextUnbondingId };
}

export function initBondGenesis(ctx: Context, state: unknown, keeper: BondKeeperImpl): void {
  const g = validateBondGenesis(state);
  keeper.setParams(ctx, g.params);
  for (const p of g.provers) keeper.setProver(ctx, p);
  for (const e of g.unbondings) keeper.putUnbonding(ctx, e);
  keeper.setNextUnbondingId(ctx, g.nextUnbondingId);
}

export function exportBondGenesis(ctx: Context, keeper: BondKeeperImpl): BondGenesis {
  const kv = keeper.store(ctx);
  const provers: ProverJson[] = [];
  for (const [k, v] of iteratePrefix(kv, PROVER_PREFIX)) {
    const p = Prover.decode(v);
    if (k !== proverKey(p.address as Address)) throw new Error(`bond export: prover ${p.address} stored under the wrong key`);
    provers.push(proverToJson(p));
  }
  const unbondings: UnbondingJson[] = [];
  for (const [, v] of iteratePrefix(kv, UNBONDING_PREFIX)) unbondings.push(unbondingToJson(UnbondingEntry.decode(v)));
  return { params: bondParamsToJson(keeper.params(ctx)), provers, unbondings, next_unbonding_id: keeper.nextUnbondingId(ctx).toString() };
}
