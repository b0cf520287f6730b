/** MsgUnjail (`/cosmos.slashing.v1beta1.MsgUnjail`), signed by the validator's operator account. */
import { MsgUnjail, MsgUnjailResponse } from 'cosmjs-types/cosmos/slashing/v1beta1/tx';
import type { MsgRoute } from '../../src/framework/module.js';
import { parseValoper } from '../staking/addresses.js';
import type { SlashingKeeperImpl } from './keeper.js';

export const MSG_UNJAIL = '/cosmos.slashing.v1beta1.MsgUnjail';

export function slashingMsgRoutes(k: SlashingKeeperImpl): MsgRoute[] {
  const unjail: MsgRoute<MsgUnjail, MsgUnjailResponse> = {
    typeUrl: MSG_UNJAIL,
    type: MsgUnjail,
    responseTypeUrl: '/cosmos.slashing.v1beta1.MsgUnjailResponse',
    responseType: MsgUnjailResponse,
    signers: (m) => [parseValoper(m.validatorAddr, 'validator_addr').account],
    validateBasic: (m) => void parseValoper(m.validatorAddr, 'validator_addr'),
    handle(ctx, m) {
      const op = parseValoper(m.validatorAddr, 'validator_addr');
      k.unjail(ctx, op.bytes);
      ctx.emit('unjail', [['validator', op.valoper]]);
      return {};
    },
  };
  return [unjail];
}
