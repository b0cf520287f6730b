import test from 'ava';
import fc from 'fast-check';
import {
  clearCircuit, clearCircuitReference, collateralFor, MatchingInputError,
  type MatchRequest, type MatchAsk, type MatchParams, type ClearingResult,
} from '../modules/market/matching.js';

const RUNS = 1000;
const PROVERS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;

interface Instance {
  requests: MatchRequest[];
  asks: MatchAsk[];
  free: Map<string, bigint>;
  params: MatchParams;
}

// Small value ranges on purpose: ties in fee, price, reputation and collateral are frequent.
const arbRequest = fc.record({
  id: fc.bigInt({ min: 0n, max: 80n }),
  currentFee: fc.bigInt({ min: 0n, max: 100n }),
  minCollateral: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 200n })),
});
const arbAsk = fc.record({
  id: fc.bigInt({ min: 0n, max: 80n }),
  prover: fc.constantFrom(...PROVERS),
  price: fc.bigInt({ min: 0n, max: 100n }),
  capacity: fc.bigInt({ min: 0n, max: 4n }),
  reputation: fc.bigInt({ min: 0n, max: 3n }),
});
const arbRatio = fc.constantFrom(0n, 5_000n, 10_000n, 15_000n, 33_333n);
// Some provers get no entry at all (= 0 free collateral).
const arbFree = fc
  .tuple(...PROVERS.map(() => fc.option(fc.bigInt({ min: 0n, max: 700n }), { nil: undefined })))
  .map((vals) => {
    const m = new Map<string, bigint>();
    vals.forEach((v, i) => {
      if (v !== undefined) m.set(PROVERS[i], v);
    });
    return m;
  });
const arbInstance: fc.Arbitrary<Instance> = fc.record({
  requests: fc.uniqueArray(arbRequest, { selector: (r) => r.id, maxLength: 30 }),
  asks: fc.uniqueArray(arbAsk, { selector: (a) => a.id, maxLength: 14 }),
  free: arbFree,
  params: arbRatio.map((collateralRatioBps) => ({ collateralRatioBps })),
});

/** Every prover can afford every request at once: collateral never binds. */
function withAmpleCollateral(inst: Instance): Instance {
  let total = 0n;
  for (const r of inst.requests) total += collateralFor(r.minCollateral, r.currentFee, inst.params.collateralRatioBps);
  const free = new Map<string, bigint>();
  for (const a of inst.asks) free.set(a.prover, total);
  return { ...inst, free };
}

const run = (i: Instance): ClearingResult => clearCircuit(i.requests, i.asks, i.free, i.params);

/** Asserts every safety property of one result; returns a failure description or null. */
function safetyViolation(inst: Instance, res: ClearingResult): string | null {
  const reqById = new Map(inst.requests.map((r) => [r.id, r]));
  const askById = new Map(inst.asks.map((a) => [a.id, a]));
  const seen = new Set<bigint>();
  const perAsk = new Map<bigint, bigint>();
  const perProver = new Map<string, bigint>();
  for (let i = 0; i < res.matches.length; i++) {
    const m = res.matches[i];
    if (i > 0 && !(res.matches[i - 1].requestId < m.requestId)) return 'matches not strictly sorted by requestId';
    const r = reqById.get(m.requestId);
    const a = askById.get(m.askId);
    if (!r || !a) return 'match refers to unknown request/ask';
    if (seen.has(m.requestId)) return 'request matched twice';
    seen.add(m.requestId);
    if (m.prover !== a.prover) return 'prover does not own ask';
    if (m.price !== res.clearingPrice) return 'price not uniform';
    if (m.price > r.currentFee) return `request ${r.id} pays ${m.price} above its fee ${r.currentFee}`;
    if (m.price < a.price) return `ask ${a.id} paid ${m.price} below its price ${a.price}`;
    if (m.collateral !== collateralFor(r.minCollateral, m.price, inst.params.collateralRatioBps)) return 'bad lock';
    if (m.collateral < r.minCollateral) return 'lock below minCollateral';
    perAsk.set(a.id, (perAsk.get(a.id) ?? 0n) + 1n);
    perProver.set(a.prover, (perProver.get(a.prover) ?? 0n) + m.collateral);
  }
  for (const [id, n] of perAsk) if (n > askById.get(id)!.capacity) return `ask ${id} over capacity`;
  for (const [p, locked] of perProver) {
    if (locked > (inst.free.get(p) ?? 0n)) return `prover ${p} locks ${locked} > free ${inst.free.get(p) ?? 0n}`;
  }
  if (res.matches.length === 0 && res.clearingPrice !== null) return 'price without matches';
  if (res.matches.length > 0 && res.clearingPrice === null) return 'matches without price';
  const un = res.unmatched;
  for (let i = 1; i < un.length; i++) if (!(un[i - 1] < un[i])) return 'unmatched not sorted/unique';
  for (const id of un) if (seen.has(id) || !reqById.has(id)) return 'unmatched overlaps matched or unknown';
  if (un.length + seen.size !== inst.requests.length) return 'matched + unmatched != requests';
  return null;
}

test('safety: fee cap, ask floor, uniform price, capacity, per-prover collateral, at most one match', (t) => {
  let matchedSomething = 0;
  fc.assert(
    fc.property(arbInstance, (inst) => {
      const res = run(inst);
      if (res.matches.length > 0) matchedSomething++;
      const v = safetyViolation(inst, res);
      if (v) throw new Error(v);
    }),
    { numRuns: RUNS },
  );
  t.true(matchedSomething > RUNS / 4, `generator too weak: only ${matchedSomething} runs matched anything`);
});

test('safety also holds with collateral never binding (many matches)', (t) => {
  fc.assert(
    fc.property(arbInstance.map(withAmpleCollateral), (inst) => {
      const v = safetyViolation(inst, run(inst));
      if (v) throw new Error(v);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('optimized clearing equals the straightforward O(R*A) reference', (t) => {
  fc.assert(
    fc.property(fc.oneof(arbInstance, arbInstance.map(withAmpleCollateral)), (inst) => {
      const a = run(inst);
      const b = clearCircuitReference(inst.requests, inst.asks, inst.free, inst.params);
      if (!fcEqual(a, b)) throw new Error(`differs: ${show(a)} vs ${show(b)}`);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('permuting requests, asks and the collateral map insertion order gives an identical result', (t) => {
  const arb = arbInstance.chain((inst) =>
    fc.tuple(
      fc.constant(inst),
      fc.shuffledSubarray(inst.requests, { minLength: inst.requests.length }),
      fc.shuffledSubarray(inst.asks, { minLength: inst.asks.length }),
    ),
  );
  fc.assert(
    fc.property(arb, ([inst, reqs, asks]) => {
      const free = new Map([...inst.free.entries()].reverse());
      const a = run(inst);
      const b = clearCircuit(reqs, asks, free, inst.params);
      if (!fcEqual(a, b)) throw new Error(`differs: ${show(a)} vs ${show(b)}`);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('pure: inputs are not mutated and a second call gives the same result', (t) => {
  fc.assert(
    fc.property(arbInstance, (inst) => {
      const before = JSON.stringify(
        [inst.requests, inst.asks, [...inst.free.entries()], inst.params], (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
      const a = run(inst);
      const after = JSON.stringify(
        [inst.requests, inst.asks, [...inst.free.entries()], inst.params], (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
      if (before !== after) throw new Error('input mutated');
      if (!fcEqual(a, run(inst))) throw new Error('second call differs');
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('a request whose fee is below every ask is never matched', (t) => {
  fc.assert(
    fc.property(arbInstance.chain((inst) => fc.tuple(fc.constant(inst), fc.boolean())), ([inst0, ample]) => {
      const inst = ample ? withAmpleCollateral(inst0) : inst0;
      if (inst.asks.length === 0) return;
      let minPrice = inst.asks[0].price;
      for (const a of inst.asks) if (a.price < minPrice) minPrice = a.price;
      const res = run(inst);
      const matched = new Set(res.matches.map((m) => m.requestId));
      for (const r of inst.requests) {
        if (r.currentFee < minPrice && matched.has(r.id)) throw new Error(`request ${r.id} matched below every ask`);
      }
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('adding an ask never reduces the number of matches when collateral does not bind', (t) => {
  const arb = arbInstance.chain((inst) =>
    fc.tuple(fc.constant(inst), arbAsk.filter((x) => !inst.asks.some((a) => a.id === x.id))),
  );
  fc.assert(
    fc.property(arb, ([inst0, extra]) => {
      const before = run(withAmpleCollateral(inst0));
      const after = run(withAmpleCollateral({ ...inst0, asks: [...inst0.asks, extra] }));
      if (after.matches.length < before.matches.length) {
        throw new Error(`matches fell from ${before.matches.length} to ${after.matches.length}`);
      }
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('adding an ask CAN reduce matches when collateral binds (documented in docs/matching.md)', (t) => {
  const params = { collateralRatioBps: 0n };
  const requests = [
    { id: 1n, currentFee: 100n, minCollateral: 100n },
    { id: 2n, currentFee: 50n, minCollateral: 1n },
    { id: 3n, currentFee: 50n, minCollateral: 1n },
  ];
  const a = { id: 1n, prover: 'A', price: 40n, capacity: 2n, reputation: 0n };
  const x = { id: 2n, prover: 'B', price: 90n, capacity: 1n, reputation: 0n };
  const free = new Map([['A', 10n], ['B', 100n]]);
  const before = clearCircuit(requests, [a], free, params);
  t.deepEqual(before.matches.map((m) => m.requestId), [2n, 3n]);
  t.is(before.clearingPrice, 50n);
  const after = clearCircuit(requests, [a, x], free, params);
  t.deepEqual(after.matches.map((m) => [m.requestId, m.askId]), [[1n, 2n]]);
  t.is(after.clearingPrice, 100n);
  t.deepEqual(after.unmatched, [2n, 3n]);
});

// Unit-supply provers (one ask each, capacity 1) and non-binding collateral: the (k+1)-th price auction.
const arbUnitInstance: fc.Arbitrary<Instance> = fc
  .record({
    requests: fc.uniqueArray(arbRequest, { selector: (r) => r.id, maxLength: 12 }),
    asks: fc.uniqueArray(
      fc.record({
        id: fc.bigInt({ min: 0n, max: 40n }),
        price: fc.bigInt({ min: 0n, max: 100n }),
        reputation: fc.bigInt({ min: 0n, max: 2n }),
      }),
      { selector: (a) => a.id, minLength: 1, maxLength: 10 },
    ),
    params: arbRatio.map((collateralRatioBps) => ({ collateralRatioBps })),
  })
  .map(({ requests, asks, params }) =>
    withAmpleCollateral({
      requests,
      asks: asks.map((a) => ({ ...a, prover: `p${a.id}`, capacity: 1n })),
      free: new Map(),
      params,
    }),
  );

function utility(res: ClearingResult, askId: bigint, cost: bigint): bigint {
  const won = res.matches.some((m) => m.askId === askId);
  return won ? res.clearingPrice! - cost : 0n;
}

test('truthfulness: a unit-supply prover never gains by misreporting its price (collateral not binding)', (t) => {
  const arb = arbUnitInstance.chain((inst) =>
    fc.tuple(fc.constant(inst), fc.nat({ max: inst.asks.length - 1 }), fc.bigInt({ min: 0n, max: 110n })),
  );
  let deviationsThatChangedOutcome = 0;
  fc.assert(
    fc.property(arb, ([inst, j, bid]) => {
      const truthful = inst.asks[j];
      const cost = truthful.price;
      const honest = utility(run(inst), truthful.id, cost);
      if (honest < 0n) throw new Error('truthful bidder lost money');
      const asks = inst.asks.map((a, i) => (i === j ? { ...a, price: bid } : a));
      const lying = utility(run({ ...inst, asks }), truthful.id, cost);
      if (lying !== honest) deviationsThatChangedOutcome++;
      if (lying > honest) throw new Error(`bid ${bid} (cost ${cost}) gains ${lying} > ${honest}`);
    }),
    { numRuns: RUNS * 2 },
  );
  t.true(deviationsThatChangedOutcome > 50, 'deviations should sometimes change (lower) utility');
});

test('no truthfulness for multi-unit provers: withholding a unit can raise the price (documented)', (t) => {
  const params = { collateralRatioBps: 0n };
  const requests = [
    { id: 1n, currentFee: 100n, minCollateral: 0n },
    { id: 2n, currentFee: 100n, minCollateral: 0n },
  ];
  const free = new Map<string, bigint>();
  const b = { id: 2n, prover: 'B', price: 50n, capacity: 1n, reputation: 0n };
  const full = clearCircuit(requests, [{ id: 1n, prover: 'A', price: 10n, capacity: 2n, reputation: 0n }, b], free, params);
  t.is(full.clearingPrice, 50n); // A wins both units: utility 2 * (50 - 10) = 80
  t.deepEqual(full.matches.map((m) => m.prover), ['A', 'A']);
  const withheld = clearCircuit(requests, [{ id: 1n, prover: 'A', price: 10n, capacity: 1n, reputation: 0n }, b], free, params);
  t.is(withheld.clearingPrice, 100n); // A wins one unit: utility 100 - 10 = 90 > 80
  t.deepEqual(withheld.matches.map((m) => m.prover), ['A', 'B']);
});

test('worked example from docs/matching.md, asserted exactly', (t) => {
  const params = { collateralRatioBps: 15_000n };
  const free = new Map([['alice', 300n], ['bob', 100n], ['carol', 1000n]]); // dave: no entry = 0
  const asks: MatchAsk[] = [
    { id: 1n, prover: 'alice', price: 40n, capacity: 1n, reputation: 5n },
    { id: 2n, prover: 'bob', price: 40n, capacity: 2n, reputation: 9n },
    { id: 3n, prover: 'alice', price: 55n, capacity: 2n, reputation: 5n },
    { id: 4n, prover: 'carol', price: 50n, capacity: 1n, reputation: 1n },
    { id: 5n, prover: 'dave', price: 45n, capacity: 3n, reputation: 0n },
    { id: 6n, prover: 'carol', price: 60n, capacity: 1n, reputation: 1n },
    { id: 7n, prover: 'bob', price: 10n, capacity: 0n, reputation: 9n },
  ];
  const requests: MatchRequest[] = [
    { id: 1n, currentFee: 100n, minCollateral: 0n },
    { id: 2n, currentFee: 100n, minCollateral: 200n },
    { id: 3n, currentFee: 81n, minCollateral: 0n },
    { id: 4n, currentFee: 66n, minCollateral: 0n },
    { id: 5n, currentFee: 60n, minCollateral: 900n },
    { id: 6n, currentFee: 30n, minCollateral: 0n },
  ];
  // Reserves at the current fee (step 2 of the doc).
  t.deepEqual(
    requests.map((r) => collateralFor(r.minCollateral, r.currentFee, params.collateralRatioBps)),
    [150n, 200n, 122n, 99n, 900n, 45n],
  );
  const res = clearCircuit(requests, asks, free, params);
  t.deepEqual(res, {
    matches: [
      { requestId: 1n, askId: 1n, prover: 'alice', price: 60n, collateral: 90n },
      { requestId: 2n, askId: 4n, prover: 'carol', price: 60n, collateral: 200n },
      { requestId: 3n, askId: 3n, prover: 'alice', price: 60n, collateral: 90n },
      { requestId: 4n, askId: 2n, prover: 'bob', price: 60n, collateral: 90n },
    ],
    clearingPrice: 60n,
    unmatched: [5n, 6n],
  });
  t.deepEqual(clearCircuitReference(requests, asks, free, params), res);
});

test('edge cases: empty inputs, no asks, zero capacity, missing collateral entry, zero reserve', (t) => {
  const p0 = { collateralRatioBps: 0n };
  t.deepEqual(clearCircuit([], [], new Map(), p0), { matches: [], clearingPrice: null, unmatched: [] });
  const reqs = [
    { id: 9n, currentFee: 5n, minCollateral: 0n },
    { id: 3n, currentFee: 5n, minCollateral: 0n },
  ];
  t.deepEqual(clearCircuit(reqs, [], new Map(), p0), { matches: [], clearingPrice: null, unmatched: [3n, 9n] });
  // Zero-capacity ask is ignored even though it is the cheapest.
  const zeroCap = { id: 1n, prover: 'z', price: 0n, capacity: 0n, reputation: 0n };
  t.deepEqual(clearCircuit(reqs, [zeroCap], new Map([['z', 10n]]), p0).unmatched, [3n, 9n]);
  // A prover with no collateral entry can take requests that need none (ratio 0, minCollateral 0)...
  const free = { id: 2n, prover: 'nobody', price: 5n, capacity: 5n, reputation: 0n };
  const r = clearCircuit(reqs, [free], new Map(), p0);
  t.deepEqual(r.matches.map((m) => [m.requestId, m.collateral, m.price]), [[3n, 0n, 5n], [9n, 0n, 5n]]);
  // ...but nothing that needs collateral.
  t.is(clearCircuit(reqs, [free], new Map(), { collateralRatioBps: 1n }).matches.length, 0);
  // Ceiling: 1 bps of 5 rounds up to 1.
  t.is(collateralFor(0n, 5n, 1n), 1n);
  t.is(collateralFor(0n, 0n, 50_000n), 0n);
  t.is(collateralFor(7n, 4n, 10_000n), 7n);
});

test('tie-breaks: same price -> higher reputation, then lower ask id; same fee -> lower request id', (t) => {
  const p = { collateralRatioBps: 0n };
  const free = new Map<string, bigint>();
  const asks = [
    { id: 5n, prover: 'x', price: 10n, capacity: 1n, reputation: 1n },
    { id: 4n, prover: 'y', price: 10n, capacity: 1n, reputation: 1n },
    { id: 6n, prover: 'z', price: 10n, capacity: 1n, reputation: 7n },
  ];
  const reqs = [
    { id: 8n, currentFee: 20n, minCollateral: 0n },
    { id: 2n, currentFee: 20n, minCollateral: 0n },
  ];
  const r = clearCircuit(reqs, asks, free, p);
  // request 2 first -> ask 6 (rep 7); request 8 -> ask 4 (lower id than 5). Ask 5 is the unused competitor at 10.
  t.deepEqual(r.matches.map((m) => [m.requestId, m.askId]), [[2n, 6n], [8n, 4n]]);
  t.is(r.clearingPrice, 10n);
  // One request, fee 20 and no competitor left -> price is the lowest matched fee.
  const single = clearCircuit([{ id: 1n, currentFee: 20n, minCollateral: 0n }], [asks[0]], free, p);
  t.is(single.clearingPrice, 20n);
});

test('uniform-price guard: stop once a fee is below the highest matched ask', (t) => {
  const p = { collateralRatioBps: 10_000n };
  const free = new Map([['rich', 1000n], ['poor', 10n]]);
  const asks = [
    { id: 1n, prover: 'poor', price: 5n, capacity: 5n, reputation: 0n },
    { id: 2n, prover: 'rich', price: 80n, capacity: 1n, reputation: 0n },
  ];
  const reqs = [
    { id: 1n, currentFee: 90n, minCollateral: 0n }, // reserve 90: only 'rich' (80) can take it
    { id: 2n, currentFee: 10n, minCollateral: 0n }, // reserve 10: 'poor' could, but 10 < 80
  ];
  const r = clearCircuit(reqs, asks, free, p);
  t.deepEqual(r.matches.map((m) => [m.requestId, m.askId]), [[1n, 2n]]);
  t.is(r.clearingPrice, 90n); // 'poor' cannot afford the smallest matched reserve (90), so it sets no price
  t.deepEqual(r.unmatched, [2n]);
});

test('collateral is shared across a prover\'s asks', (t) => {
  const p = { collateralRatioBps: 10_000n };
  const asks = [
    { id: 1n, prover: 'p', price: 10n, capacity: 3n, reputation: 0n },
    { id: 2n, prover: 'p', price: 11n, capacity: 3n, reputation: 0n },
  ];
  const reqs = [1n, 2n, 3n, 4n].map((id) => ({ id, currentFee: 20n, minCollateral: 0n })); // reserve 20 each
  const r = clearCircuit(reqs, asks, new Map([['p', 50n]]), p);
  t.is(r.matches.length, 2); // 50 covers two reserves of 20, whatever ask they go to
  t.deepEqual(r.unmatched, [3n, 4n]);
  t.is(r.clearingPrice, 20n); // 'p' has 10 left < 20: its unused units compete for nothing
  t.true(r.matches.reduce((s, m) => s + m.collateral, 0n) <= 50n);
});

test('amounts far beyond 2^64 are exact (no Number conversion)', (t) => {
  const big = 10n ** 30n;
  const reqs = [
    { id: 1n, currentFee: 3n * big + 1n, minCollateral: 0n },
    { id: 2n, currentFee: 2n * big, minCollateral: 0n },
  ];
  const asks = [
    { id: 1n, prover: 'a', price: big, capacity: 1n, reputation: 0n },
    { id: 2n, prover: 'b', price: big + 1n, capacity: 1n, reputation: 0n },
    { id: 3n, prover: 'c', price: 2n * big - 1n, capacity: 1n, reputation: 0n },
  ];
  const free = new Map([['a', 10n ** 40n], ['b', 10n ** 40n], ['c', 10n ** 40n]]);
  const r = clearCircuit(reqs, asks, free, { collateralRatioBps: 12_345n });
  t.deepEqual(r.matches.map((m) => m.askId), [1n, 2n]);
  t.is(r.clearingPrice, 2n * big - 1n); // the unused unit at 2*10^30 - 1 undercuts the lowest fee 2*10^30
  t.is(r.matches[0].collateral, (12_345n * (2n * big - 1n) + 9_999n) / 10_000n);
});

test('caller bugs throw: duplicate ids, negative amounts', (t) => {
  const p = { collateralRatioBps: 0n };
  const ask = { id: 1n, prover: 'a', price: 1n, capacity: 1n, reputation: 0n };
  const req = { id: 1n, currentFee: 1n, minCollateral: 0n };
  t.throws(() => clearCircuit([req, { ...req }], [], new Map(), p), { instanceOf: MatchingInputError });
  t.throws(() => clearCircuit([], [ask, { ...ask, prover: 'b' }], new Map(), p), { instanceOf: MatchingInputError });
  t.throws(() => clearCircuit([{ ...req, currentFee: -1n }], [], new Map(), p), { instanceOf: MatchingInputError });
  t.throws(() => clearCircuit([], [{ ...ask, price: -1n }], new Map(), p), { instanceOf: MatchingInputError });
  t.throws(() => clearCircuit([], [{ ...ask, capacity: -1n }], new Map(), p), { instanceOf: MatchingInputError });
  t.throws(() => clearCircuit([], [ask], new Map([['a', -5n]]), p), { instanceOf: MatchingInputError });
  t.throws(() => clearCircuit([], [], new Map(), { collateralRatioBps: -1n }), { instanceOf: MatchingInputError });
  t.throws(() => clearCircuitReference([req, { ...req }], [], new Map(), p), { instanceOf: MatchingInputError });
});

function fcEqual(a: ClearingResult, b: ClearingResult): boolean {
  return show(a) === show(b);
}
function show(r: ClearingResult): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}
