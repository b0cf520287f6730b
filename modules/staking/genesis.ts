/**
 * Staking genesis (JSON):
 *
 *   { "params": { "unbonding_time": "1814400s", "max_validators": 100, "max_entries": 7, "historical_entries": 0,
 *                 "bond_denom": "uproof", "min_commission_rate": "0" },
 *     "gen_txs": ["<base64 TxRaw>", …],          // MsgCreateValidator txs signed by each operator (gentxs)
 *     "validators": [], "delegations": [], "unbonding_delegations": [], "redelegations": [],
 *     "last_validator_powers": [{ "address": "proofvaloper1…", "power": "10" }] }
 *
 * `gen_txs` is how a network starts from several independent operators: each signs a tx with a MsgCreateValidator
 * (its consensus key, commission, self-bond) offline (`proofbook genesis gentx`, account number 0), the coordinator
 * collects them (`proofbook genesis collect-gentxs`), and the app delivers them after every module's genesis, as the
 * Cosmos SDK's genutil does. The initial CometBFT validator set is what they create: InitChain returns it (and checks
 * it against genesis.json's validators when that list is not empty).
 *
 * The state lists (what export writes) are the stored Cosmos SDK types in proto3 JSON with snake_case keys; their
 * decimals (shares, rates) are LegacyDec integers of 10^-18 units, as on the wire. The coins behind them live in the
 * bank genesis (bonded_tokens_pool, not_bonded_tokens_pool); the staking invariants, checked after InitChain, tie
 * the two together. Params decimals and durations take the human form ("0.05", "1814400s").
 */
import { Delegation, Params, Redelegation, UnbondingDelegation, Validator, BondStatus } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import type { Context } from '../../src/framework/context.js';
import { AppError } from '../../src/framework/errors.js';
import { addressBytes, parseAddress, type Address } from '../../src/crypto/address.js';
import { iteratePrefix, u64Key, keyToU64 } from '../../src/store/kv.js';
import { formatDec, parseDecHuman, parseDecWire, DEC_ONE } from '../../src/types/dec.js';
import { isValidDenom } from '../../src/types/coins.js';
import { consAddress, ed25519FromAny, parseValoper } from './addresses.js';
import { tokensOf, type StakingKeeperImpl } from './keeper.js';
import {
  DEFAULT_STAKING_PARAMS, DELEGATION_PREFIX, EMPTY, LAST_POWER_PREFIX, RED_PREFIX, UBD_PREFIX, VALIDATOR_PREFIX,
  consKey, lastPowerKey, readA, redQueueKey, ubdQueueKey, valQueueKey,
} from './keys.js';
import { camelJsonKeys, snakeJsonKeys } from '../../src/framework/proto-json.js';

export interface StakingParamsJson {
  unbonding_time: string;
  max_validators: number;
  max_entries: number;
  historical_entries: number;
  bond_denom: string;
  min_commission_rate: string;
}

export interface StakingGenesis {
  params: StakingParamsJson;
  gen_txs: string[];
  validators: unknown[];
  delegations: unknown[];
  unbonding_delegations: unknown[];
  redelegations: unknown[];
  last_validator_powers: { address: string; power: string }[];
}

const bad = (msg: string): never => {
  throw new Error(`staking genesis: ${msg}`);
};

const toJson = <T>(type: { toJSON(m: T): unknown }, m: T): unknown => snakeJsonKeys(type.toJSON(m));
const fromJson = <T>(type: { fromJSON(o: unknown): T }, o: unknown): T => type.fromJSON(camelJsonKeys(o));

export function paramsToJson(p: Params): StakingParamsJson {
  return {
    unbonding_time: `${p.unbondingTime.seconds}s`,
    max_validators: p.maxValidators,
    max_entries: p.maxEntries,
    historical_entries: p.historicalEntries,
    bond_denom: p.bondDenom,
    min_commission_rate: formatDec(parseDecWire(p.minCommissionRate)),
  };
}

export function paramsFromJson(j: Partial<StakingParamsJson>): Params {
  const d = paramsToJson(DEFAULT_STAKING_PARAMS);
  const m = /^([0-9]{1,12})s$/.exec(j.unbonding_time ?? d.unbonding_time);
  if (!m) bad(`unbonding_time '${j.unbonding_time}' must be whole seconds like "1814400s"`);
  const int = (v: unknown, name: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > 0xffffffff) bad(`${name} must be an integer ≥ ${min}`);
    return n;
  };
  const denom = j.bond_denom ?? d.bond_denom;
  if (!isValidDenom(denom)) bad(`bond_denom '${denom}' is not a valid denom`);
  let minRate: bigint;
  try {
    minRate = parseDecHuman(j.min_commission_rate ?? '0', 'min_commission_rate');
  } catch (e) {
    return bad((e as Error).message);
  }
  if (minRate > DEC_ONE) bad('min_commission_rate must be ≤ 1');
  return {
    unbondingTime: { seconds: BigInt(m![1]!), nanos: 0 },
    maxValidators: int(j.max_validators ?? d.max_validators, 'max_validators', 1),
    maxEntries: int(j.max_entries ?? d.max_entries, 'max_entries', 1),
    historicalEntries: int(j.historical_entries ?? 0, 'historical_entries', 0),
    bondDenom: denom,
    minCommissionRate: minRate.toString(),
  };
}

export function defaultStakingGenesis(): StakingGenesis {
  return {
    params: paramsToJson(DEFAULT_STAKING_PARAMS), gen_txs: [], validators: [], delegations: [], unbonding_delegations: [], redelegations: [],
    last_validator_powers: [],
  };
}

export function stakingGenesisTxs(state: unknown): Uint8Array[] {
  const g = (state ?? {}) as Partial<StakingGenesis>;
  if (g.gen_txs === undefined) return [];
  if (!Array.isArray(g.gen_txs)) bad('gen_txs must be a list of base64 strings');
  return g.gen_txs.map((s, i) => {
    if (typeof s !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) bad(`gen_txs[${i}] is not base64`);
    return new Uint8Array(Buffer.from(s, 'base64'));
  });
}

export function initStakingGenesis(ctx: Context, state: unknown, k: StakingKeeperImpl): void {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) bad('must be an object');
  const g = state as Partial<StakingGenesis>;
  const known = new Set(['params', 'gen_txs', 'validators', 'delegations', 'unbonding_delegations', 'redelegations', 'last_validator_powers']);
  for (const key of Object.keys(g).sort()) if (!known.has(key)) bad(`unknown field '${key}'`);
  const params = paramsFromJson(g.params ?? {});
  stakingGenesisTxs(g);
  try {
    const kv = k.store(ctx);
    k.setParams(ctx, params);
    const vals = (g.validators ?? []).map((o) => fromJson(Validator, o));
    const seenCons = new Set<string>();
    for (const v of vals) {
      const op = parseValoper(v.operatorAddress, 'validator.operator_address');
      if (op.valoper !== v.operatorAddress) bad(`validator address ${v.operatorAddress} is not canonical`);
      const cons = Buffer.from(consAddress(ed25519FromAny(v.consensusPubkey))).toString('hex');
      if (seenCons.has(cons)) bad(`two validators share the consensus key of ${v.operatorAddress}`);
      seenCons.add(cons);
      if (k.validator(ctx, op.bytes) !== undefined) bad(`validator ${v.operatorAddress} listed twice`);
      if (tokensOf(v) < 0n) bad(`validator ${v.operatorAddress} has negative tokens`);
      k.setValidator(ctx, v);
      kv.set(consKey(consAddress(ed25519FromAny(v.consensusPubkey))), op.bytes);
      if (v.status === BondStatus.BOND_STATUS_UNBONDING) kv.set(valQueueKey(v.unbondingTime.seconds, op.bytes), EMPTY);
    }
    for (const o of g.delegations ?? []) {
      const d = fromJson(Delegation, o);
      const del = parseAddress(d.delegatorAddress);
      const op = parseValoper(d.validatorAddress, 'delegation.validator_address');
      if (k.validator(ctx, op.bytes) === undefined) bad(`delegation to unknown validator ${d.validatorAddress}`);
      if (parseDecWire(d.shares) <= 0n) bad(`delegation of ${del} to ${d.validatorAddress} has no shares`);
      k.setDelegation(ctx, { ...d, delegatorAddress: del }, op.bytes);
    }
    for (const o of g.unbonding_delegations ?? []) {
      const u = fromJson(UnbondingDelegation, o);
      const del = addressBytes(parseAddress(u.delegatorAddress) as Address);
      const op = parseValoper(u.validatorAddress, 'unbonding_delegation.validator_address');
      if (u.entries.length === 0) bad(`unbonding delegation of ${u.delegatorAddress} has no entries`);
      k.setUbd(ctx, u, del, op.bytes);
      for (const e of u.entries) kv.set(ubdQueueKey(e.completionTime.seconds, del, op.bytes), EMPTY);
    }
    for (const o of g.redelegations ?? []) {
      const r = fromJson(Redelegation, o);
      const del = addressBytes(parseAddress(r.delegatorAddress) as Address);
      const src = parseValoper(r.validatorSrcAddress).bytes;
      const dst = parseValoper(r.validatorDstAddress).bytes;
      if (r.entries.length === 0) bad(`redelegation of ${r.delegatorAddress} has no entries`);
      k.setRedelegation(ctx, r, del, src, dst);
      for (const e of r.entries) kv.set(redQueueKey(e.completionTime.seconds, del, src, dst), EMPTY);
    }
    for (const lp of g.last_validator_powers ?? []) {
      const op = parseValoper(lp.address, 'last_validator_powers.address');
      const v = k.validator(ctx, op.bytes);
      if (v === undefined || v.status !== BondStatus.BOND_STATUS_BONDED) bad(`last_validator_powers names ${lp.address}, which is not a bonded validator`);
      kv.set(lastPowerKey(op.bytes), new Uint8Array(Buffer.from(u64Key(BigInt(lp.power)), 'latin1')));
    }
  } catch (e) {
    if (e instanceof AppError) bad(e.message);
    throw e;
  }
}

export function exportStakingGenesis(ctx: Context, k: StakingKeeperImpl): StakingGenesis {
  const kv = k.store(ctx);
  const list = <T>(prefix: string, type: { decode(b: Uint8Array): T; toJSON(m: T): unknown }) => {
    const out: unknown[] = [];
    for (const [, v] of iteratePrefix(kv, prefix)) out.push(toJson(type, type.decode(v)));
    return out;
  };
  const last: { address: string; power: string }[] = [];
  for (const [key, v] of iteratePrefix(kv, LAST_POWER_PREFIX)) {
    last.push({ address: (k.validator(ctx, readA(key, 1)[0]) as Validator).operatorAddress, power: keyToU64(Buffer.from(v).toString('latin1')).toString() });
  }
  return {
    params: paramsToJson(k.params(ctx)),
    gen_txs: [],
    validators: list(VALIDATOR_PREFIX, Validator),
    delegations: list(DELEGATION_PREFIX, Delegation),
    unbonding_delegations: list(UBD_PREFIX, UnbondingDelegation),
    redelegations: list(RED_PREFIX, Redelegation),
    last_validator_powers: last,
  };
}
