/**
 * The worker's fallback scan over the market's Requests query (circuit + status filter, key paging), bounded per tick
 * with a rotating cursor: each call reads at most `pages` pages of `limit` requests of one circuit and status, starting
 * where the previous call for that circuit and status stopped, and starts over after the last page. However many
 * requests wait, a tick costs at most pages × limit records per circuit and status, and every request is read within
 * ceil(n / (pages × limit)) calls — none starves behind the first page (the scan before this read only the first 200
 * FALLBACK requests of all circuits).
 */
/**
 * One page of the Requests query: the requests and the key of the next page (empty at the end). Generic over the
 * record type (the SDK's and the node's generated Request types differ only in their bytes fields).
 */
export type RequestsPage<R> = (q: { status: number; circuitId: string; key: Uint8Array; limit: bigint }) => Promise<{ requests: R[]; nextKey?: Uint8Array }>;

export class RotatingScan {
  /** Where the next call's first page starts, per circuit and status (absent: from the start). */
  private readonly cursors = new Map<string, Uint8Array>();

  constructor(readonly pages: number, readonly limit: bigint) {}

  /** Reads the next window of `circuitId`'s requests in `status`; at most pages × limit of them. */
  async next<R>(page: RequestsPage<R>, circuitId: string, status: number): Promise<R[]> {
    const at = `${circuitId}/${status}`;
    let key = this.cursors.get(at);
    const out: R[] = [];
    for (let i = 0; i < this.pages; i++) {
      const r = await page({ status, circuitId, key: key ?? new Uint8Array(0), limit: this.limit });
      out.push(...r.requests);
      key = r.nextKey && r.nextKey.length > 0 ? r.nextKey : undefined;
      if (key === undefined) break; // the end: the next call starts over
    }
    if (key === undefined) this.cursors.delete(at);
    else this.cursors.set(at, key);
    return out;
  }
}
