/**
 * Joins a non-validator node to a running localnet (scripts/cometbft-net.ts) by **state sync**: a fresh CometBFT home
 * with the network's genesis, its validators as persistent peers, and
 *   [statesync] enable = true, rpc_servers = "<validator 0 RPC>,<validator 1 RPC>",
 *               trust_height / trust_hash = a recent block of validator 0 (from its RPC), trust_period = 168h
 * next to a fresh `proofbook start` app. CometBFT discovers the validators' snapshots (their apps must run with
 * --snapshot-interval), verifies the snapshot height's header with its light client, feeds the chunks to the app
 * (which checks the restored Merkle root against that header's app hash), then block-syncs and follows consensus.
 *
 *   const node = await addStateSyncNode(net, { appArgs: ['--history-blocks', '100'] });
 *   await node.waitCaughtUp(net.height(0));
 *   await node.stop();
 *
 * CLI: `npm run localnet -- --home DIR --validators 4 --snapshot-interval 20 --statesync-node` runs the localnet and,
 * once a snapshot exists, adds such a node (docs/operators.md).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { FAST_TIMEOUTS, getTomlValue, proofbookArgs, setTomlValue, tcpReachable, type Net } from './cometbft-net.js';

const execFileP = promisify(execFile);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface StateSyncNodeOptions {
  /** Trust height (default: validator 0's latest height now); the trust hash is that block's hash. */
  trustHeight?: number;
  /** Extra `proofbook start` flags for the new node's app. */
  appArgs?: string[];
  /** Index of the new node in the port/home layout (default: the first free one after the validators). */
  index?: number;
}

export interface StateSyncNode {
  readonly index: number;
  readonly home: string;
  readonly appHome: string;
  readonly rpcUrl: string;
  readonly appLog: string;
  readonly cometLog: string;
  readonly trustHeight: number;
  status(): Promise<{ height: number; appHash: string; catchingUp: boolean; earliestHeight: number }>;
  /** Waits until the node is at height >= h and no longer catching up. */
  waitCaughtUp(h: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function spawnLogged(cmd: string, args: string[], logFile: string, children: ChildProcess[]): ChildProcess {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env: process.env });
  fs.closeSync(fd);
  children.push(child);
  process.once('exit', () => child.kill('SIGKILL'));
  return child;
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

export async function addStateSyncNode(n: Net, opts: StateSyncNodeOptions = {}): Promise<StateSyncNode> {
  let index = opts.index ?? n.validators;
  while (opts.index === undefined && fs.existsSync(n.nodeHome(index))) index++;
  const home = n.nodeHome(index);
  const appHome = path.join(home, 'app');
  await execFileP(n.cometbft, ['init', '--home', home]);
  fs.mkdirSync(appHome, { recursive: true });
  fs.copyFileSync(path.join(n.nodeHome(0), 'config', 'genesis.json'), path.join(home, 'config', 'genesis.json'));

  // Trust root from validator 0's RPC; snapshots are light-client verified against it.
  const latest = await n.height(0);
  const trustHeight = opts.trustHeight ?? latest;
  const blk = await n.rpc<{ block_id: { hash: string } }>(0, 'block', { height: trustHeight });
  const peers: string[] = [];
  for (let i = 0; i < n.validators; i++) {
    const st = await n.rpc<{ node_info: { id: string } }>(i, 'status');
    peers.push(`${st.node_info.id}@127.0.0.1:${n.p2pPort(i)}`);
  }
  const src = fs.readFileSync(path.join(n.nodeHome(0), 'config', 'config.toml'), 'utf8');
  const cfgPath = path.join(home, 'config', 'config.toml');
  let cfg = fs.readFileSync(cfgPath, 'utf8');
  cfg = setTomlValue(cfg, '', 'moniker', `statesync${index}`);
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
  cfg = setTomlValue(cfg, 'statesync', 'enable', true);
  cfg = setTomlValue(cfg, 'statesync', 'rpc_servers', `${n.rpcUrl(0)},${n.rpcUrl(Math.min(1, n.validators - 1))}`);
  cfg = setTomlValue(cfg, 'statesync', 'trust_height', trustHeight);
  cfg = setTomlValue(cfg, 'statesync', 'trust_hash', blk.block_id.hash);
  cfg = setTomlValue(cfg, 'statesync', 'trust_period', '168h0m0s');
  cfg = setTomlValue(cfg, 'statesync', 'discovery_time', '5s');
  fs.writeFileSync(cfgPath, cfg);

  const children: ChildProcess[] = [];
  const appLog = path.join(home, 'app.log');
  const cometLog = path.join(home, 'cometbft.log');
  const app = spawnLogged(process.execPath, proofbookArgs('start', '--home', appHome, '--abci', n.abciAddress(index),
    // No REST gateway on the joining node unless asked: the validators' apps already hold their own ports, and the
    // default 127.0.0.1:1317 may be taken by another node on this machine.
    '--api-laddr', 'off', ...(opts.appArgs ?? [])), appLog, children);
  const deadline = Date.now() + 60_000;
  while (!(await tcpReachable(n.abciPort(index)))) {
    if (app.exitCode !== null) throw new Error(`state-sync node app exited\n${n.logTail(appLog)}`);
    if (Date.now() > deadline) throw new Error('state-sync node app did not listen within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const comet = spawnLogged(n.cometbft, ['node', '--home', home], cometLog, children);
  const rpcUrl = `http://127.0.0.1:${n.rpcPort(index)}`;

  const status = async () => {
    const res = await fetch(`${rpcUrl}/status`, { signal: AbortSignal.timeout(5000) });
    const body = await res.json() as { result: { sync_info: { latest_block_height: string; latest_app_hash: string; catching_up: boolean; earliest_block_height: string } } };
    const s = body.result.sync_info;
    return { height: Number(s.latest_block_height), appHash: s.latest_app_hash, catchingUp: s.catching_up, earliestHeight: Number(s.earliest_block_height) };
  };
  return {
    index, home, appHome, rpcUrl, appLog, cometLog, trustHeight,
    status,
    async waitCaughtUp(h: number, timeoutMs = 120_000) {
      await n.waitFor(async () => {
        if (comet.exitCode !== null || comet.signalCode !== null) throw new Error(`state-sync CometBFT exited\n${n.logTail(cometLog)}\n${n.logTail(appLog)}`);
        if (app.exitCode !== null || app.signalCode !== null) throw new Error(`state-sync app exited\n${n.logTail(appLog)}`);
        try {
          const s = await status();
          return s.height >= h && !s.catchingUp;
        } catch {
          return false;
        }
      }, timeoutMs, `state-sync node at height ${h}`, 200);
    },
    async stop() {
      await stopChild(comet);
      await stopChild(app);
    },
  };
}
