/**
 * Acceptance test for the chain foundation: unmodified @cosmjs/stargate (SigningStargateClient over Comet38Client,
 * SIGN_MODE_DIRECT) sends uproof on
 *   1. the devnet started exactly as `npm start` does (`node bin/proofbook.mjs devnet …`: the compiled node), also through the
 *      `proofbook tx bank send` CLI with --output json, and
 *   2. a real single-validator CometBFT v0.38 node driving `proofbook start` (scripts/cometbft-net.ts).
 * The CometBFT binary is required: when it is missing the second test FAILS with install instructions.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { GasPrice, QueryClient, SigningStargateClient, StargateClient, setupTxExtension } from '@cosmjs/stargate';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { DEVNET_MNEMONIC, defaultGenesis, devnetAccounts } from '../genesis/index.js';
import { generateMnemonic, deriveAccount } from '../src/keyring/index.js';
import { createNet, findCometbft } from '../scripts/cometbft-net.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FEE = { amount: [{ denom: 'uproof', amount: '2000' }], gas: '200000' };

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    delete env.PROOFBOOK_NODE;
    delete env.PROOFBOOK_KEYRING_PASSPHRASE;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns `proofbook devnet` like `npm start` and resolves once it printed its banner. */
async function startDevnetCli(t: ExecutionContext, home: string, port: number): Promise<{ child: ChildProcess; stdout: () => string }> {
  const child = spawn(process.execPath, ['bin/proofbook.mjs', 'devnet', '--home', home, '--rpc-laddr', `127.0.0.1:${port}`, '--block-time', '200'], {
    cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  t.teardown(() => stopChild(child));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devnet did not start within 120 s\nstdout:\n${out}\nstderr:\n${err}`)), 120_000);
    const onData = () => {
      if (out.includes('Press Ctrl-C to stop')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`devnet exited early with code ${code}\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
  return { child, stdout: () => out };
}

async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

async function devnetWallet(n: number): Promise<DirectSecp256k1HdWallet> {
  return DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: Array.from({ length: n }, (_, i) => makeCosmoshubPath(i)) });
}

/** The cosmjs flow shared by both chains: send, then check balances and getTx agree. */
async function cosmjsSendFlow(t: ExecutionContext, rpcUrl: string, expectedChainId?: string): Promise<void> {
  const wallet = await devnetWallet(2);
  const [a0, a1] = await wallet.getAccounts();
  t.is(a0.address, devnetAccounts()[0].address, 'DEVNET_MNEMONIC derives the funded genesis accounts');
  const comet = await Comet38Client.connect(rpcUrl);
  const client = SigningStargateClient.createWithSigner(comet, wallet, { broadcastPollIntervalMs: 200, gasPrice: GasPrice.fromString('0.001uproof') });
  t.teardown(() => client.disconnect());
  if (expectedChainId) t.is(await client.getChainId(), expectedChainId);

  const recipient = (await deriveAccount(generateMnemonic())).address; // a brand-new account
  const before0 = BigInt((await client.getBalance(a0.address, 'uproof')).amount);
  t.true(before0 > 100_000n, `devnet0 is funded (${before0})`);
  t.is((await client.getBalance(recipient, 'uproof')).amount, '0');
  t.is(await client.getAccount(recipient), null);

  const r = await client.sendTokens(a0.address, recipient, [{ denom: 'uproof', amount: '12345' }], FEE, 'cosmjs acceptance');
  t.is(r.code, 0, r.rawLog);
  t.true(r.height > 0);
  t.true(r.gasUsed > 0n && r.gasUsed <= 200_000n, `gasUsed ${r.gasUsed}`);
  t.is(r.gasWanted, 200_000n);
  t.is((await client.getBalance(recipient, 'uproof')).amount, '12345');
  t.is(BigInt((await client.getBalance(a0.address, 'uproof')).amount), before0 - 12345n - 2000n);
  const acc = await client.getAccount(recipient);
  t.truthy(acc, 'the recipient account now exists');

  const tx = await client.getTx(r.transactionHash);
  t.truthy(tx);
  t.is(tx!.code, 0);
  t.is(tx!.height, r.height);
  t.is(tx!.gasUsed, r.gasUsed);
  t.is(tx!.hash, r.transactionHash);
  // cosmjs' TxExtension asks the same over abci_query (/cosmos.tx.v1beta1.Service/GetTx), which the app answers
  // from the node's tx index.
  const viaAbci = await QueryClient.withExtensions(comet, setupTxExtension).tx.getTx(r.transactionHash);
  t.is(viaAbci.txResponse?.txhash, r.transactionHash);
  t.is(viaAbci.txResponse?.height, BigInt(r.height));

  t.true((await client.getSequence(a0.address)).sequence >= 1, 'the sequence advanced');
}

/**
 * cosmjs' fee "auto": Simulate (empty fee, empty signature) times the default 1.4 multiplier must be enough gas.
 * Run last in each test so a failure here does not hide the other checks.
 */
async function cosmjsAutoFee(t: ExecutionContext, rpcUrl: string): Promise<void> {
  const wallet = await devnetWallet(2);
  const [a0, a1] = await wallet.getAccounts();
  const client = await SigningStargateClient.connectWithSigner(rpcUrl, wallet, { broadcastPollIntervalMs: 200, gasPrice: GasPrice.fromString('0.001uproof') });
  t.teardown(() => client.disconnect());
  const before = BigInt((await client.getBalance(a1.address, 'uproof')).amount);
  const msg = { typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: { fromAddress: a0.address, toAddress: a1.address, amount: [{ denom: 'uproof', amount: '1' }] } };
  const simulated = await client.simulate(a0.address, [msg], undefined);
  let r;
  try {
    r = await client.sendTokens(a0.address, a1.address, [{ denom: 'uproof', amount: '1' }], 'auto');
  } catch (e) {
    t.fail(`cosmjs fee "auto" (Simulate = ${simulated} gas, x1.4 = ${Math.round(simulated * 1.4)}) was not enough: ${(e as Error).message}. ` +
      'The app\'s simulation must charge the gas a real tx spends (e.g. the fee deduction, which it skips when the simulated tx carries no fee).');
    return;
  }
  t.is(r.code, 0, r.rawLog);
  t.true(r.gasWanted >= r.gasUsed, `gas wanted ${r.gasWanted} >= used ${r.gasUsed}`);
  t.is(BigInt((await client.getBalance(a1.address, 'uproof')).amount), before + 1n);
}

test('devnet as `npm start` runs it: cosmjs SigningStargateClient send, balances, getTx; CLI tx bank send --output json', async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cosmjs-devnet-'));
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
  const port = await freePort();
  const { child, stdout } = await startDevnetCli(t, home, port);
  const rpcUrl = `http://127.0.0.1:${port}`;
  t.true(stdout().includes(rpcUrl), 'the banner shows the RPC URL');
  for (const a of devnetAccounts()) t.true(stdout().includes(a.address), `the banner lists ${a.address}`);

  await cosmjsSendFlow(t, rpcUrl);

  // --- the same through the CLI: key from the devnet mnemonic (test backend), send, JSON result.
  const cliHome = path.join(home, 'cli');
  const imp = await cli(['keys', 'import', 'sender', '--home', cliHome, '--keyring-backend', 'test'], { input: DEVNET_MNEMONIC });
  t.is(imp.code, 0, imp.stderr);
  const to = (await deriveAccount(generateMnemonic())).address;
  const send = await cli(['tx', 'bank', 'send', 'sender', to, '777uproof', '--fees', '2000uproof', '--memo', 'from the cli', '--node', rpcUrl, '--home', cliHome, '--output', 'json']);
  t.is(send.code, 0, send.stderr);
  const res = JSON.parse(send.stdout) as { txhash: string; height: number; code: number; gas_used: string; gas_wanted: string };
  t.is(res.code, 0);
  t.regex(res.txhash, /^[0-9A-F]{64}$/);
  t.true(res.height > 0);
  t.true(BigInt(res.gas_used) > 0n);

  const q = await StargateClient.connect(rpcUrl);
  t.teardown(() => q.disconnect());
  t.is((await q.getBalance(to, 'uproof')).amount, '777');
  const tx = await q.getTx(res.txhash);
  t.is(tx?.height, res.height);
  t.is(tx?.gasUsed.toString(), res.gas_used);

  // Queries through the CLI agree.
  const bal = await cli(['query', 'balance', to, '--denom', 'uproof', '--node', rpcUrl, '-o', 'json']);
  t.is(bal.code, 0, bal.stderr);
  t.deepEqual((JSON.parse(bal.stdout) as { balances: unknown[] }).balances, [{ denom: 'uproof', amount: '777' }]);
  const qtx = await cli(['query', 'tx', res.txhash, '--node', rpcUrl, '-o', 'json']);
  t.is(qtx.code, 0, qtx.stderr);
  const qtxData = JSON.parse(qtx.stdout) as { height: number; code: number; memo: string; messages: string[] };
  t.is(qtxData.height, res.height);
  t.is(qtxData.memo, 'from the cli');
  t.deepEqual(qtxData.messages, ['/cosmos.bank.v1beta1.MsgSend']);
  const st = await cli(['status', '--node', rpcUrl, '-o', 'json']);
  t.is(st.code, 0, st.stderr);
  t.true((JSON.parse(st.stdout) as { latest_block_height: number }).latest_block_height >= res.height);

  // Gas auto + gas prices through the CLI.
  const auto = await cli(['tx', 'bank', 'send', 'sender', to, '3uproof', '--gas', 'auto', '--gas-prices', '0.001uproof', '--node', rpcUrl, '--home', cliHome, '-o', 'json']);
  t.is(auto.code, 0, auto.stderr);
  t.is((await q.getBalance(to, 'uproof')).amount, '780');

  // A key that holds 780uproof tries to send 10^9: exit 1 with the app's log, balance untouched.
  const poorMnemonic = generateMnemonic();
  const poorAddr = (await deriveAccount(poorMnemonic)).address;
  const fund = await cli(['tx', 'bank', 'send', 'sender', poorAddr, '5000uproof', '--fees', '2000uproof', '--node', rpcUrl, '--home', cliHome, '-o', 'json']);
  t.is(fund.code, 0, fund.stderr);
  t.is((await cli(['keys', 'import', 'poor', '--home', cliHome, '--keyring-backend', 'test'], { input: poorMnemonic })).code, 0);
  const tooMuch = await cli(['tx', 'bank', 'send', 'poor', to, '1000000000uproof', '--fees', '2000uproof', '--node', rpcUrl, '--home', cliHome]);
  t.is(tooMuch.code, 1, tooMuch.stdout + tooMuch.stderr);
  t.regex(tooMuch.stderr, /insufficient funds/i);
  t.is((await q.getBalance(to, 'uproof')).amount, '780');

  // Unknown key and unreachable node: the error says what to do.
  const unknownKey = await cli(['tx', 'bank', 'send', 'nobody', to, '1uproof', '--fees', '2000uproof', '--node', rpcUrl, '--home', cliHome]);
  t.is(unknownKey.code, 4);
  t.regex(unknownKey.stderr, /keys list/);
  const deadPort = await freePort();
  const down = await cli(['status', '--node', `http://127.0.0.1:${deadPort}`]);
  t.is(down.code, 3);
  t.regex(down.stderr, /is the node running\? start one with `npm start`/);

  await cosmjsAutoFee(t, rpcUrl);

  // Ctrl-C / SIGTERM stops the devnet cleanly.
  t.is(await stopChild(child), 0);
});

test('real single-node CometBFT v0.38 driving `proofbook start`: the same cosmjs flow', async (t) => {
  await findCometbft(); // throws "CometBFT v0.38.x binary not found … npm run install-cometbft": the test fails, never skips
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cosmjs-comet-'));
  const chainId = 'proofbook-cosmjs-1';
  const netw = await createNet(dir, { validators: 1, appState: defaultGenesis(), chainId, launcher: 'cli' });
  t.teardown(async () => {
    await netw.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await netw.start();
  await netw.waitForHeight(0, 2, 120_000);
  await cosmjsSendFlow(t, netw.rpcUrl(0), chainId);
  await cosmjsAutoFee(t, netw.rpcUrl(0));
  await restReads(t, netw.apiUrl(0), netw.rpcUrl(0), chainId);
});

/** Ping.pub-style reads through `proofbook start`'s REST gateway only, checked against the CometBFT node itself. */
async function restReads(t: ExecutionContext, api: string, rpcUrl: string, chainId: string): Promise<void> {
  const get = async (p: string): Promise<any> => {
    const r = await fetch(api + p, { signal: AbortSignal.timeout(30_000) });
    t.is(r.status, 200, `${p}: ${r.status}`);
    return r.json();
  };
  const rpc = async (m: string, params: Record<string, string> = {}): Promise<any> =>
    ((await (await fetch(rpcUrl, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: m, params }) })).json()) as { result: unknown }).result;
  const addr = devnetAccounts()[0].address;
  t.true(BigInt((await get(`/cosmos/bank/v1beta1/balances/${addr}/by_denom?denom=uproof`)).balance.amount) > 0n);
  t.is((await get(`/cosmos/auth/v1beta1/accounts/${addr}`)).account.address, addr);
  t.is((await get('/cosmos/base/tendermint/v1beta1/node_info')).default_node_info.network, chainId);
  const latest = await get('/cosmos/base/tendermint/v1beta1/blocks/latest');
  const h = latest.block.header.height as string;
  const cometBlock = await rpc('block', { height: h });
  t.is(latest.block_id.hash, Buffer.from(cometBlock.block_id.hash, 'hex').toString('base64'), 'the REST block is the CometBFT block');
  const vs = await get('/cosmos/base/tendermint/v1beta1/validatorsets/latest');
  const cv = await rpc('validators');
  t.deepEqual(vs.validators.map((v: any) => v.pub_key.key), cv.validators.map((v: any) => v.pub_key.value));
  t.is((await get('/cosmos/base/node/v1beta1/config')).minimum_gas_price, '0.001000000000000000uproof');
  const txs = await get(`/cosmos/tx/v1beta1/txs?query=${encodeURIComponent(`message.sender='${addr}'`)}&limit=1`);
  t.true(txs.tx_responses.length === 1);
  const one = await get(`/cosmos/tx/v1beta1/txs/${txs.tx_responses[0].txhash}`);
  t.is(one.tx_response.code, 0);
}
