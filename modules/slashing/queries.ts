/** Slashing queries at the SDK's paths: Params, SigningInfo (by proofvalcons1… address), SigningInfos. */
import * as Q from 'cosmjs-types/cosmos/slashing/v1beta1/query';
import { ValidatorSigningInfo } from 'cosmjs-types/cosmos/slashing/v1beta1/slashing';
import { fromBech32 } from '@cosmjs/encoding';
import { queryRouter, type QueryRoute } from '../../src/framework/module.js';
import { ErrInvalidAddress } from '../../src/framework/errors.js';
import { PrefixKV } from '../../src/store/kv.js';
import { paginate } from '../../src/framework/paginate.js';
import { VALCONS_PREFIX } from '../staking/addresses.js';
import type { SlashingKeeperImpl } from './keeper.js';
import { ErrNoSigningInfoFound, INFO_PREFIX } from './keys.js';

const route = queryRouter('/cosmos.slashing.v1beta1.Query/');

export function slashingQueryRoutes(k: SlashingKeeperImpl): QueryRoute[] {
  const params = route('Params', Q.QueryParamsRequest, Q.QueryParamsResponse, (ctx) => ({ params: k.params(ctx) }));
  const info = route('SigningInfo', Q.QuerySigningInfoRequest, Q.QuerySigningInfoResponse, (ctx, r) => {
    let bytes: Uint8Array;
    try {
      const d = fromBech32(r.consAddress);
      if (d.prefix !== VALCONS_PREFIX) throw new Error(`prefix '${d.prefix}', expected '${VALCONS_PREFIX}'`);
      bytes = d.data;
    } catch (e) {
      throw ErrInvalidAddress(`invalid cons_address '${r.consAddress}': ${(e as Error).message}`);
    }
    const i = k.signingInfo(ctx, bytes);
    if (i === undefined) throw ErrNoSigningInfoFound(r.consAddress);
    return { valSigningInfo: i };
  });
  const infos = route('SigningInfos', Q.QuerySigningInfosRequest, Q.QuerySigningInfosResponse, (ctx, r) => {
    const out: ValidatorSigningInfo[] = [];
    const pagination = paginate(new PrefixKV(k.store(ctx), INFO_PREFIX), r.pagination, (_k, v) => out.push(ValidatorSigningInfo.decode(v)));
    return { info: out, pagination };
  });
  return [params, info, infos];
}
