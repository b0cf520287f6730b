/**
 * What the SDK does differently under Node: computing a statement's public signals (the circuit's witness generator,
 * fetched by hash from the node, its URI or local directories, run by snarkjs) and the websocket waitForProof listens
 * on (`ws`, as Node 20 has no global WebSocket). Everything else in src/client is the same code in every runtime.
 *
 * The package's browser build (scripts/build-sdk.ts) replaces this module with platform.browser.ts, so nothing below
 * (node:fs, snarkjs, ws) reaches a browser bundle. Keep the two files' exports identical.
 */
import type { Circuit } from '../gen-sdk/proofbook/verifier/v1/verifier.js';

export const PLATFORM = 'node';

/** The public signals `input` proves for `circuit`, with the circuit's own witness generator (hash-checked). */
export async function publicSignalsOf(
  circuit: Circuit, input: Record<string, unknown> | Uint8Array, ctx: { nodeUrl: string; artifactDirs?: readonly string[] | undefined },
): Promise<bigint[]> {
  if (!circuit.wasm?.sha256) throw new Error(`circuit ${circuit.id} has no registered witness generator (wasm); pass expectedPublicSignals`);
  const [{ fetchArtifact }, { publicSignalsFromInput, parseInputJson }] = await Promise.all([import('./artifacts.js'), import('../zk/witness.js')]);
  const obj = input instanceof Uint8Array ? parseInputJson(input) : input;
  const wasm = await fetchArtifact(circuit.wasm, { nodeUrl: ctx.nodeUrl, searchDirs: ctx.artifactDirs });
  return publicSignalsFromInput(wasm, obj, circuit.numPublicInputs);
}

/**
 * Subscribes to CometBFT's NewBlock events on `<rpc>/websocket` and calls `onEvent` for every message. Plain `ws`,
 * closed with terminate(), so nothing keeps the process alive once the wait is over.
 */
export async function openBlockSocket(wsUrl: string, subscribe: string, onEvent: () => void): Promise<{ disconnect(): void }> {
  const { default: WebSocket } = await import('ws');
  const sock = new WebSocket(wsUrl);
  sock.on('open', () => sock.send(subscribe));
  sock.on('message', onEvent);
  sock.on('error', () => undefined);
  return { disconnect: () => sock.terminate() };
}
