/**
 * The browser's version of platform.ts (the package's browser build swaps it in; same exports). No Node modules: the
 * websocket is the page's own, and computing public signals from an input, which needs the circuit's witness
 * generator and snarkjs, is left to the page — requests from a browser pass `expectedPublicSignals`.
 */
import type { Circuit } from '../gen-sdk/proofbook/verifier/v1/verifier.js';

export const PLATFORM = 'browser';

export async function publicSignalsOf(
  circuit: Circuit, _input: Record<string, unknown> | Uint8Array, _ctx: { nodeUrl: string; artifactDirs?: readonly string[] | undefined },
): Promise<bigint[]> {
  throw new Error(
    `computing the public signals of an input for circuit ${circuit.id} needs its witness generator and snarkjs, which the browser build of the SDK does not bundle: pass expectedPublicSignals (e.g. from snarkjs.wtns.calculate in the page) or use the SDK under Node`,
  );
}

export async function openBlockSocket(wsUrl: string, subscribe: string, onEvent: () => void): Promise<{ disconnect(): void }> {
  const sock = new WebSocket(wsUrl);
  sock.addEventListener('open', () => sock.send(subscribe));
  sock.addEventListener('message', onEvent);
  sock.addEventListener('error', () => undefined);
  return { disconnect: () => sock.close() };
}
