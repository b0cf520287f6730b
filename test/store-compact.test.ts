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
