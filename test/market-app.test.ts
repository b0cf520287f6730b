/**
 * App-level market tests: the real app (auth, bank, verifier, bond, market) on LevelDB through TestChain (invariants
 * checked after every block), real snarkjs proofs of the genesis circuit.
 */
import test from 'ava';
import { devnetKey } from './helpers/chain.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import {
  QueryBookRequest,
  QueryBookResponse,
  QueryReputationRequest,
  QueryReputationResponse,
  QueryStatsRequest,
  QueryStatsResponse,
} from '../src/gen/proofbook/market/v1/market.js';
import type { RawKey } from '../src/client/sign.js';
import { CIRCUIT, ESCROW, INPUTS, FEE, S, TREASURY, balance, bondedOf, failing, getProofs, m, ok, queryCtx, request, setup, supply, txs, type Msg } from './helpers/market.js';
import { holdingHeld, holdingPaid } from './helpers/holding.js';
import { DEFAULT_PARAMS } from '../modules/market/keys.js';

test.after.always(() => terminateSnarkjs());

test('request -> one prover assigned with collateral locked -> proof -> exact payouts, reputation, stats, book', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, 5000n, 2n));
  const r0 = await balance(chain, requester.address);
  const t0 = await balance(chain, TREASURY);
  const res = await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n, window: 10n, expect: pf.signals }));
  const h = res.height;
  const { request: rq } = await request(chain, 1n);
  t.is(rq.status, S.REQUEST_STATUS_ASSIGNED);
  t.is(rq.assignment!.prover, p1.address);
  t.is(Buffer.from(rq.inputInline).toString(), JSON.stringify(INPUTS[0])); // stored apart, returned by the query
  // one request, ask of capacity 2: the ask's second unit competes, so the uniform price is the ask price
  t.is(rq.assignment!.price, '5000');
  t.is(rq.assignment!.collateral, '10000');
  t.is(rq.assignment!.acceptUntilHeight, h + 3n); // accept phase (params.accept_blocks = 3), then the window
  t.is(rq.assignment!.deadlineHeight, h + 13n);
  t.is((await bondedOf(chain, p1.address)).locked, 10_000n);
  // (holdingPaid/holdingHeld: the request's holding charge, modules/market/holding.ts)
  t.is(await balance(chain, requester.address), r0 - FEE - 10_000n - (await holdingPaid(chain, 1n)));
  t.is(await balance(chain, ESCROW), 10_000n + (await holdingHeld(chain, 1n)));

  const b1 = await balance(chain, p1.address);
  await ok(chain, p1, m.proof(p1, 1n, pf));
  const done = (await request(chain, 1n)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.is(done.paidPrice, '5000');
  t.deepEqual(done.publicSignals, pf.signals);
  t.deepEqual(done.history.map((x) => x.event), ['submitted', 'assigned', 'fulfilled']);
  t.is(await balance(chain, p1.address), b1 - FEE + 5000n - 50n);
  t.is(await balance(chain, TREASURY), t0 + 50n);
  t.is(await balance(chain, requester.address), r0 - FEE - 5000n - (await holdingPaid(chain, 1n)));
  t.is(await balance(chain, ESCROW), 0n);
  t.is((await bondedOf(chain, p1.address)).locked, 0n);

  const rep = QueryReputationResponse.decode((await chain.query('/proofbook.market.v1.Query/Reputation', QueryReputationRequest.encode({ prover: p1.address }).finish())).value);
  t.is(rep.reputations.length, 1);
  t.is(rep.reputations[0].fulfilled, 1n);
  t.is(rep.reputations[0].avgBlocksToProofMilli, 1000n);
  const stats = QueryStatsResponse.decode((await chain.query('/proofbook.market.v1.Query/Stats', QueryStatsRequest.encode({ circuitId: CIRCUIT }).finish())).value);
  t.is(stats.stats[0].fills, 1n);
  t.is(stats.stats[0].meanClearingPrice, '5000');
  t.is(stats.stats[0].meanBlocksToProofMilli, 1000n);
  t.is(stats.stats[0].assignedFills, 1n, 'delivered by its assigned prover');
  t.is(stats.stats[0].meanAssignedBlocksToProofMilli, 1000n);
  t.is(stats.stats[0].paceBlocksToProofMilli, 1000n, "the circuit's pace: its first assigned delivery sets it");
  const book = QueryBookResponse.decode((await chain.query('/proofbook.market.v1.Query/Book', QueryBookRequest.encode({ circuitId: CIRCUIT }).finish())).value);
  t.deepEqual(book.asks.map((l) => [l.price, l.quantity]), [['5000', 2n]]);
  t.is(book.lastClearingPrice, '5000');
  t.is(book.lastClearingHeight, h);
});

test('missed deadline slashes (requester compensated, bounty held, rest burned); the request enters the fallback and is not auctioned again (p2\'s live ask is not given it); p2 fulfils it through the fallback, paid the fallback fee its commitment locked + bounty', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await txs(chain, [[p1, [m.ask(p1, 5000n, 1n)]], [p2, [m.ask(p2, 6000n, 1n)]]]);
  const r0 = await balance(chain, requester.address);
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 100n, window: 2n }));
  let rq = (await request(chain, 1n)).request;
  t.is(rq.assignment!.prover, p1.address);
  t.is(rq.assignment!.price, '6000'); // p2's unit is the competing (k+1)-th unit
  t.is(rq.assignment!.collateral, '12000');
  // p1 withdraws its ask: it keeps the assignment but takes no new work
  await ok(chain, p1, m.cancelAsk(p1, 1n));
  t.is(rq.assignment!.deadlineHeight, h + 5n); // 3 accept blocks + window 2
  while (chain.app.height < h + 5n) await chain.block(); // h + 5: still within the deadline
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  const supplyBefore = await supply(chain);
  const bond1 = await bondedOf(chain, p1.address);
  await chain.block(); // h + 6: deadline < height -> slash, exclude p1, fallback; no re-auction (p2's ask stays free)
  await chain.block();
  rq = (await request(chain, 1n)).request;
  t.is(rq.status, S.REQUEST_STATUS_FALLBACK);
  t.is(rq.assignment, undefined);
  t.true(rq.fallbackHeight > 0n);
  t.is(rq.fallbackReferenceFee, '6000', 'the fallback fee starts from the failed assignment price (= the last clearing price)');
  t.deepEqual(rq.excludedProvers, [p1.address]);
  t.is(rq.bounty, '3000'); // 25 % of 12000 held for whoever proves it
  t.is(rq.assignmentsCount, 1);
  t.deepEqual(rq.history.map((x) => x.event), ['submitted', 'assigned', 'slashed']);
  t.is(rq.history[2].compensation, '6000');
  t.is(await supply(chain), supplyBefore - 3000n); // 25 % burned
  t.is(await balance(chain, requester.address), r0 - FEE - 10_000n + 6000n - (await holdingPaid(chain, 1n)));
  const bond1After = await bondedOf(chain, p1.address);
  t.is(bond1After.bonded, bond1.bonded - 12_000n);
  t.is(bond1After.locked, 0n);
  // p1's cancelled ask was removed once its assignment ended
  t.is(chain.app.modules.keepers.market.ask(queryCtx(chain), 1n), undefined);
  const rep = chain.app.modules.keepers.market.reputation(queryCtx(chain), p1.address as any, CIRCUIT);
  t.is(rep.missed, 1n);

  // the prover that missed may not deliver it any more
  const again = await failing(chain, p1, m.proof(p1, 1n, pf));
  t.regex(again.result.log, /released, missed or declined/);
  const b2 = await balance(chain, p2.address);
  const { height: hc } = await ok(chain, p2, m.commit(p2, 1n, pf)); // the fallback path: commit, then reveal in a later block
  await ok(chain, p2, m.proof(p2, 1n, pf));
  const done = (await request(chain, 1n)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.is(done.history[done.history.length - 1].event, 'fallback_fulfilled');
  // the fee its commitment locked: from the reference 6000 up to the current fee 10000 over fallback_ramp_blocks
  const paid = BigInt(done.paidPrice);
  t.is(paid, 6000n + (4000n * (hc - rq.fallbackHeight)) / DEFAULT_PARAMS.fallbackRampBlocks);
  t.true(paid < 10_000n, 'below the current fee (the rule before paid 10000)');
  t.is(await balance(chain, p2.address), b2 - 2n * FEE + paid - paid / 100n + 3000n); // the fee less 1 %, plus the bounty (deposit back)
  t.is(await balance(chain, requester.address), r0 - FEE - 10_000n + 6000n + (10_000n - paid) - (await holdingPaid(chain, 1n))); // compensation + refund of the unpaid escrow
  // a fill, but not one by the assigned prover: the default patience (src/client/patience.ts) does not read it
  const stats = QueryStatsResponse.decode((await chain.query('/proofbook.market.v1.Query/Stats', QueryStatsRequest.encode({ circuitId: CIRCUIT }).finish())).value);
  t.is(stats.stats[0].fills, 1n);
  t.is(stats.stats[0].assignedFills, 0n);
  t.is(stats.stats[0].meanAssignedBlocksToProofMilli, 0n);
  t.is(stats.stats[0].paceBlocksToProofMilli, 0n, "a fallback delivery does not set the circuit's pace");
});

test('release re-opens the request at once with the smaller slash', async (t) => {
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await txs(chain, [[p1, [m.ask(p1, 5000n, 1n)]], [p2, [m.ask(p2, 6000n, 1n)]]]);
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 100n }));
  t.is((await request(chain, 1n)).request.assignment!.prover, p1.address);
  await ok(chain, p1, m.cancelAsk(p1, 1n));
  const r0 = await balance(chain, requester.address);
  const s0 = await supply(chain);
  const bond1 = await bondedOf(chain, p1.address);
  const res = await ok(chain, p1, m.release(p1, 1n));
  // in the accept phase the release slash is the base 10 %: 12000 -> 1200 slashed: 600 to the requester, 300 held as
  // the request's bounty, 300 burned; the rest unlocked
  t.is(await balance(chain, requester.address), r0 + 600n);
  t.is(await supply(chain), s0 - 300n);
  const bond1After = await bondedOf(chain, p1.address);
  t.is(bond1After.bonded, bond1.bonded - 1200n);
  t.is(bond1After.locked, 0n);
  const rq = (await request(chain, 1n)).request;
  t.is(rq.status, S.REQUEST_STATUS_ASSIGNED);
  t.is(rq.assignment!.prover, p2.address);
  t.is(rq.assignment!.assignedHeight, res.height);
  t.deepEqual(rq.history.map((x) => x.event), ['submitted', 'assigned', 'released', 'assigned']);
  t.deepEqual(rq.excludedProvers, [p1.address]);
  t.is(rq.bounty, '300');
  t.is(chain.app.modules.keepers.market.reputation(queryCtx(chain), p1.address as any, CIRCUIT).released, 1n);
});

test('an invalid proof is rejected with a clear error and changes nothing but the tx fee', async (t) => {
  const [pf, pf2] = await getProofs();
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, 5000n, 1n));
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 100n, input: 1 }));
  const b = await Promise.all([balance(chain, p1.address), balance(chain, requester.address), balance(chain, ESCROW)]);
  const lock = await bondedOf(chain, p1.address);
  // a valid proof with another proof's public signals
  const res = await failing(chain, p1, m.proof(p1, 1n, { proof: pf.proof, signals: pf2.signals }));
  t.is(res.check.code, 0, res.check.log); // CheckTx defers proof verification to the block, where the fee is paid (issue 10 item 6)
  t.not(res.result.code, 0);
  t.is(res.result.codespace, 'market');
  t.regex(res.result.log, /invalid proof/);
  const rq = (await request(chain, 1n)).request;
  t.is(rq.status, S.REQUEST_STATUS_ASSIGNED);
  t.deepEqual(await Promise.all([balance(chain, p1.address), balance(chain, requester.address), balance(chain, ESCROW)]), [b[0] - FEE, b[1], b[2]]);
  t.deepEqual(await bondedOf(chain, p1.address), lock);
  // someone else's proof for the same request is refused too
  const other = await failing(chain, requester, m.proof(requester, 1n, pf));
  t.regex(other.result.log, /not the assigned prover/);
});

test('expiry refunds the escrow; cancel refunds the escrow', async (t) => {
  const { chain, requester } = await setup();
  t.teardown(() => chain.close());
  const r0 = await balance(chain, requester.address);
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 3n }), m.request(requester, { maxFee: 7000n, expiry: chain.app.height + 50n }));
  const held = async () => (await holdingPaid(chain, 1n)) + (await holdingPaid(chain, 2n));
  t.is(await balance(chain, requester.address), r0 - FEE - 17_000n - (await held()));
  await ok(chain, requester, m.cancel(requester, 2n));
  t.is((await request(chain, 2n)).request.status, S.REQUEST_STATUS_CANCELLED);
  t.is(await balance(chain, requester.address), r0 - 2n * FEE - 10_000n - (await held()));
  const again = await failing(chain, requester, m.cancel(requester, 2n));
  t.regex(again.result.log, /only OPEN requests can be cancelled/);
  while (chain.app.height < h + 3n) await chain.block();
  const rq = (await request(chain, 1n)).request;
  t.is(rq.status, S.REQUEST_STATUS_EXPIRED);
  t.is(rq.escrow, '0');
  t.is(await balance(chain, requester.address), r0 - 3n * FEE - (await held()));
  t.is(await balance(chain, ESCROW), 0n);
});

test('the fee ramps from min_fee to max_fee and the request matches once its fee reaches the ask', async (t) => {
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, 6000n, 1n));
  const { height: h0 } = await ok(chain, requester, m.request(requester, { minFee: 1000n, maxFee: 11_000n, ramp: 10n, expiry: chain.app.height + 100n }));
  t.is((await request(chain, 1n)).currentFee, 1000n);
  await chain.block();
  t.is((await request(chain, 1n)).currentFee, 2000n);
  while (chain.app.height < h0 + 5n) await chain.block();
  const rq = (await request(chain, 1n)).request;
  t.is(rq.status, S.REQUEST_STATUS_ASSIGNED);
  t.is(rq.assignment!.assignedHeight, h0 + 5n);
  t.is(rq.assignment!.price, '6000');
  // another request that nobody serves reaches max_fee and stays there
  const { height: h1 } = await ok(chain, requester, m.request(requester, { minFee: 1000n, maxFee: 11_000n, ramp: 4n, expiry: chain.app.height + 100n }));
  while (chain.app.height < h1 + 6n) await chain.block();
  const r2 = await request(chain, 2n);
  t.is(r2.request.status, S.REQUEST_STATUS_OPEN);
  t.is(r2.currentFee, 11_000n);
});

test('two requests in one block and one cheap ask of capacity 1: the higher fee wins', async (t) => {
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  const other = await devnetKey(3);
  await ok(chain, p1, m.ask(p1, 2000n, 1n));
  await txs(chain, [
    [requester, [m.request(requester, { maxFee: 5000n, expiry: chain.app.height + 100n })]],
    [other, [m.request(other, { maxFee: 9000n, expiry: chain.app.height + 100n })]],
  ]);
  const [a, b] = [(await request(chain, 1n)).request, (await request(chain, 2n)).request];
  t.is(a.status, S.REQUEST_STATUS_OPEN);
  t.is(b.status, S.REQUEST_STATUS_ASSIGNED);
  t.is(b.assignment!.prover, p1.address);
});

test('request and ask validation errors', async (t) => {
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  const stranger = await devnetKey(4);
  const h = chain.app.height;
  const fail = async (k: RawKey, msg: Msg, re: RegExp) => {
    const r = await failing(chain, k, msg);
    t.not(r.result.code, 0);
    t.regex(r.result.log, re);
  };
  await fail(requester, m.request(requester, { maxFee: 500n, expiry: h + 10n }), /below params.min_fee/);
  await fail(requester, m.request(requester, { maxFee: 5000n, expiry: h + 10n, window: 1n }), /proving_window 1 is outside \[2, 10000\]/);
  await fail(requester, m.request(requester, { maxFee: 5000n, expiry: h + 200_000n }), /max_request_lifetime/);
  await fail(requester, m.request(requester, { maxFee: 5000n, minFee: 6000n, expiry: h + 10n }), /min_fee 6000 is above max_fee 5000/);
  await fail(requester, m.request(requester, { maxFee: 5000n, expiry: h + 10n, expect: ['1'] }), /expected_public_signals has 1 entries/);
  await fail(stranger, m.ask(stranger, 5000n, 1n), /no bond/);
  await fail(p1, m.ask(p1, 5000n, 1001n), /capacity must be 1..1000/);
  await fail(p1, m.ask(p1, 5000n, 1n, 1n), /expiry_height 1 must be above/);
});
