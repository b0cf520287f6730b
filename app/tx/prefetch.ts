/**
 * Signature prefetch: verifies a tx's signatures on the worker pool (src/crypto/verify-pool.ts) *before* the
 * serialized state machine reaches it, so that CheckTx and FinalizeBlock find the verdicts in the SignatureCache.
 *
 * The drivers call `prefetch` as a tx arrives (the ABCI server on receipt of a CheckTx request, the devnet mempool on
 * broadcast) and the app calls it for a proposal's txs in ProcessProposal/FinalizeBlock. It reads the account number
 * and public key from whatever state it is given — a guess: if the state moves on before the tx runs, the guessed
 * cache key simply does not match and the ante handler verifies on the main thread. Only `true` verdicts of the exact
 * (tx, signer, account number, pubkey) tuple are cached, so prefetching can change speed, never a result. It never
 * throws and never writes state.
 */
import type { KVReader } from '../../src/store/kv.js';
import type { SignatureVerifyPool } from '../../src/crypto/verify-pool.js';
import type { BlockInfo } from '../context.js';
import type { MsgRoute } from '../module.js';
import type { AuthKeeper } from '../../modules/auth/index.js';
import { decodeTx } from './decode.js';
import { secp256k1KeyBytes, signatureCacheKey, signDocDigest, txSigners, type SignatureCache } from './ante.js';

const DONE_CAPACITY = 100_000;

export interface PrefetchDeps {
  auth: AuthKeeper;
  routes: ReadonlyMap<string, MsgRoute>;
  sigCache: SignatureCache;
  pool: () => SignatureVerifyPool | undefined;
}

export class SignaturePrefetcher {
  /** Verifications in flight, by the tx's bytes object (identity only decides whether to wait, never a result). */
  private readonly pending = new Map<Uint8Array, Promise<void>>();
  /** Cache keys being verified, so a tx seen twice (CheckTx, then the proposal) is not sent twice. */
  private readonly inflightKeys = new Set<string>();
  /** Hashes of txs whose every signature was verified by a prefetch: later prefetches of them return at once. */
  private readonly done = new Set<string>();

  constructor(private readonly deps: PrefetchDeps) {}

  /**
   * Starts verifying `bytes`' signatures against account data read from `state`. `wide`: the caller is about to wait
   * for the result (a proposal), so the pool may use all its workers.
   */
  prefetch(bytes: Uint8Array, state: KVReader, block: BlockInfo, wide = false): void {
    const pool = this.deps.pool();
    if (!pool || this.pending.has(bytes)) return;
    const jobs: Promise<boolean>[] = [];
    let hashKey = '';
    let covered = true;
    try {
      const tx = decodeTx(bytes, this.deps.routes);
      hashKey = tx.hash.toString('latin1');
      if (this.done.has(hashKey)) return;
      const signers = txSigners(tx);
      if (signers.length !== tx.authInfo.signerInfos.length || signers.length !== tx.raw.signatures.length) return;
      for (let i = 0; i < signers.length; i++) {
        const sig = tx.raw.signatures[i];
        const acc = this.deps.auth.accountIn(state, signers[i]);
        const anyKey = tx.authInfo.signerInfos[i].publicKey ?? acc?.pubKey;
        if (!acc || !anyKey || sig.length !== 64) {
          covered = false;
          continue;
        }
        const pubkey = secp256k1KeyBytes(anyKey, i);
        const key = signatureCacheKey(tx.hash, i, acc.accountNumber, pubkey);
        if (this.deps.sigCache.has(key)) continue;
        if (this.inflightKeys.has(key)) {
          covered = false; // another prefetch owns it
          continue;
        }
        this.inflightKeys.add(key);
        const digest = signDocDigest(tx, block.chainId, acc.accountNumber);
        jobs.push(pool.verify({ digest, sig, pubkey }, wide).then((ok) => {
          this.inflightKeys.delete(key);
          if (ok) this.deps.sigCache.add(key);
          return ok;
        }));
      }
    } catch {
      // Undecodable or malformed: the ante handler reports it properly when the tx runs.
      covered = false;
    }
    if (jobs.length === 0) {
      if (covered && hashKey !== '') this.markDone(hashKey);
      return;
    }
    const done = Promise.all(jobs).then((verdicts) => {
      this.pending.delete(bytes);
      if (covered && verdicts.every((ok) => ok)) this.markDone(hashKey);
    });
    this.pending.set(bytes, done);
  }

  private markDone(hashKey: string): void {
    if (this.done.size >= DONE_CAPACITY) this.done.clear();
    this.done.add(hashKey);
  }

  /** Forgets a committed tx (its hash as a latin1 string): it can never be prefetched usefully again. */
  forget(hashKey: string): void {
    this.done.delete(hashKey);
  }

  /** Resolves when the prefetch started for this exact bytes object (if any) has finished. */
  settled(bytes: Uint8Array): Promise<void> | undefined {
    return this.pending.get(bytes);
  }

  /** Resolves when every prefetch started so far has finished. */
  async allSettled(): Promise<void> {
    if (this.pending.size > 0) await Promise.all(this.pending.values());
  }

  get inFlight(): number {
    return this.pending.size;
  }
}
