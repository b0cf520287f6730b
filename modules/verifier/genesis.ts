/**
 * Verifier genesis (JSON, Cosmos-style snake_case, uint64 as decimal strings, bytes as base64):
 *
 *   { "params": { "registration_deposit": [{ "denom": "uproof", "amount": "1000000" }], "verify_gas_base": "150000",
 *                 "verify_gas_per_input": "5000", "max_verifying_key_bytes": "16900" },
 *     "circuits": [{ "id": "<64 hex>", "name": "hashchain", "proof_system": "PROOF_SYSTEM_GROTH16_BN254",
 *                    "verifying_key": "<base64>", "constraints": "4741", "num_public_inputs": 2,
 *                    "wasm": { "sha256": "<64 hex>", "uri": "/artifacts/<sha256>", "size": "1780569" },
 *                    "proving_key": { … }, "owner": "proof1…", "registered_height": "0", "deposit": [] }] }
 *
 * The default genesis registers the repository's genesis circuit (genesis/circuits/hashchain), owned by the verifier
 * module account with no deposit, its artifacts served by every node at /artifacts/<sha256> (app/artifacts.ts).
 * initGenesis validates everything (including the verifying key's subgroup checks, so the pairing backend must be
 * initialized) before writing anything; exportGenesis lists circuits in id order, so export → init → export is the identity.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Context } from '../../src/framework/context.js';
import { isJsonObject } from '../../src/framework/proto-json.js';
import { AppError } from '../../src/framework/errors.js';
import { moduleAddress, parseAddress } from '../../src/crypto/address.js';
import { Circuit, Params, ProofSystem, proofSystemFromJSON, type Artifact } from '../../src/gen/proofbook/verifier/v1/verifier.js';
import { encodeVerifyingKey, verifyingKeyFromSnarkjs } from '../../src/zk/groth16.js';
import { GENESIS_CIRCUIT } from '../../src/zk/genesis.js';
import type { VerifierKeeperImpl } from './keeper.js';
import { prepareChecked, protoCoins, validateCircuitFields } from './keeper.js';
import { DEFAULT_PARAMS, VERIFIER_MODULE_ACCOUNT, circuitIdOf, proofSystemName } from './keys.js';

export interface ArtifactJson {
  sha256: string;
  uri: string;
  size: string;
}
export interface CoinJson {
  denom: string;
  amount: string;
}
export interface ParamsJson {
  registration_deposit: CoinJson[];
  verify_gas_base: string;
  verify_gas_per_input: string;
  max_verifying_key_bytes: string;
  max_proofs_per_tx?: string;
  max_proofs_per_block?: string;
  max_verify_gas_per_block?: string;
}
export interface CircuitJson {
  id: string;
  name: string;
  proof_system: string;
  verifying_key: string;
  constraints: string;
  num_public_inputs: number;
  wasm: ArtifactJson;
  proving_key: ArtifactJson;
  owner: string;
  registered_height: string;
  deposit: CoinJson[];
}
export interface VerifierGenesis {
  params: ParamsJson;
  circuits: CircuitJson[];
}

/** Constraint count of the genesis circuit (genesis/circuits/hashchain/README.md: 4,741 non-linear constraints). */
export const GENESIS_CIRCUIT_CONSTRAINTS = 4741n;

// ---- JSON <-> protobuf ---------------------------------------------------------------------------------------------

export function paramsToJson(p: Params): ParamsJson {
  return {
    registration_deposit: p.registrationDeposit.map((c) => ({ denom: c.denom, amount: c.amount })),
    verify_gas_base: p.verifyGasBase.toString(),
    verify_gas_per_input: p.verifyGasPerInput.toString(),
    max_verifying_key_bytes: p.maxVerifyingKeyBytes.toString(),
    max_proofs_per_tx: p.maxProofsPerTx.toString(),
    max_proofs_per_block: p.maxProofsPerBlock.toString(),
    max_verify_gas_per_block: p.maxVerifyGasPerBlock.toString(),
  };
}

const artifactToJson = (a: Artifact | undefined): ArtifactJson => ({ sha256: a?.sha256 ?? '', uri: a?.uri ?? '', size: (a?.size ?? 0n).toString() });

export function circuitToJson(c: Circuit): CircuitJson {
  return {
    id: c.id,
    name: c.name,
    proof_system: proofSystemName(c.proofSystem),
    verifying_key: Buffer.from(c.verifyingKey).toString('base64'),
    constraints: c.constraints.toString(),
    num_public_inputs: c.numPublicInputs,
    wasm: artifactToJson(c.wasm),
    proving_key: artifactToJson(c.provingKey),
    owner: c.owner,
    registered_height: c.registeredHeight.toString(),
    deposit: c.deposit.map((d) => ({ denom: d.denom, amount: d.amount })),
  };
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new Error(`verifier genesis: ${where}: unknown field '${k}' (expected ${allowed.join(', ')})`);
}

function u64(v: unknown, where: string): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(v) || BigInt(v) > 0xffffffffffffffffn) {
    throw new Error(`verifier genesis: ${where} must be a uint64 decimal string, got ${JSON.stringify(v)}`);
  }
  return BigInt(v);
}

function coinList(v: unknown, where: string): { denom: string; amount: string }[] {
  if (!Array.isArray(v)) throw new Error(`verifier genesis: ${where} must be an array of {denom, amount}`);
  const out = v.map((c, i) => {
    if (!isJsonObject(c) || typeof c.denom !== 'string' || typeof c.amount !== 'string') throw new Error(`verifier genesis: ${where}[${i}] must be {denom, amount} strings`);
    return { denom: c.denom, amount: c.amount };
  });
  try {
    protoCoins(out, where);
  } catch (e) {
    throw new Error(`verifier genesis: ${(e as Error).message}`);
  }
  return out;
}

function artifactFromJson(v: unknown, where: string): Artifact {
  if (!isJsonObject(v)) throw new Error(`verifier genesis: ${where} must be an object {sha256, uri, size}`);
  onlyKeys(v, ['sha256', 'uri', 'size'], where);
  if (typeof v.sha256 !== 'string' || typeof v.uri !== 'string') throw new Error(`verifier genesis: ${where}.sha256 and .uri must be strings`);
  return { sha256: v.sha256, uri: v.uri, size: u64(v.size, `${where}.size`) };
}

export function paramsFromJson(v: unknown): Params {
  if (!isJsonObject(v)) throw new Error('verifier genesis: params must be an object');
  onlyKeys(v, ['registration_deposit', 'verify_gas_base', 'verify_gas_per_input', 'max_verifying_key_bytes', 'max_proofs_per_tx', 'max_proofs_per_block', 'max_verify_gas_per_block'], 'params');
  const p: Params = {
    registrationDeposit: coinList(v.registration_deposit ?? [], 'params.registration_deposit'),
    verifyGasBase: u64(v.verify_gas_base, 'params.verify_gas_base'),
    verifyGasPerInput: u64(v.verify_gas_per_input, 'params.verify_gas_per_input'),
    maxVerifyingKeyBytes: u64(v.max_verifying_key_bytes, 'params.max_verifying_key_bytes'),
    // Absent (older genesis files): the defaults.
    maxProofsPerTx: v.max_proofs_per_tx === undefined ? DEFAULT_PARAMS.maxProofsPerTx : u64(v.max_proofs_per_tx, 'params.max_proofs_per_tx'),
    maxProofsPerBlock: v.max_proofs_per_block === undefined ? DEFAULT_PARAMS.maxProofsPerBlock : u64(v.max_proofs_per_block, 'params.max_proofs_per_block'),
    maxVerifyGasPerBlock: v.max_verify_gas_per_block === undefined ? DEFAULT_PARAMS.maxVerifyGasPerBlock : u64(v.max_verify_gas_per_block, 'params.max_verify_gas_per_block'),
  };
  if (p.maxVerifyingKeyBytes === 0n) throw new Error('verifier genesis: params.max_verifying_key_bytes must be positive');
  return p;
}

const CIRCUIT_FIELDS = ['id', 'name', 'proof_system', 'verifying_key', 'constraints', 'num_public_inputs', 'wasm', 'proving_key', 'owner', 'registered_height', 'deposit'] as const;

/**
 * Parses and validates one circuit entry (everything but the pairing-backend subgroup checks). params.max_verifying_key_bytes
 * limits new registrations only, so exported state stays importable after the limit is lowered.
 */
export function circuitFromJson(v: unknown, where: string): Circuit {
  if (!isJsonObject(v)) throw new Error(`verifier genesis: ${where} must be an object`);
  onlyKeys(v, CIRCUIT_FIELDS, where);
  if (typeof v.verifying_key !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v.verifying_key)) throw new Error(`verifier genesis: ${where}.verifying_key must be base64`);
  const proofSystem = proofSystemFromJSON(v.proof_system);
  const c: Circuit = {
    id: typeof v.id === 'string' ? v.id : '',
    name: typeof v.name === 'string' ? v.name : '',
    proofSystem: proofSystem === ProofSystem.UNRECOGNIZED ? ProofSystem.PROOF_SYSTEM_UNSPECIFIED : proofSystem,
    verifyingKey: Buffer.from(v.verifying_key, 'base64'),
    constraints: u64(v.constraints, `${where}.constraints`),
    numPublicInputs: typeof v.num_public_inputs === 'number' && Number.isSafeInteger(v.num_public_inputs) ? v.num_public_inputs : -1,
    wasm: artifactFromJson(v.wasm, `${where}.wasm`),
    provingKey: artifactFromJson(v.proving_key, `${where}.proving_key`),
    owner: typeof v.owner === 'string' ? v.owner : '',
    registeredHeight: u64(v.registered_height, `${where}.registered_height`),
    deposit: coinList(v.deposit ?? [], `${where}.deposit`),
  };
  let vkIc: number;
  try {
    vkIc = validateCircuitFields(c).ic.length;
  } catch (e) {
    throw new Error(`verifier genesis: ${where} (${c.name}): ${e instanceof AppError ? e.message : String(e)}`);
  }
  if (c.numPublicInputs !== vkIc - 1) throw new Error(`verifier genesis: ${where}: num_public_inputs ${String(v.num_public_inputs)} does not match the verifying key (${vkIc - 1})`);
  try {
    c.owner = parseAddress(c.owner);
  } catch (e) {
    throw new Error(`verifier genesis: ${where}: owner: ${(e as Error).message}`);
  }
  const id = circuitIdOf(c);
  if (c.id !== id) throw new Error(`verifier genesis: ${where}: id ${JSON.stringify(c.id)} does not match its verifying key, artifact hashes and owner (expected ${id})`);
  return c;
}

export function validateVerifierGenesis(raw: unknown): { params: Params; circuits: Circuit[] } {
  if (!isJsonObject(raw)) throw new Error('verifier genesis must be an object {params, circuits}');
  onlyKeys(raw, ['params', 'circuits'], 'top level');
  const params = raw.params === undefined ? DEFAULT_PARAMS : paramsFromJson(raw.params);
  const list = raw.circuits ?? [];
  if (!Array.isArray(list)) throw new Error('verifier genesis: circuits must be an array');
  const circuits = list.map((c, i) => circuitFromJson(c, `circuits[${i}]`));
  const seen = new Set<string>();
  for (const c of circuits) {
    if (seen.has(c.id)) throw new Error(`verifier genesis: circuit ${c.id} is listed twice`);
    seen.add(c.id);
  }
  return { params, circuits };
}

export function initVerifierGenesis(ctx: Context, raw: unknown, keeper: VerifierKeeperImpl): void {
  const g = validateVerifierGenesis(raw);
  for (const c of g.circuits) {
    try {
      prepareChecked(validateCircuitFields(c));
    } catch (e) {
      throw new Error(`verifier genesis: circuit ${c.id} (${c.name}): ${(e as Error).message}`);
    }
  }
  keeper.setParams(ctx, g.params);
  for (const c of g.circuits) keeper.setCircuit(ctx, c);
}

export function exportVerifierGenesis(ctx: Context, keeper: VerifierKeeperImpl): VerifierGenesis {
  return { params: paramsToJson(keeper.params(ctx)), circuits: keeper.circuits(ctx).map(circuitToJson) };
}

// ---- the genesis circuit -------------------------------------------------------------------------------------------

/** Directory of the genesis circuit's files (circuit.wasm, circuit_final.zkey, verification_key.json, …), with a trailing slash. */
export function genesisCircuitDir(): string {
  return dirname(GENESIS_CIRCUIT.wasmPath) + '/';
}

function fileArtifact(path: string): Artifact {
  const bytes = readFileSync(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { sha256, uri: `/artifacts/${sha256}`, size: BigInt(statSync(path).size) };
}

let genesisCircuitCache: Circuit | undefined;

/** The genesis circuit record as the default genesis registers it (files read synchronously, once per process). */
export function genesisCircuit(): Circuit {
  if (genesisCircuitCache === undefined) {
    const vk = verifyingKeyFromSnarkjs(JSON.parse(readFileSync(GENESIS_CIRCUIT.verificationKeyPath, 'utf8')));
    const vkBytes = encodeVerifyingKey(vk);
    genesisCircuitCache = {
      id: '',
      name: GENESIS_CIRCUIT.name,
      proofSystem: ProofSystem.PROOF_SYSTEM_GROTH16_BN254,
      verifyingKey: Buffer.from(vkBytes),
      constraints: GENESIS_CIRCUIT_CONSTRAINTS,
      numPublicInputs: vk.ic.length - 1,
      wasm: fileArtifact(GENESIS_CIRCUIT.wasmPath),
      provingKey: fileArtifact(GENESIS_CIRCUIT.zkeyPath),
      owner: moduleAddress(VERIFIER_MODULE_ACCOUNT),
      registeredHeight: 0n,
      deposit: [],
    };
    genesisCircuitCache.id = circuitIdOf(genesisCircuitCache);
  }
  return Circuit.fromPartial(genesisCircuitCache);
}

/** Id of the genesis circuit (hex sha256 of u32 BE 1 || its encoded verifying key). */
export function genesisCircuitId(): string {
  return genesisCircuit().id;
}

export function defaultVerifierGenesis(): VerifierGenesis {
  return { params: paramsToJson(DEFAULT_PARAMS), circuits: [circuitToJson(genesisCircuit())] };
}

