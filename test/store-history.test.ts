/**
 * Recent heights (src/store/history.ts, CommittedStore.versionAt/readerAt/proveAt): every height inside the window
 * reads exactly that height's state, with proofs that verify against that height's app hash; heights outside the
 * window (pruned, future, 0) are refused; the window survives a reopen and is pruned on disk; staged writes are not
 * visible at the latest committed height.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { CommittedStore } from '../src/store/committed.js';
import { HeightNotAvailableError } from '../src/store/history.js';
import { keyToBytes, type Write } from '../src/store/kv.js';
import { verifyMembership, verifyNonMembership } from '../src/store/proof.js';
import { Rng } from './helpers/rng.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-history-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const dump = (r: { iterate(s: string, e: undefined): IterableIterator<[string, Uint8Array]> }) =>
  [...r.iterate('', undefined)].map(([k, v]) => `${k}=${Buffer.from(v).toString()}`);

async function undoRecords(dir: string): Promise<number> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const keys = await db.keys({ gte: Buffer.from('u'), lt: Buffer.from('v') }).all();
  await db.close();
  return keys.length;
}

test('every height in the window reads its own state and proves against its own app hash', async (t) => {
  const dir = tempDir(t);
  const W = 8;
  let s = await CommittedStore.open(dir, { historyBlocks: W, sync: false });
  const rng = new Rng(7);
  const model = new Map<string, string>();
  const states = new Map<bigint, { dump: string[]; root: Uint8Array; model: Map<string, string> }>();
  for (let h = 1n; h <= 20n; h++) {
    const ws: Write[] = [];
    for (let i = 0, n = 1 + rng.int(40); i < n; i++) {
      const k = `k/${rng.int(60)}`;
      if (rng.int(4) === 0) {
        ws.push([k, null]);
        model.delete(k);
      } else {
        const v = `h${h}.${i}`;
        ws.push([k, Buffer.from(v)]);
        model.set(k, v);
      }
    }
    s.applyBlock(ws);
    await s.commit(h);
    states.set(h, { dump: [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`), root: s.appHash, model: new Map(model) });
    if (h === 12n) {
      await s.close(); // the window is on disk: it survives a reopen
      s = await CommittedStore.open(dir, { historyBlocks: W, sync: false });
    }
  }
  t.is(s.oldestHeight, 20n - BigInt(W) + 1n);
  for (let h = s.oldestHeight; h <= 20n; h++) {
    const want = states.get(h)!;
    const v = await s.versionAt(h);
    t.deepEqual(v.appHash, want.root, `app hash of ${h}`);
    t.deepEqual(dump(s.readerAt(v)), want.dump, `state at ${h}`);
    for (let i = 0; i < 60; i += 7) {
      const key = `k/${i}`;
      const p = s.proveAt(v, key);
      t.deepEqual(p.root, want.root);
      const val = want.model.get(key);
      if (val !== undefined) {
        t.true(p.exists);
        t.true(verifyMembership(want.root, p.proof, keyToBytes(key), Buffer.from(val)), `${key} at ${h}`);
      } else {
        t.false(p.exists);
        t.true(verifyNonMembership(want.root, p.proof, keyToBytes(key)), `absent ${key} at ${h}`);
      }
    }
    // the live tree is restored after every proof
    t.deepEqual(s.root(), states.get(20n)!.root);
  }
  for (const h of [0n, s.oldestHeight - 1n, 1n, 21n]) {
    await t.throwsAsync(s.versionAt(h), { instanceOf: HeightNotAvailableError }, `height ${h}`);
  }
  const err = await t.throwsAsync(s.versionAt(3n));
  t.regex(err!.message, /outside the recent-height window: this node keeps heights 13\.\.20/);
  await s.close();
  t.is(await undoRecords(dir), W, 'only the window is kept on disk');
  // a smaller window at the next open drops the older records at once
  s = await CommittedStore.open(dir, { historyBlocks: 3, sync: false });
  t.is(s.oldestHeight, 18n);
  await s.close();
  t.is(await undoRecords(dir), 3);
});

test('staged writes are invisible at the latest committed height; a version goes stale after the next block', async (t) => {
  const s = await CommittedStore.open(tempDir(t), { sync: false });
  s.applyBlock([['a', Buffer.from('1')], ['b', Buffer.from('2')]]);
  await s.commit(1n);
  const root1 = s.appHash;
  s.applyBlock([['a', null], ['c', Buffer.from('3')], ['b', Buffer.from('2b')]]);
  t.is(s.pending, 3);
  const v = await s.versionAt(1n);
  t.deepEqual(dump(s.readerAt(v)), ['a=1', 'b=2']);
  t.true(verifyMembership(root1, s.proveAt(v, 'a').proof, keyToBytes('a'), Buffer.from('1')));
  t.true(verifyNonMembership(root1, s.proveAt(v, 'c').proof, keyToBytes('c')));
  s.applyBlock([['d', Buffer.from('4')]]);
  t.throws(() => s.readerAt(v), { message: /stale/ });
  await s.commit(2n);
  const v1 = await s.versionAt(1n);
  t.deepEqual(dump(s.readerAt(v1)), ['a=1', 'b=2']);
  const v2 = await s.versionAt(2n);
  t.deepEqual(dump(s.readerAt(v2)), ['b=2b', 'c=3', 'd=4']);
  await s.close();
});
