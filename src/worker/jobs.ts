/**
 * The worker's durable state in LevelDB (`${home}/worker/jobs`): one record per assignment it has held, plus
 * calibration results. Keys: `job/<requestId 20 digits>`, `calib/<circuitId>/<backend>`.
 */
import { Level } from 'level';

export type JobState =
  /** Assigned to us, not started (or interrupted by a restart). */
  | 'assigned'
  | 'proving'
  /** Proof computed and checked with the chain's verifier, not yet accepted on chain. */
  | 'proved'
  /**
   * A fallback proof delivered by us whose payment is held until earlier commitments' windows close
   * (modules/market/fallback.ts): ends `fulfilled` when it settles to us, `superseded` if an earlier one is paid instead.
   */
  | 'delivered'
  | 'fulfilled'
  | 'released'
  /** Handed back for free in its accept phase (preflight failed, or no time for it). */
  | 'declined'
  /** Deadline passed or the assignment disappeared without our proof (slashed). */
  | 'lost'
  /** Could not be proved (bad input, prover failure) and was released. */
  | 'failed'
  /** A fallback job given up without cost: another prover fulfilled (or holds) the request, or it ended first. */
  | 'superseded';

export const TERMINAL: ReadonlySet<JobState> = new Set(['fulfilled', 'released', 'declined', 'lost', 'failed', 'superseded']);

export interface Job {
  requestId: string;
  circuitId: string;
  state: JobState;
  assignedHeight: string;
  deadlineHeight: string;
  /** Last height of the accept phase: until then the assignment can be declined for free. */
  acceptUntilHeight?: string;
  /** Assignment.overdue_height: from it any prover may race the assignment ('0' or absent = none). */
  overdueHeight?: string;
  /**
   * From this height racers that follow race.ts would race it: raceFrom(the race's opening, raceOpensAt: the requester's
   * patience or the overdue height, whichever is first; this prover's record). '0' or absent = none.
   */
  racedFromHeight?: string;
  price: string;
  collateral: string;
  /** snarkjs proof.json and public signals once proved. */
  proof?: unknown;
  publicSignals?: string[];
  provingMs?: number;
  attempts: number;
  /** Local wall clock (ms) of the last change, for `worker status`. */
  updatedAt: number;
  startedAt?: number;
  note?: string;
  /**
   * A job taken from the permissionless fallback (not an assignment): no collateral, nothing to release or decline;
   * deadlineHeight is the request's expiry, price the expected payout (fee less protocol fee, plus bounty).
   */
  fallback?: boolean;
}

export interface Calibration {
  circuitId: string;
  backend: string;
  parallelism: number;
  proofs: number;
  /** Mean wall time of one job (latency), ms. */
  latencyMs: number;
  /** Machine time per proof: batch wall time / proofs, ms. */
  msPerProof: number;
  price: string;
  at: number;
  /** Backend 'auto': the backend chosen for this circuit, and what each candidate measured. */
  choice?: string;
  candidates?: { backend: string; parallelism: number; msPerProof: number; latencyMs: number }[];
}

const jobKey = (id: bigint | string) => `job/${BigInt(id).toString().padStart(20, '0')}`;

export class JobStore {
  private constructor(readonly db: Level<string, string>) {}

  static async open(dir: string): Promise<JobStore> {
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    await db.open();
    return new JobStore(db);
  }

  async get(id: bigint | string): Promise<Job | undefined> {
    const v = await this.db.get(jobKey(id));
    return v === undefined ? undefined : (JSON.parse(v) as Job);
  }

  async put(job: Job): Promise<void> {
    await this.db.put(jobKey(job.requestId), JSON.stringify(job));
  }

  /** Every job in request id order. */
  async all(): Promise<Job[]> {
    const out: Job[] = [];
    for await (const [, v] of this.db.iterator({ gte: 'job/', lt: 'job0' })) out.push(JSON.parse(v) as Job);
    return out;
  }

  async active(): Promise<Job[]> {
    return (await this.all()).filter((j) => !TERMINAL.has(j.state));
  }

  async calibration(circuitId: string, backend: string): Promise<Calibration | undefined> {
    const v = await this.db.get(`calib/${circuitId}/${backend}`);
    return v === undefined ? undefined : (JSON.parse(v) as Calibration);
  }

  async putCalibration(c: Calibration): Promise<void> {
    await this.db.put(`calib/${c.circuitId}/${c.backend}`, JSON.stringify(c));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
