/**
 * Worker configuration (examples/worker.json, docs/worker.md): parsed and validated at start-up; every error names
 * the offending field.
 */
import os from 'node:os';

export class ConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`worker config: ${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

export interface WorkerConfig {
  /**
   * 'auto' (default: calibration measures every available backend per circuit and uses the fastest),
   * 'snarkjs' (worker_threads pool, one single-threaded job per thread), 'snarkjs-mt' (one job at a time on
   * snarkjs' own threads), 'native' (the Go prover in native/prover) or 'command' (external rapidsnark-style prover).
   */
  backend: 'auto' | 'snarkjs' | 'snarkjs-mt' | 'native' | 'command';
  /** snarkjs pool size (default: available cores). */
  threads: number;
  command?: { path: string; args: string[]; parallelism: number; timeoutMs: number };
  /** Native prover: binary path (default native/prover/bin/prover or $PROOFBOOK_NATIVE_PROVER), cores (0 = all). */
  native: { path?: string; threads: number; timeoutMs: number };
  /** Circuit ids to serve. */
  circuits: string[];
  /** Witness input used to calibrate a circuit: circuit id -> JSON file path (the genesis circuit has a default). */
  calibrationInputs: Record<string, string>;
  pricing: {
    /** What the machine costs per hour, in uproof. */
    costPerHourUproof: bigint;
    /** Expected busy share of the machine, percent (1..100). */
    parallelEfficiencyPct: bigint;
    /** Margin on top of cost, basis points. */
    marginBps: bigint;
    /** Never ask less than this (uproof). */
    minPrice: bigint;
    /** Fixed price, overriding the measurement (uproof); 0 = measure. */
    fixedPrice: bigint;
    /** Proofs timed per calibration. */
    calibrationProofs: number;
  };
  /** Concurrent assignments per circuit ask; default = backend parallelism. */
  capacity: number;
  askLifetimeBlocks: bigint;
  /** Keep at least this much bonded (uproof); 0 = do not bond. */
  bond: bigint;
  /** Blocks of slack kept before a deadline (time to get the proof tx into a block). */
  safetyBlocks: bigint;
  /** Expected block interval until measured (ms). */
  blockTimeMs: number;
  /** Circuit breaker cool-down after a failure or slash (ms); 0 = only `worker resume`. */
  cooldownMs: number;
  /** Polling interval when the websocket is quiet or down (ms). */
  pollIntervalMs: number;
  /** Prometheus /metrics and /status port; 0 = disabled; host 127.0.0.1 unless metricsHost. */
  metricsPort: number;
  metricsHost: string;
  gasPrice: string;
  /** Local directories searched (by content hash) when an artifact cannot be fetched. */
  artifactSearchDirs: string[];
  /** On SIGINT/SIGTERM, wait at most this long for in-flight proofs before releasing them (ms). */
  shutdownGraceMs: number;
  logLevel: string;
  /**
   * Also fulfil requests in the permissionless fallback (FALLBACK, or OPEN past the requester's patience) for the
   * served circuits when fee + bounty cover the ask price and a slot is free: commit-reveal (docs/worker.md). Default true.
   */
  fallback: boolean;
  /**
   * A fallback request with another prover's commitment made at most this many blocks ago (and not revealed yet) is
   * left alone: its proof is probably about to land. Older unrevealed commitments are taken for squatters' and do not
   * keep the worker off (src/worker/fallback-commits.ts). Default 2.
   */
  fallbackCommitGraceBlocks: bigint;
  /**
   * In the accept phase, decline an assignment the worker would prove only after racers would start on it: its overdue
   * height or its requester's patience, whichever opens the race first, and not before the worker's own record says it
   * is overdue (src/worker/admit.ts). Default true: where other workers race (the default, `fallback`),
   * being outraced loses the proof and costs a release slash; a decline costs the decline fee. false: prove it anyway
   * and hope nobody races it.
   */
  declineOverdue: boolean;
}

const KNOWN = new Set([
  'backend', 'threads', 'command', 'native', 'circuits', 'calibrationInputs', 'pricing', 'capacity', 'askLifetimeBlocks', 'bond',
  'safetyBlocks', 'fallback', 'fallbackCommitGraceBlocks', 'declineOverdue', 'blockTimeMs', 'cooldownMs', 'pollIntervalMs', 'metricsPort', 'metricsHost', 'gasPrice',
  'artifactSearchDirs', 'shutdownGraceMs', 'logLevel', '$schema', 'comment',
]);

function int(v: unknown, field: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(field, `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function big(v: unknown, field: string, min: bigint, dflt: bigint, max?: bigint): bigint {
  if (v === undefined) return dflt;
  let b: bigint;
  if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === 'string' && /^\d+$/.test(v)) b = BigInt(v);
  else throw new ConfigError(field, `must be a non-negative integer (number or decimal string), got ${JSON.stringify(v)}`);
  if (b < min || (max !== undefined && b > max)) throw new ConfigError(field, `must be in [${min}, ${max ?? '∞'}], got ${b}`);
  return b;
}

function bool(v: unknown, field: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(field, 'must be true or false');
  return v;
}

function str(v: unknown, field: string, dflt?: string): string {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || v === '') throw new ConfigError(field, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function strArray(v: unknown, field: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) throw new ConfigError(field, 'must be an array of non-empty strings');
  return [...v] as string[];
}

/** Validates a parsed worker.json (or a partial object) into a full config. `defaults.circuits` applies when none are given. */
export function parseConfig(raw: unknown, defaults: { circuits?: string[]; calibrationInputs?: Record<string, string> } = {}): WorkerConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('(root)', 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o).sort()) if (!KNOWN.has(k)) throw new ConfigError(k, `unknown field (known: ${[...KNOWN].filter((x) => !x.startsWith('$') && x !== 'comment').join(', ')})`);
  const backend = (o.backend ?? 'auto') as WorkerConfig['backend'];
  const BACKENDS = ['auto', 'snarkjs', 'snarkjs-mt', 'native', 'command'] as const;
  if (!BACKENDS.includes(backend as never)) throw new ConfigError('backend', `must be one of ${BACKENDS.map((b) => `'${b}'`).join(', ')}, got ${JSON.stringify(backend)}`);
  const cores = os.availableParallelism();
  const threads = int(o.threads, 'threads', 1, 1024, cores);
  let command: WorkerConfig['command'];
  if (backend === 'command') {
    if (o.command === undefined || typeof o.command !== 'object' || o.command === null) throw new ConfigError('command', "is required with backend 'command': { path, args?, parallelism?, timeoutMs? }");
    const c = o.command as Record<string, unknown>;
    for (const k of Object.keys(c)) if (!['path', 'args', 'parallelism', 'timeoutMs'].includes(k)) throw new ConfigError(`command.${k}`, 'unknown field');
    command = {
      path: str(c.path, 'command.path'),
      args: strArray(c.args, 'command.args'),
      parallelism: int(c.parallelism, 'command.parallelism', 1, 1024, 1),
      timeoutMs: int(c.timeoutMs, 'command.timeoutMs', 1000, 86_400_000, 600_000),
    };
  } else if (o.command !== undefined) {
    throw new ConfigError('command', "only applies to backend 'command'");
  }
  const n = (o.native ?? {}) as Record<string, unknown>;
  if (typeof n !== 'object' || n === null || Array.isArray(n)) throw new ConfigError('native', 'must be an object { path?, threads?, timeoutMs? }');
  for (const k of Object.keys(n)) if (!['path', 'threads', 'timeoutMs'].includes(k)) throw new ConfigError(`native.${k}`, 'unknown field');
  if (o.native !== undefined && backend !== 'native' && backend !== 'auto') throw new ConfigError('native', "only applies to backends 'native' and 'auto'");
  const native = {
    path: n.path === undefined ? undefined : str(n.path, 'native.path'),
    threads: int(n.threads, 'native.threads', 0, 1024, 0),
    timeoutMs: int(n.timeoutMs, 'native.timeoutMs', 1000, 86_400_000, 600_000),
  };
  const circuits = o.circuits === undefined ? [...(defaults.circuits ?? [])] : strArray(o.circuits, 'circuits');
  if (circuits.length === 0) throw new ConfigError('circuits', 'list at least one circuit id to serve');
  for (const [i, c] of circuits.entries()) if (!/^[0-9a-f]{64}$/.test(c)) throw new ConfigError(`circuits[${i}]`, `'${c}' is not a circuit id (64 lower-case hex digits)`);
  const calibrationInputs: Record<string, string> = { ...(defaults.calibrationInputs ?? {}) };
  if (o.calibrationInputs !== undefined) {
    if (typeof o.calibrationInputs !== 'object' || o.calibrationInputs === null || Array.isArray(o.calibrationInputs)) throw new ConfigError('calibrationInputs', 'must be an object { circuitId: inputJsonPath }');
    for (const [k, v] of Object.entries(o.calibrationInputs as Record<string, unknown>)) calibrationInputs[k] = str(v, `calibrationInputs.${k}`);
  }
  const p = (o.pricing ?? {}) as Record<string, unknown>;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new ConfigError('pricing', 'must be an object');
  for (const k of Object.keys(p)) {
    if (!['costPerHourUproof', 'parallelEfficiencyPct', 'marginBps', 'minPrice', 'fixedPrice', 'calibrationProofs'].includes(k)) throw new ConfigError(`pricing.${k}`, 'unknown field');
  }
  const pricing = {
    costPerHourUproof: big(p.costPerHourUproof, 'pricing.costPerHourUproof', 0n, 3_600_000n),
    parallelEfficiencyPct: big(p.parallelEfficiencyPct, 'pricing.parallelEfficiencyPct', 1n, 80n, 100n),
    marginBps: big(p.marginBps, 'pricing.marginBps', 0n, 2000n, 1_000_000n),
    minPrice: big(p.minPrice, 'pricing.minPrice', 1n, 1n),
    fixedPrice: big(p.fixedPrice, 'pricing.fixedPrice', 0n, 0n),
    calibrationProofs: int(p.calibrationProofs, 'pricing.calibrationProofs', 1, 1000, 3),
  };
  // Default capacity: what runs at once. 'auto' may pick the pool for a circuit, so it offers a job per core; a
  // single-job backend (native, snarkjs-mt) queues the rest, which the scheduling rule accounts for.
  const parallelism = backend === 'command' ? command!.parallelism : backend === 'native' || backend === 'snarkjs-mt' ? 1 : threads;
  const cfg: WorkerConfig = {
    backend,
    threads,
    command,
    native,
    circuits,
    calibrationInputs,
    pricing,
    capacity: int(o.capacity, 'capacity', 1, 1000, parallelism),
    askLifetimeBlocks: big(o.askLifetimeBlocks, 'askLifetimeBlocks', 10n, 1000n),
    bond: big(o.bond, 'bond', 0n, 0n),
    safetyBlocks: big(o.safetyBlocks, 'safetyBlocks', 0n, 2n, 10_000n),
    blockTimeMs: int(o.blockTimeMs, 'blockTimeMs', 1, 600_000, 1000),
    cooldownMs: int(o.cooldownMs, 'cooldownMs', 0, 86_400_000, 300_000),
    pollIntervalMs: int(o.pollIntervalMs, 'pollIntervalMs', 10, 600_000, 1000),
    metricsPort: int(o.metricsPort, 'metricsPort', 0, 65535, 0),
    metricsHost: str(o.metricsHost, 'metricsHost', '127.0.0.1'),
    gasPrice: str(o.gasPrice, 'gasPrice', '0.001uproof'),
    artifactSearchDirs: strArray(o.artifactSearchDirs, 'artifactSearchDirs'),
    shutdownGraceMs: int(o.shutdownGraceMs, 'shutdownGraceMs', 0, 3_600_000, 30_000),
    logLevel: str(o.logLevel, 'logLevel', 'info'),
    fallbackCommitGraceBlocks: big(o.fallbackCommitGraceBlocks, 'fallbackCommitGraceBlocks', 0n, 2n, 10_000n),
    fallback: bool(o.fallback, 'fallback', true),
    declineOverdue: bool(o.declineOverdue, 'declineOverdue', true),
  };
  if (!/^\d+(\.\d+)?[a-z][a-z0-9/]*$/.test(cfg.gasPrice)) throw new ConfigError('gasPrice', `'${cfg.gasPrice}' is not a gas price like 0.001uproof`);
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(cfg.logLevel)) throw new ConfigError('logLevel', `'${cfg.logLevel}' is not a pino level`);
  if (cfg.pricing.fixedPrice === 0n && cfg.pricing.costPerHourUproof === 0n) throw new ConfigError('pricing.costPerHourUproof', 'must be > 0 unless pricing.fixedPrice is set');
  return cfg;
}

/**
 * Ask price from a measurement: ceil(costPerHour × proveSeconds / 3600 / efficiency × (1 + margin)), where
 * proveSeconds is machine time per proof (calibration wall time / proofs, all pool threads busy), at least minPrice.
 * Integer arithmetic: proveMs in milliseconds.
 */
export function askPrice(pricing: WorkerConfig['pricing'], proveMsPerProof: bigint): bigint {
  if (pricing.fixedPrice > 0n) return pricing.fixedPrice;
  const num = pricing.costPerHourUproof * proveMsPerProof * 100n * (10_000n + pricing.marginBps);
  const den = 3_600_000n * pricing.parallelEfficiencyPct * 10_000n;
  const p = (num + den - 1n) / den;
  return p < pricing.minPrice ? pricing.minPrice : p;
}
