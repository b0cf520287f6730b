/**
 * The explorer's one connection to a node: the REST client, the RPC websocket, and what the live block stream
 * tells every page — latest height and block times, and the auctions' clearing prices per circuit: the market's
 * per-block stats over its stats window (`stats/{circuit}/history`) when a page first shows a circuit, then the
 * `proofbook.market.cleared` end-block events of every new block. A node without that query gets the cleared events
 * of its last BACKFILL_BLOCKS blocks instead.
 */
import { Rest } from './api/rest.js';
import { RpcSocket, attr, blockResultsEvents, type NewBlock, type RpcEvent, type RpcState } from './api/rpc.js';
import { reachableRpc, websocketUrl, type NodeSettings } from './settings.js';

export interface ClearingPoint { height: number; time: number; price: number; matches: number }
export interface BlockMark { height: bigint; time: number; numTxs: number }

/** Blocks of history fetched (block_results) to seed the clearing-price charts; bounded, never a full scan. */
export const BACKFILL_BLOCKS = 120;
/** Block headers fetched on open for the block time (a mean over the last ≤ 30 blocks). */
const HEADER_BLOCKS = 40;
const KEEP_BLOCKS = 600;

type Listener = () => void;

export class Chain {
  readonly rest: Rest;
  rpc: RpcSocket | null = null;
  rpcUrl = '';
  rpcState: RpcState = 'connecting';
  chainId = '';
  height = 0n;
  blocks: BlockMark[] = [];
  /** Clearing prices per circuit id, oldest first. */
  readonly clearing = new Map<string, ClearingPoint[]>();
  /** Every NewBlock seen, with when it arrived and when the screen showed it (for the latency figure). */
  readonly liveLog: { height: number; receivedAt: number; paintedAt?: number }[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly blockListeners = new Set<(b: NewBlock) => void>();
  private backfilled = false;
  private readonly history = new Map<string, Promise<void>>();
  private historyMissing = false;

  constructor(readonly settings: NodeSettings) {
    this.rest = new Rest(settings.api);
  }

  /** Finds the RPC (setting, else the node's own node_info) and opens the live stream. */
  async start(): Promise<void> {
    let rpc = this.settings.rpc;
    // Served by the node: index.html names the RPC it bound (app/explorer.ts), no request needed.
    const meta = document.querySelector('meta[name=proofbook-rpc]')?.getAttribute('content');
    if (!rpc && meta && this.settings.api === location.origin) rpc = reachableRpc(this.settings.api, meta) ?? '';
    if (!rpc && this.settings.api === location.origin) {
      // Served by the node: it says where its RPC is (the bound address, which node_info may not know).
      try {
        const res = await fetch(`${this.settings.api}/explorer-config.json`);
        if (res.ok) rpc = reachableRpc(this.settings.api, ((await res.json()) as { rpc?: string }).rpc) ?? '';
      } catch { /* fall back to node_info */ }
    }
    if (!rpc) {
      try {
        const ni = await this.rest.nodeInfo();
        this.chainId = ni.default_node_info.network;
        rpc = reachableRpc(this.settings.api, ni.default_node_info.other?.rpc_address) ?? '';
      } catch { /* the pages show the REST error themselves */ }
    }
    if (!rpc) { this.rpcState = 'down'; this.emit(); return; }
    this.rpcUrl = rpc;
    this.rpc = new RpcSocket(websocketUrl(rpc), (b) => this.onNewBlock(b), (s) => {
      this.rpcState = s;
      if (s === 'live' && !this.backfilled) { this.backfilled = true; void this.backfill(); }
      this.emit();
    });
  }

  subscribe(l: Listener): () => void { this.listeners.add(l); return () => this.listeners.delete(l); }
  onBlock(l: (b: NewBlock) => void): () => void { this.blockListeners.add(l); return () => this.blockListeners.delete(l); }
  private emit(): void { for (const l of this.listeners) l(); }

  /** Mean seconds between the recent blocks we saw, or null before two. */
  blockTime(): number | null {
    const b = this.blocks;
    if (b.length < 2) return null;
    const first = b[Math.max(0, b.length - 30)]!;
    const last = b[b.length - 1]!;
    const n = Number(last.height - first.height);
    return n > 0 ? (last.time - first.time) / 1000 / n : null;
  }

  private addBlock(height: bigint, time: number, numTxs: number): void {
    if (this.blocks.length > 0 && height <= this.blocks[this.blocks.length - 1]!.height) {
      // a backfilled block older than what the stream already delivered: insert in order
      if (this.blocks.some((b) => b.height === height)) return;
      this.blocks.push({ height, time, numTxs });
      this.blocks.sort((a, b) => (a.height < b.height ? -1 : a.height > b.height ? 1 : 0));
    } else this.blocks.push({ height, time, numTxs });
    if (this.blocks.length > KEEP_BLOCKS) this.blocks.splice(0, this.blocks.length - KEEP_BLOCKS);
  }

  /** Loads a circuit's clearing prices over the node's stats window, once per circuit (pages call it freely). */
  ensureHistory(circuitId: string): Promise<void> {
    let p = this.history.get(circuitId);
    if (!p) {
      p = this.rest.statsHistory(circuitId).then((r) => {
        const list = this.clearing.get(circuitId) ?? [];
        const have = new Set(list.map((x) => x.height));
        for (const b of r.blocks) {
          if (b.matches === '0' || b.mean_price === '' || have.has(Number(b.height))) continue;
          list.push({ height: Number(b.height), time: 0, price: Number(b.mean_price), matches: Number(b.matches) });
        }
        list.sort((a, b) => a.height - b.height);
        this.clearing.set(circuitId, list);
        this.emit();
      }, () => { this.historyMissing = true; void this.backfillEvents(); });
      this.history.set(circuitId, p);
    }
    return p;
  }

  private addClearing(height: bigint, time: number, blockEvents: RpcEvent[]): void {
    for (const e of blockEvents) {
      if (e.type !== 'proofbook.market.cleared') continue;
      const circuit = attr(e, 'circuit_id');
      const price = Number(attr(e, 'price'));
      if (!circuit || !Number.isFinite(price)) continue;
      const list = this.clearing.get(circuit) ?? [];
      if (list.some((p) => p.height === Number(height))) continue;
      list.push({ height: Number(height), time: time / 1000, price, matches: Number(attr(e, 'matches') ?? 0) });
      list.sort((a, b) => a.height - b.height);
      if (list.length > KEEP_BLOCKS) list.splice(0, list.length - KEEP_BLOCKS);
      this.clearing.set(circuit, list);
    }
  }

  private onNewBlock(b: NewBlock): void {
    if (b.height > this.height) this.height = b.height;
    const t = Date.parse(b.time);
    this.addBlock(b.height, t, b.numTxs);
    this.addClearing(b.height, t, b.blockEvents);
    this.liveLog.push({ height: Number(b.height), receivedAt: b.receivedAt });
    if (this.liveLog.length > 1000) this.liveLog.splice(0, 500);
    this.emit();
    for (const l of this.blockListeners) l(b);
  }

  /** Seeds block times from the last HEADER_BLOCKS blocks' headers. */
  private async backfill(): Promise<void> {
    const rpc = this.rpc;
    if (!rpc) return;
    try {
      const st = await rpc.call<any>('status', {});
      this.chainId ||= st.node_info?.network ?? '';
      const top = BigInt(st.sync_info.latest_block_height);
      const base = BigInt(st.sync_info.earliest_block_height || '1');
      if (top > this.height) this.height = top;
      const from = top - BigInt(BACKFILL_BLOCKS) + 1n > base ? top - BigInt(BACKFILL_BLOCKS) + 1n : base;
      this.backfillRange = { from, top };
      // Headers (time, tx count) for the block time, the mean over the last ≤ 30: the newest HEADER_BLOCKS only, two
      // `blockchain` calls (≤ 20 headers each), which share the node with the page's first queries.
      const headersFrom = top - BigInt(HEADER_BLOCKS) + 1n > from ? top - BigInt(HEADER_BLOCKS) + 1n : from;
      const metas: Promise<void>[] = [];
      for (let hi = top; hi >= headersFrom; hi -= 20n) {
        const lo = hi - 19n > headersFrom ? hi - 19n : headersFrom;
        metas.push(rpc.call<any>('blockchain', { minHeight: lo.toString(), maxHeight: hi.toString() }).then((r) => {
          for (const m of r.block_metas ?? []) this.addBlock(BigInt(m.header.height), Date.parse(m.header.time), Number(m.num_txs ?? 0));
        }));
      }
      await Promise.all(metas);
      this.emit();
      if (this.historyMissing) await this.backfillEvents();
    } catch { /* live updates still work */ }
  }

  private backfillRange: { from: bigint; top: bigint } | null = null;
  private eventsBackfilled = false;

  /** Without the stats-history query: the cleared events of the last BACKFILL_BLOCKS blocks (block_results). */
  private async backfillEvents(): Promise<void> {
    const rpc = this.rpc;
    const range = this.backfillRange;
    if (!rpc || !range || this.eventsBackfilled) return;
    this.eventsBackfilled = true;
    const heights: bigint[] = [];
    for (let h = range.from; h <= range.top; h++) heights.push(h);
    await Promise.all(heights.map(async (h) => {
      const r = await rpc.call<any>('block_results', { height: h.toString() }).catch(() => null);
      if (!r) return;
      const time = this.blocks.find((b) => b.height === h)?.time ?? Date.now();
      this.addClearing(h, time, blockResultsEvents(r).blockEvents);
    }));
    this.emit();
  }
}
