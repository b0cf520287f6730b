/**
 * Overview: chain height and block time, market activity (requests per minute, fill rate, median time to proof),
 * collateral (bonded, locked, slashed), active provers, clearing price per circuit, circuits and newest requests.
 * Every figure comes from bounded queries (newest 100 requests, the stats window, ≤ 1000 provers/asks); see
 * docs/explorer.md for how each one is computed.
 *
 * Two steps, so that the first paint waits on small answers only: first the market params, stats, the newest 10
 * requests and the circuit list (≈ 12 kB of JSON, what the header figures, the circuits and the newest-requests table
 * need); then, once those are on screen, the lists behind the other figures (newest 100 requests, newest 100 fills,
 * ≤ 1000 provers and asks: hundreds of kB with a few hundred provers), whose figures show “…” until then.
 */
import { useEffect } from 'preact/hooks';
import type { Chain } from '../chain.js';
import { Chart, align, color } from '../chart.js';
import { amount, coinAmount, int, median, pct, seconds } from '../format.js';
import { afterPaint, useChain, useQuery } from '../hooks.js';
import { Card, CircuitLink, Empty, Show, Stat, href } from '../ui.js';
import { RequestTable } from './requests.js';

async function loadOverview(chain: Chain) {
  const r = chain.rest;
  const [params, stats, newest, circuits] = await Promise.all([
    r.marketParams(),
    r.stats(),
    r.requests({}, { limit: 10, reverse: true }),
    r.circuits(),
  ]);
  for (const c of circuits.circuits.slice(0, 20)) void chain.ensureHistory(c.id);
  return { params: params.params, stats: stats.stats, newest: newest.requests, circuits: circuits.circuits };
}

/** The lists behind requests / min, time to proof, collateral and active provers (after the first paint). */
async function loadMore(chain: Chain) {
  const r = chain.rest;
  const [recent, fulfilled, provers, asks] = await Promise.all([
    r.requests({}, { limit: 100, reverse: true }),
    r.requests({ status: 'REQUEST_STATUS_FULFILLED' }, { limit: 100, reverse: true }),
    r.provers({ limit: 1000, countTotal: true }),
    r.asks({}, { limit: 1000 }),
  ]);
  return { recent: recent.requests, fulfilled: fulfilled.requests, provers, asks: asks.asks };
}

let allMarked = false;

export function Overview() {
  const chain = useChain();
  const q = useQuery('overview', loadOverview, { live: true });
  const more = useQuery('overview-more', loadMore, { live: true, enabled: q.data !== undefined });
  // Every figure drawn (read by the bench and the explorer test beside the first paint, docs/explorer.md).
  useEffect(() => { if (more.data && !allMarked) { allMarked = true; afterPaint(() => performance.mark('pb-all-data')); } }, [more.data]);
  const m = more.data;
  const pending = more.error ? <span class="muted" title={more.error.message}>error</span> : <span class="muted" data-pending>…</span>;
  const bt = chain.blockTime();
  const height = chain.height;
  return (
    <div class="page">
      <h1>Market overview</h1>
      <Show q={q} what="the market">
        {(d) => {
          const fee = d.params.fee_denom;
          const col = d.params.collateral_denom;
          const h = height > 0n ? height : BigInt(d.newest[0]?.submitted_height ?? '0');
          // Requests per minute: the newest ≤ 100 requests submitted in the last 10 minutes, over the blocks they span.
          const blocksPer10Min = bt ? BigInt(Math.max(1, Math.round(600 / bt))) : 600n;
          let perMin: number | null = null;
          if (bt && m) {
            const recent = m.recent.filter((x) => BigInt(x.submitted_height) > h - blocksPer10Min);
            const oldest = recent.length === m.recent.length && recent.length > 0 ? BigInt(recent[recent.length - 1]!.submitted_height) : h - blocksPer10Min;
            const spanBlocks = Number(h - oldest) + 1;
            perMin = recent.length / ((spanBlocks * bt) / 60);
          }
          let fills = 0n, expiries = 0n, slashes = 0n, win = '';
          for (const s of d.stats) { fills += BigInt(s.fills); expiries += BigInt(s.expiries); slashes += BigInt(s.slashes); win = s.window_blocks; }
          const fillRate = fills + expiries > 0n ? Number(fills) / Number(fills + expiries) : null;
          const ttp = m ? m.fulfilled.map((x) => Number(BigInt(x.fulfilled_height) - BigInt(x.submitted_height))) : [];
          const medBlocks = median(ttp);
          let bonded = 0n, locked = 0n, slashed = 0n, jailed = 0;
          for (const p of m?.provers.provers ?? []) {
            bonded += coinAmount(p.bonded, col);
            locked += coinAmount(p.locked, col);
            slashed += coinAmount(p.slashed, col);
            if (p.jailed) jailed++;
          }
          const askers = new Set((m?.asks ?? []).filter((a) => BigInt(a.expiry_height) === 0n || BigInt(a.expiry_height) >= h).map((a) => a.prover));
          const names = new Map(d.circuits.map((c) => [c.id, c.name]));
          const clearingIds = [...chain.clearing.keys()].sort();
          const priceData = align(clearingIds.map((id) => chain.clearing.get(id)!.map((p) => ({ x: p.height, y: p.price }))));
          return (
            <>
              <div class="stats">
                <Stat id="height" label="Height" value={<span data-live-height>{int(h)}</span>} hint={chain.chainId} />
                <Stat id="block-time" label="Block time" value={seconds(bt)} hint="mean of the recent blocks" />
                <Stat id="requests-per-min" label="Requests / min" value={!m ? pending : perMin === null ? '—' : perMin.toFixed(1)} hint={d.newest.length ? `newest is #${int(d.newest[0]!.id)}` : 'no requests yet'} />
                <Stat id="fill-rate" label="Fill rate" value={pct(fillRate)} hint={`fills ÷ (fills + expiries), last ${int(win)} blocks`} />
                <Stat id="time-to-proof" label="Median time to proof" value={!m ? pending : medBlocks === null ? '—' : `${medBlocks} blocks`} hint={medBlocks !== null && bt ? `≈ ${seconds(medBlocks * bt)}, submission → proof, last ${ttp.length} fills` : m ? 'no fulfilled requests yet' : undefined} />
                <Stat id="bonded" label="Bonded collateral" value={!m ? pending : amount(bonded, col)} hint={m ? `${int(m.provers.pagination.total)} provers${jailed ? `, ${jailed} jailed` : ''}` : undefined} />
                <Stat id="locked" label="Locked collateral" value={!m ? pending : amount(locked, col)} hint="backing assigned requests" />
                <Stat id="slashed" label="Slashed" value={!m ? pending : amount(slashed, col)} hint={`all time; ${int(slashes)} slashes in the last ${int(win)} blocks`} />
                <Stat id="provers-active" label="Provers active" value={!m ? pending : int(askers.size)} hint="with a live ask" />
              </div>
              <Card title="Clearing price per circuit">
                <Chart id="clearing-all" data={priceData} yLabel={fee} series={clearingIds.map((id, i) => ({ label: names.get(id) ?? id.slice(0, 8), color: color(i) }))} />
              </Card>
              <Card title="Circuits">
                {d.circuits.length === 0 ? <Empty>No circuits registered.</Empty> : (
                  <div class="scroll"><table>
                    <thead><tr><th>circuit</th><th class="num">constraints</th><th class="num">fills</th><th class="num">mean price</th><th class="num">mean blocks to proof</th><th class="num">slashes</th><th class="num">expiries</th></tr></thead>
                    <tbody>
                      {d.circuits.map((c) => {
                        const s = d.stats.find((x) => x.circuit_id === c.id);
                        return (
                          <tr key={c.id}>
                            <td><CircuitLink id={c.id} name={c.name} /></td>
                            <td class="num">{int(c.constraints)}</td>
                            <td class="num">{int(s?.fills ?? '0')}</td>
                            <td class="num">{s && s.fills !== '0' ? amount(s.mean_clearing_price, fee) : '—'}</td>
                            <td class="num">{s && s.fills !== '0' ? (Number(s.mean_blocks_to_proof_milli) / 1000).toFixed(1) : '—'}</td>
                            <td class="num">{int(s?.slashes ?? '0')}</td>
                            <td class="num">{int(s?.expiries ?? '0')}</td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table></div>
                )}
              </Card>
              <Card title="Newest requests" right={<a href={href.requests()}>all requests →</a>}>
                <RequestTable requests={d.newest} names={names} height={h} fee={fee} />
              </Card>
            </>
          );
        }}
      </Show>
    </div>
  );
}
