/**
 * The request list: filtered by status and/or requester on the node (its indexes), newest first, paginated by
 * offset on the server — 25 rows per page whatever the total; the total is counted once per filter.
 */
import type { MarketRequest, RequestStatus } from '../api/types.js';
import { amount, feeAt, int, short } from '../format.js';
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

export function Requests({ params }: { params: URLSearchParams }) {
  const status = (params.get('status') ?? '') as RequestStatus | '';
  const requester = params.get('requester') ?? '';
  const page = Math.max(1, Number(params.get('page') ?? '1') | 0);
  // Rows: one offset page, newest first (live on page 1). The total (count_total walks the whole index) is asked
  // for once per filter, not on every block.
  const q = useQuery(`requests:${status}:${requester}:${page}`, async (chain) => {
    const [res, mp] = await Promise.all([
      chain.rest.requests({ requester, status: status || undefined }, { offset: (page - 1) * PAGE, limit: PAGE, reverse: true }),
      chain.rest.marketParams(),
    ]);
    return { ...res, fee: mp.params.fee_denom, height: chain.height };
  }, { live: page === 1 });
  const totalQ = useQuery(`requests-total:${status}:${requester}`, (chain) =>
    chain.rest.requests({ requester, status: status || undefined }, { limit: 1, countTotal: true }).then((r) => Number(r.pagination.total || '0')));
  const link = (over: Record<string, string>) => {
    const p = new URLSearchParams({ ...(status ? { status } : {}), ...(requester ? { requester } : {}), ...over });
    for (const [k, v] of [...p]) if (!v) p.delete(k);
    return href.requests(p.toString());
  };
  return (
    <div class="page">
      <h1>Requests{requester ? <> of <span class="mono">{short(requester)}</span></> : null}</h1>
      <nav class="filters" aria-label="status filter">
        <a class={status === '' ? 'on' : ''} href={link({ status: '', page: '' })}>all</a>
        {STATUSES.map((s) => <a key={s} class={status === s ? 'on' : ''} href={link({ status: s, page: '' })}>{s.replace('REQUEST_STATUS_', '').toLowerCase()}</a>)}
      </nav>
      <Show q={q} what="requests">
        {(d) => {
          const total = totalQ.data;
          const pages = total === undefined ? null : Math.max(1, Math.ceil(total / PAGE));
          const hasOlder = pages === null ? d.requests.length === PAGE : page < pages;
          return (
            <>
              <RequestTable requests={d.requests} height={d.height} fee={d.fee} />
              <nav class="pager" aria-label="pages">
                {page > 1 ? <a href={link({ page: String(page - 1) })} rel="prev">← newer</a> : <span />}
                <span data-pager>page {int(page)}{pages !== null ? <> of {int(pages)} · {int(total)} requests</> : null}</span>
                {hasOlder ? <a href={link({ page: String(page + 1) })} rel="next">older →</a> : <span />}
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
