/**
 * `npm run bench -- matching [--quick]`: the per-circuit batch auction (modules/market/matching.ts).
 *
 * Measures clearCircuit against the O(R*A) reference (clearCircuitReference: same rule, scans the sorted asks from
 * the start for every request) on the same generated books in the same process, and checks both give the same
 * result. Books come from a seeded PRNG so every run clears the same inputs. Each clear is timed on its own and the
 * table reports the median (robust to other processes on a shared 2-core machine); the note gives mean and min.
 */
import { printTable, type BenchRow } from './table.js';
import {
  clearCircuit, clearCircuitReference, type MatchAsk, type MatchRequest, type MatchParams, type ClearingResult,
} from '../modules/market/matching.js';

interface Book {
  requests: MatchRequest[];
  asks: MatchAsk[];
  free: Map<string, bigint>;
  params: MatchParams;
}

function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) | 0;
  };
}

/**
 * Realistic book: R requests (fees 50..149, a third with a minCollateral), A asks from A/2 provers (two asks each,
 * prices 10..109, capacity 1..20), free collateral per prover 500..20,499 so collateral binds for some provers.
 */
function realisticBook(R: number, A: number, seed: number): Book {
  const rnd = prng(seed);
  const requests: MatchRequest[] = [];
  for (let i = 0; i < R; i++) {
    requests.push({
      id: BigInt(i + 1),
      currentFee: BigInt(50 + rnd(100)),
      minCollateral: rnd(3) === 0 ? BigInt(rnd(400)) : 0n,
    });
  }
  const asks: MatchAsk[] = [];
  const free = new Map<string, bigint>();
  const provers = Math.max(1, A >> 1);
  for (let p = 0; p < provers; p++) free.set(`prover${p}`, BigInt(500 + rnd(20_000)));
  for (let i = 0; i < A; i++) {
    asks.push({
      id: BigInt(i + 1),
      prover: `prover${i % provers}`,
      price: BigInt(10 + rnd(100)),
      capacity: BigInt(1 + rnd(20)),
      reputation: BigInt(rnd(1000)),
    });
  }
  return { requests, asks, free, params: { collateralRatioBps: 15_000n } };
}

/** Everything matches: fees above every ask, ample collateral, total capacity = R. */
function fullBook(R: number, A: number, seed: number): Book {
  const rnd = prng(seed);
  const requests: MatchRequest[] = [];
  for (let i = 0; i < R; i++) requests.push({ id: BigInt(i + 1), currentFee: BigInt(200 + rnd(100)), minCollateral: 0n });
  const asks: MatchAsk[] = [];
  const free = new Map<string, bigint>();
  const per = Math.ceil(R / A);
  for (let i = 0; i < A; i++) {
    asks.push({ id: BigInt(i + 1), prover: `p${i}`, price: BigInt(10 + rnd(150)), capacity: BigInt(per), reputation: 0n });
    free.set(`p${i}`, 10n ** 12n);
  }
  return { requests, asks, free, params: { collateralRatioBps: 20_000n } };
}

/**
 * Adversarial for a scan: all but the most expensive ask belong to provers that can afford only small reserves,
 * and every request needs a large one, so each request walks past ~A asks before finding the one that fits.
 */
function adversarialBook(R: number, A: number): Book {
  const requests: MatchRequest[] = [];
  for (let i = 0; i < R; i++) requests.push({ id: BigInt(i + 1), currentFee: 1000n, minCollateral: 500n });
  const asks: MatchAsk[] = [];
  const free = new Map<string, bigint>();
  for (let i = 0; i < A - 1; i++) {
    asks.push({ id: BigInt(i + 1), prover: `small${i}`, price: BigInt(10 + i), capacity: 50n, reputation: 0n });
    free.set(`small${i}`, 499n);
  }
  asks.push({ id: BigInt(A), prover: 'big', price: 999n, capacity: BigInt(R), reputation: 0n });
  free.set('big', 10n ** 15n);
  return { requests, asks, free, params: { collateralRatioBps: 10_000n } };
}

/** The same book under the chain's rules: price rule v2, spread deal with penalty 15,000, each prover 0-7 recent wins. */
function spreadBook(b: Book): Book {
  const recent = new Map<string, bigint>();
  for (const a of b.asks) recent.set(a.prover, BigInt(a.id % 8n));
  return { ...b, params: { ...b.params, priceRule: 'v2', allocation: 'spread', bandBps: 5000n, window: 128n, spreadPenalty: 15_000n, recent } };
}

interface Timing {
  median: number;
  mean: number;
  min: number;
  runs: number;
  /** Process CPU time (user + system) per call: what one core spent, whatever else the machine is running. */
  cpu: number;
}

/** Times single calls (after two warm-ups) until `minMs` has elapsed and at least 5 runs were made. */
function sample(fn: () => unknown, minMs: number): Timing {
  fn();
  fn();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  while (times.length < 5 || Number(process.hrtime.bigint() - start) / 1e6 < minMs) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpuUsed = process.cpuUsage(cpu0);
  const sorted = times.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, mean: times.reduce((x, y) => x + y, 0) / times.length, min: sorted[0], runs: times.length,
    cpu: (cpuUsed.user + cpuUsed.system) / 1000 / times.length };
}

const fmt = (t: Timing): string =>
  `mean ${t.mean.toFixed(1)} ms, min ${t.min.toFixed(1)} ms, cpu ${t.cpu.toFixed(1)} ms/clear, ${t.runs} runs`;

const same = (a: ClearingResult, b: ClearingResult): boolean =>
  JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ===
  JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const minMs = quick ? 200 : 1500;
  const rows: BenchRow[] = [];

  const scenarios: Array<{ key: string; label: string; book: Book; matchesTarget?: boolean; timeTarget?: boolean }> = [
    { key: 'realistic', label: '10k requests x 1k asks, collateral binds for some', book: realisticBook(10_000, 1_000, 42), timeTarget: true },
    { key: 'full', label: '10k requests x 1k asks, everything matches', book: fullBook(10_000, 1_000, 7), matchesTarget: true },
    { key: 'adversarial', label: '10k requests x 1k asks, each request skips ~999 asks', book: adversarialBook(10_000, 1_000) },
    // the chain's rules (price rule v2, the spread deal: docs/protocol.md "Spreading work"); the naive scan re-deals by
    // scanning every candidate per request, the fast path uses the heap
    { key: 'realistic-spread', label: 'the realistic book with the spread rule', book: spreadBook(realisticBook(10_000, 1_000, 42)), timeTarget: true },
    { key: 'full-spread', label: 'the full book with the spread rule', book: spreadBook(fullBook(10_000, 1_000, 7)), matchesTarget: true },
  ];
  for (const s of scenarios) {
    const { requests, asks, free, params } = s.book;
    const fast = clearCircuit(requests, asks, free, params);
    const slow = clearCircuitReference(requests, asks, free, params);
    if (!same(fast, slow)) throw new Error(`bench ${s.key}: optimized and reference results differ`);
    const tFast = sample(() => clearCircuit(requests, asks, free, params), minMs);
    const tSlow = sample(() => clearCircuitReference(requests, asks, free, params), minMs);
    const m = fast.matches.length;
    rows.push({
      name: `${s.key}: clear (segment tree)`, value: tFast.median, unit: 'ms', baseline: `${s.key}: clear (naive scan)`,
      lowerIsBetter: true, target: s.timeTarget ? '<= 50 ms' : '',
      note: `${s.label}; ${m} matches, p=${fast.clearingPrice}; ${fmt(tFast)}`,
    });
    rows.push({ name: `${s.key}: clear (naive scan)`, value: tSlow.median, unit: 'ms', note: `clearCircuitReference; ${fmt(tSlow)}` });
    if (m > 0) {
      rows.push({
        name: `${s.key}: matches/s (segment tree)`, value: (m * 1000) / tFast.median, unit: 'matches/s',
        baseline: `${s.key}: matches/s (naive scan)`, target: s.matchesTarget ? '>= 200,000' : '',
      });
      rows.push({ name: `${s.key}: matches/s (naive scan)`, value: (m * 1000) / tSlow.median, unit: 'matches/s' });
    }
  }
  printTable('matching: clearCircuit per circuit per block (one core, median per clear)', rows);
}
