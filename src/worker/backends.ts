/**
 * Proving backends of the prover worker, behind one interface:
 *   prove({ circuitId, wasmPath, zkeyPath, input }) -> { proof, publicSignals, timing }
 *
 * - `SnarkjsPoolBackend` (default): witness + Groth16 proof with snarkjs in a pool of worker_threads (one job per
 *   thread, several jobs in parallel); the caller's event loop is never blocked.
 * - `SnarkjsMultiThreadBackend`: one job at a time in a child process, where snarkjs proves with its own threads
 *   (every core on one proof: snarkjs cannot start its threads from inside a worker_thread).
 * - `CommandBackend`: any external prover honouring rapidsnark's contract
 *   `PROVER <zkey> <witness.wtns> <proof.json> <public.json>` (exit 0). The witness is computed with snarkjs
 *   (wtns.calculate) in the same thread pool, the prover runs as a child process.
 * - `native`: a CommandBackend running our Go prover (native/prover, built by `npm run build:native`).
 * - `AutoBackend`: all of the above that are available; calibration measures each per circuit and routes the
 *   circuit's jobs to the fastest (src/worker/calibrate.ts).
 */
import { Worker } from 'node:worker_threads';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import type { WorkerConfig } from './config.js';

export interface ProveJob {
  circuitId: string;
  wasmPath: string;
  zkeyPath: string;
  input: Record<string, unknown>;
}

export interface ProveTiming {
  witnessMs: number;
  proveMs: number;
  totalMs: number;
}

export interface ProveOutput {
  /** snarkjs proof.json object. */
  proof: unknown;
  /** snarkjs public.json (decimal strings). */
  publicSignals: string[];
  timing: ProveTiming;
}

export type BackendName = 'snarkjs' | 'snarkjs-mt' | 'command' | 'native' | 'auto';

export interface ProverBackend {
  readonly name: BackendName;
  /** Jobs that run at the same time. */
  readonly parallelism: number;
  /** Jobs of this circuit that run at the same time, where it differs per circuit (AutoBackend). */
  parallelismFor?(circuitId: string): number;
  prove(job: ProveJob): Promise<ProveOutput>;
  close(): Promise<void>;
}

export class ProveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProveError';
  }
}

interface ThreadReply {
  id: number;
  ok: boolean;
  error?: string;
  proof?: unknown;
  publicSignals?: unknown;
  witnessMs?: number;
  proveMs?: number;
}

type ThreadMsg = { op: 'prove' | 'witness'; wasmPath: string; zkeyPath: string; input: Record<string, unknown>; wtnsPath?: string; multiThread?: boolean };

const THREAD_URL = new URL('./prove-thread.mjs', import.meta.url);

/** A fixed-size pool of snarkjs threads; jobs queue FIFO when every thread is busy. */
export class ThreadPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: { msg: ThreadMsg; resolve: (r: ThreadReply) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Map<Worker, { id: number; resolve: (r: ThreadReply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`pool size must be a positive integer, got ${size}`);
    for (let i = 0; i < size; i++) this.spawnThread();
  }

  private spawnThread(): void {
    // The thread script is plain ESM: no TypeScript loader needed in the thread.
    // snarkjs pulls in the `web-worker` package, which, loaded off the main thread, takes the thread for one of its
    // own workers and imports `workerData.mod`: hand it an empty module so it sets up and leaves the thread to us.
    const w = new Worker(THREAD_URL, { execArgv: [], workerData: { mod: 'data:text/javascript,', type: 'module', name: 'proofbook-prover' } });
    w.on('message', (r: ThreadReply) => {
      const p = this.pending.get(w);
      if (!p || p.id !== r.id) return;
      this.pending.delete(w);
      p.resolve(r);
      this.release(w);
    });
    const fail = (e: Error) => {
      const p = this.pending.get(w);
      this.pending.delete(w);
      const i = this.all.indexOf(w);
      if (i >= 0) this.all.splice(i, 1);
      const j = this.idle.indexOf(w);
      if (j >= 0) this.idle.splice(j, 1);
      p?.reject(new ProveError(`proving thread died: ${e.message}`));
      if (!this.closed) {
        this.spawnThread();
      }
    };
    w.on('error', fail);
    w.on('exit', (code) => { if (!this.closed) fail(new Error(`exit code ${code}`)); });
    w.unref();
    this.all.push(w);
    this.release(w);
  }

  private release(w: Worker): void {
    if (this.closed || !this.all.includes(w)) return;
    const next = this.queue.shift();
    if (!next) {
      this.idle.push(w);
      return;
    }
    this.dispatch(w, next.msg, next.resolve, next.reject);
  }

  private dispatch(w: Worker, msg: ThreadMsg, resolve: (r: ThreadReply) => void, reject: (e: Error) => void): void {
    const id = this.nextId++;
    // A busy thread keeps the process alive; idle ones do not.
    w.ref();
    const done = () => w.unref();
    this.pending.set(w, { id, resolve: (r) => { done(); resolve(r); }, reject: (e) => { done(); reject(e); } });
    w.postMessage({ id, ...msg });
  }

  run(msg: ThreadMsg): Promise<ThreadReply> {
    if (this.closed) return Promise.reject(new ProveError('the proving pool is closed'));
    return new Promise((resolve, reject) => {
      const w = this.idle.shift();
      if (w) this.dispatch(w, msg, resolve, reject);
      else this.queue.push({ msg, resolve, reject });
    });
  }

  /** Jobs waiting for a thread. */
  get queued(): number {
    return this.queue.length;
  }

  get busy(): number {
    return this.pending.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new ProveError('the proving pool was closed'));
    for (const [, p] of this.pending) p.reject(new ProveError('the proving pool was closed'));
    this.pending.clear();
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}

export class SnarkjsPoolBackend implements ProverBackend {
  readonly name = 'snarkjs' as const;
  private readonly pool: ThreadPool;

  constructor(threads: number) {
    this.pool = new ThreadPool(threads);
  }

  get parallelism(): number {
    return this.pool.size;
  }

  async prove(job: ProveJob): Promise<ProveOutput> {
    const t0 = performance.now();
    const r = await this.pool.run({ op: 'prove', wasmPath: job.wasmPath, zkeyPath: job.zkeyPath, input: job.input });
    if (!r.ok) throw new ProveError(`snarkjs failed on circuit ${job.circuitId}: ${r.error}`);
    return {
      proof: r.proof,
      publicSignals: (r.publicSignals as unknown[]).map(String),
      timing: { witnessMs: r.witnessMs ?? 0, proveMs: r.proveMs ?? 0, totalMs: performance.now() - t0 },
    };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * One child process running prove-thread.mjs on its own main thread, one job at a time (FIFO). snarkjs there builds
 * its multi-threaded curve once and reuses it. An idle child does not keep the worker's process alive.
 */
class ChildProver {
  private child?: ChildProcess;
  private readonly queue: { msg: ThreadMsg; resolve: (r: ThreadReply) => void; reject: (e: Error) => void }[] = [];
  private current?: { id: number; resolve: (r: ThreadReply) => void; reject: (e: Error) => void };
  private nextId = 1;
  private closed = false;

  private spawn(): ChildProcess {
    const c = fork(fileURLToPath(THREAD_URL), [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    c.on('message', (r: ThreadReply) => {
      const p = this.current;
      if (!p || p.id !== r.id) return;
      this.current = undefined;
      p.resolve(r);
      this.next();
    });
    c.on('exit', (code, signal) => {
      if (this.child === c) this.child = undefined;
      const p = this.current;
      this.current = undefined;
      p?.reject(new ProveError(`proving process died (${signal ?? `exit ${code}`})`));
      if (!this.closed) this.next();
    });
    c.on('error', () => { /* reported by 'exit' */ });
    return c;
  }

  private idle(c: ChildProcess, idle: boolean): void {
    if (idle) { c.unref(); (c.channel as unknown as { unref?: () => void } | undefined)?.unref?.(); }
    else { c.ref(); (c.channel as unknown as { ref?: () => void } | undefined)?.ref?.(); }
  }

  private next(): void {
    if (this.closed || this.current) return;
    const job = this.queue.shift();
    if (!job) {
      if (this.child) this.idle(this.child, true);
      return;
    }
    this.child ??= this.spawn();
    this.idle(this.child, false);
    const id = this.nextId++;
    this.current = { id, resolve: job.resolve, reject: job.reject };
    this.child.send({ id, ...job.msg });
  }

  run(msg: ThreadMsg): Promise<ThreadReply> {
    if (this.closed) return Promise.reject(new ProveError('the proving process is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ msg, resolve, reject });
      this.next();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new ProveError('the proving process was closed'));
    this.current?.reject(new ProveError('the proving process was closed'));
    this.current = undefined;
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGKILL');
      await exited;
    }
  }
}

/** snarkjs with its own threads: one proof at a time uses every core (the fastest snarkjs mode for one job). */
export class SnarkjsMultiThreadBackend implements ProverBackend {
  readonly name = 'snarkjs-mt' as const;
  readonly parallelism = 1;
  private readonly child = new ChildProver();

  async prove(job: ProveJob): Promise<ProveOutput> {
    const t0 = performance.now();
    const r = await this.child.run({ op: 'prove', wasmPath: job.wasmPath, zkeyPath: job.zkeyPath, input: job.input, multiThread: true });
    if (!r.ok) throw new ProveError(`snarkjs failed on circuit ${job.circuitId}: ${r.error}`);
    return {
      proof: r.proof,
      publicSignals: (r.publicSignals as unknown[]).map(String),
      timing: { witnessMs: r.witnessMs ?? 0, proveMs: r.proveMs ?? 0, totalMs: performance.now() - t0 },
    };
  }

  close(): Promise<void> {
    return this.child.close();
  }
}

/** Where the native prover binary lives: $PROOFBOOK_NATIVE_PROVER, else native/prover/bin/prover in this checkout. */
export function nativeProverPath(): string {
  return process.env.PROOFBOOK_NATIVE_PROVER || fileURLToPath(new URL('../../native/prover/bin/prover', import.meta.url));
}

/** The native prover's path if it is built (or configured), else undefined. */
export function findNativeProver(): string | undefined {
  const p = nativeProverPath();
  return existsSync(p) ? p : undefined;
}

export const NATIVE_MISSING = 'the native prover is not built: run `npm run build:native` (needs Go ≥ 1.26), or set PROOFBOOK_NATIVE_PROVER to its path';

/** The native Go prover (native/prover): one proof at a time, using every core itself. */
export function nativeBackend(o: { path?: string; tmpDir?: string; timeoutMs?: number; threads?: number } = {}): CommandBackend {
  const bin = o.path ?? findNativeProver();
  if (!bin) throw new ProveError(NATIVE_MISSING);
  return new CommandBackend({
    name: 'native', command: bin, parallelism: 1, tmpDir: o.tmpDir, timeoutMs: o.timeoutMs,
    args: o.threads ? [`--threads=${o.threads}`] : [],
  });
}

/**
 * Several backends; each circuit's jobs go to the one calibration chose for it (`choose`), by default the first.
 * Calibration (calibrate.ts measureAuto) times every candidate on the circuit and picks the lowest machine time per
 * proof, so the choice — and the parallelism — follow the measurement per circuit.
 */
export class AutoBackend implements ProverBackend {
  readonly name = 'auto' as const;
  private readonly chosen = new Map<string, ProverBackend>();

  constructor(readonly candidates: ProverBackend[]) {
    if (candidates.length === 0) throw new RangeError('AutoBackend needs at least one candidate');
  }

  choose(circuitId: string, name: string): ProverBackend | undefined {
    const b = this.candidates.find((c) => c.name === name);
    if (b) this.chosen.set(circuitId, b);
    return b;
  }

  backendFor(circuitId: string): ProverBackend {
    return this.chosen.get(circuitId) ?? this.candidates[0]!;
  }

  get parallelism(): number {
    return Math.max(1, ...[...this.chosen.values()].map((b) => b.parallelism));
  }

  parallelismFor(circuitId: string): number {
    return this.backendFor(circuitId).parallelism;
  }

  prove(job: ProveJob): Promise<ProveOutput> {
    return this.backendFor(job.circuitId).prove(job);
  }

  async close(): Promise<void> {
    await Promise.all(this.candidates.map((c) => c.close()));
  }
}

export interface CommandBackendOptions {
  /** Reported backend name (default 'command'). */
  name?: 'command' | 'native';
  /** Executable honouring `PROVER <zkey> <witness.wtns> <proof.json> <public.json>`. */
  command: string;
  /** Extra arguments placed before the four contract arguments (e.g. a device selector). */
  args?: string[];
  /** Jobs run at the same time (external provers usually use every core or the GPU themselves: default 1). */
  parallelism?: number;
  /** Threads computing witnesses (default 1). */
  witnessThreads?: number;
  /** Scratch directory for witness/proof files. */
  tmpDir?: string;
  /** Kill the prover after this long (default 10 minutes). */
  timeoutMs?: number;
  env?: Record<string, string>;
}

export class CommandBackend implements ProverBackend {
  readonly name: 'command' | 'native';
  readonly parallelism: number;
  private readonly pool: ThreadPool;
  private running = 0;
  private readonly waiters: (() => void)[] = [];
  private seq = 0;

  constructor(private readonly opts: CommandBackendOptions) {
    this.name = opts.name ?? 'command';
    this.parallelism = opts.parallelism ?? 1;
    this.pool = new ThreadPool(opts.witnessThreads ?? 1);
  }

  private async slot(): Promise<void> {
    if (this.running < this.parallelism) {
      this.running++;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }

  private freeSlot(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.running--;
  }

  async prove(job: ProveJob): Promise<ProveOutput> {
    await this.slot();
    const base = this.opts.tmpDir ?? os.tmpdir();
    await fs.mkdir(base, { recursive: true });
    const dir = await fs.mkdtemp(path.join(base, `prove-${process.pid}-${++this.seq}-`));
    try {
      const t0 = performance.now();
      const wtnsPath = path.join(dir, 'witness.wtns');
      const w = await this.pool.run({ op: 'witness', wasmPath: job.wasmPath, zkeyPath: job.zkeyPath, input: job.input, wtnsPath });
      if (!w.ok) throw new ProveError(`witness computation failed on circuit ${job.circuitId}: ${w.error}`);
      const t1 = performance.now();
      const proofPath = path.join(dir, 'proof.json');
      const publicPath = path.join(dir, 'public.json');
      await runCommand(this.opts.command, [...(this.opts.args ?? []), job.zkeyPath, wtnsPath, proofPath, publicPath], this.opts.timeoutMs ?? 600_000, this.opts.env);
      const t2 = performance.now();
      let proof: unknown;
      let pub: unknown;
      try {
        proof = JSON.parse(await fs.readFile(proofPath, 'utf8'));
        pub = JSON.parse(await fs.readFile(publicPath, 'utf8'));
      } catch (e) {
        throw new ProveError(`prover ${this.opts.command} exited 0 but its proof/public files are unreadable: ${(e as Error).message}`);
      }
      if (!Array.isArray(pub)) throw new ProveError(`prover ${this.opts.command} wrote a public.json that is not an array`);
      return { proof, publicSignals: pub.map(String), timing: { witnessMs: t1 - t0, proveMs: t2 - t1, totalMs: t2 - t0 } };
    } finally {
      this.freeSlot();
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function runCommand(cmd: string, args: string[], timeoutMs: number, env?: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString('utf8')).slice(-2000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(new ProveError(`cannot run prover ${cmd}: ${e.message}`)); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new ProveError(`prover ${cmd} failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}

/**
 * The backend a worker config asks for. 'auto' offers the native prover when it is built (and says so when it is
 * not), snarkjs on its own threads, and the snarkjs pool; calibration then picks per circuit.
 */
export function createBackend(c: WorkerConfig, tmpDir: string, warn: (msg: string) => void = () => {}): ProverBackend {
  const native = () => nativeBackend({ path: c.native.path, tmpDir, timeoutMs: c.native.timeoutMs, threads: c.native.threads || undefined });
  switch (c.backend) {
    case 'command':
      return new CommandBackend({ command: c.command!.path, args: c.command!.args, parallelism: c.command!.parallelism, timeoutMs: c.command!.timeoutMs, tmpDir });
    case 'snarkjs':
      return new SnarkjsPoolBackend(c.threads);
    case 'snarkjs-mt':
      return new SnarkjsMultiThreadBackend();
    case 'native':
      if (c.native.path === undefined && !findNativeProver()) throw new ProveError(`backend 'native': ${NATIVE_MISSING}`);
      return native();
    case 'auto': {
      const candidates: ProverBackend[] = [];
      if (c.native.path !== undefined || findNativeProver()) candidates.push(native());
      else warn(`backend 'auto' without the native prover: ${NATIVE_MISSING}`);
      candidates.push(new SnarkjsMultiThreadBackend());
      if (c.threads > 1) candidates.push(new SnarkjsPoolBackend(c.threads));
      return new AutoBackend(candidates);
    }
  }
}
