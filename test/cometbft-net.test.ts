/**
 * scripts/cometbft-net.ts network creation (real `cometbft testnet`, nothing started): per-node ports,
 * peers, timeouts and one shared genesis with our app_state.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createNet, getTomlValue, setTomlValue, FAST_TIMEOUTS } from '../scripts/cometbft-net.js';

test('setTomlValue edits only the key in the given section and refuses unknown keys', (t) => {
  const text = 'proxy_app = "tcp://127.0.0.1:26658"\n[rpc]\nladdr = "tcp://127.0.0.1:26657"\n[p2p]\nladdr = "tcp://0.0.0.0:26656"\npex = true\n';
  const out = setTomlValue(setTomlValue(text, 'p2p', 'laddr', 'tcp://127.0.0.1:1'), 'p2p', 'pex', false);
  t.is(getTomlValue(out, 'p2p', 'laddr'), 'tcp://127.0.0.1:1');
  t.is(getTomlValue(out, 'rpc', 'laddr'), 'tcp://127.0.0.1:26657');
  t.is(getTomlValue(out, 'p2p', 'pex'), 'false');
  t.is(getTomlValue(setTomlValue(out, '', 'proxy_app', 'unix:///x'), '', 'proxy_app'), 'unix:///x');
  t.throws(() => setTomlValue(text, 'rpc', 'nope', 1), { message: /\[rpc\] nope not found/ });
});

test('createNet writes a consistent 3-validator network', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-net-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const appState = { bank: { balances: [] }, marker: 'x' };
  const net = await createNet(dir, { validators: 3, appState, chainId: 'net-test-1', app: 'kvstore' });
  const genesisTexts = [0, 1, 2].map((i) => fs.readFileSync(path.join(net.nodeHome(i), 'config', 'genesis.json'), 'utf8'));
  t.is(genesisTexts[1], genesisTexts[0]);
  t.is(genesisTexts[2], genesisTexts[0]);
  const genesis = JSON.parse(genesisTexts[0]!) as { chain_id: string; app_state: unknown; validators: unknown[] };
  t.is(genesis.chain_id, 'net-test-1');
  t.deepEqual(genesis.app_state, appState);
  t.is(genesis.validators.length, 3);

  const ports = new Set<number>();
  const ids = JSON.parse(fs.readFileSync(path.join(dir, 'net.json'), 'utf8')).nodeIds as string[];
  t.is(ids.length, 3);
  for (let i = 0; i < 3; i++) {
    const cfg = fs.readFileSync(path.join(net.nodeHome(i), 'config', 'config.toml'), 'utf8');
    t.is(getTomlValue(cfg, '', 'proxy_app'), net.abciAddress(i));
    t.is(getTomlValue(cfg, 'rpc', 'laddr'), `tcp://127.0.0.1:${net.rpcPort(i)}`);
    t.is(getTomlValue(cfg, 'rpc', 'pprof_laddr'), '');
    t.is(getTomlValue(cfg, 'p2p', 'laddr'), `tcp://127.0.0.1:${net.p2pPort(i)}`);
    t.is(getTomlValue(cfg, 'p2p', 'addr_book_strict'), 'false');
    t.is(getTomlValue(cfg, 'p2p', 'allow_duplicate_ip'), 'true');
    t.is(getTomlValue(cfg, 'tx_index', 'indexer'), 'kv');
    t.is(getTomlValue(cfg, 'consensus', 'timeout_propose'), FAST_TIMEOUTS.timeout_propose);
    t.is(getTomlValue(cfg, 'consensus', 'timeout_commit'), FAST_TIMEOUTS.timeout_commit);
    t.is(getTomlValue(cfg, 'consensus', 'skip_timeout_commit'), 'true');
    const peers = getTomlValue(cfg, 'p2p', 'persistent_peers')!.split(',').sort();
    const expected = [0, 1, 2].filter((j) => j !== i).map((j) => `${ids[j]}@127.0.0.1:${net.p2pPort(j)}`).sort();
    t.deepEqual(peers, expected);
    for (const p of [net.p2pPort(i), net.rpcPort(i), net.abciPort(i)]) ports.add(p);
  }
  t.is(ports.size, 9, 'all ports distinct');

  // Re-creating on the same directory reuses it (same ports and keys).
  const again = await createNet(dir, { validators: 3 });
  t.is(again.rpcPort(2), net.rpcPort(2));
  t.is(again.chainId, 'net-test-1');
  await t.throwsAsync(createNet(dir, { validators: 4 }), { message: /3-validator network/ });
});
