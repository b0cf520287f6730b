/**
 * The block gas limit (issue 10: the worst block a proposer can build stays within ~1 s of FinalizeBlock).
 *
 * Every tx declares a gas limit (gas wanted) and pays for it; the sum of the gas wanted by a block's txs is capped,
 * as the Cosmos SDK caps it with the consensus param `block.max_gas`:
 *   - CheckTx refuses a tx that wants more than the whole block may hold (it could never be included);
 *   - PrepareProposal stops adding txs at the limit; ProcessProposal rejects a proposal over it;
 *   - FinalizeBlock (a block forced past ProcessProposal) fails every tx past the limit before its ante handler, so
 *     none of its work runs.
 * Gas is charged per byte, signature, store access and proof (src/framework/gas.ts, verifier params), so the limit
 * bounds all of a block's metered work; `npm run bench -- adversarial` measures the time per gas of every costly tx
 * kind and the worst full block (docs/performance.md).
 *
 * The limit is CometBFT's `consensus_params.block.max_gas` from genesis when that is positive, recorded at InitChain;
 * `-1` (CometBFT's "unlimited", its default) or unset means DEFAULT_BLOCK_MAX_GAS, since an unbounded block would be
 * unbounded work. Operators on faster hardware raise it in genesis.json.
 */
import type { KVReader } from '../../src/store/kv.js';
import type { DecodedTx } from './decode.js';

export const BLOCK_MAX_GAS_KEY = 'app/block_max_gas';

/**
 * 50,000,000 gas. `npm run bench -- adversarial` measured the costliest tx kinds on this 2-core machine at ~5–10 ms
 * per million gas (after the market messages' extra gas, msg-gas.ts), so a full block of the worst plus the proof caps
 * stays within 1 s (docs/performance.md has the runs). It holds 1,000 sends at a tight gas limit of 50,000 (up to ~46,000 used
 * each): the 1,000-tx blocks of the throughput target (`npm run bench -- tx`).
 */
export const DEFAULT_BLOCK_MAX_GAS = 50_000_000n;

/** The block gas limit in force in `state` (the recorded genesis value, else the default). */
export function blockMaxGas(state: KVReader): bigint {
  const raw = state.get(BLOCK_MAX_GAS_KEY);
  if (raw === undefined) return DEFAULT_BLOCK_MAX_GAS;
  const v = BigInt(new TextDecoder().decode(raw));
  return v > 0n ? v : DEFAULT_BLOCK_MAX_GAS;
}

/** The value to record at InitChain for a genesis `block.max_gas` (undefined: nothing to record, use the default). */
export function genesisBlockMaxGas(maxGas: bigint | undefined): Uint8Array | undefined {
  if (maxGas === undefined || maxGas <= 0n) return undefined;
  return new TextEncoder().encode(maxGas.toString());
}

/** The gas a tx asks the block for: its fee's gas limit. */
export function gasWanted(tx: DecodedTx): bigint {
  return tx.authInfo.fee?.gasLimit ?? 0n;
}
