/** The market's messages (typeUrl '/proofbook.market.v1.<Msg>'); the logic lives in keeper.ts. */
import type { MsgRoute } from '../../src/framework/module.js';
import {
  MsgDeclineAssignment,
  MsgDeclineAssignmentResponse,
  MsgCommitFallbackProof,
  MsgCommitFallbackProofResponse,
  MsgCancelAsk,
  MsgCancelAskResponse,
  MsgCancelRequest,
  MsgCancelRequestResponse,
  MsgPostAsk,
  MsgPostAskResponse,
  MsgReleaseAssignment,
  MsgReleaseAssignmentResponse,
  MsgSubmitProof,
  MsgSubmitProofResponse,
  MsgSubmitRequest,
  MsgSubmitRequestResponse,
} from '../../src/gen/proofbook/market/v1/market.js';
import { addr, parseSignals, validatePostAsk, validateSubmitRequest, type MarketKeeperImpl } from './keeper.js';
import { ErrInvalidProof, ErrInvalidRequestParams } from './keys.js';

const T = (name: string) => `/proofbook.market.v1.${name}`;

export const MSG_SUBMIT_REQUEST = T('MsgSubmitRequest');
export const MSG_CANCEL_REQUEST = T('MsgCancelRequest');
export const MSG_POST_ASK = T('MsgPostAsk');
export const MSG_CANCEL_ASK = T('MsgCancelAsk');
export const MSG_SUBMIT_PROOF = T('MsgSubmitProof');
export const MSG_RELEASE_ASSIGNMENT = T('MsgReleaseAssignment');
export const MSG_DECLINE_ASSIGNMENT = T('MsgDeclineAssignment');
export const MSG_COMMIT_FALLBACK_PROOF = T('MsgCommitFallbackProof');

export function marketMsgRoutes(k: MarketKeeperImpl): MsgRoute[] {
  const submitRequest: MsgRoute<MsgSubmitRequest, MsgSubmitRequestResponse> = {
    typeUrl: MSG_SUBMIT_REQUEST,
    type: MsgSubmitRequest,
    responseTypeUrl: T('MsgSubmitRequestResponse'),
    responseType: MsgSubmitRequestResponse,
    signers: (m) => [addr(m.requester, 'requester')],
    validateBasic: validateSubmitRequest,
    handle: (ctx, m) => ({ requestId: k.submitRequest(ctx, m) }),
  };
  const cancelRequest: MsgRoute<MsgCancelRequest, MsgCancelRequestResponse> = {
    typeUrl: MSG_CANCEL_REQUEST,
    type: MsgCancelRequest,
    responseTypeUrl: T('MsgCancelRequestResponse'),
    responseType: MsgCancelRequestResponse,
    signers: (m) => [addr(m.requester, 'requester')],
    handle: (ctx, m) => {
      k.cancelRequest(ctx, addr(m.requester, 'requester'), m.requestId);
      return {};
    },
  };
  const postAsk: MsgRoute<MsgPostAsk, MsgPostAskResponse> = {
    typeUrl: MSG_POST_ASK,
    type: MsgPostAsk,
    responseTypeUrl: T('MsgPostAskResponse'),
    responseType: MsgPostAskResponse,
    signers: (m) => [addr(m.prover, 'prover')],
    validateBasic: validatePostAsk,
    handle: (ctx, m) => ({ askId: k.postAsk(ctx, m) }),
  };
  const cancelAsk: MsgRoute<MsgCancelAsk, MsgCancelAskResponse> = {
    typeUrl: MSG_CANCEL_ASK,
    type: MsgCancelAsk,
    responseTypeUrl: T('MsgCancelAskResponse'),
    responseType: MsgCancelAskResponse,
    signers: (m) => [addr(m.prover, 'prover')],
    handle: (ctx, m) => {
      k.cancelAsk(ctx, addr(m.prover, 'prover'), m.askId);
      return {};
    },
  };
  const submitProof: MsgRoute<MsgSubmitProof, MsgSubmitProofResponse> = {
    typeUrl: MSG_SUBMIT_PROOF,
    type: MsgSubmitProof,
    responseTypeUrl: T('MsgSubmitProofResponse'),
    responseType: MsgSubmitProofResponse,
    signers: (m) => [addr(m.prover, 'prover')],
    validateBasic: (m) => {
      addr(m.prover, 'prover');
      if (m.proof.length === 0) throw ErrInvalidProof('proof is empty');
      parseSignals(m.publicSignals, 'public_signals');
    },
    handle: (ctx, m) => ({ paid: k.submitProof(ctx, addr(m.prover, 'prover'), m.requestId, m.proof, m.publicSignals).toString() }),
    proofWork: (m) => ({ proofs: 1, signals: m.publicSignals.length }),
  };
  const release: MsgRoute<MsgReleaseAssignment, MsgReleaseAssignmentResponse> = {
    typeUrl: MSG_RELEASE_ASSIGNMENT,
    type: MsgReleaseAssignment,
    responseTypeUrl: T('MsgReleaseAssignmentResponse'),
    responseType: MsgReleaseAssignmentResponse,
    signers: (m) => [addr(m.prover, 'prover')],
    handle: (ctx, m) => ({ slashed: k.releaseAssignment(ctx, addr(m.prover, 'prover'), m.requestId).toString() }),
  };
  const decline: MsgRoute<MsgDeclineAssignment, MsgDeclineAssignmentResponse> = {
    typeUrl: MSG_DECLINE_ASSIGNMENT,
    type: MsgDeclineAssignment,
    responseTypeUrl: T('MsgDeclineAssignmentResponse'),
    responseType: MsgDeclineAssignmentResponse,
    signers: (m) => [addr(m.prover, 'prover')],
    validateBasic: (m) => {
      addr(m.prover, 'prover');
      if (Buffer.byteLength(m.reason, 'utf8') > 256) throw ErrInvalidRequestParams('reason must be at most 256 bytes');
    },
    handle: (ctx, m) => ({ feePaid: k.declineAssignment(ctx, addr(m.prover, 'prover'), m.requestId, m.reason).toString() }),
  };
  const commitFallback: MsgRoute<MsgCommitFallbackProof, MsgCommitFallbackProofResponse> = {
    typeUrl: MSG_COMMIT_FALLBACK_PROOF,
    type: MsgCommitFallbackProof,
    responseTypeUrl: T('MsgCommitFallbackProofResponse'),
    responseType: MsgCommitFallbackProofResponse,
    signers: (m) => [addr(m.prover, 'prover')],
    validateBasic: (m) => {
      addr(m.prover, 'prover');
      if (m.commitment.length !== 32) throw ErrInvalidRequestParams(`commitment must be 32 bytes (sha256), got ${m.commitment.length}`);
    },
    handle: (ctx, m) => k.commitFallbackProof(ctx, addr(m.prover, 'prover'), m.requestId, m.commitment),
  };
  return [submitRequest, cancelRequest, postAsk, cancelAsk, submitProof, release, decline, commitFallback];
}
