/**
 * The `market` module: proof requests with escrowed, ramping fees; prover asks; a deterministic per-block auction per
 * circuit (matching.ts); proofs verified by the verifier module; deadlines, slashing (through the bond module) and
 * on-chain reputation. Protocol: docs/protocol.md. State layout: keys.ts.
 */
import type { Module } from '../../src/framework/module.js';
import type { BankKeeper } from '../bank/keeper.js';
import type { BondKeeper } from '../bond/keeper.js';
import type { VerifierKeeper } from '../verifier/keeper.js';
import { MarketKeeperImpl, type MarketKeeper, type MarketMechanism } from './keeper.js';
import { marketMsgRoutes } from './msgs.js';
import { marketQueryRoutes } from './queries.js';
import { defaultMarketGenesis, exportMarketGenesis, initMarketGenesis } from './genesis.js';
import { marketInvariants } from './invariants.js';
import type { ProposerHistoryReader } from './censorship.js';
import { MARKET_MODULE_NAME, MARKET_STORE_PREFIX } from './keys.js';

export type { MarketKeeper } from './keeper.js';
export { MarketKeeperImpl, DEFAULT_MECHANISM, MECHANISM_V1, type MarketMechanism, rampedFee, reputationScore, parseSignals, statusName } from './keeper.js';
export * from './keys.js';
export * from './msgs.js';
export * from './queries.js';
export { defaultMarketGenesis, exportMarketGenesis, initMarketGenesis, paramsToJson, validateParams } from './genesis.js';
export { marketInvariants } from './invariants.js';
export { fallbackReference, rampedFallbackFee, fallbackStart } from './fallback-fee.js';
export { windowClosed, DEFAULT_CENSORSHIP_RULE, CENSORSHIP_LOOKBACK, CENSORSHIP_MAX_GRACE, type CensorshipRule, type ProposerHistoryReader } from './censorship.js';

export function createMarketModule(deps: { bank: BankKeeper; bond: BondKeeper; verifier: VerifierKeeper; mechanism?: MarketMechanism; proposers?: ProposerHistoryReader }): { module: Module; keeper: MarketKeeper & MarketKeeperImpl } {
  const keeper = new MarketKeeperImpl(deps.bank, deps.bond, deps.verifier, deps.mechanism, deps.proposers);
  const module: Module = {
    name: MARKET_MODULE_NAME,
    storePrefix: MARKET_STORE_PREFIX,
    msgs: marketMsgRoutes(keeper),
    queries: marketQueryRoutes(keeper),
    defaultGenesis: defaultMarketGenesis,
    initGenesis: (ctx, state) => initMarketGenesis(ctx, state, keeper),
    exportGenesis: (ctx) => exportMarketGenesis(ctx, keeper),
    beforeTxs: (ctx, msgs) => keeper.beforeTxs(ctx, msgs),
    endBlock: (ctx) => keeper.endBlock(ctx),
    invariants: marketInvariants(keeper),
  };
  return { module, keeper };
}
