/**
 * A pool of worker threads that verify secp256k1 signatures with libsecp256k1 in parallel with the main thread.
 *
 * Why: signature verification is ~55 µs of a MsgSend's ~140 µs CheckTx here. CometBFT pipelines CheckTx requests on
 * the mempool connection, so while the (single, serialized) state machine runs tx i, a worker can already verify the
 * signatures of txs i+1, i+2, ... The pool only ever *adds* knowledge: a verdict of `true` is a pure function of
 * (digest, signature, pubkey), identical to what the main thread would compute; `false` — or any failure of the pool
 * (a dead worker, a closed pool) — means "not verified here", and the caller verifies on the main thread as before.
 * Nothing consensus-relevant depends on timing.
 *
 * Jobs submitted in the same event-loop turn go out as one message per worker (one ArrayBuffer, transferred, not
 * copied). Workers are unref'd while idle, so an idle pool never keeps the process alive, and ref'd while they hold
 * work, so an awaited verdict is never abandoned by the process exiting.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const RECORD = 129; // digest 32 | sig 64 | pubkey 33
const WORKER_FILE = fileURLToPath(new URL('./verify-worker.cjs', import.meta.url));
/** Jobs per message: a worker's first verdicts come back after one chunk's work (~3.5 ms), not after a whole burst. */
const MAX_CHUNK = 64;

export interface VerifyJob {
  digest: Uint8Array;
  sig: Uint8Array;
  pubkey: Uint8Array;
}

interface Slot {
  worker: Worker;
  outstanding: number;
  alive: boolean;
}

interface Inflight {
  slot: Slot;
  resolve: ((ok: boolean) => void)[];
}

export class SignatureVerifyPool {
  private readonly slots: Slot[];
  private queued: { job: VerifyJob; resolve: (ok: boolean) => void }[] = [];
  /** Whether anything queued since the last flush may use every worker (see `verify`). */
  private queuedWide = false;
  private flushScheduled = false;
  private readonly inflight = new Map<number, Inflight>();
  private nextId = 1;
  private closed = false;
  /** Jobs answered by a worker (valid or not); for tests and stats. */
  verified = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`pool size must be a positive integer, got ${size}`);
    this.slots = Array.from({ length: size }, () => this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_FILE);
    const slot: Slot = { worker, outstanding: 0, alive: true };
    worker.on('message', (msg: { id: number; out: Uint8Array }) => this.answer(msg.id, msg.out));
    const fail = () => {
      if (!slot.alive) return;
      slot.alive = false;
      // Everything this worker held resolves as "not verified": callers fall back to the main thread.
      for (const [id, job] of this.inflight) {
        if (job.slot === slot) {
          this.inflight.delete(id);
          for (const r of job.resolve) r(false);
        }
      }
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    worker.unref(); // after the listeners: adding a 'message' listener refs the worker again
    return slot;
  }

  private answer(id: number, out: Uint8Array): void {
    const job = this.inflight.get(id);
    if (!job) return;
    this.inflight.delete(id);
    job.slot.outstanding -= job.resolve.length;
    if (job.slot.outstanding === 0) job.slot.worker.unref();
    this.verified += job.resolve.length;
    for (let i = 0; i < job.resolve.length; i++) job.resolve[i](out[i] === 1);
  }

  /**
   * Resolves true when the signature is valid; false when invalid or when the pool could not decide. Never rejects.
   *
   * `wide`: the caller waits for the answer with nothing else to do (a block being finalized), so the batch may use
   * every worker. Otherwise (CheckTx arrivals, verified while the main thread executes earlier txs) it goes to one
   * worker: on a 2-core machine a second busy worker only takes CPU from the state machine it is trying to feed.
   */
  verify(job: VerifyJob, wide = false): Promise<boolean> {
    if (this.closed || job.digest.length !== 32 || job.sig.length !== 64 || job.pubkey.length !== 33) return Promise.resolve(false);
    if (wide) this.queuedWide = true;
    return new Promise((resolve) => {
      this.queued.push({ job, resolve });
      // A full chunk goes out at once, so a worker starts while the caller is still submitting (a burst of CheckTx
      // requests arrives in one socket read and is prefetched in one synchronous loop).
      if (this.queued.length >= MAX_CHUNK) {
        this.flush();
        return;
      }
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    if (this.queued.length === 0) return;
    const batch = this.queued;
    const wide = this.queuedWide;
    this.queued = [];
    this.queuedWide = false;
    const alive = this.slots.filter((s) => s.alive);
    if (alive.length === 0 || this.closed) {
      for (const b of batch) b.resolve(false);
      return;
    }
    // A batch is at most MAX_CHUNK jobs (verify() flushes each full chunk), so it goes to one worker as one message:
    // narrow work always to the first live worker (the other core stays with the state machine), wide work to the
    // least-loaded one, so consecutive chunks of a proposal spread over every worker.
    const slot = wide ? alive.reduce((a, b) => (b.outstanding < a.outstanding ? b : a)) : alive[0];
    const buf = new Uint8Array(batch.length * RECORD);
    batch.forEach(({ job }, i) => {
      const o = i * RECORD;
      buf.set(job.digest, o);
      buf.set(job.sig, o + 32);
      buf.set(job.pubkey, o + 96);
    });
    const id = this.nextId++;
    this.inflight.set(id, { slot, resolve: batch.map((b) => b.resolve) });
    if (slot.outstanding === 0) slot.worker.ref();
    slot.outstanding += batch.length;
    slot.worker.postMessage({ id, buf: buf.buffer }, [buf.buffer]);
  }

  /** Stops the workers; pending and later jobs resolve false. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const b of this.queued) b.resolve(false);
    this.queued = [];
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/**
 * Worker count: PROOFBOOK_SIG_WORKERS when set (0 disables the pool), else one per core, at most 4. None when the
 * operator chose the pure-JS verifier (PROOFBOOK_SECP256K1=noble): the workers run libsecp256k1.
 */
export function defaultPoolSize(): number {
  if (process.env.PROOFBOOK_SECP256K1 === 'noble') return 0;
  const env = process.env.PROOFBOOK_SIG_WORKERS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0) throw new Error(`PROOFBOOK_SIG_WORKERS must be a non-negative integer, got '${env}'`);
    return n;
  }
  return Math.min(4, Math.max(1, availableParallelism()));
}

let shared: SignatureVerifyPool | null | undefined;

/**
 * One pool per process, created on first use and shared by every app instance in it (verdicts are pure, so sharing
 * is safe); undefined when disabled (PROOFBOOK_SIG_WORKERS=0) or when workers cannot start here.
 */
export function sharedVerifyPool(): SignatureVerifyPool | undefined {
  if (shared === undefined) {
    const size = defaultPoolSize();
    try {
      shared = size === 0 ? null : new SignatureVerifyPool(size);
    } catch {
      shared = null;
    }
  }
  return shared ?? undefined;
}
