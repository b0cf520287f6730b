/**
 * Mechanism v2 rules of modules/market/matching.ts: price rule v2 (thin markets), exclusion lists, per-prover quotas
 * (stake cap), the lottery, band and spread allocations, and clearing from the fee index (clearFromIndex) against a full scan.
 */
import test from 'ava';
import fc from 'fast-check';
import {
  clearCircuit, clearCircuitReference, clearFromIndex, collateralFor,
  type MatchRequest, type MatchAsk, type MatchParams, type ClearingResult, type IndexedRequest,
} from '../modules/market/matching.js';

const PROVERS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;

interface Book {
  requests: IndexedRequest[];
  asks: MatchAsk[];
  free: Map<string, bigint>;
  params: MatchParams;
}

const arbRequest = fc
  .record({
    id: fc.bigInt({ min: 0n, max: 200n }),
    maxFee: fc.bigInt({ min: 0n, max: 120n }),
    ramp: fc.bigInt({ min: 0n, max: 120n }), // currentFee = maxFee - ramp (floored at 0): ramping requests
    minCollateral: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 200n })),
    excluded: fc.oneof(fc.constant([] as string[]), fc.subarray([...PROVERS], { maxLength: 2 })),
  })
  .map((r): IndexedRequest => ({ id: r.id, maxFee: r.maxFee, currentFee: r.maxFee > r.ramp ? r.maxFee - r.ramp : 0n, minCollateral: r.minCollateral, excluded: r.excluded }));
const arbAsk = fc.record({
  id: fc.bigInt({ min: 0n, max: 80n }),
  prover: fc.constantFrom(...PROVERS),
  price: fc.bigInt({ min: 0n, max: 100n }),
  capacity: fc.bigInt({ min: 0n, max: 4n }),
  reputation: fc.bigInt({ min: 0n, max: 3n }),
  busy: fc.bigInt({ min: 0n, max: 2n }),
});
const arbFree = fc
  .tuple(...PROVERS.map(() => fc.option(fc.bigInt({ min: 0n, max: 900n }), { nil: undefined })))
  .map((vals) => {
    const m = new Map<string, bigint>();
    vals.forEach((v, i) => v !== undefined && m.set(PROVERS[i], v));
    return m;
  });
const arbQuota = fc.option(
  fc.tuple(...PROVERS.map(() => fc.option(fc.bigInt({ min: 0n, max: 3n }), { nil: undefined }))).map((vals) => {
    const m = new Map<string, bigint>();
    vals.forEach((v, i) => v !== undefined && m.set(PROVERS[i], v));
    return m;
  }),
  { nil: undefined },
);
const arbParams: fc.Arbitrary<MatchParams> = fc.record({
  collateralRatioBps: fc.constantFrom(0n, 5_000n, 15_000n),
  priceRule: fc.constantFrom('v1' as const, 'v2' as const),
  allocation: fc.constantFrom('v1' as const, 'lottery' as const, 'band' as const, 'spread' as const),
  seed: fc.constantFrom('s1', 's2', 'chain/7/abc'),
  quota: arbQuota,
  bandBps: fc.constantFrom(0n, 1000n, 5000n),
  load: fc.tuple(...PROVERS.map(() => fc.bigInt({ min: 0n, max: 3n }))).map((vals) => new Map(vals.map((v, i) => [PROVERS[i] as string, v]))),
  recent: fc.tuple(...PROVERS.map(() => fc.bigInt({ min: 0n, max: 40n }))).map((vals) => new Map(vals.map((v, i) => [PROVERS[i] as string, v]))),
  window: fc.constantFrom(1n, 16n, 128n),
  spreadPenalty: fc.constantFrom(0n, 50n, 10_000n),
  spreadFree: fc.constantFrom(0n, 3n),
});
const arbBook: fc.Arbitrary<Book> = fc.record({
  requests: fc.uniqueArray(arbRequest, { selector: (r) => r.id, maxLength: 160 }),
  asks: fc.uniqueArray(arbAsk, { selector: (a) => a.id, maxLength: 12 }),
  free: arbFree,
  params: arbParams,
});

const key = (r: ClearingResult) => JSON.stringify({ m: r.matches, p: r.clearingPrice }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

/** The fee index order: max fee descending, then id ascending. */
function indexOrder(rs: readonly IndexedRequest[]): IndexedRequest[] {
  return rs.slice().sort((a, b) => (a.maxFee !== b.maxFee ? (a.maxFee > b.maxFee ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function safety(b: Book, res: ClearingResult): string | null {
  const req = new Map(b.requests.map((r) => [r.id, r]));
  const ask = new Map(b.asks.map((a) => [a.id, a]));
  const perAsk = new Map<bigint, bigint>();
  const perProverLock = new Map<string, bigint>();
  const perProverCount = new Map<string, bigint>();
  for (const m of res.matches) {
    const r = req.get(m.requestId)!;
    const a = ask.get(m.askId)!;
    if (m.price !== res.clearingPrice) return 'price not uniform';
    if (m.price > r.currentFee) return 'pays above its fee';
    if (m.price < a.price) return 'paid below its ask';
    if ((r.excluded ?? []).includes(a.prover)) return `excluded prover ${a.prover} got request ${r.id}`;
    if (m.collateral !== collateralFor(r.minCollateral, m.price, b.params.collateralRatioBps)) return 'bad lock';
    perAsk.set(a.id, (perAsk.get(a.id) ?? 0n) + 1n);
    perProverLock.set(a.prover, (perProverLock.get(a.prover) ?? 0n) + m.collateral);
    perProverCount.set(a.prover, (perProverCount.get(a.prover) ?? 0n) + 1n);
  }
  for (const [id, n] of perAsk) if (n > ask.get(id)!.capacity) return `ask ${id} over capacity`;
  for (const [p, l] of perProverLock) if (l > (b.free.get(p) ?? 0n)) return `prover ${p} over collateral`;
  for (const [p, n] of perProverCount) {
    const q = b.params.quota?.get(p);
    if (q !== undefined && n > q) return `prover ${p} over its quota ${q}`;
  }
  return null;
}

test('clearing from the fee index gives the same assignments and price as a full scan (random books, ramps, all rule options)', (t) => {
  let early = 0;
  fc.assert(
    fc.property(arbBook, (b) => {
      const full = clearCircuit(b.requests, b.asks, b.free, b.params);
      const ordered = indexOrder(b.requests);
      const idx = clearFromIndex(ordered[Symbol.iterator](), b.asks, b.free, b.params);
      if (key(idx.result) !== key(full)) throw new Error(`index ${key(idx.result)} != full ${key(full)}`);
      if (idx.read < ordered.length) early++;
    }),
    { numRuns: 1500 },
  );
  t.true(early > 100, `the index should often stop before the end of the book (stopped early ${early} times)`);
});

test('the index never reads past the first request whose max fee is below the cheapest ask', (t) => {
  const asks: MatchAsk[] = [{ id: 1n, prover: 'alice', price: 500n, capacity: 3n, reputation: 0n }];
  const requests: IndexedRequest[] = [];
  for (let i = 0; i < 100_000; i++) requests.push({ id: BigInt(i + 1), maxFee: 499n - BigInt(i % 400), currentFee: 10n, minCollateral: 0n });
  let pulled = 0;
  const source = (function* () {
    for (const r of indexOrder(requests)) {
      pulled++;
      yield r;
    }
  })();
  const res = clearFromIndex(source, asks, new Map([['alice', 10n ** 9n]]), { collateralRatioBps: 0n, priceRule: 'v2' });
  t.is(res.read, 0);
  t.is(pulled, 1);
  t.deepEqual(res.result.matches, []);
});

test('fast and reference implementations agree with exclusion, quotas, price rule v2, the lottery, the band and the spread deal (heap against scan)', (t) => {
  fc.assert(
    fc.property(arbBook, (b) => {
      const a = clearCircuit(b.requests, b.asks, b.free, b.params);
      const r = clearCircuitReference(b.requests, b.asks, b.free, b.params);
      if (key(a) !== key(r)) throw new Error(`fast ${key(a)} != reference ${key(r)}`);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

test('safety with every rule option: fee cap, ask floor, uniform price, capacity, collateral, quota, exclusion', (t) => {
  fc.assert(
    fc.property(arbBook, (b) => {
      const v = safety(b, clearCircuit(b.requests, b.asks, b.free, b.params));
      if (v) throw new Error(v);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

const req = (id: bigint, fee: bigint): MatchRequest => ({ id, currentFee: fee, minCollateral: 0n });
const ask = (id: bigint, prover: string, price: bigint, capacity = 1n, busy = 0n): MatchAsk => ({ id, prover, price, capacity, reputation: 0n, busy });
const free = (...ps: string[]) => new Map(ps.map((p) => [p, 10n ** 12n]));

test('price rule v2: one request against one ask pays the ask, not its max fee (v1 paid the fee)', (t) => {
  // the README example: max fee 50,000 against a lone ask of 2,639
  const v1 = clearCircuit([req(1n, 50_000n)], [ask(1n, 'alice', 2639n)], free('alice'), { collateralRatioBps: 20_000n });
  t.is(v1.clearingPrice, 50_000n);
  const v2 = clearCircuit([req(1n, 50_000n)], [ask(1n, 'alice', 2639n)], free('alice'), { collateralRatioBps: 20_000n, priceRule: 'v2' });
  t.is(v2.clearingPrice, 2639n);
  t.is(v2.matches[0].collateral, 5278n);
});

test('price rule v2: a busy unit of another prover competes; the winner\'s own busy unit does not', (t) => {
  const p = { collateralRatioBps: 0n, priceRule: 'v2' as const };
  // bob's only unit is busy at 3,000: it sets the price
  let r = clearCircuit([req(1n, 50_000n)], [ask(1n, 'alice', 2639n), ask(2n, 'bob', 3000n, 0n, 1n)], free('alice', 'bob'), p);
  t.is(r.clearingPrice, 3000n);
  // a busy unit priced above the fee caps at the fee
  r = clearCircuit([req(1n, 2800n)], [ask(1n, 'alice', 2639n), ask(2n, 'bob', 3000n, 0n, 1n)], free('alice', 'bob'), p);
  t.is(r.clearingPrice, 2800n);
  // alice's own busy unit (another ask of hers) is not a competitor: she is paid her ask
  r = clearCircuit([req(1n, 50_000n)], [ask(1n, 'alice', 2639n), ask(2n, 'alice', 9000n, 0n, 1n)], free('alice'), p);
  t.is(r.clearingPrice, 2639n);
  // a free competing unit is used exactly as in v1
  r = clearCircuit([req(1n, 50_000n)], [ask(1n, 'alice', 2639n), ask(2n, 'bob', 4000n)], free('alice', 'bob'), p);
  t.is(r.clearingPrice, 4000n);
});

test('price rule v2 equals v1 whenever a free competing unit is left (unit supply, more asks than requests)', (t) => {
  const arb = fc.record({
    fees: fc.array(fc.bigInt({ min: 0n, max: 100n }), { maxLength: 8 }),
    prices: fc.array(fc.bigInt({ min: 0n, max: 100n }), { minLength: 9, maxLength: 14 }),
  });
  fc.assert(
    fc.property(arb, ({ fees, prices }) => {
      const rs = fees.map((f, i) => req(BigInt(i), f));
      const as = prices.map((p, i) => ask(BigInt(i), `p${i}`, p));
      const fr = free(...as.map((a) => a.prover));
      const a = clearCircuit(rs, as, fr, { collateralRatioBps: 0n });
      const b = clearCircuit(rs, as, fr, { collateralRatioBps: 0n, priceRule: 'v2' });
      if (key(a) !== key(b)) throw new Error('v2 differs from v1 with a competing unit left');
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

test('price rule v2 is not truthful for a monopolist (documented): with no other unit, the winner is paid its own ask', (t) => {
  const p = { collateralRatioBps: 0n, priceRule: 'v2' as const };
  const honest = clearCircuit([req(1n, 100n)], [ask(1n, 'alice', 10n)], free('alice'), p);
  const inflated = clearCircuit([req(1n, 100n)], [ask(1n, 'alice', 90n)], free('alice'), p);
  t.is(honest.clearingPrice, 10n);
  t.is(inflated.clearingPrice, 90n); // bounded by the fee, exactly as v1's price (100) was
});

test('exclusion: an excluded prover is never given the request; the next ask serves it', (t) => {
  const rs: MatchRequest[] = [{ id: 1n, currentFee: 100n, minCollateral: 0n, excluded: ['alice'] }, req(2n, 100n)];
  const r = clearCircuit(rs, [ask(1n, 'alice', 10n, 2n), ask(2n, 'bob', 20n)], free('alice', 'bob'), { collateralRatioBps: 0n });
  t.deepEqual(r.matches.map((m) => [m.requestId, m.prover]), [[1n, 'bob'], [2n, 'alice']]);
  const only = clearCircuit([rs[0]], [ask(1n, 'alice', 10n, 2n)], free('alice'), { collateralRatioBps: 0n });
  t.deepEqual(only.matches, []);
});

test('quota: a capped-out prover takes no more work and stops competing for the price', (t) => {
  const rs = [req(1n, 100n), req(2n, 100n), req(3n, 100n)];
  const as = [ask(1n, 'alice', 10n, 3n), ask(2n, 'bob', 20n, 3n), ask(3n, 'carol', 30n, 3n)];
  const r = clearCircuit(rs, as, free('alice', 'bob', 'carol'), { collateralRatioBps: 0n, quota: new Map([['alice', 1n], ['bob', 1n]]) });
  t.deepEqual(r.matches.map((m) => m.prover), ['alice', 'bob', 'carol']);
  t.is(r.clearingPrice, 30n); // carol's spare units compete; alice's and bob's capped units do not
});

test('lottery: same requests and price as v1, work dealt among the asks at or below the price, never above it', (t) => {
  const rs = Array.from({ length: 40 }, (_, i) => req(BigInt(i + 1), 1000n));
  // alice could serve everything; bob's unused unit at 120 sets the price; carol (130) and dave (500) are above it
  const as = [ask(1n, 'alice', 100n, 40n), ask(2n, 'bob', 120n, 40n), ask(3n, 'carol', 130n, 40n), ask(4n, 'dave', 500n, 1n)];
  const fr = free('alice', 'bob', 'carol', 'dave');
  const v1 = clearCircuit(rs, as, fr, { collateralRatioBps: 0n });
  const lot = clearCircuit(rs, as, fr, { collateralRatioBps: 0n, allocation: 'lottery', seed: 'x' });
  t.is(lot.clearingPrice, v1.clearingPrice);
  t.is(lot.clearingPrice, 120n);
  t.deepEqual(lot.matches.map((m) => m.requestId), v1.matches.map((m) => m.requestId));
  t.true(v1.matches.every((m) => m.prover === 'alice'));
  const wins = new Map<string, number>();
  for (const m of lot.matches) wins.set(m.prover, (wins.get(m.prover) ?? 0) + 1);
  t.false(wins.has('dave'));
  t.false(wins.has('carol'));
  t.true(['alice', 'bob'].every((p) => (wins.get(p) ?? 0) >= 10), JSON.stringify([...wins]));
  // deterministic: the same seed gives the same deal, another seed another one
  t.is(key(clearCircuit(rs, as, fr, { collateralRatioBps: 0n, allocation: 'lottery', seed: 'x' })), key(lot));
  t.not(key(clearCircuit(rs, as, fr, { collateralRatioBps: 0n, allocation: 'lottery', seed: 'y' })), key(lot));
});

test('band: same requests as greedy, dealt to the least-loaded provers within bandBps of the greedy price; price within the band', (t) => {
  const rs = Array.from({ length: 40 }, (_, i) => req(BigInt(i + 1), 1000n));
  // alice could serve everything; bob's unused unit at 120 sets the greedy price; carol (130) is in the 10 % band
  // (top 132), dave (140) is not
  const as = [ask(1n, 'alice', 100n, 40n), ask(2n, 'bob', 120n, 40n), ask(3n, 'carol', 130n, 40n), ask(4n, 'dave', 140n, 40n)];
  const fr = free('alice', 'bob', 'carol', 'dave');
  const greedy = clearCircuit(rs, as, fr, { collateralRatioBps: 0n, priceRule: 'v2' });
  t.is(greedy.clearingPrice, 120n);
  const params: MatchParams = { collateralRatioBps: 0n, priceRule: 'v2', allocation: 'band', bandBps: 1000n, seed: 'x', load: new Map([['alice', 5n]]) };
  const b = clearCircuit(rs, as, fr, params);
  t.deepEqual(b.matches.map((m) => m.requestId), greedy.matches.map((m) => m.requestId));
  const wins = new Map<string, number>();
  for (const m of b.matches) wins.set(m.prover, (wins.get(m.prover) ?? 0) + 1);
  t.false(wins.has('dave'));
  // least-loaded first: alice starts 5 assignments ahead, so bob and carol take 5 more than alice, ±1
  const [a, bo, c] = ['alice', 'bob', 'carol'].map((p) => wins.get(p) ?? 0);
  t.true(Math.abs(bo - c) <= 1 && bo - a >= 4 && bo - a <= 6, JSON.stringify([...wins]));
  // the uniform price is the highest dealt ask: within 10 % of the greedy price, never above a fee
  t.is(b.clearingPrice, 130n);
  t.true(b.clearingPrice! * 10n <= greedy.clearingPrice! * 11n);
  // deterministic: the same inputs give the same deal; width 0 keeps the greedy price
  t.is(key(clearCircuit(rs, as, fr, params)), key(b));
  t.is(clearCircuit(rs, as, fr, { ...params, bandBps: 0n }).clearingPrice, 120n);
});

test('band: one request, equal loads: a seeded draw among the band, each prover chosen for some seed', (t) => {
  const as = [ask(1n, 'alice', 100n, 1n), ask(2n, 'bob', 105n, 1n), ask(3n, 'carol', 108n, 1n), ask(4n, 'dave', 200n, 1n)];
  const fr = free('alice', 'bob', 'carol', 'dave');
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const r = clearCircuit([req(1n, 1000n)], as, fr, { collateralRatioBps: 0n, priceRule: 'v2', allocation: 'band', bandBps: 1000n, seed: `s${i}` });
    t.is(r.matches.length, 1);
    seen.add(r.matches[0].prover);
    t.true(r.clearingPrice! >= 105n && r.clearingPrice! <= 108n); // greedy price 105 (bob's unused unit); band top 115
  }
  t.deepEqual([...seen].sort(), ['alice', 'bob', 'carol']);
});

test('spread: same requests as greedy, each to the band ask with the least price + penalty x recent share; price within the band', (t) => {
  // alice (100) won 64 of the last 128 assignments, bob (110) 16, carol (120) none; dave (160) is inside the 50 % band
  // of the greedy price (bob's unused unit, 110: top 165) but never the least penalised
  const as = [ask(1n, 'alice', 100n), ask(2n, 'bob', 110n), ask(3n, 'carol', 120n), ask(4n, 'dave', 160n)];
  const fr = free('alice', 'bob', 'carol', 'dave');
  const recent = new Map([['alice', 64n], ['bob', 16n]]);
  const base: MatchParams = { collateralRatioBps: 0n, priceRule: 'v2', allocation: 'spread', bandBps: 5000n, window: 128n, recent };
  const one = [req(1n, 1000n)];
  t.is(clearCircuit(one, as, fr, { collateralRatioBps: 0n, priceRule: 'v2' }).matches[0].prover, 'alice');
  // no penalty: the greedy winner and price
  const free0 = clearCircuit(one, as, fr, { ...base, spreadPenalty: 0n });
  t.is(free0.matches[0].prover, 'alice');
  t.is(free0.clearingPrice, 110n);
  // penalty 32 per unit share (scores 100 + 16 = 116, 110 + 4 = 114, 120): bob, paid the greedy price 110
  const mild = clearCircuit(one, as, fr, { ...base, spreadPenalty: 32n });
  t.is(mild.matches[0].prover, 'bob');
  t.is(mild.clearingPrice, 110n);
  // penalty 80 (scores 140, 120, 120): a tie goes to the earlier ask, bob
  t.is(clearCircuit(one, as, fr, { ...base, spreadPenalty: 80n }).matches[0].prover, 'bob');
  // penalty 200 (scores 200, 135, 120): carol, and the uniform price rises to her ask
  const strong = clearCircuit(one, as, fr, { ...base, spreadPenalty: 200n });
  t.is(strong.matches[0].prover, 'carol');
  t.is(strong.clearingPrice, 120n);
  // free wins: alice's first 64 and bob's first 16 are not penalised, so alice again
  t.is(clearCircuit(one, as, fr, { ...base, spreadPenalty: 200n, spreadFree: 64n }).matches[0].prover, 'alice');
  // a band of 0 keeps everything at the greedy price: only asks <= 110 may be dealt
  const narrow = clearCircuit(one, as, fr, { ...base, spreadPenalty: 200n, bandBps: 0n });
  t.is(narrow.matches[0].prover, 'bob');
  t.is(narrow.clearingPrice, 110n);
});

test('spread: a batch counts its own deals, so a large penalty spreads one block over the band; the same requests as greedy', (t) => {
  const rs = Array.from({ length: 12 }, (_, i) => req(BigInt(i + 1), 1000n));
  const as = [ask(1n, 'alice', 100n, 12n), ask(2n, 'bob', 101n, 12n), ask(3n, 'carol', 102n, 12n), ask(4n, 'dave', 500n, 12n)];
  const fr = free('alice', 'bob', 'carol', 'dave');
  const greedy = clearCircuit(rs, as, fr, { collateralRatioBps: 0n, priceRule: 'v2' });
  t.true(greedy.matches.every((m) => m.prover === 'alice'));
  const sp = clearCircuit(rs, as, fr, { collateralRatioBps: 0n, priceRule: 'v2', allocation: 'spread', bandBps: 5000n, window: 128n, spreadPenalty: 128n * 10n });
  t.deepEqual(sp.matches.map((m) => m.requestId), greedy.matches.map((m) => m.requestId));
  const wins = new Map<string, number>();
  for (const m of sp.matches) wins.set(m.prover, (wins.get(m.prover) ?? 0) + 1);
  // each deal costs its prover 10 in score: 4 each to alice, bob and carol; dave (500) is outside the band
  t.deepEqual([...wins].sort(), [['alice', 4], ['bob', 4], ['carol', 4]]);
  t.is(sp.clearingPrice, 102n);
  t.is(key(clearCircuit(rs, as, fr, { collateralRatioBps: 0n, priceRule: 'v2', allocation: 'spread', bandBps: 5000n, window: 128n, spreadPenalty: 1280n })), key(sp));
});

test('spread with no penalty is greedy: the same matches and price as allocation v1 (random books, any recent wins)', (t) => {
  fc.assert(
    fc.property(arbBook, (b) => {
      const greedy = clearCircuit(b.requests, b.asks, b.free, { ...b.params, allocation: 'v1' });
      const spread = clearCircuit(b.requests, b.asks, b.free, { ...b.params, allocation: 'spread', spreadPenalty: 0n });
      if (key(spread) !== key(greedy)) throw new Error(`spread ${key(spread)} != greedy ${key(greedy)}`);
      // within their free wins nobody is penalised either
      const free = clearCircuit(b.requests, b.asks, b.free, { ...b.params, allocation: 'spread', spreadPenalty: 10_000n, spreadFree: 10_000n });
      if (key(free) !== key(greedy)) throw new Error(`spread within free wins ${key(free)} != greedy ${key(greedy)}`);
    }),
    { numRuns: 1500 },
  );
  t.pass();
});
