/**
 * Downloads a request's `input_uri` as a stream (issue 10 item 10): the size is capped (a declared Content-Length
 * over the cap is refused before reading, and the download is aborted the moment the bytes read pass it) and the
 * sha256 is computed while the bytes arrive, so a hostile server can neither make the worker buffer an unbounded body
 * nor hand it bytes other than the ones the request committed to.
 */
import { createHash } from 'node:crypto';

/** Default cap on a downloaded input (inputs are JSON witnesses: a few KB to a few MB). */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

export class InputFetchError extends Error {}

export interface FetchInputOptions {
  /** Expected lowercase hex sha256 of the bytes ('' = none committed). */
  sha256?: string;
  maxBytes?: number;
  timeoutMs?: number;
}

export async function fetchInput(uri: string, o: FetchInputOptions = {}): Promise<Buffer> {
  const maxBytes = o.maxBytes ?? MAX_INPUT_BYTES;
  if (!/^https?:\/\//i.test(uri)) throw new InputFetchError(`unsupported input URI '${uri}'`);
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(new Error(`timed out after ${o.timeoutMs ?? 60_000} ms`)), o.timeoutMs ?? 60_000);
  try {
    const res = await fetch(uri, { signal: ctrl.signal });
    if (!res.ok) throw new InputFetchError(`input ${uri}: HTTP ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      ctrl.abort();
      throw new InputFetchError(`input ${uri}: ${declared} bytes declared, the limit is ${maxBytes}`);
    }
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    if (res.body) {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > maxBytes) {
          ctrl.abort();
          throw new InputFetchError(`input ${uri}: more than ${maxBytes} bytes; download aborted`);
        }
        hash.update(chunk);
        chunks.push(Buffer.from(chunk));
      }
    }
    const sha = hash.digest('hex');
    if (o.sha256 && sha !== o.sha256.toLowerCase()) throw new InputFetchError(`input hashes to ${sha}, not ${o.sha256}`);
    return Buffer.concat(chunks, size);
  } catch (e) {
    if (e instanceof InputFetchError) throw e;
    throw new InputFetchError(`input ${uri}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
