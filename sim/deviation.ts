/**
 * Unilateral deviations: is asking its cost (plus the scenario's markup) a prover's best response, or does it earn
 * more by misreporting while everyone else keeps their asks?
 *
 * Why: a mechanism's efficiency is what it reaches at the asks provers actually choose. `scenarios/spread.json` makes
 * a quarter of them misreport by fiat (asks 20 % below or 50 % above cost) and never asks whether that pays. Here, per
 * seed and prover count, the world is run once as drawn, then once more for each of `deviators` provers (drawn from
 * the seed) and each markup of `markupsBps`, with only that prover's ask changed: same hardware, same arrivals, same
 * other asks. Its profit (payments − compute − slashes) in the deviating run against the run as drawn is what the
 * deviation earns it; the run's efficiency shows what the deviation costs the market.
 *
 * Simulator-side only, like the rest of sim/; every run goes through the real modules with invariants after every
 * block (runOutcome), so a broken invariant fails the command.
 */
import { buildWorld, type World } from './agents.js';
import { computeMetrics, profitOf, type RunOutcome } from './metrics.js';
import { estimate, fmtEst, table, type Estimate } from './output.js';
import { Rng } from './rng.js';
import { CHAIN_MECHANISMS, runOutcome, type RunOptions } from './run.js';
import type { MechanismName, Scenario } from './scenario.js';

/** One prover's deviation in one world under one mechanism, beside the same world as drawn. */
export interface Deviation {
  seed: number;
  provers: number;
  mechanism: MechanismName;
  prover: string;
  hardware: string;
  baseMarkupBps: number;
  markupBps: number;
  baseProfit: number;
  profit: number;
  baseWins: number;
  wins: number;
  baseEfficiency: number;
  efficiency: number;
}

export interface DeviationResult {
  scenario: Scenario;
  seeds: number[];
  proverCounts: number[];
  mechanisms: readonly MechanismName[];
  deviations: Deviation[];
  invariantBlocks: number;
  /** The first few broken invariants of any run (empty when every block of every run passed). */
  invariantFailures: string[];
}

/** The provers that deviate in one world: `k` distinct indices drawn from (seed, prover count), in index order. */
export function deviatorsOf(seed: number, proverCount: number, k: number): number[] {
  const all = Array.from({ length: proverCount }, (_, i) => i);
  return new Rng(seed, `deviators/${proverCount}`).shuffle(all).slice(0, k).sort((a, b) => a - b);
}

/** The same world with prover `i` asking `markupBps` over its cost; hardware, arrivals and every other ask unchanged. */
export function withMarkup(w: World, i: number, markupBps: number): World {
  return { ...w, provers: w.provers.map((p) => (p.idx === i ? { ...p, markupBps } : p)) };
}

export async function runDeviations(s: Scenario, opts: RunOptions = {}): Promise<DeviationResult> {
  const spec = s.deviation;
  if (!spec) throw new Error(`scenario ${s.name} has no deviation section`);
  const mechanisms = opts.mechanisms ?? (s.mechanisms as MechanismName[] | undefined) ?? ['proofbook'];
  for (const m of mechanisms) if (!CHAIN_MECHANISMS[m]) throw new Error(`deviation: '${m}' does not read asks; use the chain's rows (${Object.keys(CHAIN_MECHANISMS).join(', ')})`);
  const seed = opts.seed ?? s.seed;
  const seeds = Array.from({ length: opts.seeds ?? s.seeds ?? 1 }, (_, i) => seed + i);
  const counts = opts.proverCounts ?? s.sweepProvers ?? [s.provers];
  for (const n of counts) if (spec.deviators > n) throw new Error(`deviation.deviators (${spec.deviators}) exceeds the prover count ${n}`);
  const out: DeviationResult = { scenario: s, seeds, proverCounts: counts, mechanisms, deviations: [], invariantBlocks: 0, invariantFailures: [] };
  const checked = (o: RunOutcome): RunOutcome => {
    out.invariantBlocks += o.invariantBlocks;
    out.invariantFailures.push(...o.invariantFailures.slice(0, Math.max(0, 5 - out.invariantFailures.length)));
    return o;
  };
  const efficiency = (w: World, o: RunOutcome) => computeMetrics(w, o, { frontier: false }).efficiency;
  for (const sd of seeds) {
    for (const n of counts) {
      const w = buildWorld(s, sd, n);
      for (const m of mechanisms) {
        const base = checked((await runOutcome(w, m)).outcome);
        const baseEfficiency = efficiency(w, base);
        for (const i of deviatorsOf(sd, n, spec.deviators)) {
          const p = w.provers[i];
          for (const markupBps of spec.markupsBps) {
            if (markupBps === p.markupBps) continue; // not a deviation
            const dw = withMarkup(w, i, markupBps);
            const o = checked((await runOutcome(dw, m)).outcome);
            out.deviations.push({
              seed: sd, provers: n, mechanism: m, prover: p.name, hardware: p.hardware, baseMarkupBps: p.markupBps, markupBps,
              baseProfit: profitOf(base, i), profit: profitOf(o, i), baseWins: base.proverWins[i], wins: o.proverWins[i],
              baseEfficiency, efficiency: efficiency(dw, o),
            });
          }
        }
        opts.onProgress?.(`deviation seed=${sd} provers=${n} ${m}: ${spec.deviators} deviators x ${spec.markupsBps.length} markups`);
      }
    }
  }
  return out;
}

export interface DeviationSummary {
  mechanism: MechanismName;
  provers: number;
  markupBps: number;
  deviations: number;
  /** Per seed, the mean gain (profit deviating − profit as drawn) of its deviators; mean and interval over seeds. */
  gain: Estimate;
  gains: number;
  losses: number;
  baseProfit: number;
  profit: number;
  baseWins: number;
  wins: number;
  baseEfficiency: Estimate;
  efficiency: Estimate;
}

export function summarizeDeviations(r: DeviationResult): DeviationSummary[] {
  const out: DeviationSummary[] = [];
  for (const m of r.mechanisms) {
    for (const n of r.proverCounts) {
      for (const markupBps of r.scenario.deviation!.markupsBps) {
        const ds = r.deviations.filter((d) => d.mechanism === m && d.provers === n && d.markupBps === markupBps);
        if (ds.length === 0) continue;
        const perSeed = (f: (d: Deviation) => number) => r.seeds.map((sd) => ds.filter((d) => d.seed === sd)).filter((x) => x.length > 0).map((x) => x.reduce((a, d) => a + f(d), 0) / x.length);
        const sum = (f: (d: Deviation) => number) => ds.reduce((a, d) => a + f(d), 0);
        out.push({
          mechanism: m, provers: n, markupBps, deviations: ds.length,
          gain: estimate(perSeed((d) => d.profit - d.baseProfit)),
          gains: ds.filter((d) => d.profit > d.baseProfit).length,
          losses: ds.filter((d) => d.profit < d.baseProfit).length,
          baseProfit: sum((d) => d.baseProfit), profit: sum((d) => d.profit),
          baseWins: sum((d) => d.baseWins), wins: sum((d) => d.wins),
          baseEfficiency: estimate(perSeed((d) => d.baseEfficiency)), efficiency: estimate(perSeed((d) => d.efficiency)),
        });
      }
    }
  }
  return out;
}

const pct = (bps: number) => `${bps >= 0 ? '+' : ''}${bps / 100} %`;

export function deviationTable(r: DeviationResult): string {
  const d = r.scenario.deviation!;
  const seedText = r.seeds.length === 1 ? `seed ${r.seeds[0]}` : `seeds ${r.seeds[0]}-${r.seeds[r.seeds.length - 1]}: mean [95 % interval] over seeds`;
  const out = [
    `### ${r.scenario.name}: unilateral deviations (${seedText}; ${d.deviators} deviators per seed and prover count, each alone; profits in uproof)`,
    '',
  ];
  out.push(...table(
    ['mechanism', 'provers', 'ask (over cost)', 'deviations', 'gain per deviation', 'gain > 0', 'gain < 0', "deviators' profit: as drawn → deviating", 'their wins', 'efficiency: as drawn → deviating'],
    summarizeDeviations(r).map((x) => [
      x.mechanism, String(x.provers), pct(x.markupBps), String(x.deviations), fmtEst(x.gain, 'int'), String(x.gains), String(x.losses),
      `${x.baseProfit} → ${x.profit}`, `${x.baseWins} → ${x.wins}`, `${fmtEst(x.baseEfficiency, 'pct')} → ${fmtEst(x.efficiency, 'pct')}`,
    ]),
  ));
  return out.join('\n');
}

export function deviationCsv(r: DeviationResult): string {
  const head = ['scenario', 'seed', 'provers', 'mechanism', 'prover', 'hardware', 'baseMarkupBps', 'markupBps', 'baseProfit', 'profit', 'gain', 'baseWins', 'wins', 'baseEfficiency', 'efficiency'];
  const lines = [head.join(',')];
  for (const x of r.deviations) {
    lines.push([r.scenario.name, x.seed, x.provers, x.mechanism, x.prover, x.hardware, x.baseMarkupBps, x.markupBps, x.baseProfit, x.profit, x.profit - x.baseProfit, x.baseWins, x.wins, x.baseEfficiency.toFixed(4), x.efficiency.toFixed(4)].join(','));
  }
  return lines.join('\n') + '\n';
}
