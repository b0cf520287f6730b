/**
 * CommittedStore.compact(): a full LevelDB compaction is storage only — after it (and after a reopen) every value,
 * the app hash and membership proofs are what they were, and commits go on.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommittedStore } from '../src/store/committed.js';
import type { Write } from '../src/store/kv.js';
import { verifyMembership } from '../src/store/proof.js';

test('compaction changes no value, root or proof; commits continue', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'store-compact-'));
  try {
    let s = await CommittedStore.open(dir, { sync: false });
    // churn: each block rewrites 300 keys and deletes the 300 written two blocks before
    for (let b = 1; b <= 12; b++) {
      const ws: Write[] = [];
      for (let i = 0; i < 300; i++) ws.push([`k/${b}/${i}`, Buffer.from(`v${b}-${i}`.repeat(8))]);
      if (b > 2) for (let i = 0; i < 300; i++) ws.push([`k/${b - 2}/${i}`, null]);
      s.applyBlock(ws);
      await s.commit(BigInt(b));
    }
    const root = Buffer.from(s.appHash);
    await s.compact();
    t.deepEqual(Buffer.from(s.appHash), root);
    await s.close();
    s = await CommittedStore.open(dir, { sync: false });
    t.deepEqual(Buffer.from(s.appHash), root, 'the reopened store has the same root');
    t.is(s.get('k/1/5'), undefined, 'deleted keys stay deleted');
    const v = s.get('k/12/7');
    t.deepEqual(v && Buffer.from(v), Buffer.from('v12-7'.repeat(8)));
    const p = s.prove('k/11/3');
    t.true(p.exists && verifyMembership(s.appHash, p.proof, Buffer.from('k/11/3', 'latin1'), p.value!));
    s.applyBlock([['k/13/0', Buffer.from('after')]]);
    await s.commit(13n);
    t.notDeepEqual(Buffer.from(s.appHash), root);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Block b of the second test's churn: 200 keys written, the previous block's 200 deleted. */
function churnBlock(b: number): Write[] {
  const ws: Write[] = [];
  for (let i = 0; i < 200; i++) ws.push([`k/${b}/${i}`, Buffer.from(`v${b}-${i}`.repeat(8))]);
  if (b > 1) for (let i = 0; i < 200; i++) ws.push([`k/${b - 1}/${i}`, null]);
  return ws;
}

test('compactEveryBlocks: the store compacts in the background after every N-th height; close waits for it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'store-compact-every-'));
  try {
    let s = await CommittedStore.open(dir, { sync: false, compactEveryBlocks: 4 });
    const roots: Buffer[] = [];
    for (let b = 1; b <= 9; b++) {
      s.applyBlock(churnBlock(b));
      await s.commit(BigInt(b)); // heights 4 and 8 start a compaction; blocks could go on meanwhile
      roots.push(Buffer.from(s.appHash));
      if (b === 4) {
        await s.compactionIdle(); // (so the count below does not depend on this machine's speed)
        t.is(s.compactions, 1, 'compacted after height 4');
      }
    }
    await s.close(); // waits for the compaction started at height 8
    t.is(s.compactions, 2, 'compacted after height 8, and close waited for it');
    s = await CommittedStore.open(dir, { sync: false });
    t.deepEqual(Buffer.from(s.appHash), roots.at(-1));
    t.is(s.get('k/8/1'), undefined);
    t.deepEqual(Buffer.from(s.get('k/9/1')!), Buffer.from('v9-1'.repeat(8)));
    await s.close();
    // the same writes without compaction give the same roots: storage only
    const dir2 = mkdtempSync(join(tmpdir(), 'store-compact-never-'));
    try {
      const u = await CommittedStore.open(dir2, { sync: false });
      for (let b = 1; b <= 9; b++) {
        u.applyBlock(churnBlock(b));
        await u.commit(BigInt(b));
        t.deepEqual(Buffer.from(u.appHash), roots[b - 1]);
      }
      t.is(u.compactions, 0);
      await u.close();
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
