/**
 * Circuit: what it is, the order book (asks by price with capacity and the provers' reputation; open requests by
 * current fee with their ramp), clearing-price and latency charts, and the quote a requester would get now
 * (src/client/quote.ts, the same function the CLI's `market quote` uses).
 */
import { useState } from 'preact/hooks';
import { quote } from '../../../src/client/quote.js';
import type { Book, CircuitStats, Reputation } from '../api/types.js';
import type { Chain } from '../chain.js';
import { Chart, color } from '../chart.js';
import { amount, feeAt, int } from '../format.js';
import { useChain, useQuery } from '../hooks.js';
import { Addr, Card, Empty, Kv, Show, href } from '../ui.js';

async function loadCircuit(chain: Chain, id: string) {
  const r = chain.rest;
  const [c, book, stats, asks, open, fulfilled, mp] = await Promise.all([
    r.circuit(id),
    r.book(id),
    r.stats(id),
    r.asks({ circuitId: id }, { limit: 200 }),
    r.requests({ status: 'REQUEST_STATUS_OPEN' }, { limit: 200, reverse: true }),
    r.requests({ status: 'REQUEST_STATUS_FULFILLED' }, { limit: 200, reverse: true }),
    r.marketParams(),
  ]);
  void chain.ensureHistory(id);
  const provers = [...new Set(asks.asks.map((a) => a.prover))].slice(0, 50);
  const reps = await Promise.all(provers.map((p) => r.reputation(p).then((x) => x.reputations.find((y) => y.circuit_id === id)).catch(() => undefined)));
  const rep = new Map<string, Reputation | undefined>(provers.map((p, i) => [p, reps[i]]));
  return {
    circuit: c.circuit, book, stats: stats.stats, asks: asks.asks, rep, params: mp.params,
    open: open.requests.filter((x) => x.circuit_id === id),
    fulfilled: fulfilled.requests.filter((x) => x.circuit_id === id),
  };
}

function quoteFor(id: string, n: bigint, book: Book, stats: CircuitStats[], minFee: string) {
  // quote() takes the SDK's decoded types; only these fields are read.
  const b = {
    asks: book.asks.map((l) => ({ price: l.price, quantity: BigInt(l.quantity), orders: BigInt(l.orders) })),
    requests: book.requests.map((l) => ({ price: l.price, quantity: BigInt(l.quantity), orders: BigInt(l.orders) })),
    lastClearingPrice: book.last_clearing_price, lastClearingHeight: BigInt(book.last_clearing_height || '0'),
  };
  const s = stats.map((x) => ({ circuitId: x.circuit_id, fills: BigInt(x.fills), meanClearingPrice: x.mean_clearing_price, windowBlocks: BigInt(x.window_blocks) }));
  return quote(id, n, b, s, BigInt(minFee || '0'));
}

export function CircuitPage({ id }: { id: string }) {
  const chain = useChain();
  const [count, setCount] = useState('1');
  const q = useQuery(`circuit:${id}`, (c) => loadCircuit(c, id), { live: true });
  return (
    <div class="page">
      <Show q={q} what={`circuit ${id}`}>
        {(d) => {
          const fee = d.params.fee_denom;
          const h = chain.height;
          const n = /^[1-9][0-9]{0,5}$/.test(count) ? BigInt(count) : 1n;
          const qt = quoteFor(id, n, d.book, d.stats, d.params.min_fee);
          const asks = [...d.asks].sort((a, b) => (BigInt(a.price) < BigInt(b.price) ? -1 : BigInt(a.price) > BigInt(b.price) ? 1 : Number(BigInt(a.id) - BigInt(b.id))));
          const price = (chain.clearing.get(id) ?? []).map((p) => [p.height, p.price] as const);
          const lat = [...d.fulfilled].reverse().map((r) => {
            const assigned = [...r.history].reverse().find((e) => e.event === 'assigned');
            return [Number(r.fulfilled_height), Number(BigInt(r.fulfilled_height) - BigInt(r.submitted_height)), assigned ? Number(BigInt(r.fulfilled_height) - BigInt(assigned.height)) : null] as const;
          });
          const st = d.stats[0];
          return (
            <>
              <h1>Circuit {d.circuit.name || ''} <span class="mono sub">{id}</span></h1>
              <Kv rows={[
                ['proof system', d.circuit.proof_system.replace('PROOF_SYSTEM_', '')],
                ['constraints', int(d.circuit.constraints)],
                ['public signals', int(d.circuit.num_public_inputs)],
                ['registered at', int(d.circuit.registered_height)],
                ['owner', <Addr a={d.circuit.owner} />],
                ['last clearing', d.book.last_clearing_price ? <>{amount(d.book.last_clearing_price, fee)} at height {int(d.book.last_clearing_height)}</> : '—'],
                ['window stats', st ? `${int(st.fills)} fills, ${int(st.slashes)} slashes, ${int(st.expiries)} expiries in the last ${int(st.window_blocks)} blocks` : '—'],
                // the circuit's pace (CircuitPace): how fast its assigned provers deliver, a moving average over all its
                // assigned deliveries; what a prover without a record may be held to (overdue_race_pace_bps)
                ['pace', <span data-pace title="moving average of blocks from assignment to proof, over the proofs delivered by their assigned prover">{st && st.pace_blocks_to_proof_milli !== '0' ? `${(Number(st.pace_blocks_to_proof_milli) / 1000).toFixed(1)} blocks from assignment to proof` : '—'}</span>],
              ]} />
              <Card title="Quote: what a requester would pay now">
                <div class="quote" data-quote>
                  <label>proofs <input type="number" min={1} value={count} onInput={(e) => setCount(e.currentTarget.value)} /></label>
                  <div class="quote-figures">
                    <div><span class="muted">estimate per proof</span> <strong data-quote-estimate>{qt.estimate === null ? 'no capacity now' : amount(qt.estimate, fee)}</strong></div>
                    <div><span class="muted">suggested max fee</span> <strong>{amount(qt.suggestedMaxFee, fee)}</strong></div>
                  </div>
                  <ul class="explain">{qt.explanation.map((l, i) => <li key={i}>{l}</li>)}</ul>
                </div>
              </Card>
              <>
                <Card title={`Asks (${asks.length})`}>
                  {asks.length === 0 ? <Empty>No asks for this circuit: requests wait until a prover posts one.</Empty> : (
                    <div class="scroll"><table data-table="asks">
                      <thead><tr><th class="num">price</th><th>prover</th><th class="num">free / capacity</th><th class="num" title="fulfilled / missed / released">record f/m/r</th><th class="num" title="average blocks from assignment to proof">avg blocks</th></tr></thead>
                      <tbody>
                        {asks.map((a) => {
                          const r = d.rep.get(a.prover);
                          return (
                            <tr key={a.id} data-ask={a.id} data-prover={a.prover}>
                              <td class="num">{amount(a.price, fee)}</td>
                              <td><Addr a={a.prover} to="prover" /></td>
                              <td class="num">{int(BigInt(a.capacity) - BigInt(a.active))} / {int(a.capacity)}</td>
                              <td class="num">{r ? `${int(r.fulfilled)} / ${int(r.missed)} / ${int(r.released)}` : '0 / 0 / 0'}</td>
                              <td class="num">{r && r.fulfilled !== '0' ? (Number(r.avg_blocks_to_proof_milli) / 1000).toFixed(1) : '—'}</td>
                            </tr>
                          );
                        })}
                      </tbody>
                    </table></div>
                  )}
                </Card>
                <Card title={`Open requests (${d.open.length})`}>
                  {d.open.length === 0 ? <Empty>No open requests: every request is assigned or settled.</Empty> : (
                    <div class="scroll"><table data-table="open">
                      <thead><tr><th>id</th><th class="num">fee now</th><th class="num">ramp</th><th class="num">expires</th></tr></thead>
                      <tbody>
                        {[...d.open].sort((a, b) => {
                          const fa = feeAt(a.min_fee, a.max_fee, BigInt(a.submitted_height), BigInt(a.ramp_blocks), h);
                          const fb = feeAt(b.min_fee, b.max_fee, BigInt(b.submitted_height), BigInt(b.ramp_blocks), h);
                          return fa > fb ? -1 : fa < fb ? 1 : 0;
                        }).map((r) => (
                          <tr key={r.id}>
                            <td><a href={href.request(r.id)}>#{r.id}</a></td>
                            <td class="num">{amount(feeAt(r.min_fee, r.max_fee, BigInt(r.submitted_height), BigInt(r.ramp_blocks), h), fee)}</td>
                            <td class="num">{r.ramp_blocks === '0' ? `fixed ${amount(r.max_fee, fee)}` : `${amount(r.min_fee, fee)} → ${amount(r.max_fee, fee)} over ${int(r.ramp_blocks)} blocks`}</td>
                            <td class="num">{int(r.expiry_height)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table></div>
                  )}
                </Card>
              </>
              <Card title="Book by price level">
                <div class="two">
                  <div><h3>asks: free units</h3>{d.book.asks.length === 0 ? <Empty>none</Empty> : <table><tbody>{d.book.asks.map((l) => <tr key={l.price}><td class="num">{amount(l.price, fee)}</td><td class="num">{int(l.quantity)} units</td><td class="num">{int(l.orders)} asks</td></tr>)}</tbody></table>}</div>
                  <div><h3>requests: current fee</h3>{d.book.requests.length === 0 ? <Empty>none</Empty> : <table><tbody>{d.book.requests.map((l) => <tr key={l.price}><td class="num">{amount(l.price, fee)}</td><td class="num">{int(l.quantity)} requests</td></tr>)}</tbody></table>}</div>
                </div>
              </Card>
              <div class="two">
                <Card title="Clearing price">
                  <Chart id="clearing" data={[price.map((p) => p[0]), price.map((p) => p[1])]} yLabel={fee} series={[{ label: 'clearing price', color: color(0) }]} />
                </Card>
                <Card title="Latency (blocks)">
                  <Chart id="latency" data={[lat.map((p) => p[0]), lat.map((p) => p[1]), lat.map((p) => p[2])]} yLabel="blocks" series={[{ label: 'submission → proof', color: color(1) }, { label: 'assignment → proof', color: color(2) }]} />
                </Card>
              </div>
            </>
          );
        }}
      </Show>
    </div>
  );
}
