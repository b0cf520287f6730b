/**
 * The SDK's node-facing services on one in-process devnet, through REST (as Ping.pub-style explorers read them) and
 * gRPC: cosmos.base.tendermint.v1beta1.Service, cosmos.base.node.v1beta1.Service, GetBlockWithTxs, auth
 * Bech32Prefix/AddressBytesToString/AddressStringToBytes/AccountInfo. Blocks are checked byte for byte: the header
 * re-encoded from the answer hashes to the block id, and the re-encoded block to its part-set header.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import * as grpc from '@grpc/grpc-js';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { SigningStargateClient, GasPrice, QueryClient, setupTxExtension } from '@cosmjs/stargate';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { fromBase64, fromBech32, toBase64 } from '@cosmjs/encoding';
import { GetLatestBlockRequest, GetLatestBlockResponse } from 'cosmjs-types/cosmos/base/tendermint/v1beta1/query';
import { Block } from 'cosmjs-types/tendermint/types/block';
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { blocksOf } from '../app/grpc/comet-services.js';
import { headerHash, partSetHeader } from '../app/devnet/hashing.js';
import { DEVNET_MNEMONIC } from '../genesis/index.js';
import { ConfigResponse } from 'cosmjs-types/cosmos/base/node/v1beta1/query';
import { TestChain } from './helpers/chain.js';

interface Net { home: string; devnet: Devnet; api: string }
let starting: Promise<Net> | undefined;
const network = (): Promise<Net> => (starting ??= (async () => {
  const home = await mkdtemp(join(tmpdir(), 'rest-node-'));
  const devnet = await startDevnet({
    home: join(home, 'chain'), blockTimeMs: 100, rpcAddress: '127.0.0.1:0', apiAddress: '127.0.0.1:0', grpcAddress: '127.0.0.1:0',
    logger: pino({ level: 'warn' }),
  });
  await devnet.waitForHeight(2);
  return { home, devnet, api: devnet.apiUrl! };
})());

test.after.always(async () => {
  if (!starting) return;
  const n = await starting;
  await n.devnet.close();
  await rm(n.home, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: any }> {
  const n = await network();
  const r = await fetch(n.api + path, { signal: AbortSignal.timeout(30_000) });
  return { status: r.status, body: await r.json() };
}
async function rpc(method: string, params: Record<string, string> = {}): Promise<any> {
  const n = await network();
  const r = await fetch(n.devnet.rpcUrl, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return ((await r.json()) as { result: any }).result;
}
const hexToB64 = (h: string) => Buffer.from(h, 'hex').toString('base64');

test('node_info, syncing, node config and status', async (t) => {
  const ni = await get('/cosmos/base/tendermint/v1beta1/node_info');
  t.is(ni.status, 200, JSON.stringify(ni.body));
  t.is(ni.body.default_node_info.network, 'proofbook-devnet-1');
  t.is(ni.body.application_version.app_name, 'proofbook');
  const st = await rpc('status');
  t.is(ni.body.default_node_info.default_node_id, st.node_info.id);
  t.deepEqual((await get('/cosmos/base/tendermint/v1beta1/syncing')).body, { syncing: false });
  const cfg = await get('/cosmos/base/node/v1beta1/config');
  t.is(cfg.status, 200, JSON.stringify(cfg.body));
  t.is(cfg.body.minimum_gas_price, '0.001000000000000000uproof', 'the documented 0.001 uproof/gas from the auth params');
  // Retention: the default recent-height window (--history-blocks 100), pruned at every commit; no halt height.
  t.is(cfg.body.pruning_keep_recent, '100');
  t.is(cfg.body.pruning_interval, '1');
  t.is(cfg.body.halt_height, '0');
  const status = await get('/cosmos/base/node/v1beta1/status');
  t.true(BigInt(status.body.height) >= 2n);
  t.is(status.body.earliest_store_height, '1');
  const blk = await rpc('block', { height: status.body.height });
  t.is(status.body.validator_hash, hexToB64(blk.block.header.validators_hash));
  t.is(status.body.app_hash, hexToB64(blk.block.header.app_hash));
});

test('node config reports the node\'s own recent-height window (--history-blocks), which queries honour', async (t) => {
  const chain = await TestChain.create({ store: { historyBlocks: 7 } });
  t.teardown(() => chain.close());
  for (let i = 0; i < 9; i++) await chain.block();
  const res = await chain.app.query({ path: '/cosmos.base.node.v1beta1.Service/Config', data: new Uint8Array(), height: 0n, prove: false });
  t.is(res.code, 0, res.log);
  const cfg = ConfigResponse.decode(res.value);
  t.is(cfg.pruningKeepRecent, '7');
  t.is(cfg.pruningInterval, '1');
  t.is(cfg.minimumGasPrice, '0.001000000000000000uproof');
  // What it says is what the node does: the 7 latest heights (3..9) answer, the one before is pruned.
  const at = (height: bigint) => chain.app.query({ path: '/cosmos.bank.v1beta1.Query/Params', data: new Uint8Array(), height, prove: false });
  t.is((await at(3n)).code, 0);
  t.regex((await at(2n)).log, /outside the recent-height window: this node keeps heights 3\.\.9/);
});

test('blocks: latest and by height re-encode byte for byte (header hash = block id, block bytes = part set); heights the node lacks are errors', async (t) => {
  const latest = await get('/cosmos/base/tendermint/v1beta1/blocks/latest');
  t.is(latest.status, 200, JSON.stringify(latest.body));
  t.regex(latest.body.sdk_block.header.proposer_address, /^proofvalcons1/);
  const h = latest.body.block.header.height as string;
  const byHeight = await get(`/cosmos/base/tendermint/v1beta1/blocks/${h}`);
  t.deepEqual(byHeight.body.block_id, latest.body.block_id);
  const cometBlock = await rpc('block', { height: h });
  t.is(latest.body.block_id.hash, hexToB64(cometBlock.block_id.hash));
  // The same conversion decoded from protobuf: hashing it reproduces CometBFT's ids.
  const { blockId, block } = blocksOf(cometBlock);
  t.deepEqual(headerHash(block.header), blockId.hash, 'header hash = block id hash');
  t.deepEqual(partSetHeader(Block.encode(block).finish()), blockId.partSetHeader, 'block bytes = part set header');
  t.is(latest.body.block.last_commit.signatures.length, 1);
  for (const bad of ['0', '999999999', '-1']) {
    const r = await get(`/cosmos/base/tendermint/v1beta1/blocks/${bad}`);
    t.is(r.status, 400, `height ${bad}: ${JSON.stringify(r.body)}`);
  }
});

test('validator sets come from CometBFT and agree with the staking module', async (t) => {
  const vs = await get('/cosmos/base/tendermint/v1beta1/validatorsets/latest');
  t.is(vs.status, 200, JSON.stringify(vs.body));
  const cv = await rpc('validators');
  t.is(vs.body.validators.length, cv.validators.length);
  t.is(vs.body.pagination.total, String(cv.validators.length));
  const v = vs.body.validators[0];
  t.deepEqual(fromBech32(v.address).data, new Uint8Array(Buffer.from(cv.validators[0].address, 'hex')));
  t.is(v.pub_key['@type'], '/cosmos.crypto.ed25519.PubKey');
  t.is(v.pub_key.key, cv.validators[0].pub_key.value);
  t.is(v.voting_power, cv.validators[0].voting_power);
  const byHeight = await get(`/cosmos/base/tendermint/v1beta1/validatorsets/${vs.body.block_height}`);
  t.deepEqual(byHeight.body.validators, vs.body.validators);
  const staking = await get('/cosmos/staking/v1beta1/validators?status=BOND_STATUS_BONDED');
  if (staking.status === 200 && staking.body.validators.length > 0) {
    t.deepEqual(staking.body.validators.map((x: any) => x.consensus_pubkey.key).sort(), vs.body.validators.map((x: any) => x.pub_key.key).sort());
  } else {
    t.pass('devnet validator is not a staking validator');
  }
});

test('GetBlockWithTxs decodes the txs of a block; cosmjs setupTxExtension getTx over abci_query; abci_query answers an app query', async (t) => {
  const n = await network();
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof' });
  const [from] = await wallet.getAccounts();
  const client = await SigningStargateClient.connectWithSigner(n.devnet.rpcUrl, wallet, { gasPrice: GasPrice.fromString('0.002uproof') });
  const res = await client.sendTokens(from!.address, 'proof1ydrtt8crxezy2jam44r7tm8mmt2s22hktu94nm', [{ denom: 'uproof', amount: '7' }], 'auto', 'rest-node');
  client.disconnect();
  t.is(res.code, 0);
  const b = await get(`/cosmos/tx/v1beta1/txs/block/${res.height}`);
  t.is(b.status, 200, JSON.stringify(b.body));
  t.is(b.body.block.header.height, String(res.height));
  const tx = b.body.txs.find((x: any) => x.body.memo === 'rest-node');
  t.truthy(tx);
  t.is(tx.body.messages[0]['@type'], '/cosmos.bank.v1beta1.MsgSend');
  t.is(b.body.pagination.total, String(b.body.block.data.txs.length));

  // cosmjs' TxExtension: GetTx over abci_query, answered by the app from the node's tx index.
  const comet = await Comet38Client.connect(n.devnet.rpcUrl);
  try {
    const qc = QueryClient.withExtensions(comet, setupTxExtension);
    const got = await qc.tx.getTx(res.transactionHash);
    t.is(got.txResponse?.txhash, res.transactionHash);
    t.is(got.txResponse?.height, BigInt(res.height));
    t.is(got.tx?.body?.memo, 'rest-node');
    await t.throwsAsync(qc.tx.getTx('AB'.repeat(32)), { message: /not found/i });
    await t.throwsAsync(qc.tx.getTx('xyz'), { message: /invalid tx hash/i });
  } finally {
    comet.disconnect();
  }

  const data = QueryBalanceRequest.encode({ address: from!.address, denom: 'uproof' }).finish();
  const q = await get(`/cosmos/base/tendermint/v1beta1/abci_query?path=${encodeURIComponent('/cosmos.bank.v1beta1.Query/Balance')}&data=${encodeURIComponent(toBase64(data))}`);
  t.is(q.status, 200, JSON.stringify(q.body));
  t.is(q.body.code, 0);
  t.true(BigInt(QueryBalanceResponse.decode(fromBase64(q.body.value)).balance!.amount) > 0n);
});

test('auth: Bech32Prefix, AddressStringToBytes, AccountInfo through REST', async (t) => {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof' });
  const [acc] = await wallet.getAccounts();
  t.deepEqual((await get('/cosmos/auth/v1beta1/bech32')).body, { bech32_prefix: 'proof' });
  const s2b = await get(`/cosmos/auth/v1beta1/bech32/${acc!.address}`);
  t.is(s2b.status, 200, JSON.stringify(s2b.body));
  t.is(s2b.body.address_bytes, toBase64(fromBech32(acc!.address).data));
  const info = await get(`/cosmos/auth/v1beta1/account_info/${acc!.address}`);
  t.is(info.status, 200, JSON.stringify(info.body));
  t.is(info.body.info.address, acc!.address);
  t.is((await get('/cosmos/auth/v1beta1/account_info/proof1zzzz')).status, 400);
});

test('gRPC: GetLatestBlock over grpc-js answers the same block as REST', async (t) => {
  const n = await network();
  const client = new grpc.Client(n.devnet.grpcAddress!, grpc.credentials.createInsecure());
  try {
    const res = await new Promise<GetLatestBlockResponse>((resolve, reject) => {
      client.makeUnaryRequest('/cosmos.base.tendermint.v1beta1.Service/GetLatestBlock', (r: GetLatestBlockRequest) => Buffer.from(GetLatestBlockRequest.encode(r).finish()),
        (b: Buffer) => GetLatestBlockResponse.decode(b), {}, (err, r) => (err ? reject(err) : resolve(r!)));
    });
    t.true(res.sdkBlock!.header.height >= 2n);
    t.deepEqual(headerHash(res.block!.header), res.blockId!.hash);
  } finally {
    client.close();
  }
});
