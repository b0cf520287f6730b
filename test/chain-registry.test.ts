/**
 * chain.json / assetlist.json (cosmos/chain-registry) and the Keplr ChainInfo generated from a genesis: valid JSON
 * with the fields wallets read, every chain-specific value taken from the genesis (chain id, fee denom and minimum
 * gas price, bond denom, denom units), through the pure generator and the `proofbook chain-registry` command.
 */
import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainRegistryDocuments } from '../src/client/chain-registry.js';
import { defaultGenesis, DEVNET_CHAIN_ID } from '../genesis/index.js';
import { main } from '../cli/main.js';

const ENDPOINTS = { rpc: 'http://127.0.0.1:26657', rest: 'http://127.0.0.1:1317', grpc: '127.0.0.1:9090' };

test('documents from the default genesis: chain id, prefixes, PROOF with 6 decimals, fees from the auth params', (t) => {
  const { chain, assetlist, keplr } = chainRegistryDocuments({ chain_id: DEVNET_CHAIN_ID, app_state: defaultGenesis() }, ENDPOINTS) as any;
  t.is(chain.chain_id, DEVNET_CHAIN_ID);
  t.is(chain.chain_name, 'proofbookdevnet');
  t.is(chain.network_type, 'devnet');
  t.is(chain.bech32_prefix, 'proof');
  t.is(chain.slip44, 118);
  t.deepEqual(chain.fees.fee_tokens[0], { denom: 'uproof', fixed_min_gas_price: 0.001, low_gas_price: 0.001, average_gas_price: 0.002, high_gas_price: 0.004 });
  t.deepEqual(chain.staking.staking_tokens, [{ denom: 'uproof' }]);
  t.deepEqual(chain.apis.rest, [{ address: ENDPOINTS.rest, provider: 'proofbook' }]);
  t.deepEqual(chain.apis.grpc, [{ address: ENDPOINTS.grpc, provider: 'proofbook' }]);
  t.is(assetlist.chain_name, chain.chain_name);
  t.is(assetlist.assets.length, 1);
  const a = assetlist.assets[0];
  t.like(a, { base: 'uproof', display: 'proof', symbol: 'PROOF', type_asset: 'sdk.coin' });
  t.deepEqual(a.denom_units.map((u: any) => [u.denom, u.exponent]), [['uproof', 0], ['proof', 6]]);
  t.is(keplr.chainId, DEVNET_CHAIN_ID);
  t.is(keplr.rpc, ENDPOINTS.rpc);
  t.is(keplr.rest, ENDPOINTS.rest);
  t.deepEqual(keplr.bip44, { coinType: 118 });
  t.is(keplr.bech32Config.bech32PrefixValAddr, 'proofvaloper');
  t.is(keplr.bech32Config.bech32PrefixConsPub, 'proofvalconspub');
  t.deepEqual(keplr.currencies, [{ coinDenom: 'PROOF', coinMinimalDenom: 'uproof', coinDecimals: 6 }]);
  t.deepEqual(keplr.feeCurrencies[0].gasPriceStep, { low: 0.001, average: 0.002, high: 0.004 });
  t.deepEqual(keplr.stakeCurrency, keplr.currencies[0]);
});

test('values follow the genesis: another chain id, min gas price and metadata change the documents', (t) => {
  const g = defaultGenesis() as any;
  g.auth.params.min_gas_price_atto = '25000000000000000'; // 0.025 uproof/gas
  g.bank.denom_metadata[0].denom_units[1].exponent = 9;
  const { chain, keplr } = chainRegistryDocuments({ chain_id: 'proofbook-1', app_state: g }, ENDPOINTS) as any;
  t.is(chain.network_type, 'mainnet');
  t.is(chain.chain_name, 'proofbook');
  t.is(chain.fees.fee_tokens[0].fixed_min_gas_price, 0.025);
  t.is(keplr.currencies[0].coinDecimals, 9);
  t.throws(() => chainRegistryDocuments({ app_state: g }, ENDPOINTS), { message: /chain_id is missing/ });
});

test.serial('proofbook chain-registry --genesis FILE --out DIR writes three JSON files; bad input exits 2', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'chain-reg-'));
  const quiet = async (args: string[]) => {
    const out = process.stdout.write.bind(process.stdout), err = process.stderr.write.bind(process.stderr);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try { return await main(['node', 'proofbook', ...args]); } finally { process.stdout.write = out; process.stderr.write = err; }
  };
  try {
    const gen = join(dir, 'genesis.json');
    // CometBFT's genesis shape (extra top-level fields are ignored).
    await writeFile(gen, JSON.stringify({ genesis_time: '2026-01-01T00:00:00Z', chain_id: 'proofbook-testnet-3', app_state: defaultGenesis() }));
    t.is(await quiet(['chain-registry', '--genesis', gen, '--rpc', 'https://rpc.example', '--rest', 'https://api.example', '--out', join(dir, 'out')]), 0);
    const chain = JSON.parse(await readFile(join(dir, 'out', 'chain.json'), 'utf8'));
    const assets = JSON.parse(await readFile(join(dir, 'out', 'assetlist.json'), 'utf8'));
    const keplr = JSON.parse(await readFile(join(dir, 'out', 'keplr-chain-info.json'), 'utf8'));
    t.is(chain.chain_id, 'proofbook-testnet-3');
    t.is(chain.network_type, 'testnet');
    t.is(assets.assets[0].base, 'uproof');
    t.is(keplr.rest, 'https://api.example');
    t.is(keplr.rpc, 'https://rpc.example');
    await writeFile(join(dir, 'bad.json'), '{not json');
    t.is(await quiet(['chain-registry', '--genesis', join(dir, 'bad.json')]), 2);
    t.is(await quiet(['chain-registry', '--genesis', gen, '--rest', 'api.example']), 2);
    t.is(await quiet(['chain-registry', '--genesis', join(dir, 'missing.json')]), 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
