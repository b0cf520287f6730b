/**
 * The `slashing` module (Cosmos SDK x/slashing + x/evidence): downtime from decided_last_commit (sliding window,
 * jail with a small slash, MsgUnjail) and double-sign evidence from FinalizeBlock's misbehavior (slash, jail,
 * tombstone). It acts on validators only through the staking keeper. See keeper.ts and docs/staking.md.
 */
import type { Module } from '../../src/framework/module.js';
import type { StakingKeeper } from '../staking/keeper.js';
import { SlashingKeeperImpl } from './keeper.js';
import { slashingMsgRoutes } from './msgs.js';
import { slashingQueryRoutes } from './queries.js';
import { defaultSlashingGenesis, exportSlashingGenesis, initSlashingGenesis } from './genesis.js';
import { slashingInvariants } from './invariants.js';
import { SLASHING_MODULE_NAME, SLASHING_STORE_PREFIX } from './keys.js';

export { SlashingKeeperImpl } from './keeper.js';
export * from './keys.js';
export * from './msgs.js';
export * from './genesis.js';

export function createSlashingModule(deps: { staking: StakingKeeper }): { module: Module; keeper: SlashingKeeperImpl } {
  const keeper = new SlashingKeeperImpl(deps.staking);
  const module: Module = {
    name: SLASHING_MODULE_NAME,
    storePrefix: SLASHING_STORE_PREFIX,
    msgs: slashingMsgRoutes(keeper),
    queries: slashingQueryRoutes(keeper),
    defaultGenesis: defaultSlashingGenesis,
    initGenesis: (ctx, state) => initSlashingGenesis(ctx, state, keeper),
    exportGenesis: (ctx) => exportSlashingGenesis(ctx, keeper),
    beginBlock: (ctx) => keeper.beginBlock(ctx),
    invariants: slashingInvariants(keeper),
  };
  return { module, keeper };
}
