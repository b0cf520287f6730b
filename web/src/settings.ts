/**
 * Which node the explorer reads. Two URLs: the REST gateway (Cosmos-style routes, default: the origin that served
 * this page, i.e. the node's API port) and the CometBFT RPC (live blocks over its websocket, tx search).
 * Precedence: ?api= / ?rpc= in the page URL (shareable), then localStorage (the settings form), then defaults.
 * The RPC default comes from the node itself: the explorer config the node serves next to the page
 * (/explorer-config.json), else the `rpc_address` in the node's node_info — on the page's hostname when local.
 */
export interface NodeSettings { api: string; rpc: string; from: 'url' | 'saved' | 'default' }

const KEY_API = 'proofbook.explorer.api';
const KEY_RPC = 'proofbook.explorer.rpc';

export function trimUrl(u: string): string { return u.trim().replace(/\/+$/, ''); }

export function validUrl(u: string): boolean {
  try { const x = new URL(u); return x.protocol === 'http:' || x.protocol === 'https:'; } catch { return false; }
}

function stored(key: string): string | null {
  try { return localStorage.getItem(key); } catch { return null; }
}

/** The page's origin when it was served over http(s) (by a node); else the devnet's default API address. */
function defaultApi(): string {
  return location.protocol === 'http:' || location.protocol === 'https:' ? location.origin : 'http://127.0.0.1:1317';
}

export function initialSettings(): NodeSettings {
  const q = new URLSearchParams(location.search);
  const qa = q.get('api');
  const qr = q.get('rpc');
  if (qa && validUrl(qa)) return { api: trimUrl(qa), rpc: qr && validUrl(qr) ? trimUrl(qr) : '', from: 'url' };
  const sa = stored(KEY_API);
  if (sa && validUrl(sa)) {
    const sr = stored(KEY_RPC);
    return { api: trimUrl(sa), rpc: sr && validUrl(sr) ? trimUrl(sr) : '', from: 'saved' };
  }
  return { api: defaultApi(), rpc: qr && validUrl(qr) ? trimUrl(qr) : '', from: 'default' };
}

/** Saves (or clears, with empty api) the node settings and reloads the page on them. */
export function saveSettings(api: string, rpc: string): void {
  try {
    if (api) localStorage.setItem(KEY_API, trimUrl(api)); else localStorage.removeItem(KEY_API);
    if (rpc) localStorage.setItem(KEY_RPC, trimUrl(rpc)); else localStorage.removeItem(KEY_RPC);
  } catch { /* private mode: the URL parameters still work */ }
  const q = new URLSearchParams(location.search);
  q.delete('api');
  q.delete('rpc');
  const search = q.toString();
  location.replace(`${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
}

/** A shareable link to the current page that names the node explicitly. */
export function shareUrl(s: NodeSettings): string {
  const q = new URLSearchParams(location.search);
  q.set('api', s.api);
  if (s.rpc) q.set('rpc', s.rpc);
  return `${location.origin}${location.pathname}?${q.toString()}${location.hash}`;
}

/** ws(s)://host:port/websocket for an http(s) RPC URL. */
export function websocketUrl(rpc: string): string {
  const u = new URL(rpc);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/websocket`;
  return u.toString();
}

/**
 * An RPC address the node reported (`tcp://0.0.0.0:26657` from node_info, or `http://127.0.0.1:26657` from the
 * explorer config) as a URL this browser can reach: a wildcard or loopback host is replaced by the API's hostname.
 */
export function reachableRpc(api: string, reported: string | undefined): string | null {
  const m = /^(?:tcp|http|https):\/\/(.*):(\d+)\/?$/.exec(reported ?? '');
  if (!m || m[2] === '0') return null;
  const host = m[1]!;
  const apiHost = new URL(api).hostname;
  const local = /^(0\.0\.0\.0|\[?::1?\]?|127\.\d+\.\d+\.\d+|localhost|)$/.test(host);
  const useHost = local ? apiHost : host;
  const wrapped = useHost.includes(':') && !useHost.startsWith('[') ? `[${useHost}]` : useHost;
  return `${reported!.startsWith('https:') ? 'https' : 'http'}://${wrapped}:${m[2]}`;
}
