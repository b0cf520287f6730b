/** app/artifacts.ts: the node's /artifacts/<sha256> endpoint, over a real HTTP server. */
import test from 'ava';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { artifactHandler } from '../app/artifacts.js';
import { genesisCircuit, genesisCircuitDir } from '../modules/verifier/index.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function serve(dirs: string[]): Promise<{ url: string; server: Server }> {
  const handle = artifactHandler(dirs);
  const server = createServer((req, res) => {
    if (!handle(req, res)) {
      res.writeHead(418);
      res.end('not an artifact path');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('serves the genesis circuit artifacts by the hashes the registry records, 404s unknown hashes', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'proofbook-artifacts-'));
  const { url, server } = await serve([dirname(genesisCircuitDir()), join(home, 'artifacts')]);
  t.teardown(() => {
    server.close();
    rmSync(home, { recursive: true, force: true });
  });
  const c = genesisCircuit();
  for (const [art, file] of [[c.wasm!, 'circuit.wasm'], [c.provingKey!, 'circuit_final.zkey']] as const) {
    const res = await fetch(url + art.uri).catch((e) => { throw new Error(`${e.message}: ${e.cause}`); });
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), 'application/octet-stream');
    t.is(res.headers.get('content-length'), String(art.size));
    const body = new Uint8Array(await res.arrayBuffer());
    t.is(sha(body), art.sha256);
    t.true(Buffer.from(body).equals(readFileSync(genesisCircuitDir() + file)), file);
  }
  // upper-case hex names the same file
  const head = await fetch(url + '/artifacts/' + c.wasm!.sha256.toUpperCase(), { method: 'HEAD' }).catch((e) => { throw new Error(`${e.message}: ${e.cause}`); });
  t.is(head.status, 200);

  const unknown = await fetch(`${url}/artifacts/${'0'.repeat(64)}`);
  t.is(unknown.status, 404);
  t.regex(await unknown.text(), /no artifact with sha256 0{64}/);
  const bad = await fetch(`${url}/artifacts/xyz`);
  t.is(bad.status, 400);
  t.is((await fetch(url + c.wasm!.uri, { method: 'POST' })).status, 405);
  t.is((await fetch(`${url}/status`)).status, 418, 'other paths are left to the caller');

  // A file dropped into ${home}/artifacts after start-up is found by its hash.
  const bytes = new TextEncoder().encode('a new proving key ' + Date.now());
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(home, 'artifacts'), { recursive: true });
  writeFileSync(join(home, 'artifacts', 'new.zkey'), bytes);
  const late = await fetch(`${url}/artifacts/${sha(bytes)}`);
  t.is(late.status, 200);
  t.deepEqual(new Uint8Array(await late.arrayBuffer()), bytes);
  // ...and a file changed in place is no longer served under its old hash.
  writeFileSync(join(home, 'artifacts', 'new.zkey'), 'changed contents, different size');
  t.is((await fetch(`${url}/artifacts/${sha(bytes)}`)).status, 404);
});
