/**
 * The CometBFT v0.38 JSON-RPC subset served by the devnet: POST JSON-RPC (single and batch) at `/` and `/v1`,
 * the GET URI form (`/block?height=5`, strings quoted, bytes as 0x-hex or quoted), and JSON-RPC over the
 * websocket at `/websocket` with subscribe / unsubscribe / unsubscribe_all. Result and error shapes follow
 * rpc/core/types and rpc/jsonrpc/types; see json.ts for the value encodings.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import type { Block } from 'cosmjs-types/tendermint/types/block';
import type { ExecTxResult } from 'cosmjs-types/tendermint/abci/types';
import { ExecTxResult as ExecTxResultCodec } from 'cosmjs-types/tendermint/abci/types';
import type { DevnetNode, NewBlockEvent } from './node.js';
import { COMETBFT_VERSION, P2P_PROTOCOL, BLOCK_PROTOCOL, VALIDATOR_POWER } from './node.js';
import { MempoolError } from './mempool.js';
import {
  type Json, type JsonObject, b64, hex, blockIdJson, blockJson, checkTxJson, commitJson, eventJson,
  execTxResultJson, finalizeBlockJson, headerJson, infoJson, pubKeyJson, queryJson, rfc3339Nano,
  validatorUpdateJson, consensusParamsJson, execTxResultEventJson,
} from './json.js';
import { parseQuery, matches, addAbciEvents, QueryParseError, type Query } from './query.js';
import { merkleProof, txHash, sha256 } from './hashing.js';

// ---------------------------------------------------------------------------------------------- errors

export class RpcError extends Error {
  constructor(readonly code: number, message: string, readonly data: string = '') { super(message); }
}
const invalidParams = (data: string) => new RpcError(-32602, 'Invalid params', data);
const internal = (data: string) => new RpcError(-32603, 'Internal error', data);
const methodNotFound = () => new RpcError(-32601, 'Method not found');
const invalidRequest = (data: string) => new RpcError(-32600, 'Invalid Request', data);
const parseError = (data: string) => new RpcError(-32700, 'Parse error. Invalid JSON', data);

type Id = string | number | null;

/** Limits of the HTTP JSON-RPC endpoint (process-wide; tests lower them). */
export const rpcLimits = {
  /** Most requests in one JSON-RPC batch (CometBFT's rpc.max_request_batch_size default). */
  maxBatchRequests: 10,
  /** Most bytes of one HTTP JSON-RPC reply (a batch's replies together): room for a full 22 MB block as JSON. */
  maxResponseBytes: 40 * 1024 * 1024,
};

function errorResponse(id: Id | undefined, e: RpcError): JsonObject {
  const error: JsonObject = { code: e.code, message: e.message };
  if (e.data) error.data = e.data;
  const out: JsonObject = { jsonrpc: '2.0' };
  if (id !== undefined && id !== null) out.id = id;
  out.error = error;
  return out;
}
function successResponse(id: Id, result: Json): JsonObject {
  return { jsonrpc: '2.0', id, result };
}

// ---------------------------------------------------------------------------------------------- params

type ArgType = 'int' | 'string' | 'bytes' | 'hex' | 'bool';
interface Args {
  int(name: string): bigint | undefined;
  str(name: string): string;
  bytes(name: string): Uint8Array;
  bool(name: string): boolean;
}

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const INT_RE = /^-?[0-9]+$/;

function decodeBase64Strict(s: string): Uint8Array {
  if (s.length % 4 !== 0 || !B64_RE.test(s)) {
    let at = 0;
    while (at < s.length && /[A-Za-z0-9+/=]/.test(s[at]!)) at++;
    throw new Error(`illegal base64 data at input byte ${at < s.length ? at : s.length - (s.length % 4)}`);
  }
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function decodeHexStrict(s: string): Uint8Array {
  const bad = /[^0-9a-fA-F]/.exec(s);
  if (bad) throw new Error(`encoding/hex: invalid byte: U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${bad[0]}'`);
  if (s.length % 2 !== 0) throw new Error('encoding/hex: odd length hex string');
  return new Uint8Array(Buffer.from(s, 'hex'));
}

function convertJson(name: string, type: ArgType, v: unknown): unknown {
  if (v === undefined || v === null) return undefined;
  switch (type) {
    case 'int':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
      if (typeof v === 'string' && INT_RE.test(v)) return BigInt(v);
      throw new Error(`${name}: invalid integer ${JSON.stringify(v)}`);
    case 'string':
      if (typeof v === 'string') return v;
      throw new Error(`${name}: expected a string, got ${JSON.stringify(v)}`);
    case 'bool':
      if (typeof v === 'boolean') return v;
      throw new Error(`${name}: expected a boolean, got ${JSON.stringify(v)}`);
    case 'bytes':
      if (typeof v === 'string') return decodeBase64Strict(v);
      throw new Error(`${name}: expected a base64 string, got ${JSON.stringify(v)}`);
    case 'hex':
      if (typeof v === 'string') return decodeHexStrict(v);
      throw new Error(`${name}: expected a hex string, got ${JSON.stringify(v)}`);
  }
}

function convertUri(name: string, type: ArgType, raw: string): unknown {
  if (raw === '') return undefined;
  const quoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"');
  if (type === 'bytes' || type === 'hex') {
    if (/^0x/i.test(raw)) return decodeHexStrict(raw.slice(2));
    if (quoted) return new TextEncoder().encode(raw.slice(1, -1));
    throw new Error(`${name}: expected 0x-prefixed hex or a quoted string, got ${raw}`);
  }
  if (type === 'string') {
    if (quoted) return raw.slice(1, -1);
    throw new Error(`${name}: expected a quoted string, got ${raw}`);
  }
  if (type === 'int') return convertJson(name, type, quoted ? raw.slice(1, -1) : raw);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new Error(`${name}: expected true or false, got ${raw}`);
}

function makeArgs(values: Map<string, unknown>): Args {
  return {
    int: (n) => values.get(n) as bigint | undefined,
    str: (n) => (values.get(n) as string | undefined) ?? '',
    bytes: (n) => (values.get(n) as Uint8Array | undefined) ?? new Uint8Array(),
    bool: (n) => (values.get(n) as boolean | undefined) ?? false,
  };
}

// ---------------------------------------------------------------------------------------------- methods

interface Conn { ws?: WsConnection; id?: Id }
interface Method {
  args: [string, ArgType][];
  wsOnly?: boolean;
  fn: (a: Args, conn: Conn) => Promise<Json>;
}

const MAX_QUERY_LENGTH = 512;
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;
const BROADCAST_COMMIT_TIMEOUT_MS = 10_000;

function perPageOf(v: bigint | undefined): number {
  if (v === undefined || v < 1n) return DEFAULT_PER_PAGE;
  if (v > BigInt(MAX_PER_PAGE)) return MAX_PER_PAGE;
  return Number(v);
}
function skipOf(page: bigint | undefined, perPage: number, total: number): number {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const p = page === undefined ? 1n : page;
  if (p <= 0n || p > BigInt(pages)) throw internal(`page should be within [1, ${pages}] range, given ${p}`);
  return (Number(p) - 1) * perPage;
}

/** An extra GET route mounted beside the RPC (e.g. /artifacts/<sha256>); returns false when the path is not its own. */
export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export class RpcServer {
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<WsConnection>();
  private readonly methods: Record<string, Method>;
  private unsubscribeBlocks: () => void;
  readonly nodeId: string;

  private constructor(readonly node: DevnetNode, readonly address: string, private readonly extraHttp?: HttpHandler) {
    this.nodeId = Buffer.from(sha256(Buffer.concat([Buffer.from('node-id:'), Buffer.from(node.key.pubKey)]))).subarray(0, 20).toString('hex');
    this.methods = this.buildMethods();
    this.server = http.createServer((req, res) => { void this.handleHttp(req, res); });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1_000_000 });
    this.server.on('upgrade', (req, socket, head) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== '/websocket') { socket.destroy(); return; }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const conn = new WsConnection(ws, this);
        this.conns.add(conn);
        ws.on('close', () => this.conns.delete(conn));
      });
    });
    this.unsubscribeBlocks = node.onBlock((ev) => this.publish(ev));
  }

  static async listen(node: DevnetNode, address: string, extraHttp?: HttpHandler): Promise<RpcServer> {
    const m = /^(?:tcp:\/\/)?(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
    if (!m) throw new Error(`invalid RPC address ${address}: expected host:port`);
    const host = m[1]!.replace(/^\[|\]$/g, '');
    const port = Number(m[2]);
    const rpc = new RpcServer(node, address, extraHttp);
    await new Promise<void>((resolve, reject) => {
      rpc.server.once('error', reject);
      rpc.server.listen(port, host, () => { rpc.server.off('error', reject); resolve(); });
    });
    return rpc;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  async close(): Promise<void> {
    this.unsubscribeBlocks();
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- HTTP

  private async handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      // CORS as CometBFT's `rpc.cors_allowed_origins = ["*"]` (its allowed methods and headers): the devnet serves local
      // development, where browser dApps (the SDK's browser entry, docs/clients.md) call it from their own origin.
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Methods': 'HEAD, GET, POST',
          'Access-Control-Allow-Headers': 'Origin, Accept, Content-Type, X-Requested-With, X-Server-Time',
          'Access-Control-Max-Age': '600',
        });
        res.end();
        return;
      }
      if (req.method === 'GET' && this.extraHttp?.(req, res)) return;
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.replace(/^\/+|\/+$/g, '');
      if (req.method === 'POST') {
        const body = await readBody(req, 1_000_000);
        if (body === null) {
          return send(res, 400, errorResponse(undefined, invalidRequest('error reading request body: http: request body too large')));
        }
        if (body.length === 0) return sendEndpoints(res, this.methods);
        let parsed: unknown;
        try { parsed = JSON.parse(body.toString('utf8')); } catch (e) {
          return send(res, 500, errorResponse(undefined, parseError(`error unmarshaling request: ${(e as Error).message}`)));
        }
        const batch = Array.isArray(parsed);
        const reqs = batch ? (parsed as unknown[]) : [parsed];
        // CometBFT's rpc.max_request_batch_size (default 10): a larger batch is refused before any call runs.
        if (batch && reqs.length > rpcLimits.maxBatchRequests) {
          return send(res, 400, errorResponse(undefined, invalidRequest(`batch request exceeds maximum (${rpcLimits.maxBatchRequests}) allowed number of requests`)));
        }
        // Responses are serialized as they are produced and their total is capped, so no request can make the node
        // build an unbounded reply in memory.
        const out: string[] = [];
        let bytes = 0;
        for (const r of reqs) {
          const resp = await this.handleJsonRpc(r, {}, path === '' || path === 'v1' ? null : url.pathname);
          if (!resp) continue;
          const text = JSON.stringify(resp);
          bytes += Buffer.byteLength(text);
          if (bytes > rpcLimits.maxResponseBytes) {
            return send(res, 500, errorResponse(batch ? undefined : (resp.id as Id), internal(`response exceeds the maximum of ${rpcLimits.maxResponseBytes} bytes; ask for less (fewer requests per batch, smaller pages)`)));
          }
          out.push(text);
        }
        if (out.length === 0) { res.writeHead(200); res.end(); return; }
        const text = batch ? `[${out.join(',')}]` : out[0]!;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (path === '' || path === 'v1') return sendEndpoints(res, this.methods);
        const name = path.startsWith('v1/') ? path.slice(3) : path;
        const method = Object.prototype.hasOwnProperty.call(this.methods, name) ? this.methods[name] : undefined;
        if (!method || method.wsOnly) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('404 page not found\n'); return; }
        const values = new Map<string, unknown>();
        try {
          for (const [argName, type] of method.args) {
            const raw = url.searchParams.get(argName);
            if (raw !== null) values.set(argName, convertUri(argName, type, raw));
          }
        } catch (e) {
          return send(res, 500, errorResponse(-1, invalidParams(`error converting http params to arguments: ${(e as Error).message}`)));
        }
        try {
          const result = await method.fn(makeArgs(values), {});
          return send(res, 200, successResponse(-1, result));
        } catch (e) {
          return send(res, 500, errorResponse(-1, toRpcError(e)));
        }
      }
      res.writeHead(405); res.end();
    } catch (e) {
      this.node.log?.error({ err: e }, 'RPC handler failed');
      if (!res.headersSent) send(res, 500, errorResponse(undefined, internal(String(e))));
    }
  }

  /** Handles one JSON-RPC request object; null for notifications (no id). */
  async handleJsonRpc(raw: unknown, conn: Conn, badPath: string | null = null): Promise<JsonObject | null> {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return errorResponse(undefined, invalidRequest('invalid request object'));
    }
    const r = raw as { id?: unknown; method?: unknown; params?: unknown; jsonrpc?: unknown };
    if (r.id === undefined || r.id === null) return null;
    if (typeof r.id !== 'string' && typeof r.id !== 'number') return errorResponse(undefined, invalidRequest(`invalid id ${JSON.stringify(r.id)}`));
    const id = r.id;
    if (r.jsonrpc !== '2.0') return errorResponse(id, invalidRequest(`jsonrpc must be 2.0, got ${JSON.stringify(r.jsonrpc)}`));
    if (badPath !== null) return errorResponse(id, invalidRequest(`path ${badPath} is invalid`));
    const name = typeof r.method === 'string' ? r.method : '';
    const method = Object.prototype.hasOwnProperty.call(this.methods, name) ? this.methods[name] : undefined;
    if (!method || (method.wsOnly && !conn.ws)) return errorResponse(id, methodNotFound());
    const values = new Map<string, unknown>();
    try {
      const p = r.params;
      if (Array.isArray(p)) {
        if (p.length !== method.args.length) {
          throw new Error(`expected ${method.args.length} parameters (${method.args.map((a) => a[0]).join(' ')}), got ${p.length}`);
        }
        method.args.forEach(([n, t], i) => values.set(n, convertJson(n, t, p[i])));
      } else if (p !== undefined && p !== null) {
        if (typeof p !== 'object') throw new Error(`unknown type for JSON params: expected map or array`);
        const obj = p as Record<string, unknown>;
        for (const [n, t] of method.args) {
          if (Object.prototype.hasOwnProperty.call(obj, n)) values.set(n, convertJson(n, t, obj[n]));
        }
      }
    } catch (e) {
      return errorResponse(id, invalidParams(`error converting json params to arguments: ${(e as Error).message}`));
    }
    try {
      return successResponse(id, await method.fn(makeArgs(values), { ...conn, id }));
    } catch (e) {
      return errorResponse(id, toRpcError(e));
    }
  }

  // ---- helpers over the store

  private latest(): bigint { return this.node.height; }

  private async heightArg(h: bigint | undefined): Promise<bigint> {
    const latest = this.latest();
    if (h === undefined) return latest;
    if (h <= 0n) throw internal(`height must be greater than 0, but got ${h}`);
    if (h > latest) throw internal(`height ${h} must be less than or equal to the current blockchain height ${latest}`);
    const base = await this.node.store.baseHeight();
    if (h < base) throw internal(`height ${h} is not available, lowest height is ${base}`);
    return h;
  }

  private async loadBlock(h: bigint) {
    const b = await this.node.store.getBlock(h);
    if (!b) throw internal(`block at height ${h} not found`);
    return b;
  }

  private async blockMeta(h: bigint): Promise<JsonObject> {
    const b = await this.loadBlock(h);
    return { block_id: blockIdJson(b.blockId), block_size: String(b.size), header: headerJson(b.block.header), num_txs: String(b.block.data.txs.length) };
  }

  private async txRecord(hashHex: string, cache?: Map<bigint, { block: Block; results: ExecTxResult[] }>) {
    const loc = await this.node.store.getTxLocation(hashHex);
    if (!loc) return undefined;
    const h = BigInt(loc.height);
    if (h > this.latest()) return undefined;
    let entry = cache?.get(h);
    if (!entry) {
      const b = await this.node.store.getBlock(h);
      const res = await this.node.store.getResults(h);
      if (!b || !res) return undefined;
      entry = { block: b.block, results: res.txResults };
      cache?.set(h, entry);
    }
    const tx = entry.block.data.txs[loc.index];
    if (!tx) return undefined;
    return { height: h, index: loc.index, tx, result: entry.results[loc.index] ?? ExecTxResultCodec.fromPartial({}), txs: entry.block.data.txs };
  }

  private txJson(rec: { height: bigint; index: number; tx: Uint8Array; result: ExecTxResult; txs: Uint8Array[] }, prove: boolean): JsonObject {
    const out: JsonObject = {
      hash: hex(txHash(rec.tx)), height: rec.height.toString(), index: rec.index,
      tx_result: execTxResultJson(rec.result), tx: b64(rec.tx),
    };
    if (prove) {
      const p = merkleProof(rec.txs.map(txHash), rec.index);
      out.proof = {
        root_hash: hex(p.root), data: b64(rec.tx),
        proof: { total: String(rec.txs.length), index: String(rec.index), leaf_hash: b64(p.leafHash), aunts: p.aunts.map(b64) },
      };
    }
    return out;
  }

  private async txSearch(q: Query): Promise<{ height: bigint; index: number; tx: Uint8Array; result: ExecTxResult; txs: Uint8Array[] }[]> {
    const store = this.node.store;
    let candidates: string[];
    const byHash = q.conditions.find((c) => c.key === 'tx.hash' && c.op === '=' && c.operand.kind === 'string');
    const byHeight = q.conditions.find((c) => c.key === 'tx.height' && c.op === '=' && c.operand.kind === 'number');
    const eqEvent = q.conditions.find((c) => !c.key.startsWith('tx.') && c.key !== 'tm.event' && c.op === '=' && c.operand.kind === 'string');
    const anyEvent = q.conditions.find((c) => !c.key.startsWith('tx.') && c.key !== 'tm.event');
    if (byHash && byHash.operand.kind === 'string') candidates = [byHash.operand.value.toUpperCase()];
    else if (byHeight && byHeight.operand.kind === 'number' && INT_RE.test(byHeight.operand.value)) {
      const h = BigInt(byHeight.operand.value);
      const b = h >= 1n && h <= this.latest() ? await store.getBlock(h) : undefined;
      candidates = b ? b.block.data.txs.map((tx) => hex(txHash(tx))) : [];
    } else if (eqEvent && eqEvent.operand.kind === 'string') candidates = await store.scanEventIndex(eqEvent.key, eqEvent.operand.value);
    else if (anyEvent) candidates = await store.scanEventIndex(anyEvent.key);
    else candidates = await store.allTxHashes();
    const seen = new Set<string>();
    const cache = new Map<bigint, { block: Block; results: ExecTxResult[] }>();
    const out = [];
    for (const hash of candidates) {
      if (seen.has(hash)) continue;
      seen.add(hash);
      const rec = await this.txRecord(hash, cache);
      if (!rec) continue;
      const events = new Map<string, string[]>([['tx.hash', [hash]], ['tx.height', [rec.height.toString()]]]);
      addAbciEvents(events, rec.result.events, true);
      if (matches(q, events)) out.push(rec);
    }
    out.sort((a, b) => (a.height !== b.height ? (a.height < b.height ? -1 : 1) : a.index - b.index));
    return out;
  }

  /**
   * Heights whose FinalizeBlock events (and `block.height`) match, ascending, as CometBFT v0.38's kv block indexer
   * finds them: with only `block.height` conditions, every indexed height they allow; otherwise candidates from the
   * block-event index (an equality on an event attribute, else any event condition's key), each checked against the
   * whole query. A block whose indexing failed (a reserved `block.height` event) is never found.
   */
  private async blockSearch(q: Query): Promise<bigint[]> {
    const store = this.node.store;
    const eventConds = q.conditions.filter((c) => c.key !== 'block.height');
    let candidates: bigint[];
    if (eventConds.length === 0) {
      let lo = 1n;
      let hi = this.latest();
      for (const c of q.conditions) {
        if (c.operand.kind !== 'number' || !INT_RE.test(c.operand.value)) continue;
        const v = BigInt(c.operand.value);
        if (c.op === '=') { if (v > lo) lo = v; if (v < hi) hi = v; }
        else if (c.op === '>' && v + 1n > lo) lo = v + 1n;
        else if (c.op === '>=' && v > lo) lo = v;
        else if (c.op === '<' && v - 1n < hi) hi = v - 1n;
        else if (c.op === '<=' && v < hi) hi = v;
      }
      candidates = [];
      for (let h = lo; h <= hi; h++) {
        if (!matches(q, new Map([['block.height', [h.toString()]]]))) continue;
        if (await store.blockIndexed(h)) candidates.push(h);
      }
      return candidates;
    }
    const eqEvent = eventConds.find((c) => c.op === '=' && c.operand.kind === 'string');
    candidates = eqEvent && eqEvent.operand.kind === 'string'
      ? await store.scanBlockEventIndex(eqEvent.key, eqEvent.operand.value)
      : await store.scanBlockEventIndex(eventConds[0]!.key);
    const out: bigint[] = [];
    for (const h of candidates) {
      const r = await store.getResults(h);
      if (!r) continue;
      const events = new Map<string, string[]>([['block.height', [h.toString()]]]);
      addAbciEvents(events, r.events, true);
      if (matches(q, events)) out.push(h);
    }
    return out;
  }

  private parseSearchQuery(text: string): Query {
    if (text.length > MAX_QUERY_LENGTH) throw internal('maximum query length exceeded');
    try { return parseQuery(text); } catch (e) {
      if (e instanceof QueryParseError) throw internal(e.message);
      throw e;
    }
  }

  private genesisJson(): JsonObject {
    const g = this.node.genesis;
    return {
      genesis_time: g.genesis_time,
      chain_id: g.chain_id,
      initial_height: g.initial_height,
      consensus_params: {
        block: { max_bytes: g.consensus_params.block.max_bytes, max_gas: g.consensus_params.block.max_gas },
        evidence: { max_age_num_blocks: '100000', max_age_duration: '172800000000000', max_bytes: '1048576' },
        validator: { pub_key_types: ['ed25519'] },
        version: { app: '0' },
        abci: { vote_extensions_enable_height: '0' },
      },
      validators: [{ address: hex(this.node.key.address), pub_key: pubKeyJson(this.node.key.pubKey), power: VALIDATOR_POWER.toString(), name: 'devnet-validator' }],
      app_hash: '',
      app_state: (g.app_state ?? {}) as Json,
    };
  }

  private validatorJson(): JsonObject {
    return { address: hex(this.node.key.address), pub_key: pubKeyJson(this.node.key.pubKey), voting_power: VALIDATOR_POWER.toString(), proposer_priority: '0' };
  }

  private buildMethods(): Record<string, Method> {
    const node = this.node;
    const store = node.store;
    return {
      health: { args: [], fn: async () => ({}) },

      status: {
        args: [],
        fn: async () => {
          const latest = this.latest();
          const base = latest > 0n ? await store.baseHeight() : 0n;
          const latestB = latest > 0n ? await store.getBlock(latest) : undefined;
          const earliestB = base > 0n ? await store.getBlock(base) : undefined;
          const genesisTime = node.genesis.genesis_time;
          return {
            node_info: {
              protocol_version: { p2p: P2P_PROTOCOL.toString(), block: BLOCK_PROTOCOL.toString(), app: node.chainState.appVersion },
              id: this.nodeId,
              listen_addr: 'tcp://127.0.0.1:26656',
              network: node.chainId,
              version: COMETBFT_VERSION,
              channels: '40202122233038606100',
              moniker: 'proofbook-devnet',
              other: { tx_index: 'on', rpc_address: `tcp://${this.address}` },
            },
            sync_info: {
              latest_block_hash: latestB ? hex(latestB.blockId.hash) : '',
              latest_app_hash: latestB ? hex(latestB.block.header.appHash) : '',
              latest_block_height: latest.toString(),
              latest_block_time: latestB ? rfc3339Nano(latestB.block.header.time) : genesisTime,
              earliest_block_hash: earliestB ? hex(earliestB.blockId.hash) : '',
              earliest_app_hash: earliestB ? hex(earliestB.block.header.appHash) : '',
              earliest_block_height: base.toString(),
              earliest_block_time: earliestB ? rfc3339Nano(earliestB.block.header.time) : genesisTime,
              catching_up: false,
            },
            validator_info: { address: hex(node.key.address), pub_key: pubKeyJson(node.key.pubKey), voting_power: VALIDATOR_POWER.toString() },
          };
        },
      },

      abci_info: { args: [], fn: async () => ({ response: infoJson(await node.info()) }) },

      abci_query: {
        args: [['path', 'string'], ['data', 'hex'], ['height', 'int'], ['prove', 'bool']],
        fn: async (a) => {
          const h = a.int('height') ?? 0n;
          if (h < 0n) throw internal('height cannot be negative');
          return { response: queryJson(await node.query(a.str('path'), a.bytes('data'), h, a.bool('prove'))) };
        },
      },

      check_tx: {
        args: [['tx', 'bytes']],
        fn: async (a) => {
          const tx = a.bytes('tx');
          const res = await node.app.queue.run(() => node.app.checkTx({ tx, type: 0 }));
          return checkTxJson(res);
        },
      },

      broadcast_tx_async: {
        args: [['tx', 'bytes']],
        fn: async (a) => {
          const tx = a.bytes('tx');
          node.checkTx(tx).catch((e: unknown) => node.log?.debug({ err: e }, 'broadcast_tx_async rejected'));
          return { code: 0, data: '', log: '', codespace: '', hash: hex(txHash(tx)) };
        },
      },

      broadcast_tx_sync: {
        args: [['tx', 'bytes']],
        fn: async (a) => {
          const { hash, res } = await node.checkTx(a.bytes('tx'));
          return { code: res.code, data: hex(res.data), log: res.log, codespace: res.codespace, hash: hex(hash) };
        },
      },

      broadcast_tx_commit: {
        args: [['tx', 'bytes']],
        fn: async (a) => {
          const tx = a.bytes('tx');
          const wantHash = hex(txHash(tx));
          let stop = (): void => {};
          const included = new Promise<{ height: bigint; result: ExecTxResult }>((resolve, reject) => {
            const timer = setTimeout(() => { stop(); reject(internal('timed out waiting for tx to be included in a block')); }, BROADCAST_COMMIT_TIMEOUT_MS);
            const off = node.onBlock((ev) => {
              const i = ev.block.data.txs.findIndex((t) => hex(txHash(t)) === wantHash);
              if (i >= 0) { stop(); resolve({ height: ev.block.header.height, result: ev.results.txResults[i]! }); }
            });
            stop = () => { clearTimeout(timer); off(); };
          });
          included.catch(() => undefined);
          let checked;
          try { checked = await node.checkTx(tx); } catch (e) { stop(); throw e; }
          if (checked.res.code !== 0) {
            stop();
            return { check_tx: checkTxJson(checked.res), tx_result: {}, hash: wantHash, height: '0' };
          }
          const inc = await included;
          return { check_tx: checkTxJson(checked.res), tx_result: execTxResultJson(inc.result), hash: wantHash, height: inc.height.toString() };
        },
      },

      num_unconfirmed_txs: {
        args: [],
        fn: async () => ({ n_txs: String(node.mempool.size), total: String(node.mempool.size), total_bytes: String(node.mempool.sizeBytes), txs: null }),
      },

      unconfirmed_txs: {
        args: [['limit', 'int']],
        fn: async (a) => {
          const limit = perPageOf(a.int('limit'));
          const txs = node.mempool.list().slice(0, limit);
          return { n_txs: String(txs.length), total: String(node.mempool.size), total_bytes: String(node.mempool.sizeBytes), txs: txs.map(b64) };
        },
      },

      tx: {
        args: [['hash', 'bytes'], ['prove', 'bool']],
        fn: async (a) => {
          const hashHex = hex(a.bytes('hash'));
          const rec = await this.txRecord(hashHex);
          if (!rec) throw internal(`tx (${hashHex}) not found`);
          return this.txJson(rec, a.bool('prove'));
        },
      },

      tx_search: {
        args: [['query', 'string'], ['prove', 'bool'], ['page', 'int'], ['per_page', 'int'], ['order_by', 'string']],
        fn: async (a) => {
          const q = this.parseSearchQuery(a.str('query'));
          const order = a.str('order_by');
          if (order !== '' && order !== 'asc' && order !== 'desc') throw internal('expected order_by to be either `asc` or `desc` or empty');
          const all = await this.txSearch(q);
          if (order === 'desc') all.reverse();
          const perPage = perPageOf(a.int('per_page'));
          const skip = skipOf(a.int('page'), perPage, all.length);
          const page = all.slice(skip, skip + perPage);
          return { txs: page.map((r) => this.txJson(r, a.bool('prove'))), total_count: String(all.length) };
        },
      },

      block_search: {
        args: [['query', 'string'], ['page', 'int'], ['per_page', 'int'], ['order_by', 'string']],
        fn: async (a) => {
          const q = this.parseSearchQuery(a.str('query'));
          const order = a.str('order_by');
          if (order !== '' && order !== 'asc' && order !== 'desc') throw internal('expected order_by to be either `asc` or `desc` or empty');
          const all = await this.blockSearch(q);
          // Newest first unless asked otherwise: CometBFT's block_search sorts "desc" and "" alike (tx_search's
          // default is oldest first).
          if (order !== 'asc') all.reverse();
          const perPage = perPageOf(a.int('per_page'));
          const skip = skipOf(a.int('page'), perPage, all.length);
          const blocks = [];
          for (const h of all.slice(skip, skip + perPage)) {
            const b = await this.loadBlock(h);
            blocks.push({ block_id: blockIdJson(b.blockId), block: blockJson(b.block) });
          }
          return { blocks, total_count: String(all.length) };
        },
      },

      block: {
        args: [['height', 'int']],
        fn: async (a) => {
          const h = await this.heightArg(a.int('height'));
          if (h === 0n) return { block_id: { hash: '', parts: { total: 0, hash: '' } }, block: null };
          const b = await this.loadBlock(h);
          return { block_id: blockIdJson(b.blockId), block: blockJson(b.block) };
        },
      },

      block_by_hash: {
        args: [['hash', 'bytes']],
        fn: async (a) => {
          const want = hex(a.bytes('hash'));
          for (let h = this.latest(); h >= 1n; h--) {
            const b = await store.getBlock(h);
            if (b && hex(b.blockId.hash) === want) return { block_id: blockIdJson(b.blockId), block: blockJson(b.block) };
          }
          return { block_id: { hash: '', parts: { total: 0, hash: '' } }, block: null };
        },
      },

      header: {
        args: [['height', 'int']],
        fn: async (a) => {
          const h = await this.heightArg(a.int('height'));
          if (h === 0n) return { header: null };
          return { header: headerJson((await this.loadBlock(h)).block.header) };
        },
      },

      block_results: {
        args: [['height', 'int']],
        fn: async (a) => {
          const h = await this.heightArg(a.int('height'));
          const r = await store.getResults(h);
          if (!r) throw internal(`could not find results for height #${h}`);
          return {
            height: h.toString(),
            txs_results: r.txResults.length > 0 ? r.txResults.map(execTxResultJson) : null,
            finalize_block_events: r.events.length > 0 ? r.events.map(eventJson) : null,
            validator_updates: r.validatorUpdates.length > 0 ? r.validatorUpdates.map(validatorUpdateJson) : null,
            consensus_param_updates: r.consensusParamUpdates ? consensusParamsJson(r.consensusParamUpdates) : null,
            app_hash: b64(r.appHash),
          };
        },
      },

      blockchain: {
        args: [['minHeight', 'int'], ['maxHeight', 'int']],
        fn: async (a) => {
          const latest = this.latest();
          const base = await store.baseHeight();
          let min = a.int('minHeight') ?? 0n;
          let max = a.int('maxHeight') ?? 0n;
          if (min < 0n || max < 0n) throw internal('heights must be non-negative');
          if (min === 0n) min = 1n;
          if (max === 0n) max = latest;
          if (max > latest) max = latest;
          if (min < base) min = base;
          if (min < max - 20n + 1n) min = max - 20n + 1n;
          if (min > max) throw internal(`min height ${min} can't be greater than max height ${max}`);
          const metas: Json[] = [];
          for (let h = max; h >= min && h >= 1n; h--) metas.push(await this.blockMeta(h));
          return { last_height: latest.toString(), block_metas: metas };
        },
      },

      commit: {
        args: [['height', 'int']],
        fn: async (a) => {
          const latest = this.latest();
          const h = await this.heightArg(a.int('height'));
          if (h === 0n) throw internal('no blocks yet');
          const b = await this.loadBlock(h);
          const c = await store.getCommit(h);
          if (!c) throw internal(`commit for height ${h} not found`);
          return { signed_header: { header: headerJson(b.block.header), commit: commitJson(c) }, canonical: h < latest };
        },
      },

      validators: {
        args: [['height', 'int'], ['page', 'int'], ['per_page', 'int']],
        fn: async (a) => {
          const h = await this.heightArg(a.int('height'));
          const perPage = perPageOf(a.int('per_page'));
          const skip = skipOf(a.int('page'), perPage, 1);
          const vals = [this.validatorJson()].slice(skip, skip + perPage);
          return { block_height: (h === 0n ? 1n : h).toString(), validators: vals, count: String(vals.length), total: '1' };
        },
      },

      consensus_params: {
        args: [['height', 'int']],
        fn: async (a) => {
          const h = await this.heightArg(a.int('height'));
          const g = this.genesisJson();
          const params = g.consensus_params as JsonObject;
          return {
            block_height: h.toString(),
            consensus_params: { ...params, block: { max_bytes: node.chainState.maxBytes, max_gas: node.chainState.maxGas } },
          };
        },
      },

      genesis: { args: [], fn: async () => ({ genesis: this.genesisJson() }) },

      subscribe: {
        args: [['query', 'string']], wsOnly: true,
        fn: async (a, conn) => {
          const text = a.str('query');
          const q = this.parseSearchQuery(text);
          conn.ws!.subscribe(text, q, conn.id ?? null);
          return {};
        },
      },
      unsubscribe: {
        args: [['query', 'string']], wsOnly: true,
        fn: async (a, conn) => {
          if (!conn.ws!.unsubscribe(a.str('query'))) throw internal('subscription not found');
          return {};
        },
      },
      unsubscribe_all: {
        args: [], wsOnly: true,
        fn: async (_a, conn) => {
          if (!conn.ws!.unsubscribeAll()) throw internal('subscription not found');
          return {};
        },
      },
    };
  }

  // ---- events

  private publish(ev: NewBlockEvent): void {
    if (this.conns.size === 0) return;
    const height = ev.block.header.height.toString();
    const fb = finalizeBlockJson(ev.results);
    // Event maps as CometBFT 0.38's event bus builds them: NewBlock = tm.event + FinalizeBlock events,
    // NewBlockHeader = tm.event only, Tx = tm.event + tx.hash + tx.height + the tx's events.
    const blockEvents = new Map<string, string[]>([['tm.event', ['NewBlock']]]);
    addAbciEvents(blockEvents, ev.results.events, false);
    const headerEvents = new Map<string, string[]>([['tm.event', ['NewBlockHeader']]]);
    let newBlockData: JsonObject | undefined;
    let newHeaderData: JsonObject | undefined;
    const txEvents = ev.block.data.txs.map((tx, i) => {
      const r = ev.results.txResults[i] ?? ExecTxResultCodec.fromPartial({});
      const m = new Map<string, string[]>([['tm.event', ['Tx']], ['tx.hash', [hex(txHash(tx))]], ['tx.height', [height]]]);
      addAbciEvents(m, r.events, false);
      const value: JsonObject = { height, tx: b64(tx), result: execTxResultEventJson(r) };
      if (i !== 0) value.index = i;
      return { events: m, data: { type: 'tendermint/event/Tx', value: { TxResult: value } } as JsonObject };
    });
    for (const conn of this.conns) {
      for (const sub of conn.subscriptions()) {
        if (matches(sub.query, blockEvents)) {
          newBlockData ??= { type: 'tendermint/event/NewBlock', value: { block: blockJson(ev.block), block_id: blockIdJson(ev.blockId), result_finalize_block: fb } };
          conn.sendEvent(sub, newBlockData, blockEvents);
        }
        if (matches(sub.query, headerEvents)) {
          newHeaderData ??= {
            type: 'tendermint/event/NewBlockHeader',
            value: { header: headerJson(ev.block.header) },
          };
          conn.sendEvent(sub, newHeaderData, headerEvents);
        }
        for (const t of txEvents) if (matches(sub.query, t.events)) conn.sendEvent(sub, t.data, t.events);
      }
    }
  }
}

function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (e instanceof MempoolError) return internal(e.message);
  return internal(e instanceof Error ? e.message : String(e));
}

const MAX_SUBSCRIPTIONS_PER_CLIENT = 5;

interface Subscription { text: string; query: Query; id: Id }

class WsConnection {
  private readonly subs = new Map<string, Subscription>();

  constructor(readonly ws: WebSocket, private readonly rpc: RpcServer) {
    ws.on('message', (data) => { void this.onMessage(data.toString()); });
    ws.on('error', () => ws.terminate());
  }

  subscriptions(): Subscription[] { return [...this.subs.values()]; }

  subscribe(text: string, query: Query, id: Id): void {
    if (this.subs.has(text)) throw internal('already subscribed');
    if (this.subs.size >= MAX_SUBSCRIPTIONS_PER_CLIENT) throw internal(`max_subscriptions_per_client ${MAX_SUBSCRIPTIONS_PER_CLIENT} reached`);
    this.subs.set(text, { text, query, id });
  }
  unsubscribe(text: string): boolean { return this.subs.delete(text); }
  unsubscribeAll(): boolean { const had = this.subs.size > 0; this.subs.clear(); return had; }

  sendEvent(sub: Subscription, data: JsonObject, events: ReadonlyMap<string, readonly string[]>): void {
    const ev: JsonObject = {};
    for (const [k, v] of events) ev[k] = [...v];
    this.send(successResponse(sub.id, { query: sub.text, data, events: ev }));
  }

  private send(msg: JsonObject): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private async onMessage(text: string): Promise<void> {
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch (e) {
      this.send(errorResponse(undefined, parseError(`error unmarshaling request: ${(e as Error).message}`)));
      return;
    }
    const resp = await this.rpc.handleJsonRpc(parsed, { ws: this });
    if (resp) this.send(resp);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendEndpoints(res: http.ServerResponse, methods: Record<string, Method>): void {
  const names = Object.keys(methods).filter((n) => !methods[n]!.wsOnly).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = names.map((n) => {
    const args = methods[n]!.args.map(([a]) => `${a}=_`).join('&');
    return args ? `<a href="/${n}?${args}">/${n}?${args}</a></br>` : `<a href="/${n}">/${n}</a></br>`;
  });
  const html = `<html><body><br>Available endpoints:<br>${lines.join('')}</body></html>`;
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(html);
}
