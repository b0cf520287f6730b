import test from 'ava';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ics23 from '@confio/ics23';
import { CommitmentProof, HashOp, LengthOp } from 'cosmjs-types/cosmos/ics23/v1/proofs';
import { SparseMerkleTree, makeLeaf, sha256Key, hashToBytes } from '../src/store/smt.js';
import { CommittedStore } from '../src/store/committed.js';
import { SMT_SPEC, existenceRoot, verifyMembership, verifyNonMembership } from '../src/store/proof.js';
import { keyToBytes } from '../src/store/kv.js';

// ---- An independent reference root: rebuilt from scratch with createHash, no shared code paths.
const H = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
function refRoot(entries: Map<string, Uint8Array>): Buffer {
  const items = [...entries].map(([k, v]) => {
    const path = H(Buffer.from(k, 'latin1'));
    return { path, leaf: H(Uint8Array.of(0), path, H(v)) };
  });
  const bit = (p: Buffer, d: number) => (p[d >> 3] >> (7 - (d & 7))) & 1;
  const build = (xs: typeof items, d: number): Buffer => {
    if (xs.length === 0) return Buffer.alloc(32);
    if (xs.length === 1) return xs[0].leaf;
    return H(Uint8Array.of(1), build(xs.filter((x) => bit(x.path, d) === 0), d + 1), build(xs.filter((x) => bit(x.path, d) === 1), d + 1));
  };
  return build(items, 0);
}

const keyArb = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 6 });
const valArb = fc.uint8Array({ minLength: 1, maxLength: 8 });

function treeOf(entries: Iterable<[string, Uint8Array]>): SparseMerkleTree {
  const t = new SparseMerkleTree();
  for (const [k, v] of entries) t.upsert(makeLeaf(k, v));
  return t;
}
const hex = (b: Uint8Array | string) => (typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b)).toString('hex');

test('SMT root equals an independent from-scratch computation, for any insertion order', (t) => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(keyArb, valArb), { selector: (e) => e[0], maxLength: 40 }), fc.integer(), (entries, seed) => {
      const expected = refRoot(new Map(entries)).toString('hex');
      const shuffled = entries.slice();
      let s = seed >>> 0;
      for (let i = shuffled.length - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) >>> 0;
        const j = s % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      const a = treeOf(entries);
      const b = treeOf(shuffled);
      return hex(a.root()) === expected && hex(b.root()) === expected && a.size === entries.length;
    }),
    { numRuns: 300 },
  );
  t.is(hex(new SparseMerkleTree().root()), '00'.repeat(32));
});

test('SMT.build (bulk, used at open) gives the independent root and the same shape as upserts, then updates normally', (t) => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 60 }), (keys) => {
      const m = new Map(keys.map((k, i) => [k, Buffer.from(`v${i}`)] as [string, Uint8Array]));
      const bulk = new SparseMerkleTree();
      bulk.build([...m].map(([k, v]) => makeLeaf(k, v)));
      t.is(Buffer.from(hashToBytes(bulk.root())).toString('hex'), refRoot(m).toString('hex'));
      t.is(bulk.size, m.size);
      // the built tree behaves like an upserted one afterwards (same shape: same roots after the same edits)
      const ups = new SparseMerkleTree();
      for (const [k, v] of m) ups.upsert(makeLeaf(k, v));
      for (const k of keys.slice(0, 5)) {
        bulk.remove(sha256Key(k));
        ups.remove(sha256Key(k));
        t.is(bulk.root(), ups.root());
      }
      bulk.upsert(makeLeaf('extra', Buffer.from('x')));
      ups.upsert(makeLeaf('extra', Buffer.from('x')));
      t.is(bulk.root(), ups.root());
    }),
    { numRuns: 60 },
  );
});

test('SMT: deletes collapse the tree; delete-then-reinsert restores the root; interleaved updates', (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(keyArb, valArb), { selector: (e) => e[0], minLength: 1, maxLength: 30 }),
      fc.array(fc.tuple(fc.nat(), fc.option(valArb, { nil: null })), { maxLength: 40 }),
      (entries, ops) => {
        const tree = treeOf(entries);
        const model = new Map(entries);
        const before = hex(tree.root());
        // delete everything then reinsert in reverse order -> same root
        for (const [k] of entries) tree.remove(sha256Key(k));
        if (hex(tree.root()) !== '00'.repeat(32) || tree.size !== 0) return false;
        for (const [k, v] of entries.slice().reverse()) tree.upsert(makeLeaf(k, v));
        if (hex(tree.root()) !== before) return false;
        // random updates/deletes, checking the root against the reference after each one
        for (const [i, v] of ops) {
          const k = entries[i % entries.length][0];
          if (v === null) {
            tree.remove(sha256Key(k));
            model.delete(k);
          } else {
            tree.upsert(makeLeaf(k, v));
            model.set(k, v);
          }
          if (hex(tree.root()) !== refRoot(model).toString('hex') || tree.size !== model.size) return false;
        }
        return true;
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

async function withStore(t: any, entries: [string, Uint8Array][]): Promise<CommittedStore> {
  const dir = mkdtempSync(join(tmpdir(), 'store-smt-'));
  const store = await CommittedStore.open(dir);
  t.teardown(async () => {
    await store.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  store.applyBlock(entries);
  return store;
}

test('proofs: membership for present keys, non-membership for absent keys, failures on tampering', async (t) => {
  const entries: [string, Uint8Array][] = [];
  for (let i = 0; i < 300; i++) entries.push([`key/${i}`, Buffer.from(`value ${i}`)]);
  const store = await withStore(t, entries);
  const root = store.root();
  t.deepEqual(root, new Uint8Array(refRoot(new Map(entries))));
  for (let i = 0; i < 300; i += 7) {
    const key = `key/${i}`;
    const p = store.prove(key);
    t.true(p.exists);
    t.deepEqual(Buffer.from(p.value!).toString(), `value ${i}`);
    const kb = keyToBytes(key);
    t.true(verifyMembership(root, p.proof, kb, p.value!), key);
    t.deepEqual(existenceRoot(p.proof.exist!), root);
    // round-trips through protobuf encoding
    const decoded = CommitmentProof.decode(CommitmentProof.encode(p.proof).finish());
    t.true(verifyMembership(root, decoded, kb, p.value!));
    // wrong value, wrong root, wrong key, and a membership proof is not a non-membership proof
    t.false(verifyMembership(root, p.proof, kb, Buffer.from(`value ${i + 1}`)));
    const badRoot = Uint8Array.from(root);
    badRoot[0] ^= 1;
    t.false(verifyMembership(badRoot, p.proof, kb, p.value!));
    t.false(verifyMembership(root, p.proof, keyToBytes(`key/${i + 1}`), p.value!));
    t.false(verifyNonMembership(root, p.proof, kb));
    // tamper with a sibling
    if (p.proof.exist!.path.length > 0) {
      const forged = CommitmentProof.decode(CommitmentProof.encode(p.proof).finish());
      const op = forged.exist!.path[0];
      (op.suffix.length ? op.suffix : op.prefix)[5] ^= 0x80;
      t.false(verifyMembership(root, forged, kb, p.value!));
    }
  }
  for (let i = 300; i < 400; i++) {
    const key = `key/${i}`;
    const p = store.prove(key);
    t.false(p.exists);
    t.true(verifyNonMembership(root, p.proof, keyToBytes(key)), key);
    t.false(verifyNonMembership(root, p.proof, keyToBytes(`key/${i - 300}`)));
    const badRoot = Uint8Array.from(root);
    badRoot[31] ^= 1;
    t.false(verifyNonMembership(badRoot, p.proof, keyToBytes(key)));
    t.false(verifyMembership(root, p.proof, keyToBytes(key), Buffer.from('x')));
  }
  // A present key cannot be "proven absent" with its own neighbours: they are not adjacent.
  const present = 'key/42';
  store.applyBlock([[present, null]]);
  const gap = store.prove(present).proof;
  store.applyBlock([[present, Buffer.from('value 42')]]);
  t.deepEqual(store.root(), root);
  t.false(verifyNonMembership(root, gap, keyToBytes(present)));
  // Dropping one neighbour of a genuine non-membership proof must fail unless it is an edge.
  const p = store.prove('key/1000').proof;
  if (p.nonexist!.left && p.nonexist!.right) {
    t.false(verifyNonMembership(root, { nonexist: { ...p.nonexist!, left: undefined } }, keyToBytes('key/1000')));
    t.false(verifyNonMembership(root, { nonexist: { ...p.nonexist!, right: undefined } }, keyToBytes('key/1000')));
  }
});

test('proofs: edges (empty tree, single leaf, leftmost/rightmost absent keys)', async (t) => {
  const store = await withStore(t, []);
  const empty = store.root();
  t.is(hex(empty), '00'.repeat(32));
  const p0 = store.prove('anything');
  t.false(p0.exists);
  t.true(verifyNonMembership(empty, p0.proof, keyToBytes('anything')));
  t.false(verifyNonMembership(Uint8Array.from({ length: 32 }, () => 1), p0.proof, keyToBytes('anything')));

  const one = store.applyBlock([['only', Uint8Array.of(7)]]);
  t.is(hex(one), hex(makeLeaf('only', Uint8Array.of(7)).hash));
  const p1 = store.prove('only');
  t.is(p1.proof.exist!.path.length, 0);
  t.true(verifyMembership(one, p1.proof, keyToBytes('only'), Uint8Array.of(7)));
  const n1 = store.prove('other');
  t.true(verifyNonMembership(one, n1.proof, keyToBytes('other')));

  // Find absent keys hashing below/above every present key: exercise one-sided proofs.
  const keys: [string, Uint8Array][] = [];
  for (let i = 0; i < 50; i++) keys.push([`k${i}`, Uint8Array.of(i + 1)]);
  const root = store.applyBlock(keys);
  const paths = [...keys.map(([k]) => hex(sha256Key(k))), hex(sha256Key('only'))].sort();
  let sawLeft = false;
  let sawRight = false;
  for (let i = 0; i < 2000 && !(sawLeft && sawRight); i++) {
    const k = `absent${i}`;
    const ph = hex(sha256Key(k));
    const isLow = ph < paths[0];
    const isHigh = ph > paths[paths.length - 1];
    if (!isLow && !isHigh) continue;
    const p = store.prove(k);
    t.true(verifyNonMembership(root, p.proof, keyToBytes(k)));
    if (isLow) {
      sawLeft = true;
      t.is(p.proof.nonexist!.left, undefined);
    } else {
      sawRight = true;
      t.is(p.proof.nonexist!.right, undefined);
    }
  }
  t.true(sawLeft && sawRight);
});

test('SMT_SPEC equals ICS-23 SmtSpec; @confio/ics23 verifies our existence proofs', async (t) => {
  t.is(SMT_SPEC.leafSpec!.hash, HashOp.SHA256);
  t.is(SMT_SPEC.leafSpec!.prehashKey, HashOp.SHA256);
  t.is(SMT_SPEC.leafSpec!.prehashValue, HashOp.SHA256);
  t.is(SMT_SPEC.leafSpec!.length, LengthOp.NO_PREFIX);
  t.deepEqual([...SMT_SPEC.leafSpec!.prefix], [0]);
  t.deepEqual(SMT_SPEC.innerSpec!.childOrder, [0, 1]);
  t.is(SMT_SPEC.innerSpec!.childSize, 32);
  t.is(SMT_SPEC.innerSpec!.minPrefixLength, 1);
  t.is(SMT_SPEC.innerSpec!.maxPrefixLength, 1);
  t.deepEqual(SMT_SPEC.innerSpec!.emptyChild, new Uint8Array(32));
  t.is(SMT_SPEC.maxDepth, 256);

  const entries: [string, Uint8Array][] = [];
  for (let i = 0; i < 64; i++) entries.push([`acct/${i}`, Buffer.from(`bal ${i * 3}`)]);
  const store = await withStore(t, entries);
  const root = store.root();
  // @confio/ics23 0.6.8 predates prehash_key_before_comparison and its smtSpec has prehashKey
  // NO_HASH (the old celestia layout), so hand it SMT_SPEC itself: its existence check applies the
  // leaf/inner ops generically.
  for (const [k, v] of entries) {
    const p = store.prove(k);
    t.true(ics23.verifyMembership(p.proof as any, SMT_SPEC as any, root, keyToBytes(k), v), k);
    t.false(ics23.verifyMembership(p.proof as any, SMT_SPEC as any, root, keyToBytes(k), Buffer.from('nope')));
  }
  t.is(hex(hashToBytes(sha256Key('a'))), createHash('sha256').update('a').digest('hex'));
});
