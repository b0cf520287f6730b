/**
 * Verifier state layout and errors. Every key lives under the module prefix `verifier/` (ctx.store(VERIFIER_STORE_PREFIX)):
 *
 *   'c' + 32 raw id bytes -> Circuit (protobuf)   the registry; a prefix scan lists circuits in id order
 *   'p'                   -> Params  (protobuf)
 *
 * A circuit id is a hash of the proof system, the verifying key, both artifact hashes and the owner (computeCircuitId):
 * the id names the key and its artifacts, so a circuit can never change under its id and everything derived from the key (prepared keys, verdicts) can be cached
 * in memory for as long as the process lives.
 */
import { createHash } from 'node:crypto';
import { registerError, GRPC } from '../../src/framework/errors.js';
import { bytesToKey, type Key } from '../../src/store/kv.js';
import { Params, ProofSystem } from '../../src/gen/proofbook/verifier/v1/verifier.js';
import { NATIVE_DENOM } from '../../src/types/coins.js';
import { MAX_PUBLIC_SIGNALS } from '../../src/zk/groth16.js';
import { isHex64 } from '../../src/types/hex.js';

export const VERIFIER_MODULE_NAME = 'verifier';
export const VERIFIER_STORE_PREFIX = 'verifier/';
/** Module account holding registration deposits. */
export const VERIFIER_MODULE_ACCOUNT = 'verifier';

export const CIRCUIT_PREFIX = 'c';
export const PARAMS_KEY = 'p';

export const MAX_CIRCUIT_NAME = 64;
export const MAX_URI_LENGTH = 1024;
/** Size of a Groth16 VK with the most public signals src/zk accepts: 448 + 4 + 64 * (256 + 1). */
export const MAX_GROTH16_VK_BYTES = 452 + 64 * (MAX_PUBLIC_SIGNALS + 1);

export const DEFAULT_PARAMS: Params = {
  registrationDeposit: [{ denom: NATIVE_DENOM, amount: '1000000' }],
  verifyGasBase: 150_000n,
  verifyGasPerInput: 5_000n,
  maxVerifyingKeyBytes: BigInt(MAX_GROTH16_VK_BYTES),
  // The proof caps bound the pairing work one block can carry (issue 10 item 4). Set from `npm run bench --
  // adversarial` on the 2-core reference machine: a batch of only invalid proofs (bisection's worst case) costs
  // ~8.4 ms per proof idle and ~16 ms under load, so 16 proofs are ≤ ~270 ms of a ≤ 1 s block even loaded. That caps
  // throughput at 16 verified proofs per block (docs/performance.md); operators on faster hardware raise these.
  maxProofsPerTx: 16n,
  maxProofsPerBlock: 16n,
  // 16 proofs of up to 16 public signals: 16 * (150,000 + 16 * 5,000) = 3,680,000. Circuits with more signals get
  // fewer proofs per block (a 256-signal proof costs 1,430,000), in proportion to their larger multi-scalar products.
  maxVerifyGasPerBlock: 3_680_000n,
};

/** The proof-work caps in force: a stored 0 (a record written before the caps existed) means the default. */
export function proofCaps(p: Params): { perTx: bigint; perBlock: bigint; gasPerBlock: bigint } {
  return {
    perTx: p.maxProofsPerTx || DEFAULT_PARAMS.maxProofsPerTx,
    perBlock: p.maxProofsPerBlock || DEFAULT_PARAMS.maxProofsPerBlock,
    gasPerBlock: p.maxVerifyGasPerBlock || DEFAULT_PARAMS.maxVerifyGasPerBlock,
  };
}

// ---- errors (codespace 'verifier') --------------------------------------------------------------------------------

export const VERIFIER_CODESPACE = 'verifier';
export const ErrInvalidCircuit = registerError(VERIFIER_CODESPACE, 2, 'invalid circuit registration');
export const ErrInvalidVerifyingKey = registerError(VERIFIER_CODESPACE, 3, 'invalid verifying key');
export const ErrUnsupportedProofSystem = registerError(VERIFIER_CODESPACE, 4, 'proof system not supported', GRPC.Unimplemented);
export const ErrCircuitExists = registerError(VERIFIER_CODESPACE, 5, 'circuit already registered', GRPC.AlreadyExists);
export const ErrUnknownCircuit = registerError(VERIFIER_CODESPACE, 6, 'unknown circuit', GRPC.NotFound);
export const ErrInvalidProof = registerError(VERIFIER_CODESPACE, 7, 'undecodable proof');
export const ErrWrongSignalCount = registerError(VERIFIER_CODESPACE, 8, 'wrong number of public signals');
export const ErrVerifyingKeyTooLarge = registerError(VERIFIER_CODESPACE, 9, 'verifying key too large');
export const ErrBackendNotReady = registerError(VERIFIER_CODESPACE, 10, 'verifier backend not initialized', GRPC.Internal);

// ---- ids and keys -------------------------------------------------------------------------------------------------

/** What a circuit id commits to besides the proof system and verifying key (issue 10 item 7: no squatting). */
export interface CircuitBinding {
  /** hex sha256 of the witness generator (wasm) and of the proving key (zkey), as registered. */
  wasmSha256: string;
  provingKeySha256: string;
  /** The registrant (bech32), who owns the record. */
  owner: string;
}

const CIRCUIT_ID_DOMAIN = 'proofbook/circuit-id/v2';

/**
 * hex sha256(domain || u32 BE proof_system || u32 BE len || verifying_key || wasm sha256 || proving_key sha256 ||
 * u32 BE len || owner). The id commits to the key, to both artifacts and to the author: a front-runner copying a
 * pending registration (or registering the same key with other artifacts) gets a record under another id, never
 * the author's, and nobody can attach other artifacts to an id.
 */
export function computeCircuitId(proofSystem: ProofSystem, verifyingKey: Uint8Array, b: CircuitBinding): string {
  const u32 = (n: number) => {
    const x = Buffer.alloc(4);
    x.writeUInt32BE(n >>> 0, 0);
    return x;
  };
  const owner = Buffer.from(b.owner, 'utf8');
  return createHash('sha256')
    .update(CIRCUIT_ID_DOMAIN)
    .update(u32(proofSystem))
    .update(u32(verifyingKey.length))
    .update(verifyingKey)
    .update(Buffer.from(b.wasmSha256, 'utf8'))
    .update(Buffer.from(b.provingKeySha256, 'utf8'))
    .update(u32(owner.length))
    .update(owner)
    .digest('hex');
}

/** The id of a circuit record (or registration) from its own fields. */
export function circuitIdOf(c: { proofSystem: ProofSystem; verifyingKey: Uint8Array; wasm?: { sha256: string }; provingKey?: { sha256: string }; owner: string }): string {
  return computeCircuitId(c.proofSystem, c.verifyingKey, { wasmSha256: c.wasm?.sha256 ?? '', provingKeySha256: c.provingKey?.sha256 ?? '', owner: c.owner });
}

export function circuitKey(id: string): Key {
  if (!isHex64(id)) throw new Error(`circuit id must be 64 lowercase hex characters, got ${JSON.stringify(id)}`);
  return CIRCUIT_PREFIX + bytesToKey(Buffer.from(id, 'hex'));
}

export function proofSystemName(ps: ProofSystem): string {
  switch (ps) {
    case ProofSystem.PROOF_SYSTEM_GROTH16_BN254:
      return 'PROOF_SYSTEM_GROTH16_BN254';
    case ProofSystem.PROOF_SYSTEM_PLONK_BN254:
      return 'PROOF_SYSTEM_PLONK_BN254';
    case ProofSystem.PROOF_SYSTEM_FFLONK_BN254:
      return 'PROOF_SYSTEM_FFLONK_BN254';
    case ProofSystem.PROOF_SYSTEM_UNSPECIFIED:
      return 'PROOF_SYSTEM_UNSPECIFIED';
    default:
      return `UNKNOWN(${String(ps)})`;
  }
}
