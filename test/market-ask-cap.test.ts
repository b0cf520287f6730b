/**
 * Asks cannot make blocks slow (issue 10, "asks accumulation"; modules/market/ask-cap.ts), on the real market keeper:
 *  - a circuit holds at most MAX_ASKS_PER_CIRCUIT asks; a full circuit refuses an ask not cheaper than its most
 *    expensive idle ask (changing nothing) and otherwise evicts exactly that ask (never one serving assignments),
 *    moving no funds;
 *  - EndBlock loads no ask of a circuit whose demand is below every live ask, or that has no demand at all, and still
 *    assigns a request as soon as its fee reaches an ask; the index invariant holds after every block.
 */
import test from 'ava';
import { Context } from '../src/framework/context.js';
import { unfillableBook } from '../bench/endblock.js';
import { initVerifierBackend, genesisCircuitId } from '../modules/verifier/index.js';
import { marketInvariants } from '../modules/market/index.js';
import { MAX_ASKS_PER_CIRCUIT } from '../modules/market/keys.js';
import { askCount } from '../modules/market/ask-cap.js';
import { Request, RequestStatus } from '../src/gen/proofbook/market/v1/market.js';
import { simAddress } from '../sim/agents.js';
import type { Address } from '../src/crypto/address.js';

function book(open: number) {
  const b = unfillableBook(open); // one bonded prover (bench/prover) with ask 1 at 10,000; `open` requests below it
  const at = (h: bigint) => new Context(b.base, { chainId: b.chainId, height: h, timeSeconds: h * 6n }, 'block');
  const indexes = marketInvariants(b.market).find((i) => i.name === 'market/indexes')!;
  return { ...b, at, indexes };
}

test('a full circuit admits only an ask cheaper than its most expensive idle ask, which it evicts', async (t) => {
  await initVerifierBackend();
  const { market, at, indexes } = book(0);
  const circuitId = genesisCircuitId();
  const prover = simAddress('bench/prover') as Address;
  const other = simAddress('asks/other');
  const ctx = at(2n);
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
  t.regex(e!.message, new RegExp(`holds ${MAX_ASKS_PER_CIRCUIT} asks; a new ask must be priced below ${topPrice}`));
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
