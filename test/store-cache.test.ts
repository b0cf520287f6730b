import test from 'ava';
import fc from 'fast-check';
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheKV } from '../src/store/cache.js';
import { CommittedStore } from '../src/store/committed.js';
import { type KV, type Key, iteratePrefix, prefixEnd } from '../src/store/kv.js';

/** Reference model: a plain map; iteration sorts with an explicit byte-order comparator. */
class ModelKV implements KV {
  readonly m = new Map<Key, Uint8Array>();
  get(k: Key) { return this.m.get(k); }
  has(k: Key) { return this.m.has(k); }
  set(k: Key, v: Uint8Array) { this.m.set(k, v); }
  delete(k: Key) { this.m.delete(k); }
  *iterate(start: Key, end: Key | undefined, reverse = false): IterableIterator<[Key, Uint8Array]> {
    const keys = [...this.m.keys()].filter((k) => k >= start && (end === undefined || k < end));
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (reverse) keys.reverse();
    for (const k of keys) yield [k, this.m.get(k)!];
  }
  clone(): ModelKV {
    const c = new ModelKV();
    for (const [k, v] of this.m) c.m.set(k, v);
    return c;
  }
}

// Keys over a tiny alphabet including 0x00 and 0xff so prefixes and bounds collide often.
const keyArb = fc
  .array(fc.constantFrom(0x00, 0x01, 0x61, 0x62, 0x7f, 0x80, 0xff), { minLength: 0, maxLength: 3 })
  .map((cs) => String.fromCharCode(...cs));
const valArb = fc.uint8Array({ minLength: 0, maxLength: 3 });

type Op =
  | { t: 'set'; k: Key; v: Uint8Array }
  | { t: 'del'; k: Key }
  | { t: 'get'; k: Key }
  | { t: 'iter'; a: Key; b: Key | undefined; rev: boolean }
  | { t: 'prefix'; p: Key; rev: boolean }
  | { t: 'push' }
  | { t: 'pop'; write: boolean }
  | { t: 'writes' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('set' as const), k: keyArb, v: valArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('del' as const), k: keyArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('get' as const), k: keyArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('iter' as const), a: keyArb, b: fc.option(keyArb, { nil: undefined }), rev: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('prefix' as const), p: keyArb, rev: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('push' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pop' as const), write: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('writes' as const) }) },
);

const hex = (v: Uint8Array | undefined) => (v === undefined ? 'none' : Buffer.from(v).toString('hex'));
const dump = (it: Iterable<[Key, Uint8Array]>) => [...it].map(([k, v]) => `${Buffer.from(k, 'latin1').toString('hex')}=${hex(v)}`);

test('CacheKV matches a reference model (nested caches, deletes, reverse and prefix iteration)', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(keyArb, valArb), { maxLength: 12 }), fc.array(opArb, { maxLength: 60 }), (base, ops) => {
      const root = new ModelKV();
      for (const [k, v] of base) root.set(k, v);
      const stack: CacheKV[] = [new CacheKV(root)];
      const models: ModelKV[] = [root.clone()]; // model of each cache's view
      for (const op of ops) {
        const c = stack[stack.length - 1];
        const m = models[models.length - 1];
        switch (op.t) {
          case 'set': c.set(op.k, op.v); m.set(op.k, op.v); break;
          case 'del': c.delete(op.k); m.delete(op.k); break;
          case 'get':
            if (hex(c.get(op.k)) !== hex(m.get(op.k)) || c.has(op.k) !== m.has(op.k)) return false;
            break;
          case 'iter':
            if (JSON.stringify(dump(c.iterate(op.a, op.b, op.rev))) !== JSON.stringify(dump(m.iterate(op.a, op.b, op.rev)))) return false;
            break;
          case 'prefix':
            if (JSON.stringify(dump(iteratePrefix(c, op.p, op.rev))) !== JSON.stringify(dump(iteratePrefix(m, op.p, op.rev)))) return false;
            break;
          case 'push': stack.push(new CacheKV(c)); models.push(m.clone()); break;
          case 'pop':
            if (stack.length > 1) {
              stack.pop();
              models.pop();
              if (op.write) {
                c.writeTo(stack[stack.length - 1]);
                models[models.length - 1] = m;
              } else {
                c.discard();
              }
              if (c.size !== 0) return false;
            } else if (!op.write) {
              c.discard();
              models[0] = root.clone();
              if (c.size !== 0) return false;
            }
            break;
          case 'writes': {
            // writes() is sorted, and applying it to the parent's view gives this cache's view.
            const ws = c.writes();
            for (let i = 1; i < ws.length; i++) if (!(ws[i - 1][0] < ws[i][0])) return false;
            if (ws.length !== c.size) return false;
            const parentModel = models.length > 1 ? models[models.length - 2].clone() : root.clone();
            for (const [k, v] of ws) (v === null ? parentModel.delete(k) : parentModel.set(k, v));
            if (JSON.stringify(dump(parentModel.iterate('', undefined))) !== JSON.stringify(dump(m.iterate('', undefined)))) return false;
            break;
          }
        }
        // After every op the full view must agree with the model, both directions.
        const top = stack[stack.length - 1];
        const tm = models[models.length - 1];
        if (JSON.stringify(dump(top.iterate('', undefined))) !== JSON.stringify(dump(tm.iterate('', undefined)))) return false;
        if (JSON.stringify(dump(top.iterate('', undefined, true))) !== JSON.stringify(dump(tm.iterate('', undefined, true)))) return false;
      }
      // Flush everything down to the root store and compare with the innermost view.
      const final = models[models.length - 1];
      while (stack.length > 1) {
        const c = stack.pop()!;
        models.pop();
        c.writeTo(stack[stack.length - 1]);
      }
      stack[0].writeTo(root);
      return JSON.stringify(dump(root.iterate('', undefined))) === JSON.stringify(dump(final.iterate('', undefined)));
    }),
    { numRuns: 400 },
  );
  t.pass();
});

test('CacheKV: deletion hides parent entries, writes() is sorted, writeTo clears', (t) => {
  const base = new ModelKV();
  base.set('a', Uint8Array.of(1));
  base.set('b', Uint8Array.of(2));
  base.set('c', Uint8Array.of(3));
  const c = new CacheKV(base);
  c.delete('b');
  c.set('d', Uint8Array.of(4));
  c.set('\x00', Uint8Array.of(0));
  t.false(c.has('b'));
  t.is(c.get('b'), undefined);
  t.deepEqual([...c.iterate('', undefined)].map(([k]) => k), ['\x00', 'a', 'c', 'd']);
  t.deepEqual([...c.iterate('a', 'd', true)].map(([k]) => k), ['c', 'a']);
  t.deepEqual(c.writes().map(([k, v]) => [k, v === null ? null : [...v]]), [['\x00', [0]], ['b', null], ['d', [4]]]);
  t.is(c.size, 3);
  t.true(base.has('b'));
  c.writeTo(base);
  t.is(c.size, 0);
  t.false(base.has('b'));
  t.deepEqual([...base.iterate('', undefined)].map(([k]) => k), ['\x00', 'a', 'c', 'd']);
  t.is(prefixEnd('\xff'), undefined);
});

test('CacheKV over a real CommittedStore: block cache -> applyBlock', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'store-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await CommittedStore.open(dir);
  store.applyBlock([['k1', Uint8Array.of(1)], ['k2', Uint8Array.of(2)], ['k3', Uint8Array.of(3)]]);
  await store.commit(1n);
  const block = new CacheKV(store);
  const tx = new CacheKV(block);
  tx.set('k0', Uint8Array.of(9));
  tx.delete('k2');
  t.deepEqual([...tx.iterate('', undefined, true)].map(([k]) => k), ['k3', 'k1', 'k0']);
  tx.writeTo(block);
  const failed = new CacheKV(block);
  failed.set('k9', Uint8Array.of(9));
  failed.discard(); // a failed tx leaves nothing behind
  t.false(block.has('k9'));
  const root = store.applyBlock(block.writes());
  t.deepEqual([...store.iterate('', undefined)].map(([k]) => k), ['k0', 'k1', 'k3']);
  t.deepEqual(root, store.root());
  await store.close();
});

test('CacheKV: deleting and adding entries while iterating neither crashes nor skips existing entries', (t) => {
  const base = new ModelKV();
  for (let i = 0; i < 200; i += 2) base.set(`k${String(i).padStart(3, '0')}`, Uint8Array.of(i));
  const block = new CacheKV(base);
  for (let i = 1; i < 200; i += 2) block.set(`k${String(i).padStart(3, '0')}`, Uint8Array.of(i));
  const tx = new CacheKV(block);
  for (let i = 0; i < 200; i += 3) tx.set(`k${String(i).padStart(3, '0')}`, Uint8Array.of(255));
  const seen: string[] = [];
  for (const [k] of tx.iterate('k', 'l')) {
    seen.push(k);
    tx.delete(k); // delete as we go
    tx.set(`x${k}`, Uint8Array.of(1)); // and add keys elsewhere (new tree entries)
    block.set(`y${k}`, Uint8Array.of(1));
  }
  t.is(seen.length, 200);
  t.deepEqual(seen, seen.slice().sort());
  t.deepEqual([...tx.iterate('k', 'l')], []);
  // Deleting a not-yet-visited entry hides it.
  const c = new CacheKV(base);
  const got: string[] = [];
  for (const [k] of c.iterate('k', 'l')) {
    got.push(k);
    if (k === 'k000') c.delete('k002');
  }
  t.false(got.includes('k002'));
  t.is(got.length, 99);
});
