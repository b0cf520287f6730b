/** `/proofbook.verifier.v1.MsgRegisterCircuit`: adds a circuit to the registry (see keeper.registerCircuit). */
import type { MsgRoute } from '../../src/framework/module.js';
import { MsgRegisterCircuit, MsgRegisterCircuitResponse } from '../../src/gen/proofbook/verifier/v1/verifier.js';
import { creatorAddress, validateCircuitFields, type VerifierKeeperImpl } from './keeper.js';

export const MSG_REGISTER_CIRCUIT_TYPE_URL = '/proofbook.verifier.v1.MsgRegisterCircuit';
export const MSG_REGISTER_CIRCUIT_RESPONSE_TYPE_URL = '/proofbook.verifier.v1.MsgRegisterCircuitResponse';

export function msgRegisterCircuitRoute(keeper: VerifierKeeperImpl): MsgRoute<MsgRegisterCircuit, MsgRegisterCircuitResponse> {
  return {
    typeUrl: MSG_REGISTER_CIRCUIT_TYPE_URL,
    type: MsgRegisterCircuit,
    responseTypeUrl: MSG_REGISTER_CIRCUIT_RESPONSE_TYPE_URL,
    responseType: MsgRegisterCircuitResponse,
    signers: (msg) => [creatorAddress(msg.creator)],
    validateBasic(msg) {
      creatorAddress(msg.creator);
      validateCircuitFields(msg);
    },
    handle(ctx, msg) {
      const circuit = keeper.registerCircuit(ctx, creatorAddress(msg.creator), msg);
      return { circuitId: circuit.id };
    },
  };
}
