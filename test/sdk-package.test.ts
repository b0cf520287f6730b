/**
 * The SDK as a package, used the way outside projects use it: `npm pack` the repository (the `files` list and the
 * `exports` map decide what a consumer gets), install the tarball into a fresh project with `npm ci --offline` (its
 * lockfile: the tarball plus the repository's own lock entries of the package's dependencies, whose tarballs the npm
 * cache holds since the repository's `npm ci`: nothing is downloaded), then, against one devnet (RPC and REST, CORS):
 *
 *   - a plain Node ES module script (`import`), which also signs and broadcasts a bank send;
 *   - a CommonJS script (`require`);
 *   - strict TypeScript projects (strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes, skipLibCheck false,
 *     no @types/node), one ESM and one CommonJS, compiled against the package's .d.ts and then run;
 *   - an esbuild browser bundle (the `browser` condition) loaded in headless Chromium, which queries over RPC and REST
 *     and signs + broadcasts a bank send, a bond and a market ask.
 *
 * dist/ comes from `npm run build` (npm test runs it first); the test refuses a dist/ older than its sources.
 */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { DEVNET_MNEMONIC } from '../genesis/index.js';
import { ProofbookQueryClient } from '../src/client/proofbook.js';
import { connectQueryClient } from '../src/client/tx.js';

const run = promisify(execFile);
const root = process.cwd();
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** dist/ must be at least as new as every file it was built from (scripts/build-sdk.ts writes dist/sources.json). */
async function assertFreshBuild(): Promise<void> {
  const list = join(root, 'dist', 'sources.json');
  if (!existsSync(list)) throw new Error('dist/ is missing: run `npm run build` (npm test does) before this test');
  const built = statSync(list).mtimeMs;
  const stale = (JSON.parse(await readFile(list, 'utf8')) as string[]).filter((f) => !existsSync(join(root, f)) || statSync(join(root, f)).mtimeMs > built);
  if (stale.length) throw new Error(`dist/ is older than ${stale.join(', ')}: run \`npm run build:sdk\``);
}

interface LockEntry { version?: string; dev?: boolean; link?: boolean; [k: string]: unknown }

/**
 * A fresh project depending on the tarball (and on the cosmjs wallet packages a consumer uses beside it), installed by
 * `npm ci --offline --ignore-scripts` from a lockfile: the tarball's entry plus every non-dev entry of the repository's
 * package-lock.json, which are exactly the package's dependencies and theirs.
 */
async function install(dir: string, tarballName: string, tarball: Buffer): Promise<void> {
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string; license: string; dependencies: Record<string, string>; bin: Record<string, string> };
  const wallets = Object.fromEntries(['@cosmjs/proto-signing', '@cosmjs/amino'].map((d) => [d, lock.packages[`node_modules/${d}`]!.version!]));
  const deps = { proofbook: `file:${tarballName}`, ...wallets };
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: deps },
    'node_modules/proofbook': {
      version: manifest.version, resolved: `file:${tarballName}`, integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
      license: manifest.license, dependencies: manifest.dependencies, bin: manifest.bin,
    },
  };
  for (const [k, v] of Object.entries(lock.packages)) if (k.startsWith('node_modules/') && !v.dev && !v.link) packages[k] = v;
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies: deps }));
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
  try {
    await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`npm ci --offline of the packed SDK failed (the npm cache should hold every dependency after the repository's npm ci):\n${err.stderr ?? err.message}`);
  }
}

/** Runs `node file` in `cwd`; resolves with the JSON object it prints last. */
async function node(cwd: string, file: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`node ${file} exited ${code}:\n${out}\n${err}`));
      try { resolve(JSON.parse(last) as Record<string, unknown>); } catch { reject(new Error(`node ${file} printed no JSON:\n${out}\n${err}`)); }
    });
  });
}

async function address(i: number): Promise<string> {
  const w = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(i)] });
  return (await w.getAccounts())[0]!.address;
}

// ---------------------------------------------------------------------------------------------------- the consumers

const ESM = `
import { ProofbookClient, ProofbookQueryClient, RequestStatus, statusName } from 'proofbook';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { makeCosmoshubPath } from '@cosmjs/amino';
const [rpc, mnemonic, to] = process.argv.slice(2);
const q = await ProofbookQueryClient.connect(rpc);
const height = String(await q.height());
const circuits = (await q.circuits()).circuits.map((c) => c.name);
const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: 'proof', hdPaths: [makeCosmoshubPath(4)] });
const client = await ProofbookClient.connect(rpc, wallet, { pollIntervalMs: 200 });
const sent = await client.signing.sendTokens(client.address, to, [{ denom: 'uproof', amount: '4321' }], 'auto');
const balance = (await client.signing.getBalance(to, 'uproof')).amount;
q.disconnect(); client.disconnect();
console.log(JSON.stringify({ height, circuits, code: sent.code, txHeight: sent.height, balance, status: statusName(RequestStatus.REQUEST_STATUS_FULFILLED), url: import.meta.resolve('proofbook') }));
`;

const CJS = `
const { ProofbookQueryClient, TYPE_URLS, quote } = require('proofbook');
(async () => {
  const q = await ProofbookQueryClient.connect(process.argv[2]);
  const height = String(await q.height());
  const params = await q.params();
  q.disconnect();
  console.log(JSON.stringify({ height, protocolFeeBps: String(params.market.protocolFeeBps), submitRequest: TYPE_URLS.submitRequest, quote: typeof quote, resolved: require.resolve('proofbook') }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

// No @types/node (types: []): the package's declarations must not need them. process.argv is read untyped on purpose.
const TS = `
import { ProofbookQueryClient, RequestStatus, marketTypes, type PriceLevel, type ProofbookClientOptions } from 'proofbook';

const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv;
const rpc = argv[2];
if (rpc === undefined) throw new Error('usage: index.js RPC');
const opts: ProofbookClientOptions = { gasPrice: '0.001uproof', gasAdjustment: 1.5 };
// @ts-expect-error the declarations are real types, not any: gasAdjustment is a number
const bad: ProofbookClientOptions = { gasAdjustment: '1.5' };
const msg = marketTypes.MsgSubmitRequest.fromPartial({ circuitId: 'x', maxFee: '10' });
const status: RequestStatus = RequestStatus.REQUEST_STATUS_OPEN;
const q = await ProofbookQueryClient.connect(rpc);
const circuits = (await q.circuits()).circuits;
const first = circuits[0]; // noUncheckedIndexedAccess: Circuit | undefined
if (!first) throw new Error('no circuits');
const book = await q.book(first.id);
const open: PriceLevel[] = book.requests;
const height: bigint = await q.height();
q.disconnect();
console.log(JSON.stringify({ height: height.toString(), circuit: first.name, open: open.length, encoded: marketTypes.MsgSubmitRequest.encode(msg).finish().length, status, gas: opts.gasPrice, bad: typeof bad }));
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', lib: ['ES2022', 'DOM'], module: 'NodeNext', moduleResolution: 'NodeNext', types: [],
    strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, skipLibCheck: false,
    outDir: 'out', rootDir: '.',
  },
  files: ['index.mts', 'index.cts'],
};

// The same declarations from CommonJS TypeScript (a .cts file): `require` resolves dist/cjs/index.d.ts.
const CTS = `
import { ProofbookQueryClient, RequestStatus, type ProofbookClientOptions } from 'proofbook';
// @ts-expect-error the declarations are real types, not any
const bad: ProofbookClientOptions = { address: 42 };
const rpc = (globalThis as unknown as { process: { argv: string[] } }).process.argv[2] ?? '';
void (async () => {
  const q = await ProofbookQueryClient.connect(rpc);
  const h: bigint = await q.height();
  q.disconnect();
  console.log(JSON.stringify({ height: h.toString(), open: RequestStatus.REQUEST_STATUS_OPEN, bad: typeof bad }));
})();
`;

const BROWSER = `
import { ProofbookClient, ProofbookQueryClient, TYPE_URLS } from 'proofbook';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { makeCosmoshubPath } from '@cosmjs/amino';

window.runConsumer = async ({ rpc, api, mnemonic, to }) => {
  const q = await ProofbookQueryClient.connect(rpc);
  const height = String(await q.height());
  const circuit = (await q.circuits()).circuits.find((c) => c.name === 'hashchain');
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: 'proof', hdPaths: [makeCosmoshubPath(7)] });
  const client = await ProofbookClient.connect(rpc, wallet, { pollIntervalMs: 200 });
  const restBalance = async (addr) => {
    const r = await fetch(api + '/cosmos/bank/v1beta1/balances/' + addr + '/by_denom?denom=uproof');
    return (await r.json()).balance.amount;
  };
  const before = await restBalance(to);
  const sent = await client.signing.sendTokens(client.address, to, [{ denom: 'uproof', amount: '1234' }], 'auto');
  const after = await restBalance(to);
  const bonded = await client.bond(1000000n);
  const ask = await client.postAsk({ circuitId: circuit.id, price: 7000n, capacity: 1n });
  const asks = (await q.asks({ prover: client.address })).asks.map((a) => ({ id: String(a.id), price: a.price }));
  q.disconnect(); client.disconnect();
  return { height, address: client.address, sendCode: sent.code, sendHash: sent.transactionHash, before, after, bondHeight: bonded.height, askId: String(ask.askId), asks, typeUrl: TYPE_URLS.postAsk, hasBuffer: typeof globalThis.Buffer !== 'undefined' };
};
window.consumerReady = true;
`;

// ---------------------------------------------------------------------------------------------------- the test

test('the packed SDK installs offline and runs from Node ESM, CommonJS, strict TypeScript and a browser bundle in Chromium', async (t) => {
  t.timeout(300_000);
  if (!existsSync('/usr/bin/chromium')) throw new Error('this test needs Chromium at /usr/bin/chromium: apt-get install chromium (.ci/run installs it)');
  await assertFreshBuild();
  const work = await mkdtemp(join(tmpdir(), 'sdk-package-'));
  let devnet: Devnet | undefined;
  let devnetStarting: Promise<Devnet> | undefined;
  let browser: Browser | undefined;
  let server: http.Server | undefined;
  try {
    // ---- npm pack: small, only dist/ (no tests, benches, sources, ptau or circuit keys)
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, maxBuffer: 16 << 20 });
    const packed = (JSON.parse(stdout) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[])[0]!;
    const files = packed.files.map((f) => f.path);
    t.log(`tarball ${packed.size} B (${packed.unpackedSize} B unpacked, ${files.length} files)`);
    t.true(packed.size < 400_000, `tarball ${packed.size} B`);
    for (const f of ['package.json', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json', 'dist/browser/index.js']) {
      t.true(files.includes(f), `the tarball holds ${f}`);
    }
    const unwanted = files.filter((f) => !/^(package\.json|README\.md|LICENSE|bin\/proofbook\.mjs|dist\/(esm|cjs|browser)\/.*)$/.test(f) || /\.(ptau|zkey|wasm|ts)$/.test(f.replace(/\.d\.ts$/, '')));
    t.deepEqual(unwanted, [], 'nothing but dist/, package.json, README and the bin launcher');
    const tarball = join(work, packed.filename);

    // ---- a fresh project, installed offline while the devnet starts
    const dir = join(work, 'consumer');
    await mkdir(dir);
    devnetStarting = startDevnet({
      home: join(work, 'node'), blockTimeMs: 200, rpcAddress: '127.0.0.1:0', apiAddress: '127.0.0.1:0', logger: pino({ level: 'warn' }),
    });
    devnetStarting.catch(() => undefined);
    await install(dir, packed.filename, await readFile(tarball));
    await Promise.all([
      writeFile(join(dir, 'index.mjs'), ESM), writeFile(join(dir, 'index.cjs'), CJS), writeFile(join(dir, 'index.mts'), TS),
      writeFile(join(dir, 'index.cts'), CTS), writeFile(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG)), writeFile(join(dir, 'main.mjs'), BROWSER),
    ]);
    // The bin launcher npm linked says where the CLI lives instead of failing on missing sources.
    const bin = await run(join(dir, 'node_modules', '.bin', 'proofbook'), ['--help'], { cwd: dir }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    t.is(bin.code, 1);
    t.regex(bin.stderr, /runs from a checkout of the repository/);

    // Compile the TypeScript project and bundle the browser one while the devnet starts.
    const tsc = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir }).catch((e: { stdout?: string; message: string }) => {
      throw new Error(`the strict TypeScript project does not compile against the package:\n${e.stdout ?? e.message}`);
    });
    const bundle = build({
      absWorkingDir: dir, entryPoints: ['main.mjs'], outfile: join(dir, 'bundle.js'), bundle: true, platform: 'browser',
      format: 'esm', target: ['es2022'], minify: true, metafile: true, logLevel: 'silent',
    });
    devnet = await devnetStarting;
    await devnet.waitForHeight(1);
    const rpc = devnet.rpcUrl;
    const api = devnet.apiUrl!;
    const [to4, to7] = await Promise.all([address(5), address(8)]);

    // ---- Node: ES module, CommonJS, compiled TypeScript (run concurrently)
    await tsc;
    const [esm, cjs, ts, cts] = await Promise.all([
      node(dir, 'index.mjs', [rpc, DEVNET_MNEMONIC, to4]),
      node(dir, 'index.cjs', [rpc]),
      node(dir, join('out', 'index.mjs'), [rpc]),
      node(dir, join('out', 'index.cjs'), [rpc]),
    ]);
    t.true(BigInt(esm.height as string) >= 1n, 'ESM: height');
    const reader = await ProofbookQueryClient.connect(rpc);
    const circuitNames = (await reader.circuits()).circuits.map((c) => c.name);
    t.true(circuitNames.includes('hashchain'));
    t.deepEqual(esm.circuits, circuitNames, 'ESM: circuits');
    t.is(esm.code, 0, 'ESM: the bank send was included');
    t.is(esm.status, 'FULFILLED');
    t.regex(esm.url as string, /node_modules\/proofbook\/dist\/esm\/index\.js$/, 'ESM resolves the import condition');
    t.true(BigInt(cjs.height as string) >= 1n, 'CJS: height');
    t.is(cjs.protocolFeeBps, String((await reader.params()).market.protocolFeeBps), 'CJS: market params');
    t.is(cjs.submitRequest, '/proofbook.market.v1.MsgSubmitRequest');
    t.is(cjs.quote, 'function');
    t.regex(cjs.resolved as string, /node_modules\/proofbook\/dist\/cjs\/index\.js$/, 'CJS resolves the require condition');
    t.true(BigInt(ts.height as string) >= 1n, 'TS: height');
    t.is(ts.circuit, circuitNames[0]);
    t.is(ts.open, 0);
    t.true((ts.encoded as number) > 0);
    t.is(ts.status, 1);
    t.true(BigInt(cts.height as string) >= 1n, 'CommonJS TS: height');
    t.is(cts.open, 1);

    // The send the ESM script made, seen from here.
    const { client: stargate } = await connectQueryClient(rpc);
    const got4 = BigInt((await stargate.getBalance(to4, 'uproof')).amount);
    t.is(BigInt(esm.balance as string), got4, 'ESM: the balance it read is the chain\'s');

    // ---- browser: the bundle took the browser build and nothing Node-only
    const meta = (await bundle).metafile;
    const inputs = Object.keys(meta.inputs);
    t.true(inputs.some((f) => f.endsWith('node_modules/proofbook/dist/browser/index.js')), 'the bundle uses the browser entry');
    t.deepEqual(inputs.filter((f) => /@grpc\/|node_modules\/(ws|snarkjs|level|pino)\/|proofbook\/dist\/(esm|cjs)\//.test(f)), [], 'no grpc-js, ws, snarkjs or Node build in the bundle');
    const page = `<!doctype html><meta charset="utf-8"><title>sdk consumer</title><script type="module" src="/bundle.js"></script>`;
    const js = await readFile(join(dir, 'bundle.js'));
    t.log(`browser bundle ${js.length} B minified`);
    server = http.createServer((req, res) => {
      if (req.url === '/bundle.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(js); return; }
      res.writeHead(200, { 'content-type': 'text/html' }); res.end(page);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await tab.goto(origin);
    await tab.waitForFunction('window.consumerReady === true', undefined, { timeout: 60_000 });
    const out = await tab.evaluate('window.runConsumer(' + JSON.stringify({ rpc, api, mnemonic: DEVNET_MNEMONIC, to: to7 }) + ')') as {
      height: string; address: string; sendCode: number; sendHash: string; before: string; after: string; bondHeight: number; askId: string;
      asks: { id: string; price: string }[]; typeUrl: string; hasBuffer: boolean;
    };
    t.deepEqual(errors, [], 'no page errors');
    t.true(BigInt(out.height) >= 1n, 'browser: height over RPC');
    t.is(out.sendCode, 0, 'browser: the signed bank send was included');
    t.is(BigInt(out.after) - BigInt(out.before), 1234n, 'browser: REST shows the transfer');
    t.is(out.hasBuffer, false, 'the page has no Buffer polyfill');
    t.is(out.typeUrl, '/proofbook.market.v1.MsgPostAsk');
    // Checked from Node: the transfer, the bond and the ask are on chain.
    const sendTx = await stargate.getTx(out.sendHash);
    t.is(sendTx?.code, 0);
    t.is(BigInt((await stargate.getBalance(to7, 'uproof')).amount), BigInt(out.after));
    const prover = await reader.prover(out.address);
    t.is(prover.prover?.bonded?.find((c) => c.denom === 'uproof')?.amount ?? prover.prover?.bonded?.[0]?.amount, '1000000', 'the browser\'s bond');
    const asks = (await reader.asks({ prover: out.address })).asks;
    t.deepEqual(asks.map((a) => String(a.id)), [out.askId], 'the browser\'s ask');
    t.is(asks[0]!.price, '7000');
    reader.disconnect();
    stargate.disconnect();
  } finally {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    devnet ??= await devnetStarting?.catch(() => undefined);
    await devnet?.close();
    await rm(work, { recursive: true, force: true });
  }
});

test("the SDK's generated types (src/gen-sdk) are what `npm run proto` makes from proto/proofbook", async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'sdk-gen-'));
  try {
    await run(process.execPath, [join(root, 'node_modules', '@bufbuild', 'buf', 'bin', 'buf'), 'generate', '--template', 'buf.gen.sdk.yaml', '--path', 'proto/proofbook', '-o', out], { cwd: root });
    const files = ['base/v1/base.ts', 'bond/v1/bond.ts', 'market/v1/market.ts', 'verifier/v1/verifier.ts'];
    for (const f of files) {
      const fresh = await readFile(join(out, 'src', 'gen-sdk', 'proofbook', f), 'utf8');
      const committed = await readFile(join(root, 'src', 'gen-sdk', 'proofbook', f), 'utf8');
      t.true(fresh === committed, `src/gen-sdk/proofbook/${f} differs from proto/: run \`npm run proto\``);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
