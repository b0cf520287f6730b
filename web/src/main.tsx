/**
 * The proofbook explorer: a Preact app with hash routing (#/request/42 — shareable, works from any static host),
 * reading one node's REST gateway and CometBFT RPC websocket (src/chain.ts). See docs/explorer.md.
 */
performance.mark('pb-boot'); // the bundle started running (first-paint breakdown in test/explorer.test.ts)
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { Chain } from './chain.js';
import { int } from './format.js';
import { ChainContext, afterPaint, useChain } from './hooks.js';
import { initialSettings } from './settings.js';
import { href } from './ui.js';
import { AccountPage } from './pages/account.js';
import { CircuitPage } from './pages/circuit.js';
import { Overview } from './pages/overview.js';
import { ProverPage, ProversPage } from './pages/prover.js';
import { RequestPage } from './pages/request.js';
import { Requests } from './pages/requests.js';
import { SearchPage } from './pages/search.js';
import { SettingsPage } from './pages/settings.js';
import { TxPage } from './pages/tx.js';

function parseHash(): { parts: string[]; params: URLSearchParams } {
  const h = location.hash.replace(/^#\/?/, '');
  const [path, query] = h.split('?', 2) as [string, string | undefined];
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query ?? '') };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => { setRoute(parseHash()); window.scrollTo(0, 0); };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Page({ parts, params }: { parts: string[]; params: URLSearchParams }) {
  const [a, b] = parts;
  switch (a) {
    case undefined: return <Overview />;
    case 'requests': return <Requests params={params} />;
    case 'request': return <RequestPage key={b} id={b ?? ''} />;
    case 'circuit': return <CircuitPage key={b} id={b ?? ''} />;
    case 'provers': return <ProversPage />;
    case 'prover': return <ProverPage key={b} addr={b ?? ''} />;
    case 'account': return <AccountPage key={b} addr={b ?? ''} />;
    case 'tx': return <TxPage key={b} hash={b ?? ''} />;
    case 'search': return <SearchPage key={params.get('q')} q={params.get('q') ?? ''} />;
    case 'settings': return <SettingsPage />;
    default: return <div class="page"><p class="state error" role="alert">No page at “#/{parts.join('/')}”. <a href={href.overview()}>Overview →</a></p></div>;
  }
}

/** Height and connection state; marks each block's paint time (for the block-to-screen latency figure). */
function Live() {
  const chain = useChain();
  const h = Number(chain.height);
  useEffect(() => {
    if (h === 0) return;
    afterPaint(() => {
      const e = chain.liveLog.find((x) => x.height === h);
      if (e && e.paintedAt === undefined) e.paintedAt = Date.now();
    });
  }, [h]);
  const label = chain.rpcState === 'live' ? 'live' : chain.rpcState === 'connecting' ? 'connecting' : 'offline';
  return (
    <div class={`live live-${chain.rpcState}`} data-live={chain.rpcState} title={chain.rpcUrl ? `RPC ${chain.rpcUrl}` : 'no RPC'}>
      <span class="dot" aria-hidden="true" />
      {label} {h > 0 ? <>· height <strong data-height>{int(h)}</strong></> : null}
    </div>
  );
}

function Shell() {
  const chain = useChain();
  const route = useRoute();
  const [q, setQ] = useState('');
  const top = route.parts[0] ?? '';
  return (
    <>
      <header class="top">
        <a class="brand" href={href.overview()}>proofbook<span> explorer</span></a>
        <nav class="nav">
          <a class={top === '' ? 'on' : ''} href={href.overview()}>Overview</a>
          <a class={top === 'requests' || top === 'request' ? 'on' : ''} href={href.requests()}>Requests</a>
          <a class={top === 'provers' || top === 'prover' ? 'on' : ''} href="#/provers">Provers</a>
          <a class={top === 'settings' ? 'on' : ''} href="#/settings">Node</a>
        </nav>
        <form class="search" role="search" onSubmit={(e) => { e.preventDefault(); location.hash = href.search(q.trim()); }}>
          <input name="q" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="address, request id, tx hash, circuit" aria-label="search" />
        </form>
        <Live />
      </header>
      {chain.rpcState === 'down' ? (
        <div class="banner" role="alert" data-banner="rpc-down">
          No live connection to the node's RPC{chain.rpcUrl ? <> at <span class="mono">{chain.rpcUrl}</span></> : null}: pages do not update on new blocks. Retrying… (<a href="#/settings">node settings</a>)
        </div>
      ) : null}
      <main><Page {...route} /></main>
      <footer class="foot">Reading <span class="mono">{chain.settings.api}</span> · <a href="#/settings">change node</a></footer>
    </>
  );
}

const chain = new Chain(initialSettings());
void chain.start();
(window as unknown as { __explorer: Chain }).__explorer = chain;
const root = document.getElementById('app')!;
root.textContent = '';
render(<ChainContext.Provider value={chain}><Shell /></ChainContext.Provider>, root);
