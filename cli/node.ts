/** `proofbook init`, `proofbook devnet`, `proofbook start`: creating a home and running nodes. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { Ctx, CliError, EXIT, keepAlive, CONFIG_FILE, DEFAULT_CHAIN_ID, pathExists, toJson, type HomeConfig } from './common.js';
import { DEFAULT_NODE, connectQueryClient } from '../src/client/tx.js';
import { NATIVE_DENOM } from '../src/types/coins.js';
import { DEFAULT_HEAP_GROWTH_PERCENT, applyHeapGrowth, missingAllocatorEnv, nodeMemoryLine } from '../app/node-memory.js';
import { DEFAULT_REOPEN_BLOCKS } from '../src/store/committed.js';

function logger(): pino.Logger {
  return pino({ name: 'proofbook', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
}

/** `HOST:PORT`, `tcp://HOST:PORT` or `http://HOST:PORT` -> `HOST:PORT`. */
export function parseListenAddress(s: string): string {
  const m = /^(?:(?:tcp|https?):\/\/)?([A-Za-z0-9.\-]+|\[[0-9a-fA-F:]+\]):([0-9]{1,5})$/.exec(s.trim());
  if (!m || Number(m[2]) > 65535) throw new CliError(`'${s}' is not a listen address`, EXIT.USAGE, 'use HOST:PORT, e.g. 127.0.0.1:26657');
  return `${m[1]}:${m[2]}`;
}

/** `--api-cors`: '*' (any origin), 'off' (no CORS headers) or a comma-separated list of origins. */
export function parseCors(s: string): '*' | string[] {
  const v = s.trim();
  if (v === '*') return '*';
  if (v === 'off' || v === '') return [];
  const list = v.split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const o of list) {
    if (!/^https?:\/\/[^\s/]+$/.test(o)) throw new CliError(`--api-cors: '${o}' is not an origin`, EXIT.USAGE, "use '*', 'off' or origins like http://localhost:5173 (scheme://host[:port], comma-separated)");
  }
  return list;
}

export function initCommand(): Command {
  return new Command('init')
    .description('create a proofbook home: config.json, genesis.json (default genesis), data/ and keyring/')
    .option('--chain-id <id>', 'chain id written to config.json and genesis.json', DEFAULT_CHAIN_ID)
    .option('--overwrite', 'replace an existing config.json and genesis.json (data/ and keyring/ are kept)')
    .addHelpText('after', `
The home is --home, else $PROOFBOOK_HOME, else ~/.proofbook. Other commands read defaults (node URL, chain id,
keyring backend) from \${home}/config.json; flags and environment variables override it.

genesis.json holds {chain_id, app_state}; app_state is what goes into CometBFT's genesis.json when you run
\`proofbook start\` behind a real CometBFT node, e.g.
  $ jq --slurpfile g ~/.proofbook/genesis.json '.chain_id=$g[0].chain_id | .app_state=$g[0].app_state' \\
      ~/.cometbft/config/genesis.json > tmp && mv tmp ~/.cometbft/config/genesis.json

Examples:
  $ proofbook init
  $ proofbook init --home ./mynode --chain-id proofbook-test-1`)
    .action(async (opts: { chainId: string; overwrite?: boolean }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/.test(opts.chainId)) throw new CliError(`invalid chain id '${opts.chainId}'`, EXIT.USAGE, 'use letters, digits, . _ - (max 50)');
      const configPath = path.join(ctx.home, CONFIG_FILE);
      if (!opts.overwrite && (await pathExists(configPath))) {
        throw new CliError(`${ctx.home} is already initialized (${configPath} exists)`, EXIT.FAILED, 'use another --home, or pass --overwrite');
      }
      const { defaultGenesis } = await import('../genesis/index.js');
      await fs.mkdir(path.join(ctx.home, 'data'), { recursive: true });
      await fs.mkdir(path.join(ctx.home, 'keyring'), { recursive: true, mode: 0o700 });
      await fs.chmod(path.join(ctx.home, 'keyring'), 0o700);
      const config: HomeConfig = { chainId: opts.chainId, node: DEFAULT_NODE, keyringBackend: 'file' };
      await fs.writeFile(configPath, JSON.stringify(config, null, 2) + '\n');
      const genesisPath = path.join(ctx.home, 'genesis.json');
      await fs.writeFile(genesisPath, toJson({ chain_id: opts.chainId, app_state: defaultGenesis() }) + '\n');
      const data = { home: ctx.home, chainId: opts.chainId, config: configPath, genesis: genesisPath, data: path.join(ctx.home, 'data'), keyring: path.join(ctx.home, 'keyring') };
      ctx.print(data, () =>
        [`Initialized ${data.home} (chain id ${data.chainId})`, `  config:  ${data.config}`, `  genesis: ${data.genesis}`, `  data:    ${data.data}`, `  keyring: ${data.keyring}`,
          '', 'Next: `proofbook keys add NAME`, then `proofbook start` behind CometBFT — or just `npm start` for a devnet.'].join('\n'),
      );
    });
}

/** Apply `--heap-growth-percent` to this process's V8 and say what memory settings the node runs with. */
function nodeMemorySettings(value: string): string {
  if (!/^[0-9]+$/.test(value) || Number(value) > 1000) throw new CliError(`--heap-growth-percent must be an integer 0..1000, got '${value}'`, EXIT.USAGE);
  return nodeMemoryLine(applyHeapGrowth(Number(value)), missingAllocatorEnv());
}

export function devnetCommand(): Command {
  return new Command('devnet')
    .description('run a single-process development chain (in-process consensus) with 10 funded accounts')
    .option('--block-time <ms>', 'block interval in milliseconds', '1000')
    .option('--rpc-laddr <host:port>', 'CometBFT-compatible RPC listen address', '127.0.0.1:26657')
    .option('--grpc-laddr <host:port|off>', 'gRPC listen address (module queries, cosmos.tx.v1beta1.Service, reflection)', '127.0.0.1:9090')
    .option('--api-laddr <host:port|off>', 'REST gateway listen address (Cosmos SDK REST routes, /proofbook/..., /openapi.json)', '127.0.0.1:1317')
    .option('--api-cors <origins>', "REST CORS: '*' (any origin), a comma-separated list of origins, or 'off'", '*')
    .option('--no-explorer', 'do not serve the explorer (web/, docs/explorer.md) at / on the REST port')
    .option('--chain-id <id>', 'chain id (default: the devnet default)')
    .option('--reset', 'delete the devnet state (${home}/devnet) before starting')
    .option('--heap-growth-percent <n>', 'V8 heap growth after a major GC, in percent of the live heap (0 = V8 decides; env PROOFBOOK_HEAP_GROWTH_PERCENT)', process.env.PROOFBOOK_HEAP_GROWTH_PERCENT ?? String(DEFAULT_HEAP_GROWTH_PERCENT))
    .addHelpText('after', `
This is what \`npm start\` runs. State is kept in \${home}/devnet (so restarting continues the chain; --reset
starts over). The RPC speaks the CometBFT 0.38 JSON-RPC that @cosmjs/stargate uses (Comet38Client).

The 10 accounts derive from the public devnet mnemonic (genesis/devnet-mnemonic.txt, HD path m/44'/118'/0'/0/i).
Load them into your keyring as devnet0…devnet9 with \`proofbook keys import-devnet\`.

Examples:
  $ npm start
  $ proofbook devnet --home /tmp/pb --rpc-laddr 127.0.0.1:36657 --block-time 200 --reset
  $ proofbook keys import-devnet && proofbook tx bank send devnet0 proof1… 1000uproof --fees 2000uproof`)
    .action(async (opts: { blockTime: string; rpcLaddr: string; grpcLaddr: string; apiLaddr: string; apiCors: string; explorer: boolean; chainId?: string; reset?: boolean; heapGrowthPercent: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const memory = nodeMemorySettings(opts.heapGrowthPercent);
      if (!/^[1-9][0-9]{0,6}$/.test(opts.blockTime)) throw new CliError(`--block-time must be a positive number of ms, got '${opts.blockTime}'`, EXIT.USAGE);
      const rpcAddress = parseListenAddress(opts.rpcLaddr);
      const apiAddress = opts.apiLaddr === 'off' ? undefined : parseListenAddress(opts.apiLaddr);
      const cors = parseCors(opts.apiCors);
      const home = path.join(ctx.home, 'devnet');
      if (opts.reset) await fs.rm(home, { recursive: true, force: true });
      await fs.mkdir(home, { recursive: true });
      const [{ startDevnet }, g, { nodeArtifactHandler }] = await Promise.all([import('../app/devnet/index.js'), import('../genesis/index.js'), import('../app/artifacts-mount.js')]);
      const log = logger();
      log.info(memory);
      // Circuit artifacts (wasm, proving keys) by content hash at GET /artifacts/<sha256> on the RPC port.
      const httpHandler = nodeArtifactHandler(ctx.home);
      // The explorer at / on the REST port (built by `npm start`/`npm run build:web`); it finds the RPC via /explorer-config.json.
      const handlers = [];
      if (opts.explorer && apiAddress) {
        const { explorerHandler } = await import('../app/explorer.js');
        // A devnet started without `npm start` (e.g. `npx proofbook devnet` on a fresh clone) may have no built
        // explorer: serve the chain anyway and say how to get the page.
        try {
          handlers.push(explorerHandler({ rpc: `http://${rpcAddress}` }));
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'explorer not served');
        }
      }
      const devnet = await startDevnet({ home, chainId: opts.chainId, blockTimeMs: Number(opts.blockTime), rpcAddress, logger: log, httpHandler, grpcAddress: opts.grpcLaddr === 'off' ? undefined : opts.grpcLaddr, apiAddress, api: { cors, handlers } });
      keepAlive.value = true;
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) process.exit(130);
        stopping = true;
        log.info({ signal }, 'stopping devnet');
        devnet.close().then(() => process.exit(0), (e: unknown) => { log.error({ err: e }, 'error while stopping'); process.exit(1); });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));

      await devnet.waitForHeight(1);
      const { client, comet } = await connectQueryClient(devnet.rpcUrl);
      const status = await comet.status();
      const accounts: { index: number; address: string; hdPath: string; balance: string }[] = [];
      for (const a of g.devnetAccounts()) {
        const bal = await client.getBalance(a.address, NATIVE_DENOM);
        accounts.push({ index: a.index, address: a.address, hdPath: a.hdPath, balance: `${bal.amount}${bal.denom}` });
      }
      client.disconnect();
      const data = { rpcUrl: devnet.rpcUrl, grpc: devnet.grpcAddress ?? null, api: devnet.apiUrl ?? null, explorer: devnet.apiUrl && handlers.length ? `${devnet.apiUrl}/` : null, chainId: status.nodeInfo.network, height: status.syncInfo.latestBlockHeight, home, accounts };
      ctx.print(data, () =>
        [
          'proofbook devnet is running',
          `  RPC:      ${data.rpcUrl}`,
          `  gRPC:     ${data.grpc ?? 'off'}`,
          `  REST:     ${data.api ?? 'off'}`,
          `  explorer: ${data.explorer ?? 'off'}`,
          `  chain id: ${data.chainId}`,
          `  home:     ${data.home}`,
          '',
          'Funded accounts (mnemonic: genesis/devnet-mnemonic.txt, HD path m/44\'/118\'/0\'/0/i):',
          ...accounts.map((a) => `  devnet${a.index}  ${a.address}  ${a.balance}`),
          '',
          'Use them:',
          `  proofbook keys import-devnet            # adds devnet0..devnet9 to your keyring (test backend)`,
          `  proofbook tx bank send devnet0 ${accounts[1]?.address ?? 'proof1…'} 1000uproof --fees 2000uproof --node ${data.rpcUrl}`,
          `  proofbook query balance devnet1 --node ${data.rpcUrl}`,
          '  or in cosmjs: DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: \'proof\' }) from genesis/index.ts',
          '',
          'Press Ctrl-C to stop.',
        ].join('\n'),
      );
    });
}

export function startCommand(): Command {
  return new Command('start')
    .description('serve the proofbook application over ABCI to a CometBFT v0.38 node')
    .option('--abci <address>', 'ABCI listen address', 'tcp://127.0.0.1:26658')
    .option('--grpc-laddr <host:port>', 'also serve gRPC here (queries forwarded to --rpc, the CometBFT node), e.g. 127.0.0.1:9090; off by default')
    .option('--rpc <url>', 'the CometBFT node\'s RPC, used by the gRPC/REST servers for broadcast and tx lookup, and by the app for GetTx over abci_query', 'http://127.0.0.1:26657')
    .option('--api-laddr <host:port|off>', 'REST gateway listen address (Cosmos SDK REST routes over --rpc, /proofbook/..., /openapi.json)', '127.0.0.1:1317')
    .option('--api-cors <origins>', "REST CORS: '*' (any origin), a comma-separated list of origins, or 'off'", '*')
    .option('--explorer', 'also serve the explorer (web/, built by `npm run build:web`) at / on the REST port')
    .option('--artifacts-laddr <host:port>', 'also serve circuit artifacts at GET /artifacts/<sha256> on this address (off by default; the devnet serves them on its RPC port)')
    .option('--snapshot-interval <blocks>', 'take a state-sync snapshot every N heights (0 = never; env PROOFBOOK_SNAPSHOT_INTERVAL)', process.env.PROOFBOOK_SNAPSHOT_INTERVAL ?? '0')
    .option('--snapshot-keep-recent <n>', 'state-sync snapshots kept on disk (env PROOFBOOK_SNAPSHOT_KEEP_RECENT)', process.env.PROOFBOOK_SNAPSHOT_KEEP_RECENT ?? '2')
    .option('--state-cache-mb <mb>', 'memory for cached state values, and about as much again for cached Merkle tree nodes; the rest is read from LevelDB on demand (env PROOFBOOK_STATE_CACHE_MB)', process.env.PROOFBOOK_STATE_CACHE_MB ?? '64')
    .option('--history-blocks <n>', 'recent heights served to queries with proofs; older versions are pruned (env PROOFBOOK_HISTORY_BLOCKS)', process.env.PROOFBOOK_HISTORY_BLOCKS ?? '100')
    .option('--state-compact-interval <blocks>', 'compact the state LevelDB in the background after every N-th height, so replaced and pruned data leave the disk (0 = never; env PROOFBOOK_STATE_COMPACT_INTERVAL)', process.env.PROOFBOOK_STATE_COMPACT_INTERVAL ?? '0')
    .option('--state-reopen-interval <blocks>', "close and reopen the state LevelDB after every N-th height's Commit, which starts LevelDB's own LOG and MANIFEST afresh (they grow for as long as the handle is open); ~20-100 ms each (0 = never; env PROOFBOOK_STATE_REOPEN_INTERVAL)", process.env.PROOFBOOK_STATE_REOPEN_INTERVAL ?? String(DEFAULT_REOPEN_BLOCKS))
    .option('--heap-growth-percent <n>', 'V8 heap growth after a major GC, in percent of the live heap (0 = V8 decides, up to 4x; docs/state.md "Memory of a long-running node"; env PROOFBOOK_HEAP_GROWTH_PERCENT)', process.env.PROOFBOOK_HEAP_GROWTH_PERCENT ?? String(DEFAULT_HEAP_GROWTH_PERCENT))
    .addHelpText('after', `
The app keeps its state in \${home}/data. Run CometBFT next to it with the same genesis app_state
(see \`proofbook init --help\`) and point it at this address:
  $ proofbook init --home ./node && proofbook start --home ./node
  $ cometbft node --home ./cometbft --proxy_app tcp://127.0.0.1:26658

Example:
  $ proofbook start --home ./node --abci tcp://127.0.0.1:26658`)
    .action(async (opts: { abci: string; artifactsLaddr?: string; grpcLaddr?: string; apiLaddr: string; apiCors: string; explorer?: boolean; rpc: string; snapshotInterval: string; snapshotKeepRecent: string; historyBlocks: string; stateCacheMb: string; stateCompactInterval: string; stateReopenInterval: string; heapGrowthPercent: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const count = (flag: string, v: string, min: number): number => {
        if (!/^[0-9]+$/.test(v) || Number(v) < min) throw new CliError(`${flag} must be an integer >= ${min}, got '${v}'`, EXIT.USAGE);
        return Number(v);
      };
      const memory = nodeMemorySettings(opts.heapGrowthPercent);
      const appOptions = {
        snapshots: { interval: count('--snapshot-interval', opts.snapshotInterval, 0), keepRecent: count('--snapshot-keep-recent', opts.snapshotKeepRecent, 1) },
        store: { historyBlocks: count('--history-blocks', opts.historyBlocks, 1), cacheBytes: count('--state-cache-mb', opts.stateCacheMb, 1) * (1 << 20), compactEveryBlocks: count('--state-compact-interval', opts.stateCompactInterval, 0), reopenEveryBlocks: count('--state-reopen-interval', opts.stateReopenInterval, 0) },
      };
      if (!/^(tcp|unix):\/\//.test(opts.abci)) throw new CliError(`--abci must look like tcp://HOST:PORT or unix://PATH, got '${opts.abci}'`, EXIT.USAGE);
      const { startNode } = await import('../app/node.js');
      await fs.mkdir(ctx.home, { recursive: true });
      const node = await startNode({ home: ctx.home, abciAddress: opts.abci, logger: logger(), appOptions, cometRpc: opts.rpc });
      keepAlive.value = true;
      process.stderr.write(`proofbook app listening for CometBFT on ${node.abciAddress} (home ${ctx.home}); Ctrl-C to stop\n${memory}\n`);
      if (opts.artifactsLaddr) {
        const { startArtifactServer } = await import('../app/artifacts-mount.js');
        const http = await startArtifactServer(ctx.home, opts.artifactsLaddr);
        process.stderr.write(`circuit artifacts at ${http.url}/artifacts/<sha256>\n`);
      }
      const apiAddress = opts.apiLaddr === 'off' ? undefined : parseListenAddress(opts.apiLaddr);
      const cors = parseCors(opts.apiCors);
      if (opts.grpcLaddr || apiAddress) {
        const { startGrpcServer, createDispatcher, rpcQuery } = await import('../app/grpc/index.js');
        // One set of method implementations (queries through the CometBFT node's abci_query) behind both transports.
        const dispatcher = createDispatcher({ rpcUrl: opts.rpc, query: rpcQuery(opts.rpc), logger: logger() });
        if (opts.grpcLaddr) {
          const grpc = await startGrpcServer({ address: opts.grpcLaddr, rpcUrl: opts.rpc, query: rpcQuery(opts.rpc), dispatcher, logger: logger() });
          process.stderr.write(`gRPC on ${grpc.address} (via CometBFT RPC ${opts.rpc})\n`);
        }
        if (apiAddress) {
          const { startRestServer } = await import('../app/rest/index.js');
          const handlers = opts.explorer ? [(await import('../app/explorer.js')).explorerHandler({ rpc: opts.rpc })] : [];
          const api = await startRestServer({ address: apiAddress, dispatcher, cors, handlers, logger: logger() });
          process.stderr.write(`REST on ${api.url} (via CometBFT RPC ${opts.rpc})${opts.explorer ? `; explorer at ${api.url}/` : ''}\n`);
        }
      }
    });
}
