/**
 * Crash safety of commit and version pruning, CI-sized: 50 times, a child process commits blocks in a loop (each
 * commit also writes the height's undo record and deletes the one leaving the recent-height window; every few
 * runs the child opens with a smaller window, so opening prunes too; it reopens its LevelDB handle every 3 heights,
 * so kills also land in a reopen's close or open) and is SIGKILLed at a random moment. After
 * every kill the store reopens at the last reported commit or the one in flight, and there is zero divergence:
 * the app hash equals an independently built tree of the model, every key's value matches, and every height still
 * in the window reads exactly the model's state of that height with that height's root. The child is bundled once
 * with esbuild so each start costs a fraction of a second.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { Level } from 'level';
import { CommittedStore } from '../src/store/committed.js';
import { SparseMerkleTree, makeLeaf, hashToBytes } from '../src/store/smt.js';
import { compareKeys, type Write } from '../src/store/kv.js';

const ROUNDS = 50;
const WINDOW = 5;
const KEYSPACE = 400;
const PER_BLOCK = 120;

/** Deterministic block contents for height h (shared by child and checker). */
function blockWrites(h: number): Write[] {
  const ws: Write[] = [];
  for (let j = 0; j < PER_BLOCK; j++) {
    const k = `k/${(h * 7919 + j * 131) % KEYSPACE}`;
    ws.push([k, (h + j) % 7 === 0 ? null : Buffer.from(`h${h}:j${j}`)]);
  }
  return ws;
}

const CHILD = `
import { CommittedStore } from ${JSON.stringify(resolve('src/store/committed.ts'))};
${blockWrites.toString()}
const PER_BLOCK = ${PER_BLOCK}, KEYSPACE = ${KEYSPACE};
const s = await CommittedStore.open(process.argv[2], { sync: false, historyBlocks: Number(process.argv[3]), reopenEveryBlocks: 3 });
process.stdout.write('open ' + s.height + '\\n');
for (let h = Number(s.height) + 1; ; h++) {
  s.applyBlock(blockWrites(h));
  await s.commit(BigInt(h));
  process.stdout.write('committed ' + h + '\\n');
}
`;

function rootOf(model: Map<string, string>): Uint8Array {
  const t = new SparseMerkleTree();
  for (const [k, v] of model) t.upsert(makeLeaf(k, Buffer.from(v)));
  return hashToBytes(t.root());
}

test(`crash safety: ${ROUNDS} SIGKILLs during commits and version pruning, zero divergence`, async (t) => {
  t.timeout(240_000);
  const dir = resolve('tmp', `store-crash-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'child.ts');
  writeFileSync(src, CHILD);
  const bundle = join(dir, 'child.mjs');
  await build({ entryPoints: [src], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, packages: 'external', logLevel: 'error' });
  const db = join(dir, 'db');

  // model state after every height
  const states: Map<string, string>[] = [new Map()];
  const stateAt = (h: number): Map<string, string> => {
    while (states.length <= h) {
      const m = new Map(states[states.length - 1]);
      for (const [k, v] of blockWrites(states.length)) {
        if (v === null) m.delete(k);
        else m.set(k, Buffer.from(v).toString());
      }
      states.push(m);
    }
    return states[h]!;
  };

  let kills = 0;
  let checkedVersions = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const window = round % 4 === 3 ? 3 : WINDOW; // a smaller window now and then: open prunes, then commits go on
    const proc = spawn(process.execPath, [bundle, db, String(window)], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    const exited = new Promise<void>((res) => proc.on('exit', () => res()));
    const deadline = Date.now() + 60_000;
    while (!out.includes('open ')) {
      if (proc.exitCode !== null) throw new Error(`child exited early: ${err}`);
      if (Date.now() > deadline) throw new Error('child did not open the store');
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 120)));
    proc.kill('SIGKILL');
    await exited;
    kills++;
    const done = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
    const lastReported = done.length ? done[done.length - 1]! : Number(/open (\d+)/.exec(out)![1]);

    const s = await CommittedStore.open(db, { sync: false, historyBlocks: WINDOW });
    try {
      const h = Number(s.height);
      t.true(h === lastReported || h === lastReported + 1, `round ${round}: height ${h}, last reported ${lastReported}`);
      const model = stateAt(h);
      t.deepEqual(s.appHash, rootOf(model), `round ${round}: app hash at ${h}`);
      t.is(s.size, model.size);
      for (const [k, v] of model) if (Buffer.from(s.get(k) ?? []).toString() !== v) t.fail(`round ${round}: ${k} at ${h}`);
      // the recent-height window is intact: every height in it reads its own state and root
      // (a kill before the first commit leaves height 0 with no versions at all: oldest 0)
      if (h === 0) t.is(Number(s.oldestHeight), 0, `round ${round}: oldest ${s.oldestHeight} at 0`);
      else t.true(s.oldestHeight >= Math.max(1, h - WINDOW + 1), `round ${round}: oldest ${s.oldestHeight} at ${h}`);
      for (let v = Number(s.oldestHeight); v < h; v++) {
        const ver = await s.versionAt(BigInt(v));
        const want = stateAt(v);
        t.deepEqual(ver.appHash, rootOf(want), `round ${round}: root of ${v}`);
        const got = [...s.readerAt(ver).iterate('', undefined)].map(([k, val]) => `${k}=${Buffer.from(val).toString()}`);
        t.deepEqual(got, [...want].sort(([a], [b]) => compareKeys(a, b)).map(([k, val]) => `${k}=${val}`), `round ${round}: state at ${v}`);
        const key = `k/${v % KEYSPACE}`;
        t.deepEqual(s.proveAt(ver, key).root, ver.appHash);
        checkedVersions++;
      }
    } finally {
      await s.close();
    }
    // pruned on disk: never more undo records than the window
    const raw = new Level<Buffer, Buffer>(db, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const undo = await raw.keys({ gte: Buffer.from('u'), lt: Buffer.from('v') }).all();
    await raw.close();
    t.true(undo.length <= WINDOW, `round ${round}: ${undo.length} undo records`);
  }
  t.is(kills, ROUNDS);
  t.true(states.length > 10, `the children committed ${states.length - 1} blocks in all`);
  t.log(`${kills} kills, ${states.length - 1} blocks, ${checkedVersions} past versions checked`);
});
