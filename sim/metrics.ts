/** What a mechanism run produces, and the metrics computed from it (identically for every mechanism). */
import { proofCost, provingBlocks, serves, type World } from './agents.js';
import { Slots } from './mechanisms/slots.js';
import { cappedSchedule, type CappedSchedule } from './hhi-schedule.js';
import { HHI_QUARTER, costInstance, hhiFrontier, runInstance, type FrontierInstance, type FrontierResult, type HhiCap } from './hhi-frontier.js';

/**
 * The capacity-aware benchmark cost of every job (0 when the benchmark cannot serve it): with perfect information,
 * no crashes and no refusals, each block assigns the open jobs in arrival order, each to the cheapest prover (by its
 * true cost) that has a free slot and can finish by the job's deadline. Cached per World.
 */
const benchCache = new WeakMap<World, bigint[]>();
const benchProverCache = new WeakMap<World, (number | null)[]>();
export function capacityAwareCosts(w: World): bigint[] {
  const hit = benchCache.get(w);
  if (hit) return hit;
  const cost = w.jobs.map(() => 0n);
  const by: (number | null)[] = w.jobs.map(() => null);
  const slots = new Slots(w);
  const bs = w.scenario.blockSeconds;
  const order = w.circuits.map((c) => w.provers.filter((p) => serves(w, p, c)).sort((a, b) => (proofCost(a, c) < proofCost(b, c) ? -1 : proofCost(a, c) > proofCost(b, c) ? 1 : a.idx - b.idx)));
  let open: number[] = [];
  let next = 0;
  for (let h = 1; h <= w.endBlock; h++) {
    while (next < w.jobs.length && w.jobs[next].submitBlock === h) open.push(next++);
    const still: number[] = [];
    for (const i of open) {
      const j = w.jobs[i];
      if (h >= j.submitBlock + j.lifetime) continue;
      const c = w.circuits[j.circuit];
      const deadline = Math.min(h + j.window, j.submitBlock + j.lifetime);
      const p = order[c.idx].find((q) => slots.free(q.idx, h) > 0 && h + provingBlocks(q, c, bs) <= deadline);
      if (p === undefined) {
        still.push(i);
        continue;
      }
      slots.occupy(p.idx, h, h + provingBlocks(p, c, bs));
      cost[i] = proofCost(p, c);
      by[i] = p.idx;
    }
    open = still;
  }
  benchCache.set(w, cost);
  benchProverCache.set(w, by);
  return cost;
}

/**
 * Herfindahl index (0..10000) of the capacity-aware benchmark's own allocation: how concentrated the cheapest feasible
 * allocation of this world is. A mechanism with efficiency near 100 % cannot be much less concentrated than this.
 */
export function benchmarkHhi(w: World): number {
  capacityAwareCosts(w);
  const wins = new Map<number, number>();
  let total = 0;
  for (const p of benchProverCache.get(w)!) {
    if (p === null) continue;
    wins.set(p, (wins.get(p) ?? 0) + 1);
    total++;
  }
  let hhi = 0;
  for (const x of wins.values()) hhi += ((x / total) * 100) ** 2;
  return total === 0 ? NaN : hhi;
}

/**
 * The HHI frontier of a run's delivered proofs (sim/hhi-frontier.ts): the least any allocation rule that pays every
 * winner at least its ask could pay for them with the winners' HHI ≤ 0.25. It depends only on the world and the number
 * of delivered proofs per circuit, so runs that delivered the same mix share one computation.
 */
const frontierCache = new WeakMap<World, Map<string, FrontierResult>>();
export function frontierOf(w: World, delivered: readonly boolean[], cap: HhiCap = HHI_QUARTER, at: 'asks' | 'costs' = 'asks'): FrontierResult {
  const inst: FrontierInstance = at === 'asks' ? runInstance(w, delivered) : costInstance(w, delivered);
  const key = `${at}:${inst.jobs.join('/')}@${cap.num}/${cap.den}`;
  let m = frontierCache.get(w);
  if (!m) frontierCache.set(w, (m = new Map()));
  let r = m.get(key);
  if (!r) m.set(key, (r = hhiFrontier(inst, cap)));
  return r;
}

/** The capacity- and deadline-feasible counterpart (sim/hhi-schedule.ts; an upper bound), cached per delivered set. */
const scheduleCache = new WeakMap<World, Map<string, CappedSchedule | null>>();
export function cappedScheduleOf(w: World, delivered: readonly boolean[], at: 'asks' | 'costs' = 'asks'): CappedSchedule | null {
  const key = `${at}:${delivered.map((d) => (d ? '1' : '0')).join('')}`;
  let m = scheduleCache.get(w);
  if (!m) scheduleCache.set(w, (m = new Map()));
  if (!m.has(key)) m.set(key, cappedSchedule(w, delivered, HHI_QUARTER, at));
  return m.get(key)!;
}

export interface JobOutcome {
  /** Block of the first assignment (racing: the first race start); null if never assigned. */
  assignedBlock: number | null;
  /** Block the accepted proof landed; null if never delivered. */
  provedBlock: number | null;
  /** Index of the prover paid for the proof. */
  prover: number | null;
  /** What the requester paid (uproof); 0 if not delivered. */
  price: bigint;
  /** Assignments (racing: races) started for the job. */
  attempts: number;
  expired: boolean;
}

export interface RunOutcome {
  mechanism: string;
  jobs: JobOutcome[];
  proverRevenue: bigint[];
  proverCompute: bigint[];
  proverSlashed: bigint[];
  proverWins: number[];
  /** Total compute spent by all provers (uproof), including wasted and crashed work. */
  totalCompute: bigint;
  /** Proof computations started (whole or partial). */
  computations: number;
  /** Racing: the equilibrium number of racers (free entry and exit). */
  participants?: number;
  /** Slashed collateral (and, from the squatting rule on, forfeited fallback deposits) paid to requesters (proofbook). */
  compensation: bigint;
  /** Fallback commitment deposits forfeited by commitments that expired unrevealed (proofbook; squatting). */
  forfeitedDeposits?: bigint;
  /** 'squat' coalitions: fallback commitments the squatters made (proofbook). */
  squatCommits?: number;
  /**
   * The `patience` row: assignments raced once the requester's patience ran out, those a fallback proof won, and of
   * those the ones whose assigned prover was proving it (not holding it, not crashed on it): honest work lost to the race.
   */
  races?: number;
  outraced?: number;
  outracedHonest?: number;
  /** Blocks in which the real modules' invariants were checked (proofbook only), and any failures. */
  invariantBlocks: number;
  invariantFailures: string[];
}

export function newOutcome(w: World, mechanism: string): RunOutcome {
  const n = w.provers.length;
  return {
    mechanism,
    jobs: w.jobs.map(() => ({ assignedBlock: null, provedBlock: null, prover: null, price: 0n, attempts: 0, expired: false })),
    proverRevenue: Array(n).fill(0n),
    proverCompute: Array(n).fill(0n),
    proverSlashed: Array(n).fill(0n),
    proverWins: Array(n).fill(0),
    totalCompute: 0n,
    computations: 0,
    compensation: 0n,
    invariantBlocks: 0,
    invariantFailures: [],
  };
}

export function spend(o: RunOutcome, prover: number, amount: bigint): void {
  o.proverCompute[prover] += amount;
  o.totalCompute += amount;
}

export interface Metrics {
  mechanism: string;
  provers: number;
  requests: number;
  delivered: number;
  expired: number;
  fillRate: number;
  /** Total compute / proofs delivered (uproof). */
  resourceCostPerProof: number;
  /** Requester payments / proofs delivered (uproof). */
  pricePerProof: number;
  computationsPerProof: number;
  assignP50: number;
  assignP99: number;
  proofP50: number;
  proofP99: number;
  /** Cheapest feasible cost of the delivered proofs / cost of the provers that delivered them (1 = optimal). */
  allocativeEfficiency: number;
  /** Cheapest feasible cost of the delivered proofs / all compute spent (waste and crashes included). */
  resourceEfficiency: number;
  /** Capacity-aware benchmark cost of the delivered proofs / cost of the provers that delivered them (capacityAwareCosts). */
  efficiency: number;
  /** Proof latency p50/p99 of censored and of other requests (blocks). */
  censoredP50: number;
  censoredP99: number;
  otherP99: number;
  /** Collateral slashed, and the part paid to requesters, per request (uproof). */
  slashedPerRequest: number;
  compensationPerRequest: number;
  /** Fallback deposits forfeited per request (uproof; NaN where there is no fallback). */
  forfeitedPerRequest: number;
  /** Racing: equilibrium number of racers. */
  participants: number;
  /** The `patience` row: assignments raced per request, and assignments lost to a race while their prover was proving. */
  racedPerRequest: number;
  outracedHonest: number;
  profitMin: number;
  profitMedian: number;
  profitMax: number;
  losingProvers: number;
  /** Herfindahl-Hirschman index of delivered proofs by prover, 0..10000. */
  hhi: number;
  /** The same index for the capacity-aware benchmark's allocation (benchmarkHhi; the same for every mechanism). */
  benchmarkHhi: number;
  /**
   * HHI frontier (frontierOf): the least any rule paying each winner at least its ask could pay for this run's
   * delivered proofs with HHI ≤ 0.25, per delivered proof (uproof; NaN when no such assignment exists or none delivered).
   */
  frontierPricePerProof: number;
  /** That least payment / what this run's requesters paid for the same proofs (greedy row: the ratio to v1's price). */
  frontierRatio: number;
  /**
   * What the cap alone costs in that relaxation: the frontier / the same least payment without a cap (H = 1: every
   * proof to the cheapest ask serving its circuit, pay-as-bid).
   */
  frontierPremium: number;
  /**
   * A capacity- and deadline-feasible assignment of the same proofs with HHI ≤ 0.25 paid at the asks, found by a
   * heuristic (cappedScheduleOf): its cost / this run's payment. An upper bound on what an omniscient pay-as-bid
   * allocator would need; NaN when the heuristic finds none.
   */
  frontierScheduleRatio: number;
  /** 1 when the frontier is the exact optimum of its relaxation, 0 when a proven lower bound only (node limit). */
  frontierExact: number;
  /**
   * The most `efficiency` any allocation of this run's delivered proofs could reach with the winners' HHI ≤ 0.25: the
   * capacity-aware benchmark's cost of those proofs over the least compute any such assignment can use (the frontier
   * at true costs, `costInstance`: no capacity or timing, so a lower bound on compute, hence an upper bound here).
   * Below 0.95, the efficiency and HHI targets cannot both be met on this run's proofs by any rule.
   */
  efficiencyBoundAtCap: number;
  /**
   * The efficiency of an actual assignment of the same proofs within slots, proving times, deadlines and HHI ≤ 0.25,
   * found by the capped-schedule heuristic at true costs (sim/hhi-schedule.ts, `at` 'costs'): an efficiency some rule
   * with perfect information could reach under the cap, so the most any rule can reach lies between this and
   * efficiencyBoundAtCap. NaN when the heuristic finds no such assignment.
   */
  efficiencyScheduleAtCap: number;
  /** Censored p99 / other p99 of this run (the censorship latency target). */
  censoredP99Ratio: number;
  /** Fewest provers that together delivered at least half of the proofs. */
  top50: number;
  winners: number;
  censoredRequests: number;
  censoredFillRate: number;
  otherFillRate: number;
  reassignments: number;
  /** Share of delivered proofs whose price exceeded the requester's value (racing's ex-post price can). */
  overValue: number;
  invariantBlocks: number;
  invariantFailures: number;
}

/** Nearest-rank percentile of a sorted array (NaN when empty). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

const num = (x: bigint) => Number(x);

/** Prover `i`'s profit in a run: what it was paid less its compute and its slashes (uproof). */
export function profitOf(o: RunOutcome, i: number): number {
  return num(o.proverRevenue[i] - o.proverCompute[i] - o.proverSlashed[i]);
}

/**
 * Every metric of one run. `frontier: false` skips the HHI frontier and capped schedules (integer programs that take up
 * to seconds a run; their fields are then NaN): the deviation runs need only profits and efficiency.
 */
export function computeMetrics(w: World, o: RunOutcome, opts: { frontier: boolean } = { frontier: true }): Metrics {
  let delivered = 0;
  let expired = 0;
  let paid = 0n;
  let cheapest = 0n;
  let chosen = 0n;
  let censored = 0;
  let censoredDelivered = 0;
  let otherDelivered = 0;
  let reassignments = 0;
  let overValue = 0;
  const assign: number[] = [];
  const proof: number[] = [];
  const proofCensored: number[] = [];
  const proofOther: number[] = [];
  const bench = capacityAwareCosts(w);
  let benchOfDelivered = 0n;
  const minCost = w.circuits.map((c) => {
    let best: bigint | null = null;
    for (const p of w.provers) {
      if (!serves(w, p, c)) continue;
      const k = proofCost(p, c);
      if (best === null || k < best) best = k;
    }
    return best ?? 0n;
  });
  w.jobs.forEach((j, i) => {
    const r = o.jobs[i];
    if (j.censored) censored++;
    if (r.expired) expired++;
    if (r.attempts > 1) reassignments += r.attempts - 1;
    if (r.assignedBlock !== null) assign.push(r.assignedBlock - j.submitBlock);
    if (r.provedBlock !== null && r.prover !== null) {
      delivered++;
      if (j.censored) censoredDelivered++;
      else otherDelivered++;
      proof.push(r.provedBlock - j.submitBlock);
      (j.censored ? proofCensored : proofOther).push(r.provedBlock - j.submitBlock);
      benchOfDelivered += bench[i];
      paid += r.price;
      if (r.price > j.value) overValue++;
      cheapest += minCost[j.circuit];
      chosen += proofCost(w.provers[r.prover], w.circuits[j.circuit]);
    }
  });
  assign.sort((a, b) => a - b);
  proof.sort((a, b) => a - b);
  proofCensored.sort((a, b) => a - b);
  proofOther.sort((a, b) => a - b);
  const slashed = o.proverSlashed.reduce((a, b) => a + b, 0n);
  const profits = w.provers.map((_, p) => profitOf(o, p)).sort((a, b) => a - b);
  const wins = [...o.proverWins].sort((a, b) => b - a);
  const totalWins = wins.reduce((a, b) => a + b, 0);
  let hhi = 0;
  let top50 = 0;
  if (totalWins > 0) {
    for (const x of wins) hhi += ((x / totalWins) * 100) ** 2;
    let acc = 0;
    for (const x of wins) {
      acc += x;
      top50++;
      if (acc * 2 >= totalWins) break;
    }
  }
  const n = w.jobs.length;
  const deliveredMask = o.jobs.map((r) => r.provedBlock !== null && r.prover !== null);
  // null: not computed (no deliveries, or frontier: false), which is not the same as infeasible
  const bounds = opts.frontier && delivered > 0;
  const frontier = bounds ? frontierOf(w, deliveredMask) : null;
  const frontierPaid = frontier?.feasible ? frontier.bound : NaN;
  const uncapped = bounds ? frontierOf(w, deliveredMask, { num: 1, den: 1 }) : null;
  const schedule = bounds ? cappedScheduleOf(w, deliveredMask) : null;
  const costSchedule = bounds ? cappedScheduleOf(w, deliveredMask, 'costs') : null;
  const computeFloor = bounds ? frontierOf(w, deliveredMask, HHI_QUARTER, 'costs') : null;
  const per = (x: bigint) => (delivered === 0 ? NaN : num(x) / delivered);
  return {
    mechanism: o.mechanism,
    provers: w.provers.length,
    requests: n,
    delivered,
    expired,
    fillRate: n === 0 ? NaN : delivered / n,
    resourceCostPerProof: per(o.totalCompute),
    pricePerProof: per(paid),
    computationsPerProof: delivered === 0 ? NaN : o.computations / delivered,
    assignP50: percentile(assign, 0.5),
    assignP99: percentile(assign, 0.99),
    proofP50: percentile(proof, 0.5),
    proofP99: percentile(proof, 0.99),
    allocativeEfficiency: chosen === 0n ? NaN : num(cheapest) / num(chosen),
    resourceEfficiency: o.totalCompute === 0n ? NaN : num(cheapest) / num(o.totalCompute),
    efficiency: chosen === 0n ? NaN : num(benchOfDelivered) / num(chosen),
    censoredP50: percentile(proofCensored, 0.5),
    censoredP99: percentile(proofCensored, 0.99),
    otherP99: percentile(proofOther, 0.99),
    slashedPerRequest: n === 0 ? NaN : num(slashed) / n,
    compensationPerRequest: n === 0 ? NaN : num(o.compensation) / n,
    forfeitedPerRequest: n === 0 || o.forfeitedDeposits === undefined ? NaN : num(o.forfeitedDeposits) / n,
    participants: o.participants ?? NaN,
    racedPerRequest: o.races === undefined || n === 0 ? NaN : o.races / n,
    outracedHonest: o.races === undefined ? NaN : (o.outracedHonest ?? 0),
    profitMin: profits[0],
    profitMedian: percentile(profits, 0.5),
    profitMax: profits[profits.length - 1],
    losingProvers: profits.filter((x) => x < 0).length,
    hhi,
    benchmarkHhi: benchmarkHhi(w),
    frontierPricePerProof: frontierPaid / delivered,
    frontierRatio: paid === 0n ? NaN : frontierPaid / num(paid),
    frontierPremium: uncapped?.feasible && uncapped.bound > 0 ? frontierPaid / uncapped.bound : NaN,
    frontierScheduleRatio: schedule === null || paid === 0n ? NaN : schedule.cost / num(paid),
    frontierExact: frontier?.feasible ? (frontier.exact ? 1 : 0) : NaN,
    efficiencyBoundAtCap: computeFloor !== null && computeFloor.feasible && computeFloor.bound > 0 ? num(benchOfDelivered) / computeFloor.bound : NaN,
    efficiencyScheduleAtCap: costSchedule === null || costSchedule.cost === 0 ? NaN : num(benchOfDelivered) / costSchedule.cost,
    censoredP99Ratio: percentile(proofCensored, 0.99) / percentile(proofOther, 0.99),
    top50,
    winners: o.proverWins.filter((x) => x > 0).length,
    censoredRequests: censored,
    censoredFillRate: censored === 0 ? NaN : censoredDelivered / censored,
    otherFillRate: n - censored === 0 ? NaN : otherDelivered / (n - censored),
    reassignments,
    overValue: delivered === 0 ? NaN : overValue / delivered,
    invariantBlocks: o.invariantBlocks,
    invariantFailures: o.invariantFailures.length,
  };
}
