/** Preact hooks over the Chain: re-render on live changes, and queries that refresh on every new block. */
import { createContext } from 'preact';
import { useContext, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Chain } from './chain.js';

export const ChainContext = createContext<Chain>(null as unknown as Chain);

export function useChain(): Chain {
  const chain = useContext(ChainContext);
  const [, setTick] = useState(0);
  useEffect(() => chain.subscribe(() => setTick((t) => t + 1)), [chain]);
  return chain;
}

export interface QueryState<T> { data?: T; error?: Error; loading: boolean }

let firstData = false;

/** After the next paint (two frames: committed and drawn). */
export function afterPaint(f: () => void): void {
  requestAnimationFrame(() => setTimeout(f, 0));
}

/**
 * Runs `fn` when `key` changes and, with `live`, again after each new block (one at a time: a block that arrives
 * during a fetch triggers one more). Keeps showing the last data while refreshing; the error of a refresh
 * replaces the data only if there never was any. With `enabled: false` it waits (loading) until enabled, so a page
 * asks for what its first paint does not need only once that paint's data is in.
 */
export function useQuery<T>(key: string, fn: (chain: Chain) => Promise<T>, opts: { live?: boolean; enabled?: boolean } = {}): QueryState<T> {
  const enabled = opts.enabled ?? true;
  const chain = useContext(ChainContext);
  const [state, setState] = useState<QueryState<T>>({ loading: true });
  const fnRef = useRef(fn);
  fnRef.current = fn;
  // A layout effect: the query starts right after the first render instead of after the next frame (Preact runs
  // plain effects after paint), which was ~100–300 ms of the cold first paint on a loaded machine.
  useLayoutEffect(() => {
    let cancelled = false;
    let running = false;
    let again = false;
    let first = true;
    setState({ loading: true });
    if (!enabled) return;
    const run = async (height: number | null) => {
      if (running) { again = true; return; }
      running = true;
      try {
        do {
          again = false;
          try {
            const data = await fnRef.current(chain);
            if (cancelled) return;
            setState({ data, loading: false });
            // First meaningful paint: the first page data on screen (read by the explorer test, docs/explorer.md).
            if (!firstData) { firstData = true; afterPaint(() => performance.mark('pb-first-data')); }
            if (height !== null) {
              afterPaint(() => {
                const e = chain.liveLog.find((x) => x.height === height);
                if (e && e.paintedAt !== undefined) (e as { dataAt?: number }).dataAt ??= Date.now();
              });
            }
          } catch (e) {
            if (cancelled) return;
            setState((s) => (s.data !== undefined && !first ? { ...s, loading: false, error: e as Error } : { error: e as Error, loading: false }));
          }
          first = false;
        } while (again && !cancelled);
      } finally { running = false; }
    };
    void run(null);
    const off = opts.live ? chain.onBlock((b) => void run(Number(b.height))) : () => {};
    return () => { cancelled = true; off(); };
  }, [chain, key, enabled]);
  return state;
}
