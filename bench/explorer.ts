/**
 * `npm run bench -- explorer`: how the explorer's request list behaves with a large history. Two devnets, one with
 * 100 settled requests in genesis (the baseline) and one with 100,000, each with its REST gateway serving the
 * explorer; in Chromium (playwright-core), the time from navigation to the first rows drawn for the request list's
 * first, middle and last page and for the overview, plus the REST query times behind them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import { defaultGenesis } from '../genesis/index.js';
import { buildWeb } from '../scripts/build-web.js';
import { CIRCUIT } from '../src/worker/testing.js';
import { startExplorerDevnet } from '../test/helpers/explorer-api.js';

const REQUESTER = 'proof1rn92uy79tup5dcvfhw35rvxc6zz4595npj74uf';
const PROVER = 'proof1ydrtt8crxezy2jam44r7tm8mmt2s22hktu94nm';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

function genesisWith(n: number): object {
  const g = defaultGenesis() as Record<string, any>;
  const requests = [];
  for (let i = 1; i <= n; i++) {
    requests.push({
      id: String(i), requester: REQUESTER, circuit_id: CIRCUIT, input_inline: Buffer.from(`{"preimage":"${i}","nonce":"1"}`).toString('base64'),
      min_fee: '1000', max_fee: '1000', ramp_blocks: '0', proving_window: '20', expiry_height: '100', min_collateral: '0', submitted_height: '0',
      status: 'REQUEST_STATUS_FULFILLED', escrow: '0', fulfilled_height: '0', paid_price: '1000', assignments_count: 1,
      history: [{ height: '0', status: 'REQUEST_STATUS_OPEN', event: 'submitted', prover: '', amount: '1000uproof' }, { height: '0', status: 'REQUEST_STATUS_FULFILLED', event: 'fulfilled', prover: PROVER, amount: '1000' }],
    });
  }
  g.market = { ...g.market, params: { ...g.market.params, settled_retention_blocks: '0' }, requests, next_request_id: String(n + 1) };
  return g;
}

async function measure(n: number): Promise<Record<string, number>> {
  const home = await mkdtemp(join(tmpdir(), 'bench-explorer-'));
  const t0 = Date.now();
  const devnet = await startExplorerDevnet({ home, blockTimeMs: 1000, appState: genesisWith(n), logger: pino({ level: 'warn' }) });
  const out: Record<string, number> = {};
  try {
    await devnet.waitForHeight(1);
    out['genesis + first block (ms)'] = Date.now() - t0;
    const api = { url: devnet.apiUrl };
    {
      const pages = Math.ceil(n / 25);
      for (const [label, q] of [['REST first page', 'pagination.limit=25&pagination.reverse=true'], ['REST last page', `pagination.limit=25&pagination.reverse=true&pagination.offset=${(pages - 1) * 25}`], ['REST count_total', 'pagination.limit=1&pagination.count_total=true']] as const) {
        const s = performance.now();
        for (let i = 0; i < 5; i++) await (await fetch(`${api.url}/proofbook/market/v1/requests?${q}`)).json();
        out[`${label} (ms, mean of 5)`] = Math.round((performance.now() - s) / 5);
      }
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
      try {
        const page = await browser.newPage();
        // Warm-up (discarded): Chromium's first navigation pays its own start-up.
        await page.goto(`${api.url}/#/settings`);
        await page.locator('form.settings').waitFor({ timeout: 60_000 });
        for (const [label, hash, sel] of [
          ['list, first page', '#/requests', '[data-request]'],
          ['list, middle page', `#/requests?page=${Math.ceil(pages / 2)}`, '[data-request]'],
          ['list, last page', `#/requests?page=${pages}`, '[data-request]'],
          ['overview', '#/', '[data-stat=fill-rate]'],
        ] as const) {
          const s = Date.now();
          await page.goto(`${api.url}/${hash}`);
          await page.locator(sel).first().waitFor({ timeout: 60_000 });
          out[`browser: ${label} (ms to rows)`] = Date.now() - s;
        }
      } finally { await browser.close(); }
    }
  } finally {
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  }
  return out;
}

export async function run(flags: string[]): Promise<void> {
  await buildWeb({ quiet: true });
  const big = flags.includes('--quick') ? 10_000 : 100_000;
  const base = await measure(100);
  const large = await measure(big);
  console.log(`\nexplorer: request list with a large history (${big.toLocaleString('en')} vs 100 settled requests in genesis)`);
  console.log(`| what | 100 requests (baseline) | ${big.toLocaleString('en')} requests |\n|---|---|---|`);
  for (const k of Object.keys(large)) console.log(`| ${k} | ${base[k] ?? '—'} | ${large[k]} |`);
}
