/**
 * The request list with a large history, in a real Chromium: two devnets side by side, one whose genesis holds 250
 * settled requests and one with 20,000 (written by the app's own InitChain, test/helpers/explorer-genesis.ts). On
 * each, the list opens on its newest 25, shows the total, then pages older six times and newer twice with its pager
 * links, steps taken alternately on the small and the large history so that the machine's load hits both alike.
 * Checks: every page shows exactly the 25 right rows; the page only ever asks the node for one page (limit 25, by
 * pagination key, never by offset) and counts the total once; and the time per page with 20,000 requests stays
 * within a generous multiple of the time with 250 (ratios, not absolute times: the CI machine is loaded). A jump to
 * the last page (by offset, the one path whose node cost grows with the history) shows the oldest rows. Saves a
 * screenshot of the large list's page 5 to results/explorer/requests-large.png.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb } from '../scripts/build-web.js';
import { startExplorerDevnet } from './helpers/explorer-api.js';
import { genesisWith } from './helpers/explorer-genesis.js';

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'explorer');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SMALL = 250;
const LARGE = 20_000;
const PAGE = 25;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** The ids of the rows on screen, in order. */
async function rowIds(page: Page): Promise<number[]> {
  return (await page.locator('table.requests tbody tr[data-request]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-request')))));
}

/** Clicks a pager link and waits for the page whose newest row is `firstId`; the time from click to rows drawn. */
async function step(page: Page, rel: 'next' | 'prev', firstId: number): Promise<number> {
  const t0 = Date.now();
  await page.locator(`nav.pager a[rel=${rel}]`).click();
  await page.locator(`table.requests tr[data-request="${firstId}"]`).waitFor({ timeout: 60_000 });
  return Date.now() - t0;
}

test('explorer request list: key-paged on the node, 25 rows a page, as fast with 20,000 requests as with 250', async (t) => {
  t.timeout(240_000);
  if (!existsSync('/usr/bin/chromium')) throw new Error('this test needs Chromium at /usr/bin/chromium: apt-get install chromium (.ci/run installs it)');
  await buildWeb({ quiet: true });
  const home = await mkdtemp(join(tmpdir(), 'explorer-large-'));
  const logger = pino({ level: 'warn' });
  const started = Date.now();
  const [small, large] = await Promise.all([
    startExplorerDevnet({ home: join(home, 'small'), blockTimeMs: 1000, appState: genesisWith(SMALL), logger }),
    startExplorerDevnet({ home: join(home, 'large'), blockTimeMs: 1000, appState: genesisWith(LARGE), logger }),
  ]);
  let browser: Browser | undefined;
  try {
    await Promise.all([small.waitForHeight(1), large.waitForHeight(1)]);
    t.log(`two devnets (${SMALL} and ${LARGE} requests in genesis) up in ${Date.now() - started} ms`);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const sides = await Promise.all([[small, SMALL], [large, LARGE]].map(async ([devnet, n]) => {
      const page = await (await browser!.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      const asked: string[] = [];
      page.on('request', (r) => { if (r.url().includes('/proofbook/market/v1/requests')) asked.push(decodeURIComponent(r.url())); });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      return { devnet: devnet as typeof small, n: n as number, page, asked, errors, times: [] as number[] };
    }));

    // Page 1: the newest 25, and the total once it is counted.
    for (const s of sides) {
      await s.page.goto(`${s.devnet.apiUrl}/#/requests`);
      await s.page.locator(`table.requests tr[data-request="${s.n}"]`).waitFor({ timeout: 60_000 });
      t.deepEqual(await rowIds(s.page), Array.from({ length: PAGE }, (_, i) => s.n - i));
      await s.page.locator('[data-pager]').filter({ hasText: `of ${Math.ceil(s.n / PAGE).toLocaleString('en')} · ${s.n.toLocaleString('en')} requests` }).waitFor({ timeout: 60_000 });
    }

    // Six pages older, then two newer, alternating between the two histories.
    const firstOf = (n: number, pageNo: number) => n - (pageNo - 1) * PAGE;
    const plan: ['next' | 'prev', number][] = [['next', 2], ['next', 3], ['next', 4], ['next', 5], ['next', 6], ['next', 7], ['prev', 6], ['prev', 5]];
    for (const [rel, pageNo] of plan) {
      for (const s of sides) {
        s.times.push(await step(s.page, rel, firstOf(s.n, pageNo)));
        t.deepEqual(await rowIds(s.page), Array.from({ length: PAGE }, (_, i) => firstOf(s.n, pageNo) - i), `${s.n} requests, page ${pageNo}`);
        t.regex((await s.page.locator('[data-pager]').textContent())!, new RegExp(`^page ${pageNo} of`));
      }
    }

    // What the page asked the node: one page at a time by key (the pager) — no offset, no limit above 25 — and the
    // total (count_total, which walks the whole index) once.
    for (const s of sides) {
      const rows = s.asked.filter((u) => !u.includes('count_total=true'));
      const totals = s.asked.filter((u) => u.includes('count_total=true'));
      t.is(totals.length, 1, `total counted once: ${totals.join(' ')}`);
      t.true(rows.every((u) => /pagination\.limit=25(&|$)/.test(u)), rows.join('\n'));
      t.true(rows.every((u) => !/pagination\.offset=[1-9]/.test(u)), `no offset paging: ${rows.filter((u) => /offset=[1-9]/.test(u)).join(' ')}`);
      t.true(rows.filter((u) => u.includes('pagination.key=')).length >= plan.length, 'the pager pages by key');
    }

    await mkdir(SHOTS, { recursive: true });
    await sides[1]!.page.screenshot({ path: join(SHOTS, 'requests-large.png'), fullPage: true });
    const [ms, ml] = [median(sides[0]!.times), median(sides[1]!.times)];
    t.log(`time per page, click → rows drawn (ms): ${SMALL} requests ${JSON.stringify(sides[0]!.times)} median ${ms}; ${LARGE} requests ${JSON.stringify(sides[1]!.times)} median ${ml}`);
    // 80× the history. What pins the node's cost per page is the check above (key paging, limit 25); this one
    // catches a page whose time follows the history (fetching or scanning it), with room for a loaded CI machine:
    // at most 4× the small history's median plus 500 ms.
    t.true(ml <= 4 * ms + 500, `median time per page: ${ml} ms with ${LARGE} requests vs ${ms} ms with ${SMALL}`);

    // A jump to the last page (by offset): the oldest rows.
    const big = sides[1]!;
    const t0 = Date.now();
    await big.page.goto(`${big.devnet.apiUrl}/#/requests?page=${LARGE / PAGE}`);
    await big.page.locator('table.requests tr[data-request="1"]').waitFor({ timeout: 60_000 });
    t.deepEqual(await rowIds(big.page), Array.from({ length: PAGE }, (_, i) => PAGE - i));
    t.is(await big.page.locator('nav.pager a[rel=next]').count(), 0, 'no older page after the last');
    t.log(`jump to page ${LARGE / PAGE} (offset ${LARGE - PAGE}) with ${LARGE} requests: ${Date.now() - t0} ms`);
    for (const s of sides) t.deepEqual(s.errors, [], 'no uncaught errors in the page');
  } finally {
    await browser?.close();
    await Promise.all([small.close(), large.close()]);
    await rm(home, { recursive: true, force: true });
  }
});
