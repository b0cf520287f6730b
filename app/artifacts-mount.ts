/**
 * Where a node finds the circuit artifacts it serves at GET /artifacts/<sha256>: the genesis circuits shipped in
 * genesis/circuits, and `${home}/artifacts` (where `proofbook tx verifier register-circuit` stages new ones).
 */
import { dirname, join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { artifactHandler } from './artifacts.js';
import { genesisCircuitDir } from '../modules/verifier/index.js';

export function nodeArtifactHandler(home: string) {
  return artifactHandler([dirname(genesisCircuitDir().replace(/\/+$/, '')), join(home, 'artifacts')]);
}

/** A plain HTTP server for `proofbook start` (CometBFT serves the RPC there): /artifacts/<sha256> and /health. */
export async function startArtifactServer(home: string, address: string): Promise<{ url: string; close(): Promise<void> }> {
  const handler = nodeArtifactHandler(home);
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && handler(req, res)) return;
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: this endpoint serves GET /artifacts/<sha256> and /health\n');
  });
  const m = /^(?:tcp:\/\/)?([^:]+):(\d+)$/.exec(address);
  if (!m) throw new Error(`invalid HTTP address '${address}': expected host:port`);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), m[1], () => resolve());
  });
  const a = server.address() as { address: string; port: number };
  return { url: `http://${a.address}:${a.port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
