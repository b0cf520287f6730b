/** Transaction: result, fee and gas, its messages as JSON, its events (with links to the requests it touched). */
import { int } from '../format.js';
import { useQuery } from '../hooks.js';
import { Card, Kv, Show, href } from '../ui.js';

export function TxPage({ hash }: { hash: string }) {
  const q = useQuery(`tx:${hash}`, (c) => c.rest.tx(hash));
  if (!/^[0-9A-Fa-f]{64}$/.test(hash)) return <div class="page"><p class="state error" role="alert">“{hash}” is not a transaction hash (64 hex characters).</p></div>;
  return (
    <div class="page">
      <h1>Transaction <span class="mono sub">{hash.toUpperCase()}</span></h1>
      <Show q={q} what={`transaction ${hash}`}>
        {({ tx_response: t }) => (
          <>
            <Kv rows={[
              ['result', t.code === 0 ? <span class="badge st-fulfilled" data-tx-ok>success</span> : <span class="badge st-expired">failed: code {t.code} ({t.codespace}) {t.raw_log}</span>],
              ['height', int(t.height)],
              ['time', t.timestamp || '—'],
              ['gas used / wanted', `${int(t.gas_used)} / ${int(t.gas_wanted)}`],
              ['fee', t.tx?.auth_info?.fee?.amount?.map((c) => `${int(c.amount)} ${c.denom}`).join(', ') || '—'],
              ['memo', t.tx?.body.memo || '—'],
            ]} />
            <Card title={`Messages (${t.tx?.body.messages.length ?? 0})`}>
              {(t.tx?.body.messages ?? []).map((m, i) => (
                <details key={i} open={i < 3}><summary class="mono">{m['@type']}</summary><pre class="code">{JSON.stringify(m, null, 1)}</pre></details>
              ))}
            </Card>
            <Card title="Events">
              <div class="scroll"><table>
                <tbody>{t.events.map((e, i) => (
                  <tr key={i}><td class="mono">{e.type}</td><td class="wrap">{e.attributes.map((a) => (
                    <span key={a.key} class="attr"><span class="muted">{a.key}</span>=
                      {a.key === 'request_id' ? <a href={href.request(a.value)}>{a.value}</a> : a.key === 'prover' ? <a href={href.prover(a.value)}>{a.value}</a> : a.value}{' '}</span>
                  ))}</td></tr>
                ))}</tbody>
              </table></div>
            </Card>
          </>
        )}
      </Show>
    </div>
  );
}
