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
import type { BlockInfo } from '../../src/framework/context.js';
import type { MsgRoute } from '../../src/framework/module.js';
import type { AuthKeeper } from '../../modules/auth/index.js';
import { decodeTx, txHashKey, type DecodedTx } from './decode.js';
import { secp256k1KeyBytes, signerCacheKey, signDocDigest, txSigners, type SignatureCache } from './ante.js';

export interface PrefetchDeps {
  auth: AuthKeeper;
  routes: ReadonlyMap<string, MsgRoute>;
  sigCache: SignatureCache;
  pool: () => SignatureVerifyPool | undefined;
}

export class SignaturePrefetcher {
  /** Verifications in flight, by tx hash (DecodedTx.hashKey). */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly deps: PrefetchDeps) {}

  /**
   * Starts verifying `bytes`' signatures against account data read from `state`, unless they are being or have been
   * verified already. `wide`: the caller is about to wait for the result (a proposal), so the pool may use all its
   * workers.
   */
  prefetch(bytes: Uint8Array, state: KVReader, block: BlockInfo, wide = false): void {
    const pool = this.deps.pool();
    if (!pool) return;
    let tx: DecodedTx;
    try {
      tx = decodeTx(bytes, this.deps.routes);
    } catch {
      return; // undecodable: the tx fails with a proper code when it runs
    }
    const txKey = tx.hashKey;
    const cache = this.deps.sigCache;
    if (this.pending.has(txKey) || cache.knows(txKey)) return;
    const jobs: Promise<void>[] = [];
    try {
      const signers = txSigners(tx);
      if (signers.length !== tx.authInfo.signerInfos.length || signers.length !== tx.raw.signatures.length) return;
      for (let i = 0; i < signers.length; i++) {
        const sig = tx.raw.signatures[i];
        const acc = this.deps.auth.accountIn(state, signers[i]);
        const anyKey = tx.authInfo.signerInfos[i].publicKey ?? acc?.pubKey;
        if (!acc || !anyKey || sig.length !== 64) continue;
        const pubkey = secp256k1KeyBytes(anyKey, i);
        const signerKey = signerCacheKey(i, acc.accountNumber, pubkey);
        const digest = signDocDigest(tx, block.chainId, acc.accountNumber);
        jobs.push(pool.verify({ digest, sig, pubkey }, wide).then((ok) => {
          if (ok) cache.add(txKey, signerKey);
        }));
      }
    } catch {
      // A malformed key: the ante handler reports it when the tx runs. Jobs already started still count.
    }
    if (jobs.length === 0) return;
    this.pending.set(txKey, Promise.all(jobs).then(() => {
      this.pending.delete(txKey);
    }));
  }

  /** Resolves when the prefetch of this tx (if one is running) has finished. */
  settled(bytes: Uint8Array): Promise<void> | undefined {
    return this.pending.size === 0 ? undefined : this.pending.get(txHashKey(bytes));
  }

  /** Resolves when the prefetches of all these txs have finished. */
  async settledAll(txs: readonly Uint8Array[]): Promise<void> {
    const waits = txs.map((tx) => this.settled(tx)).filter((p) => p !== undefined);
    if (waits.length > 0) await Promise.all(waits);
  }
}
