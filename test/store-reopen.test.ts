/**
 * CommittedStore's periodic reopen (OpenOptions.reopenEveryBlocks): LevelDB starts its info LOG and its MANIFEST
 * afresh only at open, so a long-running store reopens its handle every N heights to keep them (and the disk) bounded.
 * It is storage only (same roots, values, proofs and recent-height versions as a store that never reopens), it is put
 * off while a snapshot export holds the handle, and it does bound the LOG.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommittedStore, DEFAULT_REOPEN_BLOCKS } from '../src/store/committed.js';
import type { Write } from '../src/store/kv.js';
import { verifyMembership } from '../src/store/proof.js';

/** Block b: 400 keys written with ~1 KB values (enough that LevelDB flushes its 4 MiB memtable every few blocks), the block-before-last's 400 deleted. */
function churnBlock(b: number): Write[] {
  const ws: Write[] = [];
  for (let i = 0; i < 400; i++) ws.push([`k/${b}/${i}`, Buffer.from(`v${b}-${i}-`.repeat(90))]);
  if (b > 2) for (let i = 0; i < 400; i++) ws.push([`k/${b - 2}/${i}`, null]);
  return ws;
}

const size = (dir: string, name: string): number => (existsSync(join(dir, name)) ? statSync(join(dir, name)).size : 0);
const manifest = (dir: string): string => readdirSync(dir).find((f) => f.startsWith('MANIFEST-'))!;

async function withDirs(t: { teardown(fn: () => void): void }, n: number): Promise<string[]> {
  const dirs = Array.from({ length: n }, (_, i) => mkdtempSync(join(tmpdir(), `store-reopen-${i}-`)));
  t.teardown(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
  return dirs;
}

test('the default reopens every 200 heights; proofbook start refuses a bad --state-reopen-interval', async (t) => {
  t.is(DEFAULT_REOPEN_BLOCKS, 200);
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
  const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'cli/main.ts'), 'start', '--home', '/nonexistent/proofbook-reopen', '--state-reopen-interval', '-3'], { cwd: root, timeout: 120_000 }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
  t.not(r.code, 0);
  t.regex(r.stderr, /--state-reopen-interval must be an integer >= 0, got '-3'/);
});

test('reopening every N heights changes no root, value, proof or recent version, and starts LOG and MANIFEST afresh', async (t) => {
  const [dir, dir2] = await withDirs(t, 2);
  const s = await CommittedStore.open(dir, { sync: false, reopenEveryBlocks: 10 });
  const never = await CommittedStore.open(dir2, { sync: false, reopenEveryBlocks: 0 });
  let manifestBefore = manifest(dir);
  for (let b = 1; b <= 40; b++) {
    for (const st of [s, never]) {
      st.applyBlock(churnBlock(b));
      await st.commit(BigInt(b));
    }
    t.deepEqual(Buffer.from(s.appHash), Buffer.from(never.appHash), `same root at height ${b}`);
    if (b % 10 === 0) {
      t.is(s.reopens, b / 10, `reopened after height ${b}`);
      t.true(existsSync(join(dir, 'LOG.old')), 'the previous info log was rotated to LOG.old');
      const m = manifest(dir);
      t.not(m, manifestBefore, 'a new MANIFEST');
      manifestBefore = m;
    }
    // reads straight after a reopen go to the reopened handle
    const v = s.get(`k/${b}/7`);
    t.deepEqual(v && Buffer.from(v), Buffer.from(`v${b}-7-`.repeat(90)));
  }
  t.is(never.reopens, 0);
  // The info LOG of the reopening store holds at most the last 10 heights; the other one every flush and
  // compaction since open. (Sizes, not counts: LevelDB writes a line per flush and compaction.)
  t.true(size(dir, 'LOG') < size(dir2, 'LOG'), `LOG ${size(dir, 'LOG')} B after the reopen < ${size(dir2, 'LOG')} B without`);
  t.true(size(dir, manifest(dir)) < size(dir2, manifest(dir2)), 'the fresh MANIFEST is smaller than the one written since open');
  // proofs and recent heights across reopens
  const p = s.prove('k/39/3');
  t.true(p.exists && verifyMembership(s.appHash, p.proof, Buffer.from('k/39/3', 'latin1'), p.value!));
  const ver = await s.versionAt(35n); // the window spans the reopens at 30 and 40
  const verNever = await never.versionAt(35n);
  t.deepEqual(Buffer.from(ver.appHash), Buffer.from(verNever.appHash));
  t.deepEqual(Buffer.from(s.readerAt(ver).get('k/34/1')!), Buffer.from('v34-1-'.repeat(90)));
  t.is(s.readerAt(ver).get('k/36/1'), undefined);
  const old = s.proveAt(ver, 'k/35/2');
  t.true(old.exists && verifyMembership(ver.appHash, old.proof, Buffer.from('k/35/2', 'latin1'), old.value!));
  await s.close();
  await never.close();
  const again = await CommittedStore.open(dir, { sync: false });
  t.deepEqual(Buffer.from(again.appHash), Buffer.from(p.root));
  await again.close();
});

test('a reopen due while a snapshot export holds the handle waits for the export; the export reads its own height', async (t) => {
  const [dir] = await withDirs(t, 1);
  const s = await CommittedStore.open(dir, { sync: false, reopenEveryBlocks: 3 });
  for (let b = 1; b <= 2; b++) {
    s.applyBlock(churnBlock(b));
    await s.commit(BigInt(b));
  }
  const exp = s.exportCommitted(); // height 2
  for (let b = 3; b <= 5; b++) {
    s.applyBlock(churnBlock(b));
    await s.commit(BigInt(b)); // height 3 makes a reopen due; the export holds the handle
  }
  t.is(s.reopens, 0, 'put off while the export is open');
  let n = 0;
  for await (const [k] of exp.entries()) {
    t.regex(k, /^k\/[12]\//, 'only height 2 entries');
    n++;
  }
  t.is(n, 800);
  await exp.close();
  await exp.close(); // idempotent: the hold is released once
  s.applyBlock(churnBlock(6));
  await s.commit(6n); // the reopen put off at 3 runs now (and 6 is due anyway: one reopen)
  t.is(s.reopens, 1);
  s.applyBlock(churnBlock(7));
  await s.commit(7n);
  t.is(s.reopens, 1, 'not due again before height 9');
  t.deepEqual(Buffer.from(s.get('k/7/0')!), Buffer.from('v7-0-'.repeat(90)));
  await s.close();
});

test('async readers wait for a reopen in flight instead of failing', async (t) => {
  const [dir] = await withDirs(t, 1);
  const s = await CommittedStore.open(dir, { sync: false, reopenEveryBlocks: 2, historyBlocks: 10 });
  s.applyBlock(churnBlock(1));
  await s.commit(1n);
  s.applyBlock(churnBlock(2));
  let done = false;
  const committing = s.commit(2n).then(() => { done = true; }); // writes, then reopens (close + open: I/O turns)
  while (!s.reopenInFlight && !done) await new Promise((r) => setImmediate(r));
  t.true(s.reopenInFlight, 'caught the reopen in flight');
  // each waits for the handle instead of failing with "Database is not open"
  const reads = [s.versionAt(1n), s.auxGet('x', 'missing'), (async () => { for await (const _ of s.auxIterate('x')) void _; return 'ok'; })()];
  await committing;
  const [ver, aux, iter] = await Promise.all(reads);
  t.is((ver as { height: bigint }).height, 1n);
  t.is(aux, undefined);
  t.is(iter, 'ok');
  t.is(s.reopens, 1);
  await s.close();
});
