/**
 * Real CometBFT v0.38 (single validator) driving the kvstore fixture through app/abci/server.ts.
 * Needs the cometbft binary (npm run install-cometbft): fails, never skips, when it is missing.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import pino from 'pino';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { toHex } from '@cosmjs/encoding';
import { startAbciServer } from '../app/abci/server.js';
import { createNet, findCometbft } from '../scripts/cometbft-net.js';
import { KvStoreApp, kvAppHash } from './fixtures/kvstore-app.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

test('cometbft binary is installed (v0.38.x)', async (t) => {
  const bin = await findCometbft(); // throws with install instructions
  t.true(fs.existsSync(bin));
});

test('a real CometBFT node drives the kvstore fixture: blocks, txs, queries, tx index', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-comet-kv-'));
  const net = await createNet(dir, { validators: 1, app: 'external', appState: { greeting: 'hello' }, chainId: 'kv-test' });
  t.teardown(async () => { await net.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

  const app = new KvStoreApp();
  const fatal: string[] = [];
  const server = await startAbciServer(app, {
    address: net.abciAddress(0), logger: pino({ level: 'silent' }), onFatal: (_e, m) => { fatal.push(m); },
  });
  t.teardown(() => server.close());
  await net.start();
  await net.waitForHeight(0, 3, 60_000);

  // The genesis app_state reached InitChain.
  t.is(app.committed.get('greeting'), 'hello');

  const client = await Comet38Client.connect(net.rpcUrl(0));
  t.teardown(() => client.disconnect());
  const status = await client.status();
  t.is(status.nodeInfo.network, 'kv-test');
  t.true(status.nodeInfo.version.startsWith('0.38.'));

  // A malformed tx is refused by CheckTx (code 1) and never enters a block.
  const bad = await client.broadcastTxSync({ tx: enc.encode('no-equals-sign') });
  t.is(bad.code, 1);
  t.is(bad.codespace, 'kvstore');

  // Commit several txs; each lands in a block with code 0.
  const results = [];
  for (let k = 0; k < 5; k++) {
    const tx = enc.encode(`key${k}=value${k}`);
    const r = await client.broadcastTxCommit({ tx });
    t.is(r.checkTx.code, 0);
    t.is(r.txResult?.code, 0, `tx ${k} executed`);
    t.true(r.height > 0);
    t.deepEqual(r.hash, new Uint8Array(createHash('sha256').update(tx).digest()));
    results.push(r);
  }

  // Queries see committed state through CometBFT's abci_query.
  const q = await client.abciQuery({ path: '/store', data: enc.encode('key3') });
  t.is(q.code, 0);
  t.is(dec.decode(q.value), 'value3');

  // tx indexer (kv) finds txs by hash.
  const found = await client.txSearch({ query: `tx.hash='${toHex(results[2]!.hash).toUpperCase()}'` });
  t.is(found.totalCount, 1);
  t.is(dec.decode(found.txs[0]!.tx), 'key2=value2');

  // The app hash CometBFT records in the next header equals the fixture's own computation.
  const h = results[4]!.height;
  await net.waitForHeight(0, h + 1);
  const block = await client.block(h + 1);
  const expectedState = new Map(app.committed);
  // state after block h: everything committed up to h (later blocks are empty)
  t.deepEqual(block.block.header.appHash, kvAppHash(expectedState, BigInt(h)));

  t.true(app.calls.includes('prepareProposal'));
  t.true(app.calls.includes('processProposal'));
  t.deepEqual(fatal, []);
});
