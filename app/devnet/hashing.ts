/**
 * CometBFT v0.38 hashing rules, reimplemented from the spec (spec/core/data_structures.md, crypto/merkle):
 * RFC 6962 merkle trees, the header hash over proto-encoded fields, tx / results / validator-set /
 * consensus-params hashes, block part sets, and the canonical precommit sign bytes.
 */
import { createHash } from 'node:crypto';
import { BinaryWriter } from 'cosmjs-types/binary';
import { Timestamp } from 'cosmjs-types/google/protobuf/timestamp';
import { Consensus } from 'cosmjs-types/tendermint/version/types';
import { BlockID, type Header, type CommitSig, CommitSig as CommitSigCodec, PartSetHeader } from 'cosmjs-types/tendermint/types/types';
import { SimpleValidator } from 'cosmjs-types/tendermint/types/validator';
import { HashedParams } from 'cosmjs-types/tendermint/types/params';
import { ExecTxResult } from 'cosmjs-types/tendermint/abci/types';

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const LEAF = Uint8Array.of(0);
const INNER = Uint8Array.of(1);

export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256(concat(LEAF, leaf));
}

function innerHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concat(INNER, left, right));
}

/** Largest power of two strictly less than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** merkle.HashFromByteSlices: RFC 6962 root; the empty tree hashes to sha256(""). */
export function merkleRoot(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return sha256(new Uint8Array(0));
  if (items.length === 1) return leafHash(items[0]!);
  const k = splitPoint(items.length);
  return innerHash(merkleRoot(items.slice(0, k)), merkleRoot(items.slice(k)));
}

/** Merkle inclusion proof (aunts bottom-up), as in crypto/merkle.ProofsFromByteSlices. */
export function merkleProof(items: readonly Uint8Array[], index: number): { leafHash: Uint8Array; aunts: Uint8Array[]; root: Uint8Array } {
  const aunts: Uint8Array[] = [];
  const walk = (xs: readonly Uint8Array[], i: number): Uint8Array => {
    if (xs.length === 1) return leafHash(xs[0]!);
    const k = splitPoint(xs.length);
    if (i < k) {
      const l = walk(xs.slice(0, k), i);
      const r = merkleRoot(xs.slice(k));
      aunts.push(r);
      return innerHash(l, r);
    }
    const l = merkleRoot(xs.slice(0, k));
    const r = walk(xs.slice(k), i - k);
    aunts.push(l);
    return innerHash(l, r);
  };
  const root = walk(items, index);
  return { leafHash: leafHash(items[index]!), aunts, root };
}

export function txHash(tx: Uint8Array): Uint8Array {
  return sha256(tx);
}

/** Data.Hash: merkle root over the sha256 of each tx. */
export function dataHash(txs: readonly Uint8Array[]): Uint8Array {
  return merkleRoot(txs.map(txHash));
}

/** LastResultsHash: merkle root over the deterministic part (code, data, gas_wanted, gas_used) of each result. */
export function resultsHash(results: readonly ExecTxResult[]): Uint8Array {
  return merkleRoot(results.map((r) => ExecTxResult.encode(ExecTxResult.fromPartial({
    code: r.code, data: r.data, gasWanted: r.gasWanted, gasUsed: r.gasUsed,
  })).finish()));
}

export function validatorSetHash(vals: readonly { pubKeyEd25519: Uint8Array; power: bigint }[]): Uint8Array {
  return merkleRoot(vals.map((v) => SimpleValidator.encode({ pubKey: { ed25519: v.pubKeyEd25519 }, votingPower: v.power }).finish()));
}

export function consensusParamsHash(maxBytes: bigint, maxGas: bigint): Uint8Array {
  return sha256(HashedParams.encode({ blockMaxBytes: maxBytes, blockMaxGas: maxGas }).finish());
}

export function commitHash(sigs: readonly CommitSig[]): Uint8Array {
  return merkleRoot(sigs.map((s) => CommitSigCodec.encode(s).finish()));
}

// gogoproto wrapper types (StringValue / Int64Value / BytesValue), as cdcEncode does for header fields.
function wrapString(s: string): Uint8Array {
  const w = new BinaryWriter();
  if (s.length > 0) w.uint32(10).string(s);
  return w.finish();
}
function wrapInt64(v: bigint): Uint8Array {
  const w = new BinaryWriter();
  if (v !== 0n) w.uint32(8).int64(v);
  return w.finish();
}
function wrapBytes(b: Uint8Array): Uint8Array {
  const w = new BinaryWriter();
  if (b.length > 0) w.uint32(10).bytes(b);
  return w.finish();
}

/** Header.Hash(): merkle root over the 14 proto-encoded fields in declaration order. */
export function headerHash(h: Header): Uint8Array {
  return merkleRoot([
    Consensus.encode(h.version).finish(),
    wrapString(h.chainId),
    wrapInt64(h.height),
    Timestamp.encode(h.time).finish(),
    BlockID.encode(h.lastBlockId).finish(),
    wrapBytes(h.lastCommitHash),
    wrapBytes(h.dataHash),
    wrapBytes(h.validatorsHash),
    wrapBytes(h.nextValidatorsHash),
    wrapBytes(h.consensusHash),
    wrapBytes(h.appHash),
    wrapBytes(h.lastResultsHash),
    wrapBytes(h.evidenceHash),
    wrapBytes(h.proposerAddress),
  ]);
}

export const BLOCK_PART_SIZE = 65536;

/** PartSetHeader of the proto-encoded block, split in 64 KiB parts. */
export function partSetHeader(blockBytes: Uint8Array): PartSetHeader {
  const parts: Uint8Array[] = [];
  for (let o = 0; o < blockBytes.length; o += BLOCK_PART_SIZE) parts.push(blockBytes.subarray(o, o + BLOCK_PART_SIZE));
  if (parts.length === 0) parts.push(new Uint8Array(0));
  return { total: parts.length, hash: merkleRoot(parts) };
}

/** Length-delimited CanonicalVote (type PRECOMMIT = 2) for a commit signature: types.VoteSignBytes. */
export function precommitSignBytes(chainId: string, height: bigint, round: number, blockId: BlockID, time: Timestamp): Uint8Array {
  const w = new BinaryWriter();
  w.uint32(8).int32(2);
  if (height !== 0n) w.uint32(17).sfixed64(height);
  if (round !== 0) w.uint32(25).sfixed64(BigInt(round));
  if (blockId.hash.length > 0 || blockId.partSetHeader.total !== 0) {
    w.uint32(34).fork();
    if (blockId.hash.length > 0) w.uint32(10).bytes(blockId.hash);
    w.uint32(18).fork();
    if (blockId.partSetHeader.total !== 0) w.uint32(8).uint32(blockId.partSetHeader.total);
    if (blockId.partSetHeader.hash.length > 0) w.uint32(18).bytes(blockId.partSetHeader.hash);
    w.ldelim();
    w.ldelim();
  }
  w.uint32(42).fork();
  Timestamp.encode(time, w);
  w.ldelim();
  if (chainId.length > 0) w.uint32(50).string(chainId);
  const body = w.finish();
  const out = new BinaryWriter();
  out.bytes(body);
  return out.finish();
}
