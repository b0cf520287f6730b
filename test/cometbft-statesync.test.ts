/**
 * State sync on real CometBFT v0.38: a 4-validator localnet whose apps take snapshots (--snapshot-interval via
 * PROOFBOOK_SNAPSHOT_INTERVAL), then a fifth node (scripts/statesync-node.ts) joins with [statesync] enabled (trust
 * height and hash from validator 0's RPC, two RPC servers): it restores a snapshot (the app checks the restored root
 * against the light-client-verified app hash), never executes the blocks before it, then follows the chain with the
 * same app hashes and answers queries with the same state.
 *
 * Needs the cometbft binary (npm run install-cometbft): fails, never skips, when it is missing.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { SigningStargateClient } from '@cosmjs/stargate';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { createNet } from '../scripts/cometbft-net.js';
import { addStateSyncNode, type StateSyncNode } from '../scripts/statesync-node.js';
import { DEVNET_MNEMONIC } from '../genesis/index.js';

test('a fifth node joins a running 4-validator localnet by state sync and follows the chain', async (t) => {
  t.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-statesync-'));
  const net = await createNet(dir, {
    validators: 4,
    app: 'proofbook',
    appEnv: { PROOFBOOK_SNAPSHOT_INTERVAL: '10', PROOFBOOK_SNAPSHOT_KEEP_RECENT: '10' },
  });
  let node: StateSyncNode | undefined;
  t.teardown(async () => {
    await node?.stop();
    await net.stop();
    if (t.passed) fs.rmSync(dir, { recursive: true, force: true });
    else t.log(`kept ${dir} for inspection`);
  });
  await net.start();
  await net.waitForHeight(0, 2, 120_000);

  // State that a node replaying from genesis would build through txs, here delivered by the snapshot.
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(7), makeCosmoshubPath(8)] });
  const [from, to] = await wallet.getAccounts();
  const client = await SigningStargateClient.connectWithSigner(net.rpcUrl(0), wallet, { broadcastPollIntervalMs: 200, broadcastTimeoutMs: 60_000 });
  const sent = await client.sendTokens(from!.address, to!.address, [{ denom: 'uproof', amount: '777' }], { amount: [{ denom: 'uproof', amount: '2000' }], gas: '200000' });
  t.is(sent.code, 0, sent.rawLog);
  client.disconnect();

  // a snapshot after the send exists on the validators
  const snapAt = Math.ceil((sent.height + 1) / 10) * 10;
  await net.waitForHeight(0, snapAt + 3, 180_000);
  await net.waitFor(async () => fs.existsSync(path.join(net.appHome(0), 'data', 'snapshots', String(snapAt), 'meta.json')), 60_000, `snapshot ${snapAt} on validator 0`);

  node = await addStateSyncNode(net);
  const target = (await net.height(0)) + 2;
  await node.waitCaughtUp(target, 180_000);

  const appLog = fs.readFileSync(node.appLog, 'utf8');
  const restored = /"height":"(\d+)".*state snapshot restored; app hash verified/.exec(appLog);
  t.truthy(restored, `the app restored a snapshot\n${appLog.slice(-3000)}`);
  const restoredAt = Number(restored![1]);
  t.true(restoredAt >= snapAt && restoredAt % 10 === 0, `restored height ${restoredAt}`);
  const st = await node.status();
  t.true(st.earliestHeight > restoredAt, `no block at or before the snapshot was executed (earliest ${st.earliestHeight})`);
  t.false(/InitChain|initChain/.test(appLog.split('restoring state snapshot')[0] ?? ''), 'no InitChain before the restore');

  // it follows: same app hashes as validator 0 at every header after the snapshot, new blocks included
  const upTo = (await node.status()).height;
  await net.waitFor(async () => (await node!.status()).height >= upTo + 3, 60_000, 'the state-sync node follows new blocks');
  for (let h = restoredAt + 2; h <= upTo + 3; h++) {
    const res = await fetch(`${node.rpcUrl}/block?height=${h}`);
    const body = await res.json() as { result: { block: { header: { app_hash: string } } } };
    t.is(body.result.block.header.app_hash, await net.headerAppHash(0, h), `app hash at header ${h}`);
  }
  // and serves the same state (the send's recipient balance) as a validator at the same height
  const q = async (url: string, h: number) => {
    const c = await SigningStargateClient.connect(url);
    try {
      const res = await fetch(`${url}/abci_query?path="/cosmos.bank.v1beta1.Query/Balance"&height=${h}&data=0x${Buffer.from(
        (await import('cosmjs-types/cosmos/bank/v1beta1/query')).QueryBalanceRequest.encode({ address: to!.address, denom: 'uproof' }).finish()).toString('hex')}`);
      const body = await res.json() as { result: { response: { value: string; code?: number; log?: string } } };
      return body.result.response;
    } finally {
      c.disconnect();
    }
  };
  const h = upTo + 2;
  const a = await q(net.rpcUrl(0), h);
  const b = await q(node.rpcUrl, h);
  t.falsy(b.code, b.log);
  t.is(b.value, a.value);
});
