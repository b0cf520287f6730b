/**
 * The simulator's unilateral-deviation check (sim/deviation.ts): the deviator sample, that only the deviator's ask
 * changes (a "deviation" to its own ask earns exactly nothing), an ask nobody can pay wins nothing, the rows it
 * reports, and the scenario's refusals.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario, type Scenario } from '../sim/scenario.js';
import { smallScenario } from './helpers/sim-scenario.js';
import { buildWorld } from '../sim/agents.js';
import { runOutcome } from '../sim/run.js';
import { deviationCsv, deviationTable, deviatorsOf, runDeviations, summarizeDeviations, withMarkup } from '../sim/deviation.js';
import { profitOf } from '../sim/metrics.js';

/** The simulator tests' small market, shorter, with a third under-bidding and a deviation section. */
function small(over: Partial<Scenario> = {}): Scenario {
  return smallScenario({
    name: 'dev-test',
    seed: 3,
    blocks: 40,
    drainBlocks: 30,
    strategies: [
      { kind: 'truthful', share: 2, markupBps: 1000 },
      { kind: 'under', share: 1, markupBps: -2000 },
    ],
    requesters: [{ name: 'app', count: 4, ratePerBlock: 0.8, valuePerMConstraints: 12000, window: 40, lifetime: 80 }],
    mechanisms: ['proofbook', 'greedy'],
    // +100000 %: 1,001x the cost, above every requester's value (12,000 per million constraints) for every prover here
    deviation: { markupsBps: [-2000, 1000, 10_000_000], deviators: 3 },
    ...over,
  });
}

test('deviatorsOf: k distinct provers in index order, a pure function of (seed, prover count)', (t) => {
  const a = deviatorsOf(5, 16, 4);
  t.is(a.length, 4);
  t.is(new Set(a).size, 4);
  t.deepEqual(a, [...a].sort((x, y) => x - y));
  t.true(a.every((i) => Number.isInteger(i) && i >= 0 && i < 16));
  t.deepEqual(deviatorsOf(5, 16, 4), a);
  t.deepEqual(deviatorsOf(5, 6, 6), [0, 1, 2, 3, 4, 5]);
  // the seed moves the sample (not one fixed set for every seed)
  const sets = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => deviatorsOf(s, 16, 4).join(',')));
  t.true(sets.size > 1);
});

test('withMarkup changes the one prover\'s ask and nothing else, and leaves the world as drawn untouched', (t) => {
  const w = buildWorld(small(), 3, 6);
  const markups = w.provers.map((p) => p.markupBps);
  const d = withMarkup(w, 2, 4321);
  t.is(d.provers[2].markupBps, 4321);
  t.deepEqual(w.provers.map((p) => p.markupBps), markups);
  t.not(markups[2], 4321);
  for (const p of d.provers) if (p.idx !== 2) t.is(p, w.provers[p.idx]);
  t.is(d.jobs, w.jobs);
  t.deepEqual({ ...d.provers[2], markupBps: w.provers[2].markupBps }, w.provers[2]);
});

test('a deviation to the ask a prover already has changes nothing: the comparison isolates the ask', async (t) => {
  const w = buildWorld(small(), 3, 6);
  const base = (await runOutcome(w, 'proofbook')).outcome;
  t.true(base.proverWins.reduce((a, b) => a + b, 0) > 0);
  const same = (await runOutcome(withMarkup(w, 1, w.provers[1].markupBps), 'proofbook')).outcome;
  t.deepEqual(w.provers.map((_, i) => profitOf(same, i)), w.provers.map((_, i) => profitOf(base, i)));
  t.deepEqual(same.proverWins, base.proverWins);
});

test('runDeviations: a row per deviator, mechanism and markup other than its own; an ask nobody can pay wins nothing', async (t) => {
  const s = small();
  const r = await runDeviations(s, { seeds: 2 });
  t.deepEqual(r.seeds, [3, 4]);
  t.is(r.invariantFailures.length, 0);
  t.true(r.invariantBlocks > 0);
  for (const sd of r.seeds) {
    const w = buildWorld(s, sd, 6);
    for (const m of ['proofbook', 'greedy'] as const) {
      for (const i of deviatorsOf(sd, 6, 3)) {
        const p = w.provers[i];
        const rows = r.deviations.filter((d) => d.seed === sd && d.mechanism === m && d.prover === p.name);
        t.deepEqual(rows.map((d) => d.markupBps), s.deviation!.markupsBps.filter((x) => x !== p.markupBps), `${m} ${p.name}`);
        for (const d of rows) t.is(d.baseMarkupBps, p.markupBps);
      }
    }
  }
  const priced = r.deviations.filter((d) => d.markupBps === 10_000_000);
  t.is(priced.length, 2 * 2 * 3);
  for (const d of priced) {
    t.is(d.wins, 0);
    t.is(d.profit, 0);
  }
  t.true(priced.some((d) => d.baseWins > 0), 'some deviator won work before pricing itself out');
  const sum = summarizeDeviations(r).find((x) => x.mechanism === 'proofbook' && x.markupBps === 10_000_000)!;
  t.is(sum.deviations, 6);
  t.is(sum.wins, 0);
  // pricing itself out gains exactly what the prover was losing, if it was losing (an under-bidder can be)
  t.is(sum.gains, priced.filter((d) => d.mechanism === 'proofbook' && d.baseProfit < 0).length);
  t.is(sum.losses, priced.filter((d) => d.mechanism === 'proofbook' && d.baseProfit > 0).length);
  const mean = priced.filter((d) => d.mechanism === 'proofbook').reduce((a, d) => a + (d.profit - d.baseProfit), 0) / 6;
  t.true(Math.abs(sum.gain.mean - mean) < 1e-6, 'two seeds with three deviators each: the mean of seed means is the mean');
  const text = deviationTable(r);
  t.true(text.includes('unilateral deviations'));
  t.true(text.includes('+100000 %'));
  t.is(deviationCsv(r).trim().split('\n').length, r.deviations.length + 1);
});

test('runDeviations refuses rows that do not read asks, and scenarios with a malformed deviation section', async (t) => {
  await t.throwsAsync(() => runDeviations(small(), { mechanisms: ['racing'] }), { message: /does not read asks/ });
  await t.throwsAsync(() => runDeviations({ ...small(), deviation: undefined }), { message: /no deviation section/ });
  t.throws(() => small({ deviation: { markupsBps: [], deviators: 1 } }), { message: /1-8 markups/ });
  t.throws(() => small({ deviation: { markupsBps: [500, 500], deviators: 1 } }), { message: /repeat/ });
  t.throws(() => small({ deviation: { markupsBps: [-10000], deviators: 1 } }), { message: /> -10000/ });
  t.throws(() => small({ deviation: { markupsBps: [500], deviators: 7 } }), { message: /exceeds the prover count 6/ });
  t.throws(() => small({ deviation: { markupsBps: [500], deviators: 0 } }), { message: /deviation.deviators/ });
});

test('npm run simulate on a deviation scenario prints the deviation table and writes one CSV row per deviation', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-dev-'));
  const file = join(dir, 'dev.json');
  writeFileSync(file, JSON.stringify(small()));
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'sim/main.ts', '--scenario', file, '--out', dir, '--quiet'], { encoding: 'utf8' });
  t.regex(out, /dev-test: unilateral deviations \(seed 3;/);
  t.regex(out, /invariants: every one held after each of \d+ blocks/);
  const csv = readFileSync(join(dir, 'dev-test-seed3-deviations.csv'), 'utf8').trim().split('\n');
  t.is(csv[0].split(',')[10], 'gain');
  // 2 mechanisms x 3 deviators x the 2 or 3 markups that differ from each one's own
  t.true(csv.length - 1 >= 2 * 3 * 2 && csv.length - 1 <= 2 * 3 * 3);
});

test('the shipped scenarios/deviation.json is the spread-truthful world with a deviation section', (t) => {
  const d = loadScenario('scenarios/deviation.json');
  const base = loadScenario('scenarios/spread-truthful.json');
  t.deepEqual(d.deviation, { markupsBps: [-2000, 0, 2500, 5000], deviators: 4 });
  t.deepEqual(d.mechanisms, ['proofbook', 'greedy']);
  t.deepEqual({ ...d, name: base.name, description: base.description, mechanisms: base.mechanisms, deviation: undefined }, { ...base, deviation: undefined });
});
