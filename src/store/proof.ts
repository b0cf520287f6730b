/**
 * ICS-23 proofs for the state tree (see docs/state.md) and their client-side verification.
 *
 * Existence: a standard ICS-23 ExistenceProof under `SMT_SPEC` — LeafOp {SHA256, prehash key
 * SHA256, prehash value SHA256, NO_PREFIX, prefix 0x00}, one InnerOp per tree depth from the leaf up
 * to the root: {SHA256, prefix 0x01, suffix sibling} when the node is a left child, {SHA256,
 * prefix 0x01 || sibling, suffix empty} when it is a right child (sibling = 32 zero bytes when
 * empty).
 *
 * Non-existence: an ICS-23 NonExistenceProof whose `left`/`right` are existence proofs of the
 * neighbours of `key` in sha256(key) order (prehash_key_before_comparison), either may be absent
 * at the edges. For the empty tree (root = 32 zero bytes) the proof has neither neighbour.
 */
import {
  CommitmentProof,
  ExistenceProof,
  HashOp,
  InnerOp,
  LeafOp,
  LengthOp,
  NonExistenceProof,
  ProofSpec,
} from 'cosmjs-types/cosmos/ics23/v1/proofs';
import { EMPTY_HASH, type Hash, HASH_LEN, bitAt, bytesToHash, comparePaths, innerHash, leafHash, sha256 } from './smt.js';

/**
 * ICS-23's `SmtSpec` (cosmos/ics23 go/proof.go). That spec also sets `prehash_key_before_comparison
 * = true` (proto field 7), which cosmjs-types 0.11's ProofSpec does not model; our verifier always
 * compares neighbours by sha256(key).
 */
export const SMT_SPEC: ProofSpec = ProofSpec.fromPartial({
  leafSpec: {
    hash: HashOp.SHA256,
    prehashKey: HashOp.SHA256,
    prehashValue: HashOp.SHA256,
    length: LengthOp.NO_PREFIX,
    prefix: Uint8Array.of(0),
  },
  innerSpec: {
    childOrder: [0, 1],
    childSize: 32,
    minPrefixLength: 1,
    maxPrefixLength: 1,
    emptyChild: new Uint8Array(32),
    hash: HashOp.SHA256,
  },
  maxDepth: 256,
  minDepth: 0,
});
export const SMT_PREHASH_KEY_BEFORE_COMPARISON = true;

export const SMT_LEAF_OP: LeafOp = SMT_SPEC.leafSpec!;

/** Builds the InnerOp for one step (side 0: proven node is the left child). */
export function innerOpFor(side: number, sibling: Hash): InnerOp {
  const sib = Buffer.from(sibling, 'latin1');
  if (side === 0) {
    return { hash: HashOp.SHA256, prefix: Uint8Array.of(1), suffix: new Uint8Array(sib) };
  }
  const prefix = new Uint8Array(1 + HASH_LEN);
  prefix[0] = 1;
  prefix.set(sib, 1);
  return { hash: HashOp.SHA256, prefix, suffix: new Uint8Array(0) };
}

function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return false;
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Side of an InnerOp (0 left child, 1 right child) and its sibling, or null if malformed. */
function decodeStep(op: InnerOp): Step | null {
  if (op.hash !== HashOp.SHA256) return null;
  const prefix = op.prefix ?? new Uint8Array(0);
  const suffix = op.suffix ?? new Uint8Array(0);
  if (prefix.length === 1 && prefix[0] === 1 && suffix.length === HASH_LEN) return { side: 0, sibling: bytesToHash(suffix) };
  if (prefix.length === 1 + HASH_LEN && prefix[0] === 1 && suffix.length === 0) {
    return { side: 1, sibling: bytesToHash(prefix.subarray(1)) };
  }
  return null;
}

function leafOpOk(leaf: LeafOp | undefined): boolean {
  return (
    !!leaf &&
    leaf.hash === HashOp.SHA256 &&
    leaf.prehashKey === HashOp.SHA256 &&
    leaf.prehashValue === HashOp.SHA256 &&
    leaf.length === LengthOp.NO_PREFIX &&
    bytesEqual(leaf.prefix, Uint8Array.of(0))
  );
}

interface Step {
  side: number;
  sibling: Hash;
}

interface CheckedExistence {
  path: Hash; // sha256(key)
  steps: Step[]; // leaf upwards, as in the proof
}

/**
 * Checks an ExistenceProof against `root` and returns its decoded steps, or null. Beyond ICS-23's
 * checks it requires every step's side to match the bit of sha256(key) at that depth.
 */
function checkExistence(root: Uint8Array, proof: ExistenceProof | undefined): CheckedExistence | null {
  // Like ICS-23's applyLeaf, empty keys and values are not provable.
  if (!proof || !proof.key || !proof.value || proof.key.length === 0 || proof.value.length === 0) return null;
  if (!leafOpOk(proof.leaf)) return null;
  const ops = proof.path ?? [];
  if (ops.length > 256) return null;
  const path = sha256(proof.key);
  let h: Hash = leafHash(path, sha256(proof.value));
  const steps: Step[] = [];
  for (let i = 0; i < ops.length; i++) {
    const step = decodeStep(ops[i]);
    if (!step) return null;
    const depth = ops.length - 1 - i;
    if (bitAt(path, depth) !== step.side) return null;
    h = step.side === 0 ? innerHash(h, step.sibling) : innerHash(step.sibling, h);
    steps.push(step);
  }
  if (h !== bytesToHash(root)) return null;
  return { path, steps };
}

export function verifyMembership(root: Uint8Array, proof: CommitmentProof, key: Uint8Array, value: Uint8Array): boolean {
  try {
    const ex = proof.exist;
    if (!ex || !bytesEqual(ex.key, key) || !bytesEqual(ex.value, value)) return false;
    return checkExistence(root, ex) !== null;
  } catch {
    return false;
  }
}

/** Every step lies on the leftmost (side 0) / rightmost (side 1) path, allowing empty siblings. */
function isExtreme(steps: Step[], side: number): boolean {
  return steps.every((s) => s.side === side || s.sibling === EMPTY_HASH);
}

export function verifyNonMembership(root: Uint8Array, proof: CommitmentProof, key: Uint8Array): boolean {
  try {
    const ne: NonExistenceProof | undefined = proof.nonexist;
    if (!ne || !bytesEqual(ne.key, key)) return false;
    const target = sha256(key);
    if (!ne.left && !ne.right) return bytesToHash(root) === EMPTY_HASH;
    const left = ne.left ? checkExistence(root, ne.left) : null;
    const right = ne.right ? checkExistence(root, ne.right) : null;
    if ((ne.left && !left) || (ne.right && !right)) return false;
    if (left && comparePaths(left.path, target) >= 0) return false;
    if (right && comparePaths(target, right.path) >= 0) return false;
    if (!left) return isExtreme(right!.steps, 0);
    if (!right) return isExtreme(left.steps, 1);
    // Adjacent leaves: strip the shared steps from the root end; at the first divergence the left
    // proof must go left and the right proof right; below it, left is rightmost and right leftmost.
    const ls = left.steps.slice();
    const rs = right.steps.slice();
    let tl = ls.pop();
    let tr = rs.pop();
    while (tl && tr && tl.side === tr.side && tl.sibling === tr.sibling) {
      tl = ls.pop();
      tr = rs.pop();
    }
    if (!tl || !tr || tl.side !== 0 || tr.side !== 1) return false;
    return isExtreme(ls, 1) && isExtreme(rs, 0);
  } catch {
    return false;
  }
}

/** Builds an ExistenceProof from root-first steps. */
export function existenceProof(key: Uint8Array, value: Uint8Array, stepsFromRoot: Step[]): ExistenceProof {
  const path: InnerOp[] = [];
  for (let i = stepsFromRoot.length - 1; i >= 0; i--) path.push(innerOpFor(stepsFromRoot[i].side, stepsFromRoot[i].sibling));
  return { key: Uint8Array.from(key), value: Uint8Array.from(value), leaf: { ...SMT_LEAF_OP, prefix: Uint8Array.of(0) }, path };
}

/** Recomputes the root an existence proof commits to (no checks). */
export function existenceRoot(proof: ExistenceProof): Uint8Array {
  let h: Hash = leafHash(sha256(proof.key), sha256(proof.value));
  for (const op of proof.path) {
    const step = decodeStep(op);
    if (!step) throw new Error('malformed InnerOp');
    h = step.side === 0 ? innerHash(h, step.sibling) : innerHash(step.sibling, h);
  }
  return new Uint8Array(Buffer.from(h, 'latin1'));
}
