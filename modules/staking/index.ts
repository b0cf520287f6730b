/**
 * The `staking` module. This first slice only records the recent proposers (proposers.ts) that the market's
 * censorship rule reads; validators, delegations and validator-set updates follow.
 */
import type { Module } from '../../src/framework/module.js';
import type { Context } from '../../src/framework/context.js';
import { proposerAt, recordProposer, type ProposerHistory, type ProposerRecord } from './proposers.js';

export const STAKING_MODULE_NAME = 'staking';
export const STAKING_STORE_PREFIX = 'staking/';

export class StakingKeeperImpl implements ProposerHistory {
  proposerAt(ctx: Context, height: bigint): ProposerRecord | undefined {
    return proposerAt(ctx.store(STAKING_STORE_PREFIX), height);
  }
}

export function createStakingModule(): { module: Module; keeper: StakingKeeperImpl } {
  const keeper = new StakingKeeperImpl();
  const module: Module = {
    name: STAKING_MODULE_NAME,
    storePrefix: STAKING_STORE_PREFIX,
    beginBlock: (ctx) => recordProposer(ctx, ctx.store(STAKING_STORE_PREFIX)),
  };
  return { module, keeper };
}
