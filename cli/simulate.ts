/**
 * `proofbook simulate` / `npm run simulate --`: the market simulator (sim/). Runs every mechanism of a scenario on
 * the same agents and arrivals, prints the summary table, writes the CSV and SVG plots into --out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadScenario, validateScenario, ALL_MECHANISMS, type MechanismName } from '../sim/scenario.js';
import { runScenario } from '../sim/run.js';
import { outputBase, summaryTable, writeOutputs } from '../sim/output.js';
import { deviationCsv, deviationTable, runDeviations } from '../sim/deviation.js';

function intArg(v: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(v)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(v);
}

function jitterArg(v: string): number {
  const x = Number(v);
  if (!/^[0-9.]+$/.test(v) || !(x >= 0 && x <= 1)) throw new InvalidArgumentError('expected a share in [0, 1], e.g. 0.3');
  return x;
}

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('agent-based market simulation: proofbook (real market/bond/verifier modules) vs racing, fixed-price and random assignment')
    .requiredOption('--scenario <file>', 'scenario JSON (see scenarios/)')
    .option('--seed <n>', 'PRNG seed (default: the scenario seed)', intArg)
    .option('--seeds <n>', 'number of seeds: seed, seed+1, ... (default: the scenario\'s seeds, or 1); figures are means with 95 % intervals', intArg)
    .option('--out <dir>', 'output folder for CSV and SVG', 'results')
    .option('--provers <list>', 'comma-separated prover counts (overrides the scenario)')
    .option('--mechanisms <list>', `comma-separated subset of ${ALL_MECHANISMS.join(',')}`)
    .option('--jitter <share>', "each proof delivered up to this share later than its nominal time (overrides the scenario's provingJitter; output files get -jitter<percent>)", jitterArg)
    .option('--quiet', 'no progress lines')
    .action(async (o: { scenario: string; seed?: number; seeds?: number; out: string; provers?: string; mechanisms?: string; jitter?: number; quiet?: boolean }) => {
      const loaded = loadScenario(o.scenario);
      const s = o.jitter === undefined ? loaded : validateScenario({ ...loaded, name: `${loaded.name}-jitter${Math.round(o.jitter * 100)}`, provingJitter: o.jitter });
      const mechanisms = o.mechanisms?.split(',').map((x) => x.trim()) as MechanismName[] | undefined;
      for (const m of mechanisms ?? []) if (!ALL_MECHANISMS.includes(m)) throw new Error(`unknown mechanism ${m}`);
      const proverCounts = o.provers?.split(',').map((x) => intArg(x.trim()));
      const t0 = process.hrtime.bigint();
      const progress = o.quiet ? undefined : (m: string) => process.stderr.write(m + '\n');
      if (s.deviation) {
        // a deviation check instead of the comparison: does misreporting pay against the chain's rules?
        const dev = await runDeviations(s, { seed: o.seed, seeds: o.seeds, mechanisms, proverCounts, onProgress: progress });
        console.log(deviationTable(dev));
        mkdirSync(o.out, { recursive: true });
        const file = join(o.out, `${outputBase(s.name, dev.seeds)}-deviations.csv`);
        writeFileSync(file, deviationCsv(dev));
        const secs = Number(process.hrtime.bigint() - t0) / 1e9;
        console.log(`\ninvariants: ${dev.invariantFailures.length === 0 ? `every one held after each of ${dev.invariantBlocks} blocks` : 'BROKEN'}\nwrote ${file} (${secs.toFixed(1)} s)`);
        for (const f of dev.invariantFailures) console.error(`INVARIANT BROKEN: ${f}`);
        if (dev.invariantFailures.length > 0) process.exitCode = 1;
        return;
      }
      const result = await runScenario(s, { seed: o.seed, seeds: o.seeds, mechanisms, proverCounts, onProgress: progress });
      console.log(summaryTable(result));
      const files = writeOutputs(result, o.out);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      console.log(`\nwrote ${files.join(', ')} (${secs.toFixed(1)} s)`);
      const broken = result.runs.reduce((a, r) => a + r.metrics.invariantFailures, 0);
      if (broken > 0) {
        for (const r of result.runs) for (const f of r.outcome.invariantFailures.slice(0, 5)) console.error(`INVARIANT BROKEN (${r.metrics.mechanism}, ${r.metrics.provers} provers): ${f}`);
        process.exitCode = 1;
      }
    });
}
