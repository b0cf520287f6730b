/**
 * The three comparison mechanisms, simulated off-chain on the same World as proofbook:
 *
 *  - racing: every participating free prover able to serve a request starts proving it at once; the first valid proof
 *    wins the posted reward and the others abort when it lands (their work so far is wasted, unpaid). Free entry and
 *    exit: provers that lose money stop racing (runRacing).
 *  - trusted: one trusted prover (trustedProver) serves everything at the posted price.
 *  - fixed: a posted price per circuit; the first free prover that finds the price worth its cost claims the request
 *    (who is first is a seeded draw: network latency). No collateral, a crash is noticed at the deadline.
 *  - random: VRF-style assignment: a uniformly random bonded prover with a free slot gets the request at the posted
 *    price, whatever its cost; a coalition member simply lets a censored request lapse (noticed at the deadline).
 *
 * In fixed and random, a requester whose value is below the posted price does not buy (counted as expired).
 * In racing a requester whose value is below the posted reward does not post it either.
 */
import { crashes, deliveryBlocks, postedPrice, proofCost, provingBlocks, refuses, serves, type Job, type World } from '../agents.js';
import { newOutcome, spend, type RunOutcome } from '../metrics.js';
import { Rng } from '../rng.js';
import { Calendar, OpenQueue, Slots } from './slots.js';

type Ev = { kind: 'deliver'; job: number; prover: number; price: bigint } | { kind: 'fail'; job: number } | { kind: 'race-end'; job: number };

function deadlineOf(j: Job, h: number): number {
  return Math.min(h + j.window, j.submitBlock + j.lifetime);
}

/**
 * The single trusted prover: the cheapest per constraint among the provers that serve every circuit (or, when none
 * does, that serve the most circuits). It is paid the posted price; if it is flaky or in the coalition it behaves so.
 */
export function trustedProver(w: World): number {
  const served = (i: number) => w.circuits.filter((c) => serves(w, w.provers[i], c)).length;
  let best = 0;
  for (let i = 1; i < w.provers.length; i++) {
    const a = w.provers[i];
    const b = w.provers[best];
    if (served(i) > served(best) || (served(i) === served(best) && a.costPerMConstraints < b.costPerMConstraints)) best = i;
  }
  return best;
}

/** Fixed-price first-come, random and trusted assignment share one loop; they differ in who is eligible and who is picked. */
function assignmentLoop(w: World, mode: 'fixed' | 'random' | 'trusted'): RunOutcome {
  const o = newOutcome(w, mode);
  const trusted = mode === 'trusted' ? trustedProver(w) : -1;
  const slots = new Slots(w);
  const cal = new Calendar<Ev>();
  const open = new OpenQueue();
  const rng = new Rng(w.seed, `pick/${mode}/${w.provers.length}`);
  const bs = w.scenario.blockSeconds;
  let next = 0;
  for (let h = 1; h <= w.endBlock; h++) {
    while (next < w.jobs.length && w.jobs[next].submitBlock === h) open.add(w.jobs[next++].id);
    for (const e of cal.take(h)) {
      const r = o.jobs[e.job - 1];
      if (e.kind === 'deliver') {
        r.provedBlock = h;
        r.prover = e.prover;
        r.price = e.price;
        o.proverRevenue[e.prover] += e.price;
        o.proverWins[e.prover]++;
      } else open.add(e.job);
    }
    for (const id of open.list()) {
      const j = w.jobs[id - 1];
      if (h >= j.submitBlock + j.lifetime) {
        open.remove(id);
        o.jobs[id - 1].expired = true;
        continue;
      }
      const c = w.circuits[j.circuit];
      const price = postedPrice(w, c);
      if (j.value < price) {
        // the posted price is above what the requester will pay: it never buys
        open.remove(id);
        o.jobs[id - 1].expired = true;
        continue;
      }
      const deadline = deadlineOf(j, h);
      const willing = w.provers.filter((p) => {
        if (slots.free(p.idx, h) === 0 || !serves(w, p, c)) return false;
        if (h + provingBlocks(p, c, bs) > deadline) return false;
        if (mode === 'fixed') return !refuses(p, j) && proofCost(p, c) <= price;
        if (mode === 'trusted') return p.idx === trusted;
        return true;
      });
      if (willing.length === 0) continue;
      const p = willing[rng.int(0, willing.length - 1)];
      open.remove(id);
      const r = o.jobs[id - 1];
      r.attempts++;
      r.assignedBlock ??= h;
      if (refuses(p, j)) {
        cal.at(deadline + 1, { kind: 'fail', job: id });
        continue;
      }
      o.computations++;
      spend(o, p.idx, proofCost(p, c));
      if (crashes(w, p, id, r.attempts)) {
        slots.occupy(p.idx, h, deadline + 1);
        cal.at(deadline + 1, { kind: 'fail', job: id });
      } else {
        const done = h + deliveryBlocks(w, p, c, id, r.attempts);
        slots.occupy(p.idx, h, done);
        cal.at(done, { kind: 'deliver', job: id, prover: p.idx, price });
      }
    }
  }
  for (const id of open.list()) o.jobs[id - 1].expired = true;
  return o;
}

export function runFixed(w: World): RunOutcome {
  return assignmentLoop(w, 'fixed');
}

export function runRandom(w: World): RunOutcome {
  return assignmentLoop(w, 'random');
}

export function runTrusted(w: World): RunOutcome {
  return assignmentLoop(w, 'trusted');
}

/**
 * Racing with a posted reward and free entry and exit: every request whose value covers the posted price is raced by
 * the participating provers; the first valid proof is paid the posted price, losers are paid nothing. Entry/exit: all
 * provers start racing; after each full run the prover with the largest loss (revenue - compute < 0) stops racing,
 * and the run is repeated until no participant loses money. The last run is the equilibrium; `participants` is the
 * equilibrium number of racers.
 */
export function runRacing(w: World): RunOutcome {
  const active = new Set(w.provers.filter((p) => w.circuits.some((c) => serves(w, p, c))).map((p) => p.idx));
  for (;;) {
    const { o } = raceOnce(w, (j) => j.value >= postedPrice(w, w.circuits[j.circuit]), active);
    o.participants = active.size;
    let worst = -1;
    let worstProfit = 0n;
    for (const i of active) {
      const profit = o.proverRevenue[i] - o.proverCompute[i];
      if (profit < worstProfit || (profit === worstProfit && worst >= 0 && profit < 0n && i < worst)) {
        worst = i;
        worstProfit = profit;
      }
    }
    if (worst < 0 || active.size === 1) return o;
    active.delete(worst);
  }
}

function raceOnce(w: World, buys: (j: Job) => boolean, active: ReadonlySet<number>): { o: RunOutcome } {
  const o = newOutcome(w, 'racing');
  const slots = new Slots(w);
  const cal = new Calendar<Ev>();
  const open = new OpenQueue();
  const bs = w.scenario.blockSeconds;
  const winnerOf = new Map<number, number>();
  let next = 0;
  for (let h = 1; h <= w.endBlock; h++) {
    while (next < w.jobs.length && w.jobs[next].submitBlock === h) open.add(w.jobs[next++].id);
    for (const e of cal.take(h)) {
      const winner = winnerOf.get(e.job);
      if (winner === undefined) {
        open.add(e.job);
        continue;
      }
      const r = o.jobs[e.job - 1];
      r.provedBlock = h;
      r.prover = winner;
      o.proverWins[winner]++;
    }
    for (const id of open.list()) {
      const j = w.jobs[id - 1];
      if (h >= j.submitBlock + j.lifetime || !buys(j)) {
        open.remove(id);
        o.jobs[id - 1].expired = true;
        continue;
      }
      const c = w.circuits[j.circuit];
      const deadline = deadlineOf(j, h);
      const racers = w.provers.filter((p) => active.has(p.idx) && slots.free(p.idx, h) > 0 && serves(w, p, c) && !refuses(p, j) && h + provingBlocks(p, c, bs) <= deadline);
      if (racers.length === 0) continue;
      open.remove(id);
      const r = o.jobs[id - 1];
      r.attempts++;
      r.assignedBlock ??= h;
      let best: { p: number; done: number; tie: number } | null = null;
      let last = h;
      const tie = new Rng(w.seed, `race/${w.provers.length}/${id}/${r.attempts}`);
      for (const p of racers) {
        const done = h + deliveryBlocks(w, p, c, id, r.attempts);
        last = Math.max(last, done);
        const t = tie.u32();
        if (crashes(w, p, id, r.attempts)) continue;
        if (best === null || done < best.done || (done === best.done && t < best.tie)) best = { p: p.idx, done, tie: t };
      }
      const end = best === null ? last : best.done;
      for (const p of racers) {
        const pb = deliveryBlocks(w, p, c, id, r.attempts);
        const worked = Math.min(pb, end - h);
        const cost = (proofCost(p, c) * BigInt(worked)) / BigInt(pb);
        spend(o, p.idx, cost);
        slots.occupy(p.idx, h, end);
      }
      o.computations += racers.length;
      if (best === null) winnerOf.delete(id);
      else winnerOf.set(id, best.p);
      cal.at(end, { kind: 'race-end', job: id });
    }
  }
  for (const id of open.list()) o.jobs[id - 1].expired = true;
  // Posted reward, paid to the winner only.
  w.jobs.forEach((j, i) => {
    const r = o.jobs[i];
    if (r.provedBlock === null || r.prover === null) return;
    r.price = postedPrice(w, w.circuits[j.circuit]);
    o.proverRevenue[r.prover] += r.price;
  });
  return { o };
}
