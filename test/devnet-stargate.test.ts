/**
 * The devnet with the real ProofbookApp: unmodified @cosmjs/stargate (Comet38Client + SigningStargateClient)
 * sends uproof between two funded devnet accounts; getTx, getBalance, tx_search and the websocket agree.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { SigningStargateClient, StargateClient } from '@cosmjs/stargate';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { startDevnet } from '../app/devnet/index.js';
import { DEVNET_MNEMONIC, devnetAccounts } from '../genesis/index.js';

/**
 * Comet38Client over a websocket never lets the process exit after disconnect(): @cosmjs/socket's
 * ReconnectingSocket schedules a reconnect whenever the status turns Disconnected, including on its own
 * disconnect(). Disconnect and disarm that timer (test hygiene only; the server side is unaffected).
 */
function disconnectWs(client: Comet38Client): void {
  const rs = (client as unknown as { client: { socket: { socket: { reconnect: () => void }; reconnectTimeout: NodeJS.Timeout | null } } }).client.socket;
  rs.socket.reconnect = () => undefined;
  client.disconnect();
  if (rs.reconnectTimeout) clearTimeout(rs.reconnectTimeout);
}

const FEE = { amount: [{ denom: 'uproof', amount: '2000' }], gas: '200000' };

test('SigningStargateClient sends uproof between devnet accounts on the embedded devnet; state survives a restart', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'devnet-stargate-'));
  const logger = pino({ level: 'warn' });
  try {
    let devnet = await startDevnet({ home, blockTimeMs: 50, rpcAddress: '127.0.0.1:0', logger });
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(0), makeCosmoshubPath(1)] });
    const [a0, a1] = await wallet.getAccounts();
    t.is(a0!.address, devnetAccounts()[0]!.address);
    await devnet.waitForHeight(1);

    const comet = await Comet38Client.connect(devnet.rpcUrl);
    const client = SigningStargateClient.createWithSigner(comet, wallet, { broadcastPollIntervalMs: 100 });
    t.is(await client.getChainId(), 'proofbook-devnet-1');
    const before0 = BigInt((await client.getBalance(a0!.address, 'uproof')).amount);
    const before1 = BigInt((await client.getBalance(a1!.address, 'uproof')).amount);
    t.true(before0 > 0n);

    // Watch the tx arrive over the websocket too.
    const ws = await Comet38Client.connect(devnet.rpcUrl.replace('http://', 'ws://'));
    const seen: string[] = [];
    const sub = ws.subscribeTx("message.action='/cosmos.bank.v1beta1.MsgSend'").subscribe({
      next: (e) => seen.push(Buffer.from(e.hash).toString('hex').toUpperCase()),
      error: () => undefined,
    });
    await ws.status().catch(() => undefined);

    const r = await client.sendTokens(a0!.address, a1!.address, [{ denom: 'uproof', amount: '4321' }], FEE, 'devnet');
    t.is(r.code, 0, r.rawLog);
    t.true(r.height > 0);
    const tx = await client.getTx(r.transactionHash);
    t.is(tx?.height, r.height);
    t.is(tx?.code, 0);
    t.is(tx?.gasUsed, r.gasUsed);
    t.is(BigInt((await client.getBalance(a1!.address, 'uproof')).amount), before1 + 4321n);
    t.is(BigInt((await client.getBalance(a0!.address, 'uproof')).amount), before0 - 4321n - 2000n);
    const search = await client.searchTx(`transfer.recipient='${a1!.address}'`);
    t.true(search.some((s) => s.hash === r.transactionHash));
    for (let i = 0; i < 100 && !seen.includes(r.transactionHash); i++) await new Promise((res) => setTimeout(res, 20));
    t.true(seen.includes(r.transactionHash), 'subscribeTx delivered the send');
    sub.unsubscribe();
    await new Promise((res) => setTimeout(res, 100)); // xstream stops the producer (sends unsubscribe) asynchronously
    disconnectWs(ws);
    client.disconnect();
    const height = devnet.height();
    await devnet.close();

    devnet = await startDevnet({ home, blockTimeMs: 50, rpcAddress: '127.0.0.1:0', logger });
    t.true(devnet.height() >= height);
    await devnet.waitForHeight(devnet.height() + 1n);
    const q = await StargateClient.connect(devnet.rpcUrl);
    t.is(BigInt((await q.getBalance(a1!.address, 'uproof')).amount), before1 + 4321n);
    t.is((await q.getTx(r.transactionHash))?.height, r.height);
    q.disconnect();
    await devnet.close();
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
