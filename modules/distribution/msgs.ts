/**
 * Distribution messages under the Cosmos SDK's names, so cosmjs' `withdrawRewards` and wallets' claim buttons work:
 * MsgWithdrawDelegatorReward, MsgWithdrawValidatorCommission, MsgSetWithdrawAddress. Responses carry the coins paid.
 */
import {
  MsgSetWithdrawAddress, MsgSetWithdrawAddressResponse, MsgWithdrawDelegatorReward, MsgWithdrawDelegatorRewardResponse,
  MsgWithdrawValidatorCommission, MsgWithdrawValidatorCommissionResponse,
} from 'cosmjs-types/cosmos/distribution/v1beta1/tx';
import type { MsgRoute } from '../../src/framework/module.js';
import { ErrInvalidAddress } from '../../src/framework/errors.js';
import { parseAddress, type Address } from '../../src/crypto/address.js';
import { coinsToProto } from '../../src/types/coins.js';
import { parseValoper } from '../staking/addresses.js';
import type { DistributionKeeperImpl } from './keeper.js';

export const MSG_WITHDRAW_DELEGATOR_REWARD = '/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward';
export const MSG_WITHDRAW_VALIDATOR_COMMISSION = '/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission';
export const MSG_SET_WITHDRAW_ADDRESS = '/cosmos.distribution.v1beta1.MsgSetWithdrawAddress';

export function account(s: string, field: string): Address {
  if (!s) throw ErrInvalidAddress(`${field} cannot be empty`);
  try {
    return parseAddress(s);
  } catch (e) {
    throw ErrInvalidAddress(`invalid ${field}: ${(e as Error).message}`);
  }
}

export function distributionMsgRoutes(k: DistributionKeeperImpl): MsgRoute[] {
  const withdraw: MsgRoute<MsgWithdrawDelegatorReward, MsgWithdrawDelegatorRewardResponse> = {
    typeUrl: MSG_WITHDRAW_DELEGATOR_REWARD,
    type: MsgWithdrawDelegatorReward,
    responseTypeUrl: '/cosmos.distribution.v1beta1.MsgWithdrawDelegatorRewardResponse',
    responseType: MsgWithdrawDelegatorRewardResponse,
    signers: (m) => [account(m.delegatorAddress, 'delegator_address')],
    validateBasic(m) {
      account(m.delegatorAddress, 'delegator_address');
      parseValoper(m.validatorAddress, 'validator_address');
    },
    handle(ctx, m) {
      const coins = k.withdrawRewards(ctx, account(m.delegatorAddress, 'delegator_address'), parseValoper(m.validatorAddress, 'validator_address').bytes);
      return { amount: coinsToProto(coins) };
    },
  };
  const commission: MsgRoute<MsgWithdrawValidatorCommission, MsgWithdrawValidatorCommissionResponse> = {
    typeUrl: MSG_WITHDRAW_VALIDATOR_COMMISSION,
    type: MsgWithdrawValidatorCommission,
    responseTypeUrl: '/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommissionResponse',
    responseType: MsgWithdrawValidatorCommissionResponse,
    signers: (m) => [parseValoper(m.validatorAddress, 'validator_address').account],
    validateBasic: (m) => void parseValoper(m.validatorAddress, 'validator_address'),
    handle(ctx, m) {
      return { amount: coinsToProto(k.withdrawCommission(ctx, parseValoper(m.validatorAddress, 'validator_address').bytes)) };
    },
  };
  const setAddr: MsgRoute<MsgSetWithdrawAddress, MsgSetWithdrawAddressResponse> = {
    typeUrl: MSG_SET_WITHDRAW_ADDRESS,
    type: MsgSetWithdrawAddress,
    responseTypeUrl: '/cosmos.distribution.v1beta1.MsgSetWithdrawAddressResponse',
    responseType: MsgSetWithdrawAddressResponse,
    signers: (m) => [account(m.delegatorAddress, 'delegator_address')],
    validateBasic(m) {
      account(m.delegatorAddress, 'delegator_address');
      account(m.withdrawAddress, 'withdraw_address');
    },
    handle(ctx, m) {
      k.setWithdrawAddress(ctx, account(m.delegatorAddress, 'delegator_address'), account(m.withdrawAddress, 'withdraw_address'));
      return {};
    },
  };
  return [withdraw, commission, setAddr];
}
