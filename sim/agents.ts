/**
 * The agent population and the demand stream of one run, drawn once from (scenario, seed, prover count) and shared by
 * every mechanism, so mechanisms are compared on identical provers and identical arrivals. Prover i's hardware draws
 * depend only on (seed, i) and its labels are prefix-balanced, so smaller populations are prefixes of larger ones;
 * the arrivals depend only on the seed, never on the prover count.
 */
import { createHash } from 'node:crypto';
import { addressFromBytes, type Address } from '../src/crypto/address.js';
import { Rng, hashUnit } from './rng.js';
import type { Scenario, Strategy } from './scenario.js';

export interface SimCircuit {
  idx: number;
  name: string;
  constraints: number;
}

export interface ProverAgent {
  idx: number;
  name: string;
  address: Address;
  hardware: string;
  costPerHour: number;
  speed: number;
  capacity: number;
  strategy: Strategy['kind'];
  markupBps: number;
  /** Probability of crashing on a job, parts per million (0 for reliable provers). */
  crashPpm: number;
  coalition: boolean;
  /** uproof per million constraints (costPerHour / speed, scaled): the ranking used by `pick: 'cheapest'`. */
  costPerMConstraints: number;
  collateral: bigint;
}

export interface RequesterAgent {
  idx: number;
  name: string;
  address: Address;
  cls: number;
  censored: boolean;
}

export interface Job {
  /** 1-based, in submission order; also the proofbook request id (requests are submitted in this order). */
  id: number;
  requester: number;
  circuit: number;
  submitBlock: number;
  /** The most the requester pays (uproof). */
  value: bigint;
  window: number;
  lifetime: number;
  censored: boolean;
}

export interface World {
  scenario: Scenario;
  seed: number;
  circuits: SimCircuit[];
  provers: ProverAgent[];
  requesters: RequesterAgent[];
  jobs: Job[];
  /** Shortest proving window any requester asks for: a prover serves a circuit only if it proves it that fast. */
  minWindow: number;
  /** Last block simulated (arrivals stop at scenario.blocks). */
  endBlock: number;
}

export function simAddress(label: string): Address {
  return addressFromBytes(createHash('sha256').update(`proofbook-sim/${label}`).digest().subarray(0, 20));
}

/**
 * Prefix-balanced labels: item i takes the label with the largest deficit share*(i+1) - count (ties: lowest label),
 * so every prefix of the population holds the shares as closely as integers allow. Populations of different sizes
 * are therefore nested: the first 8 provers of the 64-prover world are the 8-prover world (the sweep compares like
 * with like).
 */
function balancedLabels(n: number, shares: readonly number[], offset = 0): number[] {
  if (offset > 0) return balancedLabels(n + offset, shares).slice(offset);
  const total = shares.reduce((a, b) => a + b, 0);
  const counts = shares.map(() => 0);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestDeficit = -Infinity;
    shares.forEach((sh, k) => {
      const d = (sh / total) * (i + 1) - counts[k];
      if (d > bestDeficit + 1e-12) {
        best = k;
        bestDeficit = d;
      }
    });
    counts[best]++;
    out.push(best);
  }
  return out;
}

/** Prefix-balanced flags: item i is flagged when round(share * (i+1)) exceeds the flags so far. */
function balancedFlags(n: number, share: number, offset: number): boolean[] {
  const out: boolean[] = [];
  let k = 0;
  for (let i = 0; i < n; i++) {
    const want = Math.round(share * (i + 1 + offset)) - Math.round(share * offset);
    out.push(want > k);
    if (want > k) k++;
  }
  return out;
}

export function buildWorld(s: Scenario, seed: number, proverCount: number): World {
  const circuits = s.circuits.map((c, idx) => ({ idx, name: c.name, constraints: c.constraints }));
  const hw = balancedLabels(proverCount, s.hardware.map((h) => h.share));
  // strategies are balanced within each hardware class (class k's pattern starts 3k steps later), so under- and
  // over-bidders appear on every kind of hardware
  const strat: number[] = [];
  const perClass = s.hardware.map((_, k) => balancedLabels(proverCount, s.strategies.map((x) => x.share), 3 * k));
  const seen = s.hardware.map(() => 0);
  for (const k of hw) strat.push(perClass[k][seen[k]++]);
  // offsets decorrelate the flag patterns from each other
  const flaky = balancedFlags(proverCount, s.flaky.share, 1);
  const coal = balancedFlags(proverCount, s.coalition.share, 2);
  const provers: ProverAgent[] = [];
  for (let i = 0; i < proverCount; i++) {
    const draw = new Rng(seed, `prover/${i}`);
    const h = s.hardware[hw[i]];
    const st = s.strategies[strat[i]];
    provers.push({
      idx: i,
      name: `p${String(i).padStart(2, '0')}-${h.name}`,
      address: simAddress(`prover/${i}`),
      hardware: h.name,
      costPerHour: draw.logInt(h.costPerHour.min, h.costPerHour.max),
      speed: draw.logInt(h.speed.min, h.speed.max),
      capacity: draw.int(h.capacity.min, h.capacity.max),
      strategy: st.kind,
      markupBps: st.markupBps,
      crashPpm: flaky[i] ? s.flaky.crashPpm : 0,
      costPerMConstraints: 0,
      coalition: coal[i],
      collateral: BigInt(s.collateral),
    });
  }
  for (const p of provers) p.costPerMConstraints = (p.costPerHour * 1e6) / (p.speed * 3600);
  const cheapest = (share: number): Set<number> => {
    const k = Math.round(share * proverCount);
    return new Set([...provers].sort((a, b) => a.costPerMConstraints - b.costPerMConstraints || a.idx - b.idx).slice(0, k).map((p) => p.idx));
  };
  if (s.flaky.pick === 'cheapest') {
    const set = cheapest(s.flaky.share);
    for (const p of provers) p.crashPpm = set.has(p.idx) ? s.flaky.crashPpm : 0;
  }
  if (s.coalition.pick === 'cheapest') {
    const set = cheapest(s.coalition.share);
    for (const p of provers) p.coalition = set.has(p.idx);
  }
  const requesters: RequesterAgent[] = [];
  s.requesters.forEach((rc, cls) => {
    for (let k = 0; k < rc.count; k++) {
      const idx = requesters.length;
      requesters.push({ idx, name: `${rc.name}-${k}`, address: simAddress(`requester/${idx}`), cls, censored: rc.censored === true });
    }
  });
  const byClass = s.requesters.map((_, cls) => requesters.filter((r) => r.cls === cls));
  const arrivals = new Rng(seed, 'arrivals');
  const jobs: Job[] = [];
  const weights = s.circuits.map((c) => c.weight);
  for (let b = 1; b <= s.blocks; b++) {
    const inSpike = s.spike !== undefined && b >= s.spike.fromBlock && b <= s.spike.toBlock;
    s.requesters.forEach((rc, cls) => {
      const n = arrivals.poisson(rc.ratePerBlock * (inSpike ? s.spike!.rateMultiplier : 1));
      for (let k = 0; k < n; k++) {
        const who = byClass[cls][arrivals.int(0, rc.count - 1)];
        const c = circuits[arrivals.weighted(weights)];
        const perM = Math.round(rc.valuePerMConstraints * (inSpike ? s.spike!.valueMultiplier : 1));
        let value = (BigInt(perM) * BigInt(c.constraints)) / 1_000_000n;
        if (value < 1000n) value = 1000n; // market params.min_fee
        jobs.push({ id: jobs.length + 1, requester: who.idx, circuit: c.idx, submitBlock: b, value, window: rc.window, lifetime: rc.lifetime, censored: who.censored });
      }
    });
  }
  const minWindow = Math.min(...s.requesters.map((r) => r.window));
  // run until every request has reached its expiry (and so a final status), at least blocks + drainBlocks: a run that
  // stopped while requests were still live would count them as unfilled and cut their latencies off (issue 11: the
  // 0.1 % 'missing' in crash-2x were requests missed near the end, still waiting in the fallback when the run stopped)
  let lastExpiry = 0;
  for (const j of jobs) if (j.submitBlock + j.lifetime > lastExpiry) lastExpiry = j.submitBlock + j.lifetime;
  const endBlock = Math.max(s.blocks + s.drainBlocks, lastExpiry + 1);
  return { scenario: s, seed, circuits, provers, requesters, jobs, minWindow, endBlock };
}

// ---- economics of one prover on one circuit ----------------------------------------------------------------------

/** Compute cost of one proof (uproof, rounded up): constraints / speed seconds at costPerHour. */
export function proofCost(p: ProverAgent, c: SimCircuit): bigint {
  const num = BigInt(c.constraints) * BigInt(p.costPerHour);
  const den = BigInt(p.speed) * 3600n;
  return (num + den - 1n) / den;
}

/** Blocks one slot needs for one proof (at least 1); `slower` stretches its time (deliveryBlocks). */
export function provingBlocks(p: ProverAgent, c: SimCircuit, blockSeconds: number, slower = 1): number {
  return Math.max(1, Math.ceil((c.constraints * slower) / (p.speed * blockSeconds)));
}

/**
 * Blocks the prover's `attempt`-th proof of job `jobId` takes to deliver: the nominal provingBlocks, up to
 * scenario.provingJitter longer (a uniform draw, a pure function of seed, prover, job and attempt). Without jitter
 * it is provingBlocks exactly. Plans use provingBlocks; deliveries this.
 */
export function deliveryBlocks(w: World, p: ProverAgent, c: SimCircuit, jobId: number, attempt: number): number {
  const jitter = w.scenario.provingJitter ?? 0;
  return provingBlocks(p, c, w.scenario.blockSeconds, jitter === 0 ? 1 : 1 + jitter * hashUnit(w.seed, 0x717e, p.idx, jobId, attempt));
}

/** The prover can meet every requester's window on this circuit. */
export function serves(w: World, p: ProverAgent, c: SimCircuit): boolean {
  return provingBlocks(p, c, w.scenario.blockSeconds) <= w.minWindow;
}

/** The prover's ask price for a circuit under its strategy (at least 1). */
export function askPrice(p: ProverAgent, c: SimCircuit): bigint {
  const v = (proofCost(p, c) * BigInt(10_000 + p.markupBps)) / 10_000n;
  return v < 1n ? 1n : v;
}

/** Does the prover crash on this attempt at this job? A pure function of (seed, prover, job, attempt). */
export function crashes(w: World, p: ProverAgent, jobId: number, attempt: number): boolean {
  if (p.crashPpm === 0) return false;
  return hashUnit(w.seed, 0xc4a5, p.idx, jobId, attempt) * 1_000_000 < p.crashPpm;
}

/** Coalition members refuse censored requesters. */
export function refuses(p: ProverAgent, job: Job): boolean {
  return p.coalition && job.censored;
}

/** The price a posted-price mechanism charges for a circuit. */
export function postedPrice(w: World, c: SimCircuit): bigint {
  const v = (BigInt(w.scenario.fixedPricePerMConstraints) * BigInt(c.constraints)) / 1_000_000n;
  return v < 1n ? 1n : v;
}
