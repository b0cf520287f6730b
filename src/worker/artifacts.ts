/**
 * Content-addressed artifact cache of the worker: `${home}/worker/artifacts/<sha256>`. Files are fetched from the
 * node (GET <node>/artifacts/<sha256>), from the URI registered with the circuit (http(s)://, file:// or a path
 * relative to the node), or copied from local search directories; every candidate is hashed and only a file whose
 * sha256 matches is moved into the cache (atomic rename). A cached file is re-hashed once per process before use.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export class ArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactError';
  }
}

export interface ArtifactRef {
  sha256: string;
  uri: string;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class ArtifactCache {
  readonly dir: string;
  private readonly verified = new Set<string>();
  private readonly inflight = new Map<string, Promise<string>>();
  private localIndex: Promise<Map<string, string>> | undefined;

  constructor(home: string, private readonly opts: { nodeUrl: string; searchDirs?: string[]; fetchTimeoutMs?: number; log?: (msg: string, extra?: object) => void }) {
    this.dir = path.join(home, 'worker', 'artifacts');
  }

  /** Local path of the verified artifact, fetching it if needed. */
  get(ref: ArtifactRef): Promise<string> {
    const sha = ref.sha256.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha)) return Promise.reject(new ArtifactError(`artifact sha256 '${ref.sha256}' is not 64 hex digits`));
    let p = this.inflight.get(sha);
    if (!p) {
      p = this.fetch(sha, ref.uri).finally(() => this.inflight.delete(sha));
      this.inflight.set(sha, p);
    }
    return p;
  }

  private async fetch(sha: string, uri: string): Promise<string> {
    const dest = path.join(this.dir, sha);
    if (this.verified.has(sha)) return dest;
    await fs.mkdir(this.dir, { recursive: true });
    try {
      if ((await sha256File(dest)) === sha) {
        this.verified.add(sha);
        return dest;
      }
      this.opts.log?.('cached artifact does not match its hash; fetching again', { sha256: sha });
      await fs.rm(dest, { force: true });
    } catch {
      // not cached yet
    }
    const errors: string[] = [];
    const node = this.opts.nodeUrl.replace(/\/+$/, '');
    const urls: string[] = [`${node}/artifacts/${sha}`];
    if (/^https?:\/\//i.test(uri)) urls.push(uri);
    else if (uri.startsWith('/')) urls.push(`${node}${uri}`);
    const tmp = path.join(this.dir, `.${sha}.${process.pid}.${Date.now()}.part`);
    for (const url of [...new Set(urls)]) {
      try {
        await download(url, tmp, this.opts.fetchTimeoutMs ?? 120_000);
        if (await this.accept(tmp, sha, dest)) return dest;
        errors.push(`${url}: content does not hash to ${sha}`);
      } catch (e) {
        errors.push(`${url}: ${(e as Error).message}`);
      } finally {
        await fs.rm(tmp, { force: true });
      }
    }
    const locals: string[] = [];
    if (uri.startsWith('file://')) locals.push(fileURLToPath(uri));
    const found = await this.findLocal(sha);
    if (found) locals.push(found);
    for (const file of locals) {
      try {
        await fs.copyFile(file, tmp);
        if (await this.accept(tmp, sha, dest)) return dest;
        errors.push(`${file}: content does not hash to ${sha}`);
      } catch (e) {
        errors.push(`${file}: ${(e as Error).message}`);
      } finally {
        await fs.rm(tmp, { force: true });
      }
    }
    throw new ArtifactError(`artifact ${sha} is not available from any source (${errors.join('; ') || 'no source'})`);
  }

  private async accept(tmp: string, sha: string, dest: string): Promise<boolean> {
    if ((await sha256File(tmp)) !== sha) return false;
    await fs.rename(tmp, dest);
    this.verified.add(sha);
    return true;
  }

  /** Hash index of the files in the search directories (one level deep), built once. */
  private async findLocal(sha: string): Promise<string | undefined> {
    this.localIndex ??= (async () => {
      const index = new Map<string, string>();
      for (const d of this.opts.searchDirs ?? []) {
        let names: string[];
        try {
          names = await fs.readdir(d);
        } catch {
          continue;
        }
        names.sort();
        for (const n of names) {
          const f = path.join(d, n);
          try {
            if (!(await fs.stat(f)).isFile()) continue;
            index.set(await sha256File(f), f);
          } catch {
            // unreadable: skip
          }
        }
      }
      return index;
    })();
    return (await this.localIndex).get(sha);
  }
}

async function download(url: string, dest: string, timeoutMs: number): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) throw new ArtifactError(`HTTP ${res.status}`);
  const fh = await fs.open(dest, 'w');
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await fh.write(value);
    }
  } finally {
    await fh.close();
  }
}
