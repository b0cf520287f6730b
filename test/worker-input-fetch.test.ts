/**
 * Issue 10 item 10: the worker streams an input_uri download with a size cap and checks its hash as it arrives,
 * instead of reading the whole body into memory first.
 */
import test from 'ava';
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fetchInput } from '../src/worker/input-fetch.js';

const body = Buffer.from(JSON.stringify({ preimage: '12345', salt: '7' }));
const sha = createHash('sha256').update(body).digest('hex');

test('input_uri: capped (declared and streamed), hash-checked, endless bodies aborted early', async (t) => {
  let endlessSent = 0;
  let endlessClosed = false;
  const server = http.createServer((req, res) => {
    if (req.url === '/ok') return res.end(body);
    if (req.url === '/declared') {
      res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) });
      return res.write(Buffer.alloc(1024));
    }
    if (req.url === '/endless') {
      // Chunked, no length: 64 KiB chunks for as long as the client reads.
      res.writeHead(200);
      res.on('close', () => (endlessClosed = true));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && endlessSent < 512 * 1024 * 1024) {
          endlessSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      return pump();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  t.deepEqual(await fetchInput(`${base}/ok`, { sha256: sha }), body);
  await t.throwsAsync(fetchInput(`${base}/ok`, { sha256: 'ab'.repeat(32) }), { message: /input hashes to [0-9a-f]{64}, not abab/ });
  await t.throwsAsync(fetchInput(`${base}/declared`, { maxBytes: 1024 * 1024 }), { message: /67108864 bytes declared, the limit is 1048576/ });
  await t.throwsAsync(fetchInput(`${base}/endless`, { maxBytes: 1024 * 1024 }), { message: /more than 1048576 bytes; download aborted/ });
  // The download stopped near the cap: the server saw the connection go long before its 512 MiB.
  await new Promise<void>((r) => { const i = setInterval(() => { if (endlessClosed) { clearInterval(i); r(); } }, 20); });
  t.true(endlessSent < 64 * 1024 * 1024, `server wrote ${endlessSent} bytes`);
  await t.throwsAsync(fetchInput('file:///etc/passwd'), { message: /unsupported input URI/ });
  await t.throwsAsync(fetchInput(`${base}/missing`), { message: /HTTP 404/ });
});
