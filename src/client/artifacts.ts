/**
 * The SDK's artifact fetch: a circuit's witness generator (circuit.wasm) by content hash, for computing the public
 * signals a request commits to (src/zk/witness.ts). Sources, in order: GET <node>/artifacts/<sha256> (the devnet and
 * `proofbook start --artifacts-laddr` serve it), the URI registered with the circuit (http(s), file://, or a path on
 * the node), then files in `searchDirs` and the genesis circuit's directory shipped with this package. Only bytes whose
 * sha256 equals the registered hash are used.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENESIS_CIRCUIT } from '../zk/genesis.js';

const cache = new Map<string, Promise<Uint8Array>>();

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export interface ArtifactSources {
  nodeUrl: string;
  /** Local directories searched (one level) for a file with the right hash. */
  searchDirs?: readonly string[];
  timeoutMs?: number;
}

/** The artifact's bytes, checked against `ref.sha256`; throws with every source's failure when none matches. */
export function fetchArtifact(ref: { sha256: string; uri: string }, src: ArtifactSources): Promise<Uint8Array> {
  const sha = ref.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha)) return Promise.reject(new Error(`artifact sha256 '${ref.sha256}' is not 64 hex digits`));
  let p = cache.get(sha);
  if (!p) {
    p = load(sha, ref.uri, src);
    cache.set(sha, p);
    p.catch(() => cache.delete(sha));
  }
  return p;
}

async function load(sha: string, uri: string, src: ArtifactSources): Promise<Uint8Array> {
  const errors: string[] = [];
  const node = src.nodeUrl.replace(/\/+$/, '');
  const urls = [`${node}/artifacts/${sha}`];
  if (/^https?:\/\//i.test(uri)) urls.push(uri);
  else if (uri.startsWith('/')) urls.push(`${node}${uri}`);
  for (const url of [...new Set(urls)]) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(src.timeoutMs ?? 60_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const b = new Uint8Array(await res.arrayBuffer());
      if (sha256(b) === sha) return b;
      errors.push(`${url}: content does not hash to ${sha}`);
    } catch (e) {
      errors.push(`${url}: ${(e as Error).message}`);
    }
  }
  const files: string[] = [];
  if (uri.startsWith('file://')) files.push(fileURLToPath(uri));
  const dirs = [...(src.searchDirs ?? []), path.dirname(GENESIS_CIRCUIT.wasmPath)];
  for (const d of [...new Set(dirs)]) {
    try {
      for (const n of (await readdir(d)).sort()) files.push(path.join(d, n));
    } catch {
      // missing directory: skip
    }
  }
  for (const f of files) {
    try {
      const b = new Uint8Array(await readFile(f));
      if (sha256(b) === sha) return b;
    } catch {
      // a directory or unreadable: skip
    }
  }
  throw new Error(`the circuit's witness generator ${sha} is not available (${errors.join('; ')}; not in ${dirs.join(', ')})`);
}
