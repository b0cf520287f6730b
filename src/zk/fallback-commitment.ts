/**
 * The commitment a prover posts before revealing a fallback proof (MsgCommitFallbackProof; modules/market/fallback.ts,
 * docs/protocol.md "The fallback path"). It binds the proof to the committing prover's address, so a copy of the
 * revealed proof is worthless to anyone else: their own commitment to it can only land after the reveal was seen,
 * and the earliest live commitment of a request is the only one that may be revealed.
 *
 *   sha256("proofbook/fallback-commit/v1" || u64be(request_id) || u32be(len(proof)) || proof
 *          || u32be(n) || n x 32-byte big-endian signal || utf8(prover address))
 *
 * Pure and browser-safe (@noble/hashes): the chain, the worker and the SDK compute the same bytes.
 */
import { sha256 } from '@noble/hashes/sha2.js';

const DOMAIN = new TextEncoder().encode('proofbook/fallback-commit/v1');
const P256 = 1n << 256n;

function u64be(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v));
  return b;
}

function u32be(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
}

function be32(v: bigint): Uint8Array {
  if (v < 0n || v >= P256) throw new Error(`signal ${v} does not fit 32 bytes`);
  const b = new Uint8Array(32);
  let x = v;
  for (let i = 31; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}

/** The 32-byte commitment of `prover` to revealing `proof` with `signals` for request `requestId`. */
export function fallbackCommitment(requestId: bigint, proof: Uint8Array, signals: readonly (bigint | string)[], prover: string): Uint8Array {
  const parts: Uint8Array[] = [DOMAIN, u64be(requestId), u32be(proof.length), proof, u32be(signals.length)];
  for (const s of signals) parts.push(be32(BigInt(s)));
  parts.push(new TextEncoder().encode(prover));
  let n = 0;
  for (const p of parts) n += p.length;
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return sha256(all);
}
