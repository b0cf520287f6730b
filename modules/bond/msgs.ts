/** Bond messages: MsgBond, MsgUnbond, MsgUnjail (see keeper.ts for the rules). */
import type { MsgRoute } from '../../src/framework/module.js';
import {
  MsgBond,
  MsgBondResponse,
  MsgUnbond,
  MsgUnbondResponse,
  MsgUnjail,
  MsgUnjailResponse,
} from '../../src/gen/proofbook/bond/v1/bond.js';
import { msgAmount, proverAddress, type BondKeeperImpl } from './keeper.js';

export const MSG_BOND_TYPE_URL = '/proofbook.bond.v1.MsgBond';
export const MSG_BOND_RESPONSE_TYPE_URL = '/proofbook.bond.v1.MsgBondResponse';
export const MSG_UNBOND_TYPE_URL = '/proofbook.bond.v1.MsgUnbond';
export const MSG_UNBOND_RESPONSE_TYPE_URL = '/proofbook.bond.v1.MsgUnbondResponse';
export const MSG_UNJAIL_TYPE_URL = '/proofbook.bond.v1.MsgUnjail';
export const MSG_UNJAIL_RESPONSE_TYPE_URL = '/proofbook.bond.v1.MsgUnjailResponse';

export function bondMsgRoutes(keeper: BondKeeperImpl): MsgRoute[] {
  const bond: MsgRoute<MsgBond, MsgBondResponse> = {
    typeUrl: MSG_BOND_TYPE_URL,
    type: MsgBond,
    responseTypeUrl: MSG_BOND_RESPONSE_TYPE_URL,
    responseType: MsgBondResponse,
    signers: (msg) => [proverAddress(msg.prover)],
    validateBasic(msg) {
      proverAddress(msg.prover);
      msgAmount(msg.amount, 'bond');
    },
    handle(ctx, msg) {
      keeper.bond(ctx, proverAddress(msg.prover), msgAmount(msg.amount, 'bond'));
      return {};
    },
  };
  const unbond: MsgRoute<MsgUnbond, MsgUnbondResponse> = {
    typeUrl: MSG_UNBOND_TYPE_URL,
    type: MsgUnbond,
    responseTypeUrl: MSG_UNBOND_RESPONSE_TYPE_URL,
    responseType: MsgUnbondResponse,
    signers: (msg) => [proverAddress(msg.prover)],
    validateBasic(msg) {
      proverAddress(msg.prover);
      msgAmount(msg.amount, 'unbond');
    },
    handle(ctx, msg) {
      const e = keeper.unbond(ctx, proverAddress(msg.prover), msgAmount(msg.amount, 'unbond'));
      return { unbondingId: e.id, completionHeight: e.completionHeight };
    },
  };
  const unjail: MsgRoute<MsgUnjail, MsgUnjailResponse> = {
    typeUrl: MSG_UNJAIL_TYPE_URL,
    type: MsgUnjail,
    responseTypeUrl: MSG_UNJAIL_RESPONSE_TYPE_URL,
    responseType: MsgUnjailResponse,
    signers: (msg) => [proverAddress(msg.prover)],
    validateBasic(msg) {
      proverAddress(msg.prover);
    },
    handle(ctx, msg) {
      keeper.unjail(ctx, proverAddress(msg.prover));
      return {};
    },
  };
  return [bond, unbond, unjail];
}
