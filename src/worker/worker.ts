/**
 * The prover worker: follows the chain, proves what is assigned to it, prices its asks from measurement, and keeps
 * its promises (or gives work back in time). See docs/worker.md.
 *
 * Every tick (a NewBlockHeader over the websocket, or the polling timer when the websocket is down) reconciles the
 * full state from the chain: the market's ASSIGNED requests whose prover is us, our asks, and the fate of every job
 * we held (fulfilled / released / slashed). Nothing depends on having seen a particular event, so a reconnect (or a
 * restart) resumes from whatever height the chain is at.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fetchInput } from './input-fetch.js';
import { EventEmitter } from 'node:events';
import type pino from 'pino';
import type { OfflineDirectSigner } from '@cosmjs/proto-signing';
import type { Comet38Client } from '@cosmjs/tendermint-rpc';
import { ProofbookClient, ProofbookTxError, RequestStatus, statusName, type Request, type Circuit } from '../client/proofbook.js';
import { normalizeNodeUrl } from '../client/tx.js';
import { TYPE_URLS } from '../client/registry.js';
import { MsgCancelAsk, MsgPostAsk } from '../gen/proofbook/market/v1/market.js';
import type { EncodeObject } from '@cosmjs/proto-signing';
import { decodeVerifyingKey, proofFromSnarkjs, publicSignalsFromSnarkjs } from '../zk/groth16.js';
import { initZk, prepareVerifyingKey, verifyOne, type PreparedVk } from '../zk/verifier.js';
import { ArtifactCache } from './artifacts.js';
import { AutoBackend, createBackend, ProveError, type ProveOutput, type ProverBackend } from './backends.js';
import { askPrice, type WorkerConfig } from './config.js';
import { applyStoredAuto, measure, measureAuto } from './calibrate.js';
import { JobStore, TERMINAL, type Calibration, type Job, type JobState } from './jobs.js';
import { WorkerMetrics } from './metrics.js';
import { publicSignalsFromInput } from '../zk/witness.js';
import { RotatingScan, type RequestsPage } from './fallback-scan.js';
import { blockingCommit, fallbackPayout } from './fallback-commits.js';
import { raceFrom, type AssigneeRecord } from './race.js';
import { raceOpensAt } from '../market/race-opens.js';
import { admit } from './admit.js';

/** The fallback scan reads at most this many pages of this many requests per circuit and status in a tick. */
export const FALLBACK_SCAN_PAGE = 100n;
export const FALLBACK_SCAN_PAGES = 2;

/** The preflight found the request cannot be proved as stated: decline it (free in the accept phase), not a fault of ours. */
class PreflightError extends Error {}

export interface WorkerOptions {
  home: string;
  nodeUrl: string;
  signer: OfflineDirectSigner;
  config: WorkerConfig;
  logger: pino.Logger;
  /** Serve default process metrics too (the CLI does; in-process tests do not). */
  processMetrics?: boolean;
}

export interface JobStatus extends Job {
  /** 0..100, estimated from the calibrated latency while proving. */
  progressPct?: number;
  blocksLeft?: string;
}

export interface WorkerStatus {
  address: string;
  backend: string;
  parallelism: number;
  height: string;
  blockTimeMs: number;
  breaker: { open: boolean; reason?: string; until?: number };
  /** Circuits whose ask is withdrawn while a request too short for our speed is open: circuit -> request ids. */
  stopping: boolean;
  asks: { id: string; circuitId: string; price: string; capacity: string; active: string; expiryHeight: string }[];
  calibrations: Calibration[];
  jobs: JobStatus[];
  totals: Record<JobState, number>;
  earnings: string;
  metricsPort?: number;
  updatedAt: number;
}

/**
 * Disconnects a websocket Comet38Client for good: @cosmjs/socket's ReconnectingSocket would otherwise schedule a
 * reconnect of its own on disconnect (which keeps the process alive); the worker reconnects itself, with backoff.
 */
function closeWs(c: Comet38Client | undefined): void {
  if (!c) return;
  try {
    const rs = (c as unknown as { client?: { socket?: { socket?: { reconnect?: () => void }; reconnectTimeout?: NodeJS.Timeout | null } } }).client?.socket;
    if (rs?.socket) rs.socket.reconnect = () => undefined;
    c.disconnect();
    if (rs?.reconnectTimeout) clearTimeout(rs.reconnectTimeout);
  } catch {
    // already closed
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Market errors that retrying cannot fix (codespace 'market'); everything else is retried with backoff. */
function permanent(e: unknown): boolean {
  return e instanceof ProofbookTxError && e.codespace !== '' && e.codespace !== 'sdk';
}

export class ProverWorker extends EventEmitter {
  readonly address: string;
  readonly metrics: WorkerMetrics;
  private readonly store: JobStore;
  private readonly backend: ProverBackend;
  private readonly artifacts: ArtifactCache;
  private readonly log: pino.Logger;
  private readonly cfg: WorkerConfig;
  private readonly circuits = new Map<string, { circuit: Circuit; vk: PreparedVk }>();
  private readonly calibrations = new Map<string, Calibration>();
  private readonly tasks = new Map<string, Promise<void>>();
  private txChain: Promise<unknown> = Promise.resolve();
  private asksLock: Promise<void> = Promise.resolve();
  private height = 0n;
  private lastHeightSeen: { height: bigint; at: number } | undefined;
  private blockMs: number;
  private breaker: { open: boolean; reason?: string; until?: number } = { open: false };
  private stopping = false;
  private stopped = false;
  private ticking = false;
  private tickAgain = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private ws: Comet38Client | undefined;
  private wsRetry: NodeJS.Timeout | undefined;
  private wsBackoffMs = 500;
  private metricsServer: { port: number; close(): Promise<void> } | undefined;
  private asks: WorkerStatus['asks'] = [];
  private earnings = 0n;
  private jobsCache: Job[] = [];
  private tickCount = 0;
  /** The fallback scan's rotating cursors (fallback-scan.ts). */
  private readonly fallbackScan = new RotatingScan(FALLBACK_SCAN_PAGES, FALLBACK_SCAN_PAGE);

  private constructor(readonly opts: WorkerOptions, readonly client: ProofbookClient, store: JobStore, backend: ProverBackend) {
    super();
    this.cfg = opts.config;
    this.address = client.address;
    this.store = store;
    this.backend = backend;
    this.log = opts.logger.child({ worker: client.address });
    this.blockMs = opts.config.blockTimeMs;
    this.metrics = new WorkerMetrics(backend.name, opts.processMetrics === true);
    this.artifacts = new ArtifactCache(opts.home, {
      nodeUrl: normalizeNodeUrl(opts.nodeUrl),
      searchDirs: opts.config.artifactSearchDirs,
      log: (msg, extra) => this.log.warn(extra ?? {}, msg),
    });
  }

  /** Opens the job store, connects, bonds if configured, calibrates, then starts following the chain. */
  static async start(opts: WorkerOptions): Promise<ProverWorker> {
    await initZk();
    const dir = path.join(opts.home, 'worker');
    await fs.mkdir(dir, { recursive: true });
    const store = await JobStore.open(path.join(dir, 'jobs'));
    let client: ProofbookClient | undefined;
    let backend: ProverBackend | undefined;
    try {
      client = await ProofbookClient.connect(opts.nodeUrl, opts.signer, { gasPrice: opts.config.gasPrice, pollIntervalMs: 200 });
      const c = opts.config;
      backend = createBackend(c, path.join(dir, 'tmp'), (m) => opts.logger.warn(m));
      const w = new ProverWorker(opts, client, store, backend);
      await w.init();
      return w;
    } catch (e) {
      await backend?.close();
      client?.disconnect();
      await store.close();
      throw e;
    }
  }

  private async init(): Promise<void> {
    // Interrupted proofs restart from scratch (the pool died with the process).
    for (const j of await this.store.active()) {
      if (j.state === 'proving') await this.save({ ...j, state: 'assigned', note: 'resumed after restart' });
      else this.jobsCache.push(j);
    }
    for (const j of await this.store.all()) if (j.state === 'fulfilled') this.earnings += BigInt(j.price);
    this.metrics.earnings.inc(Number(this.earnings));
    this.height = await this.retry('height', () => this.client.height());
    this.log.info({ height: this.height.toString(), backend: this.backend.name, parallelism: this.backend.parallelism, circuits: this.cfg.circuits }, 'worker starting');
    if (this.cfg.bond > 0n) await this.ensureBond();
    for (const c of this.cfg.circuits) await this.calibrate(c, false);
    if (this.cfg.metricsPort > 0) {
      this.metricsServer = await this.metrics.serve(this.cfg.metricsPort, this.cfg.metricsHost, () => this.status());
      this.log.info({ port: this.metricsServer.port }, 'metrics on /metrics, status on /status');
    }
    this.pollTimer = setInterval(() => this.kick(), this.cfg.pollIntervalMs);
    this.connectWs();
    this.kick();
  }

  // ------------------------------------------------------------------ chain following

  private connectWs(): void {
    if (this.stopping) return;
    void (async () => {
      try {
        const { Comet38Client } = await import('@cosmjs/tendermint-rpc');
        const c = await Comet38Client.connect(normalizeNodeUrl(this.opts.nodeUrl).replace(/^http/i, 'ws'));
        if (this.stopping) { closeWs(c); return; }
        this.ws = c;
        c.subscribeNewBlockHeader().subscribe({
          next: (h) => { this.wsBackoffMs = 500; this.observeHeight(BigInt(h.height)); this.kick(); },
          error: (e: unknown) => this.wsLost(e),
          complete: () => this.wsLost(new Error('subscription ended')),
        });
      } catch (e) {
        this.wsLost(e);
      }
    })();
  }

  private wsLost(e: unknown): void {
    closeWs(this.ws);
    this.ws = undefined;
    if (this.stopping) return;
    this.log.warn({ err: (e as Error)?.message, retryMs: this.wsBackoffMs }, 'websocket lost; polling until it is back');
    clearTimeout(this.wsRetry);
    this.wsRetry = setTimeout(() => this.connectWs(), this.wsBackoffMs);
    this.wsBackoffMs = Math.min(this.wsBackoffMs * 2, 30_000);
  }

  private observeHeight(h: bigint): void {
    const now = Date.now();
    if (this.lastHeightSeen && h > this.lastHeightSeen.height) {
      const per = (now - this.lastHeightSeen.at) / Number(h - this.lastHeightSeen.height);
      this.blockMs = Math.max(1, Math.round(this.blockMs * 0.8 + per * 0.2));
    }
    if (!this.lastHeightSeen || h > this.lastHeightSeen.height) this.lastHeightSeen = { height: h, at: now };
    if (h > this.height) this.height = h;
    this.metrics.height.set(Number(this.height));
  }

  /** Runs a tick now, or right after the running one. */
  kick(): void {
    if (this.stopped) return;
    if (this.ticking) { this.tickAgain = true; return; }
    this.ticking = true;
    void (async () => {
      try {
        do {
          this.tickAgain = false;
          try {
            await this.tick();
          } catch (e) {
            this.log.warn({ err: (e as Error).message }, 'tick failed (node unreachable?); retrying');
            await sleep(Math.min(this.cfg.pollIntervalMs, 2000));
          }
        } while (this.tickAgain && !this.stopped);
      } finally {
        this.ticking = false;
      }
    })();
  }

  private async tick(): Promise<void> {
    this.observeHeight(await this.client.height());
    this.tickCount++;
    await this.checkBreaker();
    await this.reconcile();
    if (this.cfg.fallback && !this.stopping && !this.breaker.open) await this.scanFallback();
    if (!this.stopping) this.schedule();
    await this.manageAsks();
    await this.publishStatus();
  }

  // ------------------------------------------------------------------ reconciliation

  private async assignedToMe(): Promise<Request[]> {
    const out: Request[] = [];
    let key: Buffer | undefined;
    for (;;) {
      const r = await this.client.requests({ status: RequestStatus.REQUEST_STATUS_ASSIGNED, pagination: { key: key ?? Buffer.alloc(0), limit: 200n } });
      for (const q of r.requests) if (q.assignment?.prover === this.address) out.push(q);
      const next = r.pagination?.nextKey;
      if (!next || next.length === 0) break;
      key = Buffer.from(next);
    }
    return out;
  }

  /**
   * From which height racers that follow src/worker/race.ts would race this prover's assignment of `r` (0: never
   * before its deadline): the race's opening (the requester's patience or the overdue height, raceOpensAt), or later
   * while this prover's own record of the circuit says it is not overdue yet. Without the record (the node did not
   * answer) the opening itself, the cautious reading.
   */
  private async racedFrom(r: Request): Promise<bigint> {
    const a = r.assignment!;
    const opens = raceOpensAt({ ...r, assignment: a });
    if (opens === undefined) return 0n;
    let rec: AssigneeRecord | undefined;
    try {
      rec = (await this.client.reputation(this.address)).find((x) => x.circuitId === r.circuitId);
    } catch {
      rec = undefined;
    }
    return raceFrom(opens, a.assignedHeight, rec, a.overdueHeight);
  }

  private async reconcile(): Promise<void> {
    const mine = await this.assignedToMe();
    const seen = new Set<string>();
    for (const r of mine) {
      const id = r.id.toString();
      seen.add(id);
      const a = r.assignment!;
      if (this.tasks.has(id)) continue; // a release/submit in flight settles it first; a new assignment is seen next tick
      const prev = this.jobsCache.find((j) => j.requestId === id) ?? await this.store.get(id);
      if (prev && !TERMINAL.has(prev.state) && prev.assignedHeight === a.assignedHeight.toString()) continue;
      const job: Job = {
        requestId: id, circuitId: r.circuitId, state: 'assigned', assignedHeight: a.assignedHeight.toString(),
        deadlineHeight: a.deadlineHeight.toString(), acceptUntilHeight: a.acceptUntilHeight.toString(), overdueHeight: a.overdueHeight.toString(),
        racedFromHeight: (await this.racedFrom(r)).toString(), price: a.price, collateral: a.collateral, attempts: 0, updatedAt: Date.now(),
      };
      this.log.info({ requestId: id, circuitId: r.circuitId, price: a.price, deadline: job.deadlineHeight, height: this.height.toString() }, 'assigned');
      await this.save(job);
    }
    for (const j of [...this.jobsCache]) {
      if (seen.has(j.requestId) || this.tasks.has(j.requestId)) continue;
      if (j.fallback) await this.settleFallback(j, false);
      else await this.settle(j);
    }
  }

  // ------------------------------------------------------------------ the permissionless fallback

  /**
   * Requests of the served circuits open to the fallback: FALLBACK ones, and OPEN ones and ones ASSIGNED to another
   * prover past the requester's patience or overdue by their prover's record (src/market/race-opens.ts, the chain's
   * rule; a cheap first filter: the node's fallbackFee, read before taking one, is the exact check).
   * Read with the Requests query's circuit filter (an index by circuit and status), at most FALLBACK_SCAN_PAGES pages of
   * FALLBACK_SCAN_PAGE per circuit and status in a tick, continuing where the last tick stopped (fallback-scan.ts).
   */
  private async fallbackCandidates(): Promise<Request[]> {
    const page: RequestsPage<Request> = async (q) => {
      const r = await this.client.requests({ status: q.status as RequestStatus, circuitId: q.circuitId, pagination: { key: q.key, limit: q.limit } });
      return { requests: r.requests, nextKey: r.pagination?.nextKey };
    };
    const out: Request[] = [];
    for (const circuitId of this.cfg.circuits) {
      for (const status of [RequestStatus.REQUEST_STATUS_FALLBACK, RequestStatus.REQUEST_STATUS_OPEN, RequestStatus.REQUEST_STATUS_ASSIGNED]) {
        for (const q of await this.fallbackScan.next(page, circuitId, status)) {
          if (status !== RequestStatus.REQUEST_STATUS_FALLBACK) {
            // cheap filter: the requester's patience, or the assignment's overdue height (its prover's record), whichever
            // is set and comes first (the node's fallbackFee below is the exact check)
            const opens = raceOpensAt({ ...q, assignment: status === RequestStatus.REQUEST_STATUS_ASSIGNED ? q.assignment : undefined });
            if (opens === undefined || this.height + 1n < opens) continue;
          }
          if (status === RequestStatus.REQUEST_STATUS_ASSIGNED && q.assignment?.prover === this.address) continue;
          out.push(q);
        }
      }
    }
    return out;
  }

  /**
   * Takes fallback requests for the served circuits when it pays: the payout (the fallback fee a commitment would lock
   * now, less the protocol fee, plus the bounty, plus what outracing an assignment adds to it; both only rise until we
   * commit) is at least our ask price for the
   * circuit, we are not excluded from it, no other commitment on it is fresh or revealed (fallback-commits.ts: stale
   * unrevealed ones are squatters'), a slot is free (capacity counts assignments and fallback jobs together) and the expected
   * latency plus the commit and reveal blocks fit before its expiry. The job then runs like an assignment; submit()
   * commits and reveals through the SDK (docs/worker.md "Fallback").
   */
  private async scanFallback(): Promise<void> {
    let candidates: Request[];
    try {
      candidates = await this.fallbackCandidates();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'fallback scan failed');
      return;
    }
    if (candidates.length === 0) return;
    let protocolFeeBps: bigint | undefined;
    for (const r of candidates.sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const id = r.id.toString();
      const cal = this.calibrations.get(r.circuitId);
      if (!this.cfg.circuits.includes(r.circuitId) || cal === undefined) continue;
      if (r.excludedProvers.includes(this.address)) continue;
      if (this.tasks.has(id) || this.jobsCache.some((j) => j.requestId === id)) continue;
      const prev = await this.store.get(id);
      if (prev && prev.fallback) continue; // tried once already (fulfilled, superseded or failed)
      if (this.slotsInUse(r.circuitId) >= this.cfg.capacity) break;
      const need = this.blocksFor(this.latencyMs(r.circuitId)) + this.cfg.safetyBlocks + 2n; // prove, commit, reveal
      if (this.height + need > r.expiryHeight) continue;
      let fee: bigint;
      let raceBounty = 0n; // racing an assignment: the bounty share of its release slash comes on top (at least this)
      try {
        const q = await this.client.request(r.id);
        if (q.fallbackFee === undefined) continue; // no longer open to the fallback
        // a fresh or revealed commitment keeps us off; stale unrevealed ones (squatters') do not (fallback-commits.ts)
        const blocking = blockingCommit(q.fallbackCommits, this.height, this.cfg.fallbackCommitGraceBlocks);
        if (blocking !== undefined) {
          this.log.debug({ requestId: id, prover: blocking.prover, commitHeight: blocking.height.toString() }, 'fallback request has a fresh commitment: left alone');
          continue;
        }
        fee = q.fallbackFee; // what a commitment in the next block locks (modules/market/fallback-fee.ts)
        raceBounty = q.outraceBounty ?? 0n;
        protocolFeeBps ??= (await this.client.params()).market.protocolFeeBps;
      } catch {
        continue;
      }
      // (open to the fallback next block, as the node's fallbackFee says: a race on an assignment only once it is overdue)
      if (r.status === RequestStatus.REQUEST_STATUS_ASSIGNED && !(await this.overdue(r))) continue;
      const payout = fallbackPayout(fee, protocolFeeBps, BigInt(r.bounty || '0') + raceBounty);
      const cost = BigInt(cal.price);
      if (payout < cost) {
        this.log.debug({ requestId: id, payout: payout.toString(), cost: cost.toString() }, 'fallback request does not pay our price');
        continue;
      }
      const job: Job = {
        requestId: id, circuitId: r.circuitId, state: 'assigned', assignedHeight: this.height.toString(), deadlineHeight: r.expiryHeight.toString(),
        price: payout.toString(), collateral: '0', attempts: 0, updatedAt: Date.now(), fallback: true,
      };
      this.log.info({ requestId: id, circuitId: r.circuitId, payout: payout.toString(), cost: cost.toString(), expiry: job.deadlineHeight }, 'taking fallback request');
      await this.save(job);
    }
  }

  /**
   * Whether an assignment of another prover, already open to the race (the caller read the node's fallbackFee), is
   * worth racing now: it is overdue by its prover's own record of the circuit, or past the chain's overdue height
   * (race.ts raceFrom), so an honest assignee still proving is mostly left alone.
   */
  private async overdue(r: Request): Promise<boolean> {
    const a = r.assignment;
    if (a === undefined) return false;
    let rec: AssigneeRecord | undefined;
    try {
      rec = (await this.client.reputation(a.prover)).find((x) => x.circuitId === r.circuitId);
    } catch {
      return false; // node trouble: look again next tick
    }
    const next = this.height + 1n;
    const from = raceFrom(next, a.assignedHeight, rec, a.overdueHeight);
    if (next >= from) return true;
    this.log.debug({ requestId: r.id.toString(), prover: a.prover, raceFrom: from.toString() }, 'assignment past the patience but not overdue by its prover\'s record: left alone');
    return false;
  }

  /**
   * A fallback job whose request is no longer ours to prove (or after a failed reveal): fulfilled by us -> fulfilled;
   * still open to the fallback and `keep` -> kept for another try; otherwise superseded (it cost us nothing but the
   * proving time, and a forfeited deposit if our commitment expired unrevealed).
   */
  private async settleFallback(j: Job, keep: boolean): Promise<void> {
    let r: Request;
    try {
      r = (await this.client.request(BigInt(j.requestId))).request;
    } catch (e) {
      if ((e as Error).name !== 'ProofbookNotFoundError') return; // node trouble: next tick
      await this.save({ ...j, state: 'superseded', note: 'request gone', updatedAt: Date.now() });
      return;
    }
    const won = r.history.find((h) => h.event === 'fallback_fulfilled' && h.prover === this.address);
    if (won) {
      // what the settlement paid (its history entry: the locked fee, and the bounty as compensation)
      let price = j.price;
      try {
        const bps = (await this.client.params()).market.protocolFeeBps;
        price = fallbackPayout(BigInt(won.amount || '0'), bps, BigInt(won.compensation || '0')).toString();
      } catch {
        // node trouble: the payout expected when the job was taken
      }
      await this.finish({ ...j, price }, 'fulfilled');
      return;
    }
    // delivered by us, payment held until earlier commitments' windows close (modules/market/fallback.ts): look again
    if ((r.fallbackPayeeCommitId ?? 0n) > 0n && r.fallbackPayee === this.address) return;
    // (ASSIGNED: to another prover, raced past the requester's patience)
    const open = r.status === RequestStatus.REQUEST_STATUS_FALLBACK || r.status === RequestStatus.REQUEST_STATUS_OPEN || (r.status === RequestStatus.REQUEST_STATUS_ASSIGNED && r.assignment?.prover !== this.address);
    if (open && keep && !r.excludedProvers.includes(this.address) && this.height <= r.expiryHeight) return;
    if (open && !keep) return; // still open and ours to try: scheduled as before
    await this.save({ ...j, state: 'superseded', note: `request ${j.requestId} is ${statusName(r.status)}${r.assignment ? ` (assigned to ${r.assignment.prover})` : ''}`, updatedAt: Date.now() });
  }

  /** A job that is no longer ASSIGNED to us: find out what happened to it. */
  private async settle(j: Job): Promise<void> {
    const { request: r } = await this.client.request(BigInt(j.requestId));
    const since = BigInt(j.assignedHeight);
    const mine = r.history.filter((h) => h.height >= since && h.prover === this.address);
    if (r.status === RequestStatus.REQUEST_STATUS_ASSIGNED && r.assignment?.prover === this.address) return; // still ours
    if (mine.some((h) => h.event === 'fulfilled')) {
      await this.finish(j, 'fulfilled');
    } else if (mine.some((h) => h.event === 'released')) {
      await this.save({ ...j, state: 'released', updatedAt: Date.now() });
    } else if (mine.some((h) => h.event === 'declined')) {
      await this.save({ ...j, state: 'declined', updatedAt: Date.now() });
    } else if (mine.some((h) => h.event === 'outraced')) {
      // past the requester's patience or the overdue height a fallback proof came first: slashed as for a release, not a miss
      const e = mine.find((h) => h.event === 'outraced')!;
      this.metrics.slashes.inc({ kind: 'outraced' });
      this.log.warn({ requestId: j.requestId, slashed: e.amount, height: e.height.toString() }, 'assignment outraced by a fallback proof past the requester\'s patience or its overdue height');
      await this.save({ ...j, state: 'released', note: `outraced at height ${e.height} (slashed ${e.amount})`, updatedAt: Date.now() });
    } else {
      this.metrics.slashes.inc({ kind: 'missed' });
      this.log.error({ requestId: j.requestId, deadline: j.deadlineHeight, status: r.status }, 'assignment lost (deadline missed: collateral slashed)');
      await this.save({ ...j, state: 'lost', updatedAt: Date.now(), note: 'deadline missed' });
      this.trip('slashed for a missed deadline');
    }
  }

  private async finish(j: Job, state: 'fulfilled'): Promise<void> {
    const cur = this.jobsCache.find((x) => x.requestId === j.requestId) ?? j;
    if (cur.state === state) return;
    this.earnings += BigInt(j.price);
    this.metrics.earnings.inc(Number(BigInt(j.price)));
    this.log.info({ requestId: j.requestId, price: j.price }, 'fulfilled');
    await this.save({ ...cur, price: j.price, state, updatedAt: Date.now() }); // what was paid (a fallback job's may differ from its estimate)
  }

  /** Jobs of `circuitId` that take a proving slot: every live one except a delivered proof waiting for its payment. */
  private slotsInUse(circuitId: string): number {
    return this.jobsCache.filter((j) => j.circuitId === circuitId && j.state !== 'delivered').length;
  }

  private async save(j: Job): Promise<void> {
    await this.store.put(j);
    const i = this.jobsCache.findIndex((x) => x.requestId === j.requestId);
    if (TERMINAL.has(j.state)) {
      if (i >= 0) this.jobsCache.splice(i, 1);
    } else if (i >= 0) this.jobsCache[i] = j;
    else this.jobsCache.push(j);
    this.emit('job', j);
  }

  // ------------------------------------------------------------------ scheduling

  private latencyMs(circuitId: string): number {
    return this.calibrations.get(circuitId)?.latencyMs ?? 60_000;
  }

  private blocksFor(ms: number): bigint {
    return BigInt(Math.ceil(Math.max(0, ms) / Math.max(1, this.blockMs)));
  }

  /** Starts, keeps or gives back each held assignment, earliest deadline first. */
  private schedule(): void {
    const jobs = [...this.jobsCache].sort((a, b) => {
      const d = BigInt(a.deadlineHeight) - BigInt(b.deadlineHeight);
      return d < 0n ? -1 : d > 0n ? 1 : BigInt(a.requestId) < BigInt(b.requestId) ? -1 : 1;
    });
    let ahead = 0;
    for (const j of jobs) {
      const P = this.backend.parallelismFor?.(j.circuitId) ?? this.backend.parallelism;
      if (j.state === 'proving' && this.tasks.has(j.requestId)) {
        const elapsed = Date.now() - (j.startedAt ?? Date.now());
        const wave = Math.floor(ahead / P);
        ahead++;
        const remaining = wave * this.latencyMs(j.circuitId) + Math.max(this.latencyMs(j.circuitId) - elapsed, 0);
        if (this.height + this.blocksFor(remaining) + this.cfg.safetyBlocks > BigInt(j.deadlineHeight)) {
          this.startTask(j.requestId, () => this.release(j, `proof would not finish in time (${Math.round(elapsed)} ms in)`), true);
        }
        continue;
      }
      if (this.tasks.has(j.requestId)) continue;
      if (j.state === 'assigned') {
        const wave = Math.floor(ahead / P) + 1;
        const need = this.blocksFor(wave * this.latencyMs(j.circuitId)) + this.cfg.safetyBlocks;
        const inAccept = this.inAcceptPhase(j);
        const go = admit({ height: this.height, needBlocks: need, deadlineHeight: BigInt(j.deadlineHeight), racedFromHeight: this.cfg.declineOverdue ? BigInt(j.racedFromHeight ?? j.overdueHeight ?? '0') : 0n, inAcceptPhase: inAccept });
        if (!go.start) {
          // (no need to withdraw the ask: a prover that declines or releases a request is never assigned it again)
          this.startTask(j.requestId, () => (inAccept ? this.decline(j, go.why) : this.release(j, go.why)));
          continue;
        }
        ahead++;
        this.startTask(j.requestId, () => this.prove(j));
      } else if (j.state === 'proved') {
        this.startTask(j.requestId, () => this.submit(j));
      }
    }
    this.metrics.queueDepth.set(jobs.filter((j) => j.state === 'assigned' || j.state === 'proving').length);
  }

  private startTask(id: string, fn: () => Promise<void>, replace = false): void {
    if (this.tasks.has(id) && !replace) return;
    // With `replace`, a running proving task keeps going in the pool; its result is discarded (the job is no
    // longer 'proving' once the release starts).
    let p: Promise<void> | undefined;
    p = (async () => {
      try {
        await fn();
      } catch (e) {
        this.log.error({ requestId: id, err: (e as Error).message }, 'job task failed');
      } finally {
        if (this.tasks.get(id) === p) this.tasks.delete(id);
        this.kick();
      }
    })();
    this.tasks.set(id, p);
  }

  private async circuit(id: string): Promise<{ circuit: Circuit; vk: PreparedVk }> {
    let c = this.circuits.get(id);
    if (!c) {
      const circuit = await this.retry('circuit', () => this.client.circuit(id));
      c = { circuit, vk: prepareVerifyingKey(decodeVerifyingKey(circuit.verifyingKey)) };
      this.circuits.set(id, c);
    }
    return c;
  }

  private async artifactPaths(id: string): Promise<{ wasmPath: string; zkeyPath: string; vk: PreparedVk }> {
    const { circuit, vk } = await this.circuit(id);
    if (!circuit.wasm?.sha256 || !circuit.provingKey?.sha256) throw new ProveError(`circuit ${id} has no registered wasm/proving key artifacts`);
    const [wasmPath, zkeyPath] = await Promise.all([this.artifacts.get(circuit.wasm), this.artifacts.get(circuit.provingKey)]);
    return { wasmPath, zkeyPath, vk };
  }

  private async input(r: Request): Promise<Record<string, unknown>> {
    let bytes: Buffer;
    if (r.inputInline.length > 0) bytes = Buffer.from(r.inputInline);
    else {
      // Streamed, size-capped, hashed as it arrives (input-fetch.ts).
      try {
        bytes = await fetchInput(r.inputUri, { sha256: r.inputSha256 });
      } catch (e) {
        throw new ProveError(`request ${r.id}: ${(e as Error).message}`);
      }
    }
    const v: unknown = JSON.parse(bytes.toString('utf8'));
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProveError(`request ${r.id}: input is not a JSON object`);
    return v as Record<string, unknown>;
  }

  /**
   * The accept-phase preflight: fetch the input and run the circuit's witness generator on it; the public signals it
   * gives must equal the ones the request committed to. Any failure is a PreflightError (the request is unprovable
   * or mis-stated, not our fault). Returns the input for proving.
   */
  private async preflight(r: Request, wasmPath: string): Promise<Record<string, unknown>> {
    let input: Record<string, unknown>;
    try {
      input = await this.input(r);
    } catch (e) {
      throw new PreflightError(`input unusable: ${(e as Error).message}`);
    }
    const { circuit } = await this.circuit(r.circuitId);
    let got: bigint[];
    try {
      got = await publicSignalsFromInput(wasmPath, input, circuit.numPublicInputs);
    } catch (e) {
      throw new PreflightError((e as Error).message);
    }
    const want = r.expectedPublicSignals;
    if (want.length !== got.length || want.some((s, i) => BigInt(s) !== got[i])) {
      throw new PreflightError(`the input's public signals [${got.join(',')}] are not the committed [${want.join(',')}]`);
    }
    return input;
  }

  /** Whether a decline sent now can still land in the accept phase (one block of margin). */
  private inAcceptPhase(j: Job): boolean {
    return j.acceptUntilHeight !== undefined && this.height + 1n <= BigInt(j.acceptUntilHeight);
  }

  /** Hands the assignment back in its accept phase: no slash, paid the decline fee, no breaker trip. */
  private async decline(j: Job, why: string): Promise<void> {
    const cur = this.jobsCache.find((x) => x.requestId === j.requestId);
    if (!cur) return;
    if (cur.fallback) { await this.release(cur, why, 'failed'); return; }
    await this.save({ ...cur, state: 'assigned', note: `declining: ${why}`, updatedAt: Date.now() });
    try {
      const r = await this.tx('decline', () => this.client.decline(BigInt(j.requestId), why.slice(0, 250)), BigInt(cur.acceptUntilHeight ?? cur.deadlineHeight));
      this.log.warn({ requestId: j.requestId, feePaid: r.feePaid.toString(), why }, 'declined assignment in its accept phase');
      await this.save({ ...cur, state: 'declined', note: why, updatedAt: Date.now() });
    } catch (e) {
      this.log.error({ requestId: j.requestId, err: (e as Error).message }, 'decline failed');
      await this.settle(cur);
    }
  }

  /** Checks a proof with the chain's own verifier (and the request's expected signals) before it is submitted. */
  private check(vk: PreparedVk, out: ProveOutput, expected: readonly string[]): void {
    const signals = publicSignalsFromSnarkjs(out.publicSignals);
    if (!verifyOne(vk, proofFromSnarkjs(out.proof), signals)) throw new ProveError('the proof does not pass the chain verifier');
    if (expected.length > 0 && (expected.length !== signals.length || expected.some((s, i) => BigInt(s) !== signals[i]))) {
      throw new ProveError(`public signals ${signals.join(',')} differ from the expected ${expected.join(',')}`);
    }
  }

  private async prove(j0: Job): Promise<void> {
    let j: Job = { ...j0, state: 'proving', attempts: j0.attempts + 1, startedAt: Date.now(), updatedAt: Date.now() };
    await this.save(j);
    let out: ProveOutput;
    let request: Request;
    try {
      request = (await this.retry('request', () => this.client.request(BigInt(j.requestId)))).request;
      // the preflight needs only the witness generator: run it before fetching the (larger) proving key
      const { circuit } = await this.circuit(j.circuitId);
      if (!circuit.wasm?.sha256) throw new ProveError(`circuit ${j.circuitId} has no registered wasm artifact`);
      const input = await this.preflight(request, await this.artifacts.get(circuit.wasm));
      const { wasmPath, zkeyPath, vk } = await this.artifactPaths(j.circuitId);
      out = await this.backend.prove({ circuitId: j.circuitId, wasmPath, zkeyPath, input });
      this.check(vk, out, request.expectedPublicSignals);
    } catch (e) {
      if (this.stopped) return;
      const cur = this.jobsCache.find((x) => x.requestId === j.requestId);
      if (!cur || cur.state !== 'proving') return; // released meanwhile
      if (e instanceof PreflightError) {
        // The request cannot be proved as stated (its fault, not ours): decline for free while we may, no breaker trip.
        this.log.warn({ requestId: j.requestId, err: e.message }, 'preflight failed');
        if (this.inAcceptPhase(cur)) await this.decline(cur, e.message);
        else await this.release(cur, `preflight failed after the accept phase: ${e.message}`, 'failed');
        return;
      }
      this.log.error({ requestId: j.requestId, err: (e as Error).message }, 'proving failed; releasing the assignment');
      this.trip(`proving failure: ${(e as Error).message}`);
      await this.release(cur, `proving failed: ${(e as Error).message}`, 'failed');
      return;
    }
    this.metrics.provingSeconds.observe({ backend: this.backend.name, circuit: j.circuitId.slice(0, 16) }, out.timing.totalMs / 1000);
    const cur = this.jobsCache.find((x) => x.requestId === j.requestId);
    if (!cur || cur.state !== 'proving') return; // released or settled while proving
    j = { ...cur, state: 'proved', proof: out.proof, publicSignals: out.publicSignals, provingMs: Math.round(out.timing.totalMs), updatedAt: Date.now() };
    await this.save(j);
    this.log.info({ requestId: j.requestId, ms: j.provingMs }, 'proved');
    await this.submit(j);
  }

  private async submit(j: Job): Promise<void> {
    if (j.fallback) { await this.submitFallback(j); return; }
    if (this.height > BigInt(j.deadlineHeight)) { await this.settle(j); return; }
    try {
      const r = await this.tx('submit-proof', () => this.client.submitProof(BigInt(j.requestId), j.proof, j.publicSignals ?? []), BigInt(j.deadlineHeight));
      this.log.info({ requestId: j.requestId, height: r.height, paid: r.paid.toString() }, 'proof accepted');
      await this.finish(j, 'fulfilled');
    } catch (e) {
      this.log.warn({ requestId: j.requestId, err: (e as Error).message }, 'proof submission failed');
      if (permanent(e)) {
        const { request: r } = await this.retry('request', () => this.client.request(BigInt(j.requestId)));
        if (r.status === RequestStatus.REQUEST_STATUS_ASSIGNED && r.assignment?.prover === this.address) {
          // The chain refuses a proof our verifier accepted (e.g. signals mismatch): give the work back.
          this.trip(`proof rejected: ${(e as Error).message}`);
          await this.release(j, `proof rejected: ${(e as Error).message}`, 'failed');
          return;
        }
      }
      await this.settle(j);
    }
  }

  /**
   * A fallback proof: commit-reveal through the SDK (submitProof simulates the reveal first, commits with the deposit,
   * then reveals in a later block). If another prover's commitment holds the request, it is kept for another try
   * after that commitment's window; anything final supersedes it.
   */
  private async submitFallback(j: Job): Promise<void> {
    if (this.height > BigInt(j.deadlineHeight)) { await this.settleFallback(j, false); return; }
    try {
      const r = await this.tx('fallback-proof', () => this.client.submitProof(BigInt(j.requestId), j.proof, j.publicSignals ?? []), BigInt(j.deadlineHeight));
      this.log.info({ requestId: j.requestId, height: r.height, paid: r.paid.toString(), commit: r.commit ? { id: r.commit.commitId.toString(), height: r.commit.height } : undefined }, 'fallback proof accepted');
      if (r.payout !== undefined) {
        // delivered, paid only once earlier commitments' windows close: settleFallback looks again every tick
        this.log.info({ requestId: j.requestId, payee: r.payout.payee, settlesBy: r.payout.height.toString() }, 'fallback proof delivered; payment held');
        await this.save({ ...j, state: 'delivered', note: `payment held until height ${r.payout.height}`, updatedAt: Date.now() });
        return;
      }
      await this.finish({ ...j, price: r.paid.toString() }, 'fulfilled');
    } catch (e) {
      this.log.warn({ requestId: j.requestId, err: (e as Error).message }, 'fallback proof not accepted');
      await this.settleFallback(j, true);
    }
  }

  private async release(j: Job, why: string, state: 'released' | 'failed' = 'released'): Promise<void> {
    const cur = this.jobsCache.find((x) => x.requestId === j.requestId);
    if (!cur) return;
    if (cur.fallback) {
      // nothing on chain to give back: the job is just dropped (no collateral, no commitment before the proof exists)
      this.log.warn({ requestId: j.requestId, why }, 'dropping fallback job');
      await this.save({ ...cur, state: state === 'failed' ? 'failed' : 'superseded', note: why, updatedAt: Date.now() });
      return;
    }
    if (this.height > BigInt(cur.deadlineHeight)) { await this.settle(cur); return; }
    // Mark first so a finishing proof task does not submit.
    await this.save({ ...cur, state: 'assigned', note: `releasing: ${why}`, updatedAt: Date.now() });
    try {
      const r = await this.tx('release', () => this.client.release(BigInt(j.requestId)), BigInt(cur.deadlineHeight));
      this.metrics.slashes.inc({ kind: 'released' });
      this.log.warn({ requestId: j.requestId, slashed: r.slashed.toString(), why }, 'released assignment');
      await this.save({ ...cur, state, note: why, updatedAt: Date.now() });
    } catch (e) {
      this.log.error({ requestId: j.requestId, err: (e as Error).message }, 'release failed');
      await this.settle(cur);
    }
  }

  // ------------------------------------------------------------------ transactions

  /** Serialized (one account sequence) with retries on node outages and sequence mismatches. */
  private tx<T>(what: string, fn: () => Promise<T>, deadline?: bigint): Promise<T> {
    const run = async (): Promise<T> => {
      let delay = 250;
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn();
        } catch (e) {
          if (permanent(e)) throw e;
          this.metrics.txErrors.inc({ kind: what });
          const late = deadline !== undefined && this.height >= deadline;
          if (attempt >= 8 || late || this.stopped) throw e;
          this.log.warn({ what, attempt, err: (e as Error).message, retryMs: delay }, 'transaction failed; retrying');
          await sleep(delay);
          delay = Math.min(delay * 2, 5000);
          try { this.observeHeight(await this.client.height()); } catch { /* node down: next attempt */ }
        }
      }
    };
    const p = this.txChain.then(run, run);
    this.txChain = p.catch(() => undefined);
    return p;
  }

  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let delay = 250;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (attempt >= 6 || (e as Error).name === 'ProofbookNotFoundError') throw e;
        this.log.warn({ what, attempt, err: (e as Error).message }, 'query failed; retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private async ensureBond(): Promise<void> {
    let bonded = 0n;
    try {
      const p = await this.client.prover(this.address);
      bonded = BigInt(p.prover?.bonded.find((c) => c.denom === 'uproof')?.amount ?? '0');
    } catch (e) {
      if ((e as Error).name !== 'ProofbookNotFoundError') throw e;
    }
    if (bonded < this.cfg.bond) {
      const add = this.cfg.bond - bonded;
      await this.tx('bond', () => this.client.bond(add));
      this.log.info({ added: add.toString(), bonded: this.cfg.bond.toString() }, 'bonded collateral');
    }
  }

  // ------------------------------------------------------------------ pricing and asks

  /** Times proofs of `circuitId` on the configured backend and derives the ask price; stored in the job DB. */
  async calibrate(circuitId: string, force: boolean): Promise<Calibration> {
    const stored = force ? undefined : await this.store.calibration(circuitId, this.backend.name);
    const auto = this.backend instanceof AutoBackend ? this.backend : undefined;
    if (stored && (auto ? applyStoredAuto(auto, stored) : stored.parallelism === this.backend.parallelism)) {
      const c = { ...stored, price: askPrice(this.cfg.pricing, BigInt(Math.ceil(stored.msPerProof))).toString() };
      this.calibrations.set(circuitId, c);
      return c;
    }
    const { wasmPath, zkeyPath, vk } = await this.artifactPaths(circuitId);
    this.log.info({ circuitId, proofs: this.cfg.pricing.calibrationProofs }, 'calibrating');
    const check = (o: ProveOutput) => this.check(vk, o, []);
    const c = auto
      ? await measureAuto(auto, this.cfg, circuitId, { wasmPath, zkeyPath }, check, (m) => this.log.warn({ circuitId }, m))
      : await measure(this.backend, this.cfg, circuitId, { wasmPath, zkeyPath }, check);
    await this.store.putCalibration(c);
    this.calibrations.set(circuitId, c);
    this.log.info(c, 'calibrated');
    return c;
  }

  /** Serialized: a tick and stop() must not both act on the same asks. */
  private manageAsks(): Promise<void> {
    const run = () => this.updateAsks();
    const p = this.asksLock.then(run, run);
    this.asksLock = p.catch(() => undefined);
    return p;
  }

  private async updateAsks(): Promise<void> {
    const all = (await this.client.asks({ prover: this.address, pagination: { limit: 1000n } })).asks;
    const live = all.filter((a) => a.prover === this.address && a.expiryHeight > this.height);
    const stopTaking = this.breaker.open || this.stopping;
    for (const circuitId of this.cfg.circuits) {
      const cal = this.calibrations.get(circuitId);
      const mine = live.filter((a) => a.circuitId === circuitId);
      const price = cal ? BigInt(cal.price) : 0n;
      this.metrics.askPrice.set({ circuit: circuitId.slice(0, 16) }, Number(price));
      const keep = !stopTaking && cal !== undefined && mine.length === 1 && BigInt(mine[0]!.price) === price
        && mine[0]!.capacity === BigInt(this.cfg.capacity) && mine[0]!.expiryHeight - this.height > this.cfg.askLifetimeBlocks / 2n;
      if (keep) continue;
      // Cancel and re-post in one transaction, so the prover is never without an ask in between.
      const msgs: EncodeObject[] = mine.map((a) => ({ typeUrl: TYPE_URLS.cancelAsk, value: MsgCancelAsk.fromPartial({ prover: this.address, askId: a.id }) }));
      // Assignments still held through cancelled asks count against the new ask's capacity.
      const capacity = BigInt(this.cfg.capacity - this.slotsInUse(circuitId));
      const post = !stopTaking && cal !== undefined && capacity >= 1n;
      if (post) {
        msgs.push({
          typeUrl: TYPE_URLS.postAsk,
          value: MsgPostAsk.fromPartial({ prover: this.address, circuitId, price: price.toString(), capacity, expiryHeight: this.height + this.cfg.askLifetimeBlocks }),
        });
      }
      if (msgs.length === 0) continue;
      const reason = stopTaking ? (this.stopping ? 'stopping' : `breaker: ${this.breaker.reason}`) : mine.length > 0 ? 'refresh' : 'new';
      try {
        await this.tx('asks', () => this.client.execute(msgs));
        this.log.info({ circuitId, cancelled: mine.map((a) => a.id.toString()), posted: post ? { price: price.toString(), capacity: capacity.toString() } : null, reason }, 'asks updated');
      } catch (e) {
        this.log.warn({ circuitId, err: (e as Error).message, reason }, 'ask update failed');
      }
    }
    const after = await this.client.asks({ prover: this.address, pagination: { limit: 1000n } });
    this.asks = after.asks.filter((a) => a.expiryHeight > this.height).map((a) => ({
      id: a.id.toString(), circuitId: a.circuitId, price: a.price, capacity: a.capacity.toString(), active: a.active.toString(), expiryHeight: a.expiryHeight.toString(),
    }));
  }

  // ------------------------------------------------------------------ circuit breaker

  private trip(reason: string): void {
    if (this.stopping) return;
    this.breaker = { open: true, reason, until: this.cfg.cooldownMs > 0 ? Date.now() + this.cfg.cooldownMs : undefined };
    this.metrics.breaker.set(1);
    this.log.error({ reason, cooldownMs: this.cfg.cooldownMs }, 'circuit breaker open: taking no new work');
    this.kick();
  }

  /** Closes the circuit breaker (as `proofbook worker resume` does). */
  resume(): void {
    if (!this.breaker.open) return;
    this.breaker = { open: false };
    this.metrics.breaker.set(0);
    this.log.info('circuit breaker closed: taking work again');
    this.kick();
  }

  private async checkBreaker(): Promise<void> {
    const flag = path.join(this.opts.home, 'worker', 'resume');
    try {
      await fs.rm(flag);
      this.log.info('resume requested');
      this.resume();
    } catch {
      // no flag
    }
    if (this.breaker.open && this.breaker.until !== undefined && Date.now() >= this.breaker.until) {
      this.log.info('cool-down over');
      this.resume();
    }
  }

  get breakerOpen(): boolean {
    return this.breaker.open;
  }

  // ------------------------------------------------------------------ status

  status(): WorkerStatus {
    const totals = { assigned: 0, proving: 0, proved: 0, fulfilled: 0, released: 0, declined: 0, lost: 0, failed: 0, superseded: 0 } as Record<JobState, number>;
    for (const j of this.jobsCache) totals[j.state]++;
    return {
      address: this.address,
      backend: this.backend.name,
      parallelism: this.backend.parallelism,
      height: this.height.toString(),
      blockTimeMs: this.blockMs,
      breaker: this.breaker,
      stopping: this.stopping,
      asks: this.asks,
      calibrations: [...this.calibrations.values()],
      jobs: this.jobsCache.map((j) => ({
        ...j,
        proof: undefined,
        progressPct: j.state === 'proving' && j.startedAt ? Math.min(99, Math.round((100 * (Date.now() - j.startedAt)) / this.latencyMs(j.circuitId))) : j.state === 'proved' || j.state === 'delivered' ? 100 : 0,
        blocksLeft: (BigInt(j.deadlineHeight) - this.height).toString(),
      })),
      totals,
      earnings: this.earnings.toString(),
      metricsPort: this.metricsServer?.port,
      updatedAt: Date.now(),
    };
  }

  private async publishStatus(): Promise<void> {
    for (const s of ['assigned', 'proving', 'proved', 'delivered'] as const) this.metrics.jobs.set({ state: s }, this.jobsCache.filter((j) => j.state === s).length);
    const file = path.join(this.opts.home, 'worker', 'status.json');
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(this.status(), null, 2));
    await fs.rename(tmp, file);
  }

  /** Jobs held now (not terminal). */
  activeJobs(): Job[] {
    return [...this.jobsCache];
  }

  /** Every job record in the store. */
  allJobs(): Promise<Job[]> {
    return this.store.all();
  }

  // ------------------------------------------------------------------ shutdown

  /**
   * Graceful stop: cancels the asks, lets in-flight proofs finish and be submitted for up to shutdownGraceMs, then
   * releases whatever is still held (while its deadline allows), and closes everything.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({ held: this.jobsCache.length }, 'stopping');
    closeWs(this.ws);
    clearTimeout(this.wsRetry);
    while (this.ticking) await sleep(20);
    try {
      await this.manageAsks();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not cancel asks');
    }
    const graceEnd = Date.now() + this.cfg.shutdownGraceMs;
    while (Date.now() < graceEnd && this.jobsCache.some((j) => j.state === 'proving' || j.state === 'proved')) {
      await Promise.race([sleep(200), ...this.tasks.values()]);
    }
    clearInterval(this.pollTimer);
    while (this.ticking) await sleep(20);
    this.stopped = true;
    for (const j of [...this.jobsCache]) {
      if (this.tasks.has(j.requestId) && j.state !== 'proving') await this.tasks.get(j.requestId);
    }
    try { this.observeHeight(await this.client.height()); } catch { /* node down */ }
    this.stopped = false;
    for (const j of [...this.jobsCache]) {
      if (j.state === 'assigned' || j.state === 'proving') await this.release(j, 'worker stopping').catch(() => undefined);
    }
    this.stopped = true;
    await this.txChain;
    try { await this.publishStatus(); } catch { /* best effort */ }
    await this.backend.close();
    await this.metricsServer?.close();
    this.client.disconnect();
    await Promise.allSettled([...this.tasks.values()]);
    await this.store.close();
    this.log.info('stopped');
  }

  /** Stops without releasing anything (simulates a crash for tests; a real crash is SIGKILL). */
  async abort(): Promise<void> {
    this.stopping = true;
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.wsRetry);
    closeWs(this.ws);
    while (this.ticking) await sleep(20);
    await this.backend.close();
    await this.metricsServer?.close();
    this.client.disconnect();
    await Promise.allSettled([...this.tasks.values()]);
    await this.store.close();
  }
}
