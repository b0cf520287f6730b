/**
 * Creates and runs a CometBFT v0.38 network of proofbook nodes on this machine: one validator
 * (`cometbft init`) or N validators (`cometbft testnet --v N`), each with its own app process and its
 * own ports on 127.0.0.1.
 *
 * Layout under DIR:
 *   DIR/net.json             ports, chain id, validator count (lets a second run reuse the network)
 *   DIR/nodeI/config, data   CometBFT home of validator I
 *   DIR/nodeI/app            proofbook home of validator I
 *   DIR/nodeI/app.log, cometbft.log
 * Ports: base + 10*I + {0: p2p, 1: rpc, 2: abci, 3: REST, 4: gRPC (only with `grpc: true`)}.
 *
 * CLI:  npm run localnet -- --validators 4 --home DIR      npm run cometbft-single -- --home DIR
 * API:  createNet(dir, {validators, appState}) -> Net (start, stop, killApp, restartNode, rpcUrl, waits)
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ALLOCATOR_ENV } from '../app/node-memory.js';
import { ensureNodeBuild } from './build-node.mjs';

const execFileP = promisify(execFile);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const COMETBFT_VERSION = '0.38.26';

// ---------------------------------------------------------------------------------------------------
// CometBFT binary

/**
 * Finds a CometBFT v0.38 binary: $COMETBFT_BIN, PATH, $(go env GOPATH)/bin, ~/go/bin. Throws with
 * install instructions when there is none (tests must fail loudly, not skip).
 */
export async function findCometbft(): Promise<string> {
  const candidates: string[] = [];
  if (process.env.COMETBFT_BIN) candidates.push(process.env.COMETBFT_BIN);
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'cometbft'));
  try {
    const { stdout } = await execFileP('go', ['env', 'GOPATH']);
    if (stdout.trim()) candidates.push(path.join(stdout.trim().split(path.delimiter)[0]!, 'bin', 'cometbft'));
  } catch { /* no go */ }
  candidates.push(path.join(os.homedir(), 'go', 'bin', 'cometbft'));
  const seen: string[] = [];
  for (const c of candidates) {
    if (!fs.existsSync(c)) continue;
    try {
      const { stdout } = await execFileP(c, ['version']);
      const v = stdout.trim();
      if (v.startsWith('0.38.')) return c;
      seen.push(`${c} (version ${v})`);
    } catch { /* not executable */ }
  }
  throw new Error(
    `CometBFT v${COMETBFT_VERSION} binary not found${seen.length ? `; found only ${seen.join(', ')}` : ''}. ` +
    'Install it with `npm run install-cometbft` (needs Go >= 1.22.11) or set COMETBFT_BIN.',
  );
}

/**
 * The arguments that run `proofbook ARGS…` as users run it: `bin/proofbook.mjs`, the compiled node and CLI
 * (scripts/build-node.mjs; docs/state.md "The compiled node"). Call `ensureNodeBuild()` once before spawning several,
 * so that they do not all build it.
 */
export function proofbookArgs(...args: string[]): string[] {
  return [path.join(REPO_ROOT, 'bin', 'proofbook.mjs'), ...args];
}

// ---------------------------------------------------------------------------------------------------
// config.toml editing

/**
 * Sets `key = value` inside `[section]` ('' for the top level) of a CometBFT config.toml. The key must
 * already exist (CometBFT writes every key), so a typo fails loudly instead of being ignored.
 */
export function setTomlValue(text: string, section: string, key: string, value: string | number | boolean): string {
  const lines = text.split('\n');
  let current = '';
  const rendered = typeof value === 'string' ? JSON.stringify(value) : String(value);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) { current = header[1]!.trim(); continue; }
    if (current !== section) continue;
    const m = /^(\s*)([A-Za-z0-9_.-]+)\s*=/.exec(line);
    if (m && m[2] === key) {
      lines[i] = `${m[1]}${key} = ${rendered}`;
      return lines.join('\n');
    }
  }
  throw new Error(`config.toml: key ${section ? `[${section}] ` : ''}${key} not found`);
}

export function getTomlValue(text: string, section: string, key: string): string | undefined {
  let current = '';
  for (const line of text.split('\n')) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) { current = header[1]!.trim(); continue; }
    if (current !== section) continue;
    const m = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(line);
    if (m && m[1] === key) {
      const raw = m[2]!.trim();
      return raw.startsWith('"') ? JSON.parse(raw) as string : raw;
    }
  }
  return undefined;
}

/** Consensus timeouts. `fast` mirrors CometBFT's TestConsensusConfig (config/config.go). */
export interface ConsensusTimeouts {
  timeout_propose: string;
  timeout_propose_delta: string;
  timeout_prevote: string;
  timeout_prevote_delta: string;
  timeout_precommit: string;
  timeout_precommit_delta: string;
  timeout_commit: string;
  skip_timeout_commit: boolean;
  peer_gossip_sleep_duration: string;
  peer_query_maj23_sleep_duration: string;
}

/**
 * Fast blocks for tests and demos. Shaped like CometBFT's TestConsensusConfig (config/config.go: propose
 * 40 ms, prevote/precommit 10 ms, commit 10 ms with skip_timeout_commit, gossip sleep 5 ms), but with a
 * longer propose timeout and larger per-round deltas: on a 2-core machine running N CometBFT processes
 * plus N Node.js apps, a proposal routinely takes a few hundred ms to arrive and 40 ms (+1 ms per round)
 * made heights spin through dozens of empty rounds.
 */
export const FAST_TIMEOUTS: ConsensusTimeouts = {
  timeout_propose: '400ms',
  timeout_propose_delta: '100ms',
  timeout_prevote: '20ms',
  timeout_prevote_delta: '20ms',
  timeout_precommit: '20ms',
  timeout_precommit_delta: '20ms',
  timeout_commit: '10ms',
  skip_timeout_commit: true,
  peer_gossip_sleep_duration: '10ms',
  peer_query_maj23_sleep_duration: '250ms',
};

/** CometBFT's defaults, except 1 s blocks are kept (timeout_commit) for an interactive localnet. */
export const DEFAULT_TIMEOUTS: ConsensusTimeouts = {
  timeout_propose: '3s',
  timeout_propose_delta: '500ms',
  timeout_prevote: '1s',
  timeout_prevote_delta: '500ms',
  timeout_precommit: '1s',
  timeout_precommit_delta: '500ms',
  timeout_commit: '1s',
  skip_timeout_commit: false,
  peer_gossip_sleep_duration: '100ms',
  peer_query_maj23_sleep_duration: '2s',
};

// ---------------------------------------------------------------------------------------------------
// ports

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * A base port in [20000, 32000) with all 10*validators ports after it free on 127.0.0.1. The range stays
 * below Linux's ephemeral ports (32768+), so outgoing connections cannot grab a port between this check
 * and the node binding it.
 */
export async function findFreeBasePort(validators: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Not state-machine code: randomness only spreads concurrent test runs over the port range.
    const base = 20000 + 10 * Math.floor(Math.random() * ((12000 - 10 * validators) / 10));
    let ok = true;
    for (let i = 0; i < validators && ok; i++) {
      for (const off of [0, 1, 2, 3, 4]) if (!(await portFree(base + 10 * i + off, '127.0.0.1'))) { ok = false; break; }
    }
    if (ok) return base;
  }
  throw new Error('no free port range found');
}

// ---------------------------------------------------------------------------------------------------
// genesis app state

/**
 * The chain's default genesis app state from genesis/index.ts (`defaultGenesis()`), or `{}` while
 * that module does not exist yet.
 */
export async function defaultAppState(): Promise<unknown> {
  const specifier = pathToFileURL(path.join(REPO_ROOT, 'genesis', 'index.ts')).href;
  if (!fs.existsSync(fileURLToPath(specifier))) return {};
  const mod = (await import(specifier)) as { defaultGenesis?: () => unknown };
  if (typeof mod.defaultGenesis !== 'function') throw new Error('genesis/index.ts does not export defaultGenesis()');
  return mod.defaultGenesis();
}

// ---------------------------------------------------------------------------------------------------
// the network

export type AppKind = 'proofbook' | 'kvstore' | 'external';

export interface NetOptions {
  validators: number;
  /**
   * genesis.json app_state; default: defaultAppState(). A function gets each validator's ed25519 consensus public
   * key (priv_validator_key.json) and returns an app state whose staking gentxs create the validator set; then
   * genesis.json's `validators` is left empty and InitChain's answer sets it.
   */
  appState?: unknown | ((consensusPubkeys: Uint8Array[]) => unknown | Promise<unknown>);
  chainId?: string;
  basePort?: number;
  /** Which app each validator runs; 'external' starts none (the caller serves abciAddress(i)). */
  app?: AppKind;
  /**
   * How the proofbook app is launched: 'cli' = `node --import tsx cli/main.ts start --home H --abci A`,
   * 'script' = `node --import tsx scripts/run-node.ts ...`. Default: 'cli' when cli/main.ts exists.
   */
  launcher?: 'cli' | 'script';
  timeouts?: Partial<ConsensusTimeouts>;
  /** Start from FAST_TIMEOUTS (default) or DEFAULT_TIMEOUTS. */
  fast?: boolean;
  /** CometBFT log_level (default "info"). */
  logLevel?: string;
  /** Extra environment for app processes. */
  appEnv?: Record<string, string>;
  /** Also serve gRPC from each proofbook app (`proofbook start --grpc-laddr`, port base+10i+4; off by default). */
  grpc?: boolean;
}

interface NetFile {
  validators: number;
  basePort: number;
  chainId: string;
  nodeIds: string[];
  app: AppKind;
}

export interface NodeStatus {
  height: number;
  appHash: string;
  catchingUp: boolean;
}

interface NodeProcs {
  app?: ChildProcess;
  comet?: ChildProcess;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Backstop: never leave CometBFT or app processes behind when this process exits.
    process.once('exit', () => { for (const c of liveChildren) c.kill('SIGKILL'); });
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('exit', onExit); resolve(false); }, timeoutMs);
    const onExit = () => { clearTimeout(timer); resolve(true); };
    child.once('exit', onExit);
  });
}

async function killAndWait(child: ChildProcess | undefined, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!child || exited(child)) return;
  child.kill(signal);
  if (await waitExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitExit(child, 10_000);
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

/** Whether something accepts TCP connections on 127.0.0.1:`port` (an app's ABCI socket, a node's RPC). */
export function tcpReachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export class Net {
  private readonly procs: NodeProcs[];
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly cometbft: string,
    private readonly file: NetFile,
    private readonly opts: NetOptions,
  ) {
    this.procs = Array.from({ length: file.validators }, () => ({}));
  }

  get validators(): number { return this.file.validators; }
  get chainId(): string { return this.file.chainId; }
  nodeHome(i: number): string { return path.join(this.dir, `node${i}`); }
  appHome(i: number): string { return path.join(this.nodeHome(i), 'app'); }
  p2pPort(i: number): number { return this.file.basePort + 10 * i; }
  rpcPort(i: number): number { return this.file.basePort + 10 * i + 1; }
  abciPort(i: number): number { return this.file.basePort + 10 * i + 2; }
  /** The REST gateway of validator i's app (`proofbook start --api-laddr`). */
  apiPort(i: number): number { return this.file.basePort + 10 * i + 3; }
  apiUrl(i: number): string { return `http://127.0.0.1:${this.apiPort(i)}`; }
  /** The gRPC server of validator i's app, when the net was created with `grpc: true`. */
  grpcAddress(i: number): string { return `127.0.0.1:${this.file.basePort + 10 * i + 4}`; }
  abciAddress(i: number): string { return `tcp://127.0.0.1:${this.abciPort(i)}`; }
  rpcUrl(i: number): string { return `http://127.0.0.1:${this.rpcPort(i)}`; }
  appLog(i: number): string { return path.join(this.nodeHome(i), 'app.log'); }
  cometLog(i: number): string { return path.join(this.nodeHome(i), 'cometbft.log'); }

  /** Creates the network files under `dir` (or reuses them if `dir/net.json` exists). */
  static async create(dir: string, opts: NetOptions): Promise<Net> {
    const cometbft = await findCometbft();
    fs.mkdirSync(dir, { recursive: true });
    const netFile = path.join(dir, 'net.json');
    if (fs.existsSync(netFile)) {
      const file = JSON.parse(fs.readFileSync(netFile, 'utf8')) as NetFile;
      if (file.validators !== opts.validators) throw new Error(`${dir} holds a ${file.validators}-validator network, not ${opts.validators}`);
      return new Net(dir, cometbft, file, opts);
    }
    const validators = opts.validators;
    if (!Number.isInteger(validators) || validators < 1) throw new Error('validators must be a positive integer');
    const basePort = opts.basePort ?? await findFreeBasePort(validators);
    const chainId = opts.chainId ?? 'proofbook-localnet';

    if (validators === 1) {
      await execFileP(cometbft, ['init', '--home', path.join(dir, 'node0')]);
    } else {
      await execFileP(cometbft, ['testnet', '--v', String(validators), '--n', '0', '--o', dir, '--starting-ip-address', '127.0.0.1']);
    }
    const nodeIds: string[] = [];
    for (let i = 0; i < validators; i++) {
      const { stdout } = await execFileP(cometbft, ['show-node-id', '--home', path.join(dir, `node${i}`)]);
      nodeIds.push(stdout.trim());
    }
    const file: NetFile = { validators, basePort, chainId, nodeIds, app: opts.app ?? 'proofbook' };
    const n = new Net(dir, cometbft, file, opts);

    // One genesis for all: node0's (testnet wrote the same validators into each), with our chain id and app state.
    const genesis = JSON.parse(fs.readFileSync(path.join(n.nodeHome(0), 'config', 'genesis.json'), 'utf8')) as Record<string, unknown>;
    genesis.chain_id = chainId;
    if (typeof opts.appState === 'function') {
      const keys = Array.from({ length: validators }, (_, i) => {
        const k = JSON.parse(fs.readFileSync(path.join(n.nodeHome(i), 'config', 'priv_validator_key.json'), 'utf8')) as { pub_key: { value: string } };
        return new Uint8Array(Buffer.from(k.pub_key.value, 'base64'));
      });
      genesis.app_state = await (opts.appState as (k: Uint8Array[]) => unknown)(keys);
      genesis.validators = [];
    } else {
      genesis.app_state = opts.appState !== undefined ? opts.appState : await defaultAppState();
    }
    const genesisText = JSON.stringify(genesis, null, 2) + '\n';

    const timeouts: ConsensusTimeouts = { ...((opts.fast ?? true) ? FAST_TIMEOUTS : DEFAULT_TIMEOUTS), ...opts.timeouts };
    for (let i = 0; i < validators; i++) {
      fs.writeFileSync(path.join(n.nodeHome(i), 'config', 'genesis.json'), genesisText);
      const cfgPath = path.join(n.nodeHome(i), 'config', 'config.toml');
      let cfg = fs.readFileSync(cfgPath, 'utf8');
      cfg = setTomlValue(cfg, '', 'moniker', `node${i}`);
      cfg = setTomlValue(cfg, '', 'proxy_app', n.abciAddress(i));
      cfg = setTomlValue(cfg, '', 'log_level', opts.logLevel ?? 'info');
      cfg = setTomlValue(cfg, 'rpc', 'laddr', `tcp://127.0.0.1:${n.rpcPort(i)}`);
      cfg = setTomlValue(cfg, 'rpc', 'pprof_laddr', '');
      cfg = setTomlValue(cfg, 'p2p', 'laddr', `tcp://127.0.0.1:${n.p2pPort(i)}`);
      cfg = setTomlValue(cfg, 'p2p', 'persistent_peers',
        nodeIds.map((id, j) => ({ id, j })).filter(({ j }) => j !== i).map(({ id, j }) => `${id}@127.0.0.1:${n.p2pPort(j)}`).join(','));
      cfg = setTomlValue(cfg, 'p2p', 'addr_book_strict', false);
      cfg = setTomlValue(cfg, 'p2p', 'allow_duplicate_ip', true);
      cfg = setTomlValue(cfg, 'p2p', 'pex', validators > 1);
      cfg = setTomlValue(cfg, 'tx_index', 'indexer', 'kv');
      cfg = setTomlValue(cfg, 'instrumentation', 'prometheus', false);
      for (const [k, v] of Object.entries(timeouts)) cfg = setTomlValue(cfg, 'consensus', k, v);
      fs.writeFileSync(cfgPath, cfg);
      fs.mkdirSync(n.appHome(i), { recursive: true });
    }
    fs.writeFileSync(netFile, JSON.stringify(file, null, 2) + '\n');
    return n;
  }

  /** The command that runs validator i's app. */
  private appCommand(i: number): { cmd: string; args: string[] } {
    const kind = this.opts.app ?? this.file.app;
    const launcher = this.opts.launcher ?? (fs.existsSync(path.join(REPO_ROOT, 'cli', 'main.ts')) ? 'cli' : 'script');
    if (kind === 'kvstore' || launcher === 'script') {
      return {
        cmd: process.execPath,
        args: ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'run-node.ts'),
          '--home', this.appHome(i), '--abci', this.abciAddress(i), '--app', kind === 'kvstore' ? 'kvstore' : 'proofbook'],
      };
    }
    return {
      cmd: process.execPath,
      args: proofbookArgs('start', '--home', this.appHome(i), '--abci', this.abciAddress(i),
        '--rpc', this.rpcUrl(i), '--api-laddr', `127.0.0.1:${this.apiPort(i)}`, ...(this.opts.grpc ? ['--grpc-laddr', this.grpcAddress(i)] : [])),
    };
  }

  private spawnLogged(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): ChildProcess {
    const fd = fs.openSync(logFile, 'a');
    fs.writeSync(fd, `\n=== ${new Date().toISOString()} ${path.basename(cmd)} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env });
    fs.closeSync(fd);
    track(child);
    return child;
  }

  async startApp(i: number): Promise<void> {
    if ((this.opts.app ?? this.file.app) === 'external') return;
    const p = this.procs[i]!;
    if (p.app && !exited(p.app)) throw new Error(`app ${i} already running`);
    const { cmd, args } = this.appCommand(i);
    if (args[0] === proofbookArgs()[0]) await ensureNodeBuild({ quiet: true }); // the compiled node (not run-node.ts)
    // The allocator settings an operator's node runs with (app/node-memory.ts, docs/operators.md).
    p.app = this.spawnLogged(cmd, args, this.appLog(i), { ...ALLOCATOR_ENV, ...process.env, ...this.opts.appEnv });
    const child = p.app;
    await this.waitFor(async () => {
      if (exited(child)) throw new Error(`app ${i} exited with ${child.exitCode ?? child.signalCode}\n${this.logTail(this.appLog(i))}`);
      return tcpReachable(this.abciPort(i));
    }, 60_000, `app ${i} listening on ${this.abciAddress(i)}`);
  }

  async startComet(i: number): Promise<void> {
    const p = this.procs[i]!;
    if (p.comet && !exited(p.comet)) throw new Error(`cometbft ${i} already running`);
    p.comet = this.spawnLogged(this.cometbft, ['node', '--home', this.nodeHome(i)], this.cometLog(i), process.env);
  }

  /** Starts every app, then every CometBFT node, and waits until each serves RPC. */
  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all(Array.from({ length: this.validators }, (_, i) => this.startApp(i)));
    for (let i = 0; i < this.validators; i++) await this.startComet(i);
    await Promise.all(Array.from({ length: this.validators }, (_, i) => this.waitForRpc(i)));
  }

  async waitForRpc(i: number, timeoutMs = 60_000): Promise<void> {
    await this.waitFor(async () => {
      const c = this.procs[i]!.comet;
      if (c && exited(c)) throw new Error(`cometbft ${i} exited with ${c.exitCode ?? c.signalCode}\n${this.logTail(this.cometLog(i))}`);
      try { await this.rpc(i, 'health'); return true; } catch { return false; }
    }, timeoutMs, `cometbft ${i} RPC`);
  }

  /** SIGKILLs validator i's app process (its CometBFT node then stops itself). */
  async killApp(i: number): Promise<void> {
    const app = this.procs[i]!.app;
    if (!app) throw new Error(`app ${i} is not managed by this Net`);
    await killAndWait(app, 'SIGKILL', 10_000);
  }

  /** SIGKILLs validator i's CometBFT process. */
  async killComet(i: number): Promise<void> {
    await killAndWait(this.procs[i]!.comet, 'SIGKILL', 10_000);
  }

  /** Whether validator i's processes are alive. */
  alive(i: number): { app: boolean; comet: boolean } {
    const p = this.procs[i]!;
    return { app: !!p.app && !exited(p.app), comet: !!p.comet && !exited(p.comet) };
  }

  /** Waits for CometBFT i to exit (e.g. after its app died). */
  async waitCometExit(i: number, timeoutMs = 30_000): Promise<boolean> {
    const c = this.procs[i]!.comet;
    return !c || waitExit(c, timeoutMs);
  }

  /** Stops validator i (CometBFT first, then the app), gracefully with a SIGKILL fallback. */
  async stopNode(i: number): Promise<void> {
    const p = this.procs[i]!;
    await killAndWait(p.comet, 'SIGTERM', 10_000);
    await killAndWait(p.app, 'SIGTERM', 10_000);
  }

  /**
   * Restarts validator i: whatever of its processes still runs is stopped (a CometBFT whose app died
   * is given time to stop by itself), then the app and CometBFT are started again. CometBFT's
   * handshake (Info + replay from its block store) brings the app up to date.
   */
  async restartNode(i: number): Promise<void> {
    const p = this.procs[i]!;
    if (p.app && exited(p.app) && p.comet && !exited(p.comet)) await waitExit(p.comet, 15_000);
    await this.stopNode(i);
    await this.startApp(i);
    await this.startComet(i);
    await this.waitForRpc(i);
  }

  /** Stops every process. Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.procs.map((p) => killAndWait(p.comet, 'SIGTERM', 10_000)));
    await Promise.all(this.procs.map((p) => killAndWait(p.app, 'SIGTERM', 10_000)));
  }

  // -------------------------------------------------------------------------------------------------
  // RPC helpers (CometBFT JSON-RPC over HTTP GET)

  async rpc<T = unknown>(i: number, method: string, params: Record<string, string | number> = {}): Promise<T> {
    const qs = Object.entries(params).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    const res = await fetch(`${this.rpcUrl(i)}/${method}${qs ? `?${qs}` : ''}`, { signal: AbortSignal.timeout(10_000) });
    const body = await res.json() as { result?: T; error?: { message: string; data?: string } };
    if (body.error) throw new Error(`rpc ${method} on node ${i}: ${body.error.message} ${body.error.data ?? ''}`);
    return body.result as T;
  }

  async status(i: number): Promise<NodeStatus> {
    const r = await this.rpc<{ sync_info: { latest_block_height: string; latest_app_hash: string; catching_up: boolean } }>(i, 'status');
    return { height: Number(r.sync_info.latest_block_height), appHash: r.sync_info.latest_app_hash, catchingUp: r.sync_info.catching_up };
  }

  async height(i: number): Promise<number> {
    return (await this.status(i)).height;
  }

  /** header.app_hash of block h on node i: the app hash after executing block h-1. */
  async headerAppHash(i: number, h: number): Promise<string> {
    const r = await this.rpc<{ block: { header: { app_hash: string } } }>(i, 'block', { height: h });
    return r.block.header.app_hash;
  }

  /** The last height node i's app has committed (ABCI Info through `abci_info`). */
  async appHeight(i: number): Promise<number> {
    const r = await this.rpc<{ response: { last_block_height?: string } }>(i, 'abci_info');
    return Number(r.response.last_block_height ?? 0);
  }

  /**
   * Waits until node i has block h and its app has committed it, so that queries to node i read height h's state or
   * later: CometBFT counts a block in `status` once it is stored, which is before FinalizeBlock and Commit have run.
   * Returns the node's height then.
   */
  async waitForHeight(i: number, h: number, timeoutMs = 120_000): Promise<number> {
    let last = 0;
    await this.waitFor(async () => {
      const c = this.procs[i]!.comet;
      if (c && exited(c)) throw new Error(`cometbft ${i} exited with ${c.exitCode ?? c.signalCode}\n${this.logTail(this.cometLog(i))}`);
      try {
        last = await this.height(i);
        return last >= h && (await this.appHeight(i)) >= h;
      } catch { return false; }
    }, timeoutMs, `node ${i} at height ${h}, committed by its app`);
    return last;
  }

  async waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 100): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await cond()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(intervalMs);
    }
  }

  logTail(file: string, lines = 40): string {
    try {
      const all = fs.readFileSync(file, 'utf8').split('\n');
      return `--- last ${lines} lines of ${file} ---\n${all.slice(-lines - 1).join('\n')}`;
    } catch { return `(no ${file})`; }
  }
}

/** `--statesync-node`: waits for validator 0's first snapshot, then joins a node by state sync (statesync-node.ts). */
async function startStateSyncNode(n: Net, interval: number): Promise<void> {
  if (!(interval > 0)) throw new Error('--statesync-node needs --snapshot-interval N (the validators must take snapshots)');
  const { addStateSyncNode } = await import('./statesync-node.js');
  await n.waitFor(async () => fs.existsSync(path.join(n.appHome(0), 'data', 'snapshots')) &&
    fs.readdirSync(path.join(n.appHome(0), 'data', 'snapshots')).some((d) => /^[0-9]+$/.test(d)), 600_000, 'a snapshot on validator 0', 1000);
  const node = await addStateSyncNode(n);
  process.once('SIGINT', () => void node.stop());
  console.log(`  state-sync node${node.index}: rpc ${node.rpcUrl} (trust height ${node.trustHeight})  logs ${node.home}/{app,cometbft}.log`);
}

export function createNet(dir: string, opts: NetOptions): Promise<Net> {
  return Net.create(dir, opts);
}

// ---------------------------------------------------------------------------------------------------
// CLI

async function main(): Promise<void> {
  const { Command } = await import('commander');
  const program = new Command()
    .name('cometbft-net')
    .description('Create (or reuse) and run a local CometBFT network of proofbook validators')
    .requiredOption('--home <dir>', 'network directory (created if missing, reused if it has net.json)')
    .option('--validators <n>', 'number of validators', '4')
    .option('--app <kind>', 'proofbook | kvstore', 'proofbook')
    .option('--launcher <how>', 'cli | script (default: cli when cli/main.ts exists)')
    .option('--fast', 'test-speed consensus timeouts (CometBFT TestConsensusConfig)', false)
    .option('--timeout-commit <dur>', 'consensus timeout_commit, e.g. 1s')
    .option('--chain-id <id>', 'chain id', 'proofbook-localnet')
    .option('--base-port <port>', 'first port (node i uses base+10i: p2p, +1 rpc, +2 abci, +3 REST)')
    .option('--snapshot-interval <n>', 'validators take a state-sync snapshot every n heights (proofbook start --snapshot-interval)')
    .option('--statesync-node', 'once a snapshot exists, add a non-validator node that joins by state sync (scripts/statesync-node.ts)')
    .parse();
  const o = program.opts<{
    home: string; validators: string; app: string; launcher?: string; fast: boolean; timeoutCommit?: string;
    chainId: string; basePort?: string; snapshotInterval?: string; statesyncNode?: boolean;
  }>();
  if (o.app !== 'proofbook' && o.app !== 'kvstore') throw new Error(`--app must be proofbook or kvstore`);
  if (o.launcher !== undefined && o.launcher !== 'cli' && o.launcher !== 'script') throw new Error('--launcher must be cli or script');
  const n = await createNet(path.resolve(o.home), {
    validators: Number(o.validators),
    app: o.app,
    chainId: o.chainId,
    fast: o.fast,
    ...(o.launcher ? { launcher: o.launcher } : {}),
    ...(o.timeoutCommit ? { timeouts: { timeout_commit: o.timeoutCommit } } : {}),
    ...(o.basePort ? { basePort: Number(o.basePort) } : {}),
    ...(o.snapshotInterval ? { appEnv: { PROOFBOOK_SNAPSHOT_INTERVAL: o.snapshotInterval } } : {}),
  });
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    console.log('stopping...');
    n.stop().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  await n.start();
  console.log(`chain ${n.chainId}: ${n.validators} validator(s) running under ${n.dir}`);
  for (let i = 0; i < n.validators; i++) {
    console.log(`  node${i}: rpc ${n.rpcUrl(i)}  rest ${n.apiUrl(i)}  abci ${n.abciAddress(i)}  p2p 127.0.0.1:${n.p2pPort(i)}  logs ${n.nodeHome(i)}/{app,cometbft}.log`);
  }
  if (o.statesyncNode) await startStateSyncNode(n, Number(o.snapshotInterval ?? 0));
  console.log('Ctrl-C to stop.');
  // Report progress; exit if every CometBFT process died.
  for (;;) {
    await sleep(5000);
    if (stopping) return;
    const alive = Array.from({ length: n.validators }, (_, i) => n.alive(i));
    if (alive.every((a) => !a.comet)) {
      console.error('all CometBFT processes exited; see the logs');
      await n.stop();
      process.exit(1);
    }
    try { console.log(`height ${await n.height(alive.findIndex((a) => a.comet))}`); } catch { /* restarting */ }
  }
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
