/**
 * The client surfaces of docs/clients.md, used as wallets, explorers and scripts use them, against any node (a
 * localnet validator's CometBFT RPC and its `proofbook start --api-laddr` REST gateway):
 *
 * - Ping.pub-style reads through REST only (balances, account, latest block, validator set, tx by hash, params);
 * - Keplr-style: a tx signed offline with cosmjs, broadcast through REST `POST /cosmos/tx/v1beta1/txs`, read back by
 *   hash, balances read at the heights before and after it (`x-cosmos-block-height`);
 * - cosmjs `StargateClient` and every QueryClient extension docs/clients.md claims;
 * - `buf curl --reflect` (a generic gRPC client that knows the API only through server reflection) against the
 *   node's gRPC server (`proofbook start --grpc-laddr`).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import { DirectSecp256k1HdWallet, Registry, encodePubkey, makeAuthInfoBytes, makeSignDoc } from '@cosmjs/proto-signing';
import {
  QueryClient, StargateClient, defaultRegistryTypes, setupAuthExtension, setupBankExtension, setupDistributionExtension,
  setupSlashingExtension, setupStakingExtension, setupTxExtension,
} from '@cosmjs/stargate';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { encodeSecp256k1Pubkey, makeCosmoshubPath } from '@cosmjs/amino';
import { fromBase64, toBase64 } from '@cosmjs/encoding';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing';
import { BaseAccount } from 'cosmjs-types/cosmos/auth/v1beta1/auth';
import { DEVNET_MNEMONIC } from '../../genesis/index.js';

type Json = any;

export interface RestReply { status: number; body: Json; height: string | null }

export async function restGet(api: string, path: string, headers: Record<string, string> = {}): Promise<RestReply> {
  const r = await fetch(api + path, { headers, signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  let body: Json = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body, height: r.headers.get('x-cosmos-block-height') };
}

export async function cometRpc(rpcUrl: string, method: string, params: Record<string, string> = {}): Promise<Json> {
  const r = await fetch(rpcUrl, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), signal: AbortSignal.timeout(30_000) });
  const body = await r.json() as { result?: Json; error?: Json };
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

async function ok(t: ExecutionContext, api: string, path: string): Promise<Json> {
  const r = await restGet(api, path);
  t.is(r.status, 200, `GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const hexToB64 = (h: string): string => Buffer.from(h, 'hex').toString('base64');

async function devnetAddress(i: number): Promise<string> {
  const w = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(i)] });
  return (await w.getAccounts())[0]!.address;
}

/**
 * Ping.pub-style reads through one node's REST gateway only, each checked against the CometBFT node itself:
 * `txHash` is a tx committed earlier (sent through any node).
 */
export async function pingPubReads(t: ExecutionContext, api: string, rpcUrl: string, o: { chainId: string; validators: number; txHash: string }): Promise<void> {
  const addr = await devnetAddress(0);
  const bal = await ok(t, api, `/cosmos/bank/v1beta1/balances/${addr}`);
  t.is(bal.balances[0].denom, 'uproof');
  t.true(BigInt(bal.balances[0].amount) > 0n);
  const one = await ok(t, api, `/cosmos/bank/v1beta1/balances/${addr}/by_denom?denom=uproof`);
  t.is(one.balance.amount, bal.balances[0].amount);
  const acc = await ok(t, api, `/cosmos/auth/v1beta1/accounts/${addr}`);
  t.is(acc.account['@type'], '/cosmos.auth.v1beta1.BaseAccount');
  t.is(acc.account.address, addr);
  t.is((await ok(t, api, '/cosmos/base/tendermint/v1beta1/node_info')).default_node_info.network, o.chainId);

  // The latest block is CometBFT's block, with every validator's precommit slot in its last commit.
  const latest = await ok(t, api, '/cosmos/base/tendermint/v1beta1/blocks/latest');
  const h = latest.block.header.height as string;
  const comet = await cometRpc(rpcUrl, 'block', { height: h });
  t.is(latest.block_id.hash, hexToB64(comet.block_id.hash), 'the REST block is the CometBFT block');
  t.is(latest.block.header.app_hash, hexToB64(comet.block.header.app_hash));
  t.regex(latest.sdk_block.header.proposer_address, /^proofvalcons1/);
  t.is(latest.block.last_commit.signatures.length, o.validators);
  const vs = await ok(t, api, '/cosmos/base/tendermint/v1beta1/validatorsets/latest');
  const cv = await cometRpc(rpcUrl, 'validators');
  t.is(vs.validators.length, o.validators);
  t.deepEqual(vs.validators.map((v: Json) => v.pub_key.key), cv.validators.map((v: Json) => v.pub_key.value));

  const tx = await ok(t, api, `/cosmos/tx/v1beta1/txs/${o.txHash}`);
  t.is(tx.tx_response.txhash, o.txHash);
  t.is(tx.tx_response.code, 0);
  t.is(tx.tx.body.messages[0]['@type'], '/cosmos.bank.v1beta1.MsgSend');
  const cometTx = await cometRpc(rpcUrl, 'tx', { hash: hexToB64(o.txHash) });
  t.is(tx.tx_response.height, cometTx.height, 'the height CometBFT indexed');

  for (const p of ['/cosmos/auth/v1beta1/params', '/cosmos/bank/v1beta1/params', '/cosmos/staking/v1beta1/params', '/cosmos/slashing/v1beta1/params',
    '/cosmos/distribution/v1beta1/params', '/proofbook/verifier/v1/params', '/proofbook/bond/v1/params', '/proofbook/market/v1/params']) {
    const r = await ok(t, api, p);
    t.true(typeof r.params === 'object' && r.params !== null, p);
  }
  const cfg = await ok(t, api, '/cosmos/base/node/v1beta1/config');
  t.is(cfg.minimum_gas_price, '0.001000000000000000uproof');
  t.regex(cfg.pruning_keep_recent, /^[1-9][0-9]*$/);
}

/**
 * Keplr-style: sign offline (account number and sequence read through REST), simulate and broadcast through `POST`,
 * wait for the tx by hash on another node's REST, then read the recipient's balance before and after its height.
 */
export interface Broadcast { hash: string; height: bigint; recipient: string; before: bigint }

export async function keplrBroadcast(t: ExecutionContext, o: { chainId: string; broadcastApi: string; readApi: string; from: number; to: number; amount: string; timeoutMs?: number }): Promise<Broadcast> {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(o.from), makeCosmoshubPath(o.to)] });
  const [from, to] = await wallet.getAccounts();
  const acc = (await ok(t, o.broadcastApi, `/cosmos/auth/v1beta1/accounts/${from!.address}`)).account;
  const before = BigInt((await ok(t, o.readApi, `/cosmos/bank/v1beta1/balances/${to!.address}/by_denom?denom=uproof`)).balance.amount);
  const registry = new Registry(defaultRegistryTypes);
  const bodyBytes = registry.encodeTxBody({ messages: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: { fromAddress: from!.address, toAddress: to!.address, amount: [{ denom: 'uproof', amount: o.amount }] } }], memo: 'keplr-style over REST' });
  const authInfoBytes = makeAuthInfoBytes([{ pubkey: encodePubkey(encodeSecp256k1Pubkey(from!.pubkey)), sequence: Number(acc.sequence) }], [{ denom: 'uproof', amount: '400' }], 200_000, undefined, undefined, SignMode.SIGN_MODE_DIRECT);
  const { signature } = await wallet.signDirect(from!.address, makeSignDoc(bodyBytes, authInfoBytes, o.chainId, Number(acc.account_number)));
  const txBytes = TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [fromBase64(signature.signature)] }).finish();

  const post = async (path: string, body: object): Promise<{ status: number; body: Json }> => {
    const r = await fetch(o.broadcastApi + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
    return { status: r.status, body: await r.json() };
  };
  const sim = await post('/cosmos/tx/v1beta1/simulate', { tx_bytes: toBase64(txBytes) });
  t.is(sim.status, 200, JSON.stringify(sim.body));
  t.regex(sim.body.gas_info.gas_used, /^[1-9][0-9]*$/);
  const res = await post('/cosmos/tx/v1beta1/txs', { tx_bytes: toBase64(txBytes), mode: 'BROADCAST_MODE_SYNC' });
  t.is(res.status, 200, JSON.stringify(res.body));
  t.is(res.body.tx_response.code, 0, res.body.tx_response.raw_log);
  const hash = res.body.tx_response.txhash as string;
  t.regex(hash, /^[0-9A-F]{64}$/);

  // Committed and indexed on another node: poll its REST (no assumption about which block it lands in).
  let got: RestReply | undefined;
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    got = await restGet(o.readApi, `/cosmos/tx/v1beta1/txs/${hash}`);
    if (got.status === 200) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  t.is(got?.status, 200, `tx ${hash} never showed up on ${o.readApi}: ${JSON.stringify(got?.body)}`);
  t.is(got!.body.tx_response.code, 0);
  t.is(got!.body.tx.body.memo, 'keplr-style over REST');
  const height = BigInt(got!.body.tx_response.height);
  // x-cosmos-block-height: before the tx's block the old balance, from its block on the new one.
  const at = async (h: bigint): Promise<bigint> => {
    const r = await restGet(o.readApi, `/cosmos/bank/v1beta1/balances/${to!.address}/by_denom?denom=uproof`, { 'x-cosmos-block-height': h.toString() });
    t.is(r.status, 200, JSON.stringify(r.body));
    t.is(r.height, h.toString(), 'answered at the height asked');
    return BigInt(r.body.balance.amount);
  };
  t.is(await at(height - 1n), before);
  t.is(await at(height), before + BigInt(o.amount));
  return { hash, height, recipient: to!.address, before };
}

/** cosmjs StargateClient and the QueryClient extensions docs/clients.md claims, over a node's CometBFT RPC. */
export async function cosmjsQueries(t: ExecutionContext, rpcUrl: string, o: { chainId: string; txHash: string }): Promise<void> {
  const addr = await devnetAddress(0);
  const client = await StargateClient.connect(rpcUrl);
  const comet = await Comet38Client.connect(rpcUrl);
  try {
    t.is(await client.getChainId(), o.chainId);
    const height = await client.getHeight();
    t.true(height > 1);
    t.is((await client.getBlock(height)).header.height, height);
    const bal = await client.getBalance(addr, 'uproof');
    t.true(BigInt(bal.amount) > 0n);
    t.deepEqual(await client.getAllBalances(addr), [bal]);
    t.is((await client.getAccount(addr))?.address, addr);
    const tx = await client.getTx(o.txHash);
    t.is(tx?.code, 0);

    const q = QueryClient.withExtensions(comet, setupAuthExtension, setupBankExtension, setupTxExtension, setupStakingExtension, setupDistributionExtension, setupSlashingExtension);
    const any = await q.auth.account(addr);
    t.is(any?.typeUrl, '/cosmos.auth.v1beta1.BaseAccount');
    t.is(BaseAccount.decode(any!.value).address, addr);
    t.deepEqual(await q.bank.balance(addr, 'uproof'), bal);
    t.true(BigInt((await q.bank.supplyOf('uproof')).amount) > 0n);
    t.is((await q.bank.denomMetadata('uproof')).display, 'proof');
    const viaAbci = await q.tx.getTx(o.txHash);
    t.is(viaAbci.txResponse?.txhash, o.txHash, 'GetTx over abci_query: the app asks the node\'s CometBFT tx index');
    t.is(viaAbci.txResponse?.height, BigInt(tx!.height));
    t.is((await q.staking.params()).params?.bondDenom, 'uproof');
    await t.notThrowsAsync(q.staking.validators('BOND_STATUS_BONDED'));
    t.truthy((await q.distribution.params()).params);
    t.truthy((await q.slashing.params()).params);
  } finally {
    client.disconnect();
    comet.disconnect();
  }
}

const BUF = join(process.cwd(), 'node_modules', '.bin', 'buf');

async function bufCurl(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--reflect', ...args], { maxBuffer: 16 << 20, timeout: 60_000 });
  return stdout;
}

/**
 * `buf curl --reflect` against a node's gRPC server: the services it lists; the balance moved by `sent` read with the
 * `x-cosmos-block-height` metadata before and at its height (and refused for a height not committed yet); a block.
 */
export async function bufCurlReads(t: ExecutionContext, grpcAddress: string, sent: Broadcast): Promise<void> {
  const services = (await bufCurl(['--list-services', `http://${grpcAddress}`])).trim().split('\n').sort();
  for (const s of ['cosmos.auth.v1beta1.Query', 'cosmos.bank.v1beta1.Query', 'cosmos.base.node.v1beta1.Service', 'cosmos.base.tendermint.v1beta1.Service',
    'cosmos.tx.v1beta1.Service', 'cosmos.staking.v1beta1.Query', 'proofbook.market.v1.Query', 'proofbook.verifier.v1.Query', 'proofbook.bond.v1.Query']) {
    t.true(services.includes(s), `reflection lists ${s}: ${services.join(', ')}`);
  }
  const balanceAt = async (h: bigint): Promise<bigint> => {
    const out = JSON.parse(await bufCurl(['-H', `x-cosmos-block-height: ${h}`, '-d', JSON.stringify({ address: sent.recipient, denom: 'uproof' }), `http://${grpcAddress}/cosmos.bank.v1beta1.Query/Balance`])) as Json;
    return BigInt(out.balance.amount);
  };
  t.is(await balanceAt(sent.height - 1n), sent.before, 'gRPC at the height before the tx');
  t.true(await balanceAt(sent.height) > sent.before, 'gRPC at the tx\'s height');
  await t.throwsAsync(balanceAt(sent.height + 1_000_000n), { message: /"code": "invalid_argument"[\s\S]*is not committed yet/ }, 'a height not committed yet is an error, never the latest state');
  const block = JSON.parse(await bufCurl(['-d', JSON.stringify({ height: sent.height.toString() }), `http://${grpcAddress}/cosmos.base.tendermint.v1beta1.Service/GetBlockByHeight`])) as Json;
  t.is(block.sdkBlock.header.height, sent.height.toString());
  t.regex(block.sdkBlock.header.proposerAddress, /^proofvalcons1/);
}
