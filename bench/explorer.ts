/**
 * `npm run bench -- explorer [--first-paint | --list] [--quick]`:
 *  - first paint: a devnet (500 ms blocks) whose genesis holds a market — 100 settled requests, 300 bonded provers
 *    each with an ask — and its REST gateway serving the explorer; in Chromium, the overview's first meaningful
 *    paint (`pb-first-data`) and all its figures drawn (`pb-all-data`), for a cold browser (a new Chromium process),
 *    an empty cache (a new browser context) and a reload, several runs each (median, max); and from Node, the REST
 *    time of the overview's first-paint queries against the queries it made before (the baseline, same devnet);
 *  - list: how the request list behaves with a large history. Two devnets, one with 100 settled requests in genesis
 *    (the baseline) and one with 100,000; in Chromium, the time from navigation to the first rows drawn for the
 *    request list's first, middle and last page and for the overview, plus the REST query times behind them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import { buildWeb } from '../scripts/build-web.js';
import { startExplorerDevnet } from '../test/helpers/explorer-api.js';
import { genesisWith } from '../test/helpers/explorer-genesis.js';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

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
          ['list, middle page (jump: offset)', `#/requests?page=${Math.ceil(pages / 2)}`, '[data-request]'],
          ['list, last page (jump: offset)', `#/requests?page=${pages}`, '[data-request]'],
          ['overview', '#/', '[data-stat=fill-rate]'],
        ] as const) {
          const s = Date.now();
          await page.goto(`${api.url}/${hash}`);
          await page.locator(sel).first().waitFor({ timeout: 60_000 });
          out[`browser: ${label} (ms to rows)`] = Date.now() - s;
        }
        // Paging with the pager's links (by key) from the middle page (the first, for a short list): older up to 5
        // times, click → rows drawn.
        const start = pages > 10 ? Math.ceil(pages / 2) : 1;
        await page.goto(`${api.url}/#/requests?page=${start}`);
        await page.locator('[data-request]').first().waitFor({ timeout: 60_000 });
        const steps: number[] = [];
        for (let i = 0; i < Math.min(5, pages - start); i++) {
          const before = await page.locator('[data-request]').first().getAttribute('data-request');
          const s = Date.now();
          await page.locator('nav.pager a[rel=next]').click();
          await page.locator(`[data-request="${Number(before) - 25}"]`).waitFor({ timeout: 60_000 });
          steps.push(Date.now() - s);
        }
        out['browser: list, older → from the middle page (key; ms to rows, median of ≤ 5)'] = [...steps].sort((a, b) => a - b)[Math.floor((steps.length - 1) / 2)]!;
      } finally { await browser.close(); }
    }
  } finally {
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  }
  return out;
}

const REQ = '/proofbook/market/v1/requests';
/** The overview's REST queries for its first paint, and (the baseline) all the queries its first paint waited on before. */
const FIRST_PAINT_QUERIES = [
  '/proofbook/market/v1/params', '/proofbook/market/v1/stats', `${REQ}?pagination.limit=10&pagination.reverse=true`, '/proofbook/verifier/v1/circuits?pagination.limit=200',
];
const BEFORE_QUERIES = [
  '/proofbook/market/v1/params', '/proofbook/market/v1/stats', `${REQ}?pagination.limit=100&pagination.reverse=true`,
  `${REQ}?status=REQUEST_STATUS_FULFILLED&pagination.limit=100&pagination.reverse=true`,
  '/proofbook/bond/v1/provers?pagination.limit=1000&pagination.count_total=true', '/proofbook/market/v1/asks?pagination.limit=1000',
  '/proofbook/verifier/v1/circuits?pagination.limit=200',
];

const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${Math.round(s[Math.floor((s.length - 1) / 2)]!)}, max ${Math.round(s[s.length - 1]!)} (n=${s.length})`;
};

const med = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!);

/** Navigation start → a performance mark, or NaN when the page never set it within the timeout. */
async function markAt(page: import('playwright-core').Page, name: string, timeout = 20_000): Promise<number> {
  try {
    await page.waitForFunction(`performance.getEntriesByName('${name}').length > 0`, undefined, { timeout });
    return Number(await page.evaluate(`performance.getEntriesByName('${name}')[0].startTime`));
  } catch { return NaN; }
}

async function firstPaint(runs: number): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'bench-explorer-fp-'));
  const devnet = await startExplorerDevnet({ home, blockTimeMs: 500, appState: genesisWith(100, 300), logger: pino({ level: 'warn' }) });
  const rows: [string, string][] = [];
  try {
    await devnet.waitForHeight(2);
    const url = `${devnet.apiUrl}/`;
    // REST, from Node: all of a page load's queries at once, as the page sends them (the node answers in turn).
    for (const [label, qs] of [['before (baseline): the 7 queries the first paint waited on', BEFORE_QUERIES], ['now: the first paint\'s 4 queries', FIRST_PAINT_QUERIES]] as const) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const s = performance.now();
        const bodies = await Promise.all(qs.map(async (q) => { const r = await fetch(`${devnet.apiUrl}${q}`); if (!r.ok) throw new Error(`${q}: ${r.status}`); return r.text(); }));
        times.push(performance.now() - s);
        bytes = bodies.reduce((a, b) => a + b.length, 0);
      }
      rows.push([`REST, ${label}, all answered (ms; ${bytes.toLocaleString('en')} bytes of JSON)`, stat(times)]);
    }
    const cold = { fmp: [] as number[], all: [] as number[] };
    const path = { html: [] as number[], js: [] as number[], boot: [] as number[], sent: [] as number[], rest: [] as number[] };
    /** Where a load's first paint went (Resource Timing, ms from navigation start). */
    const breakdown = async (page: import('playwright-core').Page) => {
      const r = await page.evaluate(`(() => {
        const r = performance.getEntriesByType('resource');
        const fd = performance.getEntriesByName('pb-first-data')[0]?.startTime ?? 0;
        const rest = r.filter((e) => /[/](proofbook|cosmos)[/]/.test(e.name) && e.responseEnd <= fd);
        return { html: performance.getEntriesByType('navigation')[0].responseEnd, js: Math.max(0, ...r.filter((e) => /app[.]js/.test(e.name)).map((e) => e.responseEnd)),
          boot: performance.getEntriesByName('pb-boot')[0]?.startTime ?? NaN, sent: Math.min(...rest.map((e) => e.startTime)), rest: Math.max(0, ...rest.map((e) => e.responseEnd)) };
      })()`) as Record<'html' | 'js' | 'boot' | 'sent' | 'rest', number>;
      for (const k of ['html', 'js', 'boot', 'sent', 'rest'] as const) path[k].push(r[k]);
    };
    for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
      try {
        const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
        await page.goto(url);
        cold.fmp.push(await markAt(page, 'pb-first-data'));
        cold.all.push(await markAt(page, 'pb-all-data'));
        await breakdown(page);
        if (process.env.BENCH_DEBUG) console.log(await page.evaluate(`JSON.stringify(performance.getEntriesByType('resource').map((e) => [e.name.replace(/^[^/]*[/][/][^/]*/, '').slice(0, 50), Math.round(e.startTime), Math.round(e.connectEnd), Math.round(e.requestStart), Math.round(e.responseStart), Math.round(e.responseEnd)]))`));
      } finally { await browser.close(); }
    }
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
    const empty = { fmp: [] as number[], all: [] as number[] };
    const reload = { fmp: [] as number[], all: [] as number[] };
    try {
      // one discarded load: Chromium's own first-navigation start-up is in the cold figures above
      const warmup = await (await browser.newContext()).newPage();
      await warmup.goto(url);
      await markAt(warmup, 'pb-first-data');
      for (let i = 0; i < runs; i++) {
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await ctx.newPage();
        await page.goto(url);
        empty.fmp.push(await markAt(page, 'pb-first-data'));
        empty.all.push(await markAt(page, 'pb-all-data'));
        await page.reload();
        reload.fmp.push(await markAt(page, 'pb-first-data'));
        reload.all.push(await markAt(page, 'pb-all-data'));
        await ctx.close();
      }
    } finally { await browser.close(); }
    const fmt = (xs: number[]) => (xs.some((x) => Number.isNaN(x)) ? `— (no mark: ${xs.filter((x) => !Number.isNaN(x)).length} of ${xs.length})` : stat(xs));
    for (const [label, m] of [['cold browser (new Chromium process)', cold], ['empty cache (new browser context)', empty], ['reload', reload]] as const) {
      rows.push([`browser, ${label}: first meaningful paint (ms)`, fmt(m.fmp)]);
      rows.push([`browser, ${label}: every overview figure drawn (ms)`, fmt(m.all)]);
    }
    rows.push(['cold browser, where the first paint went (ms from navigation start, medians)',
      `index.html ${med(path.html)}, app.js ${med(path.js)}, bundle running ${med(path.boot)}, first REST query sent ${med(path.sent)}, last first-paint REST answer ${med(path.rest)}`]);
  } finally {
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  }
  console.log('\nexplorer: overview first paint (devnet, 500 ms blocks, 100 settled requests, 300 provers with an ask each)');
  console.log('| what | measured |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
}

export async function run(flags: string[]): Promise<void> {
  await buildWeb({ quiet: true });
  const quick = flags.includes('--quick');
  if (!flags.includes('--list')) await firstPaint(quick ? 3 : 7);
  if (flags.includes('--first-paint')) return;
  const big = quick ? 10_000 : 100_000;
  const base = await measure(100);
  const large = await measure(big);
  console.log(`\nexplorer: request list with a large history (${big.toLocaleString('en')} vs 100 settled requests in genesis)`);
  console.log(`| what | 100 requests (baseline) | ${big.toLocaleString('en')} requests |\n|---|---|---|`);
  for (const k of Object.keys(large)) console.log(`| ${k} | ${base[k] ?? '—'} | ${large[k]} |`);
}
