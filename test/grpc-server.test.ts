/**
 * The gRPC API against an in-process devnet, driven by a generic reflection client: `buf curl --reflect` from the
 * installed @bufbuild/buf knows nothing about proofbook; every schema it uses comes from the server's reflection.
 * A signed MsgSend goes in through cosmos.tx.v1beta1.Service/BroadcastTx and comes back through GetTx /
 * GetTxsEvent; bad requests get the right status codes while the server keeps serving.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import * as grpc from '@grpc/grpc-js';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { SigningStargateClient } from '@cosmjs/stargate';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { startGrpcServer, type GrpcServer, DESCRIPTORS_FILE } from '../app/grpc/index.js';
import { buildDescriptors } from '../app/grpc/build-descriptors.js';
import { DEVNET_MNEMONIC } from '../genesis/index.js';
import { QueryRequestRequest, QueryRequestResponse, QueryParamsRequest, QueryParamsResponse } from '../src/gen/proofbook/market/v1/market.js';

const run = promisify(execFile);
const BUF = join(process.cwd(), 'node_modules', '.bin', 'buf');

interface CurlResult { ok: boolean; body: Record<string, unknown> }

async function bufCurl(address: string, method: string, data?: object, extra: string[] = []): Promise<CurlResult> {
  const args = ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--reflect', ...extra];
  if (data !== undefined) args.push('-d', JSON.stringify(data));
  args.push(`http://${address}${method}`);
  try {
    const { stdout } = await run(BUF, args, { maxBuffer: 16 << 20 });
    return { ok: true, body: stdout.trim() === '' ? {} : JSON.parse(stdout) as Record<string, unknown> };
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    const text = (err.stderr ?? '').trim();
    try {
      return { ok: false, body: JSON.parse(text) as Record<string, unknown> };
    } catch {
      throw new Error(`buf curl failed: ${text} ${err.stdout ?? ''}`);
    }
  }
}

interface Ctx { home: string; devnet: Devnet; grpc: GrpcServer }

async function setup(): Promise<Ctx> {
  const home = await mkdtemp(join(tmpdir(), 'grpc-server-'));
  const devnet = await startDevnet({ home, blockTimeMs: 50, rpcAddress: '127.0.0.1:0', logger: pino({ level: 'warn' }) });
  await devnet.waitForHeight(1);
  const server = await startGrpcServer({
    address: '127.0.0.1:0', rpcUrl: devnet.rpcUrl,
    query: (path, data) => devnet.node.query(path, data, 0n, false),
  });
  return { home, devnet, grpc: server };
}

async function teardown(c: Ctx): Promise<void> {
  await c.grpc.close();
  await c.devnet.close();
  await rm(c.home, { recursive: true, force: true });
}

test('the committed reflection descriptors are the buf build of proto/ (run app/grpc/build-descriptors.ts if not)', async (t) => {
  const committed = await readFile(DESCRIPTORS_FILE);
  t.true(Buffer.from(buildDescriptors()).equals(committed), 'app/grpc/descriptors.binpb is stale: node --import tsx app/grpc/build-descriptors.ts');
});

test.serial('reflection lists the services; MsgSend via BroadcastTx is read back by GetTx and GetTxsEvent; errors map to status codes', async (t) => {
  const c = await setup();
  try {
    const addr = c.grpc.address;
    // 1. Reflection: the services and methods, as a generic client sees them.
    const { stdout: services } = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--reflect', '--list-services', `http://${addr}`]);
    const names = services.trim().split('\n').sort();
    t.deepEqual(names, [
      'cosmos.auth.v1beta1.Query', 'cosmos.bank.v1beta1.Query', 'cosmos.base.node.v1beta1.Service',
      'cosmos.base.tendermint.v1beta1.Service', 'cosmos.distribution.v1beta1.Query', 'cosmos.slashing.v1beta1.Query',
      'cosmos.staking.v1beta1.Query', 'cosmos.tx.v1beta1.Service',
      'proofbook.bond.v1.Query', 'proofbook.market.v1.Query', 'proofbook.verifier.v1.Query',
    ]);
    const { stdout: methods } = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--reflect', '--list-methods', `http://${addr}`]);
    for (const m of ['cosmos.tx.v1beta1.Service/BroadcastTx', 'cosmos.tx.v1beta1.Service/GetTx', 'proofbook.market.v1.Query/Book', 'proofbook.verifier.v1.Query/Circuits', 'cosmos.staking.v1beta1.Query/Validators', 'cosmos.base.tendermint.v1beta1.Service/GetLatestBlock', 'cosmos.tx.v1beta1.Service/GetBlockWithTxs']) {
      t.true(methods.split('\n').includes(m), m);
    }

    // 2. A query forwarded to the app: the genesis circuit is registered.
    const circuits = await bufCurl(addr, '/proofbook.verifier.v1.Query/Circuits', {});
    t.true(circuits.ok);
    t.true(((circuits.body.circuits as unknown[]) ?? []).length >= 1);

    // 3. Sign a MsgSend offline with cosmjs, broadcast its bytes through gRPC.
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(0), makeCosmoshubPath(1)] });
    const [a0, a1] = await wallet.getAccounts();
    const signing = await SigningStargateClient.connectWithSigner(c.devnet.rpcUrl, wallet);
    const raw = await signing.sign(a0!.address, [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: { fromAddress: a0!.address, toAddress: a1!.address, amount: [{ denom: 'uproof', amount: '777' }] } }],
      { amount: [{ denom: 'uproof', amount: '2000' }], gas: '200000' }, 'via grpc');
    const txBytes = TxRaw.encode(raw).finish();
    const bcast = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/BroadcastTx', { tx_bytes: Buffer.from(txBytes).toString('base64'), mode: 'BROADCAST_MODE_SYNC' });
    t.true(bcast.ok, JSON.stringify(bcast.body));
    const resp = bcast.body.txResponse as { txhash: string; code?: number; rawLog?: string };
    t.is(resp.code ?? 0, 0, resp.rawLog);
    t.regex(resp.txhash, /^[0-9A-F]{64}$/);

    // 4. GetTx until it is in a block.
    let got: CurlResult | undefined;
    for (let i = 0; i < 100; i++) {
      got = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/GetTx', { hash: resp.txhash });
      if (got.ok) break;
      t.is(got.body.code, 'not_found');
      await new Promise((r) => setTimeout(r, 50));
    }
    t.true(got!.ok, JSON.stringify(got!.body));
    const txr = got!.body.txResponse as { height: string; txhash: string; code?: number; gasUsed: string; timestamp: string; events: { type: string }[]; tx: { '@type': string } };
    t.is(txr.txhash, resp.txhash);
    t.true(BigInt(txr.height) > 0n);
    t.is(txr.code ?? 0, 0);
    t.true(BigInt(txr.gasUsed) > 0n);
    t.regex(txr.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    t.true(txr.events.some((e) => e.type === 'transfer'));
    t.is(txr.tx['@type'], '/cosmos.tx.v1beta1.Tx');
    const tx = got!.body.tx as { body: { memo: string; messages: { '@type': string; toAddress: string }[] } };
    t.is(tx.body.memo, 'via grpc');
    t.is(tx.body.messages[0]!.toAddress, a1!.address);

    const search = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/GetTxsEvent', { query: `transfer.recipient='${a1!.address}'`, limit: '10' });
    t.true(search.ok, JSON.stringify(search.body));
    // Simulate a second (unbroadcast) send: gas comes back, nothing is committed.
    const raw2 = await signing.sign(a0!.address, [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: { fromAddress: a0!.address, toAddress: a1!.address, amount: [{ denom: 'uproof', amount: '1' }] } }],
      { amount: [{ denom: 'uproof', amount: '2000' }], gas: '200000' }, '');
    const sim = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/Simulate', { tx_bytes: Buffer.from(TxRaw.encode(raw2).finish()).toString('base64') });
    t.true(sim.ok, JSON.stringify(sim.body));
    t.true(BigInt((sim.body.gasInfo as { gasUsed: string }).gasUsed) > 0n);
    const simBad = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/Simulate', {});
    t.is(simBad.body.code, 'invalid_argument');
    // Bank and auth queries through the same forwarding.
    const bal = await bufCurl(addr, '/cosmos.bank.v1beta1.Query/Balance', { address: a1!.address, denom: 'uproof' });
    t.true(bal.ok, JSON.stringify(bal.body));
    t.is((bal.body.balance as { amount: string }).amount, (await signing.getBalance(a1!.address, 'uproof')).amount);
    const acct = await bufCurl(addr, '/cosmos.auth.v1beta1.Query/Account', { address: a0!.address });
    t.true(acct.ok, JSON.stringify(acct.body));
    t.is((acct.body.account as { '@type': string; address: string }).address, a0!.address);
    const noAcct = await bufCurl(addr, '/cosmos.auth.v1beta1.Query/Account', { address: 'proof1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqh8kngq' });
    t.false(noAcct.ok);
    t.true((search.body.txResponses as { txhash: string }[]).some((r) => r.txhash === resp.txhash));
    t.true(BigInt(search.body.total as string) >= 1n);

    // 5. Bad requests: each gets a precise status and message.
    const badTx = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/BroadcastTx', { tx_bytes: Buffer.from([1, 2, 3]).toString('base64'), mode: 'BROADCAST_MODE_SYNC' });
    t.false(badTx.ok);
    t.is(badTx.body.code, 'invalid_argument');
    t.regex(badTx.body.message as string, /malformed tx bytes/);
    const dup = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/BroadcastTx', { tx_bytes: Buffer.from(txBytes).toString('base64'), mode: 'BROADCAST_MODE_SYNC' });
    t.is(dup.body.code, 'already_exists', JSON.stringify(dup.body));
    const noMode = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/BroadcastTx', { tx_bytes: Buffer.from(txBytes).toString('base64') });
    t.is(noMode.body.code, 'invalid_argument');
    t.regex(noMode.body.message as string, /broadcast mode/);
    const unknown = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/GetTx', { hash: 'AB'.repeat(32) });
    t.is(unknown.body.code, 'not_found');
    t.regex(unknown.body.message as string, /tx not found: (AB){32}/);
    const badHash = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/GetTx', { hash: 'xyz' });
    t.is(badHash.body.code, 'invalid_argument');
    t.regex(badHash.body.message as string, /64 hex characters/);
    const bigLimit = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/GetTxsEvent', { query: 'tx.height>0', limit: '5000' });
    t.is(bigLimit.body.code, 'invalid_argument');
    t.regex(bigLimit.body.message as string, /limit 5000.*maximum is 1000/);
    const emptyQuery = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/GetTxsEvent', {});
    t.is(emptyQuery.body.code, 'invalid_argument');
    const keyAndOffset = await bufCurl(addr, '/proofbook.market.v1.Query/Requests', { pagination: { key: 'AQ==', offset: '2' } });
    t.is(keyAndOffset.body.code, 'invalid_argument');
    t.regex(keyAndOffset.body.message as string, /key and offset cannot both be set/);
    const tooMany = await bufCurl(addr, '/proofbook.bond.v1.Query/Provers', { pagination: { limit: '1001' } });
    t.is(tooMany.body.code, 'invalid_argument');
    t.regex(tooMany.body.message as string, /limit 1001 exceeds the maximum of 1000/);

    // 6. An app-side NotFound (request 424242 does not exist) through grpc-js with the generated codecs.
    const client = new grpc.Client(addr, grpc.credentials.createInsecure());
    const unary = <Req, Res>(path: string, enc: (r: Req) => Uint8Array, dec: (b: Uint8Array) => Res, req: Req) =>
      new Promise<Res>((resolve, reject) => {
        client.makeUnaryRequest(path, (r: Req) => Buffer.from(enc(r)), (b: Buffer) => dec(b), req, (err, res) => (err ? reject(err) : resolve(res!)));
      });
    const nf = await t.throwsAsync(unary('/proofbook.market.v1.Query/Request', (r: QueryRequestRequest) => QueryRequestRequest.encode(r).finish(),
      (b) => QueryRequestResponse.decode(b), { id: 424242n })) as grpc.ServiceError;
    t.is(nf.code, grpc.status.NOT_FOUND);
    t.regex(nf.details, /424242/);
    t.truthy(nf.metadata.get('x-cosmos-codespace')[0]);
    // Garbage request bytes for a query method: InvalidArgument, the app never sees them.
    const garbage = await t.throwsAsync(unary('/proofbook.market.v1.Query/Request', (b: Uint8Array) => b, (b) => b, new Uint8Array([0xff, 0xff, 0xff]))) as grpc.ServiceError;
    t.is(garbage.code, grpc.status.INVALID_ARGUMENT);
    // ...and the server keeps serving.
    const params = await unary('/proofbook.market.v1.Query/Params', (r: QueryParamsRequest) => QueryParamsRequest.encode(r).finish(), (b) => QueryParamsResponse.decode(b), {});
    t.is(params.params?.feeDenom, 'uproof');
    const again = await bufCurl(addr, '/cosmos.tx.v1beta1.Service/GetTx', { hash: resp.txhash });
    t.true(again.ok);
    client.close();
    signing.disconnect();
  } finally {
    await teardown(c);
  }
});
