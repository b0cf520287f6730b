/**
 * The explorer against a real CometBFT v0.38 node (the proofbook app behind the `cometbft` binary, launched as
 * `proofbook start` with its REST gateway), not the devnet: the page is served from another origin and pointed at the
 * node with `?api=…&rpc=…` (as for any node). In Chromium: the overview draws its first figures and then the rest, the
 * CometBFT websocket goes live and the header follows its blocks, a bank send made with cosmjs is found by search
 * and its tx page reads the node's GetTx; the account and request-list pages render. Needs the cometbft binary:
 * fails, never skips.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { SigningStargateClient } from '@cosmjs/stargate';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { chromium } from 'playwright-core';
import { explorerHandler } from '../app/explorer.js';
import { DEVNET_MNEMONIC } from '../genesis/index.js';
import { buildWeb } from '../scripts/build-web.js';
import { createNet } from '../scripts/cometbft-net.js';
import { NATIVE_DENOM } from '../src/types/coins.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

test('explorer against a real CometBFT node: overview, live height, a tx found by search, account and requests pages', async (t) => {
  t.timeout(240_000);
  if (!existsSync('/usr/bin/chromium')) throw new Error('this test needs Chromium at /usr/bin/chromium: apt-get install chromium (.ci/run installs it)');
  await buildWeb({ quiet: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-explorer-comet-'));
  const net = await createNet(dir, { validators: 1, app: 'proofbook', chainId: 'proofbook-explorer-1' });
  // The page from its own origin (a static host would do the same): it reads the node only through ?api= and ?rpc=.
  const serve = explorerHandler();
  const web = createServer((req, res) => { if (!serve(req, res)) { res.writeHead(404); res.end(); } });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  const webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  let client: SigningStargateClient | undefined;
  t.teardown(async () => {
    client?.disconnect();
    await browser.close();
    await new Promise<void>((resolve) => web.close(() => resolve()));
    await net.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await net.start();
  await net.waitForHeight(0, 2, 90_000);
  const api = net.apiUrl(0);
  const rpc = net.rpcUrl(0);

  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const base = `${webUrl}/?api=${encodeURIComponent(api)}&rpc=${encodeURIComponent(rpc)}`;
  await page.goto(`${base}#/`);
  await page.locator('[data-stat=fill-rate] .stat-value').filter({ hasText: /[0-9—]/ }).waitFor({ timeout: 60_000 });
  await page.locator('[data-stat=provers-active] .stat-value').filter({ hasText: /^[0-9]+$/ }).waitFor({ timeout: 60_000 });
  await page.locator('[data-live=live]').waitFor({ timeout: 60_000 });
  await page.locator('[data-height]').waitFor({ timeout: 60_000 });
  const h0 = Number((await page.locator('[data-height]').textContent())!.replace(/,/g, ''));
  t.true(h0 >= 2, `height ${h0}`);
  await page.waitForFunction(`Number(document.querySelector('[data-height]')?.textContent?.replace(/,/g, '')) > ${h0}`, undefined, { timeout: 60_000 });

  // A bank send with cosmjs; search finds it by hash and its page shows the result.
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(0), makeCosmoshubPath(1)] });
  const [a0, a1] = await wallet.getAccounts();
  client = await SigningStargateClient.connectWithSigner(rpc, wallet, { broadcastPollIntervalMs: 250, broadcastTimeoutMs: 60_000 });
  const fee = { amount: [{ denom: NATIVE_DENOM, amount: '2000' }], gas: '200000' };
  const sent = await client.sendTokens(a0!.address, a1!.address, [{ denom: NATIVE_DENOM, amount: '4321' }], fee, 'explorer');
  t.is(sent.code, 0, sent.rawLog);
  await page.locator('form.search input').fill(sent.transactionHash.toLowerCase());
  await page.locator('form.search input').press('Enter');
  await page.waitForURL(new RegExp(`#/tx/${sent.transactionHash}$`), { timeout: 30_000 });
  await page.locator('[data-tx-ok]').waitFor({ timeout: 30_000 });
  t.regex((await page.locator('.page').textContent())!, /4321/);

  await page.goto(`${base}#/account/${a1!.address}`);
  await page.locator('.page h1').filter({ hasText: /Account/ }).waitFor({ timeout: 30_000 });
  await page.locator('.page').filter({ hasText: /uproof|PROOF/ }).waitFor({ timeout: 30_000 });
  await page.goto(`${base}#/requests`);
  await page.locator('.page').filter({ hasText: /No requests/ }).waitFor({ timeout: 30_000 });
  t.deepEqual(errors, [], 'no uncaught errors in the page');
});
