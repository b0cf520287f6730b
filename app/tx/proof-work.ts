/**
 * Proof-verification work carried by txs, and the caps on it (issue 10 item 4: proposal stuffing).
 *
 * A message route declares the proofs its message makes the chain verify (MsgRoute.proofWork). The caps are the
 * verifier module's params (max_proofs_per_tx, max_proofs_per_block, max_verify_gas_per_block); verification gas is
 * priced like VerifierKeeper.verifyProof charges it: verify_gas_base per proof + verify_gas_per_input per signal.
 *   - CheckTx / FinalizeBlock: a tx over the per-tx cap fails before its ante handler (pipeline.ts), so nothing runs
 *     for it and it pays nothing (it never enters the mempool; in a block it can only come from a proposal that
 *     every honest validator rejects).
 *   - PrepareProposal leaves out txs that would break a cap; ProcessProposal rejects a proposal that breaks one.
 *   - FinalizeBlock batch-verifies ahead of execution only the proofs of txs whose signatures and fees passed
 *     (app.ts paidProofMsgs), within the caps.
 */
import type { Context } from '../../src/framework/context.js';
import type { DecodedTx } from './decode.js';
import { ErrInvalidRequest } from '../../src/framework/errors.js';

export interface ProofWork {
  proofs: bigint;
  signals: bigint;
}

export interface ProofLimits {
  perTx: bigint;
  perBlock: bigint;
  gasPerBlock: bigint;
  gasBase: bigint;
  gasPerInput: bigint;
}

/** Reads the limits in force from state (the verifier's params). */
export type ProofLimitsReader = (ctx: Context) => ProofLimits;

const NONE: ProofWork = { proofs: 0n, signals: 0n };
const memo = new WeakMap<DecodedTx, ProofWork>();

/** The proofs a tx's messages ask the chain to verify (a pure function of the decoded tx, memoized). */
export function txProofWork(tx: DecodedTx): ProofWork {
  let w = memo.get(tx);
  if (w !== undefined) return w;
  w = NONE;
  for (const m of tx.msgs) {
    const pw = m.route.proofWork?.(m.value);
    if (pw) w = { proofs: w.proofs + BigInt(pw.proofs), signals: w.signals + BigInt(pw.signals) };
  }
  memo.set(tx, w);
  return w;
}

export function verifyGas(w: ProofWork, l: ProofLimits): bigint {
  return w.proofs * l.gasBase + w.signals * l.gasPerInput;
}

/** Throws ErrInvalidRequest when one tx carries more proofs than params.max_proofs_per_tx. */
export function checkTxProofWork(tx: DecodedTx, l: ProofLimits): void {
  const w = txProofWork(tx);
  if (w.proofs > l.perTx) throw ErrInvalidRequest(`tx carries ${w.proofs} proofs; verifier params.max_proofs_per_tx is ${l.perTx}`);
}

/** Running per-block totals: `fits` says whether a tx's work still fits under the block caps, `add` counts it. */
export class BlockProofBudget {
  proofs = 0n;
  gas = 0n;
  constructor(readonly limits: ProofLimits) {}
  fits(w: ProofWork): boolean {
    if (w.proofs === 0n) return true;
    return w.proofs <= this.limits.perTx && this.proofs + w.proofs <= this.limits.perBlock && this.gas + verifyGas(w, this.limits) <= this.limits.gasPerBlock;
  }
  verifyGasOf(w: ProofWork): bigint {
    return verifyGas(w, this.limits);
  }
  add(w: ProofWork): void {
    this.proofs += w.proofs;
    this.gas += verifyGas(w, this.limits);
  }
  /** Why a tx does not fit (for logs). */
  why(w: ProofWork): string {
    if (w.proofs > this.limits.perTx) return `a tx carries ${w.proofs} proofs (max_proofs_per_tx ${this.limits.perTx})`;
    if (this.proofs + w.proofs > this.limits.perBlock) return `more than max_proofs_per_block ${this.limits.perBlock} proofs`;
    return `more than max_verify_gas_per_block ${this.limits.gasPerBlock} verification gas`;
  }
}
