/**
 * Distribution state layout, params and errors. Every key lives under the module prefix `distribution/`; `A(x)` is
 * one length byte followed by the address bytes (the staking module's convention), `u64(n)` big-endian.
 *
 *   'p'                            -> Params (cosmos.distribution.v1beta1.Params)
 *   'f'                            -> FeePool (community pool, DecCoins)
 *   'w' + A(del)                   -> withdraw address bytes (absent: the delegator's own address)
 *   'o' + A(val)                   -> ValidatorOutstandingRewards: every reward allocated to the validator not yet paid
 *   'c' + A(val)                   -> ValidatorAccumulatedCommission (unwithdrawn commission, part of outstanding)
 *   'r' + A(val)                   -> ValidatorCurrentRewards: rewards of the open period and its number
 *   'h' + A(val) + u64(period)     -> ValidatorHistoricalRewards: cumulative reward ratio at the end of period, refcount
 *   's' + A(val) + A(del)          -> DelegatorStartingInfo: the period / stake / height a delegation's rewards start at
 *   'e' + A(val) + u64(height) + u64(period) -> ValidatorSlashEvent (fraction of stake slashed, and the period it ended)
 */
import { Params } from 'cosmjs-types/cosmos/distribution/v1beta1/distribution';
import { registerError, GRPC } from '../../src/framework/errors.js';
import { bytesToKey, keyToBytes, u64Key, type Key } from '../../src/store/kv.js';

export const DISTRIBUTION_MODULE_NAME = 'distribution';
export const DISTRIBUTION_STORE_PREFIX = 'distribution/';
/** The module account that holds every allocated, unpaid reward (outstanding rewards + community pool). */
export const DISTRIBUTION_ACCOUNT = 'distribution';
/**
 * Where the fees this module distributes collect: tx fees and the market's holding charge (`fee_collector`, the ante
 * handler and modules/market/holding.ts) and the market's protocol fee on every settled request (`treasury`,
 * modules/market). Module names, not imports: modules do not import app/ or each other's internals.
 */
export const FEE_SOURCES = ['fee_collector', 'treasury'] as const;

/**
 * community_tax 0 (the SDK's default is 2 %): proofbook has no governance module that could ever spend a community
 * pool, so a tax would only lock fees away. The pool still receives rounding remainders and the shares of blocks whose
 * signers are unknown to staking, so nothing is lost. withdraw_addr_enabled as in the SDK.
 */
export const DEFAULT_DISTRIBUTION_PARAMS: Params = { communityTax: '0', baseProposerReward: '0', bonusProposerReward: '0', withdrawAddrEnabled: true };

export const PARAMS_KEY = 'p';
export const FEE_POOL_KEY = 'f';
export const WITHDRAW_PREFIX = 'w';
export const OUTSTANDING_PREFIX = 'o';
export const COMMISSION_PREFIX = 'c';
export const CURRENT_PREFIX = 'r';
export const HISTORICAL_PREFIX = 'h';
export const STARTING_PREFIX = 's';
export const SLASH_EVENT_PREFIX = 'e';

export function A(b: Uint8Array): Key {
  if (b.length > 255) throw new RangeError('address longer than 255 bytes');
  return String.fromCharCode(b.length) + bytesToKey(b);
}
export function readA(key: Key, offset: number): [Uint8Array, number] {
  const len = key.charCodeAt(offset);
  return [keyToBytes(key.slice(offset + 1, offset + 1 + len)), offset + 1 + len];
}

export const withdrawKey = (del: Uint8Array): Key => WITHDRAW_PREFIX + A(del);
export const outstandingKey = (val: Uint8Array): Key => OUTSTANDING_PREFIX + A(val);
export const commissionKey = (val: Uint8Array): Key => COMMISSION_PREFIX + A(val);
export const currentKey = (val: Uint8Array): Key => CURRENT_PREFIX + A(val);
export const historicalPrefix = (val: Uint8Array): Key => HISTORICAL_PREFIX + A(val);
export const historicalKey = (val: Uint8Array, period: bigint): Key => historicalPrefix(val) + u64Key(period);
export const startingPrefix = (val: Uint8Array): Key => STARTING_PREFIX + A(val);
export const startingKey = (val: Uint8Array, del: Uint8Array): Key => startingPrefix(val) + A(del);
export const slashPrefix = (val: Uint8Array): Key => SLASH_EVENT_PREFIX + A(val);
export const slashKey = (val: Uint8Array, height: bigint, period: bigint): Key => slashPrefix(val) + u64Key(height) + u64Key(period);

export const DISTRIBUTION_CODESPACE = 'distribution';
export const ErrEmptyDelegatorAddr = registerError(DISTRIBUTION_CODESPACE, 2, 'delegator address is empty');
export const ErrEmptyWithdrawAddr = registerError(DISTRIBUTION_CODESPACE, 3, 'withdraw address is empty');
export const ErrEmptyValidatorAddr = registerError(DISTRIBUTION_CODESPACE, 4, 'validator address is empty');
export const ErrEmptyDelegationDistInfo = registerError(DISTRIBUTION_CODESPACE, 5, 'no delegation distribution info', GRPC.NotFound);
export const ErrNoValidatorDistInfo = registerError(DISTRIBUTION_CODESPACE, 6, 'no validator distribution info', GRPC.NotFound);
export const ErrNoValidatorCommission = registerError(DISTRIBUTION_CODESPACE, 7, 'no validator commission to withdraw', GRPC.FailedPrecondition);
export const ErrSetWithdrawAddrDisabled = registerError(DISTRIBUTION_CODESPACE, 8, 'set withdraw address disabled', GRPC.FailedPrecondition);
export const ErrBadDistribution = registerError(DISTRIBUTION_CODESPACE, 9, 'community pool does not have sufficient coins to distribute', GRPC.FailedPrecondition);
export const ErrNoValidatorExists = registerError(DISTRIBUTION_CODESPACE, 12, 'validator does not exist', GRPC.NotFound);
export const ErrNoDelegationExists = registerError(DISTRIBUTION_CODESPACE, 13, 'delegation does not exist', GRPC.NotFound);
