/**
 * Asks cannot make blocks slow or lock provers out (issue 10, "asks accumulation"; modules/market/ask-cap.ts,
 * auction-read.ts), on the real market keeper:
 *  - a circuit holds at most params.max_asks_per_circuit asks; a full circuit refuses an ask not cheaper than its most
 *    expensive idle ask (changing nothing) and otherwise evicts exactly that ask (never one serving assignments),
 *    moving no funds;
 *  - ask admission: an ask needs min_bond_per_ask of free collateral per ask of its prover; an attacker that fills a
 *    circuit with cheap asks and then unbonds cannot keep a bonded prover's ask out, and the auction removes the
 *    attacker's asks as it meets them; the ask lifetime is bounded by max_ask_lifetime;
 *  - EndBlock loads no ask of a circuit whose demand is below every live ask, or that has no demand at all, decodes no
 *    request nobody can fund (a price-1 ask of an unfunded prover), and still assigns a request as soon as its fee
 *    reaches a fundable ask; the invariants hold after every block.
 */
import test from 'ava';
import { Context } from '../src/framework/context.js';
import { unfillableBook } from '../bench/endblock.js';
import { initVerifierBackend, genesisCircuitId } from '../modules/verifier/index.js';
import { marketInvariants } from '../modules/market/index.js';
import { DEFAULT_PARAMS } from '../modules/market/keys.js';
import { askCount } from '../modules/market/ask-cap.js';
import { validateParams } from '../modules/market/genesis.js';
import { Request, RequestStatus } from '../src/gen/proofbook/market/v1/market.js';
import { simAddress } from '../sim/agents.js';
import type { Address } from '../src/crypto/address.js';

const MAX_ASKS_PER_CIRCUIT = DEFAULT_PARAMS.maxAsksPerCircuit;
const MIN_BOND = BigInt(DEFAULT_PARAMS.minBondPerAsk);

function book(open: number) {
  const b = unfillableBook(open); // one bonded prover (bench/prover) with ask 1 at 10,000; `open` requests below it
  const at = (h: bigint) => new Context(b.base, { chainId: b.chainId, height: h, timeSeconds: h * 6n }, 'block');
  const indexes = marketInvariants(b.market).find((i) => i.name === 'market/indexes')!;
  // bench/prover (10^12 uproof, 10^8 bonded) funds and bonds other accounts
  const fund = (ctx: Context, who: string, bond: bigint) => {
    (b.market as any).bank.send(ctx, simAddress('bench/prover'), who, [{ denom: 'uproof', amount: bond + 1_000_000n }]);
    if (bond > 0n) (b.market as any).bond.bond(ctx, who, [{ denom: 'uproof', amount: bond }]);
  };
  return { ...b, at, indexes, fund };
}

test('a full circuit admits only an ask cheaper than its most expensive idle ask, which it evicts', async (t) => {
  await initVerifierBackend();
  const { market, at, indexes, fund } = book(0);
  const circuitId = genesisCircuitId();
  const prover = simAddress('bench/prover') as Address;
  const other = simAddress('asks/other');
  const ctx = at(2n);
  fund(ctx, other, MIN_BOND * MAX_ASKS_PER_CIRCUIT); // admitted: min_bond_per_ask for each of its asks
  // fill the circuit: ask 1 (10,000) plus asks 2..MAX priced 20,000 + id; the most expensive one serves an assignment
  for (let id = 2n; id <= MAX_ASKS_PER_CIRCUIT; id++) {
    market.putNewAsk(ctx, { id, prover: other, circuitId, price: (20_000n + id).toString(), capacity: 5n, active: id === MAX_ASKS_PER_CIRCUIT ? 1n : 0n, expiryHeight: 1_000_000n, createdHeight: 2n });
  }
  market.setNextId(ctx, 'N', MAX_ASKS_PER_CIRCUIT + 1n);
  t.is(askCount(market.store(ctx), circuitId), MAX_ASKS_PER_CIRCUIT);
  t.is(indexes.check(ctx), undefined);
  const busy = MAX_ASKS_PER_CIRCUIT;
  const top = MAX_ASKS_PER_CIRCUIT - 1n; // most expensive idle ask
  const topPrice = 20_000n + top;
  const free = market['bond'].freeCollateral(ctx, prover, 'uproof');
  const post = (price: bigint) => market.postAsk(ctx, { prover, circuitId, price: price.toString(), capacity: 2n, expiryHeight: 500n });
  // not cheaper: refused with a clear error, nothing changes
  const e = t.throws(() => post(topPrice));
  t.regex(e!.message, new RegExp(`holds ${MAX_ASKS_PER_CIRCUIT} asks \\(params.max_asks_per_circuit\\); a new ask must be priced below ${topPrice}`));
  t.is(askCount(market.store(ctx), circuitId), MAX_ASKS_PER_CIRCUIT);
  t.truthy(market.ask(ctx, top));
  // cheaper: the most expensive idle ask goes (not the busy one above it), the count stays at the cap
  const id = post(topPrice - 1n);
  t.is(id, MAX_ASKS_PER_CIRCUIT + 1n);
  t.is(market.ask(ctx, top), undefined);
  t.truthy(market.ask(ctx, busy));
  t.is(market.ask(ctx, id)!.price, (topPrice - 1n).toString());
  t.is(askCount(market.store(ctx), circuitId), MAX_ASKS_PER_CIRCUIT);
  const ev = ctx.events.find((x) => x.type === 'proofbook.market.ask_evicted')!;
  t.is(ev.attributes.find((a) => a.key === 'ask_id')!.value, top.toString());
  t.is(market['bond'].freeCollateral(ctx, prover, 'uproof'), free); // asks lock nothing: eviction moves no funds
  t.is(indexes.check(ctx), undefined);
  // the next eviction takes the most expensive idle ask again: at a tied price the newer one (id) goes, the older stays
  post(topPrice - 2n);
  t.is(market.ask(ctx, id), undefined);
  t.truthy(market.ask(ctx, top - 1n));
  // a cancel frees a slot without eviction
  market.cancelAsk(ctx, other, 2n);
  t.is(askCount(market.store(ctx), circuitId), MAX_ASKS_PER_CIRCUIT - 1n);
  post(1_000_000n); // room again: admitted at any price
  t.is(askCount(market.store(ctx), circuitId), MAX_ASKS_PER_CIRCUIT);
  t.is(indexes.check(ctx), undefined);
});

test('EndBlock loads no ask where demand cannot reach one, and still assigns when a fee reaches an ask', async (t) => {
  await initVerifierBackend();
  const { market, at, indexes } = book(200); // 200 open requests, max fees 1,000..9,999, all under ask 1 (10,000)
  const circuitId = genesisCircuitId();
  const other = simAddress('asks/other');
  const ctx0 = at(2n);
  for (let id = 2n; id <= 500n; id++) market.putNewAsk(ctx0, { id, prover: other, circuitId, price: (50_000n + id).toString(), capacity: 1n, active: 0n, expiryHeight: 1_000_000n, createdHeight: 2n });
  market.setNextId(ctx0, 'N', 501n);
  let loads = 0;
  const orig = market.ask.bind(market);
  market.ask = (c: Context, id: bigint) => (loads++, orig(c, id));
  for (let h = 3n; h <= 5n; h++) {
    const ctx = at(h);
    loads = 0;
    market.endBlock(ctx);
    t.true(loads <= 1, `block ${h}: ${loads} ask loads (only the cheapest ask is looked at)`);
    t.false(ctx.events.some((e) => e.type === 'proofbook.market.request_assigned'));
    t.is(indexes.check(ctx), undefined);
  }
  // a request that pays the cheapest ask: assigned in the next block, to ask 1 at its price
  const requester = simAddress('bench/requester');
  market.putNewRequest(at(5n), Request.fromPartial({
    id: 9001n, requester, circuitId, expectedPublicSignals: ['1', '2'], minFee: '20000', maxFee: '20000', rampBlocks: 0n,
    provingWindow: 20n, expiryHeight: 100_000n, minCollateral: '0', submittedHeight: 5n, status: RequestStatus.REQUEST_STATUS_OPEN, escrow: '20000',
  }));
  const ctx = at(6n);
  market.endBlock(ctx);
  const r = market.request(ctx, 9001n)!;
  t.is(r.status, RequestStatus.REQUEST_STATUS_ASSIGNED);
  t.is(r.assignment!.askId, 1n);
  t.is(indexes.check(ctx), undefined);
});

test('an attacker that fills a circuit with cheap asks and unbonds cannot keep a bonded prover out; the auction removes its asks', async (t) => {
  await initVerifierBackend();
  const { market, at, indexes, fund } = book(300); // 300 open requests, max fees 1,000..9,999, under ask 1 (10,000)
  const circuitId = genesisCircuitId();
  const all = marketInvariants(market);
  const ctx = at(2n);
  // without free collateral for min_bond_per_ask nothing can be posted: a clear error, nothing changes
  const poor = simAddress('asks/poor');
  fund(ctx, poor, MIN_BOND - 1n);
  const e = t.throws(() => market.postAsk(ctx, { prover: poor, circuitId, price: '1', capacity: 1n, expiryHeight: 100n }));
  t.regex(e!.message, /free collateral; 1 asks at price 1 need 10000 \(params.min_bond_per_ask 10000 per ask/);
  t.is(askCount(market.store(ctx), circuitId), 1n);
  // the attacker: 50 accounts x 20 asks at price 1 (1,000 asks minus the honest ask 1 = the cap), posted while each
  // account holds 20 x min_bond_per_ask, then every account unbonds all of it
  const attackers = Array.from({ length: 50 }, (_, i) => simAddress(`asks/attacker/${i}`));
  let posted = 0n;
  for (const a of attackers) {
    fund(ctx, a, 20n * MIN_BOND);
    for (let i = 0; i < 20 && posted < MAX_ASKS_PER_CIRCUIT - 1n; i++, posted++) market.postAsk(ctx, { prover: a, circuitId, price: '1', capacity: 5n, expiryHeight: 1000n });
  }
  t.is(askCount(market.store(ctx), circuitId), MAX_ASKS_PER_CIRCUIT);
  // funded, the attacker's price-1 asks hold the circuit: an honest ask at 20,000 must beat the most expensive idle
  // ask (ask 1 at 10,000) on price, and is refused
  const honest = simAddress('asks/honest');
  fund(ctx, honest, 10_000_000n);
  const post = () => market.postAsk(ctx, { prover: honest, circuitId, price: '20000', capacity: 2n, expiryHeight: 1000n });
  const full = t.throws(post);
  t.regex(full!.message, /must be priced below 10000, the most expensive idle ask/);
  for (const a of attackers) (market as any).bond.unbond(ctx, a, [{ denom: 'uproof', amount: 20n * MIN_BOND }]);
  // unbonded, they fail admission: the honest ask evicts one of them although it is 20,000x more expensive
  const id = post();
  t.truthy(market.ask(ctx, id));
  t.truthy(market.ask(ctx, 1n)); // ask 1 (bonded, cheaper than the honest ask) stays
  const ev = ctx.events.filter((x) => x.type === 'proofbook.market.ask_evicted').at(-1)!;
  t.true((attackers as string[]).includes(ev.attributes.find((a) => a.key === 'prover')!.value));
  t.is(ev.attributes.find((a) => a.key === 'reason')!.value, 'underfunded');
  t.is(askCount(market.store(ctx), circuitId), MAX_ASKS_PER_CIRCUIT);
  for (const inv of all) t.is(inv.check(ctx), undefined, inv.name);
  // the auction: demand (max fees up to 9,999) reaches the price-1 asks, none of which can be assigned; it removes
  // every one it meets (each costs one visit, once) and assigns nothing
  const r0 = at(3n);
  market.endBlock(r0);
  t.is(r0.events.filter((x) => x.type === 'proofbook.market.ask_evicted').length, Number(MAX_ASKS_PER_CIRCUIT) - 2);
  t.is(askCount(market.store(r0), circuitId), 2n); // ask 1 (10,000) and the honest ask (20,000)
  t.false(r0.events.some((x) => x.type === 'proofbook.market.request_assigned'));
  t.deepEqual(market.liveAsks(r0, circuitId).map((a) => a.prover).sort(), [simAddress('bench/prover'), honest].sort());
  for (const inv of all) t.is(inv.check(r0), undefined, inv.name);
  // next block: nothing left to remove, no ask loaded (the cheapest live ask is above every fee), nothing decoded
  const r1 = at(4n);
  market.endBlock(r1);
  t.false(r1.events.some((x) => x.type === 'proofbook.market.ask_evicted'));
  t.true(market.auctionWork.asksLoaded <= 1, `loaded ${market.auctionWork.asksLoaded} asks`);
  t.is(market.auctionWork.decoded, 0);
  for (const inv of all) t.is(inv.check(r1), undefined, inv.name);
});

test('EndBlock decodes no request that only an unfundable price-1 ask could reach, and still assigns fundable ones', async (t) => {
  await initVerifierBackend();
  const { market, at, fund } = book(2000); // max fees 1,000..9,999 (half ramping from 1,000) under ask 1 (10,000)
  const circuitId = genesisCircuitId();
  const all = marketInvariants(market);
  const ctx = at(2n);
  // with min_bond_per_ask 1, a prover with 1,999 free collateral is admitted at price 1, but its fee ceiling is 999
  // (a request of fee f locks at least 2f): no request (every fee >= 1,000) can be given to it
  market.setParams(ctx, { ...market.params(ctx), minBondPerAsk: '1' });
  const cheap = simAddress('asks/cheap');
  fund(ctx, cheap, 1999n);
  market.postAsk(ctx, { prover: cheap, circuitId, price: '1', capacity: 1000n, expiryHeight: 1000n });
  for (let h = 3n; h <= 5n; h++) {
    const c = at(h);
    market.endBlock(c);
    t.false(c.events.some((x) => x.type === 'proofbook.market.request_assigned'));
    t.is(market.auctionWork.decoded, 0, `block ${h}: decoded ${market.auctionWork.decoded} records`);
    t.true(market.auctionWork.entries <= 2, `block ${h}: read ${market.auctionWork.entries} index entries`);
    for (const inv of all) t.is(inv.check(c), undefined, inv.name);
  }
  // with 10,000 free it can fund fees up to 5,000: those requests are fillable, and the auction assigns them to it
  // (highest fee first) until its collateral runs out
  fund(at(6n), cheap, 8001n);
  const c = at(7n);
  market.endBlock(c);
  const assigned = c.events.filter((x) => x.type === 'proofbook.market.request_assigned');
  t.true(assigned.length >= 1);
  for (const a of assigned) t.is(a.attributes.find((x) => x.key === 'prover')!.value, cheap);
  t.true(market.auctionWork.decoded < 200, `decoded ${market.auctionWork.decoded}`);
  for (const inv of all) t.is(inv.check(c), undefined, inv.name);
});

test('ask lifetime is bounded by params.max_ask_lifetime; the ask params are validated', async (t) => {
  await initVerifierBackend();
  const { market, at } = book(0);
  const circuitId = genesisCircuitId();
  const prover = simAddress('bench/prover') as Address;
  const ctx = at(2n);
  const max = DEFAULT_PARAMS.maxAskLifetime;
  const e = t.throws(() => market.postAsk(ctx, { prover, circuitId, price: '20000', capacity: 1n, expiryHeight: 2n + max + 1n }));
  t.regex(e!.message, new RegExp(`expiry_height ${2n + max + 1n} is more than params.max_ask_lifetime \\(${max}\\) blocks after the current height 2`));
  t.is(askCount(market.store(ctx), circuitId), 1n);
  t.truthy(market.ask(ctx, market.postAsk(ctx, { prover, circuitId, price: '20000', capacity: 1n, expiryHeight: 2n + max })));
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, maxAsksPerCircuit: 0n }), { message: /max_asks_per_circuit must be 1..10000/ });
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, minBondPerAsk: '-1' }), { message: /min_bond_per_ask must be a non-negative integer/ });
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, maxAskLifetime: 0n }), { message: /max_ask_lifetime must be positive/ });
  t.notThrows(() => validateParams(DEFAULT_PARAMS));
});

test('EndBlock decodes no request whose min_collateral no live ask\'s prover can lock', async (t) => {
  await initVerifierBackend();
  const { market, at, fund } = book(0);
  const circuitId = genesisCircuitId();
  const all = marketInvariants(market);
  const ctx = at(2n);
  market.cancelAsk(ctx, simAddress('bench/prover') as Address, 1n);
  const small = simAddress('asks/small');
  fund(ctx, small, 30_000n); // fee band [10,000, 15,000]
  market.postAsk(ctx, { prover: small, circuitId, price: '10000', capacity: 100n, expiryHeight: 1000n });
  const requester = simAddress('asks/requester');
  fund(ctx, requester, 0n);
  const submit = (minCollateral: string) => market.submitRequest(ctx, {
    requester, circuitId, inputInline: Buffer.from('x'), inputUri: '', inputSha256: '', expectedPublicSignals: ['1', '2'],
    minFee: '', maxFee: '12000', rampBlocks: 0n, provingWindow: 5n, expiryHeight: 500n, minCollateral, fallbackAfterBlocks: 0n,
  } as any);
  for (let i = 0; i < 40; i++) submit('50000'); // in the band, but a lock of 50,000 > 30,000 free: never assignable
  const ok = submit(''); // locks 24,000
  const c = at(3n);
  market.endBlock(c);
  const assigned = c.events.filter((x) => x.type === 'proofbook.market.request_assigned');
  t.deepEqual(assigned.map((a) => a.attributes.find((x) => x.key === 'request_id')!.value), [ok.toString()]);
  t.true(market.auctionWork.decoded <= 2, `decoded ${market.auctionWork.decoded} records`);
  for (const inv of all) t.is(inv.check(c), undefined, inv.name);
});
