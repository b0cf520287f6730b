/**
 * proofbook's gRPC API (@grpc/grpc-js) with server reflection (@grpc/reflection).
 *
 * - Every `Query` service declared under proto/proofbook/** (and cosmos.bank/auth/staking/slashing/distribution.v1beta1.Query) is served generically: a method's request bytes are
 *   validated (they must decode as the declared request type; a `pagination` field must be a valid page request) and
 *   forwarded unchanged to the app as an ABCI query at '/<package>.Query/<Method>'; the response bytes come back
 *   unchanged. App errors (log 'rpc error: code = NotFound desc = …') become the named gRPC status.
 * - cosmos.tx.v1beta1.Service: BroadcastTx (SYNC/ASYNC via CometBFT JSON-RPC), Simulate (ABCI query), GetTx (`tx`)
 *   and GetTxsEvent (`tx_search`), with the Cosmos SDK v0.50 wire format (proto/cosmos/**, minimal copies).
 *
 * Nothing here is reached by the state machine; it is a pure adapter.
 */
import '../../src/codec/cosmjs-types-alloc.js';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type pino from 'pino';
import type { Comet38Client } from '@cosmjs/tendermint-rpc';
import { TxRaw, TxBody, AuthInfo, Tx } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import {
  BroadcastMode, BroadcastTxRequest, BroadcastTxResponse, GetTxRequest, GetTxResponse, GetTxsEventRequest,
  GetTxsEventResponse, OrderBy, SimulateRequest, SimulateResponse,
} from 'cosmjs-types/cosmos/tx/v1beta1/service';
import { TxResponse } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
import { addCometServices } from './comet-services.js';
import { ErrInvalidRequest, ErrNotFound } from '../../src/framework/errors.js';

export const DEFAULT_GRPC_ADDRESS = '127.0.0.1:9090';
/** Simulations one gateway (gRPC and REST) lets wait for the app at once; more are refused (RESOURCE_EXHAUSTED). */
export const MAX_CONCURRENT_SIMULATIONS = 4;

/** Largest page a paginated query may ask for. */
export const MAX_PAGE_LIMIT = 1000n;

export interface AbciQueryResult {
  code: number;
  log: string;
  value: Uint8Array;
  codespace: string;
  /** The height of the state that answered (ResponseQuery.height), when known. */
  height?: bigint;
}
/** An ABCI query at `height` (0 or unset = latest); the result carries the height it answered at. */
export type QueryFn = (path: string, data: Uint8Array, height?: bigint) => Promise<AbciQueryResult>;

export interface GrpcServerOptions {
  /** host:port to bind (port 0 picks a free one). Default 127.0.0.1:9090. */
  address?: string;
  /** The app's ABCI query (gRPC-style path, protobuf bytes). */
  query: QueryFn;
  /** CometBFT JSON-RPC URL, for broadcast and tx lookups. */
  rpcUrl: string;
  logger?: pino.Logger;
}

export interface GrpcServer {
  /** The bound host:port. */
  readonly address: string;
  /** Fully-qualified names of the services served (besides reflection). */
  readonly services: readonly string[];
  close(): Promise<void>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository's proto/ directory. */
export const PROTO_DIR = join(HERE, '..', '..', 'proto');
/** The FileDescriptorSet served by reflection (see build-descriptors.ts). */
export const DESCRIPTORS_FILE = join(HERE, 'descriptors.binpb');

function protoFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.proto')) out.push(relative(PROTO_DIR, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Loads proto/proofbook/**, the cosmos tx service and the bank/auth queries with @grpc/proto-loader. */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  const files = [
    ...protoFiles(join(PROTO_DIR, 'proofbook')),
    'cosmos/tx/v1beta1/service.proto', 'cosmos/bank/v1beta1/query.proto', 'cosmos/auth/v1beta1/query.proto',
    'cosmos/staking/v1beta1/query.proto', 'cosmos/slashing/v1beta1/query.proto', 'cosmos/distribution/v1beta1/query.proto',
  ];
  return protoLoader.loadSync(files, { includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, bytes: Array, defaults: false });
}

// ------------------------------------------------------------------------------------------ errors

const STATUS_BY_NAME: Record<string, grpc.status> = {
  OK: grpc.status.OK, Canceled: grpc.status.CANCELLED, Unknown: grpc.status.UNKNOWN, InvalidArgument: grpc.status.INVALID_ARGUMENT,
  DeadlineExceeded: grpc.status.DEADLINE_EXCEEDED, NotFound: grpc.status.NOT_FOUND, AlreadyExists: grpc.status.ALREADY_EXISTS,
  PermissionDenied: grpc.status.PERMISSION_DENIED, ResourceExhausted: grpc.status.RESOURCE_EXHAUSTED,
  FailedPrecondition: grpc.status.FAILED_PRECONDITION, Aborted: grpc.status.ABORTED, OutOfRange: grpc.status.OUT_OF_RANGE,
  Unimplemented: grpc.status.UNIMPLEMENTED, Internal: grpc.status.INTERNAL, Unavailable: grpc.status.UNAVAILABLE,
  DataLoss: grpc.status.DATA_LOSS, Unauthenticated: grpc.status.UNAUTHENTICATED,
};

/** A gRPC status error to hand to a grpc-js callback. */
export class GrpcStatusError extends Error implements Partial<grpc.ServiceError> {
  readonly metadata: grpc.Metadata;
  constructor(readonly code: grpc.status, readonly details: string, extra: Record<string, string> = {}) {
    super(details);
    this.name = 'GrpcStatusError';
    this.metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(extra)) this.metadata.set(k, v);
  }
}

const invalid = (msg: string): GrpcStatusError => new GrpcStatusError(grpc.status.INVALID_ARGUMENT, msg);

/** Maps an ABCI query error (code, codespace, 'rpc error: code = X desc = …' log) to a gRPC status. */
export function statusFromQueryError(res: AbciQueryResult): GrpcStatusError {
  const m = /^rpc error: code = (\w+) desc = ([\s\S]*)$/.exec(res.log);
  const extra = { 'x-cosmos-codespace': res.codespace, 'x-cosmos-code': String(res.code) };
  if (m) {
    const code = STATUS_BY_NAME[m[1]!];
    if (code !== undefined && code !== grpc.status.OK) return new GrpcStatusError(code, m[2]!, extra);
    return new GrpcStatusError(grpc.status.UNKNOWN, m[2]!, extra);
  }
  return new GrpcStatusError(grpc.status.UNKNOWN, res.log || `query failed with code ${res.code} (codespace '${res.codespace}')`, extra);
}

function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  if (err instanceof GrpcStatusError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return { code: grpc.status.INTERNAL, details: msg, message: msg };
}

// ------------------------------------------------------------------------------------------ validation

interface PageRequestLike { key?: number[] | Uint8Array | null; offset?: string | number | null; limit?: string | number | null }

/** Checks a decoded PageRequest: not key and offset together, limit ≤ MAX_PAGE_LIMIT. */
export function validatePageRequest(p: PageRequestLike | null | undefined, field = 'pagination'): void {
  if (!p) return;
  const keyLen = p.key ? p.key.length : 0;
  const offset = BigInt(p.offset ?? 0);
  const limit = BigInt(p.limit ?? 0);
  if (keyLen > 0 && offset > 0n) throw invalid(`invalid ${field}: key and offset cannot both be set (use next_key from the previous page, or an offset)`);
  if (limit > MAX_PAGE_LIMIT) throw invalid(`invalid ${field}: limit ${limit} exceeds the maximum of ${MAX_PAGE_LIMIT}`);
}

// ------------------------------------------------------------------------------------------ tx service

const HASH_RE = /^[0-9a-fA-F]{64}$/;
const hexUpper = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

function decodeTxRaw(bytes: Uint8Array): { raw: TxRaw; tx: Tx } {
  if (bytes.length === 0) throw invalid('tx_bytes is empty: send the signed TxRaw bytes');
  let raw: TxRaw, body: TxBody, authInfo: AuthInfo;
  try {
    raw = TxRaw.decode(bytes);
    body = TxBody.decode(raw.bodyBytes);
    authInfo = AuthInfo.decode(raw.authInfoBytes);
  } catch (e) {
    throw invalid(`malformed tx bytes: not a protobuf cosmos.tx.v1beta1.TxRaw (${(e as Error).message})`);
  }
  if (body.messages.length === 0) throw invalid('malformed tx bytes: the tx body has no messages');
  if (raw.signatures.length === 0) throw invalid('malformed tx bytes: the tx carries no signatures');
  return { raw, tx: Tx.fromPartial({ body, authInfo, signatures: raw.signatures }) };
}

function txOfBytes(bytes: Uint8Array): Tx | undefined {
  try {
    const raw = TxRaw.decode(bytes);
    return Tx.fromPartial({ body: TxBody.decode(raw.bodyBytes), authInfo: AuthInfo.decode(raw.authInfoBytes), signatures: raw.signatures });
  } catch {
    return undefined;
  }
}

/** CometBFT's mempool refusals (JSON-RPC errors, before CheckTx) as gRPC statuses. */
function mempoolError(e: unknown): GrpcStatusError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/already exists in cache/i.test(msg)) return new GrpcStatusError(grpc.status.ALREADY_EXISTS, `tx already in the mempool cache: ${msg}`);
  if (/mempool is full/i.test(msg)) return new GrpcStatusError(grpc.status.RESOURCE_EXHAUSTED, msg);
  if (/tx too large/i.test(msg)) return new GrpcStatusError(grpc.status.INVALID_ARGUMENT, msg);
  return new GrpcStatusError(grpc.status.UNAVAILABLE, `broadcast failed: ${msg}`);
}

interface CometTx {
  tx: Uint8Array; hash: Uint8Array; height: number;
  result: { code: number; codespace?: string; log?: string; data?: Uint8Array; events: readonly { type: string; attributes: readonly { key: string; value: string }[] }[]; gasWanted: bigint; gasUsed: bigint };
}

class TxService {
  private comet: Promise<Comet38Client> | undefined;
  private readonly blockTimes = new Map<number, string>();

  private simulating = 0;
  constructor(private readonly rpcUrl: string, private readonly query: QueryFn) {}

  private client(): Promise<Comet38Client> {
    this.comet ??= import('@cosmjs/tendermint-rpc').then(({ Comet38Client }) => Comet38Client.connect(this.rpcUrl)).catch((e: unknown) => {
      this.comet = undefined;
      throw new GrpcStatusError(grpc.status.UNAVAILABLE, `cannot reach CometBFT RPC at ${this.rpcUrl}: ${(e as Error).message}`);
    });
    return this.comet;
  }

  close(): void {
    this.comet?.then((c) => c.disconnect(), () => undefined);
  }

  /** RFC 3339 (seconds) time of a block, as the SDK's TxResponse.timestamp. */
  private async blockTime(height: number): Promise<string> {
    const hit = this.blockTimes.get(height);
    if (hit !== undefined) return hit;
    try {
      const b = await (await this.client()).block(height);
      const t = b.block.header.time.toISOString().replace(/\.\d+Z$/, 'Z');
      if (this.blockTimes.size > 1000) this.blockTimes.clear();
      this.blockTimes.set(height, t);
      return t;
    } catch {
      return '';
    }
  }

  private async txResponse(r: CometTx): Promise<{ tx: Tx | undefined; txResponse: TxResponse }> {
    const tx = txOfBytes(r.tx);
    const txResponse = TxResponse.fromPartial({
      height: BigInt(r.height),
      txhash: hexUpper(r.hash),
      codespace: r.result.codespace ?? '',
      code: r.result.code,
      data: r.result.data ? hexUpper(r.result.data) : '',
      rawLog: r.result.log ?? '',
      logs: [],
      info: '',
      gasWanted: r.result.gasWanted,
      gasUsed: r.result.gasUsed,
      tx: tx ? { typeUrl: '/cosmos.tx.v1beta1.Tx', value: Tx.encode(tx).finish() } : undefined,
      timestamp: await this.blockTime(r.height),
      events: r.result.events.map((e) => ({ type: e.type, attributes: e.attributes.map((a) => ({ key: a.key, value: a.value, index: true })) })),
    });
    return { tx, txResponse };
  }

  async broadcastTx(req: BroadcastTxRequest): Promise<BroadcastTxResponse> {
    decodeTxRaw(req.txBytes);
    const comet = await this.client();
    switch (req.mode) {
      case BroadcastMode.BROADCAST_MODE_SYNC: {
        let r;
        try {
          r = await comet.broadcastTxSync({ tx: req.txBytes });
        } catch (e) {
          throw mempoolError(e);
        }
        return {
          txResponse: TxResponse.fromPartial({
            txhash: hexUpper(r.hash), code: r.code, codespace: r.codespace ?? '', rawLog: r.log ?? '',
            data: r.data ? hexUpper(r.data) : '',
          }),
        };
      }
      case BroadcastMode.BROADCAST_MODE_ASYNC: {
        let r;
        try {
          r = await comet.broadcastTxAsync({ tx: req.txBytes });
        } catch (e) {
          throw mempoolError(e);
        }
        return { txResponse: TxResponse.fromPartial({ txhash: hexUpper(r.hash) }) };
      }
      case BroadcastMode.BROADCAST_MODE_BLOCK:
        throw invalid('BROADCAST_MODE_BLOCK is not supported (deprecated since Cosmos SDK v0.47): use BROADCAST_MODE_SYNC and then GetTx');
      default:
        throw invalid(`invalid broadcast mode ${String(req.mode)}: use BROADCAST_MODE_SYNC (2) or BROADCAST_MODE_ASYNC (3)`);
    }
  }

  async simulate(req: SimulateRequest): Promise<SimulateResponse> {
    let txBytes = req.txBytes;
    if (txBytes.length === 0 && req.tx) {
      // The deprecated `tx` field: re-encode as TxRaw.
      const t = req.tx;
      txBytes = TxRaw.encode({
        bodyBytes: TxBody.encode(t.body ?? TxBody.fromPartial({})).finish(),
        authInfoBytes: AuthInfo.encode(t.authInfo ?? AuthInfo.fromPartial({})).finish(),
        signatures: t.signatures,
      }).finish();
    }
    if (txBytes.length === 0) throw invalid('empty tx: set tx_bytes to the (possibly unsigned) TxRaw bytes to simulate');
    // Concurrency cap (issue 10 item 6): a flood is refused here before it queues in front of consensus; the app's
    // SimulateLimiter bounds the thread time of those that get through (app/simulate-limit.ts).
    if (this.simulating >= MAX_CONCURRENT_SIMULATIONS) {
      throw new GrpcStatusError(grpc.status.RESOURCE_EXHAUSTED, `${MAX_CONCURRENT_SIMULATIONS} simulations are already in flight on this node; retry shortly`);
    }
    this.simulating++;
    try {
      const res = await this.query('/cosmos.tx.v1beta1.Service/Simulate', SimulateRequest.encode({ txBytes }).finish());
      if (res.code !== 0) throw statusFromQueryError(res);
      return SimulateResponse.decode(res.value);
    } finally {
      this.simulating--;
    }
  }

  async getTx(req: GetTxRequest): Promise<GetTxResponse> {
    if (!HASH_RE.test(req.hash)) throw invalid(`invalid tx hash '${req.hash}': expected 64 hex characters (the SHA-256 of the tx bytes)`);
    const comet = await this.client();
    let r;
    try {
      r = await comet.tx({ hash: Buffer.from(req.hash, 'hex') });
    } catch (e) {
      const msg = (e as Error).message;
      if (/not found/i.test(msg)) throw new GrpcStatusError(grpc.status.NOT_FOUND, `tx not found: ${req.hash.toUpperCase()}`);
      throw new GrpcStatusError(grpc.status.UNAVAILABLE, `CometBFT tx lookup failed: ${msg}`);
    }
    const { tx, txResponse } = await this.txResponse(r);
    return { tx, txResponse };
  }

  async getTxsEvent(req: GetTxsEventRequest): Promise<GetTxsEventResponse> {
    let query = req.query.trim();
    if (query === '' && req.events.length > 0) query = req.events.join(' AND ');
    if (query === '') throw invalid("query cannot be empty: give a CometBFT event query, e.g. \"message.sender='proof1…'\"");
    const p = req.pagination;
    if (p) {
      validatePageRequest({ key: p.key, offset: p.offset.toString(), limit: p.limit.toString() });
      if (p.key.length > 0) throw invalid('invalid pagination: key-based pages are not supported by GetTxsEvent; use page and limit');
    }
    if (req.limit > MAX_PAGE_LIMIT) throw invalid(`invalid limit ${req.limit}: the maximum is ${MAX_PAGE_LIMIT}`);
    let limit = req.limit > 0n ? req.limit : 0n;
    let page = req.page;
    if (limit === 0n && p && (p.limit > 0n || p.offset > 0n)) {
      // Deprecated offset pagination: offset must fall on a page boundary.
      limit = p.limit > 0n ? p.limit : 100n;
      if (p.offset % limit !== 0n) throw invalid(`invalid pagination: offset ${p.offset} is not a multiple of limit ${limit}; use page and limit`);
      page = p.offset / limit + 1n;
    }
    if (limit === 0n) limit = 100n;
    if (page === 0n) page = 1n;
    const orderBy = req.orderBy === OrderBy.ORDER_BY_DESC ? 'desc' : 'asc';

    const comet = await this.client();
    const start = (page - 1n) * limit;
    const PER = 100n;
    const collected: CometTx[] = [];
    let total = 0n;
    let cometPage = start / PER + 1n;
    let skip = Number(start % PER);
    for (;;) {
      let r;
      try {
        r = await comet.txSearch({ query, page: Number(cometPage), per_page: Number(PER), order_by: orderBy });
      } catch (e) {
        const msg = (e as Error).message;
        if (/page should be within|out of range/i.test(msg)) { total = BigInt(total); break; }
        throw invalid(`tx search failed: ${msg}`);
      }
      total = BigInt(r.totalCount);
      const txs = r.txs.slice(skip);
      skip = 0;
      for (const t of txs) {
        if (BigInt(collected.length) >= limit) break;
        collected.push(t);
      }
      if (BigInt(collected.length) >= limit || cometPage * PER >= total || r.txs.length === 0) break;
      cometPage += 1n;
    }
    const txs: Tx[] = [];
    const txResponses: TxResponse[] = [];
    for (const c of collected) {
      const { tx, txResponse } = await this.txResponse(c);
      txs.push(tx ?? Tx.fromPartial({}));
      txResponses.push(txResponse);
    }
    return { txs, txResponses, total, pagination: { nextKey: new Uint8Array(), total } };
  }
}

/** How long the app's GetTx lookup waits for CometBFT's RPC before answering Unavailable. */
export const TX_LOOKUP_TIMEOUT_MS = 30_000;

/**
 * GetTx for the app's ABCI query path (ProofbookApp.setTxLookup): request bytes in, response bytes out, errors as
 * AppErrors (NotFound, InvalidRequest) so the ABCI answer carries the same status a gRPC client would get.
 */
export function txLookup(rpcUrl: string, query: QueryFn, opts: { timeoutMs?: number } = {}): { lookup(request: Uint8Array): Promise<Uint8Array>; close(): void } {
  const txs = new TxService(rpcUrl, query);
  // The app answers this outside its queue, but in order on its ABCI connection: a lookup the RPC never answers would
  // hold up the queries behind it, so it gives up after timeoutMs (the RPC request itself is left to finish).
  const timeoutMs = opts.timeoutMs ?? TX_LOOKUP_TIMEOUT_MS;
  const bounded = <T>(p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GrpcStatusError(grpc.status.UNAVAILABLE, `CometBFT RPC at ${rpcUrl} did not answer the tx lookup within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  };
  return {
    async lookup(request) {
      let req: GetTxRequest;
      try {
        req = GetTxRequest.decode(request);
      } catch (e) {
        throw ErrInvalidRequest(`cannot decode GetTxRequest: ${(e as Error).message}`);
      }
      try {
        return GetTxResponse.encode(await bounded(txs.getTx(req))).finish();
      } catch (e) {
        if (e instanceof GrpcStatusError && e.code === grpc.status.NOT_FOUND) throw ErrNotFound(e.details);
        if (e instanceof GrpcStatusError && e.code === grpc.status.INVALID_ARGUMENT) throw ErrInvalidRequest(e.details);
        throw e;
      }
    },
    close: () => txs.close(),
  };
}

// ------------------------------------------------------------------------------------------ reflection

/**
 * The package definition handed to @grpc/reflection. proto-loader's own descriptors merge each package into one
 * synthetic file without dependencies and with relative type names, which strict clients (buf curl, grpcurl) cannot
 * resolve; so reflection serves the real files from app/grpc/descriptors.binpb (`buf build` of proto/, see
 * build-descriptors.ts), with their own names, imports and fully-qualified type names.
 */
export function reflectionPackage(): protoLoader.PackageDefinition {
  const set = readFileSync(DESCRIPTORS_FILE);
  // FileDescriptorSet { repeated FileDescriptorProto file = 1; }: keep each file's bytes as they are.
  const files: Buffer[] = [];
  let i = 0;
  const varint = (): number => {
    let v = 0, shift = 0;
    for (;;) {
      const byte = set[i++]!;
      v += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return v;
      shift += 7;
    }
  };
  while (i < set.length) {
    const tag = varint();
    if (tag !== 0x0a) throw new Error(`descriptors.binpb: unexpected tag ${tag}`);
    const len = varint();
    files.push(set.subarray(i, i + len));
    i += len;
  }
  return { 'proofbook.descriptors': { format: 'FileDescriptorSet', fileDescriptorProtos: files } } as unknown as protoLoader.PackageDefinition;
}

// ------------------------------------------------------------------------------------------ dispatcher

/** Per-call metadata both transports hand to a method: the `x-cosmos-block-height` the caller asked for. */
export interface CallMeta {
  /** State height to answer at (0 or unset = latest). */
  height?: bigint;
}
/** A method's answer: the response bytes and the height of the state that produced them (when known). */
export interface RawResult {
  value: Uint8Array;
  height?: bigint;
}
/** One unary method over raw protobuf bytes; throws GrpcStatusError for failures. */
export type RawMethod = (request: Uint8Array, meta: CallMeta) => Promise<RawResult>;

/**
 * Every method the node serves, by gRPC path ('/cosmos.bank.v1beta1.Query/Balance'), independent of transport:
 * the gRPC server (below) and the REST gateway (app/rest) both call these, so one implementation answers both.
 */
export interface Dispatcher {
  readonly methods: ReadonlyMap<string, RawMethod>;
  /** Fully-qualified names of the services served. */
  readonly services: readonly string[];
  close(): void;
}

export interface DispatcherOptions {
  query: QueryFn;
  rpcUrl: string;
  logger?: pino.Logger;
}

/** Parses an `x-cosmos-block-height` value: a non-negative decimal integer. */
export function parseHeightHeader(v: string | undefined): bigint | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^[0-9]{1,19}$/.test(v.trim())) throw invalid(`invalid x-cosmos-block-height '${v}': expected a non-negative integer`);
  return BigInt(v.trim());
}

const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function createDispatcher(opts: DispatcherOptions): Dispatcher {
  const pkg = loadPackageDefinition();
  const methods = new Map<string, RawMethod>();
  const services: string[] = [];

  // Generic Query services: raw bytes in, raw bytes out, at the height the caller asked for.
  for (const [name, def] of Object.entries(pkg).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!isService(def) || !name.endsWith('.Query')) continue;
    for (const m of Object.values(def)) {
      const path = m.path;
      methods.set(path, async (bytes, meta) => {
        let decoded: Record<string, unknown>;
        try {
          decoded = m.requestDeserialize(toBuffer(bytes)) as Record<string, unknown>;
        } catch (e) {
          throw invalid(`cannot decode the request for ${path}: ${(e as Error).message}`);
        }
        validatePageRequest(decoded.pagination as PageRequestLike | undefined);
        let res: AbciQueryResult;
        try {
          res = await opts.query(path, bytes, meta.height ?? 0n);
        } catch (e) {
          throw new GrpcStatusError(grpc.status.UNAVAILABLE, `the node did not answer ${path}: ${(e as Error).message}`);
        }
        if (res.code !== 0) throw statusFromQueryError(res);
        return { value: res.value, height: res.height };
      });
    }
    services.push(name);
  }

  // cosmos.tx.v1beta1.Service with typed (cosmjs-types) codecs.
  const txs = new TxService(opts.rpcUrl, opts.query);
  type Codec<T> = { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T };
  const typed = <Req, Res>(name: string, reqC: Codec<Req>, resC: Codec<Res>, fn: (r: Req, meta: CallMeta) => Promise<Res>): void => {
    methods.set(`/cosmos.tx.v1beta1.Service/${name}`, async (bytes, meta) => {
      let req: Req;
      try {
        req = reqC.decode(bytes);
      } catch (e) {
        throw invalid(`cannot decode ${name} request: ${(e as Error).message}`);
      }
      return { value: resC.encode(await fn(req, meta)).finish() };
    });
  };
  typed('BroadcastTx', BroadcastTxRequest, BroadcastTxResponse, (r) => txs.broadcastTx(r));
  typed('Simulate', SimulateRequest, SimulateResponse, (r) => txs.simulate(r));
  typed('GetTx', GetTxRequest, GetTxResponse, (r) => txs.getTx(r));
  typed('GetTxsEvent', GetTxsEventRequest, GetTxsEventResponse, (r) => txs.getTxsEvent(r));
  services.push('cosmos.tx.v1beta1.Service');
  services.push(...addCometServices(methods, opts));

  return { methods, services, close: () => txs.close() };
}

// ------------------------------------------------------------------------------------------ server

function isService(v: unknown): v is grpc.ServiceDefinition {
  if (typeof v !== 'object' || v === null || 'format' in v) return false;
  const first = Object.values(v)[0] as { path?: unknown } | undefined;
  return typeof first?.path === 'string';
}

const identity = (b: Buffer): Buffer => b;

export async function startGrpcServer(opts: GrpcServerOptions & { dispatcher?: Dispatcher }): Promise<GrpcServer> {
  const log = opts.logger?.child({ module: 'grpc' });
  const ownsDispatcher = opts.dispatcher === undefined;
  const dispatcher = opts.dispatcher ?? createDispatcher(opts);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });

  // One grpc-js service per served service, every method over raw bytes.
  const byService = new Map<string, [string, RawMethod][]>();
  for (const [path, fn] of dispatcher.methods) {
    const [, service, method] = /^\/([^/]+)\/([^/]+)$/.exec(path)!;
    if (!byService.has(service!)) byService.set(service!, []);
    byService.get(service!)!.push([method!, fn]);
  }
  for (const [service, list] of byService) {
    const def: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [method, fn] of list) {
      const path = `/${service}/${method}`;
      def[method] = { path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity, originalName: method };
      impl[method] = ((call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        (async () => {
          const h = call.metadata.get('x-cosmos-block-height')[0];
          const height = parseHeightHeader(h === undefined ? undefined : String(h));
          const res = await fn(new Uint8Array(call.request.buffer, call.request.byteOffset, call.request.byteLength), { height });
          if (res.height !== undefined) {
            const md = new grpc.Metadata();
            md.set('x-cosmos-block-height', res.height.toString());
            call.sendMetadata(md);
          }
          return toBuffer(res.value);
        })().then(
          (res) => cb(null, res),
          (err: unknown) => {
            const e = toServiceError(err);
            log?.debug({ method: path, code: e.code, details: e.details }, 'grpc call failed');
            cb(e, null);
          },
        );
      }) as grpc.UntypedHandleCall;
    }
    server.addService(def as grpc.ServiceDefinition, impl);
  }
  const services = [...dispatcher.services];

  new ReflectionService(reflectionPackage(), { services }).addToServer(server);

  const want = opts.address ?? DEFAULT_GRPC_ADDRESS;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(want, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  const host = want.slice(0, want.lastIndexOf(':'));
  const address = `${host}:${port}`;
  log?.info({ address, services }, 'gRPC server listening');

  let closed: Promise<void> | undefined;
  return {
    address,
    services,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        if (ownsDispatcher) dispatcher.close();
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => { clearTimeout(timer); resolve(); });
      });
      return closed;
    },
  };
}

/** A QueryFn over CometBFT JSON-RPC `abci_query` (for `proofbook start`, where the app sits behind CometBFT). */
export function rpcQuery(rpcUrl: string): QueryFn & { close(): void } {
  let comet: Promise<Comet38Client> | undefined;
  const fn = (async (path: string, data: Uint8Array, height?: bigint) => {
    comet ??= import('@cosmjs/tendermint-rpc').then(({ Comet38Client }) => Comet38Client.connect(rpcUrl));
    let c: Comet38Client;
    try {
      c = await comet;
    } catch (e) {
      comet = undefined;
      throw e;
    }
    const r = await c.abciQuery({ path, data, ...(height ? { height: Number(height) } : {}) });
    return { code: r.code ?? 0, log: r.log ?? '', value: r.value, codespace: r.codespace ?? '', height: BigInt(r.height ?? 0) };
  }) as QueryFn & { close(): void };
  fn.close = () => { comet?.then((c) => c.disconnect(), () => undefined); };
  return fn;
}
