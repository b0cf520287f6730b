/**
 * Wallet and registry documents generated from a genesis and a node's public addresses (no Node.js imports: usable
 * in a browser too):
 * - chain.json and assetlist.json in the cosmos/chain-registry schema (https://github.com/cosmos/chain-registry);
 * - a Keplr `ChainInfo` for `window.keplr.experimentalSuggestChain(...)`.
 * Everything chain-specific comes from the genesis: chain id, the fee denom and minimum gas price (auth params),
 * the bond denom (staking params) and the denom units (bank denom_metadata).
 */

export interface RegistryEndpoints {
  /** CometBFT RPC, e.g. http://127.0.0.1:26657 */
  rpc: string;
  /** REST gateway, e.g. http://127.0.0.1:1317 */
  rest: string;
  /** gRPC host:port, e.g. 127.0.0.1:9090 (optional) */
  grpc?: string;
}

export interface RegistryOptions extends RegistryEndpoints {
  /** chain-registry `chain_name` (lower case, no spaces); default 'proofbook' (+ 'devnet'/'testnet' by chain id). */
  chainName?: string;
  /** 'mainnet' | 'testnet' | 'devnet'; default from the chain id ('devnet' when it contains 'devnet', etc.). */
  networkType?: 'mainnet' | 'testnet' | 'devnet';
}

interface DenomUnit { denom: string; exponent: number; aliases?: string[] }
interface Metadata { description?: string; denom_units: DenomUnit[]; base: string; display: string; name?: string; symbol?: string }

export const BECH32_PREFIX = 'proof';
export const SLIP44 = 118;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

/** Accepts a CometBFT genesis, proofbook's home genesis.json ({chain_id, app_state}) or a `genesis` RPC result. */
function appStateOf(genesis: unknown): { chainId: string; appState: Obj } {
  let g = obj(genesis);
  if (g.genesis) g = obj(g.genesis);
  const chainId = g.chain_id;
  if (typeof chainId !== 'string' || chainId === '') throw new Error('genesis: chain_id is missing');
  return { chainId, appState: obj(g.app_state) };
}

/** min_gas_price_atto (10^-18 units per gas) as a decimal number of base units per gas. */
function gasPriceOf(atto: unknown): number {
  const s = typeof atto === 'string' && /^[0-9]+$/.test(atto) ? atto : '1000000000000000';
  const v = BigInt(s);
  const whole = v / 10n ** 18n, frac = (v % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '');
  return Number(frac === '' ? whole.toString() : `${whole}.${frac}`);
}

function metadataOf(appState: Obj, denom: string): Metadata {
  const list = (obj(appState.bank).denom_metadata ?? []) as Metadata[];
  const m = list.find((x) => obj(x).base === denom);
  return m ?? { base: denom, display: denom, denom_units: [{ denom, exponent: 0 }], name: denom, symbol: denom.toUpperCase() };
}

const displayExponent = (m: Metadata): number => m.denom_units.find((u) => u.denom === m.display)?.exponent ?? 0;

export interface ChainDocuments {
  chain: Obj;
  assetlist: Obj;
  keplr: Obj;
}

export function chainRegistryDocuments(genesis: unknown, opts: RegistryOptions): ChainDocuments {
  const { chainId, appState } = appStateOf(genesis);
  const authParams = obj(obj(appState.auth).params);
  const feeDenom = typeof authParams.fee_denom === 'string' ? authParams.fee_denom : 'uproof';
  const bondDenom = (obj(obj(appState.staking).params).bond_denom as string | undefined) ?? feeDenom;
  const minGas = gasPriceOf(authParams.min_gas_price_atto);
  const low = minGas, average = minGas * 2, high = minGas * 4;
  const networkType = opts.networkType ?? (/devnet|local/i.test(chainId) ? 'devnet' : /test/i.test(chainId) ? 'testnet' : 'mainnet');
  const chainName = opts.chainName ?? (networkType === 'mainnet' ? 'proofbook' : `proofbook${networkType}`);
  const fee = metadataOf(appState, feeDenom);
  const bond = metadataOf(appState, bondDenom);
  const denoms = [...new Map([fee, bond].map((m) => [m.base, m])).values()];

  const chain: Obj = {
    $schema: '../chain.schema.json',
    chain_name: chainName,
    chain_type: 'cosmos',
    status: 'live',
    network_type: networkType,
    pretty_name: networkType === 'mainnet' ? 'proofbook' : `proofbook ${networkType}`,
    chain_id: chainId,
    bech32_prefix: BECH32_PREFIX,
    daemon_name: 'proofbook',
    node_home: '$HOME/.proofbook',
    key_algos: ['secp256k1'],
    slip44: SLIP44,
    fees: { fee_tokens: [{ denom: feeDenom, fixed_min_gas_price: minGas, low_gas_price: low, average_gas_price: average, high_gas_price: high }] },
    staking: { staking_tokens: [{ denom: bondDenom }] },
    codebase: { consensus: { type: 'cometbft', version: '0.38.26' } },
    apis: {
      rpc: [{ address: opts.rpc, provider: 'proofbook' }],
      rest: [{ address: opts.rest, provider: 'proofbook' }],
      grpc: opts.grpc ? [{ address: opts.grpc, provider: 'proofbook' }] : [],
    },
  };
  const assetlist: Obj = {
    $schema: '../assetlist.schema.json',
    chain_name: chainName,
    assets: denoms.map((m) => ({
      description: m.description ?? '',
      denom_units: m.denom_units.map((u) => ({ denom: u.denom, exponent: u.exponent, ...(u.aliases && u.aliases.length > 0 ? { aliases: u.aliases } : {}) })),
      type_asset: 'sdk.coin',
      base: m.base,
      name: m.name ?? m.base,
      display: m.display,
      symbol: m.symbol ?? m.display.toUpperCase(),
    })),
  };
  const currency = (m: Metadata) => ({ coinDenom: m.symbol ?? m.display.toUpperCase(), coinMinimalDenom: m.base, coinDecimals: displayExponent(m) });
  const keplr: Obj = {
    chainId,
    chainName: chain.pretty_name,
    rpc: opts.rpc,
    rest: opts.rest,
    bip44: { coinType: SLIP44 },
    bech32Config: {
      bech32PrefixAccAddr: BECH32_PREFIX,
      bech32PrefixAccPub: `${BECH32_PREFIX}pub`,
      bech32PrefixValAddr: `${BECH32_PREFIX}valoper`,
      bech32PrefixValPub: `${BECH32_PREFIX}valoperpub`,
      bech32PrefixConsAddr: `${BECH32_PREFIX}valcons`,
      bech32PrefixConsPub: `${BECH32_PREFIX}valconspub`,
    },
    currencies: denoms.map(currency),
    feeCurrencies: [{ ...currency(fee), gasPriceStep: { low, average, high } }],
    stakeCurrency: currency(bond),
    features: [],
  };
  return { chain, assetlist, keplr };
}
