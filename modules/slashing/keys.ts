/**
 * Slashing state layout, params and errors. Keys under `slashing/`; `A(x)` = one length byte + the address bytes.
 *
 *   'p'                          -> Params (cosmos.slashing.v1beta1.Params)
 *   'i' + A(cons)                -> ValidatorSigningInfo, by consensus address
 *   'm' + A(cons) + u64(index)   -> '': the block at this position of the sliding window was missed
 */
import type { Params } from 'cosmjs-types/cosmos/slashing/v1beta1/slashing';
import { registerError, GRPC } from '../../src/framework/errors.js';
import { u64Key, type Key } from '../../src/store/kv.js';
import { A } from '../staking/keys.js';
import { parseDecWire } from '../../src/types/dec.js';

export const SLASHING_MODULE_NAME = 'slashing';
export const SLASHING_STORE_PREFIX = 'slashing/';

/** Slashing params carry decimals as bytes: the ASCII text of the LegacyDec integer (the SDK's LegacyDec.Marshal). */
export function decBytes(atto: bigint): Uint8Array {
  return new TextEncoder().encode(atto.toString());
}
export function decFromBytes(b: Uint8Array, what: string): bigint {
  return parseDecWire(new TextDecoder().decode(b), what);
}

/** The SDK's defaults: 5 % for double signing (and a tombstone), 1 % and a 10-minute jail for downtime. */
export const DEFAULT_SLASHING_PARAMS: Params = {
  signedBlocksWindow: 100n,
  minSignedPerWindow: decBytes(5n * 10n ** 17n),
  downtimeJailDuration: { seconds: 600n, nanos: 0 },
  slashFractionDoubleSign: decBytes(5n * 10n ** 16n),
  slashFractionDowntime: decBytes(1n * 10n ** 16n),
};
/** 9999-12-31T23:59:59Z: a tombstoned validator's jail never ends (the SDK's DoubleSignJailEndTime). */
export const DOUBLE_SIGN_JAIL_END = 253402300799n;
/** CometBFT applies validator updates returned at height H from H+2 (the SDK's ValidatorUpdateDelay = 1). */
export const VALIDATOR_UPDATE_DELAY = 1n;

export const PARAMS_KEY = 'p';
export const INFO_PREFIX = 'i';
export const MISSED_PREFIX = 'm';
export const EMPTY = new Uint8Array(0);

export const infoKey = (cons: Uint8Array): Key => INFO_PREFIX + A(cons);
export const missedPrefix = (cons: Uint8Array): Key => MISSED_PREFIX + A(cons);
export const missedKey = (cons: Uint8Array, index: bigint): Key => missedPrefix(cons) + u64Key(index);

export const SLASHING_CODESPACE = 'slashing';
export const ErrNoValidatorForAddress = registerError(SLASHING_CODESPACE, 2, 'address is not associated with any known validator', GRPC.NotFound);
export const ErrValidatorJailed = registerError(SLASHING_CODESPACE, 4, 'validator still jailed; cannot be unjailed', GRPC.FailedPrecondition);
export const ErrValidatorNotJailed = registerError(SLASHING_CODESPACE, 5, 'validator not jailed; cannot be unjailed', GRPC.FailedPrecondition);
export const ErrMissingSelfDelegation = registerError(SLASHING_CODESPACE, 6, 'validator has no self-delegation; cannot be unjailed', GRPC.FailedPrecondition);
export const ErrSelfDelegationTooLowToUnjail = registerError(SLASHING_CODESPACE, 9, "validator's self delegation less than minimum; cannot be unjailed", GRPC.FailedPrecondition);
export const ErrNoSigningInfoFound = registerError(SLASHING_CODESPACE, 10, 'no validator signing info found', GRPC.NotFound);
