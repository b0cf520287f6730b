/**
 * Overview: chain height and block time, market activity (requests per minute, fill rate, median time to proof),
 * collateral (bonded, locked, slashed), active provers, clearing price per circuit, circuits and newest requests.
 * Every figure comes from bounded queries (newest 100 requests, the stats window, ≤ 1000 provers/asks); see
 * docs/explorer.md for how each one is computed.
 */
import type { Chain } from '../chain.js';
import { Chart, align, color } from '../chart.js';
import { amount, coinAmount, int, median, pct, seconds } from '../format.js';
import { useChain, useQuery } from '../hooks.js';
import { Card, CircuitLink, Empty, Show, Stat, href } from '../ui.js';
import { RequestTable } from './requests.js';

async function loadOverview(chain: Chain) {
  const r = chain.rest;
  const [params, stats, newest, fulfilled, provers, asks, circuits] = await Promise.all([
    r.marketParams(),
    r.stats(),
    r.requests({}, { limit: 100, reverse: true }),
    r.requests({ status: 'REQUEST_STATUS_FULFILLED' }, { limit: 100, reverse: true }),
    r.provers({ limit: 1000, countTotal: true }),
    r.asks({}, { limit: 1000 }),
    r.circuits(),
  ]);
  for (const c of circuits.circuits.slice(0, 20)) void chain.ensureHistory(c.id);
  return { params: params.params, stats: stats.stats, newest, fulfilled: fulfilled.requests, provers, asks: asks.asks, circuits: circuits.circuits };
}

export function Overview() {
  const chain = useChain();
  const q = useQuery('overview', loadOverview, { live: true });
  const bt = chain.blockTime();
  const height = chain.height;
  return (
    <div class="page">
      <h1>Market overview</h1>
      <Show q={q} what="the market">
        {(d) => {
          const fee = d.params.fee_denom;
          const col = d.params.collateral_denom;
          const h = height > 0n ? height : BigInt(d.newest.requests[0]?.submitted_height ?? '0');
          // Requests per minute: the newest ≤ 100 requests submitted in the last 10 minutes, over the blocks they span.
          const blocksPer10Min = bt ? BigInt(Math.max(1, Math.round(600 / bt))) : 600n;
          const recent = d.newest.requests.filter((x) => BigInt(x.submitted_height) > h - blocksPer10Min);
          let perMin: number | null = null;
          if (bt) {
            const oldest = recent.length === d.newest.requests.length && recent.length > 0 ? BigInt(recent[recent.length - 1]!.submitted_height) : h - blocksPer10Min;
            const spanBlocks = Number(h - oldest) + 1;
            perMin = recent.length / ((spanBlocks * bt) / 60);
          }
          let fills = 0n, expiries = 0n, slashes = 0n, win = '';
          for (const s of d.stats) { fills += BigInt(s.fills); expiries += BigInt(s.expiries); slashes += BigInt(s.slashes); win = s.window_blocks; }
          const fillRate = fills + expiries > 0n ? Number(fills) / Number(fills + expiries) : null;
          const ttp = d.fulfilled.map((x) => Number(BigInt(x.fulfilled_height) - BigInt(x.submitted_height)));
          const medBlocks = median(ttp);
          let bonded = 0n, locked = 0n, slashed = 0n, jailed = 0;
          for (const p of d.provers.provers) {
            bonded += coinAmount(p.bonded, col);
            locked += coinAmount(p.locked, col);
            slashed += coinAmount(p.slashed, col);
            if (p.jailed) jailed++;
          }
          const askers = new Set(d.asks.filter((a) => BigInt(a.expiry_height) === 0n || BigInt(a.expiry_height) >= h).map((a) => a.prover));
          const names = new Map(d.circuits.map((c) => [c.id, c.name]));
          const clearingIds = [...chain.clearing.keys()].sort();
          const priceData = align(clearingIds.map((id) => chain.clearing.get(id)!.map((p) => ({ x: p.height, y: p.price }))));
          return (
            <>
              <div class="stats">
                <Stat id="height" label="Height" value={<span data-live-height>{int(h)}</span>} hint={chain.chainId} />
                <Stat id="block-time" label="Block time" value={seconds(bt)} hint="mean of the recent blocks" />
                <Stat id="requests-per-min" label="Requests / min" value={perMin === null ? '—' : perMin.toFixed(1)} hint={d.newest.requests.length ? `newest is #${int(d.newest.requests[0]!.id)}` : 'no requests yet'} />
                <Stat id="fill-rate" label="Fill rate" value={pct(fillRate)} hint={`fills ÷ (fills + expiries), last ${int(win)} blocks`} />
                <Stat id="time-to-proof" label="Median time to proof" value={medBlocks === null ? '—' : `${medBlocks} blocks`} hint={medBlocks !== null && bt ? `≈ ${seconds(medBlocks * bt)}, submission → proof, last ${ttp.length} fills` : 'no fulfilled requests yet'} />
                <Stat id="bonded" label="Bonded collateral" value={amount(bonded, col)} hint={`${int(d.provers.pagination.total)} provers${jailed ? `, ${jailed} jailed` : ''}`} />
                <Stat id="locked" label="Locked collateral" value={amount(locked, col)} hint="backing assigned requests" />
                <Stat id="slashed" label="Slashed" value={amount(slashed, col)} hint={`all time; ${int(slashes)} slashes in the last ${int(win)} blocks`} />
                <Stat id="provers-active" label="Provers active" value={int(askers.size)} hint="with a live ask" />
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
                <RequestTable requests={d.newest.requests.slice(0, 10)} names={names} height={h} fee={fee} />
              </Card>
            </>
          );
        }}
      </Show>
    </div>
  );
}
