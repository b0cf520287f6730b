/**
 * proofbook's package exports (`import { ProofbookClient } from 'proofbook'`): the TypeScript SDK, the proofbook
 * message registry, and the generated protobuf types of the market, bond and verifier modules.
 */
export {
  ProofbookClient, ProofbookQueryClient, ProofbookReader,
  ProofbookTxError, ProofbookNotFoundError, ProofbookQueryError, ProofbookTimeoutError, ProofbookRequestEndedError, ProofbookAbortedError, ProofbookSignalsMismatchError,
  RequestStatus, statusName, describeHistoryEntry, toCoin, DEFAULT_GAS_PRICE, DEFAULT_DENOM,
} from './client/proofbook.js';
export type {
  Amount, ProofbookClientOptions, SubmitRequestInput, TxResult, WaitForProofOptions, ProofResult, Params,
  Request, Ask, Reputation, PriceLevel, CircuitStats, Prover, UnbondingEntry, Circuit,
} from './client/proofbook.js';
export { quote, type Quote } from './client/quote.js';
export { suggestPatience, medianAssignedMilli, PATIENCE_SLACK_BLOCKS } from './client/patience.js';
export { proofbookRegistry, proofbookTypes, TYPE_URLS } from './client/registry.js';
export { normalizeNodeUrl, DEFAULT_NODE, NodeUnreachableError } from './client/tx.js';
export { proofToSnarkjs, proofFromSnarkjs, encodeProof, decodeProof } from './zk/groth16.js';
export * as marketTypes from './gen-sdk/proofbook/market/v1/market.js';
export * as bondTypes from './gen-sdk/proofbook/bond/v1/bond.js';
export * as verifierTypes from './gen-sdk/proofbook/verifier/v1/verifier.js';
