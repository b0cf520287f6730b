/**
 * The agent population and the demand stream of one run, drawn once from (scenario, seed, prover count) and shared by
 * every mechanism, so mechanisms are compared on identical provers and identical arrivals.
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

/** Largest-remainder apportionment of n items to shares, then a seeded shuffle of the labels. */
function apportion(n: number, shares: readonly number[], rng: Rng): number[] {
  const total = shares.reduce((a, b) => a + b, 0);
  const exact = shares.map((s) => (s / total) * n);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length].i]++;
  const labels: number[] = [];
  counts.forEach((c, i) => {
    for (let k = 0; k < c; k++) labels.push(i);
  });
  return rng.shuffle(labels);
}

function pickFlags(n: number, share: number, rng: Rng): boolean[] {
  const k = Math.round(share * n);
  const flags = Array.from({ length: n }, (_, i) => i < k);
  return rng.shuffle(flags);
}

export function buildWorld(s: Scenario, seed: number, proverCount: number): World {
  const circuits = s.circuits.map((c, idx) => ({ idx, name: c.name, constraints: c.constraints }));
  const hwRng = new Rng(seed, `hardware/${proverCount}`);
  const hw = apportion(proverCount, s.hardware.map((h) => h.share), hwRng);
  const strat = apportion(proverCount, s.strategies.map((x) => x.share), new Rng(seed, `strategy/${proverCount}`));
  const flaky = pickFlags(proverCount, s.flaky.share, new Rng(seed, `flaky/${proverCount}`));
  const coal = pickFlags(proverCount, s.coalition.share, new Rng(seed, `coalition/${proverCount}`));
  const draw = new Rng(seed, `prover-draws/${proverCount}`);
  const provers: ProverAgent[] = [];
  for (let i = 0; i < proverCount; i++) {
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
      coalition: coal[i],
      collateral: BigInt(s.collateral),
    });
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
  return { scenario: s, seed, circuits, provers, requesters, jobs, minWindow, endBlock: s.blocks + s.drainBlocks };
}

// ---- economics of one prover on one circuit ----------------------------------------------------------------------

/** Compute cost of one proof (uproof, rounded up): constraints / speed seconds at costPerHour. */
export function proofCost(p: ProverAgent, c: SimCircuit): bigint {
  const num = BigInt(c.constraints) * BigInt(p.costPerHour);
  const den = BigInt(p.speed) * 3600n;
  return (num + den - 1n) / den;
}

/** Blocks one slot needs for one proof (at least 1). */
export function provingBlocks(p: ProverAgent, c: SimCircuit, blockSeconds: number): number {
  return Math.max(1, Math.ceil(c.constraints / (p.speed * blockSeconds)));
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
