/**
 * The `bank` module: balances, transfers, supply, module accounts. See keys.ts for the state layout,
 * keeper.ts for the keeper contract, genesis.ts for the genesis format.
 *
 * MsgSend refuses module-account recipients (ErrUnauthorized, like the SDK's blocked addresses): the accounts of
 * `BANK_MODULE_NAMES.blockedByDefault` and `deps.moduleAccounts` always, and any module account that has ever been
 * credited through sendToModule / moduleToModule / mint (recorded in state, so it survives restarts and export).
 */
import type { Module } from '../../src/framework/module.js';
import { BankKeeperImpl, type AccountKeeper, type BankKeeper } from './keeper.js';
import { msgSendRoute } from './msgs.js';
import { bankQueryRoutes } from './queries.js';
import { defaultBankGenesis, exportBankGenesis, initBankGenesis } from './genesis.js';
import { bankInvariants } from './invariants.js';
import { BANK_MODULE_NAME, BANK_STORE_PREFIX } from './keys.js';

export type { AccountKeeper, BankKeeper } from './keeper.js';
export { BankKeeperImpl, checkCoins, formatCoins } from './keeper.js';
export { msgSendRoute, msgCoins, msgAddress, MSG_SEND_TYPE_URL, MSG_SEND_RESPONSE_TYPE_URL } from './msgs.js';
export {
  bankQueryRoutes,
  paginate,
  DEFAULT_PAGE_LIMIT,
  QUERY_BALANCE,
  QUERY_ALL_BALANCES,
  QUERY_TOTAL_SUPPLY,
  QUERY_SUPPLY_OF,
  QUERY_SPENDABLE_BALANCES,
  QUERY_SPENDABLE_BALANCE_BY_DENOM,
  QUERY_PARAMS,
  QUERY_DENOM_METADATA,
  QUERY_DENOMS_METADATA,
} from './queries.js';
export { defaultBankGenesis, exportBankGenesis, initBankGenesis, validateBankGenesis, type BankGenesis, type GenesisCoin } from './genesis.js';
export { bankInvariants, totalSupplyInvariant, nonnegativeInvariant } from './invariants.js';
export { BANK_MODULE_NAME, BANK_STORE_PREFIX, MAX_AMOUNT, balanceKey, supplyKey, burnedKey, parseBalanceKey } from './keys.js';

/** Names tied to bank: its module name and store prefix, and the well-known module accounts blocked by default. */
export const BANK_MODULE_NAMES = {
  module: BANK_MODULE_NAME,
  storePrefix: BANK_STORE_PREFIX,
  /** Where the ante handler puts fees (SDK name). */
  feeCollector: 'fee_collector',
  /** Module accounts MsgSend refuses even before they hold funds; add others with createBankModule({moduleAccounts}). */
  blockedByDefault: ['fee_collector'] as readonly string[],
} as const;

export interface BankDeps {
  accounts: AccountKeeper;
  /** Extra module account names to block as MsgSend recipients from the start (e.g. every module the app wires). */
  moduleAccounts?: readonly string[];
}

export function createBankModule(deps: BankDeps): { module: Module; keeper: BankKeeper } {
  const blocked = [...BANK_MODULE_NAMES.blockedByDefault, ...(deps.moduleAccounts ?? [])];
  const keeper = new BankKeeperImpl(deps.accounts, blocked);
  const module: Module = {
    name: BANK_MODULE_NAME,
    storePrefix: BANK_STORE_PREFIX,
    msgs: [msgSendRoute(keeper)],
    queries: bankQueryRoutes(keeper),
    defaultGenesis: defaultBankGenesis,
    initGenesis: (ctx, state) => initBankGenesis(ctx, state, deps.accounts),
    exportGenesis: exportBankGenesis,
    invariants: bankInvariants,
  };
  return { module, keeper };
}
