/**
 * Staking state layout, params and errors. Every key lives under the module prefix `staking/`; `A(x)` is one length
 * byte followed by the 20 address bytes (as modules/bank/keys.ts), so addresses of different lengths never collide.
 *
 *   'p'                                  -> Params (cosmos.staking.v1beta1.Params)
 *   'v' + A(val)                         -> Validator (cosmos.staking.v1beta1.Validator)
 *   'c' + consAddr(20)                   -> operator bytes: consensus address index (evidence, votes)
 *   'i' + u64(2^64-1 - power) + A(val)   -> '': power index of non-jailed validators with power ≥ 1, so a forward scan
 *                                            yields power descending, then operator bytes ascending (the active set)
 *   'l' + A(val)                         -> u64 power last sent to CometBFT (the current set)
 *   'd' + A(del) + A(val)                -> Delegation
 *   'e' + A(val) + A(del)                -> '': delegations by validator
 *   'u' + A(del) + A(val)                -> UnbondingDelegation
 *   'f' + A(val) + A(del)                -> '': unbonding delegations by validator (slashing)
 *   'q' + u64(time) + A(del) + A(val)    -> '': unbonding maturity queue (completion time, seconds)
 *   'r' + A(del) + A(src) + A(dst)       -> Redelegation
 *   's' + A(src) + A(del) + A(dst)       -> '': redelegations by source validator (slashing)
 *   't' + A(dst) + A(del) + A(src)       -> '': redelegations by destination (no transitive redelegation)
 *   'Q' + u64(time) + A(del)+A(src)+A(dst) -> '': redelegation maturity queue
 *   'w' + u64(time) + A(val)             -> '': unbonding-validator queue (UNBONDING -> UNBONDED)
 *   'H' + u64(height)                    -> recent proposers (proposers.ts)
 */
import { Params } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import { registerError, GRPC } from '../../src/framework/errors.js';
import { u64Key, type Key } from '../../src/store/kv.js';
import { NATIVE_DENOM } from '../../src/types/coins.js';
import { DEC_ONE } from '../../src/types/dec.js';

export const STAKING_MODULE_NAME = 'staking';
export const STAKING_STORE_PREFIX = 'staking/';
/** Module accounts holding the stake (the Cosmos SDK's names): tokens of BONDED validators, and everything else. */
export const BONDED_POOL = 'bonded_tokens_pool';
export const NOT_BONDED_POOL = 'not_bonded_tokens_pool';

/** Tokens per unit of consensus power (the SDK's DefaultPowerReduction): 1 PROOF = 10^6 uproof = power 1. */
export const POWER_REDUCTION = 1_000_000n;
/** Highest power CometBFT accepts for one validator (MaxTotalVotingPower / 8, types/validator_set.go). */
export const MAX_POWER = (1n << 60n) / 8n;
const U64_MAX = 0xffffffffffffffffn;

export const DEFAULT_STAKING_PARAMS: Params = {
  unbondingTime: { seconds: 21n * 24n * 3600n, nanos: 0 },
  maxValidators: 100,
  maxEntries: 7,
  historicalEntries: 0,
  bondDenom: NATIVE_DENOM,
  minCommissionRate: '0',
};

/** Commission changes are limited to one per day (the SDK's rule). */
export const COMMISSION_CHANGE_SECONDS = 24n * 3600n;
/** Description field limits (the SDK's). */
export const DESCRIPTION_LIMITS = { moniker: 70, identity: 3000, website: 140, securityContact: 140, details: 280 } as const;
export const DO_NOT_MODIFY = '[do-not-modify]';
export { DEC_ONE };

export const PARAMS_KEY = 'p';
export const VALIDATOR_PREFIX = 'v';
export const CONS_PREFIX = 'c';
export const POWER_INDEX_PREFIX = 'i';
export const LAST_POWER_PREFIX = 'l';
export const DELEGATION_PREFIX = 'd';
export const DELEGATION_BY_VAL_PREFIX = 'e';
export const UBD_PREFIX = 'u';
export const UBD_BY_VAL_PREFIX = 'f';
export const UBD_QUEUE_PREFIX = 'q';
export const RED_PREFIX = 'r';
export const RED_BY_SRC_PREFIX = 's';
export const RED_BY_DST_PREFIX = 't';
export const RED_QUEUE_PREFIX = 'Q';
export const VAL_QUEUE_PREFIX = 'w';

export const EMPTY = new Uint8Array(0);

export function A(bytes: Uint8Array): Key {
  return String.fromCharCode(bytes.length) + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
/** Reads an A(x) at `offset` of `key`: [bytes, next offset]. */
export function readA(key: Key, offset: number): [Uint8Array, number] {
  const len = key.charCodeAt(offset);
  return [new Uint8Array(Buffer.from(key.slice(offset + 1, offset + 1 + len), 'latin1')), offset + 1 + len];
}

export const validatorKey = (val: Uint8Array): Key => VALIDATOR_PREFIX + A(val);
export const consKey = (cons: Uint8Array): Key => CONS_PREFIX + A(cons);
export const powerIndexKey = (power: bigint, val: Uint8Array): Key => POWER_INDEX_PREFIX + u64Key(U64_MAX - power) + A(val);
export const lastPowerKey = (val: Uint8Array): Key => LAST_POWER_PREFIX + A(val);
export const delegationKey = (del: Uint8Array, val: Uint8Array): Key => DELEGATION_PREFIX + A(del) + A(val);
export const delegationByValKey = (val: Uint8Array, del: Uint8Array): Key => DELEGATION_BY_VAL_PREFIX + A(val) + A(del);
export const ubdKey = (del: Uint8Array, val: Uint8Array): Key => UBD_PREFIX + A(del) + A(val);
export const ubdByValKey = (val: Uint8Array, del: Uint8Array): Key => UBD_BY_VAL_PREFIX + A(val) + A(del);
export const ubdQueueKey = (time: bigint, del: Uint8Array, val: Uint8Array): Key => UBD_QUEUE_PREFIX + u64Key(time) + A(del) + A(val);
export const redKey = (del: Uint8Array, src: Uint8Array, dst: Uint8Array): Key => RED_PREFIX + A(del) + A(src) + A(dst);
export const redBySrcKey = (src: Uint8Array, del: Uint8Array, dst: Uint8Array): Key => RED_BY_SRC_PREFIX + A(src) + A(del) + A(dst);
export const redByDstKey = (dst: Uint8Array, del: Uint8Array, src: Uint8Array): Key => RED_BY_DST_PREFIX + A(dst) + A(del) + A(src);
export const redQueueKey = (time: bigint, del: Uint8Array, src: Uint8Array, dst: Uint8Array): Key => RED_QUEUE_PREFIX + u64Key(time) + A(del) + A(src) + A(dst);
export const valQueueKey = (time: bigint, val: Uint8Array): Key => VAL_QUEUE_PREFIX + u64Key(time) + A(val);

// ---- errors (codespace 'staking', the SDK's numbers where one exists) ------------------------------------------

export const STAKING_CODESPACE = 'staking';
export const ErrEmptyValidatorAddr = registerError(STAKING_CODESPACE, 2, 'empty validator address');
export const ErrNoValidatorFound = registerError(STAKING_CODESPACE, 3, 'validator does not exist', GRPC.NotFound);
export const ErrValidatorOwnerExists = registerError(STAKING_CODESPACE, 4, 'validator already exist for this operator address; must use new validator operator address');
export const ErrValidatorPubKeyExists = registerError(STAKING_CODESPACE, 5, 'validator already exist for this pubkey; must use new validator pubkey');
export const ErrValidatorJailed = registerError(STAKING_CODESPACE, 7, 'validator for this address is currently jailed');
export const ErrCommissionNegative = registerError(STAKING_CODESPACE, 9, 'commission must be positive');
export const ErrCommissionHuge = registerError(STAKING_CODESPACE, 10, 'commission cannot be more than 100%');
export const ErrCommissionGTMaxRate = registerError(STAKING_CODESPACE, 11, 'commission cannot be more than the max rate');
export const ErrCommissionUpdateTime = registerError(STAKING_CODESPACE, 12, 'commission cannot be changed more than once in 24h');
export const ErrCommissionChangeRateGTMaxRate = registerError(STAKING_CODESPACE, 14, 'commission change rate cannot be more than the max rate');
export const ErrCommissionGTMaxChangeRate = registerError(STAKING_CODESPACE, 15, 'commission cannot be changed more than max change rate');
export const ErrSelfDelegationBelowMinimum = registerError(STAKING_CODESPACE, 16, "validator's self delegation must be greater than their minimum self delegation");
export const ErrMinSelfDelegationDecreased = registerError(STAKING_CODESPACE, 17, 'minimum self delegation cannot be decrease');
export const ErrNoDelegation = registerError(STAKING_CODESPACE, 19, 'no delegation for (address, validator) tuple', GRPC.NotFound);
export const ErrBadDelegatorAddr = registerError(STAKING_CODESPACE, 20, 'delegator does not exist with address');
export const ErrInsufficientShares = registerError(STAKING_CODESPACE, 22, 'insufficient delegation shares');
export const ErrDelegationValidatorEmpty = registerError(STAKING_CODESPACE, 23, 'cannot delegate to an empty validator');
export const ErrNoUnbondingDelegation = registerError(STAKING_CODESPACE, 27, 'no unbonding delegation found', GRPC.NotFound);
export const ErrMaxUnbondingDelegationEntries = registerError(STAKING_CODESPACE, 28, 'too many unbonding delegation entries for (delegator, validator) tuple');
export const ErrNoRedelegation = registerError(STAKING_CODESPACE, 29, 'no redelegation found', GRPC.NotFound);
export const ErrSelfRedelegation = registerError(STAKING_CODESPACE, 30, 'cannot redelegate to the same validator');
export const ErrTinyRedelegationAmount = registerError(STAKING_CODESPACE, 31, 'too few tokens to redelegate (truncates to zero tokens)');
export const ErrBadRedelegationDst = registerError(STAKING_CODESPACE, 32, 'redelegation destination validator not found', GRPC.NotFound);
export const ErrTransitiveRedelegation = registerError(STAKING_CODESPACE, 33, 'redelegation to this validator already in progress; first redelegation to this validator must complete before next redelegation');
export const ErrMaxRedelegationEntries = registerError(STAKING_CODESPACE, 34, 'too many redelegation entries for (delegator, src-validator, dst-validator) tuple');
export const ErrDelegatorShareExRateInvalid = registerError(STAKING_CODESPACE, 35, 'cannot delegate to validators with invalid (zero) ex-rate');
export const ErrBadSharesAmount = registerError(STAKING_CODESPACE, 37, 'invalid shares amount');
export const ErrBadTokenAmount = registerError(STAKING_CODESPACE, 38, 'invalid token amount');
export const ErrInvalidDescription = registerError(STAKING_CODESPACE, 40, 'invalid description');
export const ErrBadValidatorAddr = registerError(STAKING_CODESPACE, 41, 'validator address is invalid');
export const ErrMinSelfDelegationInvalid = registerError(STAKING_CODESPACE, 42, 'minimum self delegation must be a positive integer');
export const ErrBadDenom = registerError(STAKING_CODESPACE, 43, 'invalid coin denomination');
export const ErrCommissionLTMinRate = registerError(STAKING_CODESPACE, 44, 'commission cannot be less than min rate');
export const ErrInvalidCommission = registerError(STAKING_CODESPACE, 45, 'invalid commission');
export const ErrPowerTooLarge = registerError(STAKING_CODESPACE, 46, 'validator power over the consensus maximum');
