/**
 * Distribution genesis (JSON), the SDK's GenesisState in proto3 JSON with snake_case names:
 *   { "params": { "community_tax": "0.000000000000000000", "withdraw_addr_enabled": true },
 *     "fee_pool": { "community_pool": [] }, "delegator_withdraw_infos": [], "outstanding_rewards": [],
 *     "validator_accumulated_commissions": [], "validator_historical_rewards": [], "validator_current_rewards": [],
 *     "delegator_starting_infos": [], "validator_slash_events": [] }
 * community_tax in the human form (≤ 1); every other decimal (DecCoin amounts, stakes, ratios, fractions) in the wire
 * form: the atto-unit integer ("1500000000000000000" is 1.5), as the staking genesis writes shares. An exported state
 * imports to the same state. Validators and delegations staking knows that have no record here (a hand-written
 * genesis, or gentxs — those arrive later through the hooks) get fresh records: rewards start at genesis.
 * The `distribution` account's balance is the bank genesis' business; the module-balance invariant checks it.
 */
import { GenesisState } from 'cosmjs-types/cosmos/distribution/v1beta1/genesis';
import type { Context } from '../../src/framework/context.js';
import { AppError } from '../../src/framework/errors.js';
import { addressBytes, parseAddress } from '../../src/crypto/address.js';
import { iteratePrefix, keyToU64 } from '../../src/store/kv.js';
import { formatDec, parseDecHuman, parseDecWire, DEC_ONE } from '../../src/types/dec.js';
import { addressFromBytes } from '../../src/crypto/address.js';
import { parseValoper, valoperFromBytes } from '../staking/addresses.js';
import * as D from './deccoins.js';
import { valBytesOf, type DistributionKeeperImpl } from './keeper.js';
import type { DistrStakingKeeper } from './expected.js';
import {
  DEFAULT_DISTRIBUTION_PARAMS, HISTORICAL_PREFIX, OUTSTANDING_PREFIX, SLASH_EVENT_PREFIX, STARTING_PREFIX, WITHDRAW_PREFIX, readA, slashKey, withdrawKey,
} from './keys.js';
import { ValidatorSlashEvent } from 'cosmjs-types/cosmos/distribution/v1beta1/distribution';
import { camelJsonKeys, snakeJsonKeys } from '../../src/framework/proto-json.js';

export type DistributionGenesis = Record<string, unknown>;

const bad = (msg: string): never => {
  throw new Error(`distribution genesis: ${msg}`);
};
const KNOWN = new Set([
  'params', 'fee_pool', 'delegator_withdraw_infos', 'previous_proposer', 'outstanding_rewards', 'validator_accumulated_commissions',
  'validator_historical_rewards', 'validator_current_rewards', 'delegator_starting_infos', 'validator_slash_events',
]);

export function defaultDistributionGenesis(): DistributionGenesis {
  const g = snakeJsonKeys(GenesisState.toJSON(GenesisState.fromPartial({ params: DEFAULT_DISTRIBUTION_PARAMS }))) as DistributionGenesis;
  return { ...g, params: { community_tax: formatDec(0n), withdraw_addr_enabled: true } };
}

export function initDistributionGenesis(ctx: Context, state: unknown, k: DistributionKeeperImpl, staking: DistrStakingKeeper): void {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) bad('must be an object');
  const raw = state as Record<string, unknown>;
  for (const key of Object.keys(raw).sort()) if (!KNOWN.has(key)) bad(`unknown field '${key}'`);
  const p = (raw.params ?? {}) as { community_tax?: string; withdraw_addr_enabled?: boolean };
  let tax = 0n;
  try {
    tax = parseDecHuman(p.community_tax ?? '0', 'community_tax');
  } catch (e) {
    bad((e as Error).message);
  }
  if (tax > DEC_ONE) bad('community_tax must be ≤ 1');
  if (p.withdraw_addr_enabled !== undefined && typeof p.withdraw_addr_enabled !== 'boolean') bad('withdraw_addr_enabled must be true or false');
  let g: GenesisState;
  try {
    g = GenesisState.fromJSON(camelJsonKeys({ ...raw, params: {} }));
  } catch (e) {
    return bad((e as Error).message);
  }
  const dec = (s: string, what: string) => {
    try {
      return parseDecWire(s, what);
    } catch (e) {
      return bad((e as Error).message);
    }
  };
  const coins = (c: { denom: string; amount: string }[], what: string) => {
    try {
      return D.fromProto(c, what);
    } catch (e) {
      return bad((e as Error).message);
    }
  };
  const val = (s: string, what: string) => {
    try {
      return parseValoper(s, what).bytes;
    } catch (e) {
      return bad((e as AppError).message);
    }
  };
  const acc = (s: string, what: string) => {
    try {
      return parseAddress(s);
    } catch (e) {
      return bad(`${what}: ${(e as Error).message}`);
    }
  };
  k.setParams(ctx, { communityTax: tax.toString(), baseProposerReward: '0', bonusProposerReward: '0', withdrawAddrEnabled: p.withdraw_addr_enabled ?? true });
  k.setCommunityPool(ctx, coins(g.feePool?.communityPool ?? [], 'community_pool'));
  const kv = k.store(ctx);
  for (const w of g.delegatorWithdrawInfos) kv.set(withdrawKey(addressBytes(acc(w.delegatorAddress, 'delegator_address'))), addressBytes(acc(w.withdrawAddress, 'withdraw_address')));
  for (const o of g.outstandingRewards) k.setOutstanding(ctx, val(o.validatorAddress, 'outstanding_rewards'), coins(o.outstandingRewards, 'outstanding_rewards'));
  for (const c of g.validatorAccumulatedCommissions) k.setCommission(ctx, val(c.validatorAddress, 'commission'), coins(c.accumulated?.commission ?? [], 'commission'));
  for (const h of g.validatorHistoricalRewards) {
    k.setHistorical(ctx, val(h.validatorAddress, 'historical_rewards'), h.period, coins(h.rewards?.cumulativeRewardRatio ?? [], 'cumulative_reward_ratio'), h.rewards?.referenceCount ?? 0);
  }
  for (const c of g.validatorCurrentRewards) k.setCurrent(ctx, val(c.validatorAddress, 'current_rewards'), coins(c.rewards?.rewards ?? [], 'current_rewards'), c.rewards?.period ?? 0n);
  for (const s of g.delegatorStartingInfos) {
    const info = s.startingInfo ?? bad('delegator_starting_infos entry without starting_info');
    dec(info.stake, 'stake');
    k.setStartingInfo(ctx, val(s.validatorAddress, 'starting_info'), addressBytes(acc(s.delegatorAddress, 'delegator_address')), info);
  }
  for (const e of g.validatorSlashEvents) {
    const ev = e.validatorSlashEvent ?? bad('validator_slash_events entry without validator_slash_event');
    if (dec(ev.fraction, 'fraction') > DEC_ONE) bad('slash fraction above 1');
    kv.set(slashKey(val(e.validatorAddress, 'slash_event'), e.height, e.period), ValidatorSlashEvent.encode(ev).finish());
  }
  // Records for what staking holds without one (a hand-written genesis): rewards start now.
  try {
    for (const v of staking.allValidators(ctx)) {
      const vb = valBytesOf(v);
      if (k.current(ctx, vb) === undefined) k.initializeValidator(ctx, vb);
      for (const d of staking.delegationsTo(ctx, vb)) {
        if (k.startingInfo(ctx, vb, addressBytes(acc(d.delegatorAddress, 'delegation'))) === undefined) k.initializeDelegation(ctx, vb, acc(d.delegatorAddress, 'delegation'));
      }
    }
  } catch (e) {
    if (e instanceof AppError) bad(e.message);
    throw e;
  }
}

export function exportDistributionGenesis(ctx: Context, k: DistributionKeeperImpl): DistributionGenesis {
  const kv = k.store(ctx);
  const vals: Uint8Array[] = [];
  for (const [key] of iteratePrefix(kv, OUTSTANDING_PREFIX)) vals.push(readA(key, 1)[0]);
  const withdraw = [];
  for (const [key, v] of iteratePrefix(kv, WITHDRAW_PREFIX)) withdraw.push({ delegatorAddress: addressFromBytes(readA(key, 1)[0]), withdrawAddress: addressFromBytes(v) });
  const historical = [];
  for (const [key] of iteratePrefix(kv, HISTORICAL_PREFIX)) {
    const [vb, off] = readA(key, 1);
    const period = keyToU64(key, off);
    const h = k.historical(ctx, vb, period)!;
    historical.push({ validatorAddress: valoperFromBytes(vb), period, rewards: { cumulativeRewardRatio: D.toProto(h.ratio), referenceCount: h.refs } });
  }
  const starting = [];
  for (const [key] of iteratePrefix(kv, STARTING_PREFIX)) {
    const [vb, off] = readA(key, 1);
    const [db] = readA(key, off);
    starting.push({ delegatorAddress: addressFromBytes(db), validatorAddress: valoperFromBytes(vb), startingInfo: k.startingInfo(ctx, vb, db)! });
  }
  const slashes = [];
  for (const [key, v] of iteratePrefix(kv, SLASH_EVENT_PREFIX)) {
    const [vb, off] = readA(key, 1);
    slashes.push({ validatorAddress: valoperFromBytes(vb), height: keyToU64(key, off), period: keyToU64(key, off + 8), validatorSlashEvent: ValidatorSlashEvent.decode(v) });
  }
  const p = k.params(ctx);
  const g = GenesisState.fromPartial({
    params: p,
    feePool: { communityPool: D.toProto(k.communityPool(ctx)) },
    delegatorWithdrawInfos: withdraw,
    outstandingRewards: vals.map((vb) => ({ validatorAddress: valoperFromBytes(vb), outstandingRewards: D.toProto(k.outstanding(ctx, vb) ?? []) })),
    validatorAccumulatedCommissions: vals.map((vb) => ({ validatorAddress: valoperFromBytes(vb), accumulated: { commission: D.toProto(k.commission(ctx, vb) ?? []) } })),
    validatorHistoricalRewards: historical,
    validatorCurrentRewards: vals.map((vb) => { const c = k.current(ctx, vb)!; return { validatorAddress: valoperFromBytes(vb), rewards: { rewards: D.toProto(c.rewards), period: c.period } }; }),
    delegatorStartingInfos: starting,
    validatorSlashEvents: slashes,
  });
  const out = snakeJsonKeys(GenesisState.toJSON(g)) as DistributionGenesis;
  return { ...out, params: { community_tax: formatDec(parseDecWire(p.communityTax)), withdraw_addr_enabled: p.withdrawAddrEnabled } };
}
