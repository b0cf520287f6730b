/**
 * The other side of the HHI frontier (issue 11): an assignment of a run's delivered proofs that respects the provers'
 * slots, proving times and every request's deadline, has winners' HHI ≤ the cap, and pays each proof its prover's ask.
 * Found by a heuristic, so its cost is an UPPER bound on what an omniscient pay-as-bid allocator (truthful asks as
 * posted) would need; sim/hhi-frontier.ts gives the lower bound that ignores capacity and time. Together they bracket
 * the least a rule paying each winner at least its ask could pay for HHI ≤ cap once capacity and time count.
 *
 * The heuristic replays the blocks like the capacity-aware benchmark (sim/metrics.ts capacityAwareCosts): every block,
 * the open delivered jobs in arrival order each go to the cheapest ask among the provers that serve the circuit, have a
 * free slot and can finish by the deadline — but a prover that has won L jobs takes no more. With L ≤ J·H every complete
 * assignment meets the cap (Σ c² ≤ max c · Σ c ≤ L·J ≤ H·J²); larger L are tried too and kept only when the realised
 * Σ c² meets the cap. The cheapest complete assignment within the cap wins; null when no L completes one.
 *
 * `at` 'costs' runs the same heuristic on the provers' true compute costs instead of their asks (every prover that
 * serves the circuit, whatever it asks): then it is an assignment within slots, deadlines and the cap that uses that
 * much compute, so the capacity-aware benchmark's cost over it is an efficiency some rule could reach with HHI ≤ the
 * cap (sim/metrics.ts efficiencyScheduleAtCap), beside the frontier's upper bound that ignores capacity.
 */
import { askPrice, proofCost, provingBlocks, serves, type World } from './agents.js';
import { Slots } from './mechanisms/slots.js';
import type { HhiCap } from './hhi-frontier.js';

export interface CappedSchedule {
  /** Σ asks (or true costs, `at` 'costs') of the assignment (uproof). */
  cost: number;
  /** The per-prover win limit that produced it. */
  limit: number;
  /** Win counts per prover. */
  counts: number[];
  /** job index → prover index (null for jobs not delivered in the run). */
  prover: (number | null)[];
  /** job index → block its proof starts (null for jobs not delivered in the run). */
  start: (number | null)[];
}

/** One replay with win limit L; null if some delivered job finds no prover before it expires. */
function replay(w: World, delivered: readonly boolean[], limit: number, at: 'asks' | 'costs'): CappedSchedule | null {
  const slots = new Slots(w);
  const bs = w.scenario.blockSeconds;
  const asks = w.provers.map((p) => w.circuits.map((c) => (serves(w, p, c) ? (at === 'asks' ? askPrice(p, c) : proofCost(p, c)) : null)));
  const counts = w.provers.map(() => 0);
  const prover: (number | null)[] = w.jobs.map(() => null);
  const start: (number | null)[] = w.jobs.map(() => null);
  let cost = 0n;
  let open: number[] = [];
  let next = 0;
  let left = delivered.filter(Boolean).length;
  for (let h = 1; h <= w.endBlock && (left > 0 || next < w.jobs.length); h++) {
    while (next < w.jobs.length && w.jobs[next].submitBlock === h) {
      if (delivered[next]) open.push(next);
      next++;
    }
    const still: number[] = [];
    for (const i of open) {
      const j = w.jobs[i];
      if (h >= j.submitBlock + j.lifetime) return null; // expired unserved
      const c = w.circuits[j.circuit];
      const deadline = Math.min(h + j.window, j.submitBlock + j.lifetime);
      let best = -1;
      for (const p of w.provers) {
        const a = asks[p.idx][c.idx];
        if (a === null || counts[p.idx] >= limit || slots.free(p.idx, h) === 0 || h + provingBlocks(p, c, bs) > deadline) continue;
        if (best < 0 || a < (asks[best][c.idx] as bigint)) best = p.idx;
      }
      if (best < 0) {
        still.push(i);
        continue;
      }
      slots.occupy(best, h, h + provingBlocks(w.provers[best], c, bs));
      counts[best]++;
      prover[i] = best;
      start[i] = h;
      cost += asks[best][c.idx] as bigint;
      left--;
    }
    open = still;
  }
  if (left > 0) return null;
  return { cost: Number(cost), limit, counts, prover, start };
}

/** The cheapest assignment within the cap the heuristic finds (see the file comment), or null. */
export function cappedSchedule(w: World, delivered: readonly boolean[], cap: HhiCap, at: 'asks' | 'costs' = 'asks'): CappedSchedule | null {
  const J = delivered.filter(Boolean).length;
  if (J === 0) return { cost: 0, limit: 0, counts: w.provers.map(() => 0), prover: w.jobs.map(() => null), start: w.jobs.map(() => null) };
  const B = Math.floor((cap.num * J * J) / cap.den);
  const safe = Math.floor((cap.num * J) / cap.den); // L·J ≤ H·J²
  let rootB = Math.floor(Math.sqrt(B));
  while ((rootB + 1) * (rootB + 1) <= B) rootB++;
  let best: CappedSchedule | null = null;
  for (let limit = Math.max(1, safe); limit <= Math.max(1, rootB); limit++) {
    const s = replay(w, delivered, limit, at);
    if (s === null) continue;
    if (s.counts.reduce((a, c) => a + c * c, 0) > B) continue;
    if (best === null || s.cost < best.cost) best = s;
  }
  return best;
}
