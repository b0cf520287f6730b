/**
 * A 4-validator CometBFT v0.38 localnet on loopback, each validator with its own app process:
 * consensus on app hashes at every height, then crash-recovery of one app (SIGKILL) through
 * CometBFT's handshake while the other three keep producing blocks. On the same net (its startup is the expensive
 * part), the client surfaces of docs/clients.md against the validators' `proofbook start --api-laddr` REST gateways
 * and CometBFT RPC: Ping.pub-style reads through REST only, a Keplr-style tx broadcast through REST
 * `POST /cosmos/tx/v1beta1/txs`, cosmjs StargateClient and the QueryClient extensions we claim
 * and `buf curl --reflect` against a validator's gRPC server (test/helpers/cosmos-surfaces.ts).
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
import { createNet, type Net, type AppKind } from '../scripts/cometbft-net.js';
import { bufCurlReads, cosmjsQueries, keplrBroadcast, pingPubReads } from './helpers/cosmos-surfaces.js';

// The real app once app/app.ts exists; until then the kvstore fixture in its own process.
const APP: AppKind = fs.existsSync(new URL('../app/app.ts', import.meta.url)) ? 'proofbook' : 'kvstore';

async function assertHashesAgree(t: { is: (a: unknown, b: unknown, m?: string) => void; true: (v: boolean, m?: string) => void }, net: Net, nodes: number[], upTo: number): Promise<number> {
  // header(h).app_hash is the app hash after block h-1; h = 2..upTo covers blocks 1..upTo-1.
  let compared = 0;
  for (let h = 2; h <= upTo; h++) {
    const hashes = await Promise.all(nodes.map((i) => net.headerAppHash(i, h)));
    t.true(hashes[0]!.length === 64, `app hash at header ${h} is 32 bytes`);
    for (let k = 1; k < hashes.length; k++) t.is(hashes[k], hashes[0], `node ${nodes[k]} vs node ${nodes[0]} at header ${h}`);
    compared++;
  }
  return compared;
}

test(`4-validator localnet (${APP} app): equal app hashes at every height; a SIGKILLed app recovers through the handshake`, async (t) => {
  t.timeout(240_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-localnet-'));
  const net = await createNet(dir, { validators: 4, app: APP, grpc: true });
  t.teardown(async () => {
    await net.stop();
    if (t.passed) fs.rmSync(dir, { recursive: true, force: true });
    else t.log(`kept ${dir} for inspection`);
  });
  const all = [0, 1, 2, 3];

  await net.start();

  // With the real app, put state-changing txs into the blocks (submitted through different nodes) so
  // the hash comparison covers executed transactions, not only empty blocks.
  const send = async (node: number, amount: string): Promise<{ height: number; hash: string }> => {
    const { DEVNET_MNEMONIC } = await import('../genesis/index.js');
    const { NATIVE_DENOM } = await import('../src/types/coins.js');
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(node), makeCosmoshubPath(9)] });
    const [from, to] = await wallet.getAccounts();
    const client = await SigningStargateClient.connectWithSigner(net.rpcUrl(node), wallet, { broadcastPollIntervalMs: 200, broadcastTimeoutMs: 60_000 });
    try {
      const fee = { amount: [{ denom: NATIVE_DENOM, amount: '2000' }], gas: '200000' };
      const r = await client.sendTokens(from!.address, to!.address, [{ denom: NATIVE_DENOM, amount }], fee);
      t.is(r.code, 0, r.rawLog);
      return { height: r.height, hash: r.transactionHash };
    } finally {
      client.disconnect();
    }
  };
  let sent: { height: number; hash: string }[] = [];
  if (APP === 'proofbook') {
    await net.waitForHeight(0, 3, 60_000);
    sent = await Promise.all([send(0, '11'), send(2, '22'), send(3, '33')]);
    t.log(`txs committed at heights ${sent.map((x) => x.height).join(', ')}`);
  }
  await Promise.all(all.map((i) => net.waitForHeight(i, 20, 120_000)));
  const heights = await Promise.all(all.map((i) => net.height(i)));
  const common = Math.min(...heights);
  t.true(common >= 20);
  const compared = await assertHashesAgree(t, net, all, common);
  t.log(`phase 1: ${compared} heights compared across 4 nodes (heights ${heights.join(', ')})`);

  if (APP === 'proofbook') {
    // Client surfaces, each through a different validator than the one that received the tx.
    const chainId = net.chainId;
    await pingPubReads(t, net.apiUrl(2), net.rpcUrl(2), { chainId, validators: 4, txHash: sent[0]!.hash });
    const keplr = await keplrBroadcast(t, { chainId, broadcastApi: net.apiUrl(3), readApi: net.apiUrl(1), from: 5, to: 6, amount: '55' });
    await cosmjsQueries(t, net.rpcUrl(1), { chainId, txHash: keplr.hash });
    await bufCurlReads(t, net.grpcAddress(0), keplr);
    t.log('REST (Ping.pub reads, Keplr broadcast), cosmjs StargateClient and QueryClient extensions, buf curl --reflect checked');
  }

  // Crash validator 1's app. Its CometBFT notices the dead ABCI connection and stops itself.
  const victim = 1;
  const others = [0, 2, 3];
  await net.killApp(victim);
  if (!(await net.waitCometExit(victim, 60_000))) {
    // CometBFT reacts to the dropped ABCI connection by stopping its services and exiting. On this 2-core machine
    // under the full suite's load its shutdown has been seen to stall after consensus stopped (only p2p reconnect
    // attempts kept logging): the validator is out of consensus either way. Check it did react, then stop it.
    t.regex(fs.readFileSync(net.cometLog(victim), 'utf8'), /Stopping Consensus service/, 'cometbft of the crashed app began to stop');
    t.log('cometbft stopped consensus but had not exited 60 s after its app died; killing it');
    await net.killComet(victim);
  }
  t.false(net.alive(victim).comet);

  // The other three (3/4 of the power > 2/3) keep producing blocks.
  const before = Math.max(...await Promise.all(others.map((i) => net.height(i))));
  await Promise.all(others.map((i) => net.waitForHeight(i, before + 5, 60_000)));
  const downHeight = Math.max(...await Promise.all(others.map((i) => net.height(i))));
  t.true(downHeight >= before + 5);

  // Restart both processes; the handshake (Info, then replay of the blocks the app lacks) catches up.
  await net.restartNode(victim);
  await net.waitForHeight(victim, downHeight + 3, 120_000);
  const st = await net.status(victim);
  t.false(st.catchingUp);
  const log = fs.readFileSync(net.cometLog(victim), 'utf8');
  t.regex(log, /Completed ABCI Handshake/);
  const infos = [...log.matchAll(/ABCI Handshake App Info\s+module=consensus height=(\d+)/g)].map((m) => Number(m[1]));
  t.is(infos.length, 2, 'two handshakes: first start and restart');
  t.is(infos[0], 0);
  if (APP === 'proofbook') {
    // The real app persisted its state across SIGKILL: it reported its last commit, not height 0.
    t.true(infos[1]! >= 19, `app reported height ${infos[1]} after restart (it had reached >= 20 before the kill)`);
  }
  // The recovered node accepts and relays a tx again.
  if (APP === 'proofbook') t.log(`tx through the recovered node committed at height ${(await send(victim, '44')).height}`);
  const finalCommon = Math.min(...await Promise.all(all.map((i) => net.height(i))));
  t.true(finalCommon > downHeight);
  const compared2 = await assertHashesAgree(t, net, all, finalCommon);
  t.log(`phase 2: ${compared2} heights compared after recovery (victim down while others went ${before} -> ${downHeight})`);
  // And the survivors never stopped.
  t.true(others.every((i) => net.alive(i).comet && net.alive(i).app));
});
