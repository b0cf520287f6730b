import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Level } from 'level';
import { CommittedStore } from '../src/store/committed.js';
import { type Write, u64Key } from '../src/store/kv.js';
import { verifyMembership } from '../src/store/proof.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-committed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const b = (s: string) => Buffer.from(s);
const str = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString());
const dumpStore = (s: CommittedStore) => [...s.iterate('', undefined)].map(([k, v]) => `${k}=${str(v)}`);

test('fresh store: height 0, empty root (32 zero bytes)', async (t) => {
  const s = await CommittedStore.open(join(tempDir(t), 'nested', 'db'));
  t.is(s.height, 0n);
  t.deepEqual(s.appHash, new Uint8Array(32));
  t.deepEqual(s.root(), new Uint8Array(32));
  t.is(s.size, 0);
  await s.close();
});

test('commit, close, reopen -> same root, height, values; uncommitted writes are dropped', async (t) => {
  const dir = tempDir(t);
  let s = await CommittedStore.open(dir);
  const r1 = s.applyBlock([['a', b('1')], ['b', b('2')], ['c', b('3')]]);
  t.deepEqual(s.appHash, new Uint8Array(32), 'appHash reports the last commit, not the staged root');
  t.is(str(s.get('b')), '2', 'reads see staged writes');
  await s.commit(1n);
  t.is(s.height, 1n);
  t.deepEqual(s.appHash, r1);
  const r2 = s.applyBlock([['b', null], ['d', b('4')], ['a', b('1b')]]);
  t.notDeepEqual(r1, r2);
  await s.commit(2n, [{ ns: 'blocks', key: u64Key(2n), value: b('block2') }]);
  s.applyBlock([['zzz', b('never committed')]]);
  await s.close();

  s = await CommittedStore.open(dir);
  t.is(s.height, 2n);
  t.deepEqual(s.appHash, r2);
  t.deepEqual(s.root(), r2);
  t.deepEqual(dumpStore(s), ['a=1b', 'c=3', 'd=4']);
  t.false(s.has('zzz'));
  t.is(s.size, 3);
  t.is(str(await s.auxGet('blocks', u64Key(2n))), 'block2');
  const p = s.prove('d');
  t.deepEqual(p.root, s.appHash);
  t.true(verifyMembership(s.appHash, p.proof, b('d'), b('4')));
  // staged writes: the proof is against the staged root, reported in `root`
  const staged = s.applyBlock([['e', b('5')]]);
  t.is(s.pending, 1);
  const pe = s.prove('e');
  t.deepEqual(pe.root, staged);
  t.true(verifyMembership(staged, pe.proof, b('e'), b('5')));
  t.false(verifyMembership(s.appHash, pe.proof, b('e'), b('5')));
  await t.throwsAsync(() => s.commit(1n), { message: /below/ });
  await s.close();
});

test('iterate is ordered both ways, with bounds', async (t) => {
  const s = await CommittedStore.open(tempDir(t));
  s.applyBlock([['\x01', b('abc')], ['\xff', b('x')], ['\x00\xff', b('y')], ['\x00', b('z')]]);
  t.is(str(s.get('\x01')), 'abc');
  t.deepEqual([...s.iterate('', undefined)].map(([k]) => k), ['\x00', '\x00\xff', '\x01', '\xff']);
  t.deepEqual([...s.iterate('\x00', '\xff', true)].map(([k]) => k), ['\x01', '\x00\xff', '\x00']);
  await s.close();
});

test('applyBlock rejects a non-binary key without applying any write; no-op deletes keep the root', async (t) => {
  const s = await CommittedStore.open(tempDir(t));
  const r0 = s.applyBlock([['a', b('1')]]);
  t.throws(() => s.applyBlock([['b', b('2')], ['\u0100', b('3')]]), { instanceOf: RangeError });
  t.false(s.has('b'));
  t.deepEqual(s.root(), r0);
  t.deepEqual(s.applyBlock([['missing', null]]), r0);
  t.is(s.pending, 1);
  t.deepEqual(s.applyBlock([['a', null]]), new Uint8Array(32));
  t.is(s.size, 0);
  await s.close();
});

test('aux namespace: get, ranges, reverse, limit, isolation; written atomically with commit', async (t) => {
  const dir = tempDir(t);
  const s = await CommittedStore.open(dir);
  s.applyBlock([['k', b('v')]]);
  const aux = [];
  for (let i = 0n; i < 10n; i++) aux.push({ ns: 'tx', key: u64Key(i), value: b(`tx${i}`) });
  aux.push({ ns: 'txx', key: u64Key(3n), value: b('other ns') });
  aux.push({ ns: 't', key: 'x' + u64Key(3n), value: b('prefix ns') });
  await s.commit(1n, aux);
  t.is(await s.auxGet('tx', u64Key(11n)), undefined);
  const all = async (it: AsyncIterable<[string, Uint8Array]>) => {
    const out: string[] = [];
    for await (const [, v] of it) out.push(str(v)!);
    return out;
  };
  t.deepEqual(await all(s.auxIterate('tx', {})), [...Array(10).keys()].map((i) => `tx${i}`));
  t.deepEqual(await all(s.auxIterate('tx', { gte: u64Key(3n), lt: u64Key(6n) })), ['tx3', 'tx4', 'tx5']);
  t.deepEqual(await all(s.auxIterate('tx', { reverse: true, limit: 2 })), ['tx9', 'tx8']);
  t.deepEqual(await all(s.auxIterate('txx', {})), ['other ns']);
  await s.commit(2n, [{ ns: 'tx', key: u64Key(0n), value: null }]);
  t.is(await s.auxGet('tx', u64Key(0n)), undefined);
  t.is(s.size, 1, 'aux data is not state');
  await s.close();
});

test('open refuses a store whose state does not match the stored app hash', async (t) => {
  const dir = tempDir(t);
  const s = await CommittedStore.open(dir);
  s.applyBlock([['a', b('1')], ['b', b('2')]]);
  await s.commit(5n);
  await s.close();
  // The root node (what open checks; the tree is read from disk on demand) missing: refused at open.
  const root = Buffer.from(s.appHash);
  let db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const rootKey = Buffer.concat([Buffer.from('n', 'latin1'), root]);
  const good = (await db.get(rootKey))!;
  await db.del(rootKey);
  await db.close();
  await t.throwsAsync(() => CommittedStore.open(dir), { message: /corrupt.*root node/ });
  // A tampered root record (child hashes that do not exist): refused when the tree is walked, never a wrong proof.
  db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const bad = Buffer.from(good);
  bad.fill(7, 1, 65);
  await db.put(rootKey, bad);
  await db.close();
  const s2 = await CommittedStore.open(dir);
  t.throws(() => s2.prove('a'), { message: /corrupt.*tree node/ });
  await s2.close();
});

/** Root of a key->value map computed from scratch (independent of smt.ts). */
function refRoot(entries: Map<string, string>): string {
  const H = (...parts: Uint8Array[]) => {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const items = [...entries].map(([k, v]) => {
    const path = H(Buffer.from(k, 'latin1'));
    return { path, leaf: H(Uint8Array.of(0), path, H(Buffer.from(v))) };
  });
  const bit = (p: Buffer, d: number) => (p[d >> 3] >> (7 - (d & 7))) & 1;
  const build = (xs: typeof items, d: number): Buffer =>
    xs.length === 0 ? Buffer.alloc(32) : xs.length === 1 ? xs[0].leaf
      : H(Uint8Array.of(1), build(xs.filter((x) => bit(x.path, d) === 0), d + 1), build(xs.filter((x) => bit(x.path, d) === 1), d + 1));
  return build(items, 0).toString('hex');
}

/**
 * The tree records on disk ('n' || hash) are exactly those reachable from the app hash: none missing, none left
 * over (a leftover would grow the disk for good). Parsed here independently of node-tree.ts: a record is
 * 'L' || key (a one-leaf tree's root only) or a preorder of 'I' node node | 'L' hash u32 len key | 'H' hash | 'E'.
 */
async function treeRecordsReachable(dir: string): Promise<boolean> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    const stored = new Map<string, Buffer>();
    for await (const [k, v] of db.iterator({ gte: Buffer.from('n'), lt: Buffer.from('o') })) stored.set(k.subarray(1).toString('hex'), v);
    const root = (await db.get(Buffer.from('mapphash')))?.toString('hex');
    const reach = new Set<string>();
    const visit = (h: string, atRoot: boolean): boolean => {
      const rec = stored.get(h);
      if (rec === undefined || reach.has(h)) return false;
      reach.add(h);
      if (rec[0] === 0x4c) return atRoot;
      let pos = 0;
      const refs: string[] = [];
      const node = (): boolean => {
        const tag = rec[pos++];
        if (tag === 0x45) return true;
        if (tag === 0x48) return refs.push(rec.toString('hex', pos, (pos += 32))) > 0;
        if (tag === 0x4c) {
          pos += 32;
          pos += 4 + rec.readUInt32BE(pos);
          return true;
        }
        return tag === 0x49 && node() && node();
      };
      return node() && pos === rec.length && refs.every((r) => visit(r, false));
    };
    if (root === undefined || root === '00'.repeat(32)) return stored.size === 0;
    return visit(root, true) && reach.size === stored.size;
  } finally {
    await db.close();
  }
}

test('random blocks with commits and reopens match a model and an independent root', async (t) => {
  const dir = tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          writes: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.option(fc.string({ minLength: 1, maxLength: 4 }), { nil: null })), { maxLength: 30 }),
          commit: fc.boolean(),
          reopen: fc.boolean(),
        }),
        { minLength: 1, maxLength: 8 },
      ),
      async (blocks) => {
        const db = join(dir, `run${run++}`);
        let s = await CommittedStore.open(db, { sync: false });
        const committed = new Map<string, string>();
        let live = new Map<string, string>();
        let height = 0n;
        try {
          for (const blk of blocks) {
            const ws: Write[] = blk.writes.map(([i, v]) => [`key\xff${i}`, v === null ? null : b(v)]);
            for (const [k, v] of ws) (v === null ? live.delete(k) : live.set(k, str(v)!));
            const root = Buffer.from(s.applyBlock(ws)).toString('hex');
            if (root !== refRoot(live)) return false;
            if (blk.commit) {
              await s.commit(++height, [{ ns: 'h', key: u64Key(height), value: b(root) }]);
              committed.clear();
              for (const [k, v] of live) committed.set(k, v);
            }
            if (blk.reopen) {
              await s.close();
              s = await CommittedStore.open(db, { sync: false });
              live = new Map(committed);
              if (s.height !== height || Buffer.from(s.appHash).toString('hex') !== refRoot(committed)) return false;
            }
            const dumped = [...s.iterate('', undefined)].map(([k, v]) => `${k}=${str(v)}`);
            const expected = [...live].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
            if (JSON.stringify(dumped) !== JSON.stringify(expected) || s.size !== live.size) return false;
          }
          await s.close();
          return await treeRecordsReachable(db);
        } finally {
          await s.close();
        }
      },
    ),
    { numRuns: 30 },
  );
  t.pass();
});

test('a store of the previous node layout (count record mcount2, stale node records) is converted at open', async (t) => {
  const dir = tempDir(t);
  const s = await CommittedStore.open(dir, { sync: false });
  const ws: Write[] = [];
  for (let i = 0; i < 3000; i++) ws.push([`k/${i}`, b(`v${i}`)]);
  s.applyBlock(ws);
  await s.commit(7n);
  const root = s.appHash;
  await s.close();
  // Make it look like the earlier layout: its count record instead of this one's, and node records it would have
  // left (per-leaf records) that this layout does not reach.
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const count = (await db.get(Buffer.from('mcount3')))!;
  await db.del(Buffer.from('mcount3'));
  await db.put(Buffer.from('mcount2'), count);
  for (let i = 0; i < 50; i++) await db.put(Buffer.concat([Buffer.from('n'), createHash('sha256').update(`stale${i}`).digest()]), Buffer.from(`Lk/${i}`));
  await db.close();
  t.false(await treeRecordsReachable(dir), 'the stale records are not reachable before the conversion');

  const c = await CommittedStore.open(dir, { sync: false });
  t.deepEqual(c.appHash, root);
  t.is(c.height, 7n);
  t.is(c.size, 3000);
  const p = c.prove('k/1234');
  t.true(p.exists && verifyMembership(c.appHash, p.proof, Buffer.from('k/1234'), b('v1234')));
  t.is([...c.iterate('k/', 'k0')].length, 3000);
  await c.close();
  t.true(await treeRecordsReachable(dir), 'after the conversion the node records are exactly those reachable');
  const raw = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  t.true((await raw.get(Buffer.from('mcount2'))) === undefined);
  t.truthy(await raw.get(Buffer.from('mcount3')));
  await raw.close();
});

// ---- Crash safety: SIGKILL a committing child at random moments, then reopen.

const WRITES_PER_BLOCK = 1500;
const KEYSPACE = 3000;
/** Deterministic block contents for height h (shared by child and checker). */
function blockWrites(h: number): Write[] {
  const ws: Write[] = [];
  for (let j = 0; j < WRITES_PER_BLOCK; j++) {
    const k = `k/${(h * 7919 + j * 31) % KEYSPACE}`;
    ws.push([k, j % 10 === 9 ? null : Buffer.from(`h${h}:j${j}`)]);
  }
  return ws;
}

const CHILD = (storeUrl: string, kvUrl: string) => `
import { CommittedStore } from ${JSON.stringify(storeUrl)};
import { u64Key } from ${JSON.stringify(kvUrl)};
${blockWrites.toString()}
const WRITES_PER_BLOCK = ${WRITES_PER_BLOCK}, KEYSPACE = ${KEYSPACE};
const s = await CommittedStore.open(process.argv[2]);
process.stdout.write('open ' + s.height + '\\n');
for (let h = Number(s.height) + 1; ; h++) {
  s.applyBlock(blockWrites(h));
  await s.commit(BigInt(h), [{ ns: 'blocks', key: u64Key(BigInt(h)), value: Buffer.from('block ' + h) }]);
  process.stdout.write('committed ' + h + '\\n');
}
`;

test('crash safety: SIGKILL during a commit loop, reopen matches the last completed commit', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'db');
  const child = join(dir, 'child.mts');
  const storeUrl = pathToFileURL(resolve('src/store/committed.ts')).href;
  const kvUrl = pathToFileURL(resolve('src/store/kv.ts')).href;
  writeFileSync(child, CHILD(storeUrl, kvUrl));

  const model = new Map<string, string>();
  let modelHeight = 0;
  const advance = (to: number) => {
    for (; modelHeight < to; ) {
      modelHeight++;
      for (const [k, v] of blockWrites(modelHeight)) {
        if (v === null) model.delete(k);
        else model.set(k, Buffer.from(v).toString());
      }
    }
  };

  let kills = 0;
  for (let round = 0; round < 6; round++) {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, db], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
    // Wait until it has opened the store, then let it run a random while and kill it.
    while (!out.includes('open ')) {
      if (proc.exitCode !== null) throw new Error(`child exited early: ${err}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 600)));
    proc.kill('SIGKILL');
    await exited;
    kills++;
    const done = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
    const lastReported = done.length ? done[done.length - 1] : Number(/open (\d+)/.exec(out)![1]);

    const s = await CommittedStore.open(db); // verifies the rebuilt root against the stored app hash
    const h = Number(s.height);
    t.true(h === lastReported || h === lastReported + 1, `height ${h}, last reported ${lastReported}`);
    t.log(`round ${round}: killed after ${done.length} commits this run; reopened at height ${h}`);
    advance(h);
    t.is(s.size, model.size);
    for (const [k, v] of model) if (str(s.get(k)) !== v) t.fail(`key ${k} at height ${h}: ${str(s.get(k))} != ${v}`);
    t.is(str(await s.auxGet('blocks', u64Key(BigInt(h)))), h > 0 ? `block ${h}` : undefined);
    t.is(await s.auxGet('blocks', u64Key(BigInt(h + 1))), undefined);
    await s.close();
  }
  t.is(kills, 6);
  t.true(modelHeight > 0, 'the child committed at least one block');
});
