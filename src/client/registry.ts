/**
 * The protobuf type registry for proofbook's messages, on top of cosmjs' defaults (bank etc.), so that
 * @cosmjs/stargate's SigningStargateClient signs proofbook transactions unchanged.
 * (ts-proto and cosmjs use different BinaryWriter classes with the same encode/finish contract, hence the casts.)
 */
import { Registry, type GeneratedType } from '@cosmjs/proto-signing';
import { defaultRegistryTypes } from '@cosmjs/stargate';
import { MsgUnjail as SlashingMsgUnjail } from 'cosmjs-types/cosmos/slashing/v1beta1/tx';
import * as verifier from '../gen-sdk/proofbook/verifier/v1/verifier.js';
import * as bond from '../gen-sdk/proofbook/bond/v1/bond.js';
import * as market from '../gen-sdk/proofbook/market/v1/market.js';

export const TYPE_URLS = {
  registerCircuit: '/proofbook.verifier.v1.MsgRegisterCircuit',
  bond: '/proofbook.bond.v1.MsgBond',
  unbond: '/proofbook.bond.v1.MsgUnbond',
  unjail: '/proofbook.bond.v1.MsgUnjail',
  submitRequest: '/proofbook.market.v1.MsgSubmitRequest',
  cancelRequest: '/proofbook.market.v1.MsgCancelRequest',
  postAsk: '/proofbook.market.v1.MsgPostAsk',
  cancelAsk: '/proofbook.market.v1.MsgCancelAsk',
  submitProof: '/proofbook.market.v1.MsgSubmitProof',
  releaseAssignment: '/proofbook.market.v1.MsgReleaseAssignment',
  declineAssignment: '/proofbook.market.v1.MsgDeclineAssignment',
  commitFallbackProof: '/proofbook.market.v1.MsgCommitFallbackProof',
} as const;

export const proofbookTypes: ReadonlyArray<[string, GeneratedType]> = [
  [TYPE_URLS.registerCircuit, verifier.MsgRegisterCircuit as unknown as GeneratedType],
  [TYPE_URLS.bond, bond.MsgBond as unknown as GeneratedType],
  [TYPE_URLS.unbond, bond.MsgUnbond as unknown as GeneratedType],
  [TYPE_URLS.unjail, bond.MsgUnjail as unknown as GeneratedType],
  [TYPE_URLS.submitRequest, market.MsgSubmitRequest as unknown as GeneratedType],
  [TYPE_URLS.cancelRequest, market.MsgCancelRequest as unknown as GeneratedType],
  [TYPE_URLS.postAsk, market.MsgPostAsk as unknown as GeneratedType],
  [TYPE_URLS.cancelAsk, market.MsgCancelAsk as unknown as GeneratedType],
  [TYPE_URLS.submitProof, market.MsgSubmitProof as unknown as GeneratedType],
  [TYPE_URLS.releaseAssignment, market.MsgReleaseAssignment as unknown as GeneratedType],
  [TYPE_URLS.declineAssignment, market.MsgDeclineAssignment as unknown as GeneratedType],
  [TYPE_URLS.commitFallbackProof, market.MsgCommitFallbackProof as unknown as GeneratedType],
  // cosmjs' defaults carry x/staking but not x/slashing's MsgUnjail (validators leave a downtime jail with it)
  ['/cosmos.slashing.v1beta1.MsgUnjail', SlashingMsgUnjail as unknown as GeneratedType],
];

export function proofbookRegistry(): Registry {
  return new Registry([...defaultRegistryTypes, ...proofbookTypes]);
}
