/**
 * The module set and its wiring. Order matters and is fixed: it is the order of genesis initialization, begin/end
 * block hooks and invariant checks. Keepers are passed explicitly, so each module sees only the small interfaces of
 * the modules it depends on.
 */
import type { Module, MsgRoute, QueryRoute } from '../src/framework/module.js';
import { createAuthModule, type AuthKeeper } from '../modules/auth/index.js';
import { createBankModule, type BankKeeper } from '../modules/bank/index.js';
import { createVerifierModule, type VerifierKeeper, type VerifierKeeperImpl } from '../modules/verifier/index.js';
import { createBondModule, type BondKeeper } from '../modules/bond/index.js';
import { createStakingModule, type StakingKeeperImpl } from '../modules/staking/index.js';
import { createSlashingModule, type SlashingKeeperImpl } from '../modules/slashing/index.js';
import { createDistributionModule, type DistributionKeeperImpl } from '../modules/distribution/index.js';
import { createMarketModule, type MarketKeeper, type MarketKeeperImpl, type MarketMechanism } from '../modules/market/index.js';

/** Module accounts: no user may send to them with MsgSend (their balances are ledgers kept by their modules). */
export const MODULE_ACCOUNTS = ['fee_collector', 'verifier', 'bond', 'market_escrow', 'treasury', 'bonded_tokens_pool', 'not_bonded_tokens_pool', 'distribution'] as const;

export interface Keepers {
  auth: AuthKeeper;
  bank: BankKeeper;
  verifier: VerifierKeeper;
  bond: BondKeeper;
  market: MarketKeeper;
  staking: StakingKeeperImpl;
  slashing: SlashingKeeperImpl;
  distribution: DistributionKeeperImpl;
}

export interface ModuleSet {
  modules: readonly Module[];
  keepers: Keepers & { market: MarketKeeper & MarketKeeperImpl };
  routes: ReadonlyMap<string, MsgRoute>;
  moduleOf: ReadonlyMap<string, string>;
  queries: ReadonlyMap<string, QueryRoute>;
}

/**
 * Options for tools that run the real modules off-chain (the simulator, sim/): the verifier the market consults
 * (the simulator's stand-in wraps the real keeper) and the market's auction rules. The node uses neither.
 */
export interface ModuleOptions {
  marketVerifier?: (real: VerifierKeeper & VerifierKeeperImpl) => VerifierKeeper;
  marketMechanism?: MarketMechanism;
}

export function createModules(opts: ModuleOptions = {}): ModuleSet {
  const auth = createAuthModule();
  const bank = createBankModule({ accounts: auth.keeper, moduleAccounts: MODULE_ACCOUNTS });
  const verifier = createVerifierModule({ bank: bank.keeper });
  const bond = createBondModule({ bank: bank.keeper });
  const staking = createStakingModule({ bank: bank.keeper });
  const slashing = createSlashingModule({ staking: staking.keeper });
  // Distribution allocates the previous block's fees (beginBlock) before slashing acts on the same block's votes and
  // evidence, as in the SDK; its hooks settle rewards before any stake change.
  const distribution = createDistributionModule({ staking: staking.keeper, bank: bank.keeper });
  staking.keeper.addHooks(distribution.keeper.hooks());
  staking.keeper.addHooks(slashing.keeper.hooks());
  const marketVerifier = opts.marketVerifier ? opts.marketVerifier(verifier.keeper) : verifier.keeper;
  const market = createMarketModule({ bank: bank.keeper, bond: bond.keeper, verifier: marketVerifier, mechanism: opts.marketMechanism, proposers: staking.keeper });
  const modules: Module[] = [auth.module, bank.module, verifier.module, bond.module, staking.module, distribution.module, slashing.module, market.module];

  const routes = new Map<string, MsgRoute>();
  const moduleOf = new Map<string, string>();
  const queries = new Map<string, QueryRoute>();
  const prefixes: string[] = [];
  for (const m of modules) {
    for (const p of prefixes) {
      if (p.startsWith(m.storePrefix) || m.storePrefix.startsWith(p)) throw new Error(`store prefix '${m.storePrefix}' of ${m.name} overlaps '${p}'`);
    }
    prefixes.push(m.storePrefix);
    for (const r of m.msgs ?? []) {
      if (routes.has(r.typeUrl)) throw new Error(`message ${r.typeUrl} registered twice`);
      routes.set(r.typeUrl, r);
      moduleOf.set(r.typeUrl, m.name);
    }
    for (const q of m.queries ?? []) {
      if (queries.has(q.path)) throw new Error(`query ${q.path} registered twice`);
      queries.set(q.path, q);
    }
  }
  return { modules, keepers: { auth: auth.keeper, bank: bank.keeper, verifier: verifier.keeper, bond: bond.keeper, market: market.keeper, staking: staking.keeper, slashing: slashing.keeper, distribution: distribution.keeper }, routes, moduleOf, queries };
}
