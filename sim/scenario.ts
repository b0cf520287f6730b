/**
 * Scenario files (scenarios/*.json): the agent population, demand and mechanism settings of one experiment.
 * Amounts are integers in uproof (1 uproof = 1e-6 PROOF; read 1 PROOF as 1 USD for intuition); speeds are
 * constraints per second; times are blocks of `blockSeconds`.
 */
import { readFileSync } from 'node:fs';

export interface Range {
  min: number;
  max: number;
}

export interface HardwareClass {
  name: string;
  /** Share of the provers (weights, normalised). */
  share: number;
  /** uproof per hour of one proving slot. */
  costPerHour: Range;
  /** Constraints proved per second by one slot (drawn log-uniformly). */
  speed: Range;
  /** Concurrent proving slots. */
  capacity: Range;
}

export interface Strategy {
  kind: 'truthful' | 'under' | 'over';
  share: number;
  /** Ask price = cost * (10000 + markupBps) / 10000 (negative for under-bidding). */
  markupBps: number;
}

export interface Circuit {
  name: string;
  constraints: number;
  /** Weight in the demand mix. */
  weight: number;
}

export interface RequesterClass {
  name: string;
  count: number;
  /** Expected requests per block from the whole class (Poisson). */
  ratePerBlock: number;
  /** Value per proof in uproof per million constraints (the most the requester pays). */
  valuePerMConstraints: number;
  /** Proving window (blocks from assignment to deadline) the requester needs. */
  window: number;
  /** Blocks from submission to expiry. */
  lifetime: number;
  /** Requests of this class are refused by the censoring coalition. */
  censored?: boolean;
}

export interface Spike {
  fromBlock: number;
  toBlock: number;
  rateMultiplier: number;
  /** Multiplies value per proof during the spike (below 1: under-priced demand). */
  valueMultiplier: number;
}

export interface Scenario {
  name: string;
  description: string;
  seed: number;
  blocks: number;
  /**
   * Blocks at the end without new arrivals, so late requests can finish or expire. A minimum: the run goes on until
   * every request has passed its expiry (sim/agents.ts buildWorld), so none is still live when it stops.
   */
  drainBlocks: number;
  blockSeconds: number;
  provers: number;
  /** Optional: run the whole comparison once per prover count (the sweep). */
  sweepProvers?: number[];
  /** Optional: run once per coalition share (overrides coalition.share): censored fill vs coalition size. */
  sweepCoalition?: number[];
  /** Seeds per run of `npm run simulate` (default 1; --seeds overrides): seed, seed+1, ... */
  seeds?: number;
  hardware: HardwareClass[];
  strategies: Strategy[];
  /** Share of provers that crash on a job with probability crashPpm / 1e6. */
  /** `pick`: 'spread' (default: spread evenly over the prover list) or 'cheapest' (the provers with the lowest cost
   *  per constraint, i.e. the ones an auction picks first: the worst case for a market). */
  flaky: { share: number; crashPpm: number; pick?: 'spread' | 'cheapest' };
  /** Share of provers in a coalition that refuses censored requesters (pick as for flaky). strategy: 'release' (hand
   *  a censored assignment back at once), 'hold' (sit on it until the deadline passes: a miss), 'squat' (hold, and every
   *  member not excluded from a censored request in the fallback commits to it with a garbage commitment and never
   *  reveals, again whenever the protocol lets it: docs/mechanism.md "Fallback squatting"), 'pad' (hold, and deliver
   *  all other assignments as late as they go unraced, the block before their overdue height, so that members'
   *  records say they are slow: docs/mechanism.md "Padding the record"). */
  coalition: { share: number; pick?: 'spread' | 'cheapest'; strategy?: 'release' | 'hold' | 'squat' | 'pad' };
  /**
   * Optional (default 0): each proof's delivery takes up to this share longer than its nominal proving time, drawn
   * uniformly per (prover, job, attempt) from the seed: a host's load, I/O and submission vary. Provers plan with the
   * nominal time (they cannot know the draw); the compute a proof burns does not vary. 0.3 = up to 30 % later.
   */
  provingJitter?: number;
  /** Bonded collateral per prover (uproof). */
  collateral: number;
  circuits: Circuit[];
  requesters: RequesterClass[];
  spike?: Spike;
  /**
   * proofbook requests: min_fee = max_fee * minFeeBps / 10000, ramping over rampBlocks. patienceBlocks: the
   * requesters' patience (fallback_after_blocks) in the `patience` row; every other row requests without one.
   */
  proofbook: { minFeeBps: number; rampBlocks: number; patienceBlocks?: number };
  /** Posted price for fixed-price and random assignment, uproof per million constraints. */
  fixedPricePerMConstraints: number;
  mechanisms?: string[];
  /**
   * Optional: instead of the comparison, a unilateral-deviation check (sim/deviation.ts): per seed and prover count,
   * `deviators` provers drawn from the seed each run again alone with every markup of `markupsBps` (bps over their
   * compute cost, like a strategy's), everyone else as drawn; reports what each deviation earns them.
   */
  deviation?: { markupsBps: number[]; deviators: number };
}

/**
 * proofbook: the chain's auction as configured (DEFAULT_MECHANISM); v1: mechanism v1's rules (as on main before v2);
 * lottery, stakecap, band (band25, band50: wider bands), sharecap: the work-spreading alternatives (the chain's rules
 * with that allocation); greedy: the chain's rules with greedy allocation (the chain before the spread rule);
 * spreadfixed: the chain's spread rule with its penalty fixed at 15,000 uproof (no controller: the chain before
 * spread_target_hhi_bps); spread5k, spread10k, spread20k: the same with the penalty fixed at 5,000 / 10,000 / 20,000;
 * reauction: the chain's rules but a missed request is auctioned again (v2 before the
 * censorship targets); fullfee: the chain's rules but a fallback proof is paid the request's full current fee
 * (params.fallback_ramp_blocks = 0, the fallback fee before issue 11 step 1); reveal5: the chain's rules with
 * params.fallback_reveal_blocks = 5 (the squatting trade-off); slots4: the chain's rules with params.max_fallback_commits = 4 (the default before);
 * nooverdue: the chain's rules without the overdue race (params.overdue_race_bps = 0: only the requester's patience
 * opens a race on an assignment, the chain before it); overduerec: the overdue race for provers with a record only (overdue_race_new_bps 0: one without is never raced);
 * overdueuncapped: the overdue race without its cap at half the window (overdue_race_max_bps 0: a record that says
 * "slow" is never overdue inside the window, the chain before the cap); pace: a prover without a record of the circuit
 * is also raced from twice the circuit's pace when that is earlier (overdue_race_pace_bps 20,000; the chain's default is
 * off); pace3x: three times the pace (30,000); pacedecline: as pace, honest assignees declining (in the accept phase) what
 * they would prove only after racers start on it, as the worker does; declining: the chain's rules with such declines;
 * patience: the chain's rules, every request with the requester's patience proofbook.patienceBlocks (past it anyone
 * may race the assigned prover: docs/protocol.md "The requester's patience"), raced by provers that start as soon as
 * the race opens; patiencerep: the same requests, raced only once the assignment is overdue by its prover's own record
 * (src/worker/race.ts, what the worker does); autopatience: every request with the patience `proofbook request prove
 * --patience auto` sets (src/client/patience.ts: twice the median blocks to proof of the circuit's assigned deliveries + 3,
 * a quarter of the window before any), raced as the worker races; autodecline: the same, and honest assignees decline (in
 * the accept phase) what they would prove only after the worker's racers start, as the worker does (declineOverdue);
 * racing: posted reward, free entry/exit; trusted: one trusted prover; fixed, random: posted price.
 */
const MECHANISMS = ['proofbook', 'v1', 'lottery', 'stakecap', 'band', 'band25', 'band50', 'sharecap', 'greedy', 'spreadfixed', 'spread5k', 'spread10k', 'spread20k', 'reauction', 'fullfee', 'reveal5', 'slots4', 'nooverdue', 'overduerec', 'overdueuncapped', 'pace', 'pace3x', 'pacedecline', 'declining', 'patience', 'patiencerep', 'autopatience', 'autodecline', 'racing', 'trusted', 'fixed', 'random'] as const;
export type MechanismName = (typeof MECHANISMS)[number];
/** The rows whose requests carry proofbook.patienceBlocks, and when their racers start (sim/mechanisms/proofbook.ts). */
export const PATIENCE_ROWS: Partial<Record<MechanismName, 'open' | 'overdue'>> = { patience: 'open', patiencerep: 'overdue' };
/** The rows whose requests carry the patience `--patience auto` computes (src/client/patience.ts), raced as the worker races. */
export const AUTO_PATIENCE_ROWS: ReadonlySet<MechanismName> = new Set(['autopatience', 'autodecline']);
/** The rows whose honest assignees decline (in the accept phase) what they would prove after racers start, as the worker does (declineOverdue). */
export const DECLINING_ROWS: ReadonlySet<MechanismName> = new Set(['autodecline', 'pacedecline', 'declining']);
export const ALL_MECHANISMS: readonly MechanismName[] = MECHANISMS;

function fail(msg: string): never {
  throw new Error(`scenario: ${msg}`);
}

function posInt(v: unknown, what: string, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) fail(`${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(v)}`);
  return v;
}

function range(v: unknown, what: string): Range {
  const r = v as Range;
  if (!r || typeof r !== 'object') fail(`${what} must be {min, max}`);
  posInt(r.min, `${what}.min`);
  posInt(r.max, `${what}.max`);
  if (r.max < r.min) fail(`${what}.max < ${what}.min`);
  return r;
}

export function validateScenario(s: Scenario): Scenario {
  if (typeof s.name !== 'string' || !s.name) fail('name is required');
  posInt(s.seed, 'seed', true);
  posInt(s.blocks, 'blocks');
  posInt(s.drainBlocks, 'drainBlocks', true);
  posInt(s.blockSeconds, 'blockSeconds');
  posInt(s.provers, 'provers');
  for (const n of s.sweepProvers ?? []) posInt(n, 'sweepProvers[]');
  for (const x of s.sweepCoalition ?? []) if (!(x >= 0 && x <= 1)) fail('sweepCoalition[] must be in [0, 1]');
  if (s.seeds !== undefined) posInt(s.seeds, 'seeds');
  if (!Array.isArray(s.hardware) || s.hardware.length === 0) fail('hardware must list at least one class');
  for (const h of s.hardware) {
    range(h.costPerHour, `hardware ${h.name}.costPerHour`);
    range(h.speed, `hardware ${h.name}.speed`);
    range(h.capacity, `hardware ${h.name}.capacity`);
    if (!(h.share > 0)) fail(`hardware ${h.name}.share must be > 0`);
  }
  if (!Array.isArray(s.strategies) || s.strategies.length === 0) fail('strategies must list at least one strategy');
  for (const st of s.strategies) {
    if (!['truthful', 'under', 'over'].includes(st.kind)) fail(`unknown strategy kind ${st.kind}`);
    if (!Number.isInteger(st.markupBps) || st.markupBps <= -10000) fail('markupBps must be an integer > -10000');
  }
  if (!(s.flaky.share >= 0 && s.flaky.share <= 1)) fail('flaky.share must be in [0, 1]');
  posInt(s.flaky.crashPpm, 'flaky.crashPpm', true);
  if (!(s.coalition.share >= 0 && s.coalition.share <= 1)) fail('coalition.share must be in [0, 1]');
  if (s.coalition.strategy !== undefined && !['release', 'hold', 'squat', 'pad'].includes(s.coalition.strategy)) fail("coalition.strategy must be 'release', 'hold', 'squat' or 'pad'");
  for (const [what, v] of [['flaky', s.flaky.pick], ['coalition', s.coalition.pick]] as const) {
    if (v !== undefined && v !== 'spread' && v !== 'cheapest') fail(`${what}.pick must be 'spread' or 'cheapest'`);
  }
  if (s.provingJitter !== undefined && !(s.provingJitter >= 0 && s.provingJitter <= 1)) fail('provingJitter must be in [0, 1]');
  posInt(s.collateral, 'collateral');
  if (!Array.isArray(s.circuits) || s.circuits.length === 0 || s.circuits.length > 8) fail('circuits must list 1-8 circuits');
  for (const c of s.circuits) posInt(c.constraints, `circuit ${c.name}.constraints`);
  if (!Array.isArray(s.requesters) || s.requesters.length === 0) fail('requesters must list at least one class');
  for (const r of s.requesters) {
    posInt(r.count, `requester ${r.name}.count`);
    posInt(r.valuePerMConstraints, `requester ${r.name}.valuePerMConstraints`);
    posInt(r.window, `requester ${r.name}.window`);
    posInt(r.lifetime, `requester ${r.name}.lifetime`);
    if (r.window < 2) fail(`requester ${r.name}.window must be >= 2 (market params.min_proving_window)`);
    if (!(r.ratePerBlock >= 0)) fail(`requester ${r.name}.ratePerBlock must be >= 0`);
  }
  posInt(s.proofbook.minFeeBps, 'proofbook.minFeeBps', true);
  posInt(s.proofbook.rampBlocks, 'proofbook.rampBlocks', true);
  if (s.proofbook.patienceBlocks !== undefined) posInt(s.proofbook.patienceBlocks, 'proofbook.patienceBlocks');
  for (const m of s.mechanisms ?? []) if (PATIENCE_ROWS[m as MechanismName] && s.proofbook.patienceBlocks === undefined) fail(`the '${m}' row needs proofbook.patienceBlocks`);
  posInt(s.fixedPricePerMConstraints, 'fixedPricePerMConstraints');
  for (const m of s.mechanisms ?? []) if (!(MECHANISMS as readonly string[]).includes(m)) fail(`unknown mechanism ${m}; known: ${MECHANISMS.join(', ')}`);
  if (s.deviation !== undefined) {
    const d = s.deviation;
    if (!Array.isArray(d.markupsBps) || d.markupsBps.length === 0 || d.markupsBps.length > 8) fail('deviation.markupsBps must list 1-8 markups');
    for (const m of d.markupsBps) if (!Number.isInteger(m) || m <= -10000) fail('deviation.markupsBps[] must be integers > -10000');
    if (new Set(d.markupsBps).size !== d.markupsBps.length) fail('deviation.markupsBps must not repeat a markup');
    posInt(d.deviators, 'deviation.deviators');
    for (const n of s.sweepProvers ?? [s.provers]) if (d.deviators > n) fail(`deviation.deviators (${d.deviators}) exceeds the prover count ${n}`);
  }
  return s;
}

export function loadScenario(path: string): Scenario {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Scenario;
  return validateScenario(s);
}
