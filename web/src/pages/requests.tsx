/**
 * The request list: filtered by status and/or requester on the node (its indexes), newest first, paginated on the
 * server — 25 rows per page whatever the total, older/newer by the node's pagination keys, a jump to page N by
 * offset; the total is counted once per filter, after the first rows are drawn.
 */
import type { MarketRequest, RequestStatus } from '../api/types.js';
import { amount, feeAt, int, short } from '../format.js';
import { useRef } from 'preact/hooks';
import type { Chain } from '../chain.js';
import { useQuery } from '../hooks.js';
import { Addr, CircuitLink, Empty, Show, Status, href } from '../ui.js';

const PAGE = 25;
const STATUSES: RequestStatus[] = ['REQUEST_STATUS_OPEN', 'REQUEST_STATUS_ASSIGNED', 'REQUEST_STATUS_FULFILLED', 'REQUEST_STATUS_CANCELLED', 'REQUEST_STATUS_EXPIRED'];

export function RequestTable({ requests, names, height, fee }: { requests: MarketRequest[]; names?: Map<string, string>; height: bigint; fee: string }) {
  if (requests.length === 0) return <Empty>No requests.</Empty>;
  return (
    <div class="scroll"><table class="requests">
      <thead><tr><th>id</th><th>status</th><th>circuit</th><th>requester</th><th class="num">fee now / paid</th><th class="num">submitted</th><th>prover</th></tr></thead>
      <tbody>
        {requests.map((r) => (
          <tr key={r.id} data-request={r.id}>
            <td><a href={href.request(r.id)}>#{r.id}</a></td>
            <td><Status s={r.status} /></td>
            <td><CircuitLink id={r.circuit_id} name={names?.get(r.circuit_id)} /></td>
            <td><Addr a={r.requester} /></td>
            <td class="num">{r.paid_price ? amount(r.paid_price, fee) : amount(feeAt(r.min_fee, r.max_fee, BigInt(r.submitted_height), BigInt(r.ramp_blocks), height), fee)}</td>
            <td class="num">{int(r.submitted_height)}</td>
            <td>{r.assignment ? <Addr a={r.assignment.prover} to="prover" /> : <span class="muted">—</span>}</td>
          </tr>
        ))}
      </tbody>
    </table></div>
  );
}

/**
 * Which slice of the list a URL names: `page=N` alone is an offset page ((N − 1) × 25 rows skipped on the node, which
 * walks its index that far: fine near the top, and for a jump to any page); `older=KEY` is the page that starts at
 * the node's `next_key` of the page before it, `newer=KEY` the page above the one that started at KEY. The pager's
 * links use the keys, so paging through the list one page at a time costs the node one page whatever the history
 * (the page number is carried along as a label).
 */
async function loadRows(chain: Chain, f: { requester: string; status: RequestStatus | '' }, page: number, older: string, newer: string) {
  const filter = { requester: f.requester, status: f.status || undefined };
  // `startKey`: the key this page starts at (its first row's), when known: the newer page is above it.
  if (older) return { ...(await chain.rest.requests(filter, { key: older, limit: PAGE, reverse: true })), startKey: older };
  if (newer) {
    // From the first row's key upwards: the key just past PAGE rows up is where the newer page starts (newest first).
    const up = await chain.rest.requests(filter, { key: newer, limit: PAGE });
    const start = up.pagination.next_key;
    if (start) return { ...(await chain.rest.requests(filter, { key: start, limit: PAGE, reverse: true })), startKey: start };
  }
  return { ...(await chain.rest.requests(filter, { offset: (page - 1) * PAGE, limit: PAGE, reverse: true })), startKey: '' };
}

export function Requests({ params }: { params: URLSearchParams }) {
  const status = (params.get('status') ?? '') as RequestStatus | '';
  const requester = params.get('requester') ?? '';
  const older = params.get('older') ?? '';
  const newer = params.get('newer') ?? '';
  const page = Math.max(1, Number(params.get('page') ?? '1') | 0);
  // Rows: one page, newest first (live on page 1).
  const q = useQuery(`requests:${status}:${requester}:${page}:${older}:${newer}`, async (chain) => {
    const [res, mp] = await Promise.all([loadRows(chain, { requester, status }, page, older, newer), chain.rest.marketParams()]);
    return { ...res, fee: mp.params.fee_denom, height: chain.height };
  }, { live: page === 1 && !older && !newer });
  // The total (count_total walks the whole index on the node) is asked for once per filter, and only once the first
  // rows are on screen, so it never delays them.
  const rowsSeen = useRef(false);
  if (q.data) rowsSeen.current = true;
  const totalQ = useQuery(`requests-total:${status}:${requester}`, (chain) =>
    chain.rest.requests({ requester, status: status || undefined }, { limit: 1, countTotal: true }).then((r) => Number(r.pagination.total || '0')),
  { enabled: rowsSeen.current });
  const link = (over: Record<string, string>) => {
    const p = new URLSearchParams({ ...(status ? { status } : {}), ...(requester ? { requester } : {}), ...over });
    for (const [k, v] of [...p]) if (!v) p.delete(k);
    return href.requests(p.toString());
  };
  return (
    <div class="page">
      <h1>Requests{requester ? <> of <span class="mono">{short(requester)}</span></> : null}</h1>
      <nav class="filters" aria-label="status filter">
        <a class={status === '' ? 'on' : ''} href={link({ status: '' })}>all</a>
        {STATUSES.map((s) => <a key={s} class={status === s ? 'on' : ''} href={link({ status: s })}>{s.replace('REQUEST_STATUS_', '').toLowerCase()}</a>)}
      </nav>
      <Show q={q} what="requests">
        {(d) => {
          const total = totalQ.data;
          const pages = total === undefined ? null : Math.max(1, Math.ceil(total / PAGE));
          // (the node's next_key, not a full page: a requester's list filtered by status may hold fewer rows)
          const hasOlder = !!d.pagination.next_key;
          const first = d.requests[0];
          // The newer page is the one above this page's first row (by its key), else (an offset page) the previous
          // offset page.
          const newerLink = page <= 1 ? null : d.startKey ? link({ page: String(page - 1), newer: d.startKey }) : page - 1 > 1 ? link({ page: String(page - 1) }) : link({});
          return (
            <>
              <RequestTable requests={d.requests} height={d.height} fee={d.fee} />
              <nav class="pager" aria-label="pages">
                {newerLink && first ? <a href={newerLink} rel="prev">← newer</a> : <span />}
                <span data-pager>page {int(page)}{pages !== null ? <> of {int(pages)} · {int(total)} requests</> : null}</span>
                {hasOlder ? <a href={link({ page: String(page + 1), older: d.pagination.next_key! })} rel="next">older →</a> : <span />}
              </nav>
              {pages !== null && pages > 2 ? (
                <form class="jump" onSubmit={(e) => { e.preventDefault(); const v = (e.currentTarget.elements.namedItem('page') as HTMLInputElement).value; location.hash = link({ page: v }); }}>
                  <label>go to page <input name="page" type="number" min={1} max={pages} /></label> <button>go</button>
                </form>
              ) : null}
            </>
          );
        }}
      </Show>
    </div>
  );
}
