/**
 * A budget for Simulate (issue 10 item 6): anyone may call it — the ABCI query `/cosmos.tx.v1beta1.Service/Simulate`,
 * gRPC `cosmos.tx.v1beta1.Service/Simulate`, REST `POST /cosmos/tx/v1beta1/simulate` all end in ProofbookApp.query —
 * and it runs on the app's one serialized queue, in front of consensus calls. Its work is bounded three ways:
 *   - per call by gas: a simulation runs with the block gas limit as its gas limit (a tx wanting more could never be
 *     included), and it never verifies a proof or a signature (modules/verifier verifyProof defers pairings in
 *     'simulate' mode; the ante handler skips signatures), so gas bounds its time;
 *   - in total by a token bucket of thread time: each simulation's measured duration is taken from a bucket of
 *     `burstMs` that refills at `refillMsPerSecond` per second of wall time; a call arriving at an empty bucket is
 *     refused at once (gRPC RESOURCE_EXHAUSTED), without decoding its tx. So however many calls queue up, the
 *     simulations that run between two consensus calls take at most burstMs plus one simulation;
 *   - in flight by the gRPC/REST gateway's concurrency cap (app/grpc/server.ts), so a flood is refused before it
 *     queues.
 * The clock is read only here, to decide whether to answer a query: no state, result or app hash depends on it.
 */
import { performance } from 'node:perf_hooks';
import { registerError, GRPC } from '../src/framework/errors.js';

export const ErrSimulateBusy = registerError('app', 2, 'simulate is rate limited; retry shortly', GRPC.ResourceExhausted);

export interface SimulateLimitOptions {
  /** Most thread time simulations may take back to back (ms). Default 100. */
  burstMs?: number;
  /** Thread time granted to simulations per second of wall time (ms). Default 200 (a fifth of one core). */
  refillMsPerSecond?: number;
  /** The clock (ms); tests drive it. Default performance.now. */
  now?: () => number;
}

export class SimulateLimiter {
  private tokens: number;
  private last: number;
  readonly burstMs: number;
  readonly refillMsPerSecond: number;
  private readonly now: () => number;
  /** Counters for tests and operators (process-local). */
  readonly stats = { admitted: 0, refused: 0, spentMs: 0 };

  constructor(o: SimulateLimitOptions = {}) {
    this.burstMs = o.burstMs ?? 100;
    this.refillMsPerSecond = o.refillMsPerSecond ?? 200;
    this.now = o.now ?? (() => performance.now());
    this.tokens = this.burstMs;
    this.last = this.now();
  }

  private refill(): number {
    const t = this.now();
    this.tokens = Math.min(this.burstMs, this.tokens + ((t - this.last) * this.refillMsPerSecond) / 1000);
    this.last = t;
    return t;
  }

  /** Runs `fn` (a simulation) when the bucket has time left, charging its duration; else throws ErrSimulateBusy. */
  run<T>(fn: () => T): T {
    const start = this.refill();
    if (this.tokens <= 0) {
      this.stats.refused++;
      throw ErrSimulateBusy(`simulations used their share of the node's time (${this.refillMsPerSecond} ms/s, burst ${this.burstMs} ms)`);
    }
    this.stats.admitted++;
    try {
      return fn();
    } finally {
      const spent = this.now() - start;
      this.tokens -= spent;
      this.stats.spentMs += spent;
    }
  }
}
