/**
 * Search: an address (account / prover), a request id, a tx hash or circuit id (both 64 hex: both are tried), or a
 * circuit name. One exact hit opens its page; several are listed; none says what was tried.
 */
import { useEffect } from 'preact/hooks';
import { NotFoundError } from '../api/rest.js';
import type { Chain } from '../chain.js';
import { useQuery } from '../hooks.js';
import { Empty, Show, href } from '../ui.js';

interface Hit { kind: string; label: string; to: string }

const found = <T,>(p: Promise<T>): Promise<T | null> => p.catch((e) => { if (e instanceof NotFoundError) return null; throw e; });

export async function search(chain: Chain, raw: string): Promise<{ hits: Hit[]; tried: string[] }> {
  const q = raw.trim();
  const r = chain.rest;
  const hits: Hit[] = [];
  const tried: string[] = [];
  if (/^proof1[0-9a-z]{20,}$/.test(q)) {
    tried.push('address');
    const [bal, prover] = await Promise.all([found(r.balances(q)), found(r.prover(q))]);
    if (bal) hits.push({ kind: 'account', label: q, to: href.account(q) });
    if (prover) hits.push({ kind: 'prover', label: q, to: href.prover(q) });
  } else if (/^#?[0-9]+$/.test(q)) {
    const id = q.replace('#', '');
    tried.push('request id');
    const req = await found(r.request(id));
    if (req) hits.push({ kind: 'request', label: `request #${id} (${req.request.status.replace('REQUEST_STATUS_', '').toLowerCase()})`, to: href.request(id) });
  } else if (/^(0x)?[0-9a-fA-F]{64}$/.test(q)) {
    const hex = q.replace(/^0x/, '');
    tried.push('transaction hash', 'circuit id');
    const [tx, circuit] = await Promise.all([found(r.tx(hex.toUpperCase())), found(r.circuit(hex.toLowerCase()))]);
    if (tx) hits.push({ kind: 'transaction', label: `${hex.toUpperCase()} at height ${tx.tx_response.height}`, to: href.tx(hex) });
    if (circuit) hits.push({ kind: 'circuit', label: `${circuit.circuit.name} (${hex.toLowerCase()})`, to: href.circuit(hex.toLowerCase()) });
  }
  if (q && hits.length === 0) {
    tried.push('circuit name');
    const { circuits } = await r.circuits();
    const needle = q.toLowerCase();
    for (const c of circuits) if (c.name.toLowerCase().includes(needle)) hits.push({ kind: 'circuit', label: `${c.name} (${c.id.slice(0, 12)}…)`, to: href.circuit(c.id) });
  }
  return { hits, tried };
}

export function SearchPage({ q }: { q: string }) {
  const res = useQuery(`search:${q}`, (c) => search(c, q));
  useEffect(() => {
    if (res.data && res.data.hits.length === 1) location.replace(`${location.pathname}${location.search}${res.data.hits[0]!.to}`);
  }, [res.data]);
  return (
    <div class="page">
      <h1>Search “{q}”</h1>
      {!q.trim() ? <Empty>Type an address, a request id, a transaction hash, a circuit id or a circuit name in the search box.</Empty> : (
        <Show q={res} what="search results">
          {(d) => d.hits.length === 0 ? (
            <p class="state empty" data-search-empty>Nothing found for “{q}” (looked for: {d.tried.join(', ')}).</p>
          ) : (
            <ul class="hits">{d.hits.map((h) => <li key={h.to}><span class="badge">{h.kind}</span> <a href={h.to}>{h.label}</a></li>)}</ul>
          )}
        </Show>
      )}
    </div>
  );
}
