/**
 * Issue 10 item 4 on the devnet (the real app behind the in-process block producer and its JSON-RPC): a tx over the
 * per-tx proof cap is refused by CheckTx over broadcast_tx_sync, and with max_proofs_per_block = 1 the producer's
 * PrepareProposal puts one proof tx per block and its ProcessProposal accepts every block (none is emptied). The block
 * gas limit likewise: a tx over it is refused over RPC, two that only fit apart go into consecutive blocks.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { QueryAccountRequest, QueryAccountResponse } from 'cosmjs-types/cosmos/auth/v1beta1/query';
import { BaseAccount } from 'cosmjs-types/cosmos/auth/v1beta1/auth';
import { startDevnet } from '../app/devnet/index.js';
import { DEFAULT_BLOCK_MAX_GAS } from '../app/tx/block-gas.js';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { ProofbookApp } from '../app/app.js';
import { defaultGenesis } from '../genesis/index.js';
import { signTx, type RawKey } from '../src/client/sign.js';
import { devnetKey } from './helpers/chain.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { GAS, S, getProofs, m, type Msg } from './helpers/market.js';
import { QueryRequestRequest, QueryRequestResponse } from '../src/gen/proofbook/market/v1/market.js';

test.after.always(() => terminateSnarkjs());
const CHAIN = 'pb-dos-devnet-1';

test('devnet: per-tx proof cap refused over RPC; one proof tx per block under max_proofs_per_block = 1', async (t) => {
  const [pf1, pf2] = await getProofs();
  const home = await mkdtemp(join(tmpdir(), 'devnet-proof-caps-'));
  const app = await ProofbookApp.open({ home: join(home, 'app'), logger: pino({ level: 'silent' }), checkInvariants: true });
  const appState = defaultGenesis() as any;
  appState.verifier.params.max_proofs_per_block = '1';
  const devnet = await startDevnet({ home, app, blockTimeMs: 0, rpcAddress: '127.0.0.1:0', appState, chainId: CHAIN });
  t.teardown(async () => {
    await devnet.close();
    await app.close();
    await rm(home, { recursive: true, force: true });
  });
  const account = async (k: RawKey) => {
    const r = await app.query({ path: '/cosmos.auth.v1beta1.Query/Account', data: QueryAccountRequest.encode({ address: k.address }).finish(), height: 0n, prove: false });
    return BaseAccount.decode(QueryAccountResponse.decode(r.value).account!.value);
  };
  const sign = async (k: RawKey, msgs: Msg[], seqOffset = 0n, gasLimit = GAS) => {
    const acc = await account(k);
    return signTx(k, { msgs, fee: [{ denom: 'uproof', amount: gasLimit / 1000n }], gasLimit }, { chainId: CHAIN, accountNumber: acc.accountNumber, sequence: acc.sequence + seqOffset });
  };
  const broadcast = async (tx: Uint8Array) => {
    const res = await fetch(devnet.rpcUrl, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'broadcast_tx_sync', params: { tx: Buffer.from(tx).toString('base64') } }) });
    return ((await res.json()) as any).result as { code: number; log: string };
  };
  const blockTxs = async (h: bigint) => {
    const res = await fetch(devnet.rpcUrl, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'block', params: { height: h.toString() } }) });
    return (((await res.json()) as any).result.block.data.txs as string[]).length;
  };
  const status = async (id: bigint) => {
    const r = await app.query({ path: '/proofbook.market.v1.Query/Request', data: QueryRequestRequest.encode({ id }).finish(), height: 0n, prove: false });
    return QueryRequestResponse.decode(r.value).request!.status;
  };
  const [requester, p1] = [await devnetKey(0), await devnetKey(1)];
  t.is((await broadcast(await sign(p1, [m.bond(p1, 1_000_000n), m.ask(p1, 5000n, 2n)]))).code, 0);
  await devnet.produceBlock();
  const expiry = devnet.height() + 100n;
  t.is((await broadcast(await sign(requester, [m.request(requester, { maxFee: 10_000n, expiry, window: 50n, expect: pf1.signals, input: 0 }), m.request(requester, { maxFee: 10_000n, expiry, window: 50n, expect: pf2.signals, input: 1 })]))).code, 0);
  await devnet.produceBlock();
  t.is(await status(1n), S.REQUEST_STATUS_ASSIGNED);
  t.is(await status(2n), S.REQUEST_STATUS_ASSIGNED);

  const over = await broadcast(await sign(p1, Array.from({ length: 17 }, () => m.proof(p1, 1n, pf1)), 0n, 25_000_000n));
  t.is(over.code, 18);
  t.regex(over.log, /max_proofs_per_tx is 16/);

  t.is((await broadcast(await sign(p1, [m.proof(p1, 1n, pf1)]))).code, 0);
  t.is((await broadcast(await sign(p1, [m.proof(p1, 2n, pf2)], 1n))).code, 0);
  await devnet.produceBlock();
  t.is(await blockTxs(devnet.height()), 1, 'PrepareProposal kept the block within max_proofs_per_block');
  t.is(await status(1n), S.REQUEST_STATUS_FULFILLED);
  t.is(await status(2n), S.REQUEST_STATUS_ASSIGNED);
  await devnet.produceBlock();
  t.is(await blockTxs(devnet.height()), 1);
  t.is(await status(2n), S.REQUEST_STATUS_FULFILLED);

  // The block gas limit (app/tx/block-gas.ts): a tx wanting more gas than a block holds is refused over RPC; two that
  // each fit but not together go into consecutive blocks, both committed, none emptied.
  const tooBig = await broadcast(await sign(requester, [m.cancel(requester, 1n)], 0n, DEFAULT_BLOCK_MAX_GAS + 1n));
  t.is(tooBig.code, 41);
  t.regex(tooBig.log, /exceeds the block gas limit/);
  const half = DEFAULT_BLOCK_MAX_GAS / 2n + 1000n; // (sign() pays gas / 1000 uproof: the minimum fee exactly)
  const send = (seq: bigint): Msg => ({ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: requester.address, toAddress: p1.address, amount: [{ denom: 'uproof', amount: String(seq + 1n) }] }).finish() });
  t.is((await broadcast(await sign(requester, [send(0n)], 0n, half))).code, 0);
  t.is((await broadcast(await sign(requester, [send(1n)], 1n, half))).code, 0);
  await devnet.produceBlock();
  t.is(await blockTxs(devnet.height()), 1, 'PrepareProposal kept the block within the block gas limit');
  await devnet.produceBlock();
  t.is(await blockTxs(devnet.height()), 1);
  t.deepEqual(app.checkInvariants(), []);
  t.deepEqual(app.invariantFailures, []);
});
