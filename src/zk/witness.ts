/**
 * Public signals of a statement from its input, with the circuit's own witness generator (circom's circuit.wasm run
 * by snarkjs' wtns.calculate, in memory). Requesters use it to commit to the signals their proof must have
 * (MsgSubmitRequest.expected_public_signals); provers use it to preflight an assignment before accepting it.
 * Never used by the state machine. Witness generation takes milliseconds (the genesis circuit: ~50 ms cold).
 */
import { ZkError } from './groth16.js';
import { loadSnarkjs } from './prove.js';

interface WtnsApi {
  wtns: {
    calculate(input: Record<string, unknown>, wasm: string | Uint8Array, out: { type: 'mem'; data?: Uint8Array }): Promise<void>;
    exportJson(wtns: { type: 'mem'; data?: Uint8Array }): Promise<bigint[]>;
  };
}

/**
 * The first `nPublic` signals after the constant 1 of the full witness: outputs, then public inputs — exactly the
 * publicSignals snarkjs' groth16 prover emits. Throws ZkError('malformed') when the input does not satisfy the
 * circuit (a missing or non-numeric signal, a failed assertion).
 */
export async function publicSignalsFromInput(wasm: string | Uint8Array, input: Record<string, unknown>, nPublic: number): Promise<bigint[]> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new ZkError('malformed', 'the circuit input must be a JSON object');
  const snarkjs = (await loadSnarkjs()) as unknown as WtnsApi;
  const out: { type: 'mem'; data?: Uint8Array } = { type: 'mem' };
  let w: bigint[];
  try {
    await snarkjs.wtns.calculate(input, wasm, out);
    w = await snarkjs.wtns.exportJson(out);
  } catch (e) {
    throw new ZkError('malformed', `the witness generator rejects the input: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (w.length < nPublic + 1) throw new ZkError('malformed', `the witness has ${w.length} entries, fewer than 1 + ${nPublic} public signals`);
  return w.slice(1, 1 + nPublic).map((x) => BigInt(x));
}

/** Parses an inline input (UTF-8 JSON object) as a prover would; ZkError('malformed') if it is not one. */
export function parseInputJson(bytes: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new ZkError('malformed', `the input is not JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ZkError('malformed', 'the input must be a JSON object');
  return v as Record<string, unknown>;
}
