/** Paths and loaders for the genesis circuit artifacts (genesis/circuits/hashchain, see its README). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verifyingKeyFromSnarkjs, type Groth16VerifyingKey } from './groth16.js';

const dir = fileURLToPath(new URL('../../genesis/circuits/hashchain/', import.meta.url));

export const GENESIS_CIRCUIT = {
  name: 'hashchain',
  /** Public signals: [digest, nonce]. */
  nPublic: 2,
  wasmPath: dir + 'circuit.wasm',
  zkeyPath: dir + 'circuit_final.zkey',
  verificationKeyPath: dir + 'verification_key.json',
  exampleInputPath: dir + 'input.json',
} as const;

/** The genesis circuit's verifying key, parsed and validated (not prepared: see prepareVerifyingKey). */
export function loadGenesisVerifyingKey(): Groth16VerifyingKey {
  return verifyingKeyFromSnarkjs(JSON.parse(readFileSync(GENESIS_CIRCUIT.verificationKeyPath, 'utf8')));
}

/** Example witness input for the genesis circuit: any preimage and nonce in [0, r) work. */
export function genesisInput(preimage: bigint, nonce: bigint): Record<string, string> {
  return { preimage: preimage.toString(), nonce: nonce.toString() };
}
