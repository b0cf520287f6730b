/**
 * Minimal node entry used by scripts/cometbft-net.ts until (or instead of) `proofbook start`:
 *
 *   node --import tsx scripts/run-node.ts --home DIR [--abci tcp://127.0.0.1:26658] [--app proofbook|kvstore]
 *
 * `--app kvstore` serves the in-memory test fixture (test/fixtures/kvstore-app.ts) instead of the real app.
 */
import { Command } from 'commander';
import { startNode, DEFAULT_ABCI_ADDRESS } from '../app/node.js';

const program = new Command()
  .name('run-node')
  .requiredOption('--home <dir>', 'application home directory')
  .option('--abci <address>', 'ABCI listen address', DEFAULT_ABCI_ADDRESS)
  .option('--app <name>', 'proofbook | kvstore', 'proofbook')
  .parse();
const o = program.opts<{ home: string; abci: string; app: string }>();

if (o.app === 'kvstore') {
  const { KvStoreApp } = await import('../test/fixtures/kvstore-app.js');
  await startNode({ home: o.home, abciAddress: o.abci, app: new KvStoreApp() });
} else if (o.app === 'proofbook') {
  await startNode({ home: o.home, abciAddress: o.abci });
} else {
  console.error(`unknown --app ${o.app}`);
  process.exit(2);
}
