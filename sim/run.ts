/** Runs a scenario: for each seed, prover count and coalition share, one World shared by every mechanism, then metrics. */
import { buildWorld, type World } from './agents.js';
import { computeMetrics, type Metrics, type RunOutcome } from './metrics.js';
import { runProofbook, type ProofbookExtras } from './mechanisms/proofbook.js';
import { runFixed, runRacing, runRandom, runTrusted } from './mechanisms/offchain.js';
import { ALL_MECHANISMS, AUTO_PATIENCE_ROWS, DECLINING_ROWS, PATIENCE_ROWS, type MechanismName, type Scenario } from './scenario.js';
import { DEFAULT_MECHANISM, MECHANISM_V1, type MarketMechanism } from '../modules/market/index.js';
import type { Params } from '../src/gen/proofbook/market/v1/market.js';

export interface Run {
  seed: number;
  coalition: number;
  world: World;
  outcome: RunOutcome;
  metrics: Metrics;
  extras?: ProofbookExtras;
}

export interface ScenarioResult {
  scenario: Scenario;
  seed: number;
  seeds: number[];
  proverCounts: number[];
  coalitionShares: number[];
  runs: Run[];
}

export interface RunOptions {
  seed?: number;
  /** Number of seeds (seed, seed+1, ...); default the scenario's `seeds` or 1. */
  seeds?: number;
  mechanisms?: readonly MechanismName[];
  /** Overrides the scenario's prover counts. */
  proverCounts?: number[];
  onProgress?: (msg: string) => void;
}

/** The auction rules each on-chain mechanism name runs (all through the same market keeper). */
export const CHAIN_MECHANISMS: Partial<Record<MechanismName, MarketMechanism>> = {
  proofbook: DEFAULT_MECHANISM,
  v1: MECHANISM_V1,
  lottery: { ...DEFAULT_MECHANISM, allocation: 'lottery' },
  stakecap: { ...DEFAULT_MECHANISM, allocation: 'stakecap' },
  band: { ...DEFAULT_MECHANISM, allocation: 'band', bps: 1000n },
  band25: { ...DEFAULT_MECHANISM, allocation: 'band', bps: 2500n },
  band50: { ...DEFAULT_MECHANISM, allocation: 'band', bps: 5000n },
  sharecap: { ...DEFAULT_MECHANISM, allocation: 'sharecap', bps: 2500n },
  greedy: { ...DEFAULT_MECHANISM, allocation: 'v1' },
  spreadfixed: DEFAULT_MECHANISM,
  spread5k: DEFAULT_MECHANISM,
  spread20k: DEFAULT_MECHANISM,
  spread10k: DEFAULT_MECHANISM,
  reauction: { ...DEFAULT_MECHANISM, reauctionAfterMiss: true },
  fullfee: DEFAULT_MECHANISM,
  reveal5: DEFAULT_MECHANISM,
  slots4: DEFAULT_MECHANISM,
  nooverdue: DEFAULT_MECHANISM,
  overduerec: DEFAULT_MECHANISM,
  overdueuncapped: DEFAULT_MECHANISM,
  pace: DEFAULT_MECHANISM,
  pace3x: DEFAULT_MECHANISM,
  pacedecline: DEFAULT_MECHANISM,
  declining: DEFAULT_MECHANISM,
  patience: DEFAULT_MECHANISM,
  patiencerep: DEFAULT_MECHANISM,
  autopatience: DEFAULT_MECHANISM,
  autodecline: DEFAULT_MECHANISM,
};

/**
 * Market params a row runs with instead of the defaults. fullfee: a fallback proof is paid the full current fee;
 * reveal5: fallback_reveal_blocks 5 instead of 10 (half the delay per squatting identity, half the run of censored
 * blocks a thief needs: docs/protocol.md "Squatting the fallback"); slots4: max_fallback_commits 4 instead of 8 (the default
 * before; k squatters keep an honest commitment out for floor(k (R + 1) / M) blocks); spreadfixed: the spread rule
 * with its penalty fixed at 15,000 (spread_target_hhi_bps 0: the chain before the controller); spread5k, spread10k,
 * spread20k: fixed at 5,000, 10,000 and 20,000 uproof (the penalty's trade-off, docs/mechanism.md); nooverdue: no
 * overdue race (overdue_race_bps 0, the chain before it); overduerec: no overdue race for a prover without a record of
 * the circuit (overdue_race_new_bps 0); overdueuncapped: a record's overdue height not capped at half the window
 * (overdue_race_max_bps 0, the chain before the cap); pace, pacedecline: a prover without a record of the circuit
 * also raced from twice the circuit's pace (overdue_race_pace_bps 20,000; the chain's default is 0, off); pace3x: three
 * times the pace.
 */
export const CHAIN_PARAMS: Partial<Record<MechanismName, Partial<Params>>> = {
  spreadfixed: { spreadTargetHhiBps: 0n },
  spread5k: { spreadPenalty: '5000', spreadTargetHhiBps: 0n },
  spread20k: { spreadPenalty: '20000', spreadTargetHhiBps: 0n },
  spread10k: { spreadPenalty: '10000', spreadTargetHhiBps: 0n },
  fullfee: { fallbackRampBlocks: 0n },
  reveal5: { fallbackRevealBlocks: 5n },
  slots4: { maxFallbackCommits: 4n },
  nooverdue: { overdueRaceBps: 0n },
  overduerec: { overdueRaceNewBps: 0n },
  overdueuncapped: { overdueRaceMaxBps: 0n },
  pace: { overdueRacePaceBps: 20_000n },
  pace3x: { overdueRacePaceBps: 30_000n },
  pacedecline: { overdueRacePaceBps: 20_000n },
};

/** What one mechanism does in one world (no metrics): the chain's rows through the real modules, the rest off chain. */
export async function runOutcome(w: World, m: MechanismName, onProgress?: (msg: string) => void): Promise<{ outcome: RunOutcome; extras?: ProofbookExtras }> {
  const rules = CHAIN_MECHANISMS[m];
  if (rules) {
    const extras: ProofbookExtras = { txFailures: new Map(), accepted: 0, rejected: 0 };
    const auto = AUTO_PATIENCE_ROWS.has(m);
    const racers = auto ? 'overdue' : PATIENCE_ROWS[m];
    const patience = auto ? 'auto' : racers ? (w.scenario.proofbook.patienceBlocks ?? 0) : 0;
    if (racers && patience === 0) throw new Error(`scenario: the '${m}' row needs proofbook.patienceBlocks`);
    return { outcome: await runProofbook(w, extras, onProgress, rules, m, CHAIN_PARAMS[m], patience, racers, DECLINING_ROWS.has(m)), extras };
  }
  return { outcome: m === 'racing' ? runRacing(w) : m === 'fixed' ? runFixed(w) : m === 'trusted' ? runTrusted(w) : runRandom(w) };
}

export async function runMechanism(w: World, m: MechanismName, onProgress?: (msg: string) => void): Promise<Omit<Run, 'seed' | 'coalition'>> {
  const { outcome, extras } = await runOutcome(w, m, onProgress);
  return { world: w, outcome, metrics: computeMetrics(w, outcome), ...(extras ? { extras } : {}) };
}

export async function runScenario(s: Scenario, opts: RunOptions = {}): Promise<ScenarioResult> {
  const seed = opts.seed ?? s.seed;
  const nSeeds = opts.seeds ?? s.seeds ?? 1;
  const seeds = Array.from({ length: nSeeds }, (_, i) => seed + i);
  // every mechanism by default; the patience row only where the scenario says how patient its requesters are
  const mechanisms = opts.mechanisms ?? (s.mechanisms as MechanismName[] | undefined) ?? ALL_MECHANISMS.filter((m) => !PATIENCE_ROWS[m] || s.proofbook.patienceBlocks !== undefined);
  const counts = opts.proverCounts ?? s.sweepProvers ?? [s.provers];
  const shares = s.sweepCoalition ?? [s.coalition.share];
  const runs: Run[] = [];
  const total = seeds.length * counts.length * shares.length * mechanisms.length;
  for (const sd of seeds) {
    for (const share of shares) {
      const sc = share === s.coalition.share ? s : { ...s, coalition: { ...s.coalition, share } };
      for (const n of counts) {
        const w = buildWorld(sc, sd, n);
        for (const m of mechanisms) {
          const t0 = process.hrtime.bigint();
          const run = { seed: sd, coalition: share, ...(await runMechanism(w, m, opts.onProgress)) };
          runs.push(run);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          opts.onProgress?.(`[${runs.length}/${total}] ${s.name} seed=${sd} coalition=${share} provers=${n} ${m}: ${run.metrics.delivered}/${run.metrics.requests} proofs, ${w.endBlock} blocks in ${(ms / 1000).toFixed(1)} s`);
        }
      }
    }
  }
  return { scenario: s, seed, seeds, proverCounts: counts, coalitionShares: shares, runs };
}
