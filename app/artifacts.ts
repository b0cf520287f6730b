/**
 * Serves circuit artifacts by content hash: `GET /artifacts/<sha256 hex>` streams the file whose sha256 is that hash
 * (application/octet-stream), so the `/artifacts/<sha256>` URIs in the circuit registry resolve on every node.
 *
 * The index maps sha256 -> file for every regular file under `dirs` (recursively; e.g. genesis/circuits and
 * `${home}/artifacts`). It is built on first use, hashing asynchronously (streams, never blocking the event loop); an unknown hash triggers a rescan that hashes only files not seen
 * before (or changed: size/mtime), so files dropped into `${home}/artifacts` later are found without a restart.
 * Before streaming, a file whose size or mtime changed since it was hashed is re-hashed, so a served file always
 * has the requested hash.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compareKeys } from '../src/store/kv.js';

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
  private scanning: Promise<void> | undefined;

  constructor(readonly dirs: readonly string[]) {}

  /**
   * Hashes new or changed files under the directories (missing directories are skipped). Streams each file through
   * sha256 so large proving keys never block the event loop; concurrent callers share one scan.
   */
  scan(): Promise<void> {
    this.scanning ??= (async () => {
      try {
        for (const dir of this.dirs) await this.walk(dir, 0);
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  private async walk(dir: string, depth: number): Promise<void> {
    if (depth > 8) return;
    let names: string[];
    try {
      names = (await readdir(dir)).sort(compareKeys);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      let st: Stats;
      try {
        st = await stat(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) await this.walk(path, depth + 1);
      else if (st.isFile()) await this.add(path, st);
    }
  }

  private async add(path: string, st: Stats): Promise<string | undefined> {
    const prev = this.seen.get(path);
    if (prev && prev.size === st.size && prev.mtimeMs === st.mtimeMs) return prev.sha256;
    let sha256: string;
    try {
      sha256 = await hashFile(path);
    } catch {
      return undefined;
    }
    this.seen.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
    this.byHash.set(sha256, { path, size: st.size, mtimeMs: st.mtimeMs });
    return sha256;
  }

  /** The file with this content hash, rescanning once when it is unknown or has changed since it was indexed. */
  async lookup(sha256: string): Promise<Entry | undefined> {
    const hash = sha256.toLowerCase();
    const fresh = async (): Promise<Entry | undefined> => {
      const e = this.byHash.get(hash);
      if (!e) return undefined;
      let st: Stats;
      try {
        st = await stat(e.path);
      } catch {
        this.byHash.delete(hash);
        return undefined;
      }
      if (st.size === e.size && st.mtimeMs === e.mtimeMs) return e;
      this.byHash.delete(hash);
      return (await this.add(e.path, st)) === hash ? this.byHash.get(hash) : undefined;
    };
    const hit = await fresh();
    if (hit) return hit;
    await this.scan();
    return fresh();
  }

  get size(): number {
    return this.byHash.size;
  }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * An HTTP handler for `/artifacts/<sha256>` (GET and HEAD). Returns false when the path is not under /artifacts/
 * (the caller handles it); otherwise answers and returns true: 200 with the bytes, 400 for a malformed hash,
 * 404 for an unknown hash, 405 for other methods.
 */
export function artifactHandler(dirs: string[]): (req: IncomingMessage, res: ServerResponse) => boolean {
  const index = new ArtifactIndex(dirs);
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
    index.lookup(hash).then(
      (entry) => {
        if (!entry) {
          send(404, `no artifact with sha256 ${hash} on this node (it serves the files under: ${dirs.join(', ')})`);
          return;
        }
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': String(entry.size),
          etag: `"${hash}"`,
          'cache-control': 'public, max-age=31536000, immutable',
        });
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        const stream = createReadStream(entry.path);
        stream.on('error', (e) => res.destroy(e));
        stream.pipe(res);
      },
      (e: unknown) => send(500, `artifact lookup failed: ${(e as Error).message}`),
    );
    return true;
  };
}
