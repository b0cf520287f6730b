/**
 * Proving helper around snarkjs (for the prover worker, tests and benchmarks; never used by the state machine).
 * snarkjs' multi-threaded curve keeps the process alive until `await terminateSnarkjs()`; pass
 * `{ singleThread: true }` to avoid worker threads entirely (slower proving).
 */
import { ZkError, proofFromSnarkjs, publicSignalsFromSnarkjs, type Groth16Proof } from './groth16.js';

/** The part of snarkjs' API used here (snarkjs ships no type declarations). */
export interface SnarkjsLike {
  groth16: {
    fullProve(
      input: Record<string, unknown>,
      wasmFile: string | Uint8Array,
      zkeyFile: string | Uint8Array,
      logger?: unknown,
      wtnsCalcOptions?: unknown,
      proverOptions?: { singleThread?: boolean },
    ): Promise<{ proof: unknown; publicSignals: unknown }>;
    verify(vk: unknown, publicSignals: unknown, proof: unknown, logger?: unknown): Promise<boolean>;
  };
}

let snarkjsModule: Promise<SnarkjsLike> | undefined;

/** Loads snarkjs lazily (a variable specifier keeps TypeScript from demanding declarations). */
export function loadSnarkjs(): Promise<SnarkjsLike> {
  const specifier: string = 'snarkjs';
  snarkjsModule ??= import(specifier) as Promise<SnarkjsLike>;
  return snarkjsModule;
}

/** Stops snarkjs' shared worker-thread curve if one was started (lets the process exit). */
export async function terminateSnarkjs(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  if (g.curve_bn128) await g.curve_bn128.terminate();
}

export interface ProveResult {
  proof: Groth16Proof;
  publicSignals: bigint[];
  /** snarkjs proof.json object as produced. */
  proofJson: unknown;
  /** snarkjs public.json array (decimal strings) as produced. */
  publicJson: string[];
  /** Wall-clock milliseconds for witness generation + proving. */
  ms: number;
}

/**
 * Witness generation + Groth16 proof with snarkjs. `input` maps signal names to decimal strings, numbers or bigints.
 * Throws ZkError('malformed') when snarkjs fails (e.g. the input violates a constraint).
 */
export async function proveWithSnarkjs(
  wasmPath: string,
  zkeyPath: string,
  input: Record<string, unknown>,
  options: { singleThread?: boolean } = {},
): Promise<ProveResult> {
  const snarkjs = await loadSnarkjs();
  const start = process.hrtime.bigint();
  let out: { proof: unknown; publicSignals: unknown };
  try {
    out = await snarkjs.groth16.fullProve(input, wasmPath, zkeyPath, undefined, undefined, { singleThread: options.singleThread === true });
  } catch (e) {
    throw new ZkError('malformed', `snarkjs proving failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const publicSignals = publicSignalsFromSnarkjs(out.publicSignals);
  return {
    proof: proofFromSnarkjs(out.proof),
    publicSignals,
    proofJson: out.proof,
    publicJson: publicSignals.map((s) => s.toString()),
    ms,
  };
}
