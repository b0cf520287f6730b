/** Runs a scenario: for each prover count, one World shared by every mechanism, then metrics. */
import { buildWorld, type World } from './agents.js';
import { computeMetrics, type Metrics, type RunOutcome } from './metrics.js';
import { runProofbook, type ProofbookExtras } from './mechanisms/proofbook.js';
import { runFixed, runRacing, runRandom } from './mechanisms/offchain.js';
import { ALL_MECHANISMS, type MechanismName, type Scenario } from './scenario.js';

export interface Run {
  world: World;
  outcome: RunOutcome;
  metrics: Metrics;
  extras?: ProofbookExtras;
}

export interface ScenarioResult {
  scenario: Scenario;
  seed: number;
  proverCounts: number[];
  runs: Run[];
}

export interface RunOptions {
  seed?: number;
  mechanisms?: readonly MechanismName[];
  /** Overrides the scenario's prover counts. */
  proverCounts?: number[];
  onProgress?: (msg: string) => void;
}

export async function runMechanism(w: World, m: MechanismName, onProgress?: (msg: string) => void): Promise<Run> {
  if (m === 'proofbook') {
    const extras: ProofbookExtras = { txFailures: new Map(), accepted: 0, rejected: 0 };
    const outcome = await runProofbook(w, extras, onProgress);
    return { world: w, outcome, metrics: computeMetrics(w, outcome), extras };
  }
  const outcome = m === 'racing' ? runRacing(w) : m === 'fixed' ? runFixed(w) : runRandom(w);
  return { world: w, outcome, metrics: computeMetrics(w, outcome) };
}

export async function runScenario(s: Scenario, opts: RunOptions = {}): Promise<ScenarioResult> {
  const seed = opts.seed ?? s.seed;
  const mechanisms = opts.mechanisms ?? (s.mechanisms as MechanismName[] | undefined) ?? ALL_MECHANISMS;
  const counts = opts.proverCounts ?? s.sweepProvers ?? [s.provers];
  const runs: Run[] = [];
  const total = counts.length * mechanisms.length;
  for (const n of counts) {
    const w = buildWorld(s, seed, n);
    for (const m of mechanisms) {
      const t0 = process.hrtime.bigint();
      const run = await runMechanism(w, m, opts.onProgress);
      runs.push(run);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      opts.onProgress?.(`[${runs.length}/${total}] ${s.name} provers=${n} ${m}: ${run.metrics.delivered}/${run.metrics.requests} proofs, ${w.endBlock} blocks in ${(ms / 1000).toFixed(1)} s`);
    }
  }
  return { scenario: s, seed, proverCounts: counts, runs };
}
