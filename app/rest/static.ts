/**
 * Static files for GET paths no API route claims (the explorer's hook: `staticDir` in startRestServer). A path
 * that names no file and has no extension gets index.html, so a single-page app's client-side routes load.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.map': 'application/json', '.txt': 'text/plain; charset=utf-8', '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};

export function staticHandler(dir: string): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
  const root = resolve(dir);
  const fileAt = async (p: string): Promise<string | undefined> => {
    const full = resolve(root, '.' + p);
    if (full !== root && !full.startsWith(root + sep)) return undefined; // no escaping the directory
    try {
      const st = await fs.stat(full);
      if (st.isFile()) return full;
      if (st.isDirectory()) {
        const idx = join(full, 'index.html');
        if ((await fs.stat(idx).catch(() => undefined))?.isFile()) return idx;
      }
    } catch { /* not there */ }
    return undefined;
  };
  return async (req, res, url) => {
    let file = await fileAt(url.pathname);
    if (!file && extname(url.pathname) === '') file = await fileAt('/index.html');
    if (!file) return false;
    const st = await fs.stat(file);
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': st.size, 'Cache-Control': 'no-cache' });
    if (req.method === 'HEAD') { res.end(); return true; }
    createReadStream(file).pipe(res);
    return true;
  };
}
