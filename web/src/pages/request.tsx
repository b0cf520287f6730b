/**
 * Request: its timeline (from the record's on-chain history: submitted → assigned → proof verified → settled, with
 * releases, misses, slashes, re-auctions, expiry and refunds), the txs that moved it (tx_search on its events),
 * input and proof downloads, and verification in this browser against the circuit's verifying key.
 */
import { useState } from 'preact/hooks';
import type { MarketRequest, StatusChange } from '../api/types.js';
import type { Chain } from '../chain.js';
import { amount, b64ToBytes, int } from '../format.js';
import { useQuery } from '../hooks.js';
import { Addr, Card, CircuitLink, Empty, Kv, Show, Status, download, href } from '../ui.js';
import { proofJsonFromChain, verifyInBrowser, type Verdict } from '../verify.js';

async function loadRequest(chain: Chain, id: string) {
  const r = chain.rest;
  const [req, mp] = await Promise.all([r.request(id), r.marketParams()]);
  const circuit = await r.circuit(req.request.circuit_id).catch(() => null);
  let txs: { hash: string; height: string; kind: string }[] = [];
  if (chain.rpc && chain.rpcState === 'live') {
    const kinds = ['request_submitted', 'request_fulfilled', 'assignment_released', 'request_cancelled'];
    const found = await Promise.all(kinds.map((k) =>
      chain.rpc!.call<{ txs: { hash: string; height: string }[] }>('tx_search', { query: `proofbook.market.${k}.request_id='${id}'`, per_page: '20', order_by: 'asc' })
        .then((x) => x.txs.map((t) => ({ hash: t.hash, height: t.height, kind: k.replace('request_', '').replace('assignment_', '') })))
        .catch(() => [])));
    txs = found.flat().sort((a, b) => Number(BigInt(a.height) - BigInt(b.height)));
  }
  return { req: req.request, currentFee: req.current_fee, fee: mp.params.fee_denom, col: mp.params.collateral_denom, circuit: circuit?.circuit ?? null, txs };
}

const LABEL: Record<string, string> = {
  submitted: 'submitted, max fee escrowed',
  assigned: 'assigned by the auction, collateral locked',
  fulfilled: 'proof verified, prover paid, rest refunded',
  released: 'released by the prover',
  outraced: "outraced: past the requester's patience or the assignment's overdue height a fallback proof came first; collateral slashed as for a release",
  slashed: 'deadline missed: collateral slashed',
  expired: 'expired, escrow refunded',
  cancelled: 'cancelled, escrow refunded',
  fallback_delivered: 'proof verified through the fallback; payment held for earlier commitments',
  fallback_payee_replaced: 'an earlier fallback commitment revealed a valid proof: paid instead',
  fallback_fulfilled: 'proof verified through the fallback, prover paid, rest refunded',
};

/** What became of the request after a release or a miss: the status the entry left it in. */
function afterLoss(e: StatusChange): string {
  if (e.event !== 'released' && e.event !== 'slashed') return '';
  return e.status === 'REQUEST_STATUS_FALLBACK' ? ' (open to any bonded prover through the fallback)'
    : e.status === 'REQUEST_STATUS_EXPIRED' ? ' (the request expired)'
    : ' (re-auctioned)';
}

function Timeline({ r, fee, col }: { r: MarketRequest; fee: string; col: string }) {
  const has = (e: string) => r.history.some((x) => x.event === e);
  // a fallback delivery whose payment is held is verified but not settled until fallback_payout_height
  const held = BigInt(r.fallback_payee_commit_id ?? '0') > 0n;
  const settled = ['REQUEST_STATUS_FULFILLED', 'REQUEST_STATUS_EXPIRED', 'REQUEST_STATUS_CANCELLED'].includes(r.status) && !held;
  const verified = has('fulfilled') || has('fallback_fulfilled') || has('fallback_delivered');
  const steps: [string, boolean][] = [['submitted', true], ['assigned', has('assigned')], ['proof verified', verified], ['settled', settled]];
  const amt = (e: StatusChange) => {
    if (!e.amount) return '';
    if (e.event === 'submitted') return e.amount.replace(/^(\d+)(\D.*)$/, (_, n: string, d: string) => amount(n, d));
    const slash = e.event === 'slashed' || e.event === 'released' || e.event === 'outraced';
    const denom = slash ? col : fee;
    const what = e.event === 'assigned' || e.event.startsWith('fallback_') && e.event !== 'fallback_fulfilled' ? 'price' : e.event === 'fulfilled' || e.event === 'fallback_fulfilled' ? 'paid' : slash ? 'slashed' : 'refund';
    return `${what} ${amount(e.amount, denom)}`;
  };
  return (
    <>
      <ol class="steps" data-steps>
        {steps.map(([s, done]) => <li key={s} class={done ? 'done' : ''}>{s}</li>)}
      </ol>
      <ol class="timeline" data-timeline>
        {r.history.map((e, i) => (
          <li key={i} class={`ev ev-${e.event}`} data-event={e.event}>
            <span class="ev-h">height {int(e.height)}</span>
            <span class="ev-what">{(LABEL[e.event] ?? e.event) + afterLoss(e)}</span>
            {e.prover ? <span class="ev-who"><Addr a={e.prover} to="prover" /></span> : null}
            <span class="ev-amt">{amt(e)}</span>
            {e.event === 'fulfilled' ? <span class="ev-amt">refund {amount(BigInt(r.max_fee) - BigInt(e.amount || '0'), fee)}</span> : null}
          </li>
        ))}
      </ol>
    </>
  );
}

function inputText(r: MarketRequest): string | null {
  if (!r.input_inline) return null;
  try { return new TextDecoder().decode(b64ToBytes(r.input_inline)); } catch { return null; }
}

function Verify({ r, vk }: { r: MarketRequest; vk: string }) {
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [busy, setBusy] = useState(false);
  const onChain = JSON.stringify(proofJsonFromChain(r.proof), null, 1);
  const [proofText, setProofText] = useState(onChain);
  const [signalsText, setSignalsText] = useState(JSON.stringify(r.public_signals));
  const run = async () => {
    setBusy(true);
    setVerdict(null);
    let proof: unknown, signals: unknown;
    try { proof = JSON.parse(proofText); signals = JSON.parse(signalsText); } catch (e) {
      setVerdict({ valid: false, reason: `not JSON: ${(e as Error).message}`, ms: 0 });
      setBusy(false);
      return;
    }
    setVerdict(await verifyInBrowser(vk, proof, signals));
    setBusy(false);
  };
  const edited = proofText !== onChain || signalsText !== JSON.stringify(r.public_signals);
  return (
    <div class="verify" data-verify>
      <p>Checks the proof with snarkjs in this page against the circuit's verifying key as stored on chain: nothing to trust but the chain's bytes. Edit the proof or the public signals to check another proof.</p>
      <div class="two">
        <label>proof.json<textarea name="proof" rows={6} value={proofText} onInput={(e) => setProofText(e.currentTarget.value)} /></label>
        <label>public signals<textarea name="signals" rows={6} value={signalsText} onInput={(e) => setSignalsText(e.currentTarget.value)} /></label>
      </div>
      <div class="row">
        <button class="primary" onClick={run} disabled={busy} data-verify-button>{busy ? 'verifying…' : edited ? 'Verify this proof' : 'Verify the on-chain proof'}</button>
        {edited ? <button onClick={() => { setProofText(onChain); setSignalsText(JSON.stringify(r.public_signals)); setVerdict(null); }}>reset to the on-chain proof</button> : null}
      </div>
      {verdict ? (
        <p class={`verdict ${verdict.valid ? 'valid' : 'invalid'}`} role="status" data-verdict={verdict.valid ? 'valid' : 'invalid'}>
          {verdict.valid ? '✔ VALID' : '✘ INVALID'} — {verdict.reason} ({verdict.ms.toFixed(0)} ms{edited ? ', edited input' : ''})
        </p>
      ) : null}
    </div>
  );
}

export function RequestPage({ id }: { id: string }) {
  const q = useQuery(`request:${id}`, (c) => loadRequest(c, id), { live: true });
  if (!/^[0-9]+$/.test(id)) return <div class="page"><p class="state error" role="alert">“{id}” is not a request id (a number).</p></div>;
  return (
    <div class="page">
      <Show q={q} what={`request ${id}`}>
        {(d) => {
          const r = d.req;
          const input = inputText(r);
          return (
            <>
              <h1>Request #{r.id} <Status s={r.status} /></h1>
              <Kv rows={[
                ['circuit', <CircuitLink id={r.circuit_id} name={d.circuit?.name} />],
                ['requester', <Addr a={r.requester} />],
                ['fee', r.ramp_blocks === '0' ? amount(r.max_fee, d.fee) : `${amount(r.min_fee, d.fee)} → ${amount(r.max_fee, d.fee)} over ${int(r.ramp_blocks)} blocks`],
                ['fee now', amount(d.currentFee, d.fee)],
                ['paid', r.paid_price ? amount(r.paid_price, d.fee) : '—'],
                ['escrow held', amount(r.escrow, d.fee)],
                ['proving window', `${int(r.proving_window)} blocks`],
                ['expires at', `height ${int(r.expiry_height)}`],
                ['min collateral', amount(r.min_collateral, d.col)],
                ['assignment', r.assignment ? <><Addr a={r.assignment.prover} to="prover" /> at {amount(r.assignment.price, d.fee)}, collateral {amount(r.assignment.collateral, d.col)}, deadline {int(r.assignment.deadline_height)}{r.assignment.overdue_height && r.assignment.overdue_height !== '0' ? <>, open to any prover's race from {int(r.assignment.overdue_height)}</> : null}</> : '—'],
                ['auctions won', int(r.assignments_count)],
              ]} />
              <Card title="Timeline"><Timeline r={r} fee={d.fee} col={d.col} /></Card>
              <Card title="Transactions">
                {d.txs.length === 0 ? <Empty>No transactions found for this request (the RPC's tx index answers these).</Empty> : (
                  <ul class="txs">{d.txs.map((t) => <li key={t.hash}><span class="muted">height {int(t.height)} · {t.kind}</span> <a class="mono" href={href.tx(t.hash)}>{t.hash.slice(0, 16)}…</a></li>)}</ul>
                )}
              </Card>
              <Card title="Input">
                {input !== null ? (
                  <>
                    <pre class="code">{input.length > 2000 ? `${input.slice(0, 2000)}…` : input}</pre>
                    <button onClick={() => download(`request-${r.id}-input.json`, input)}>download input</button>
                  </>
                ) : r.input_uri ? <p>At <a href={r.input_uri} rel="noreferrer">{r.input_uri}</a>, sha256 <span class="mono">{r.input_sha256}</span></p> : <Empty>No input.</Empty>}
              </Card>
              <Card title="Proof">
                {r.proof ? (
                  <>
                    <div class="row">
                      <button onClick={() => download(`request-${r.id}-proof.json`, JSON.stringify(proofJsonFromChain(r.proof), null, 1))}>download proof.json</button>
                      <button onClick={() => download(`request-${r.id}-public.json`, JSON.stringify(r.public_signals))}>download public.json</button>
                    </div>
                    {d.circuit ? <Verify r={r} vk={d.circuit.verifying_key} /> : <Empty>The circuit is not known to this node: cannot verify.</Empty>}
                  </>
                ) : <Empty>No proof yet{r.status === 'REQUEST_STATUS_ASSIGNED' ? ': the assigned prover is working on it' : ''}.</Empty>}
              </Card>
            </>
          );
        }}
      </Show>
    </div>
  );
}
