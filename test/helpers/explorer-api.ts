/** A devnet whose REST gateway (app/rest) serves the explorer at `/` (as `proofbook devnet` does), on free ports. */
import { startDevnet, type Devnet, type DevnetOptions } from '../../app/devnet/index.js';
import { explorerHandler } from '../../app/explorer.js';

export async function startExplorerDevnet(opts: Omit<DevnetOptions, 'apiAddress' | 'api'>): Promise<Devnet & { apiUrl: string }> {
  let devnet: Devnet | undefined;
  devnet = await startDevnet({
    rpcAddress: '127.0.0.1:0', ...opts, apiAddress: '127.0.0.1:0',
    // The RPC's port is bound inside startDevnet: the page asks for it (/explorer-config.json) only later.
    api: { handlers: [explorerHandler({ rpc: () => devnet?.rpcUrl })] },
  });
  if (!devnet.apiUrl) { await devnet.close(); throw new Error('the REST gateway did not start'); }
  return devnet as Devnet & { apiUrl: string };
}
