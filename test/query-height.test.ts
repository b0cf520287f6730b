/**
 * Recent-height queries through the node's RPC with an unmodified cosmjs Comet38Client: `abci_query` at a past
 * height returns that height's state, and the ICS-23 proof verifies (src/store/proof.ts) against the app hash the
 * chain committed for that height (header of block h+1); module queries answer at that height too; heights outside
 * the window, or in the future, get a clear error, never the latest state. Also app.queryAt.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { SigningStargateClient } from '@cosmjs/stargate';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { CommitmentProof } from 'cosmjs-types/cosmos/ics23/v1/proofs';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { startDevnet } from '../app/devnet/index.js';
import { ProofbookApp } from '../app/app.js';
import { DEVNET_MNEMONIC, defaultGenesis } from '../genesis/index.js';
import { balanceKey, BANK_STORE_PREFIX } from '../modules/bank/keys.js';
import { keyToBytes } from '../src/store/kv.js';
import { verifyMembership } from '../src/store/proof.js';
import type { Address } from '../src/crypto/address.js';

test('abci_query at recent heights: that height state, proofs against that height app hash, clear errors outside', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'query-height-'));
  const logger = pino({ level: 'warn' });
  const app = await ProofbookApp.open({ home, logger, store: { historyBlocks: 8, sync: false } });
  const devnet = await startDevnet({ home, blockTimeMs: 0, rpcAddress: '127.0.0.1:0', app, appState: defaultGenesis(), logger });
  const comet = await Comet38Client.connect(devnet.rpcUrl);
  try {
    await devnet.produceBlock();
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(6)] });
    const [acc] = await wallet.getAccounts();
    const client = SigningStargateClient.createWithSigner(comet, wallet, { broadcastPollIntervalMs: 50 });
    const to = 'proof1ydrtt8crxezy2jam44r7tm8mmt2s22hktu94nm';
    const key = keyToBytes(BANK_STORE_PREFIX + balanceKey(to as Address, 'uproof'));
    const balances = new Map<number, string>();
    for (let i = 1; i <= 4; i++) {
      const signed = await client.sign(acc!.address, [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: { fromAddress: acc!.address, toAddress: to, amount: [{ denom: 'uproof', amount: String(1000 * i) }] } }],
        { amount: [{ denom: 'uproof', amount: '500' }], gas: '200000' }, '');
      const res = await comet.broadcastTxSync({ tx: TxRaw.encode(signed).finish() });
      t.is(res.code, 0, res.log);
      await devnet.produceBlock();
      balances.set(Number(app.height), (await client.getBalance(to, 'uproof')).amount);
      await devnet.produceBlock(); // an empty block between sends
    }
    const latest = Number(app.height);
    for (const [h, want] of balances) {
      const q = await comet.abciQuery({ path: '/store/key', data: key, height: h, prove: true });
      t.is(q.code, 0, q.log);
      t.is(q.height, h);
      t.is(new TextDecoder().decode(q.value), want, `balance at ${h}`);
      const header = (await comet.block(h + 1)).block.header; // the app hash of height h is in the next header
      const op = q.proof!.ops[0]!;
      t.true(verifyMembership(header.appHash, CommitmentProof.decode(op.data), key, q.value), `proof at ${h} against header ${h + 1}`);
      // not against the app hash before block h (the send of block h changed this balance)
      t.false(verifyMembership((await comet.block(h)).block.header.appHash, CommitmentProof.decode(op.data), key, q.value));
      const bq = await comet.abciQuery({ path: '/cosmos.bank.v1beta1.Query/Balance', data: QueryBalanceRequest.encode({ address: to, denom: 'uproof' }).finish(), height: h });
      t.is(QueryBalanceResponse.decode(bq.value).balance!.amount, want);
      const viaApi = await app.queryAt(BigInt(h), (ctx) => app.modules.keepers.bank.balance(ctx, to as Address, 'uproof'));
      t.is(viaApi.toString(), want);
    }
    // outside the window (8 heights: latest-7..latest) and in the future: clear errors
    for (const h of [latest - 8, latest + 1]) {
      const q = await comet.abciQuery({ path: '/store/key', data: key, height: h, prove: true });
      t.not(q.code, 0, `height ${h}`);
      t.regex(q.log ?? '', h > latest ? /not committed yet/ : /outside the recent-height window: this node keeps heights \d+\.\.\d+/);
    }
    await t.throwsAsync(app.queryAt(1n, () => 0), { message: /outside the recent-height window/ });
  } finally {
    comet.disconnect();
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  }
});
