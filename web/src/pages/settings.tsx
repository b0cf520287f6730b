/** Node settings: which REST gateway and CometBFT RPC the explorer reads, saved in localStorage or shared by URL. */
import { useState } from 'preact/hooks';
import { useChain } from '../hooks.js';
import { saveSettings, shareUrl, validUrl } from '../settings.js';

export function SettingsPage() {
  const chain = useChain();
  const [api, setApi] = useState(chain.settings.api);
  const [rpc, setRpc] = useState(chain.settings.rpc || chain.rpcUrl);
  const [err, setErr] = useState('');
  return (
    <div class="page">
      <h1>Node settings</h1>
      <p>The explorer reads only public surfaces of a node: its REST gateway and its CometBFT RPC (live blocks over the websocket, transaction search). Point it at any proofbook node.</p>
      <form class="settings" onSubmit={(e) => {
        e.preventDefault();
        if (!validUrl(api)) { setErr('The REST URL must be an http(s) URL, e.g. http://127.0.0.1:1317'); return; }
        if (rpc && !validUrl(rpc)) { setErr('The RPC URL must be an http(s) URL, e.g. http://127.0.0.1:26657'); return; }
        saveSettings(api, rpc);
      }}>
        <label>REST gateway <input name="api" value={api} onInput={(e) => setApi(e.currentTarget.value)} placeholder="http://127.0.0.1:1317" /></label>
        <label>CometBFT RPC <input name="rpc" value={rpc} onInput={(e) => setRpc(e.currentTarget.value)} placeholder="from the node's node_info" /></label>
        {err ? <p class="state error" role="alert">{err}</p> : null}
        <div class="row">
          <button class="primary" type="submit">Save and reload</button>
          <button type="button" onClick={() => saveSettings('', '')}>Reset to this page's node</button>
        </div>
      </form>
      <p>Now reading: REST <span class="mono">{chain.settings.api}</span>, RPC <span class="mono">{chain.rpcUrl || '—'}</span> ({chain.rpcState}); settings from {chain.settings.from === 'url' ? 'the page URL' : chain.settings.from === 'saved' ? 'this browser' : 'defaults'}.</p>
      <p>Link to this node for others: <a class="mono" href={shareUrl(chain.settings)}>{shareUrl(chain.settings)}</a></p>
    </div>
  );
}
