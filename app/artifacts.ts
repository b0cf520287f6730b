/**
 * Serves circuit artifacts by content hash: `GET /artifacts/<sha256 hex>` streams the file whose sha256 is that hash
 * (application/octet-stream), so the `/artifacts/<sha256>` URIs in the circuit registry resolve on every node.
 *
 * The index maps sha256 -> file for every regular file under `dirs` (recursively; e.g. genesis/circuits and
 * `${home}/artifacts`). It is built on first use; an unknown hash triggers a rescan that hashes only files not seen
 * before (or changed: size/mtime), so files dropped into `${home}/artifacts` later are found without a restart.
 * Before streaming, a file whose size or mtime changed since it was hashed is re-hashed, so a served file always
 * has the requested hash.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface Entry {
  path: string;
  size: number;
  mtimeMs: number;
}

const HASH_PATH = /^\/artifacts\/([0-9a-fA-F]{64})$/;

export class ArtifactIndex {
  private readonly byHash = new Map<string, Entry>();
  /** path -> what it hashed to, to skip unchanged files on rescans. */
  private readonly seen = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

  constructor(readonly dirs: readonly string[]) {}

  /** Hashes new or changed files under the directories (missing directories are skipped). */
  scan(): void {
    for (const dir of this.dirs) this.walk(dir, 0);
  }

  private walk(dir: string, depth: number): void {
    if (depth > 8) return;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      let st: Stats;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) this.walk(path, depth + 1);
      else if (st.isFile()) this.add(path, st);
    }
  }

  private add(path: string, st: Stats): string | undefined {
    const prev = this.seen.get(path);
    if (prev && prev.size === st.size && prev.mtimeMs === st.mtimeMs) return prev.sha256;
    let sha256: string;
    try {
      sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    } catch {
      return undefined;
    }
    this.seen.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
    this.byHash.set(sha256, { path, size: st.size, mtimeMs: st.mtimeMs });
    return sha256;
  }

  /** The file with this content hash, rescanning once when it is unknown or has changed since it was indexed. */
  lookup(sha256: string): Entry | undefined {
    const hash = sha256.toLowerCase();
    const fresh = (): Entry | undefined => {
      const e = this.byHash.get(hash);
      if (!e) return undefined;
      let st: Stats;
      try {
        st = statSync(e.path);
      } catch {
        this.byHash.delete(hash);
        return undefined;
      }
      if (st.size === e.size && st.mtimeMs === e.mtimeMs) return e;
      this.byHash.delete(hash);
      return this.add(e.path, st) === hash ? this.byHash.get(hash) : undefined;
    };
    const hit = fresh();
    if (hit) return hit;
    this.scan();
    return fresh();
  }

  get size(): number {
    return this.byHash.size;
  }
}

/**
 * An HTTP handler for `/artifacts/<sha256>` (GET and HEAD). Returns false when the path is not under /artifacts/
 * (the caller handles it); otherwise answers and returns true: 200 with the bytes, 400 for a malformed hash,
 * 404 for an unknown hash, 405 for other methods.
 */
export function artifactHandler(dirs: string[]): (req: IncomingMessage, res: ServerResponse) => boolean {
  const index = new ArtifactIndex(dirs);
  let scanned = false;
  return (req, res) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    if (path !== '/artifacts' && !path.startsWith('/artifacts/')) return false;
    const send = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(message + '\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(405, `method ${req.method} not allowed on ${path}: use GET`);
      return true;
    }
    const m = HASH_PATH.exec(path);
    if (!m) {
      send(400, `bad artifact path '${path}': expected /artifacts/<sha256 of the file, 64 hex characters>`);
      return true;
    }
    const hash = m[1].toLowerCase();
    if (!scanned) {
      index.scan();
      scanned = true;
    }
    const entry = index.lookup(hash);
    if (!entry) {
      send(404, `no artifact with sha256 ${hash} on this node (it serves the files under: ${dirs.join(', ')})`);
      return true;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(entry.size),
      etag: `"${hash}"`,
      'cache-control': 'public, max-age=31536000, immutable',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    const stream = createReadStream(entry.path);
    stream.on('error', (e) => res.destroy(e));
    stream.pipe(res);
    return true;
  };
}
