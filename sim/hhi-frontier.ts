/**
 * The HHI feasibility frontier (issue 11): the least a requester could pay, under ANY allocation rule that pays each
 * winner at least its ask, for the jobs a run served, if the winners' Herfindahl index must be at most H.
 *
 * Relaxations (each can only LOWER the figure, so the result is a lower bound on every such rule's payment):
 * - every prover may take any number of jobs of every circuit it serves (no capacity, timing or deadlines);
 * - each job is paid exactly the ask of the prover that takes it (pay-as-bid; the sim's ask for one proof of the
 *   circuit, `askPrice`), and the requester pays nothing more (no protocol fee, no uniform price above the ask).
 *
 * What is left is exact integer optimisation: jobs of one circuit are interchangeable, so with x[p][k] the jobs of
 * circuit k given to prover p and c_p = Σ_k x[p][k] its win count,
 *
 *     minimise Σ_{p,k} ask[p][k]·x[p][k]   s.t.  Σ_p x[p][k] = n_k,  x[p][k] = 0 where p does not serve k,
 *                                               Σ_p c_p² ≤ B = ⌊H·J²⌋   (HHI = Σ_p (c_p/J)² ≤ H, J = Σ_k n_k).
 *
 * Method (exact, with a proven lower bound if a node limit stops it first):
 * - Lagrangian relaxation of the HHI constraint: for λ ≥ 0, L(λ) = min_x Σ ask·x + λ(Σ c_p² − B) is a min-cost flow
 *   (circuits → provers → sink) whose prover→sink cost is convex in c_p (the t-th job costs λ(2t−1)); successive
 *   shortest paths solve it exactly (integral, because the flow network is). L(λ) ≤ optimum for every λ ≥ 0 (weak
 *   duality); we maximise it over λ by intersecting the two supporting lines around the constraint (all in integer
 *   arithmetic: λ is the rational (A_b − A_a)/(S_a − S_b)).
 * - The Lagrangian alone can stop short of the integer optimum (a duality gap), so a best-first branch and bound on
 *   per-prover win-count boxes lo_p ≤ c_p ≤ hi_p closes it: each node's Lagrangian (same flow, with forced and
 *   forbidden units) bounds the node, every solution met with Σ c² ≤ B is a feasible assignment (an upper bound), and
 *   the search stops when the smallest open bound reaches the best feasible cost. Then the result is EXACT (`exact`).
 *   If `maxNodes` runs out first, `bound` is the smallest open node bound: still a proven lower bound, and `exact`
 *   is false; `best` is then the cheapest feasible assignment found.
 * - No feasible assignment at all (H below what the eligible provers can spread to, e.g. H < 1/P) is reported as
 *   `feasible: false`, never as a number.
 *
 * Simulator-side only (never reachable from the chain): plain numbers, exact because every quantity is an integer
 * below 2^53 (checked).
 */

import { MinHeap } from '../src/collections/min-heap.js';
import { askPrice, proofCost, provingBlocks, serves, type ProverAgent, type SimCircuit, type World } from './agents.js';

export interface FrontierInstance {
  /** asks[p][k]: what prover p asks for one job of circuit k (uproof, integer ≥ 0), null where p does not serve k. */
  asks: readonly (readonly (number | null)[])[];
  /** jobs[k]: number of jobs of circuit k. */
  jobs: readonly number[];
}

/** The HHI cap as a fraction num/den of 1 (0.25 = {num: 1, den: 4}). */
export interface HhiCap {
  num: number;
  den: number;
}

export type FrontierResult =
  | { feasible: false; nodes: number }
  | {
      feasible: true;
      /** Proven lower bound on Σ payments (the exact optimum when `exact`). */
      bound: number;
      /** True when branch and bound closed the gap: bound = best = the optimum of the relaxed problem. */
      exact: boolean;
      /** Cost of the cheapest feasible assignment found (≥ bound). */
      best: number;
      /** That assignment: x[p][k] jobs of circuit k to prover p. */
      assignment: number[][];
      /** Branch-and-bound nodes evaluated. */
      nodes: number;
    };

export const HHI_QUARTER: HhiCap = { num: 1, den: 4 };

interface Flow {
  x: number[][];
  c: number[];
  /** Σ ask·x */
  cost: number;
  /** Σ c_p² */
  sumsq: number;
}

interface Node {
  lo: number[];
  hi: number[];
  /** ⌈node's Lagrangian bound⌉ (costs are integers, so the node's optimum is at least this). */
  bound: number;
  /** Exact lower bound as the fraction boundNum / boundDen (for the final, unrounded report). */
  boundNum: number;
  boundDen: number;
  /** Two Lagrangian minimisers at the optimal λ, one over the cap (a) and one within it (b). */
  a: Flow;
  b: Flow;
}

const LIMIT = 2 ** 52;

/** ⌈num / den⌉ for integers num ≥ 0, den > 0, exactly. */
function ceilDiv(num: number, den: number): number {
  let q = Math.floor(num / den);
  while (q * den < num) q++;
  while ((q - 1) * den >= num) q--;
  return q;
}

/**
 * One Lagrangian subproblem: the min-cost flow of all J jobs with per-prover convex cost λ·c_p², λ = lamNum/lamDen,
 * within the box lo ≤ c ≤ hi. Successive shortest paths: each step routes one more job along a cheapest residual path
 * circuit → prover (→ circuit → prover, moving jobs) → the prover's next unit. Costs are compared scaled by lamDen so
 * every comparison is between integers. Returns null when no flow fits the box.
 */
function solve(inst: FrontierInstance, lo: readonly number[], hi: readonly number[], lamNum: number, lamDen: number, big: number): Flow | null {
  const P = inst.asks.length;
  const K = inst.jobs.length;
  const x = Array.from({ length: P }, () => new Array<number>(K).fill(0));
  const c = new Array<number>(P).fill(0);
  const rem = inst.jobs.slice();
  const J = rem.reduce((s, v) => s + v, 0);
  const dk = new Array<number>(K);
  const dp = new Array<number>(P);
  const predK = new Array<number>(K);
  const predP = new Array<number>(P);
  for (let unit = 0; unit < J; unit++) {
    for (let k = 0; k < K; k++) {
      dk[k] = rem[k] > 0 ? 0 : Infinity;
      predK[k] = -1;
    }
    dp.fill(Infinity);
    // Bellman-Ford on the residual graph (no negative cycles: the flow so far is optimal for its size)
    for (let round = 0; round <= K + P + 1; round++) {
      let changed = false;
      for (let p = 0; p < P; p++) {
        const row = inst.asks[p];
        for (let k = 0; k < K; k++) {
          const a = row[k];
          if (a === null || dk[k] === Infinity) continue;
          if (dk[k] + a < dp[p]) {
            dp[p] = dk[k] + a;
            predP[p] = k;
            changed = true;
          }
        }
      }
      for (let p = 0; p < P; p++) {
        if (dp[p] === Infinity) continue;
        const row = inst.asks[p];
        for (let k = 0; k < K; k++) {
          if (x[p][k] === 0) continue;
          const v = dp[p] - (row[k] as number);
          if (v < dk[k]) {
            dk[k] = v;
            predK[k] = p;
            changed = true;
          }
        }
      }
      if (!changed) break;
      if (round === K + P + 1) throw new Error('hhi-frontier: negative cycle in a residual graph (bug)');
    }
    let best = -1;
    let bestScore = Infinity;
    for (let p = 0; p < P; p++) {
      if (dp[p] === Infinity || c[p] + 1 > hi[p]) continue;
      const t = c[p] + 1;
      const score = dp[p] * lamDen + lamNum * (2 * t - 1) - (t <= lo[p] ? big : 0);
      if (score < bestScore) {
        bestScore = score;
        best = p;
      }
    }
    if (best < 0) return null;
    c[best]++;
    let p = best;
    for (;;) {
      const k = predP[p];
      x[p][k]++;
      const q = predK[k];
      if (q < 0) {
        rem[k]--;
        break;
      }
      x[q][k]--;
      p = q;
    }
  }
  for (let p = 0; p < P; p++) if (c[p] < lo[p]) return null;
  let cost = 0;
  let sumsq = 0;
  for (let p = 0; p < P; p++) {
    sumsq += c[p] * c[p];
    for (let k = 0; k < K; k++) if (x[p][k] > 0) cost += (inst.asks[p][k] as number) * x[p][k];
  }
  return { x, c, cost, sumsq };
}

interface Ctx {
  inst: FrontierInstance;
  B: number;
  /** λ above which minimising Σc² comes first: 1 + the largest possible difference in cost. */
  lamInf: number;
  big: number;
  best: Flow | null;
}

function offer(ctx: Ctx, f: Flow): void {
  if (f.sumsq <= ctx.B && (ctx.best === null || f.cost < ctx.best.cost)) ctx.best = f;
}

/**
 * The Lagrangian dual of one box: 'infeasible' (no assignment in the box meets the cap), 'solved' (the dual is attained
 * by a feasible assignment, which was offered as a candidate), or a node to branch on.
 */
function evaluate(ctx: Ctx, lo: number[], hi: number[]): 'infeasible' | 'solved' | Node {
  const { inst, B, big } = ctx;
  const s0 = solve(inst, lo, hi, 0, 1, big);
  if (s0 === null) return 'infeasible';
  offer(ctx, s0);
  if (s0.sumsq <= B) return 'solved'; // the cheapest flow in the box already meets the cap
  const sInf = solve(inst, lo, hi, ctx.lamInf, 1, big);
  if (sInf === null || sInf.sumsq > B) return 'infeasible'; // the most even flow in the box is still over the cap
  offer(ctx, sInf);
  let a = s0;
  let b = sInf;
  for (;;) {
    // the two lines cost + λ(sumsq − B) of a (rising) and b (falling) meet at λ = num/den
    const num = b.cost - a.cost;
    const den = a.sumsq - b.sumsq;
    const lineAt = a.cost * den + num * (a.sumsq - B); // den × the lines' value there
    if (Math.abs(lineAt) >= LIMIT || Math.abs(num) * 2 * (B + 1) >= LIMIT) throw new Error('hhi-frontier: instance too large for exact integer arithmetic');
    const s = solve(inst, lo, hi, num, den, big);
    if (s === null) throw new Error('hhi-frontier: a feasible box became infeasible (bug)');
    offer(ctx, s);
    const at = s.cost * den + num * (s.sumsq - B);
    if (at >= lineAt) {
      // L(λ*) = lineAt/den is the dual optimum of this box
      if (b.sumsq === B || num === 0) return 'solved'; // b is feasible and attains the bound
      return { lo, hi, bound: ceilDiv(lineAt, den), boundNum: lineAt, boundDen: den, a, b };
    }
    if (s.sumsq > B) a = s;
    else b = s;
  }
}

/** Min-heap of nodes by bound (ties: first pushed first, so the search is deterministic). */
class Heap {
  private readonly heap = new MinHeap<{ n: Node; seq: number }>((a, b) => a.n.bound < b.n.bound || (a.n.bound === b.n.bound && a.seq < b.seq));
  private seq = 0;
  get size(): number {
    return this.heap.size;
  }
  push(n: Node): void {
    this.heap.push({ n, seq: this.seq++ });
  }
  peek(): Node | undefined {
    return this.heap.peek()?.n;
  }
  pop(): Node | undefined {
    return this.heap.pop()?.n;
  }
}

/**
 * The cheapest any pay-at-least-the-ask rule could pay for `inst` with HHI ≤ cap (see the file comment). `maxNodes`
 * bounds the branch and bound (default 20,000); past it the result is a proven lower bound with `exact: false`.
 */
export function hhiFrontier(inst: FrontierInstance, cap: HhiCap = HHI_QUARTER, opts: { maxNodes?: number } = {}): FrontierResult {
  const maxNodes = opts.maxNodes ?? 20_000;
  const P = inst.asks.length;
  const K = inst.jobs.length;
  if (!(Number.isInteger(cap.num) && Number.isInteger(cap.den) && cap.num >= 0 && cap.den > 0)) throw new Error('hhi-frontier: cap must be a fraction of non-negative integers');
  let amax = 0;
  for (const row of inst.asks) {
    if (row.length !== K) throw new Error('hhi-frontier: every prover needs one ask entry per circuit');
    for (const a of row) {
      if (a === null) continue;
      if (!Number.isInteger(a) || a < 0) throw new Error(`hhi-frontier: asks must be non-negative integers, got ${a}`);
      if (a > amax) amax = a;
    }
  }
  for (const n of inst.jobs) if (!Number.isInteger(n) || n < 0) throw new Error(`hhi-frontier: job counts must be non-negative integers, got ${n}`);
  const J = inst.jobs.reduce((s, v) => s + v, 0);
  if (J === 0) return { feasible: true, bound: 0, exact: true, best: 0, assignment: inst.asks.map(() => new Array<number>(K).fill(0)), nodes: 0 };
  if (cap.num * J * J >= LIMIT || J * amax * (J * J + 1) >= LIMIT / 8) throw new Error('hhi-frontier: instance too large for exact integer arithmetic');
  // Σ c² is an integer, so Σ c² ≤ H·J² ⟺ Σ c² ≤ ⌊H·J²⌋
  const B = Math.floor((cap.num * J * J) / cap.den);
  const lamInf = J * amax + 1;
  // |scaled path cost| ≤ (K+1)·amax·J² and |scaled unit cost| ≤ lamInf·(2J+1); a forced unit (−big) must beat both
  const big = 4 * ((K + 1) * (amax + 1) * (J * J + 1) + lamInf * (2 * J + 1)) + 1;
  if (big >= LIMIT) throw new Error('hhi-frontier: instance too large for exact integer arithmetic');
  const ctx: Ctx = { inst, B, lamInf, big, best: null };
  // no prover can win more than ⌊√B⌋ jobs under the cap
  let root2 = Math.floor(Math.sqrt(B));
  while (root2 * root2 > B) root2--;
  while ((root2 + 1) * (root2 + 1) <= B) root2++;
  const hi0 = inst.asks.map((row) => (row.some((a) => a !== null) ? Math.min(root2, J) : 0));
  let nodes = 1;
  const root = evaluate(ctx, new Array<number>(P).fill(0), hi0);
  const heap = new Heap();
  if (root !== 'infeasible' && root !== 'solved') heap.push(root);
  let stopped: Node | null = null;
  while (heap.size > 0) {
    const top = heap.peek()!;
    if (ctx.best !== null && top.bound >= ctx.best.cost) break; // nothing open can beat the best feasible assignment
    if (nodes >= maxNodes) {
      stopped = top;
      break;
    }
    heap.pop();
    // branch on the prover whose win count differs most between the two minimisers at λ*
    let bp = -1;
    let gap = 0;
    for (let p = 0; p < P; p++) {
      const d = Math.abs(top.a.c[p] - top.b.c[p]);
      if (d > gap) {
        gap = d;
        bp = p;
      }
    }
    if (bp < 0) throw new Error('hhi-frontier: minimisers with equal win counts on both sides of the cap (bug)');
    const v = Math.floor((top.a.c[bp] + top.b.c[bp]) / 2); // one minimiser has c ≤ v, the other c ≥ v + 1
    const left = { lo: top.lo.slice(), hi: top.hi.slice() };
    left.hi[bp] = v;
    const right = { lo: top.lo.slice(), hi: top.hi.slice() };
    right.lo[bp] = v + 1;
    for (const box of [left, right]) {
      if (box.lo[bp] > box.hi[bp]) continue;
      nodes++;
      const r = evaluate(ctx, box.lo, box.hi);
      if (r !== 'infeasible' && r !== 'solved' && (ctx.best === null || r.bound < ctx.best.cost)) heap.push(r);
    }
  }
  if (ctx.best === null) {
    if (stopped === null) return { feasible: false, nodes };
    // the node limit ran out before any feasible assignment was met: report the bound without a witness
    throw new Error('hhi-frontier: node limit reached before a feasible assignment was found; raise maxNodes');
  }
  const best = ctx.best;
  if (stopped === null) return { feasible: true, bound: best.cost, exact: true, best: best.cost, assignment: best.x, nodes };
  return { feasible: true, bound: Math.min(stopped.bound, best.cost), exact: false, best: best.cost, assignment: best.x, nodes };
}

/** HHI (0..1) of an assignment's win counts. */
export function assignmentHhi(x: readonly (readonly number[])[]): number {
  const c = x.map((row) => row.reduce((s, v) => s + v, 0));
  const J = c.reduce((s, v) => s + v, 0);
  return J === 0 ? NaN : c.reduce((s, v) => s + (v / J) ** 2, 0);
}

/** The run's delivered proofs per circuit, and `price(p, c)` for every prover and circuit (null: not eligible). */
function instanceOf(w: World, delivered: readonly boolean[], price: (p: ProverAgent, c: SimCircuit) => number | null): FrontierInstance {
  const jobs = w.circuits.map(() => 0);
  w.jobs.forEach((j, i) => {
    if (delivered[i]) jobs[j.circuit]++;
  });
  return { asks: w.provers.map((p) => w.circuits.map((c) => price(p, c))), jobs };
}

/**
 * The instance of one run: the jobs it delivered (counted per circuit) and every prover's ask for each circuit it
 * serves (the asks the simulator posts: `askPrice`, only for circuits the prover `serves`).
 */
export function runInstance(w: World, delivered: readonly boolean[]): FrontierInstance {
  return instanceOf(w, delivered, (p, c) => (serves(w, p, c) ? Number(askPrice(p, c)) : null));
}

/**
 * The same jobs with every prover's true compute cost instead of its ask, for the efficiency bound (metrics.ts
 * `efficiencyBoundAtCap`): the frontier of this instance is the least compute any assignment of the run's delivered
 * proofs with HHI ≤ H can use. Eligibility is as loose as any delivery can be — a prover is counted for a circuit if
 * one proof takes it no longer than the longest request lifetime of the scenario (no proof can land later) — so the
 * figure stays a lower bound on the compute of every rule, whatever it assigns.
 */
export function costInstance(w: World, delivered: readonly boolean[]): FrontierInstance {
  const longest = Math.max(...w.scenario.requesters.map((r) => r.lifetime));
  return instanceOf(w, delivered, (p, c) => (provingBlocks(p, c, w.scenario.blockSeconds) <= longest ? Number(proofCost(p, c)) : null));
}
