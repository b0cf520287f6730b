/**
 * What distribution needs of other modules: small keeper interfaces (the staking and bank keepers satisfy them), so
 * this module reaches no other module's internals. Staking tells distribution about stake changes through the
 * StakingHooks it defines (modules/staking/keeper.ts); distribution's implementation is DistributionKeeperImpl.hooks().
 */
import type { Delegation, Validator } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import type { Context } from '../../src/framework/context.js';
import type { Address } from '../../src/crypto/address.js';
import type { BankKeeper } from '../bank/keeper.js';

export interface DistrStakingKeeper {
  validator(ctx: Context, val: Uint8Array): Validator | undefined;
  validatorByCons(ctx: Context, cons: Uint8Array): Validator | undefined;
  delegation(ctx: Context, del: Address, val: Uint8Array): Delegation | undefined;
  delegationsOf(ctx: Context, del: Address): Delegation[];
  /** Genesis only (validators / delegations imported without hooks get their records). */
  allValidators(ctx: Context): Validator[];
  delegationsTo(ctx: Context, val: Uint8Array): Delegation[];
}

export type DistrBankKeeper = Pick<BankKeeper, 'balances' | 'sendFromModule' | 'moduleToModule' | 'moduleAccount' | 'isBlockedAddress'>;
