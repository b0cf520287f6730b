/**
 * CometBFT JSON-RPC over its websocket: a NewBlock subscription (live updates) and plain calls (block_results,
 * tx_search) on the same socket. The websocket needs no CORS, so the page can live on the API port while the RPC is
 * on another. Reconnects with back-off and re-subscribes; callers see the connection state.
 */
export interface RpcEvent { type: string; attributes: { key: string; value: string }[] }
export interface NewBlock {
  height: bigint;
  time: string;
  numTxs: number;
  /** finalize_block_events (end-block: auctions, deadline misses, expiries) and every tx's events, in order. */
  blockEvents: RpcEvent[];
  txEvents: RpcEvent[][];
  receivedAt: number;
}
export type RpcState = 'connecting' | 'live' | 'down';

interface Pending { resolve(v: unknown): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> }

const CALL_TIMEOUT_MS = 8000;
const SUB_ID = 'pb-newblock';

export class RpcSocket {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private backoff = 500;
  private closed = false;
  state: RpcState = 'connecting';
  lastError = '';

  constructor(
    readonly wsUrl: string,
    private readonly onBlock: (b: NewBlock) => void,
    private readonly onState: (s: RpcState) => void,
  ) { this.connect(); }

  private setState(s: RpcState): void {
    if (s === this.state) return;
    this.state = s;
    this.onState(s);
  }

  private connect(): void {
    if (this.closed) return;
    let ws: WebSocket;
    try { ws = new WebSocket(this.wsUrl); } catch (e) {
      this.lastError = (e as Error).message;
      this.setState('down');
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 500;
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: SUB_ID, method: 'subscribe', params: { query: "tm.event='NewBlock'" } }));
      this.setState('live');
    };
    ws.onmessage = (m) => this.onMessage(String(m.data));
    ws.onerror = () => { this.lastError = `websocket error at ${this.wsUrl}`; };
    ws.onclose = () => {
      this.ws = null;
      for (const [id, p] of this.pending) { clearTimeout(p.timer); p.reject(new Error('connection to the node closed')); this.pending.delete(id); }
      this.setState('down');
      if (!this.closed) {
        setTimeout(() => this.connect(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, 5000);
      }
    };
  }

  private onMessage(text: string): void {
    let msg: { id?: unknown; result?: unknown; error?: { message: string; data?: string } };
    try { msg = JSON.parse(text); } catch { return; }
    if (msg.id === SUB_ID) {
      const r = msg.result as { data?: { type?: string; value?: any } } | undefined;
      if (r?.data?.type === 'tendermint/event/NewBlock') this.onBlock(parseNewBlock(r.data.value));
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error) p.reject(new Error(msg.error.data || msg.error.message));
    else p.resolve(msg.result);
  }

  call<T>(method: string, params: Record<string, unknown>): Promise<T> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`not connected to the RPC at ${this.wsUrl}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`${method}: no answer in ${CALL_TIMEOUT_MS / 1000} s`)); }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Resolves once the socket is open (or rejects after `ms`). */
  ready(ms = 5000): Promise<void> {
    if (this.state === 'live') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const start = Date.now();
      const tick = () => {
        if (this.state === 'live') resolve();
        else if (Date.now() - start > ms) reject(new Error(`cannot reach the RPC websocket at ${this.wsUrl}`));
        else setTimeout(tick, 50);
      };
      tick();
    });
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }
}

function events(list: any): RpcEvent[] {
  if (!Array.isArray(list)) return [];
  return list.map((e: any) => ({
    type: String(e.type),
    attributes: Array.isArray(e.attributes) ? e.attributes.map((a: any) => ({ key: String(a.key), value: String(a.value ?? '') })) : [],
  }));
}

function parseNewBlock(v: any): NewBlock {
  const header = v?.block?.header ?? {};
  const fb = v?.result_finalize_block ?? {};
  return {
    height: BigInt(header.height ?? 0),
    time: String(header.time ?? ''),
    numTxs: Array.isArray(v?.block?.data?.txs) ? v.block.data.txs.length : 0,
    blockEvents: events(fb.events),
    txEvents: Array.isArray(fb.tx_results) ? fb.tx_results.map((r: any) => events(r?.events)) : [],
    receivedAt: Date.now(),
  };
}

/** block_results' events in the same shape (for backfilling charts from recent blocks). */
export function blockResultsEvents(r: any): { blockEvents: RpcEvent[]; txEvents: RpcEvent[][] } {
  return {
    blockEvents: events(r?.finalize_block_events),
    txEvents: Array.isArray(r?.txs_results) ? r.txs_results.map((t: any) => events(t?.events)) : [],
  };
}

export function attr(e: RpcEvent, key: string): string | undefined {
  return e.attributes.find((a) => a.key === key)?.value;
}
