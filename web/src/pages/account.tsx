/** Account: balances, account number and sequence, its requests (server-side pages) and its latest transactions. */
import type { Chain } from '../chain.js';
import { NotFoundError } from '../api/rest.js';
import { coins, int } from '../format.js';
import { useQuery } from '../hooks.js';
import { Card, Empty, Kv, Show, href } from '../ui.js';
import { RequestTable } from './requests.js';

const ADDR_RE = /^proof1[02-9ac-hj-np-z]{38,58}$/;

async function loadAccount(chain: Chain, addr: string) {
  const r = chain.rest;
  const [bal, acc, prover, reqs, mp] = await Promise.all([
    r.balances(addr),
    r.account(addr).catch((e) => { if (e instanceof NotFoundError) return null; throw e; }),
    r.prover(addr).then(() => true, () => false),
    r.requests({ requester: addr }, { limit: 10, reverse: true, countTotal: true }),
    r.marketParams(),
  ]);
  let txs: { hash: string; height: string; tx_result: { code: number } }[] = [];
  let txTotal = 0;
  if (chain.rpc && chain.rpcState === 'live') {
    const t = await chain.rpc.call<{ txs: typeof txs; total_count: string }>('tx_search', { query: `message.sender='${addr}'`, per_page: '20', order_by: 'desc' }).catch(() => ({ txs: [], total_count: '0' }));
    txs = t.txs; txTotal = Number(t.total_count);
  }
  return { bal: bal.balances, acc: acc?.account ?? null, prover, reqs, fee: mp.params.fee_denom, txs, txTotal, height: chain.height };
}

export function AccountPage({ addr }: { addr: string }) {
  const q = useQuery(`account:${addr}`, (c) => loadAccount(c, addr), { live: true });
  if (!ADDR_RE.test(addr)) return <div class="page"><p class="state error" role="alert">“{addr}” is not a proofbook address (proof1…).</p></div>;
  return (
    <div class="page">
      <h1>Account <span class="mono sub">{addr}</span></h1>
      <Show q={q} what={`account ${addr}`}>
        {(d) => (
          <>
            <Kv rows={[
              ['balance', <span data-balance>{coins(d.bal)}</span>],
              ['account number', d.acc ? int(d.acc.account_number) : 'not on chain yet (never sent a transaction)'],
              ['sequence', d.acc ? int(d.acc.sequence) : '—'],
              ['prover', d.prover ? <a href={href.prover(addr)}>bonded prover →</a> : 'no bond'],
            ]} />
            <Card title={`Requests (${int(d.reqs.pagination.total)})`} right={<a href={href.requests(`requester=${addr}`)}>all →</a>}>
              <RequestTable requests={d.reqs.requests} height={d.height} fee={d.fee} />
            </Card>
            <Card title={`Transactions${d.txTotal ? ` (${int(d.txTotal)})` : ''}`}>
              {d.txs.length === 0 ? <Empty>No transactions sent by this account.</Empty> : (
                <ul class="txs">{d.txs.map((t) => <li key={t.hash}><span class="muted">height {int(t.height)}{t.tx_result.code ? ` · failed (code ${t.tx_result.code})` : ''}</span> <a class="mono" href={href.tx(t.hash)}>{t.hash}</a></li>)}</ul>
              )}
            </Card>
          </>
        )}
      </Show>
    </div>
  );
}
