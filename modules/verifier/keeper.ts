/**
 * The verifier keeper: the circuit registry and native Groth16 verification for other modules (the market).
 *
 * Two in-memory caches, never state:
 *  - prepared verifying keys by circuit id (ids hash the key, so a cached entry can never go stale);
 *  - verdicts keyed by sha256(circuit id bytes || proof bytes || encoded public signals). A verdict is a pure function
 *    of its key, so a cache hit returns exactly what verifying again would: caching changes speed, never results.
 *
 * Gas is charged by `verifyProof` before any check, whether the verdict comes from the cache or not:
 *    verify_gas_base + verify_gas_per_input * circuit.num_public_inputs
 * (plus the ordinary store-read gas for the circuit and params records).
 */
import { createHash } from 'node:crypto';
import type { Context } from '../../src/framework/context.js';
import { ErrInvalidAddress } from '../../src/framework/errors.js';
import type { BankKeeper } from '../bank/keeper.js';
import { formatCoins } from '../bank/keeper.js';
import { strictCoins } from '../bank/msgs.js';
import { parseAddress, type Address } from '../../src/crypto/address.js';
import { type Coins } from '../../src/types/coins.js';
import { iteratePrefix } from '../../src/store/kv.js';
import { Circuit, Params, ProofSystem, type Artifact } from '../../src/gen/proofbook/verifier/v1/verifier.js';
import type { Coin as ProtoCoin } from '../../src/gen/proofbook/base/v1/base.js';
import {
  R,
  ZkError,
  PROOF_BYTES,
  decodeProof,
  decodeVerifyingKey,
  encodePublicSignals,
  type Groth16Proof,
  type Groth16VerifyingKey,
} from '../../src/zk/groth16.js';
import { prepareVerifyingKey, verifyBatch, verifyOne, type PreparedVk } from '../../src/zk/verifier.js';
import {
  CIRCUIT_PREFIX,
  DEFAULT_PARAMS,
  ErrBackendNotReady,
  ErrCircuitExists,
  ErrInvalidCircuit,
  ErrInvalidProof,
  ErrInvalidVerifyingKey,
  ErrUnknownCircuit,
  ErrUnsupportedProofSystem,
  ErrVerifyingKeyTooLarge,
  ErrWrongSignalCount,
  MAX_CIRCUIT_NAME,
  MAX_URI_LENGTH,
  PARAMS_KEY,
  VERIFIER_MODULE_ACCOUNT,
  VERIFIER_STORE_PREFIX,
  circuitKey,
  computeCircuitId,
  proofSystemName,
} from './keys.js';
import { isHex64 } from '../../src/types/hex.js';

export interface VerifierKeeper {
  circuit(ctx: Context, id: string): Circuit | undefined;
  /** Charges gas (params.verify_gas_base + per input) and verifies; answers from the in-memory verdict cache when present.
   *  Throws AppError for an unknown circuit, undecodable proof bytes or a wrong number of public signals. */
  verifyProof(ctx: Context, circuitId: string, proof: Uint8Array, publicSignals: readonly bigint[]): boolean;
  /** Batch-verifies (one RLC pairing check per circuit, src/zk/verifier.ts verifyBatch) and caches verdicts. No state writes, no gas. */
  preverify(ctx: Context, items: readonly { circuitId: string; proof: Uint8Array; publicSignals: readonly bigint[] }[]): void;
}

export interface VerifierKeeperOptions {
  /** Most verdicts kept (oldest evicted first). Default 65536. */
  verdictCacheSize?: number;
  /** Most prepared verifying keys kept (least recently used evicted). Default 256. */
  preparedCacheSize?: number;
  /** Largest batch handed to verifyBatch in one pairing check (a bad proof in a chunk is found by bisection). Default 64. */
  batchChunk?: number;
}

/** The verifier's params in `ctx`'s state (the defaults when none are stored); the app reads the proof caps here. */
export function verifierParams(ctx: Context): Params {
  const v = ctx.store(VERIFIER_STORE_PREFIX).get(PARAMS_KEY);
  return v === undefined ? DEFAULT_PARAMS : Params.decode(v);
}

/** Fields of a registration checked without state (MsgRegisterCircuit.validateBasic and genesis). */
export interface CircuitFields {
  name: string;
  proofSystem: ProofSystem;
  verifyingKey: Uint8Array;
  constraints: bigint;
  wasm: Artifact | undefined;
  provingKey: Artifact | undefined;
}

function checkArtifact(a: Artifact | undefined, what: string): void {
  if (a === undefined) throw ErrInvalidCircuit(`${what} artifact is missing`);
  if (!isHex64(a.sha256)) throw ErrInvalidCircuit(`${what}.sha256 must be 64 lowercase hex characters, got ${JSON.stringify(a.sha256)}`);
  if (typeof a.uri !== 'string' || a.uri.length === 0) throw ErrInvalidCircuit(`${what}.uri must not be empty`);
  if (a.uri.length > MAX_URI_LENGTH) throw ErrInvalidCircuit(`${what}.uri is longer than ${MAX_URI_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(a.uri)) throw ErrInvalidCircuit(`${what}.uri must be printable ASCII without spaces`);
  if (typeof a.size !== 'bigint' || a.size <= 0n) throw ErrInvalidCircuit(`${what}.size must be positive`);
}

/**
 * Stateless checks of a registration; returns the decoded verifying key (not yet checked for G2 subgroup membership,
 * which needs the pairing backend: see prepare()). Throws AppError.
 */
export function validateCircuitFields(f: CircuitFields): Groth16VerifyingKey {
  if (f.proofSystem === ProofSystem.PROOF_SYSTEM_PLONK_BN254 || f.proofSystem === ProofSystem.PROOF_SYSTEM_FFLONK_BN254) {
    throw ErrUnsupportedProofSystem(`${proofSystemName(f.proofSystem)} is not supported yet; only PROOF_SYSTEM_GROTH16_BN254 circuits can be registered`);
  }
  if (f.proofSystem !== ProofSystem.PROOF_SYSTEM_GROTH16_BN254) {
    throw ErrInvalidCircuit(`proof_system ${proofSystemName(f.proofSystem)} is not valid; use PROOF_SYSTEM_GROTH16_BN254`);
  }
  if (typeof f.name !== 'string' || !/^[\x20-\x7e]{1,64}$/.test(f.name) || f.name.trim() === '') {
    throw ErrInvalidCircuit(`name must be 1-${MAX_CIRCUIT_NAME} printable ASCII characters, got ${JSON.stringify(f.name)}`);
  }
  if (typeof f.constraints !== 'bigint' || f.constraints <= 0n) throw ErrInvalidCircuit('constraints must be positive');
  checkArtifact(f.wasm, 'wasm');
  checkArtifact(f.provingKey, 'proving_key');
  if (!(f.verifyingKey instanceof Uint8Array) || f.verifyingKey.length === 0) throw ErrInvalidVerifyingKey('verifying_key is empty');
  try {
    return decodeVerifyingKey(f.verifyingKey);
  } catch (e) {
    throw ErrInvalidVerifyingKey(`verifying_key does not decode as a Groth16 BN254 key (${(e as Error).message})`);
  }
}

/** Strict conversion of protobuf coins (params, deposits) to sorted bigint Coins; throws ErrInvalidCoins. */
export function protoCoins(coins: readonly ProtoCoin[], what: string): Coins {
  return strictCoins(coins, what, { allowEmpty: true });
}

/** Execution modes in which verifyProof defers the pairing check to the block (see verifyProof). */
const DEFERRED_MODES: ReadonlySet<string> = new Set(['check', 'recheck', 'simulate']);

export class VerifierKeeperImpl implements VerifierKeeper {
  private readonly verdicts = new Map<string, boolean>();
  private readonly preparedVks = new Map<string, PreparedVk>();
  private readonly verdictCacheSize: number;
  private readonly preparedCacheSize: number;
  private readonly batchChunk: number;
  /** Counters for tests and benchmarks (process-local; never read by the state machine). */
  readonly stats = { verdictHits: 0, verdictMisses: 0, batchedProofs: 0, batches: 0, keysPrepared: 0 };

  constructor(private readonly bank: BankKeeper, opts: VerifierKeeperOptions = {}) {
    this.verdictCacheSize = opts.verdictCacheSize ?? 65_536;
    this.preparedCacheSize = opts.preparedCacheSize ?? 256;
    this.batchChunk = Math.max(1, opts.batchChunk ?? 64);
  }

  // ---- params & registry -----------------------------------------------------------------------------------------

  params(ctx: Context): Params {
    return verifierParams(ctx);
  }

  setParams(ctx: Context, p: Params): void {
    ctx.store(VERIFIER_STORE_PREFIX).set(PARAMS_KEY, Params.encode(p).finish());
  }

  circuit(ctx: Context, id: string): Circuit | undefined {
    if (!isHex64(id)) return undefined;
    const v = ctx.store(VERIFIER_STORE_PREFIX).get(circuitKey(id));
    return v === undefined ? undefined : Circuit.decode(v);
  }

  /** Writes a circuit record (genesis and registration; no checks). */
  setCircuit(ctx: Context, c: Circuit): void {
    ctx.store(VERIFIER_STORE_PREFIX).set(circuitKey(c.id), Circuit.encode(c).finish());
  }

  /** Every circuit in id order. */
  circuits(ctx: Context): Circuit[] {
    const out: Circuit[] = [];
    for (const [, v] of iteratePrefix(ctx.store(VERIFIER_STORE_PREFIX), CIRCUIT_PREFIX)) out.push(Circuit.decode(v));
    return out;
  }

  /**
   * Validates and records a circuit, moving params.registration_deposit from `creator` to the verifier module
   * account. Checks everything before writing anything. Charges verify_gas_base for the key's pairing-based checks.
   */
  registerCircuit(ctx: Context, creator: Address, f: CircuitFields): Circuit {
    const vk = validateCircuitFields(f);
    const params = this.params(ctx);
    if (BigInt(f.verifyingKey.length) > params.maxVerifyingKeyBytes) {
      throw ErrVerifyingKeyTooLarge(`verifying_key has ${f.verifyingKey.length} bytes, params.max_verifying_key_bytes is ${params.maxVerifyingKeyBytes}`);
    }
    const id = computeCircuitId(f.proofSystem, f.verifyingKey, { wasmSha256: f.wasm!.sha256, provingKeySha256: f.provingKey!.sha256, owner: creator });
    if (ctx.store(VERIFIER_STORE_PREFIX).has(circuitKey(id))) throw ErrCircuitExists(`circuit ${id} (same proof system, verifying key, artifacts and owner) is already registered`);
    ctx.gas.consume(params.verifyGasBase, 'PrepareVerifyingKey');
    // A cached prepared key for this id came from these very bytes (ids hash the key): skip the pairing work again.
    // (Several ids may share one key — other owners or artifacts — and each is prepared once.)
    // CheckTx, recheck and Simulate leave the key's subgroup checks and e(alpha, beta) to the block, like proofs
    // (verifyProof): unpaid, they would be free pairing work on the consensus queue. A bad key fails there, fee paid.
    const deferred = DEFERRED_MODES.has(ctx.mode);
    const prepared = deferred ? undefined : (this.preparedVks.get(id) ?? this.prepareCounted(vk));
    const deposit = protoCoins(params.registrationDeposit, 'params.registration_deposit');
    if (deposit.length > 0) this.bank.sendToModule(ctx, creator, VERIFIER_MODULE_ACCOUNT, deposit);
    const circuit: Circuit = {
      id,
      name: f.name,
      proofSystem: f.proofSystem,
      verifyingKey: Buffer.from(f.verifyingKey),
      constraints: f.constraints,
      numPublicInputs: vk.ic.length - 1,
      wasm: { ...f.wasm! },
      provingKey: { ...f.provingKey! },
      owner: creator,
      registeredHeight: ctx.height,
      deposit: deposit.map((c) => ({ denom: c.denom, amount: c.amount.toString() })),
    };
    this.setCircuit(ctx, circuit);
    if (prepared) this.remember(id, prepared);
    ctx.emit('proofbook.verifier.circuit_registered', [
      ['circuit_id', id],
      ['name', circuit.name],
      ['owner', creator],
      ['proof_system', proofSystemName(circuit.proofSystem)],
      ['num_public_inputs', String(circuit.numPublicInputs)],
      ['constraints', circuit.constraints.toString()],
      ['deposit', formatCoins(deposit)],
    ]);
    return circuit;
  }

  // ---- verification ----------------------------------------------------------------------------------------------

  verifyProof(ctx: Context, circuitId: string, proof: Uint8Array, publicSignals: readonly bigint[]): boolean {
    const circuit = this.circuit(ctx, circuitId);
    if (circuit === undefined) throw ErrUnknownCircuit(`no circuit with id ${JSON.stringify(circuitId)}`);
    const params = this.params(ctx);
    ctx.gas.consume(params.verifyGasBase + params.verifyGasPerInput * BigInt(circuit.numPublicInputs), 'VerifyGroth16Proof');
    const pre = precheck(circuit, proof, publicSignals);
    if (pre.done) return pre.verdict;
    // CheckTx, recheck and Simulate never verify (issue 10 item 6): they hold the consensus queue, and a failure
    // there would cost the sender nothing. As in the Cosmos SDK, whose CheckTx runs only the ante handler, the proof
    // is verified when the tx is in a block, where the sender has paid the fee whatever the verdict. Gas is the same
    // either way (charged above), so Simulate's estimate stays exact. A verdict already cached is still answered.
    if (DEFERRED_MODES.has(ctx.mode)) return this.verdicts.get(pre.key) ?? true;
    const cached = this.verdicts.get(pre.key);
    if (cached !== undefined) {
      this.stats.verdictHits++;
      return cached;
    }
    this.stats.verdictMisses++;
    const decoded = decodeItem(proof);
    const verdict = decoded !== undefined && verifyOne(this.prepared(circuit), decoded, publicSignals.slice());
    this.cacheVerdict(pre.key, verdict);
    return verdict;
  }

  preverify(ctx: Context, items: readonly { circuitId: string; proof: Uint8Array; publicSignals: readonly bigint[] }[]): void {
    const circuits = new Map<string, Circuit | null>();
    const pending = new Map<string, Map<string, { proof: Groth16Proof; signals: bigint[] }>>();
    for (const it of items) {
      try {
        if (typeof it !== 'object' || it === null || !isHex64(it.circuitId)) continue;
        let c = circuits.get(it.circuitId);
        if (c === undefined) {
          c = this.circuit(ctx, it.circuitId) ?? null;
          circuits.set(it.circuitId, c);
        }
        if (c === null) continue;
        const pre = precheck(c, it.proof, it.publicSignals);
        if (pre.done || this.verdicts.has(pre.key)) continue;
        let group = pending.get(c.id);
        if (group === undefined) pending.set(c.id, (group = new Map()));
        if (group.has(pre.key)) continue;
        const decoded = decodeItem(it.proof);
        if (decoded === undefined) this.cacheVerdict(pre.key, false);
        else group.set(pre.key, { proof: decoded, signals: it.publicSignals.slice() });
      } catch {
        // Refused items (undecodable proof, wrong signal count) fail in their own tx via verifyProof.
      }
    }
    const ids = [...pending.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const id of ids) {
      const prepared = this.prepared(circuits.get(id)!);
      const entries = [...pending.get(id)!];
      for (let start = 0; start < entries.length; start += this.batchChunk) {
        const chunk = entries.slice(start, start + this.batchChunk);
        const results = verifyBatch(prepared, chunk.map(([, v]) => ({ proof: v.proof, publicSignals: v.signals })));
        this.stats.batches++;
        this.stats.batchedProofs += chunk.length;
        chunk.forEach(([key], i) => this.cacheVerdict(key, results[i] === true));
      }
    }
  }

  // ---- caches ----------------------------------------------------------------------------------------------------

  /** Number of verdicts currently cached (tests, metrics). */
  get cachedVerdicts(): number {
    return this.verdicts.size;
  }

  /** Drops both caches (tests and benchmarks use it to measure cold paths). */
  clearCaches(): void {
    this.verdicts.clear();
    this.preparedVks.clear();
  }

  private cacheVerdict(key: string, verdict: boolean): void {
    if (this.verdicts.has(key)) return;
    this.verdicts.set(key, verdict);
    while (this.verdicts.size > this.verdictCacheSize) this.verdicts.delete(this.verdicts.keys().next().value as string);
  }

  private remember(id: string, vk: PreparedVk): void {
    this.preparedVks.delete(id);
    this.preparedVks.set(id, vk);
    while (this.preparedVks.size > this.preparedCacheSize) this.preparedVks.delete(this.preparedVks.keys().next().value as string);
  }

  /** The prepared key of a registered circuit (cached by id; the record was validated when it was stored). */
  prepared(c: Circuit): PreparedVk {
    const hit = this.preparedVks.get(c.id);
    if (hit !== undefined) {
      this.remember(c.id, hit); // mark as recently used
      return hit;
    }
    let vk: Groth16VerifyingKey;
    try {
      vk = decodeVerifyingKey(c.verifyingKey);
    } catch (e) {
      throw ErrInvalidVerifyingKey(`stored circuit ${c.id} has an undecodable key (state is corrupt): ${(e as Error).message}`);
    }
    const prepared = this.prepareCounted(vk);
    this.remember(c.id, prepared);
    return prepared;
  }

  private prepareCounted(vk: Groth16VerifyingKey): PreparedVk {
    this.stats.keysPrepared++;
    return prepareChecked(vk);
  }
}

/** prepareVerifyingKey with its ZkErrors turned into AppErrors. */
export function prepareChecked(vk: Groth16VerifyingKey): PreparedVk {
  try {
    return prepareVerifyingKey(vk);
  } catch (e) {
    if (e instanceof ZkError && e.reason === 'not-initialized') {
      throw ErrBackendNotReady('the node must `await initVerifierBackend()` (modules/verifier) before it runs blocks');
    }
    throw ErrInvalidVerifyingKey(`verifying key refused (${(e as Error).message})`);
  }
}

/**
 * The checks before the pairing equation, cheapest first. Throws AppError for input the caller must not send (proof
 * bytes of the wrong length, a wrong number of signals); returns a `false` verdict for signals >= r; otherwise the
 * verdict-cache key. Decoding the points (decodeItem) is left until the cache has been asked: a cached verdict
 * exists only for bytes that decoded before, and decoding is a pure function of the bytes.
 */
function precheck(c: Circuit, proof: Uint8Array, publicSignals: readonly bigint[]): { done: true; verdict: boolean } | { done: false; key: string } {
  if (!(proof instanceof Uint8Array)) throw ErrInvalidProof('proof must be bytes');
  if (proof.length !== PROOF_BYTES) throw ErrInvalidProof(`a Groth16 BN254 proof has ${PROOF_BYTES} bytes, got ${proof.length}`);
  if (!Array.isArray(publicSignals) || publicSignals.some((s) => typeof s !== 'bigint')) throw ErrInvalidProof('public signals must be integers');
  if (publicSignals.length !== c.numPublicInputs) {
    throw ErrWrongSignalCount(`circuit ${c.id} (${c.name}) takes ${c.numPublicInputs} public signals, got ${publicSignals.length}`);
  }
  for (const s of publicSignals) if (s < 0n || s >= R) return { done: true, verdict: false };
  const key = createHash('sha256')
    .update(Buffer.from(c.id, 'hex'))
    .update(proof)
    .update(encodePublicSignals(publicSignals))
    .digest()
    .toString('latin1');
  return { done: false, key };
}

/** Decodes the proof points: undefined for a point off its curve (an invalid proof), AppError for non-field coordinates. */
function decodeItem(proof: Uint8Array): Groth16Proof | undefined {
  try {
    return decodeProof(proof);
  } catch (e) {
    if (e instanceof ZkError && (e.reason === 'not-on-curve' || e.reason === 'not-in-subgroup')) return undefined;
    throw ErrInvalidProof(`proof bytes do not decode (${(e as Error).message})`);
  }
}

/** Parses the creator of a registration (ErrInvalidAddress names the field). */
export function creatorAddress(s: string): Address {
  if (!s) throw ErrInvalidAddress('creator cannot be empty');
  try {
    return parseAddress(s);
  } catch (e) {
    throw ErrInvalidAddress(`invalid creator: ${(e as Error).message}`);
  }
}
