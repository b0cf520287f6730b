/**
 * The `verifier` module: a registry of circuits (verifying keys + prover artifacts) and native Groth16 BN254
 * verification for the rest of the state machine. See keys.ts (state layout, errors), keeper.ts (registration,
 * verifyProof / preverify and their caches), genesis.ts (genesis format, the genesis circuit) and docs/verifier.md.
 *
 * The node must `await initVerifierBackend()` once before InitChain or any block (ProofbookApp.open does).
 */
import type { Module } from '../../src/framework/module.js';
import type { BankKeeper } from '../bank/keeper.js';
import { initZk } from '../../src/zk/verifier.js';
import { VerifierKeeperImpl, type VerifierKeeper, type VerifierKeeperOptions } from './keeper.js';
import { msgRegisterCircuitRoute } from './msgs.js';
import { verifierQueryRoutes } from './queries.js';
import { defaultVerifierGenesis, exportVerifierGenesis, initVerifierGenesis } from './genesis.js';
import { verifierInvariants } from './invariants.js';
import { VERIFIER_MODULE_NAME, VERIFIER_STORE_PREFIX } from './keys.js';

export type { VerifierKeeper, VerifierKeeperOptions, CircuitFields } from './keeper.js';
export { VerifierKeeperImpl, validateCircuitFields, protoCoins } from './keeper.js';
export * from './keys.js';
export { msgRegisterCircuitRoute, MSG_REGISTER_CIRCUIT_TYPE_URL, MSG_REGISTER_CIRCUIT_RESPONSE_TYPE_URL } from './msgs.js';
export { verifierQueryRoutes, QUERY_CIRCUIT, QUERY_CIRCUITS, QUERY_PARAMS } from './queries.js';
export {
  defaultVerifierGenesis,
  exportVerifierGenesis,
  initVerifierGenesis,
  validateVerifierGenesis,
  genesisCircuit,
  genesisCircuitId,
  genesisCircuitDir,
  circuitToJson,
  circuitFromJson,
  paramsToJson,
  paramsFromJson,
  GENESIS_CIRCUIT_CONSTRAINTS,
  type VerifierGenesis,
  type CircuitJson,
  type ParamsJson,
} from './genesis.js';
export { verifierInvariants } from './invariants.js';

/** Loads the pairing backend (mcl-wasm, BN254). Idempotent; await it once before the app runs genesis or blocks. */
export async function initVerifierBackend(): Promise<void> {
  await initZk();
}

export function createVerifierModule(deps: { bank: BankKeeper; options?: VerifierKeeperOptions }): { module: Module; keeper: VerifierKeeper & VerifierKeeperImpl } {
  const keeper = new VerifierKeeperImpl(deps.bank, deps.options);
  const module: Module = {
    name: VERIFIER_MODULE_NAME,
    storePrefix: VERIFIER_STORE_PREFIX,
    msgs: [msgRegisterCircuitRoute(keeper)],
    queries: verifierQueryRoutes(keeper),
    defaultGenesis: defaultVerifierGenesis,
    initGenesis: (ctx, state) => initVerifierGenesis(ctx, state, keeper),
    exportGenesis: (ctx) => exportVerifierGenesis(ctx, keeper),
    invariants: verifierInvariants(deps.bank),
  };
  return { module, keeper };
}
