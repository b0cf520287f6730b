/** Small shared pieces: links, status badges, figures, and the loading / empty / error states every page uses. */
import type { ComponentChildren } from 'preact';
import { NodeDownError, NotFoundError } from './api/rest.js';
import { short, statusName } from './format.js';

export const href = {
  overview: () => '#/',
  circuit: (id: string) => `#/circuit/${id}`,
  request: (id: string | bigint) => `#/request/${id}`,
  requests: (q = '') => `#/requests${q ? `?${q}` : ''}`,
  prover: (a: string) => `#/prover/${a}`,
  account: (a: string) => `#/account/${a}`,
  tx: (h: string) => `#/tx/${h.toUpperCase()}`,
  search: (q: string) => `#/search?q=${encodeURIComponent(q)}`,
};

export function Addr({ a, to = 'account' }: { a: string; to?: 'account' | 'prover' }) {
  if (!a) return <span class="muted">—</span>;
  return <a class="mono" href={to === 'prover' ? href.prover(a) : href.account(a)} title={a}>{short(a)}</a>;
}

export function CircuitLink({ id, name }: { id: string; name?: string }) {
  return <a href={href.circuit(id)} title={id}>{name ? name : <span class="mono">{id.slice(0, 12)}…</span>}</a>;
}

export function Status({ s }: { s: string }) {
  const n = statusName(s);
  return <span class={`badge st-${n.toLowerCase()}`} data-status={n}>{n}</span>;
}

export function Stat({ label, value, hint, id }: { label: string; value: ComponentChildren; hint?: string; id?: string }) {
  return (
    <div class="stat" data-stat={id}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {hint ? <div class="stat-hint">{hint}</div> : null}
    </div>
  );
}

export function Card({ title, children, right }: { title: string; children: ComponentChildren; right?: ComponentChildren }) {
  return (
    <section class="card">
      <header class="card-head"><h2>{title}</h2>{right}</header>
      {children}
    </section>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <p class="state loading" role="status"><span class="spinner" aria-hidden="true" />{what}…</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

export function ErrorBox({ error, what }: { error: Error; what?: string }) {
  if (error instanceof NodeDownError) {
    return (
      <div class="state error node-down" role="alert" data-error="node-down">
        <strong>The node is not reachable.</strong>
        <p>{error.message}. Is it running? Check the address under <a href="#/settings">Node settings</a>.</p>
      </div>
    );
  }
  if (error instanceof NotFoundError) {
    return (
      <div class="state error not-found" role="alert" data-error="not-found">
        <strong>{what ? `${what} not found.` : 'Not found.'}</strong>
        <p>The node answered: {error.message}</p>
      </div>
    );
  }
  return (
    <div class="state error" role="alert" data-error="query">
      <strong>{what ? `Could not load ${what}.` : 'Something went wrong.'}</strong>
      <p>{error.message}</p>
    </div>
  );
}

/** Renders the query's data with `render`, or its loading / error state. */
export function Show<T>({ q, what, children }: { q: { data?: T; error?: Error; loading: boolean }; what?: string; children: (d: T) => ComponentChildren }) {
  if (q.data !== undefined) {
    return <>{q.error ? <p class="stale" role="status">Showing the last answer: {q.error.message}</p> : null}{children(q.data)}</>;
  }
  if (q.error) return <ErrorBox error={q.error} what={what} />;
  return <Loading what={what ? `Loading ${what}` : 'Loading'} />;
}

export function Kv({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="kv">
      {rows.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}
    </dl>
  );
}

/** Offers bytes or text as a file download. */
export function download(name: string, data: BlobPart, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
