/**
 * Prover: bond (bonded, locked, slashed, jail), unbondings, asks, per-circuit record (won / fulfilled / released /
 * missed, average blocks to proof), earnings from its fills, and its slash history: release slashes from its
 * transactions (tx_search) and deadline-miss slashes, which happen in FinalizeBlock, from the block events CometBFT
 * indexes (block_search, then block_results of those heights).
 */
import type { Chain } from '../chain.js';
import { amount, coinAmount, coins, int } from '../format.js';
import { useQuery } from '../hooks.js';
import { NotFoundError } from '../api/rest.js';
import { attr, blockResultsEvents, type RpcEvent } from '../api/rpc.js';
import { Addr, Card, CircuitLink, Empty, Kv, Show, href } from '../ui.js';

const EARNINGS_TXS = 100;
/** Newest blocks with a deadline miss of this prover read per refresh (block_search + one block_results each). */
const MISS_BLOCKS = 20;

export interface Slash { height: number; kind: 'released' | 'missed' | 'outraced'; requestId: string; slashed: string; tx?: string }

/** Deadline-miss slashes of `addr` in the newest MISS_BLOCKS blocks that have one, and how many such blocks exist. */
async function missSlashes(chain: Chain, addr: string): Promise<{ list: Slash[]; blocks: number }> {
  const rpc = chain.rpc!;
  const found = await rpc.call<{ blocks: { block: { header: { height: string } } }[]; total_count: string }>('block_search', {
    query: `proofbook.market.deadline_missed.prover='${addr}'`, per_page: String(MISS_BLOCKS), order_by: 'desc',
  });
  const heights = found.blocks.map((b) => b.block.header.height);
  const results = await Promise.all(heights.map((h) => rpc.call<any>('block_results', { height: h })));
  const list: Slash[] = [];
  results.forEach((r, i) => {
    for (const e of blockResultsEvents(r).blockEvents) {
      if (e.type !== 'proofbook.market.deadline_missed' || attr(e, 'prover') !== addr) continue;
      list.push({ height: Number(heights[i]), kind: 'missed', requestId: attr(e, 'request_id') ?? '', slashed: attr(e, 'slashed') ?? '0' });
    }
  });
  return { list, blocks: Number(found.total_count) };
}

interface TxHit { hash: string; height: string; tx_result: { events: RpcEvent[] } }

async function loadProver(chain: Chain, addr: string) {
  const r = chain.rest;
  const [p, asks, rep, mp, circuits] = await Promise.all([
    r.prover(addr).catch((e) => { if (e instanceof NotFoundError) return null; throw e; }),
    r.asks({ prover: addr }, { limit: 200 }),
    r.reputation(addr),
    r.marketParams(),
    r.circuits(),
  ]);
  let fills: TxHit[] = [], fillsTotal = 0, slashes: Slash[] = [], missBlocks = 0, slashError = '';
  if (chain.rpc && chain.rpcState === 'live') {
    const search = (q: string) => chain.rpc!.call<{ txs: TxHit[]; total_count: string }>('tx_search', { query: q, per_page: String(EARNINGS_TXS), order_by: 'desc' });
    const [f, rel, raced, miss] = await Promise.all([
      search(`proofbook.market.request_fulfilled.prover='${addr}'`).catch(() => ({ txs: [], total_count: '0' })),
      search(`proofbook.market.assignment_released.prover='${addr}'`).catch(() => ({ txs: [], total_count: '0' })),
      // outraced past the requester's patience: the event is in the racer's reveal tx, naming this prover
      search(`proofbook.market.assignment_outraced.prover='${addr}'`).catch(() => ({ txs: [], total_count: '0' })),
      missSlashes(chain, addr).catch((e: Error) => { slashError = e.message; return { list: [], blocks: 0 }; }),
    ]);
    fills = f.txs; fillsTotal = Number(f.total_count); missBlocks = miss.blocks;
    for (const t of rel.txs) {
      for (const e of eventsOf(t, 'proofbook.market.assignment_released', addr)) {
        slashes.push({ height: Number(t.height), kind: 'released', requestId: attr(e, 'request_id') ?? '', slashed: attr(e, 'slashed') ?? '0', tx: t.hash });
      }
    }
    for (const t of raced.txs) {
      for (const e of eventsOf(t, 'proofbook.market.assignment_outraced', addr)) {
        slashes.push({ height: Number(t.height), kind: 'outraced', requestId: attr(e, 'request_id') ?? '', slashed: attr(e, 'slashed') ?? '0', tx: t.hash });
      }
    }
    slashes.push(...miss.list);
    slashes.sort((a, b) => b.height - a.height || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  } else slashError = 'no live RPC connection';
  return { p, asks: asks.asks, rep: rep.reputations, params: mp.params, names: new Map(circuits.circuits.map((c) => [c.id, c.name])), fills, fillsTotal, slashes, missBlocks, slashError };
}

function eventsOf(t: TxHit, type: string, addr: string): RpcEvent[] {
  return t.tx_result.events.filter((e) => e.type === type && attr(e, 'prover') === addr);
}

export function ProverPage({ addr }: { addr: string }) {
  const q = useQuery(`prover:${addr}`, (c) => loadProver(c, addr), { live: true });
  return (
    <div class="page">
      <h1>Prover <span class="mono sub">{addr}</span></h1>
      <Show q={q} what={`prover ${addr}`}>
        {(d) => {
          const fee = d.params.fee_denom;
          const col = d.params.collateral_denom;
          let earned = 0n, fillsSeen = 0;
          for (const t of d.fills) for (const e of eventsOf(t, 'proofbook.market.request_fulfilled', addr)) {
            earned += BigInt(attr(e, 'price') ?? '0') - BigInt(attr(e, 'protocol_fee') ?? '0');
            fillsSeen++;
          }
          const activeByCircuit = new Map<string, bigint>();
          for (const a of d.asks) activeByCircuit.set(a.circuit_id, (activeByCircuit.get(a.circuit_id) ?? 0n) + BigInt(a.active));
          return (
            <>
              {d.p === null ? <p class="state empty">This address has no bond: it is not a prover (yet). <a href={href.account(addr)}>Its account →</a></p> : (
                <Kv rows={[
                  ['bonded', <span data-bonded>{coins(d.p.prover.bonded)}</span>],
                  ['locked', coins(d.p.prover.locked)],
                  ['free', amount(coinAmount(d.p.prover.bonded, col) - coinAmount(d.p.prover.locked, col), col)],
                  ['slashed (all time)', coins(d.p.prover.slashed)],
                  ['recent misses', int(d.p.prover.recent_misses)],
                  ['jailed', d.p.prover.jailed ? `yes, until height ${int(d.p.prover.jailed_until)}` : 'no'],
                  ['unbonding', d.p.unbonding.length === 0 ? 'none' : d.p.unbonding.map((u) => `${coins(u.amount)} at height ${int(u.completion_height)}`).join('; ')],
                  ['earnings', <span data-earnings>{amount(earned, fee)}{fillsSeen < d.fillsTotal ? ` over the newest ${fillsSeen} of ${d.fillsTotal} fills` : ` over ${fillsSeen} fills`} (price − protocol fee)</span>],
                  ['account', <a href={href.account(addr)}>balances and transactions →</a>],
                ]} />
              )}
              <Card title="Record per circuit">
                {d.rep.length === 0 ? <Empty>No assignments yet.</Empty> : (
                  <div class="scroll"><table data-table="reputation">
                    <thead><tr><th>circuit</th><th class="num">won</th><th class="num">fulfilled</th><th class="num">released</th><th class="num">missed</th><th class="num">active</th><th class="num">avg blocks to proof</th></tr></thead>
                    <tbody>{d.rep.map((x) => {
                      const active = activeByCircuit.get(x.circuit_id) ?? 0n;
                      const won = BigInt(x.fulfilled) + BigInt(x.released) + BigInt(x.missed) + active;
                      return (
                        <tr key={x.circuit_id}>
                          <td><CircuitLink id={x.circuit_id} name={d.names.get(x.circuit_id)} /></td>
                          <td class="num">{int(won)}</td><td class="num">{int(x.fulfilled)}</td><td class="num">{int(x.released)}</td>
                          <td class="num">{int(x.missed)}</td><td class="num">{int(active)}</td>
                          <td class="num">{x.fulfilled !== '0' ? (Number(x.avg_blocks_to_proof_milli) / 1000).toFixed(1) : '—'}</td>
                        </tr>
                      );
                    })}</tbody>
                  </table></div>
                )}
              </Card>
              <Card title={`Asks (${d.asks.length})`}>
                {d.asks.length === 0 ? <Empty>No live asks.</Empty> : (
                  <div class="scroll"><table data-table="asks">
                    <thead><tr><th>ask</th><th>circuit</th><th class="num">price</th><th class="num">active / capacity</th><th class="num">expires</th></tr></thead>
                    <tbody>{d.asks.map((a) => (
                      <tr key={a.id}><td>#{a.id}</td><td><CircuitLink id={a.circuit_id} name={d.names.get(a.circuit_id)} /></td><td class="num">{amount(a.price, fee)}</td>
                        <td class="num">{int(a.active)} / {int(a.capacity)}</td><td class="num">{a.expiry_height === '0' ? 'never' : int(a.expiry_height)}</td></tr>
                    ))}</tbody>
                  </table></div>
                )}
              </Card>
              <Card title="Slash history">
                <p class="muted">Releases and assignments outraced past the requester's patience or their overdue height (from the transactions that name this prover, newest {EARNINGS_TXS}) and missed deadlines (slashed at end of block: from the node's indexed block events, newest {MISS_BLOCKS} blocks{d.missBlocks > MISS_BLOCKS ? ` of ${int(d.missBlocks)}` : ''}).</p>
                {d.slashError ? <p class="state error" data-error="slashes">Slash history unavailable: {d.slashError}</p> : null}
                {d.slashes.length === 0 ? <Empty>No slashes.</Empty> : (
                  <ul class="txs" data-slashes>{d.slashes.map((s, i) => (
                    <li key={i} data-slash={s.kind} data-request={s.requestId}>height {int(s.height)}: {s.kind === 'missed' ? 'missed the deadline of' : s.kind === 'outraced' ? 'was outraced on' : 'released'} <a href={href.request(s.requestId)}>request #{s.requestId}</a>, slashed {amount(s.slashed, col)}
                      {s.tx ? <> <a class="mono" href={href.tx(s.tx)}>{s.tx.slice(0, 12)}…</a></> : <> <span class="muted">(end of block)</span></>}</li>
                  ))}</ul>
                )}
              </Card>
              <Card title="Recent fills">
                {d.fills.length === 0 ? <Empty>No fills yet.</Empty> : (
                  <ul class="txs">{d.fills.slice(0, 20).flatMap((t) => eventsOf(t, 'proofbook.market.request_fulfilled', addr).map((e, i) => (
                    <li key={`${t.hash}${i}`}>height {int(t.height)}: <a href={href.request(attr(e, 'request_id') ?? '')}>request #{attr(e, 'request_id')}</a> for {amount(attr(e, 'price') ?? '0', fee)}, {attr(e, 'blocks_to_proof')} blocks <a class="mono" href={href.tx(t.hash)}>{t.hash.slice(0, 12)}…</a></li>
                  )))}</ul>
                )}
              </Card>
            </>
          );
        }}
      </Show>
    </div>
  );
}

export function ProversPage() {
  const q = useQuery('provers', async (c) => {
    const [p, mp] = await Promise.all([c.rest.provers({ limit: 200, countTotal: true }), c.rest.marketParams()]);
    return { ...p, col: mp.params.collateral_denom };
  }, { live: true });
  return (
    <div class="page">
      <h1>Provers</h1>
      <Show q={q} what="provers">
        {(d) => d.provers.length === 0 ? <Empty>No provers have bonded yet.</Empty> : (
          <div class="scroll"><table>
            <thead><tr><th>prover</th><th class="num">bonded</th><th class="num">locked</th><th class="num">slashed</th><th>jailed</th></tr></thead>
            <tbody>{d.provers.map((p) => (
              <tr key={p.address}><td><Addr a={p.address} to="prover" /></td><td class="num">{amount(coinAmount(p.bonded, d.col), d.col)}</td>
                <td class="num">{amount(coinAmount(p.locked, d.col), d.col)}</td><td class="num">{amount(coinAmount(p.slashed, d.col), d.col)}</td><td>{p.jailed ? 'yes' : 'no'}</td></tr>
            ))}</tbody>
          </table></div>
        )}
      </Show>
    </div>
  );
}
