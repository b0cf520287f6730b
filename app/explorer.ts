/**
 * Serves the explorer (web/dist, built by `npm run build:web`) at `/` on the node's API port: index.html at `/` and
 * `/index.html`, the bundle, its CSS, /explorer-config.json (where the RPC is), and snarkjs.min.js (fetched by the page only to verify a proof). Only these
 * names are served — no path from the request ever reaches the filesystem — and everything else falls through to
 * the API routes. Files are kept in memory with their gzip (re-read when rebuilt).
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const EXPLORER_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');

const FILES: Record<string, { name: string; type: string; cache: string }> = {
  '/': { name: 'index.html', type: 'text/html; charset=utf-8', cache: 'no-cache' },
  '/index.html': { name: 'index.html', type: 'text/html; charset=utf-8', cache: 'no-cache' },
  '/app.js': { name: 'app.js', type: 'text/javascript; charset=utf-8', cache: 'no-cache' },
  '/app.css': { name: 'app.css', type: 'text/css; charset=utf-8', cache: 'no-cache' },
  '/snarkjs.min.js': { name: 'snarkjs.min.js', type: 'text/javascript; charset=utf-8', cache: 'max-age=86400' },
};

interface Loaded { body: Buffer; gzip: Buffer; etag: string; mtimeMs: number }

/**
 * A GET handler for the explorer's files; returns false for any other path. Throws if the explorer is not built.
 * `rpc` (the node's CometBFT RPC URL as bound) is served at /explorer-config.json, so the page finds the live stream.
 */
export function explorerHandler(opts: { dir?: string; rpc?: string | (() => string | undefined) } = {}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const dir = opts.dir ?? EXPLORER_DIST;
  // A function when the RPC's port is only known once it is bound (port 0).
  const rpcUrl = () => (typeof opts.rpc === 'function' ? opts.rpc() : opts.rpc) ?? null;
  if (!existsSync(join(dir, 'index.html')) || !existsSync(join(dir, 'app.js'))) {
    throw new Error(`the explorer is not built (no ${join(dir, 'index.html')}): run \`npm run build:web\`, or start with --no-explorer`);
  }
  const cache = new Map<string, Loaded>();
  const load = (name: string): Loaded => {
    // Re-read when the file changed (a rebuild while the node runs); otherwise served from memory.
    const mtimeMs = statSync(join(dir, name)).mtimeMs;
    let f = cache.get(name);
    if (!f || f.mtimeMs !== mtimeMs) {
      const body = readFileSync(join(dir, name));
      f = { body, gzip: gzipSync(body), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, mtimeMs };
      cache.set(name, f);
    }
    return f;
  };
  // index.html names its assets with their content hash (`app.js?v=…`): those answers may be cached for a year, so a
  // reload asks only for index.html (no-cache) and a rebuild changes the names. It also carries the RPC address in a
  // <meta> tag, so the page opens its live stream without first fetching /explorer-config.json.
  const escAttr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  let indexCache: { key: string; f: Loaded } | undefined;
  const loadIndex = (): Loaded => {
    const raw = load('index.html');
    const js = load('app.js');
    const css = load('app.css');
    const rpc = rpcUrl();
    const key = `${raw.etag}${js.etag}${css.etag}${rpc ?? ''}`;
    if (indexCache?.key === key) return indexCache.f;
    const html = raw.body.toString('utf8')
      .replace('src="app.js"', `src="app.js?v=${js.etag.slice(1, -1)}"`)
      .replace('href="app.css"', `href="app.css?v=${css.etag.slice(1, -1)}"`)
      .replace('<head>', `<head>\n<meta name="proofbook-rpc" content="${escAttr(rpc ?? '')}">`);
    const body = Buffer.from(html);
    const f = { body, gzip: gzipSync(body), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, mtimeMs: raw.mtimeMs };
    indexCache = { key, f };
    return f;
  };
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const [path, query] = (req.url ?? '/').split('?', 2) as [string, string | undefined];
    if (path === '/explorer-config.json') {
      const config = Buffer.from(JSON.stringify({ rpc: rpcUrl() }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(config.length), 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : config);
      return true;
    }
    const spec = Object.prototype.hasOwnProperty.call(FILES, path) ? FILES[path] : undefined;
    if (!spec) return false;
    let f: Loaded;
    try { f = spec.name === 'index.html' ? loadIndex() : load(spec.name); } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`explorer file ${spec.name} unreadable: ${(e as Error).message}\n`);
      return true;
    }
    if (req.headers['if-none-match'] === f.etag) { res.writeHead(304, { etag: f.etag }).end(); return true; }
    const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gz ? f.gzip : f.body;
    const headers: Record<string, string> = {
      'content-type': spec.type, 'content-length': String(body.length), etag: f.etag, vary: 'accept-encoding',
      // the versioned name of this very content (index.html's links) never changes meaning: cache it for good
      'cache-control': new URLSearchParams(query ?? '').get('v') === f.etag.slice(1, -1) ? 'public, max-age=31536000, immutable' : spec.cache,
      'x-content-type-options': 'nosniff',
    };
    if (gz) headers['content-encoding'] = 'gzip';
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
