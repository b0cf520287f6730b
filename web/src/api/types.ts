/**
 * The JSON the REST gateway returns: proto3 JSON as the Cosmos SDK gateway emits it (field names as in the .proto
 * files, snake_case; 64-bit integers as decimal strings; enums by name; bytes as base64). Shapes follow
 * proto/proofbook/{market,bond,verifier}/v1/*.proto and the cosmos.* services.
 */
export type U64 = string;

export interface Coin { denom: string; amount: string }
export interface PageResponse { next_key: string | null; total: U64 }

export type RequestStatus =
  | 'REQUEST_STATUS_UNSPECIFIED' | 'REQUEST_STATUS_OPEN' | 'REQUEST_STATUS_ASSIGNED'
  | 'REQUEST_STATUS_FULFILLED' | 'REQUEST_STATUS_CANCELLED' | 'REQUEST_STATUS_EXPIRED' | 'REQUEST_STATUS_FALLBACK';

export interface Assignment {
  prover: string; ask_id: U64; price: string; collateral: string; assigned_height: U64; deadline_height: U64;
  /** The height from which any prover may race it (overdue by its prover's record); absent or '0': none. */
  overdue_height?: U64;
}
export interface StatusChange { height: U64; status: RequestStatus; event: string; prover: string; amount: string }
export interface MarketRequest {
  id: U64; requester: string; circuit_id: string;
  input_inline: string; input_uri: string; input_sha256: string; expected_public_signals: string[];
  min_fee: string; max_fee: string; ramp_blocks: U64; proving_window: U64; expiry_height: U64; min_collateral: string;
  submitted_height: U64; status: RequestStatus; assignment: Assignment | null; escrow: string;
  proof: string; public_signals: string[]; fulfilled_height: U64; paid_price: string; assignments_count: number;
  history: StatusChange[];
  // a fallback delivery whose payment is held for an earlier commitment's window (docs/protocol.md "The fallback path")
  fallback_payee?: string; fallback_payee_commit_id?: U64; fallback_payout_height?: U64;
}
export interface Ask {
  id: U64; prover: string; circuit_id: string; price: string; capacity: U64; active: U64; expiry_height: U64; created_height: U64;
}
export interface Reputation {
  prover: string; circuit_id: string; fulfilled: U64; missed: U64; released: U64; avg_blocks_to_proof_milli: U64;
}
export interface PriceLevel { price: string; quantity: U64; orders: U64 }
export interface Book { asks: PriceLevel[]; requests: PriceLevel[]; last_clearing_price: string; last_clearing_height: U64 }
export interface CircuitStats {
  circuit_id: string; fills: U64; mean_clearing_price: string; mean_blocks_to_proof_milli: U64;
  slashes: U64; expiries: U64; window_blocks: U64; assigned_fills: U64; mean_assigned_blocks_to_proof_milli: U64; pace_blocks_to_proof_milli: U64;
}
export interface MarketParams {
  fee_denom: string; collateral_denom: string; collateral_ratio_bps: U64; protocol_fee_bps: U64; release_slash_bps: U64;
  slash_to_requester_bps: U64; min_fee: string; max_inline_input_bytes: U64; stats_window: U64;
  min_proving_window: U64; max_proving_window: U64; max_request_lifetime: U64;
}

export interface Artifact { sha256: string; uri: string; size: U64 }
export interface Circuit {
  id: string; name: string; proof_system: string; verifying_key: string; constraints: U64; num_public_inputs: number;
  wasm: Artifact | null; proving_key: Artifact | null; owner: string; registered_height: U64; deposit: Coin[];
}

export interface Prover {
  address: string; bonded: Coin[]; locked: Coin[]; jailed: boolean; jailed_until: U64; recent_misses: U64; slashed: Coin[];
}
export interface UnbondingEntry { id: U64; address: string; amount: Coin[]; creation_height: U64; completion_height: U64 }

export interface BaseAccount { '@type': string; address: string; account_number: U64; sequence: U64; pub_key: { '@type': string; key: string } | null }

export interface AbciEvent { type: string; attributes: { key: string; value: string; index?: boolean }[] }
export interface TxResponse {
  height: U64; txhash: string; codespace: string; code: number; data: string; raw_log: string; gas_wanted: U64; gas_used: U64;
  tx: { '@type'?: string; body: { messages: ({ '@type': string } & Record<string, unknown>)[]; memo: string }; auth_info?: { fee?: { amount: Coin[]; gas_limit: U64 } } } | null;
  timestamp: string; events: AbciEvent[];
}
export interface BlockHeader { chain_id: string; height: U64; time: string; proposer_address: string }
export interface BlockResponse { block_id: { hash: string }; block: { header: BlockHeader; data: { txs: string[] } } }
export interface NodeInfoResponse {
  default_node_info: { network: string; version: string; moniker: string; other: { tx_index: string; rpc_address: string } };
  application_version: { name: string; app_name: string; version: string };
}
export interface BlockStats {
  height: U64; matches: U64; mean_price: string; fills: U64; mean_blocks_to_proof_milli: U64; slashes: U64; expiries: U64;
  assigned_fills: U64; mean_assigned_blocks_to_proof_milli: U64;
}
