/**
 * Bond state layout and errors. Every key lives under the module prefix `bond/` (ctx.store(BOND_STORE_PREFIX)):
 *
 *   'p'                                   -> Params (protobuf)
 *   'n'                                   -> next unbonding id (8 bytes, big-endian)
 *   'v' + len(addr) + addr                -> Prover (protobuf); a prefix scan lists provers by address bytes
 *   'u' + u64(id)                         -> UnbondingEntry (protobuf)
 *   'q' + u64(completion) + u64(id)       -> empty; the maturity queue: endBlock scans ['q', 'q' + u64(height + 1))
 *   'a' + len(addr) + addr + u64(id)      -> empty; a prover's unbonding entries (Prover query)
 *
 * `len(addr)` is one byte (20 or 32), as in modules/bank/keys.ts, so a 20-byte address can never be a prefix of a
 * 32-byte one's keys.
 */
import { registerError, GRPC } from '../../src/framework/errors.js';
import { bytesToKey, u64Key, type Key } from '../../src/store/kv.js';
import { addressBytes, type Address } from '../../src/crypto/address.js';
import type { Params } from '../../src/gen/proofbook/bond/v1/bond.js';
import { NATIVE_DENOM } from '../../src/types/coins.js';

export const BOND_MODULE_NAME = 'bond';
export const BOND_STORE_PREFIX = 'bond/';
/** Module account holding every bonded and unbonding coin. */
export const BOND_MODULE_ACCOUNT = 'bond';

export const PARAMS_KEY = 'p';
export const NEXT_ID_KEY = 'n';
export const PROVER_PREFIX = 'v';
export const UNBONDING_PREFIX = 'u';
export const QUEUE_PREFIX = 'q';
export const BY_ADDRESS_PREFIX = 'a';

export const DEFAULT_PARAMS: Params = {
  collateralDenoms: [NATIVE_DENOM],
  unbondingBlocks: 100n,
  maxMisses: 3n,
  jailBlocks: 200n,
};

// ---- errors (codespace 'bond') ------------------------------------------------------------------------------------

export const BOND_CODESPACE = 'bond';
export const ErrUnknownProver = registerError(BOND_CODESPACE, 2, 'unknown prover', GRPC.NotFound);
export const ErrDenomNotCollateral = registerError(BOND_CODESPACE, 3, 'denom not accepted as collateral');
export const ErrInsufficientCollateral = registerError(BOND_CODESPACE, 4, 'insufficient free collateral', GRPC.FailedPrecondition);
export const ErrProverJailed = registerError(BOND_CODESPACE, 5, 'prover is jailed', GRPC.FailedPrecondition);
export const ErrNotJailed = registerError(BOND_CODESPACE, 6, 'prover is not jailed', GRPC.FailedPrecondition);
export const ErrJailNotExpired = registerError(BOND_CODESPACE, 7, 'jail period not over', GRPC.FailedPrecondition);
export const ErrInsufficientLocked = registerError(BOND_CODESPACE, 8, 'locked collateral smaller than amount', GRPC.Internal);
export const ErrInvalidBondAmount = registerError(BOND_CODESPACE, 9, 'invalid amount');

// ---- keys ---------------------------------------------------------------------------------------------------------

/** Length-prefixed raw address bytes. addressBytes is memoized, so this costs no bech32 work for recurring addresses. */
export function addrKey(addr: Address): Key {
  const b = addressBytes(addr);
  return String.fromCharCode(b.length) + bytesToKey(b);
}

export function proverKey(addr: Address): Key {
  return PROVER_PREFIX + addrKey(addr);
}

export function unbondingKey(id: bigint): Key {
  return UNBONDING_PREFIX + u64Key(id);
}

export function queueKey(completion: bigint, id: bigint): Key {
  return QUEUE_PREFIX + u64Key(completion) + u64Key(id);
}

export function byAddressPrefix(addr: Address): Key {
  return BY_ADDRESS_PREFIX + addrKey(addr);
}

export function byAddressKey(addr: Address, id: bigint): Key {
  return byAddressPrefix(addr) + u64Key(id);
}

export const EMPTY = new Uint8Array(0);
