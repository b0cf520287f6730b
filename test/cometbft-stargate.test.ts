/**
 * End to end through real CometBFT v0.38: the real proofbook app (launched as `proofbook start`) behind a
 * single CometBFT validator, driven by unmodified @cosmjs/stargate over CometBFT's RPC.
 *
 * Needs the cometbft binary (npm run install-cometbft): fails, never skips, when it is missing.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { SigningStargateClient, StargateClient } from '@cosmjs/stargate';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { createNet } from '../scripts/cometbft-net.js';
import { DEVNET_MNEMONIC, DEVNET_ACCOUNT_BALANCE, devnetAccounts } from '../genesis/index.js';
import { NATIVE_DENOM } from '../src/types/coins.js';

test('stargate sends tokens through CometBFT to the real app; balances, tx lookup and height agree', async (t) => {
  t.timeout(180_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-comet-sg-'));
  const net = await createNet(dir, { validators: 1, app: 'proofbook', chainId: 'proofbook-e2e-1' });
  t.teardown(async () => {
    await net.stop();
    if (t.passed) fs.rmSync(dir, { recursive: true, force: true });
    else t.log(`kept ${dir}\n${net.logTail(net.appLog(0))}\n${net.logTail(net.cometLog(0))}`);
  });
  await net.start();
  await net.waitForHeight(0, 2, 60_000);

  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(0), makeCosmoshubPath(1)] });
  const [a0, a1] = await wallet.getAccounts();
  const accounts = devnetAccounts();
  t.is(a0!.address, accounts[0]!.address);
  t.is(a1!.address, accounts[1]!.address);

  const client = await SigningStargateClient.connectWithSigner(net.rpcUrl(0), wallet, { broadcastPollIntervalMs: 250, broadcastTimeoutMs: 60_000 });
  t.teardown(() => client.disconnect());
  t.is(await client.getChainId(), 'proofbook-e2e-1');
  const start = await client.getBalance(a1!.address, NATIVE_DENOM);
  t.is(start.amount, DEVNET_ACCOUNT_BALANCE.toString(), 'genesis app_state reached the app via InitChain');

  const fee = { amount: [{ denom: NATIVE_DENOM, amount: '2000' }], gas: '200000' };
  const res = await client.sendTokens(a0!.address, a1!.address, [{ denom: NATIVE_DENOM, amount: '12345' }], fee, 'e2e');
  t.is(res.code, 0, res.rawLog);
  t.true(res.height > 0);

  const reader = await StargateClient.connect(net.rpcUrl(0));
  t.teardown(() => reader.disconnect());
  const found = await reader.getTx(res.transactionHash);
  t.truthy(found, 'tx indexed by hash');
  t.is(found!.height, res.height);
  await net.waitForHeight(0, res.height + 1);
  const after = await reader.getBalance(a1!.address, NATIVE_DENOM);
  t.is(BigInt(after.amount) - BigInt(start.amount), 12345n);
  // A second tx from the same account uses the next sequence.
  const res2 = await client.sendTokens(a0!.address, a1!.address, [{ denom: NATIVE_DENOM, amount: '1' }], fee);
  t.is(res2.code, 0, res2.rawLog);
});
