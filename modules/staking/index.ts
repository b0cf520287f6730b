/**
 * The `staking` module: validators (MsgCreateValidator with an ed25519 consensus key, commission, self-bond,
 * moniker), delegations, unbonding with an unbonding period, redelegation, the bounded active set and the validator
 * updates FinalizeBlock returns to CometBFT, in the Cosmos SDK's x/staking model and under its message and query
 * names. See keeper.ts (rules), keys.ts (state layout), genesis.ts (gentxs), invariants.ts and docs/staking.md.
 * It also records the recent proposers (proposers.ts) for the market's censorship rule.
 */
import type { Module } from '../../src/framework/module.js';
import type { BankKeeper } from '../bank/keeper.js';
import { StakingKeeperImpl } from './keeper.js';
import { stakingMsgRoutes } from './msgs.js';
import { stakingQueryRoutes } from './queries.js';
import { defaultStakingGenesis, exportStakingGenesis, initStakingGenesis, stakingGenesisTxs } from './genesis.js';
import { stakingInvariants } from './invariants.js';
import { recordProposer } from './proposers.js';
import { ed25519FromAny } from './addresses.js';
import { STAKING_MODULE_NAME, STAKING_STORE_PREFIX } from './keys.js';

export { StakingKeeperImpl, type StakingKeeper, type StakingHooks, tokensOf, sharesOf, powerOf, consOf } from './keeper.js';
export * from './keys.js';
export * from './addresses.js';
export * from './msgs.js';
export * from './genesis.js';
export type { ProposerHistory, ProposerRecord } from './proposers.js';

export function createStakingModule(deps: { bank: BankKeeper }): { module: Module; keeper: StakingKeeperImpl } {
  const keeper = new StakingKeeperImpl(deps.bank);
  const module: Module = {
    name: STAKING_MODULE_NAME,
    storePrefix: STAKING_STORE_PREFIX,
    msgs: stakingMsgRoutes(keeper),
    queries: stakingQueryRoutes(keeper, deps.bank),
    defaultGenesis: defaultStakingGenesis,
    initGenesis: (ctx, state) => initStakingGenesis(ctx, state, keeper),
    exportGenesis: (ctx) => exportStakingGenesis(ctx, keeper),
    genesisTxs: stakingGenesisTxs,
    beginBlock: (ctx) => recordProposer(ctx, keeper.store(ctx)),
    endBlock: (ctx) => keeper.endBlock(ctx),
    validatorUpdates(ctx) {
      const updates = keeper.applyValidatorSetUpdates(ctx);
      if (ctx.mode !== 'genesis') return updates;
      // InitChain answers with the whole initial set.
      return [...keeper.lastPowers(ctx).values()].map(({ val, power }) => ({ pubKeyEd25519: ed25519FromAny(keeper.mustValidator(ctx, val).consensusPubkey), power }));
    },
    invariants: stakingInvariants(keeper, deps.bank),
  };
  return { module, keeper };
}
