/** Terminal table, CSV and SVG plots of a scenario result. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Metrics } from './metrics.js';
import type { ScenarioResult } from './run.js';
import { barChart, lineChart } from './svg.js';

export const CSV_FIELDS: readonly (keyof Metrics)[] = [
  'mechanism', 'provers', 'requests', 'delivered', 'expired', 'fillRate', 'resourceCostPerProof', 'pricePerProof', 'computationsPerProof',
  'assignP50', 'assignP99', 'proofP50', 'proofP99', 'allocativeEfficiency', 'resourceEfficiency', 'profitMin', 'profitMedian', 'profitMax',
  'losingProvers', 'hhi', 'top50', 'winners', 'censoredRequests', 'censoredFillRate', 'otherFillRate', 'reassignments', 'overValue', 'invariantBlocks', 'invariantFailures',
];

function cell(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '';
    return Number.isInteger(v) ? String(v) : v.toFixed(4);
  }
  return String(v);
}

export function toCsv(r: ScenarioResult): string {
  const lines = [['scenario', 'seed', ...CSV_FIELDS].join(',')];
  for (const run of r.runs) lines.push([r.scenario.name, r.seed, ...CSV_FIELDS.map((f) => cell(run.metrics[f]))].join(','));
  return lines.join('\n') + '\n';
}

const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '-');
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-');
const pct = (v: number) => (Number.isFinite(v) ? (v * 100).toFixed(1) + '%' : '-');

export function summaryTable(r: ScenarioResult): string {
  const header = ['mechanism', 'provers', 'filled', 'expired', 'compute/proof', 'price/proof', 'comps/proof', 'assign p50/p99', 'proof p50/p99', 'alloc eff', 'HHI', 'top50%', 'losers', 'price>value', 'censored fill', 'invariants'];
  const rows = r.runs.map(({ metrics: m }) => [
    m.mechanism, String(m.provers), `${m.delivered}/${m.requests} ${pct(m.fillRate)}`, String(m.expired), f0(m.resourceCostPerProof), f0(m.pricePerProof), f2(m.computationsPerProof),
    `${f0(m.assignP50)}/${f0(m.assignP99)}`, `${f0(m.proofP50)}/${f0(m.proofP99)}`, f2(m.allocativeEfficiency), f0(m.hhi), String(m.top50), `${m.losingProvers}/${m.provers}`, pct(m.overValue),
    m.censoredRequests ? pct(m.censoredFillRate) : '-', m.mechanism === 'proofbook' ? `${m.invariantBlocks - m.invariantFailures}/${m.invariantBlocks} ok` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => x.padEnd(widths[i])).join(' | ') + ' |';
  const out = [`### ${r.scenario.name} (seed ${r.seed}; costs and prices in uproof, times in blocks of ${r.scenario.blockSeconds} s)`, '', line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|'];
  for (const row of rows) out.push(line(row));
  const ratios = racingRatios(r);
  if (ratios.length) {
    out.push('', 'racing / proofbook, same agents and arrivals:');
    for (const x of ratios) out.push(`  provers=${x.provers}: requester cost per proof ${f2(x.price)}x, resource cost per proof ${f2(x.resource)}x`);
  }
  return out.join('\n');
}

export function racingRatios(r: ScenarioResult): { provers: number; price: number; resource: number }[] {
  const out: { provers: number; price: number; resource: number }[] = [];
  for (const n of r.proverCounts) {
    const pb = r.runs.find((x) => x.metrics.provers === n && x.metrics.mechanism === 'proofbook')?.metrics;
    const rc = r.runs.find((x) => x.metrics.provers === n && x.metrics.mechanism === 'racing')?.metrics;
    if (pb && rc) out.push({ provers: n, price: rc.pricePerProof / pb.pricePerProof, resource: rc.resourceCostPerProof / pb.resourceCostPerProof });
  }
  return out;
}

/** One row per (run, prover): who the prover is and what it earned, spent and won. */
export function proversCsv(r: ScenarioResult): string {
  const lines = ['scenario,seed,mechanism,provers,prover,hardware,strategy,crashPpm,coalition,costPerHour,speed,capacity,wins,revenue,compute,slashed,profit'];
  for (const run of r.runs) {
    const o = run.outcome;
    for (const p of run.world.provers) {
      const profit = o.proverRevenue[p.idx] - o.proverCompute[p.idx] - o.proverSlashed[p.idx];
      lines.push([r.scenario.name, r.seed, o.mechanism, run.world.provers.length, p.name, p.hardware, p.strategy, p.crashPpm, p.coalition ? 1 : 0, p.costPerHour, p.speed, p.capacity, o.proverWins[p.idx], o.proverRevenue[p.idx], o.proverCompute[p.idx], o.proverSlashed[p.idx], profit].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

/** Writes <name>-seed<N>.csv and the SVG plots; returns the paths written. */
export function writeOutputs(r: ScenarioResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const base = `${r.scenario.name}-seed${r.seed}`;
  const written: string[] = [];
  const put = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    written.push(p);
  };
  put(`${base}.csv`, toCsv(r));
  put(`${base}-provers.csv`, proversCsv(r));
  const mechs = [...new Set(r.runs.map((x) => x.metrics.mechanism))];
  if (r.proverCounts.length > 1) {
    put(`${base}-cost-vs-provers.svg`, lineChart({
      title: `${r.scenario.name}: resource cost per delivered proof`,
      xLabel: 'provers (log scale)',
      yLabel: 'compute spent per proof (uproof, log scale)',
      logX: true,
      logY: true,
      series: mechs.map((m) => ({ name: m, points: r.runs.filter((x) => x.metrics.mechanism === m).map((x) => [x.metrics.provers, x.metrics.resourceCostPerProof] as [number, number]) })),
    }));
    put(`${base}-price-vs-provers.svg`, lineChart({
      title: `${r.scenario.name}: price paid per proof`,
      xLabel: 'provers (log scale)',
      yLabel: 'requester price per proof (uproof, log scale)',
      logX: true,
      logY: true,
      series: mechs.map((m) => ({ name: m, points: r.runs.filter((x) => x.metrics.mechanism === m).map((x) => [x.metrics.provers, x.metrics.pricePerProof] as [number, number]) })),
    }));
  }
  // latency CDF at the scenario's base prover count (or the largest swept)
  const n = r.proverCounts.includes(r.scenario.provers) ? r.scenario.provers : r.proverCounts[r.proverCounts.length - 1];
  const at = r.runs.filter((x) => x.metrics.provers === n);
  put(`${base}-latency.svg`, lineChart({
    title: `${r.scenario.name}: time to proof, ${n} provers (CDF of delivered)`,
    xLabel: 'blocks from request to proof',
    yLabel: 'fraction of requests delivered',
    series: at.map((run) => {
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
    title: `${r.scenario.name}: concentration of wins (HHI, 0-10000)`,
    yLabel: 'Herfindahl index of delivered proofs',
    groups: r.proverCounts.map((c) => `${c} provers`),
    series: mechs.map((m) => ({ name: m, values: r.proverCounts.map((c) => r.runs.find((x) => x.metrics.provers === c && x.metrics.mechanism === m)?.metrics.hhi ?? NaN) })),
  }));
  return written;
}
