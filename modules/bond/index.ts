/**
 * The `bond` module: provers' collateral (bonded / locked / unbonding), slashing of locked collateral, and jailing
 * after missed deadlines. See keys.ts (state layout, errors), keeper.ts (rules; the BondKeeper contract the market
 * module programs against), genesis.ts (genesis format), invariants.ts and docs/bond.md.
 */
import type { Module } from '../../src/framework/module.js';
import type { BankKeeper } from '../bank/keeper.js';
import { BondKeeperImpl, type BondKeeper } from './keeper.js';
import { bondMsgRoutes } from './msgs.js';
import { bondQueryRoutes } from './queries.js';
import { defaultBondGenesis, exportBondGenesis, initBondGenesis } from './genesis.js';
import { bondInvariants } from './invariants.js';
import { BOND_MODULE_NAME, BOND_STORE_PREFIX } from './keys.js';

export type { BondKeeper } from './keeper.js';
export { BondKeeperImpl, amountIn, withAmount, msgAmount, proverAddress, toProtoCoins, fromProtoCoins } from './keeper.js';
export * from './keys.js';
export * from './msgs.js';
export { bondQueryRoutes, QUERY_PROVER, QUERY_PROVERS, QUERY_BOND_PARAMS } from './queries.js';
export * from './genesis.js';
export { bondInvariants } from './invariants.js';

export function createBondModule(deps: { bank: BankKeeper }): { module: Module; keeper: BondKeeper & BondKeeperImpl } {
  const keeper = new BondKeeperImpl(deps.bank);
  const module: Module = {
    name: BOND_MODULE_NAME,
    storePrefix: BOND_STORE_PREFIX,
    msgs: bondMsgRoutes(keeper),
    queries: bondQueryRoutes(keeper),
    defaultGenesis: defaultBondGenesis,
    initGenesis: (ctx, state) => initBondGenesis(ctx, state, keeper),
    exportGenesis: (ctx) => exportBondGenesis(ctx, keeper),
    endBlock: (ctx) => keeper.endBlock(ctx),
    invariants: bondInvariants(deps.bank),
  };
  return { module, keeper };
}
