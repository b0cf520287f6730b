/**
 * Slashing genesis (JSON): { "params": { "signed_blocks_window": "100", "min_signed_per_window": "0.5",
 * "downtime_jail_duration": "600s", "slash_fraction_double_sign": "0.05", "slash_fraction_downtime": "0.01" },
 * "signing_infos": [{ "address": "proofvalcons1…", "start_height": "0", "index_offset": "0", "jailed_until": "0",
 * "tombstoned": false, "missed_blocks_counter": "0", "missed": ["3", "7"] }] }
 * Decimals in the human form; jailed_until in seconds; `missed` lists the window positions marked missed.
 */
import type { Params } from 'cosmjs-types/cosmos/slashing/v1beta1/slashing';
import { fromBech32 } from '@cosmjs/encoding';
import type { Context } from '../../src/framework/context.js';
import { iteratePrefix, keyToU64 } from '../../src/store/kv.js';
import { formatDec, parseDecHuman, DEC_ONE } from '../../src/types/dec.js';
import { VALCONS_PREFIX } from '../staking/addresses.js';
import type { SlashingKeeperImpl } from './keeper.js';
import { DEFAULT_SLASHING_PARAMS, EMPTY, INFO_PREFIX, decBytes, decFromBytes, missedKey, missedPrefix } from './keys.js';

export interface SlashingParamsJson {
  signed_blocks_window: string;
  min_signed_per_window: string;
  downtime_jail_duration: string;
  slash_fraction_double_sign: string;
  slash_fraction_downtime: string;
}
export interface SigningInfoJson {
  address: string;
  start_height: string;
  index_offset: string;
  jailed_until: string;
  tombstoned: boolean;
  missed_blocks_counter: string;
  missed: string[];
}
export interface SlashingGenesis {
  params: SlashingParamsJson;
  signing_infos: SigningInfoJson[];
}

const bad = (msg: string): never => {
  throw new Error(`slashing genesis: ${msg}`);
};

export function slashingParamsToJson(p: Params): SlashingParamsJson {
  return {
    signed_blocks_window: p.signedBlocksWindow.toString(),
    min_signed_per_window: formatDec(decFromBytes(p.minSignedPerWindow, 'min_signed_per_window')),
    downtime_jail_duration: `${p.downtimeJailDuration.seconds}s`,
    slash_fraction_double_sign: formatDec(decFromBytes(p.slashFractionDoubleSign, 'slash_fraction_double_sign')),
    slash_fraction_downtime: formatDec(decFromBytes(p.slashFractionDowntime, 'slash_fraction_downtime')),
  };
}

function fraction(s: string | undefined, def: string, name: string): Uint8Array {
  let v: bigint;
  try {
    v = parseDecHuman(s ?? def, name);
  } catch (e) {
    return bad((e as Error).message);
  }
  if (v > DEC_ONE) bad(`${name} must be ≤ 1`);
  return decBytes(v);
}

export function slashingParamsFromJson(j: Partial<SlashingParamsJson>): Params {
  const d = slashingParamsToJson(DEFAULT_SLASHING_PARAMS);
  const window = BigInt(/^[1-9][0-9]{0,9}$/.test(j.signed_blocks_window ?? d.signed_blocks_window) ? (j.signed_blocks_window ?? d.signed_blocks_window) : bad('signed_blocks_window must be a positive integer'));
  const jail = /^([0-9]{1,12})s$/.exec(j.downtime_jail_duration ?? d.downtime_jail_duration) ?? bad('downtime_jail_duration must be whole seconds like "600s"');
  return {
    signedBlocksWindow: window,
    minSignedPerWindow: fraction(j.min_signed_per_window, d.min_signed_per_window, 'min_signed_per_window'),
    downtimeJailDuration: { seconds: BigInt(jail[1]!), nanos: 0 },
    slashFractionDoubleSign: fraction(j.slash_fraction_double_sign, d.slash_fraction_double_sign, 'slash_fraction_double_sign'),
    slashFractionDowntime: fraction(j.slash_fraction_downtime, d.slash_fraction_downtime, 'slash_fraction_downtime'),
  };
}

export function defaultSlashingGenesis(): SlashingGenesis {
  return { params: slashingParamsToJson(DEFAULT_SLASHING_PARAMS), signing_infos: [] };
}

export function initSlashingGenesis(ctx: Context, state: unknown, k: SlashingKeeperImpl): void {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) bad('must be an object');
  const g = state as Partial<SlashingGenesis>;
  for (const key of Object.keys(g).sort()) if (key !== 'params' && key !== 'signing_infos') bad(`unknown field '${key}'`);
  k.setParams(ctx, slashingParamsFromJson(g.params ?? {}));
  const kv = k.store(ctx);
  for (const s of g.signing_infos ?? []) {
    let cons: Uint8Array;
    try {
      const dec = fromBech32(s.address);
      if (dec.prefix !== VALCONS_PREFIX) throw new Error(`prefix ${dec.prefix}`);
      cons = dec.data;
    } catch (e) {
      return bad(`signing info address '${s.address}': ${(e as Error).message}`);
    }
    k.setSigningInfo(ctx, cons, {
      address: s.address, startHeight: BigInt(s.start_height), indexOffset: BigInt(s.index_offset), jailedUntil: { seconds: BigInt(s.jailed_until), nanos: 0 },
      tombstoned: s.tombstoned, missedBlocksCounter: BigInt(s.missed_blocks_counter),
    });
    for (const i of s.missed ?? []) kv.set(missedKey(cons, BigInt(i)), EMPTY);
  }
}

export function exportSlashingGenesis(ctx: Context, k: SlashingKeeperImpl): SlashingGenesis {
  const kv = k.store(ctx);
  const infos: SigningInfoJson[] = [];
  for (const [key] of iteratePrefix(kv, INFO_PREFIX)) {
    const cons = new Uint8Array(Buffer.from(key.slice(2), 'latin1'));
    const i = k.signingInfo(ctx, cons)!;
    const prefix = missedPrefix(cons);
    const missed: string[] = [];
    for (const [mk] of iteratePrefix(kv, prefix)) missed.push(keyToU64(mk, prefix.length).toString());
    infos.push({
      address: i.address, start_height: i.startHeight.toString(), index_offset: i.indexOffset.toString(), jailed_until: i.jailedUntil.seconds.toString(),
      tombstoned: i.tombstoned, missed_blocks_counter: i.missedBlocksCounter.toString(), missed,
    });
  }
  return { params: slashingParamsToJson(k.params(ctx)), signing_infos: infos };
}
