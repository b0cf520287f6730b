/**
 * `proofbook worker start|calibrate|status|resume`: the prover worker sidecar (src/worker, docs/worker.md).
 * Also runnable on its own: `node --import tsx cli/worker.ts [--home DIR] [--node URL] worker start --key NAME`.
 */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { CliError, Ctx, EXIT, keepAlive } from './common.js';
import type { WorkerConfig } from '../src/worker/config.js';

async function loadConfig(file: string | undefined): Promise<WorkerConfig> {
  const { parseConfig, ConfigError } = await import('../src/worker/config.js');
  const { genesisCircuitId } = await import('../modules/verifier/genesis.js');
  const { GENESIS_CIRCUIT } = await import('../src/zk/genesis.js');
  const gid = genesisCircuitId();
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read the worker config ${file}: ${(e as Error).message}`, EXIT.USAGE);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new CliError(`worker config ${file} is not valid JSON: ${(e as Error).message}`, EXIT.USAGE);
    }
  }
  try {
    const cfg = parseConfig(raw, { circuits: [gid], calibrationInputs: { [gid]: GENESIS_CIRCUIT.exampleInputPath } });
    // The genesis circuit's files are a local fallback source (always hash-checked).
    cfg.artifactSearchDirs.push(path.dirname(GENESIS_CIRCUIT.wasmPath));
    return cfg;
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, EXIT.USAGE, 'see examples/worker.json and docs/worker.md');
    throw e;
  }
}

async function makeLogger(level: string) {
  const { default: pino } = await import('pino');
  return pino({ level, base: { svc: 'proofbook-worker' } });
}

function fmtStatus(s: {
  address: string; backend: string; parallelism: number; height: string; breaker: { open: boolean; reason?: string };
  asks: { id: string; price: string; capacity: string; active: string }[]; earnings: string; updatedAt: number;
  jobs: { requestId: string; state: string; deadlineHeight: string; blocksLeft?: string; progressPct?: number; note?: string }[];
}): string {
  const lines = [
    `prover   ${s.address}  (backend ${s.backend} ×${s.parallelism})`,
    `height   ${s.height}   updated ${new Date(s.updatedAt).toISOString()}`,
    `breaker  ${s.breaker.open ? `OPEN: ${s.breaker.reason ?? ''} (proofbook worker resume to close)` : 'closed'}`,
    `earnings ${s.earnings} uproof`,
    `asks     ${s.asks.length === 0 ? 'none' : s.asks.map((a) => `#${a.id} ${a.price}uproof ${a.active}/${a.capacity}`).join(', ')}`,
    `jobs     ${s.jobs.length === 0 ? 'none held' : ''}`,
  ];
  for (const j of s.jobs) {
    lines.push(`  request ${j.requestId.padStart(6)}  ${j.state.padEnd(9)} ${String(j.progressPct ?? 0).padStart(3)}%  deadline ${j.deadlineHeight} (${j.blocksLeft ?? '?'} blocks left)${j.note ? `  ${j.note}` : ''}`);
  }
  return lines.join('\n');
}

export function workerCommand(): Command {
  const worker = new Command('worker').description('run a prover: follow the chain, prove assigned requests, price asks from measurement');

  worker
    .command('start')
    .description('start the worker (runs until SIGINT/SIGTERM, which finish or release in-flight work)')
    .requiredOption('--key <name>', 'keyring key of the prover account')
    .option('--config <file>', 'worker.json (see examples/worker.json)')
    .addOption(new Option('--keyring-backend <backend>', 'keyring backend').choices(['file', 'test']))
    .action(async (opts: { key: string; config?: string; keyringBackend?: 'file' | 'test' }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const cfg = await loadConfig(opts.config);
      const { wallet } = await ctx.keyring(opts.keyringBackend).signer(opts.key);
      const logger = await makeLogger(cfg.logLevel);
      const { ProverWorker } = await import('../src/worker/worker.js');
      const w = await ProverWorker.start({ home: ctx.home, nodeUrl: ctx.node, signer: wallet, config: cfg, logger, processMetrics: true });
      keepAlive.value = true;
      let stopping = false;
      const onSignal = (sig: string) => {
        if (stopping) {
          logger.warn({ sig }, 'second signal: exiting now');
          process.exit(130);
        }
        stopping = true;
        logger.info({ sig }, 'signal: finishing or releasing in-flight work');
        w.stop().then(() => process.exit(0), (e: unknown) => { logger.error({ err: (e as Error).message }, 'stop failed'); process.exit(1); });
      };
      process.on('SIGINT', () => onSignal('SIGINT'));
      process.on('SIGTERM', () => onSignal('SIGTERM'));
    });

  worker
    .command('calibrate')
    .description('time proofs of a circuit on the configured backend and print the resulting ask price')
    .requiredOption('--circuit <id>', 'circuit id')
    .option('--config <file>', 'worker.json')
    .action(async (opts: { circuit: string; config?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const cfg = await loadConfig(opts.config);
      if (!cfg.circuits.includes(opts.circuit)) cfg.circuits = [opts.circuit];
      const logger = await makeLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel);
      const { calibrateStandalone } = await import('../src/worker/calibrate.js');
      const r = await calibrateStandalone({ home: ctx.home, nodeUrl: ctx.node, config: cfg, circuitId: opts.circuit, logger });
      ctx.print(r, () => [
        `circuit        ${r.calibration.circuitId}`,
        `backend        ${r.calibration.choice ? `auto → ${r.calibration.choice}` : r.calibration.backend} ×${r.calibration.parallelism}`,
        ...(r.calibration.candidates ?? []).map((c) => `  candidate    ${c.backend} ×${c.parallelism}: ${c.msPerProof} ms machine time per proof, latency ${c.latencyMs} ms`),
        `proofs timed   ${r.calibration.proofs}`,
        `latency        ${r.calibration.latencyMs} ms per proof`,
        `throughput     ${(60_000 / r.calibration.msPerProof).toFixed(1)} proofs/min (${r.calibration.msPerProof} ms machine time per proof)`,
        `ask price      ${r.calibration.price} uproof`,
        r.stored ? 'stored in the worker database (used by the next `worker start`)' : `not stored: ${r.notStoredReason}`,
      ].join('\n'));
    });

  worker
    .command('status')
    .description("print the worker's current jobs with progress (from the running worker's status file)")
    .action(async (_opts: object, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const file = path.join(ctx.home, 'worker', 'status.json');
      let status: Parameters<typeof fmtStatus>[0];
      try {
        status = JSON.parse(await fs.readFile(file, 'utf8')) as typeof status;
      } catch {
        // Not running (or never ran): read the job database directly.
        const { JobStore, TERMINAL } = await import('../src/worker/jobs.js');
        let store;
        try {
          store = await JobStore.open(path.join(ctx.home, 'worker', 'jobs'));
        } catch (e) {
          throw new CliError(`no worker state under ${ctx.home}/worker: ${(e as Error).message}`, EXIT.FAILED, 'start one with `proofbook worker start --key NAME`');
        }
        const jobs = (await store.all()).filter((j) => !TERMINAL.has(j.state));
        await store.close();
        status = { address: '?', backend: '?', parallelism: 0, height: '?', breaker: { open: false }, asks: [], earnings: '?', updatedAt: 0, jobs };
      }
      ctx.print(status, () => fmtStatus(status));
    });

  worker
    .command('resume')
    .description('close the circuit breaker of the worker running on this home (take new work again)')
    .action(async (_opts: object, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      await fs.mkdir(path.join(ctx.home, 'worker'), { recursive: true });
      await fs.writeFile(path.join(ctx.home, 'worker', 'resume'), String(Date.now()));
      ctx.print({ resumeRequested: true }, () => 'resume requested: the worker picks it up on its next tick');
    });

  return worker;
}

// Standalone entry (tests, or before the lead wires `worker` into cli/main.ts).
if (process.argv[1] !== undefined && /cli[\\/]worker\.ts$/.test(process.argv[1])) {
  const program = new Command('proofbook')
    .option('--home <dir>', 'home directory')
    .option('--node <url>', 'CometBFT RPC endpoint')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .exitOverride();
  program.addCommand(workerCommand());
  try {
    await program.parseAsync(process.argv);
    if (!keepAlive.value) process.exit(0);
  } catch (e) {
    const { describeError } = await import('./common.js');
    if ((e as { code?: string }).code?.startsWith('commander.')) process.exit((e as { exitCode?: number }).exitCode === 0 ? 0 : EXIT.USAGE);
    const err = describeError(e);
    process.stderr.write(`Error: ${err.message}\n${err.hint ? `Hint: ${err.hint}\n` : ''}`);
    process.exit(err.exitCode);
  }
}
