/**
 * The REST gateway (default 127.0.0.1:1317): the Cosmos SDK's gRPC-gateway routes and JSON, transcoded generically
 * from the `google.api.http` annotations (routes.ts) onto the same method implementations the gRPC server serves
 * (app/grpc createDispatcher). Also: CORS, the OpenAPI document at /openapi.json, extra routes and an optional
 * static-file directory for non-API paths (the explorer).
 *
 * Errors have the gateway's shape `{"code": <gRPC code>, "message": "...", "details": []}` with the HTTP status
 * grpc-gateway maps the gRPC code to. `x-cosmos-block-height` (request header) selects the state height; the
 * answer carries the height it was served at in `x-cosmos-block-height` and `Grpc-Metadata-X-Cosmos-Block-Height`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { JsonObject } from '@bufbuild/protobuf';
import type pino from 'pino';
import { GrpcStatusError, parseHeightHeader, type Dispatcher } from '../grpc/server.js';
import { loadRoutes, matchRoute, type Route } from './routes.js';
import { RequestError, decodeResponse, encodeRequest, setParam } from './json.js';
import { buildOpenApi } from './openapi.js';
import { staticHandler } from './static.js';

export const DEFAULT_API_ADDRESS = '127.0.0.1:1317';
/** Largest request body accepted (a tx of the largest size the mempool takes, base64, plus JSON). */
const MAX_BODY = 4 * 1024 * 1024;

/** An extra HTTP handler: returns true when it answered the request. */
export type RestHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface RestServerOptions {
  /** host:port to bind (port 0 picks a free one). Default 127.0.0.1:1317. */
  address?: string;
  dispatcher: Dispatcher;
  /** Allowed CORS origins: '*' (default) for any, a list, or [] for no CORS headers. */
  cors?: '*' | readonly string[];
  /** Extra routes, tried before the static directory (e.g. the chain-registry documents). */
  handlers?: readonly RestHandler[];
  /** Serve files from this directory for GET paths no API route claims (index.html for unknown paths). */
  staticDir?: string;
  logger?: pino.Logger;
}

export interface RestServer {
  /** http://host:port */
  readonly url: string;
  readonly address: string;
  close(): Promise<void>;
}

/** grpc-gateway's runtime.HTTPStatusFromCode. */
const HTTP_STATUS: Record<number, number> = {
  0: 200, 1: 408, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500,
  14: 503, 15: 500, 16: 401,
};

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, code: number, message: string, status = HTTP_STATUS[code] ?? 500): void {
  sendJson(res, status, { code, message, details: [] });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new GrpcStatusError(8, `request body larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function corsHeaders(allowed: '*' | readonly string[], origin: string | undefined): Record<string, string> {
  if (allowed !== '*' && (origin === undefined || !allowed.includes(origin))) return {};
  return {
    'Access-Control-Allow-Origin': allowed === '*' ? '*' : origin!,
    ...(allowed === '*' ? {} : { Vary: 'Origin' }),
    'Access-Control-Expose-Headers': 'x-cosmos-block-height, Grpc-Metadata-X-Cosmos-Block-Height',
  };
}

export async function startRestServer(opts: RestServerOptions): Promise<RestServer> {
  const log = opts.logger?.child({ module: 'rest' });
  const { registry, routes } = loadRoutes();
  const served = routes.filter((r) => opts.dispatcher.methods.has(r.grpcPath));
  const openapi = JSON.stringify(buildOpenApi(served, registry));
  const cors = opts.cors ?? '*';
  const statics = opts.staticDir ? staticHandler(opts.staticDir) : undefined;
  // API namespaces ('cosmos', 'proofbook'): an unknown path under them is an API 404, never the explorer's page.
  const apiRoots = new Set(served.map((r) => r.segments[0]).flatMap((s) => (s && 'literal' in s ? [s.literal] : [])));

  const callRoute = async (route: Route, vars: Map<string, string>, url: URL, req: IncomingMessage, res: ServerResponse, extra: Record<string, string>): Promise<void> => {
    let obj: JsonObject = {};
    if (route.body !== '') {
      const text = (await readBody(req)).toString('utf8');
      let parsed: unknown;
      try {
        parsed = text.trim() === '' ? {} : JSON.parse(text);
      } catch (e) {
        throw new RequestError(`request body is not JSON: ${(e as Error).message}`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new RequestError('request body must be a JSON object');
      if (route.body === '*') obj = parsed as JsonObject;
      else obj[route.body] = parsed as JsonObject;
    } else {
      for (const [k, v] of url.searchParams) setParam(route.input, obj, k, v);
    }
    for (const [k, v] of vars) {
      // Path variables override the body and the query string.
      const parts = k.split('.');
      let o = obj;
      for (const p of parts.slice(0, -1)) o = (o[p] = (typeof o[p] === 'object' && o[p] !== null ? o[p] : {}) as JsonObject);
      delete o[parts[parts.length - 1]!];
      setParam(route.input, obj, k, v);
    }
    const bytes = encodeRequest(route.input, obj, registry);
    const h = req.headers['x-cosmos-block-height'];
    const height = parseHeightHeader(Array.isArray(h) ? h[0] : h);
    const fn = opts.dispatcher.methods.get(route.grpcPath)!;
    const out = await fn(bytes, height === undefined ? {} : { height });
    const json = decodeResponse(route.output, out.value, registry);
    const hdr: Record<string, string> = out.height !== undefined ? { 'x-cosmos-block-height': out.height.toString(), 'Grpc-Metadata-X-Cosmos-Block-Height': out.height.toString() } : {};
    sendJson(res, 200, json, { ...extra, ...hdr });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = req.headers.origin;
    const extra = corsHeaders(cors, origin);
    for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
    if (req.method === 'OPTIONS') {
      if (Object.keys(extra).length > 0) {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? 'Content-Type, x-cosmos-block-height');
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/openapi.json' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(openapi) });
      res.end(req.method === 'HEAD' ? undefined : openapi);
      return;
    }
    let parts: string[];
    try {
      parts = url.pathname.slice(1).split('/').map(decodeURIComponent);
    } catch {
      sendError(res, 3, `malformed path ${url.pathname}`);
      return;
    }
    let verbMismatch = false;
    for (const route of served) {
      const vars = matchRoute(route, parts);
      if (!vars) continue;
      if (route.verb !== req.method) { verbMismatch = true; continue; }
      try {
        await callRoute(route, vars, url, req, res, extra);
      } catch (e) {
        if (e instanceof GrpcStatusError) sendError(res, e.code, e.details);
        else if (e instanceof RequestError) sendError(res, 3, e.message);
        else {
          log?.warn({ err: (e as Error).message, path: url.pathname }, 'REST call failed');
          sendError(res, 13, (e as Error).message);
        }
      }
      return;
    }
    for (const h of opts.handlers ?? []) if (await h(req, res, url)) return;
    if (statics && (req.method === 'GET' || req.method === 'HEAD') && !verbMismatch && !apiRoots.has(parts[0] ?? '') && (await statics(req, res, url))) return;
    if (verbMismatch) sendError(res, 12, 'Method Not Allowed', 405);
    else sendError(res, 5, 'Not Found');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log?.error({ err: e }, 'REST handler crashed');
      if (!res.headersSent) sendError(res, 13, 'internal error');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  const want = opts.address ?? DEFAULT_API_ADDRESS;
  const i = want.lastIndexOf(':');
  const host = want.slice(0, i).replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(want.slice(i + 1)), host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as { port: number }).port;
  const address = `${want.slice(0, i)}:${port}`;
  log?.info({ address, routes: served.length }, 'REST gateway listening');
  let closed: Promise<void> | undefined;
  return {
    url: `http://${address}`,
    address,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
