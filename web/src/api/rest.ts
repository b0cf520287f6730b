/**
 * The REST gateway client: typed GETs against the node's API port with a timeout, and errors a page can explain
 * (the node is unreachable, an id is unknown, the node rejected the query).
 */
import type {
  Ask, BaseAccount, BlockStats, Book, BlockResponse, Circuit, CircuitStats, Coin, MarketParams, MarketRequest, NodeInfoResponse,
  PageResponse, Prover, Reputation, RequestStatus, TxResponse, U64, UnbondingEntry,
} from './types.js';

export class NodeDownError extends Error {
  constructor(readonly url: string, cause: string) { super(`Cannot reach the node at ${url} (${cause})`); }
}
export class NotFoundError extends Error {}
export class QueryError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

const TIMEOUT_MS = 8000;

export interface Page { key?: string; offset?: number; limit?: number; countTotal?: boolean; reverse?: boolean }

function pageParams(p: Page | undefined, q: URLSearchParams): void {
  if (!p) return;
  if (p.key) q.set('pagination.key', p.key);
  if (p.offset) q.set('pagination.offset', String(p.offset));
  if (p.limit) q.set('pagination.limit', String(p.limit));
  if (p.countTotal) q.set('pagination.count_total', 'true');
  if (p.reverse) q.set('pagination.reverse', 'true');
}

/**
 * How long the slow-changing queries (market params, the circuit list) are reused: every page and every per-block
 * refresh needs them, and asking once per SLOW_TTL_MS instead takes two requests off each page load and each block.
 */
const SLOW_TTL_MS = 30_000;

export class Rest {
  private readonly slow = new Map<string, { at: number; p: Promise<unknown> }>();
  constructor(readonly base: string) {}

  /** `get` reused for SLOW_TTL_MS (a failed answer is not kept). */
  private getSlow<T>(path: string, params?: URLSearchParams): Promise<T> {
    const key = `${path}?${params?.toString() ?? ''}`;
    const hit = this.slow.get(key);
    if (hit && Date.now() - hit.at < SLOW_TTL_MS) return hit.p as Promise<T>;
    const p = this.get<T>(path, params);
    this.slow.set(key, { at: Date.now(), p });
    p.catch(() => { if (this.slow.get(key)?.p === p) this.slow.delete(key); });
    return p;
  }

  /**
   * An answer index.html's inline script asked for while the bundle loaded (the overview's first queries, same
   * origin only), taken once: later asks go to the node.
   */
  private prefetched(url: string): Promise<Response> | undefined {
    const all = (globalThis as { __pbPrefetch?: Record<string, Promise<Response>> }).__pbPrefetch;
    if (!all || !url.startsWith(`${location.origin}/`)) return undefined;
    const key = url.slice(location.origin.length);
    const p = all[key];
    delete all[key];
    return p;
  }

  async get<T>(path: string, params?: URLSearchParams): Promise<T> {
    const url = `${this.base}${path}${params && [...params.keys()].length ? `?${params.toString()}` : ''}`;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    let res: Response;
    try {
      const pre = this.prefetched(url);
      res = pre ? await pre.catch(() => fetch(url, { signal: ctl.signal, headers: { accept: 'application/json' } }))
        : await fetch(url, { signal: ctl.signal, headers: { accept: 'application/json' } });
    } catch (e) {
      throw new NodeDownError(this.base, ctl.signal.aborted ? `no answer in ${TIMEOUT_MS / 1000} s` : (e as Error).message);
    } finally {
      clearTimeout(timer);
    }
    const text = await res.text();
    let body: unknown;
    try { body = text ? JSON.parse(text) : {}; } catch {
      throw new QueryError(res.status, `${path}: the node answered ${res.status} with non-JSON (${text.slice(0, 80)}) — is ${this.base} a proofbook REST gateway?`);
    }
    if (!res.ok) {
      const b = body as { code?: number; message?: string };
      const msg = b.message ?? `HTTP ${res.status}`;
      // gRPC NotFound is code 5 (HTTP 404); older gateways answer 500 with "not found" in the message.
      if (res.status === 404 || b.code === 5 || /not ?found/i.test(msg)) throw new NotFoundError(msg);
      throw new QueryError(res.status, msg);
    }
    return body as T;
  }

  // ---- chain
  nodeInfo() { return this.get<NodeInfoResponse>('/cosmos/base/tendermint/v1beta1/node_info'); }
  latestBlock() { return this.get<BlockResponse>('/cosmos/base/tendermint/v1beta1/blocks/latest'); }
  block(height: bigint | string) { return this.get<BlockResponse>(`/cosmos/base/tendermint/v1beta1/blocks/${height}`); }
  balances(address: string) {
    return this.get<{ balances: Coin[]; pagination: PageResponse }>(`/cosmos/bank/v1beta1/balances/${encodeURIComponent(address)}`);
  }
  account(address: string) { return this.get<{ account: BaseAccount }>(`/cosmos/auth/v1beta1/accounts/${encodeURIComponent(address)}`); }
  tx(hash: string) { return this.get<{ tx_response: TxResponse }>(`/cosmos/tx/v1beta1/txs/${encodeURIComponent(hash)}`); }

  // ---- verifier
  circuits(limit = 200) {
    const q = new URLSearchParams();
    pageParams({ limit }, q);
    return this.getSlow<{ circuits: Circuit[]; pagination: PageResponse }>('/proofbook/verifier/v1/circuits', q);
  }
  circuit(id: string) { return this.get<{ circuit: Circuit }>(`/proofbook/verifier/v1/circuits/${encodeURIComponent(id)}`); }

  // ---- bond
  provers(p?: Page) {
    const q = new URLSearchParams();
    pageParams(p, q);
    return this.get<{ provers: Prover[]; pagination: PageResponse }>('/proofbook/bond/v1/provers', q);
  }
  prover(address: string) {
    return this.get<{ prover: Prover; unbonding: UnbondingEntry[] }>(`/proofbook/bond/v1/provers/${encodeURIComponent(address)}`);
  }

  // ---- market
  requests(f: { requester?: string; status?: RequestStatus }, p?: Page) {
    const q = new URLSearchParams();
    if (f.requester) q.set('requester', f.requester);
    if (f.status && f.status !== 'REQUEST_STATUS_UNSPECIFIED') q.set('status', f.status);
    pageParams(p, q);
    return this.get<{ requests: MarketRequest[]; pagination: PageResponse }>('/proofbook/market/v1/requests', q);
  }
  request(id: string) { return this.get<{ request: MarketRequest; current_fee: string }>(`/proofbook/market/v1/requests/${encodeURIComponent(id)}`); }
  book(circuitId: string) { return this.get<Book>(`/proofbook/market/v1/book/${encodeURIComponent(circuitId)}`); }
  asks(f: { prover?: string; circuitId?: string }, p?: Page) {
    const q = new URLSearchParams();
    if (f.prover) q.set('prover', f.prover);
    if (f.circuitId) q.set('circuit_id', f.circuitId);
    pageParams(p, q);
    return this.get<{ asks: Ask[]; pagination: PageResponse }>('/proofbook/market/v1/asks', q);
  }
  reputation(prover: string) { return this.get<{ reputations: Reputation[] }>(`/proofbook/market/v1/reputation/${encodeURIComponent(prover)}`); }
  stats(circuitId?: string) {
    const q = new URLSearchParams();
    if (circuitId) q.set('circuit_id', circuitId);
    return this.get<{ stats: CircuitStats[] }>('/proofbook/market/v1/stats', q);
  }
  statsHistory(circuitId: string) {
    return this.get<{ blocks: BlockStats[]; window_blocks: U64 }>(`/proofbook/market/v1/stats/${encodeURIComponent(circuitId)}/history`);
  }
  marketParams() { return this.getSlow<{ params: MarketParams }>('/proofbook/market/v1/params'); }
}
