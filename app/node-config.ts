/**
 * cosmos.base.node.v1beta1.Service/Config, answered by the app (it knows both halves; the gateways forward the query
 * to it, through CometBFT's `abci_query` for `proofbook start`):
 *
 * - minimum_gas_price: the consensus minimum from the auth params (CheckTx and DeliverTx enforce it on every node,
 *   so unlike the SDK's per-node app.toml value it is the same everywhere), as the SDK's DecCoins string with 18
 *   decimals;
 * - pruning_keep_recent / pruning_interval: this node's state retention. The store keeps the last `historyBlocks`
 *   heights queryable (`--history-blocks`, src/store/committed.ts) and drops the height that leaves that window in the
 *   same batch as every Commit, so the interval is 1. Older states are gone for good (no archive mode);
 * - halt_height: 0 (proofbook has no halt-height setting).
 *
 * CometBFT's block store is not pruned by the app (Commit answers retain_height 0), so blocks and the tx index keep
 * every height.
 */
import type { ConfigResponse } from 'cosmjs-types/cosmos/base/node/v1beta1/query';
import type { AuthParams } from '../modules/auth/keeper.js';

export const NODE_CONFIG_QUERY_PATH = '/cosmos.base.node.v1beta1.Service/Config';

export function nodeConfig(auth: Pick<AuthParams, 'minGasPriceAtto' | 'feeDenom'>, historyBlocks: number): ConfigResponse {
  const whole = auth.minGasPriceAtto / 10n ** 18n, frac = auth.minGasPriceAtto % 10n ** 18n;
  return {
    minimumGasPrice: `${whole}.${frac.toString().padStart(18, '0')}${auth.feeDenom}`,
    pruningKeepRecent: String(historyBlocks),
    pruningInterval: '1',
    haltHeight: 0n,
  };
}
