/**
 * Adds a full node (block sync from genesis, no state sync) to a running localnet (scripts/cometbft-net.ts): a fresh
 * CometBFT home with the network's genesis and the validators as persistent peers, next to a fresh `proofbook start`
 * app. It has its own node key and validator key, so it can become a validator by MsgCreateValidator with that key's
 * public key; or, with `validatorKeyOf: i`, it runs validator i's key a second time (its own, fresh
 * priv_validator_state.json), which makes that validator sign conflicting votes — how the double-sign test gets
 * CometBFT to produce DuplicateVoteEvidence.
 *
 *   const node = await addFullNode(net);          // node.index: its slot in the port/home layout
 *   await node.waitHeight(await net.height(0));
 *   const pub = node.validatorPubKey();           // base64 ed25519 key for MsgCreateValidator
 *   await node.stop(); await node.start();        // restart on the same home
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { FAST_TIMEOUTS, getTomlValue, proofbookArgs, setTomlValue, tcpReachable, type ConsensusTimeouts, type Net } from './cometbft-net.js';

const execFileP = promisify(execFile);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface FullNodeOptions {
  /** Run validator i's consensus key (copied from node i) instead of a fresh one. */
  validatorKeyOf?: number;
  /** Index in the port/home layout (default: the first free slot after the validators). */
  index?: number;
  /**
   * Consensus timeouts that differ from the validators' (e.g. `timeout_propose: '1ms'` for a copy of a validator's
   * key, so that copy prevotes nil while the original prevotes the block: conflicting votes, DuplicateVoteEvidence).
   */
  timeouts?: Partial<ConsensusTimeouts>;
}

export interface FullNode {
  readonly index: number;
  readonly home: string;
  readonly appHome: string;
  readonly rpcUrl: string;
  readonly appLog: string;
  readonly cometLog: string;
  /** The node's ed25519 consensus public key, base64 (priv_validator_key.json). */
  validatorPubKey(): string;
  /** Its consensus address, upper-case hex as CometBFT prints it. */
  validatorAddress(): string;
  height(): Promise<number>;
  /** Throws (with the log's tail) if the app or CometBFT process has exited; for callers polling the node. */
  alive(): void;
  waitHeight(h: number, timeoutMs?: number): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function spawnLogged(cmd: string, args: string[], logFile: string): ChildProcess {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env: process.env });
  fs.closeSync(fd);
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  return child;
}

async function stopChild(c: ChildProcess | undefined): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

export async function addFullNode(n: Net, opts: FullNodeOptions = {}): Promise<FullNode> {
  let index = opts.index ?? n.validators;
  while (opts.index === undefined && fs.existsSync(n.nodeHome(index))) index++;
  const home = n.nodeHome(index);
  const appHome = path.join(home, 'app');
  await execFileP(n.cometbft, ['init', '--home', home]);
  fs.mkdirSync(appHome, { recursive: true });
  fs.copyFileSync(path.join(n.nodeHome(0), 'config', 'genesis.json'), path.join(home, 'config', 'genesis.json'));
  if (opts.validatorKeyOf !== undefined) {
    fs.copyFileSync(path.join(n.nodeHome(opts.validatorKeyOf), 'config', 'priv_validator_key.json'), path.join(home, 'config', 'priv_validator_key.json'));
  }
  const peers: string[] = [];
  for (let i = 0; i < n.validators; i++) {
    const { stdout } = await execFileP(n.cometbft, ['show-node-id', '--home', n.nodeHome(i)]);
    peers.push(`${stdout.trim()}@127.0.0.1:${n.p2pPort(i)}`);
  }
  const src = fs.readFileSync(path.join(n.nodeHome(0), 'config', 'config.toml'), 'utf8');
  const cfgPath = path.join(home, 'config', 'config.toml');
  let cfg = fs.readFileSync(cfgPath, 'utf8');
  cfg = setTomlValue(cfg, '', 'moniker', `full${index}`);
  cfg = setTomlValue(cfg, '', 'proxy_app', n.abciAddress(index));
  cfg = setTomlValue(cfg, '', 'log_level', getTomlValue(src, '', 'log_level') ?? 'info');
  cfg = setTomlValue(cfg, 'rpc', 'laddr', `tcp://127.0.0.1:${n.rpcPort(index)}`);
  cfg = setTomlValue(cfg, 'rpc', 'pprof_laddr', '');
  cfg = setTomlValue(cfg, 'p2p', 'laddr', `tcp://127.0.0.1:${n.p2pPort(index)}`);
  cfg = setTomlValue(cfg, 'p2p', 'persistent_peers', peers.join(','));
  cfg = setTomlValue(cfg, 'p2p', 'addr_book_strict', false);
  cfg = setTomlValue(cfg, 'p2p', 'allow_duplicate_ip', true);
  cfg = setTomlValue(cfg, 'tx_index', 'indexer', 'kv');
  cfg = setTomlValue(cfg, 'instrumentation', 'prometheus', false);
  for (const k of Object.keys(FAST_TIMEOUTS)) {
    const v = getTomlValue(src, 'consensus', k);
    if (v !== undefined) cfg = setTomlValue(cfg, 'consensus', k, v === 'true' ? true : v === 'false' ? false : v);
  }
  for (const [k, v] of Object.entries(opts.timeouts ?? {})) cfg = setTomlValue(cfg, 'consensus', k, v);
  fs.writeFileSync(cfgPath, cfg);

  const appLog = path.join(home, 'app.log');
  const cometLog = path.join(home, 'cometbft.log');
  const rpcUrl = n.rpcUrl(index);
  let app: ChildProcess | undefined;
  let comet: ChildProcess | undefined;
  const keyFile = () => JSON.parse(fs.readFileSync(path.join(home, 'config', 'priv_validator_key.json'), 'utf8')) as { address: string; pub_key: { value: string } };
  const node: FullNode = {
    index, home, appHome, rpcUrl, appLog, cometLog,
    validatorPubKey: () => keyFile().pub_key.value,
    validatorAddress: () => keyFile().address,
    async height() {
      const res = await fetch(`${rpcUrl}/status`, { signal: AbortSignal.timeout(5000) });
      const body = await res.json() as { result: { sync_info: { latest_block_height: string } } };
      return Number(body.result.sync_info.latest_block_height);
    },
    alive() {
      if (comet && (comet.exitCode !== null || comet.signalCode !== null)) throw new Error(`full node ${index} CometBFT exited\n${n.logTail(cometLog)}\n${n.logTail(appLog)}`);
      if (app && (app.exitCode !== null || app.signalCode !== null)) throw new Error(`full node ${index} app exited\n${n.logTail(appLog)}`);
    },
    async waitHeight(h: number, timeoutMs = 120_000) {
      await n.waitFor(async () => {
        node.alive();
        try { return (await node.height()) >= h; } catch { return false; }
      }, timeoutMs, `full node ${index} at height ${h}`, 200);
    },
    async start() {
      // No REST gateway: the validators' apps hold their ports already.
      app = spawnLogged(process.execPath, proofbookArgs('start', '--home', appHome, '--abci', n.abciAddress(index),
        '--rpc', rpcUrl, '--api-laddr', 'off'), appLog);
      const deadline = Date.now() + 60_000;
      while (!(await tcpReachable(n.abciPort(index)))) {
        if (app.exitCode !== null) throw new Error(`full node ${index} app exited\n${n.logTail(appLog)}`);
        if (Date.now() > deadline) throw new Error(`full node ${index} app did not listen within 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      comet = spawnLogged(n.cometbft, ['node', '--home', home], cometLog);
      await n.waitFor(async () => {
        if (comet!.exitCode !== null) throw new Error(`full node ${index} CometBFT exited\n${n.logTail(cometLog)}`);
        try { await node.height(); return true; } catch { return false; }
      }, 60_000, `full node ${index} RPC`);
    },
    async stop() {
      await stopChild(comet);
      await stopChild(app);
    },
  };
  await node.start();
  return node;
}
