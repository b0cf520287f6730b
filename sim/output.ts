/** Terminal table, CSV and SVG plots of a scenario result: every figure as the mean over seeds with a 95 % interval. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { profitOf, type Metrics } from './metrics.js';
import type { Run, ScenarioResult } from './run.js';
import { barChart, lineChart } from './svg.js';

export const CSV_FIELDS: readonly (keyof Metrics)[] = [
  'mechanism', 'provers', 'requests', 'delivered', 'expired', 'fillRate', 'resourceCostPerProof', 'pricePerProof', 'computationsPerProof',
  'assignP50', 'assignP99', 'proofP50', 'proofP99', 'allocativeEfficiency', 'resourceEfficiency', 'efficiency', 'profitMin', 'profitMedian', 'profitMax',
  'losingProvers', 'hhi', 'benchmarkHhi', 'frontierPricePerProof', 'frontierRatio', 'frontierPremium', 'frontierScheduleRatio', 'frontierExact', 'efficiencyBoundAtCap', 'efficiencyScheduleAtCap', 'censoredP99Ratio', 'top50', 'winners', 'censoredRequests', 'censoredFillRate', 'otherFillRate', 'censoredP50', 'censoredP99', 'otherP99',
  'slashedPerRequest', 'compensationPerRequest', 'forfeitedPerRequest', 'participants', 'racedPerRequest', 'outracedHonest', 'reassignments', 'overValue', 'invariantBlocks', 'invariantFailures',
];

function cell(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '';
    return Number.isInteger(v) ? String(v) : v.toFixed(4);
  }
  return String(v);
}

/** One row per run (seed, coalition share, prover count, mechanism). */
export function toCsv(r: ScenarioResult): string {
  const lines = [['scenario', 'seed', 'coalition', ...CSV_FIELDS].join(',')];
  for (const run of r.runs) lines.push([r.scenario.name, run.seed, run.coalition, ...CSV_FIELDS.map((f) => cell(run.metrics[f]))].join(','));
  return lines.join('\n') + '\n';
}

// ---- statistics over seeds ------------------------------------------------------------------------------------------

/** Two-sided 95 % Student t quantiles by degrees of freedom (1..30; 1.96 beyond). */
const T95 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export interface Estimate {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Mean and 95 % confidence interval of the mean (t distribution) over the finite values. */
export function estimate(xs: readonly number[]): Estimate {
  const v = xs.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, lo: NaN, hi: NaN, n };
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = (T95[n - 1] ?? 1.96) * (sd / Math.sqrt(n));
  return { mean, lo: mean - half, hi: mean + half, n };
}

export interface Group {
  mechanism: string;
  provers: number;
  coalition: number;
  runs: Run[];
}

/** Runs grouped by (coalition share, prover count, mechanism), in run order. */
export function groups(r: ScenarioResult): Group[] {
  const out: Group[] = [];
  const byKey = new Map<string, Group>();
  for (const run of r.runs) {
    const k = `${run.coalition}/${run.metrics.provers}/${run.metrics.mechanism}`;
    let g = byKey.get(k);
    if (!g) {
      g = { mechanism: run.metrics.mechanism, provers: run.metrics.provers, coalition: run.coalition, runs: [] };
      byKey.set(k, g);
      out.push(g);
    }
    g.runs.push(run);
  }
  return out;
}

export const est = (g: Group, f: (m: Metrics) => number): Estimate => estimate(g.runs.map((x) => f(x.metrics)));

/** The figures of the summary table and the aggregate CSV. */
export const FIGURES: { key: string; label: string; f: (m: Metrics) => number; fmt: 'int' | 'pct' | 'x2' }[] = [
  { key: 'price', label: 'price/proof', f: (m) => m.pricePerProof, fmt: 'int' },
  { key: 'resource', label: 'compute/proof', f: (m) => m.resourceCostPerProof, fmt: 'int' },
  { key: 'comps', label: 'comps/proof', f: (m) => m.computationsPerProof, fmt: 'x2' },
  { key: 'p50', label: 'proof p50', f: (m) => m.proofP50, fmt: 'int' },
  { key: 'p99', label: 'proof p99', f: (m) => m.proofP99, fmt: 'int' },
  { key: 'fill', label: 'fill', f: (m) => m.fillRate, fmt: 'pct' },
  { key: 'efficiency', label: 'efficiency', f: (m) => m.efficiency, fmt: 'pct' },
  { key: 'hhi', label: 'HHI', f: (m) => m.hhi / 10_000, fmt: 'x2' },
  { key: 'benchmarkHhi', label: 'optimum HHI', f: (m) => m.benchmarkHhi / 10_000, fmt: 'x2' },
  { key: 'frontierRatio', label: 'HHI≤0.25 floor/price', f: (m) => m.frontierRatio, fmt: 'x2' },
  { key: 'censoredFill', label: 'censored fill', f: (m) => m.censoredFillRate, fmt: 'pct' },
  { key: 'censoredP99', label: 'censored p99', f: (m) => m.censoredP99, fmt: 'int' },
  { key: 'otherP99', label: 'other p99', f: (m) => m.otherP99, fmt: 'int' },
  { key: 'censoredP99Ratio', label: 'censored/other p99', f: (m) => m.censoredP99Ratio, fmt: 'x2' },
  { key: 'slashed', label: 'slashed/req', f: (m) => m.slashedPerRequest, fmt: 'int' },
  { key: 'compensation', label: 'to requesters/req', f: (m) => m.compensationPerRequest, fmt: 'int' },
  { key: 'forfeited', label: 'deposits lost/req', f: (m) => m.forfeitedPerRequest, fmt: 'int' },
  { key: 'racers', label: 'racers', f: (m) => m.participants, fmt: 'x2' },
  { key: 'raced', label: 'raced/req', f: (m) => m.racedPerRequest, fmt: 'x2' },
  { key: 'outracedHonest', label: 'honest outraced', f: (m) => m.outracedHonest, fmt: 'x2' },
];

function fmtNum(v: number, fmt: 'int' | 'pct' | 'x2'): string {
  if (!Number.isFinite(v)) return '-';
  if (fmt === 'pct') return (v * 100).toFixed(1) + '%';
  if (fmt === 'x2') return v.toFixed(2);
  return v.toFixed(0);
}

export function fmtEst(e: Estimate, fmt: 'int' | 'pct' | 'x2'): string {
  if (!Number.isFinite(e.mean)) return '-';
  if (!Number.isFinite(e.lo)) return fmtNum(e.mean, fmt);
  return `${fmtNum(e.mean, fmt)} [${fmtNum(e.lo, fmt)}, ${fmtNum(e.hi, fmt)}]`;
}

export function aggregateCsv(r: ScenarioResult): string {
  const head = ['scenario', 'coalition', 'provers', 'mechanism', 'seeds', ...FIGURES.flatMap((f) => [f.key, `${f.key}_lo`, `${f.key}_hi`])];
  const lines = [head.join(',')];
  for (const g of groups(r)) {
    const vals = FIGURES.flatMap((f) => {
      const e = est(g, f.f);
      return [cell(e.mean), cell(e.lo), cell(e.hi)];
    });
    lines.push([r.scenario.name, g.coalition, g.provers, g.mechanism, g.runs.length, ...vals].join(','));
  }
  return lines.join('\n') + '\n';
}

/** Per seed, mechanism X's price and resource cost over proofbook's; mean and 95 % interval over seeds. */
export function headlineRatios(r: ScenarioResult, against = 'proofbook'): { mechanism: string; provers: number; coalition: number; price: Estimate; resource: Estimate }[] {
  const out: { mechanism: string; provers: number; coalition: number; price: Estimate; resource: Estimate }[] = [];
  const gs = groups(r);
  for (const g of gs) {
    if (g.mechanism === against) continue;
    const base = gs.find((x) => x.mechanism === against && x.provers === g.provers && x.coalition === g.coalition);
    if (!base) continue;
    const pr: number[] = [];
    const rc: number[] = [];
    for (const run of g.runs) {
      const b = base.runs.find((x) => x.seed === run.seed);
      if (!b) continue;
      pr.push(run.metrics.pricePerProof / b.metrics.pricePerProof);
      rc.push(run.metrics.resourceCostPerProof / b.metrics.resourceCostPerProof);
    }
    out.push({ mechanism: g.mechanism, provers: g.provers, coalition: g.coalition, price: estimate(pr), resource: estimate(rc) });
  }
  return out;
}

export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => x.padEnd(widths[i])).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)];
}

export function summaryTable(r: ScenarioResult): string {
  const gs = groups(r);
  const shown = FIGURES.filter((f) => gs.some((g) => Number.isFinite(est(g, f.f).mean)));
  const seedText = r.seeds.length === 1 ? `seed ${r.seeds[0]}` : `seeds ${r.seeds[0]}-${r.seeds[r.seeds.length - 1]}: mean [95 % interval]`;
  const out = [`### ${r.scenario.name} (${seedText}; prices in uproof, times in blocks of ${r.scenario.blockSeconds} s, HHI 0-1)`, ''];
  const multiCoalition = r.coalitionShares.length > 1;
  const header = [...(multiCoalition ? ['coalition'] : []), 'mechanism', 'provers', ...shown.map((f) => f.label), 'invariants'];
  const rows = gs.map((g) => [
    ...(multiCoalition ? [String(g.coalition)] : []),
    g.mechanism,
    String(g.provers),
    ...shown.map((f) => fmtEst(est(g, f.f), f.fmt)),
    g.runs[0].metrics.invariantBlocks > 0 ? `${g.runs.reduce((a, x) => a + x.metrics.invariantBlocks - x.metrics.invariantFailures, 0)}/${g.runs.reduce((a, x) => a + x.metrics.invariantBlocks, 0)} ok` : '-',
  ]);
  out.push(...table(header, rows));
  const ratios = headlineRatios(r);
  if (ratios.length) {
    out.push('', 'X / proofbook, same agents and arrivals per seed (mean [95 % interval]):');
    out.push(...table(
      [...(multiCoalition ? ['coalition'] : []), 'X', 'provers', 'requester price X/proofbook', 'resource cost X/proofbook'],
      ratios.map((x) => [...(multiCoalition ? [String(x.coalition)] : []), x.mechanism, String(x.provers), fmtEst(x.price, 'x2'), fmtEst(x.resource, 'x2')]),
    ));
  }
  const frontier = frontierSummary(r);
  if (frontier.length) {
    out.push('', 'HHI ≤ 0.25 frontier (sim/hhi-frontier.ts): the least any rule paying each winner at least its ask could pay for the same proofs with HHI ≤ 0.25, over this row\'s price (the greedy row: over v1\'s price); floor/uncapped floor: the same relaxation with HHI ≤ 0.25 over without a cap (what the cap alone costs); capacity-feasible/price: an assignment of the same proofs within slots, proving times and deadlines with HHI ≤ 0.25, paid at the asks, found by a heuristic (sim/hhi-schedule.ts: an upper bound), over this row\'s price; max efficiency at HHI ≤ 0.25: the most efficiency any allocation of the same proofs could reach with HHI ≤ 0.25 (the capacity-aware benchmark\'s cost over the least compute of any such assignment; an upper bound), and the seeds where it is below 95 %; capacity-feasible efficiency: the efficiency of an assignment of the same proofs within slots, proving times, deadlines and HHI ≤ 0.25 at true costs, found by the same heuristic (reachable with perfect information: the most any rule can reach lies between it and the bound), and the seeds where it reaches 95 %:');
    out.push(...table(
      [...(multiCoalition ? ['coalition'] : []), 'mechanism', 'provers', 'floor/proof', 'floor/price', 'seeds > 1.10', 'floor/uncapped floor', 'capacity-feasible/price', 'seeds ≤ 1.10', 'exact', 'infeasible', 'max efficiency at HHI ≤ 0.25', 'seeds < 95 %', 'capacity-feasible efficiency', 'seeds ≥ 95 %'],
      frontier.map((x) => [...(multiCoalition ? [String(x.coalition)] : []), x.mechanism, String(x.provers), fmtEst(x.perProof, 'int'), fmtEst(x.ratio, 'x2'), `${x.over110}/${x.seeds}`, fmtEst(x.premium, 'x2'), fmtEst(x.schedule, 'x2'), `${x.scheduleWithin110}/${x.seeds}`, `${x.exact}/${x.seeds}`, String(x.infeasible), fmtEst(x.efficiencyBound, 'pct'), `${x.efficiencyBoundUnder95}/${x.seeds}`, fmtEst(x.efficiencySchedule, 'pct'), `${x.efficiencyScheduleAtLeast95}/${x.seeds}`]),
    ));
  }
  return out.join('\n');
}

/**
 * Per row, the HHI frontier over seeds: its ratio to the row's price (mean, interval), in how many seeds it exceeds 1.10
 * (HHI ≤ 0.25 within 10 % of this price is then out of reach for every rule paying at least the asks), how many seeds
 * were solved exactly and how many have no assignment within the cap at all.
 */
export function frontierSummary(r: ScenarioResult): { mechanism: string; provers: number; coalition: number; seeds: number; perProof: Estimate; ratio: Estimate; premium: Estimate; schedule: Estimate; scheduleWithin110: number; over110: number; exact: number; infeasible: number; efficiencyBound: Estimate; efficiencyBoundUnder95: number; efficiencySchedule: Estimate; efficiencyScheduleAtLeast95: number }[] {
  return groups(r)
    .filter((g) => g.runs.some((x) => x.metrics.delivered > 0))
    .map((g) => ({
      mechanism: g.mechanism,
      provers: g.provers,
      coalition: g.coalition,
      seeds: g.runs.length,
      perProof: est(g, (m) => m.frontierPricePerProof),
      ratio: est(g, (m) => m.frontierRatio),
      premium: est(g, (m) => m.frontierPremium),
      schedule: est(g, (m) => m.frontierScheduleRatio),
      scheduleWithin110: g.runs.filter((x) => x.metrics.frontierScheduleRatio <= 1.1).length,
      over110: g.runs.filter((x) => x.metrics.frontierRatio > 1.1).length,
      exact: g.runs.filter((x) => x.metrics.frontierExact === 1).length,
      infeasible: g.runs.filter((x) => x.metrics.delivered > 0 && !Number.isFinite(x.metrics.frontierPricePerProof)).length,
      efficiencyBound: est(g, (m) => m.efficiencyBoundAtCap),
      efficiencyBoundUnder95: g.runs.filter((x) => x.metrics.efficiencyBoundAtCap < 0.95).length,
      efficiencySchedule: est(g, (m) => m.efficiencyScheduleAtCap),
      efficiencyScheduleAtLeast95: g.runs.filter((x) => x.metrics.efficiencyScheduleAtCap >= 0.95).length,
    }));
}

/** One row per (run, prover): who the prover is and what it earned, spent and won. */
export function proversCsv(r: ScenarioResult): string {
  const lines = ['scenario,seed,coalitionShare,mechanism,provers,prover,hardware,strategy,crashPpm,coalition,costPerHour,speed,capacity,wins,revenue,compute,slashed,profit'];
  for (const run of r.runs) {
    const o = run.outcome;
    for (const p of run.world.provers) {
      lines.push([r.scenario.name, run.seed, run.coalition, o.mechanism, run.world.provers.length, p.name, p.hardware, p.strategy, p.crashPpm, p.coalition ? 1 : 0, p.costPerHour, p.speed, p.capacity, o.proverWins[p.idx], o.proverRevenue[p.idx], o.proverCompute[p.idx], o.proverSlashed[p.idx], profitOf(o, p.idx)].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

/** Writes the CSV files and the SVG plots; returns the paths written. */
/** The file-name stem of a run's outputs: `<scenario>-seed<N>`, or `<scenario>-seeds<first>-<last>`. */
export function outputBase(name: string, seeds: readonly number[]): string {
  return seeds.length === 1 ? `${name}-seed${seeds[0]}` : `${name}-seeds${seeds[0]}-${seeds[seeds.length - 1]}`;
}

export function writeOutputs(r: ScenarioResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const base = outputBase(r.scenario.name, r.seeds);
  const written: string[] = [];
  const put = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    written.push(p);
  };
  put(`${base}.csv`, toCsv(r));
  put(`${base}-summary.csv`, aggregateCsv(r));
  put(`${base}-provers.csv`, proversCsv(r));
  const gs = groups(r);
  const mechs = [...new Set(gs.map((g) => g.mechanism))];
  const share0 = r.coalitionShares[0];
  const pt = (x: number, e: Estimate): [number, number, number, number] => [x, e.mean, e.lo, e.hi];
  if (r.proverCounts.length > 1) {
    const at = (m: string, f: (x: Metrics) => number) => gs.filter((g) => g.mechanism === m && g.coalition === share0).map((g) => pt(g.provers, est(g, f)));
    put(`${base}-cost-vs-provers.svg`, lineChart({
      title: `${r.scenario.name}: resource cost per delivered proof`, xLabel: 'provers (log scale)', yLabel: 'compute spent per proof (uproof, log scale)',
      logX: true, logY: true, series: mechs.map((m) => ({ name: m, points: at(m, (x) => x.resourceCostPerProof) })),
    }));
    put(`${base}-price-vs-provers.svg`, lineChart({
      title: `${r.scenario.name}: price paid per proof`, xLabel: 'provers (log scale)', yLabel: 'requester price per proof (uproof, log scale)',
      logX: true, logY: true, series: mechs.map((m) => ({ name: m, points: at(m, (x) => x.pricePerProof) })),
    }));
    put(`${base}-hhi-vs-provers.svg`, lineChart({
      title: `${r.scenario.name}: concentration of wins vs number of provers`, xLabel: 'provers (log scale)', yLabel: 'Herfindahl index of delivered proofs (0-1)',
      logX: true, series: mechs.map((m) => ({ name: m, points: at(m, (x) => x.hhi / 10_000) })),
    }));
  }
  if (r.coalitionShares.length > 1) {
    const n = r.proverCounts[0];
    put(`${base}-censored-vs-coalition.svg`, lineChart({
      title: `${r.scenario.name}: censored requests served vs coalition size (${n} provers)`, xLabel: 'coalition share of provers (the cheapest)', yLabel: 'censored requests delivered (fraction)',
      series: mechs.map((m) => ({ name: m, points: gs.filter((g) => g.mechanism === m && g.provers === n).map((g) => pt(g.coalition, est(g, (x) => x.censoredFillRate))) })),
    }));
  }
  const ratios = headlineRatios(r).filter((x) => x.coalition === share0);
  if (ratios.length) {
    const n = r.proverCounts.includes(r.scenario.provers) ? r.scenario.provers : r.proverCounts[r.proverCounts.length - 1];
    const at = ratios.filter((x) => x.provers === n);
    put(`${base}-ratios.svg`, barChart({
      title: `${r.scenario.name}: X / proofbook, ${n} provers (mean, 95 % interval over ${r.seeds.length} seeds)`,
      yLabel: 'ratio to proofbook (1 = same)',
      groups: at.map((x) => x.mechanism),
      series: [
        { name: 'requester price', values: at.map((x) => x.price.mean), lo: at.map((x) => x.price.lo), hi: at.map((x) => x.price.hi) },
        { name: 'resource cost', values: at.map((x) => x.resource.mean), lo: at.map((x) => x.resource.lo), hi: at.map((x) => x.resource.hi) },
      ],
    }));
  }
  // latency CDF (steps) at the scenario's base prover count, first seed
  const n = r.proverCounts.includes(r.scenario.provers) ? r.scenario.provers : r.proverCounts[r.proverCounts.length - 1];
  const first = r.runs.filter((x) => x.metrics.provers === n && x.seed === r.seeds[0] && x.coalition === share0);
  put(`${base}-latency.svg`, lineChart({
    title: `${r.scenario.name}: time to proof, ${n} provers, seed ${r.seeds[0]} (CDF of all requests)`,
    xLabel: 'blocks from request to proof',
    yLabel: 'fraction of requests delivered',
    steps: true,
    series: first.map((run) => {
      const lat = run.world.jobs.flatMap((j, i) => (run.outcome.jobs[i].provedBlock === null ? [] : [run.outcome.jobs[i].provedBlock! - j.submitBlock])).sort((a, b) => a - b);
      const total = run.world.jobs.length;
      const pts: [number, number][] = [[0, 0]];
      lat.forEach((v, i) => {
        if (i + 1 === lat.length || lat[i + 1] !== v) pts.push([v, (i + 1) / total]);
      });
      return { name: run.metrics.mechanism, points: pts };
    }),
  }));
  put(`${base}-concentration.svg`, barChart({
    title: `${r.scenario.name}: concentration of wins (HHI 0-1, mean and 95 % interval)`,
    yLabel: 'Herfindahl index of delivered proofs',
    groups: r.proverCounts.map((c) => `${c} provers`),
    series: mechs.map((m) => {
      const es = r.proverCounts.map((c) => {
        const g = gs.find((x) => x.provers === c && x.mechanism === m && x.coalition === share0);
        return g ? est(g, (x) => x.hhi / 10_000) : estimate([]);
      });
      return { name: m, values: es.map((e) => e.mean), lo: es.map((e) => e.lo), hi: es.map((e) => e.hi) };
    }),
  }));
  return written;
}
