/**
 * The `distribution` module (Cosmos SDK x/distribution, cosmos.distribution.v1beta1): tx fees and the market's
 * protocol fees go, every block, to the validators that signed the previous block by power, with commission to the
 * operator and the rest to delegators by F1 lazy accounting; MsgWithdrawDelegatorReward, MsgWithdrawValidatorCommission,
 * MsgSetWithdrawAddress; the SDK's queries. See keeper.ts (rules), keys.ts (state), docs/distribution.md (arithmetic).
 * Staking calls its hooks (DistributionKeeperImpl.hooks(), wired in app/modules.ts).
 */
import type { Module } from '../../src/framework/module.js';
import { DistributionKeeperImpl } from './keeper.js';
import { distributionMsgRoutes } from './msgs.js';
import { distributionQueryRoutes } from './queries.js';
import { defaultDistributionGenesis, exportDistributionGenesis, initDistributionGenesis } from './genesis.js';
import { distributionInvariants } from './invariants.js';
import type { DistrBankKeeper, DistrStakingKeeper } from './expected.js';
import { DISTRIBUTION_MODULE_NAME, DISTRIBUTION_STORE_PREFIX } from './keys.js';

export { DistributionKeeperImpl, stakeOf } from './keeper.js';
export type { DistrBankKeeper, DistrStakingKeeper } from './expected.js';
export * from './keys.js';
export * from './msgs.js';
export * as DecCoins from './deccoins.js';

export function createDistributionModule(deps: { staking: DistrStakingKeeper; bank: DistrBankKeeper }): { module: Module; keeper: DistributionKeeperImpl } {
  const keeper = new DistributionKeeperImpl(deps.staking, deps.bank);
  const module: Module = {
    name: DISTRIBUTION_MODULE_NAME,
    storePrefix: DISTRIBUTION_STORE_PREFIX,
    msgs: distributionMsgRoutes(keeper),
    queries: distributionQueryRoutes(keeper, deps.staking),
    defaultGenesis: defaultDistributionGenesis,
    initGenesis: (ctx, state) => initDistributionGenesis(ctx, state, keeper, deps.staking),
    exportGenesis: (ctx) => exportDistributionGenesis(ctx, keeper),
    beginBlock: (ctx) => keeper.allocateTokens(ctx),
    invariants: distributionInvariants(keeper, deps.bank),
  };
  return { module, keeper };
}
