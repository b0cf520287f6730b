/**
 * The REST gateway (app/rest) against one in-process devnet, used the way Ping.pub-style explorers and Keplr-style
 * wallets use a Cosmos chain's 1317: reads only through REST, a tx signed offline with cosmjs and broadcast through
 * POST /cosmos/tx/v1beta1/txs, read back by hash; the JSON shape of the SDK's gateway; errors, CORS, heights, the
 * OpenAPI document and the static-directory hook.
 */
import test from 'ava';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DirectSecp256k1HdWallet, makeAuthInfoBytes, makeSignDoc, Registry, encodePubkey } from '@cosmjs/proto-signing';
import { defaultRegistryTypes } from '@cosmjs/stargate';
import { encodeSecp256k1Pubkey, makeCosmoshubPath } from '@cosmjs/amino';
import { fromBase64, toBase64 } from '@cosmjs/encoding';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { DEVNET_MNEMONIC } from '../genesis/index.js';
import { matchRoute, parseTemplate, loadRoutes } from '../app/rest/index.js';

interface Net { home: string; devnet: Devnet; api: string; staticDir: string }
let net: Net | undefined;
let starting: Promise<Net> | undefined;

/** One devnet for the whole file: ava runs these tests concurrently, so the start itself is shared (a plain
 * `if (net)` check let each concurrent caller start its own devnet, and a tx sent to one was looked up on another). */
function network(): Promise<Net> {
  starting ??= startNetwork();
  return starting;
}

async function startNetwork(): Promise<Net> {
  const home = await mkdtemp(join(tmpdir(), 'rest-gw-'));
  const staticDir = join(home, 'www');
  await mkdir(staticDir);
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>explorer</title>');
  await writeFile(join(staticDir, 'app.js'), 'console.log(1)');
  const devnet = await startDevnet({
    home: join(home, 'chain'), blockTimeMs: 100, rpcAddress: '127.0.0.1:0', apiAddress: '127.0.0.1:0',
    api: { cors: '*', staticDir }, logger: pino({ level: 'warn' }),
  });
  await devnet.waitForHeight(2);
  net = { home, devnet, api: devnet.apiUrl!, staticDir };
  return net;
}

test.after.always(async () => {
  if (!net) return;
  await net.devnet.close();
  await rm(net.home, { recursive: true, force: true });
});

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const n = await network();
  const r = await fetch(n.api + path, { headers, signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  return { status: r.status, body: text.startsWith('{') ? JSON.parse(text) : text, headers: r.headers };
}

test('path templates: literals, variables, {x=**}; more literal segments win', (t) => {
  const segs = parseTemplate('/cosmos/bank/v1beta1/denoms_metadata/{denom=**}');
  t.deepEqual(segs[4], { field: 'denom', rest: true });
  const route = loadRoutes().routes.find((r) => r.template === '/cosmos/bank/v1beta1/denoms_metadata/{denom=**}')!;
  t.is(matchRoute(route, ['cosmos', 'bank', 'v1beta1', 'denoms_metadata', 'ibc', 'ABC'])?.get('denom'), 'ibc/ABC');
  t.is(matchRoute(route, ['cosmos', 'bank', 'v1beta1', 'denoms_metadata']), undefined);
  const bal = loadRoutes().routes.find((r) => r.template === '/cosmos/bank/v1beta1/balances/{address}')!;
  t.is(matchRoute(bal, ['cosmos', 'bank', 'v1beta1', 'balances', 'proof1x', 'by_denom']), undefined);
  t.throws(() => parseTemplate('/a/{b}c'), { message: /unsupported/ });
  // Every annotated route has a unique (verb, template).
  const keys = loadRoutes().routes.map((r) => `${r.verb} ${r.template}`);
  t.is(new Set(keys).size, keys.length);
});

test('Ping.pub-style reads through REST only: balances, account, params of every module, gateway JSON shape', async (t) => {
  const addr = (await (await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof' })).getAccounts())[0]!.address;
  const bal = await get(`/cosmos/bank/v1beta1/balances/${addr}`);
  t.is(bal.status, 200);
  // The SDK gateway's shape: snake_case, uint64 as string, nil bytes as null, every field present.
  t.deepEqual(bal.body, { balances: [{ denom: 'uproof', amount: '1000000000000' }], pagination: { next_key: null, total: '1' } });
  t.regex(bal.headers.get('x-cosmos-block-height') ?? '', /^[1-9][0-9]*$/);
  const one = await get(`/cosmos/bank/v1beta1/balances/${addr}/by_denom?denom=uproof`);
  t.deepEqual(one.body, { balance: { denom: 'uproof', amount: '1000000000000' } });

  const acc = await get(`/cosmos/auth/v1beta1/accounts/${addr}`);
  t.is(acc.status, 200);
  t.is(acc.body.account['@type'], '/cosmos.auth.v1beta1.BaseAccount');
  t.is(acc.body.account.address, addr);
  t.is(typeof acc.body.account.account_number, 'string');
  t.true('pub_key' in acc.body.account);

  for (const p of ['/cosmos/auth/v1beta1/params', '/cosmos/bank/v1beta1/params', '/proofbook/verifier/v1/params', '/proofbook/bond/v1/params', '/proofbook/market/v1/params']) {
    const r = await get(p);
    t.is(r.status, 200, p);
    t.is(typeof r.body.params, 'object', p);
    t.not(r.body.params, null, p);
  }
  const m = await get('/proofbook/market/v1/params');
  t.is(m.body.params.fee_denom, 'uproof');
  t.regex(m.body.params.min_fee, /^[0-9]+$/);

  const circuits = await get('/proofbook/verifier/v1/circuits');
  t.is(circuits.status, 200);
  const c = circuits.body.circuits[0];
  t.is(c.name, 'hashchain');
  t.is(c.proof_system, 'PROOF_SYSTEM_GROTH16_BN254', 'enums by name');
  t.notThrows(() => fromBase64(c.verifying_key), 'bytes as base64');
  const byId = await get(`/proofbook/verifier/v1/circuits/${c.id}`);
  t.is(byId.body.circuit.id, c.id);

  const book = await get(`/proofbook/market/v1/book/${c.id}`);
  t.is(book.status, 200);
  t.deepEqual(book.body.asks, [], 'empty lists are present');
  t.deepEqual(book.body.requests, []);
  const reqs = await get(`/proofbook/market/v1/requests?status=REQUEST_STATUS_OPEN&pagination.limit=5&pagination.count_total=true`);
  t.is(reqs.status, 200);
  t.deepEqual(reqs.body.requests, []);
  // the Requests query's circuit filter, from the descriptors like every other field
  const byCircuit = await get(`/proofbook/market/v1/requests?status=REQUEST_STATUS_FALLBACK&circuit_id=${c.id}&pagination.limit=5`);
  t.is(byCircuit.status, 200, JSON.stringify(byCircuit.body));
  t.deepEqual(byCircuit.body.requests, []);
  const badCircuit = await get('/proofbook/market/v1/requests?circuit_id=not-hex');
  t.is(badCircuit.status, 400);
  t.regex(badCircuit.body.message, /circuit_id must be 64 lowercase hex/);
  // the spread rule's state: the chain's defaults before any assignment
  const spread = await get('/proofbook/market/v1/spread');
  t.is(spread.status, 200, JSON.stringify(spread.body));
  t.like(spread.body, { penalty_in_force: '15000', window_assignments: '0', window_hhi_bps: '0', target_hhi_bps: '2200', provers: [] });
  for (const p of [`/proofbook/market/v1/asks?circuit_id=${c.id}`, `/proofbook/market/v1/reputation/${addr}`, `/proofbook/market/v1/stats?circuit_id=${c.id}`, '/proofbook/bond/v1/provers', `/proofbook/bond/v1/provers/${addr}`, '/cosmos/bank/v1beta1/supply']) {
    const r = await get(p);
    t.true(r.status === 200 || r.status === 404, `${p}: ${r.status} ${JSON.stringify(r.body)}`);
    if (r.status === 404) t.is(r.body.code, 5, p);
  }
});

test('errors have the gateway shape and HTTP status; unknown paths 404; wrong verb 405', async (t) => {
  const bad = await get('/proofbook/market/v1/book/not-hex');
  t.is(bad.status, 400);
  t.is(bad.body.code, 3);
  t.deepEqual(bad.body.details, []);
  const missing = await get('/proofbook/market/v1/requests/999999');
  t.is(missing.status, 404);
  t.is(missing.body.code, 5);
  const nope = await get('/cosmos/nothing/here');
  t.is(nope.status, 404);
  const notInt = await get('/proofbook/market/v1/requests?pagination.limit=ten');
  t.is(notInt.status, 400);
  t.regex(notInt.body.message, /pagination\.limit/);
  const n = await network();
  const post = await fetch(`${n.api}/proofbook/market/v1/params`, { method: 'POST', body: '{}' });
  t.is(post.status, 405);
  const badJson = await fetch(`${n.api}/cosmos/tx/v1beta1/txs`, { method: 'POST', body: '{not json' });
  t.is(badJson.status, 400);
});

test('x-cosmos-block-height: an older kept height answers at that height; an unknown height is an error, never the latest', async (t) => {
  const n = await network();
  const h = n.devnet.height();
  const at = await get('/cosmos/bank/v1beta1/supply', { 'x-cosmos-block-height': String(h - 1n) });
  t.is(at.status, 200);
  t.is(at.headers.get('x-cosmos-block-height'), String(h - 1n));
  const future = await get('/cosmos/bank/v1beta1/supply', { 'x-cosmos-block-height': String(h + 1000n) });
  t.is(future.status, 400);
  t.regex(future.body.message, /height/);
  const junk = await get('/cosmos/bank/v1beta1/supply', { 'x-cosmos-block-height': 'abc' });
  t.is(junk.status, 400);
});

test('CORS: preflight and simple responses allow any origin (devnet default)', async (t) => {
  const n = await network();
  const pre = await fetch(`${n.api}/cosmos/tx/v1beta1/txs`, {
    method: 'OPTIONS', headers: { Origin: 'https://wallet.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
  });
  t.is(pre.status, 204);
  t.is(pre.headers.get('access-control-allow-origin'), '*');
  t.regex(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
  const r = await fetch(`${n.api}/cosmos/bank/v1beta1/params`, { headers: { Origin: 'https://x.example' } });
  t.is(r.headers.get('access-control-allow-origin'), '*');
  t.regex(r.headers.get('access-control-expose-headers') ?? '', /x-cosmos-block-height/);
});

test('OpenAPI document lists every route with parameters and schemas from the protos', async (t) => {
  const r = await get('/openapi.json');
  t.is(r.status, 200);
  const doc = r.body;
  t.is(doc.openapi, '3.0.3');
  for (const r0 of loadRoutes().routes) {
    const p = '/' + r0.segments.map((s) => ('literal' in s ? s.literal : `{${s.field}}`)).join('/');
    t.truthy(doc.paths[p]?.[r0.verb.toLowerCase()], `${r0.verb} ${p} missing`);
  }
  const reqs = doc.paths['/proofbook/market/v1/requests'].get;
  const names = reqs.parameters.map((p: { name: string }) => p.name);
  for (const want of ['requester', 'status', 'circuit_id', 'pagination.key', 'pagination.offset', 'pagination.limit', 'pagination.count_total', 'pagination.reverse']) t.true(names.includes(want), want);
  t.is(doc.components.schemas['proofbook.base.v1.PageRequest'], undefined, 'request-only messages flattened into parameters');
  t.deepEqual(doc.components.schemas['cosmos.base.v1beta1.Coin'].properties.amount, { type: 'string' });
  t.is(doc.components.schemas['cosmos.base.query.v1beta1.PageResponse'].properties.total.format, 'uint64');
});

test('static hook: non-API GET paths are served from the static directory (index.html for app routes)', async (t) => {
  const idx = await get('/');
  t.is(idx.status, 200);
  t.regex(String(idx.body), /explorer/);
  const js = await get('/app.js');
  t.is(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const deep = await get('/requests/12');
  t.regex(String(deep.body), /explorer/);
  const esc = await get('/..%2f..%2fetc/passwd');
  t.false(String(esc.body).includes('root:'));
  t.is((await get('/missing.css')).status, 404);
});

test('Keplr-style: sign offline, broadcast through POST /cosmos/tx/v1beta1/txs, simulate, read back by hash', async (t) => {
  const n = await network();
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(3), makeCosmoshubPath(4)] });
  const [from, to] = await wallet.getAccounts();
  const acc = (await get(`/cosmos/auth/v1beta1/accounts/${from!.address}`)).body.account;
  const chainId = 'proofbook-devnet-1';
  const registry = new Registry(defaultRegistryTypes);
  const bodyBytes = registry.encodeTxBody({ messages: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: { fromAddress: from!.address, toAddress: to!.address, amount: [{ denom: 'uproof', amount: '12345' }] } }], memo: 'rest' });
  const pubkey = encodePubkey(encodeSecp256k1Pubkey(from!.pubkey));
  const authInfoBytes = makeAuthInfoBytes([{ pubkey, sequence: Number(acc.sequence) }], [{ denom: 'uproof', amount: '400' }], 200_000, undefined, undefined, SignMode.SIGN_MODE_DIRECT);
  const { signature } = await wallet.signDirect(from!.address, makeSignDoc(bodyBytes, authInfoBytes, chainId, Number(acc.account_number)));
  const txBytes = TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [fromBase64(signature.signature)] }).finish();

  const sim = await fetch(`${n.api}/cosmos/tx/v1beta1/simulate`, { method: 'POST', body: JSON.stringify({ tx_bytes: toBase64(txBytes) }) });
  const simBody = await sim.json() as any;
  t.is(sim.status, 200, JSON.stringify(simBody));
  t.regex(simBody.gas_info.gas_used, /^[1-9][0-9]*$/);

  const res = await fetch(`${n.api}/cosmos/tx/v1beta1/txs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ tx_bytes: toBase64(txBytes), mode: 'BROADCAST_MODE_SYNC' }) });
  const body = await res.json() as any;
  t.is(res.status, 200, JSON.stringify(body));
  t.is(body.tx_response.code, 0, body.tx_response.raw_log);
  const hash = body.tx_response.txhash as string;
  t.regex(hash, /^[0-9A-F]{64}$/);

  let got: { status: number; body: any } | undefined;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    got = await get(`/cosmos/tx/v1beta1/txs/${hash}`);
    if (got.status === 200) break;
    await n.devnet.waitForHeight(n.devnet.height() + 1n);
  }
  t.is(got?.status, 200, JSON.stringify(got?.body));
  t.is(got!.body.tx_response.txhash, hash);
  t.is(got!.body.tx_response.code, 0);
  t.is(got!.body.tx.body.memo, 'rest');
  t.is(got!.body.tx.body.messages[0]['@type'], '/cosmos.bank.v1beta1.MsgSend');
  t.is(got!.body.tx.body.messages[0].amount[0].amount, '12345');
  t.is(got!.body.tx_response.tx['@type'], '/cosmos.tx.v1beta1.Tx');
  const bal = await get(`/cosmos/bank/v1beta1/balances/${to!.address}/by_denom?denom=uproof`);
  t.is(bal.body.balance.amount, String(1_000_000_000_000n + 12345n));
  const search = await get(`/cosmos/tx/v1beta1/txs?query=${encodeURIComponent(`tx.hash='${hash}'`)}`);
  t.is(search.status, 200, JSON.stringify(search.body));
  t.is(search.body.tx_responses[0].txhash, hash);

  // The same bytes again: refused with the mempool-cache or sequence error, never a 200 with code 0.
  const again = await fetch(`${n.api}/cosmos/tx/v1beta1/txs`, { method: 'POST', body: JSON.stringify({ tx_bytes: toBase64(txBytes), mode: 'BROADCAST_MODE_SYNC' }) });
  const againBody = await again.json() as any;
  t.true(again.status !== 200 || againBody.tx_response.code !== 0, JSON.stringify(againBody));
});

test('auth Accounts pagination: limit, next_key, offset, reverse, count_total (as query.Paginate)', async (t) => {
  const all = (await get('/cosmos/auth/v1beta1/accounts?pagination.count_total=true&pagination.limit=1000')).body;
  const n = all.accounts.length;
  t.true(n >= 10);
  t.is(all.pagination.total, String(n));
  const addrs = all.accounts.map((a: { address: string }) => a.address);
  const p1 = (await get('/cosmos/auth/v1beta1/accounts?pagination.limit=3')).body;
  t.deepEqual(p1.accounts.map((a: { address: string }) => a.address), addrs.slice(0, 3));
  t.not(p1.pagination.next_key, null);
  t.is(p1.pagination.total, '0', 'no count_total, no total');
  const p2 = (await get(`/cosmos/auth/v1beta1/accounts?pagination.limit=3&pagination.key=${encodeURIComponent(p1.pagination.next_key)}`)).body;
  t.deepEqual(p2.accounts.map((a: { address: string }) => a.address), addrs.slice(3, 6));
  const off = (await get('/cosmos/auth/v1beta1/accounts?pagination.limit=2&pagination.offset=4&pagination.count_total=true')).body;
  t.deepEqual(off.accounts.map((a: { address: string }) => a.address), addrs.slice(4, 6));
  t.is(off.pagination.total, String(n));
  const rev = (await get('/cosmos/auth/v1beta1/accounts?pagination.limit=2&pagination.reverse=true')).body;
  t.deepEqual(rev.accounts.map((a: { address: string }) => a.address), addrs.slice(-2).reverse());
  const both = await get(`/cosmos/auth/v1beta1/accounts?pagination.offset=1&pagination.key=${encodeURIComponent(p1.pagination.next_key)}`);
  t.is(both.status, 400);
});

test('bank denom metadata: uproof/PROOF with 6 decimals from the default genesis, single and list', async (t) => {
  const one = await get('/cosmos/bank/v1beta1/denoms_metadata/uproof');
  t.is(one.status, 200, JSON.stringify(one.body));
  const m = one.body.metadata;
  t.is(m.base, 'uproof');
  t.is(m.display, 'proof');
  t.is(m.symbol, 'PROOF');
  t.deepEqual(m.denom_units.map((u: { denom: string; exponent: number }) => [u.denom, u.exponent]), [['uproof', 0], ['proof', 6]]);
  const list = await get('/cosmos/bank/v1beta1/denoms_metadata');
  t.is(list.body.metadatas.length, 1);
  t.deepEqual(list.body.metadatas[0], m);
  const none = await get('/cosmos/bank/v1beta1/denoms_metadata/uatom');
  t.is(none.status, 404);
});
