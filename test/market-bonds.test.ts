/**
 * Issue 10 #2 and issue 11 #1: a requester cannot take a prover's bond (collateral cap, minimum window to expiry, a
 * free decline in the accept phase paid by the requester), releasers/missers/decliners are excluded from the request,
 * the permissionless fallback pays an unassigned prover escrow fee + bounty, and release-and-rewin never pays
 * (property test over the params). Real app on LevelDB, invariants after every block, real snarkjs proofs.
 */
import test from 'ava';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { devnetKey } from './helpers/chain.js';
import { ESCROW, FEE, S, balance, bondedOf, commitReveal, failing, getProofs, m, ok, queryCtx, request, setup, supply, txs } from './helpers/market.js';
import { holdingPaid } from './helpers/holding.js';
import { DEFAULT_PARAMS, BPS } from '../modules/market/keys.js';
import { validateParams } from '../modules/market/genesis.js';
import { collateralCap, releaseSlash, splitSlash } from '../modules/market/penalties.js';
import { collateralFor } from '../modules/market/matching.js';
import type { Params } from '../src/gen/proofbook/market/v1/market.js';

test.after.always(() => terminateSnarkjs());

test('bond grab: min_collateral above the cap is refused; a request too close to expiry is never assigned; the lock never exceeds max_collateral_ratio of the price', async (t) => {
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, 1000n, 2n));
  const h = chain.app.height;
  // the attack of issue 10 #2: a 1,000-uproof request asking for a 1,000,000 lock, expiring next block
  const grab = await failing(chain, requester, m.request(requester, { maxFee: 1000n, expiry: h + 2n, minCollateral: 1_000_000n }));
  t.regex(grab.result.log, /min_collateral 1000000 is above params.max_collateral_ratio_bps \(50000\) of max_fee 1000: at most 5000/);
  // at the cap, expiring in 1..4 blocks (< accept_blocks 3 + min_proving_window 2): never assigned, expires untouched
  const near = chain.app.height;
  for (const d of [2n, 3n, 4n, 5n]) await ok(chain, requester, m.request(requester, { maxFee: 1000n, expiry: chain.app.height + d, minCollateral: 5000n }));
  for (let i = 0; i < 6; i++) {
    for (const id of [1n, 2n, 3n, 4n]) t.not((await request(chain, id)).request.status, S.REQUEST_STATUS_ASSIGNED);
    t.is((await bondedOf(chain, p1.address)).locked, 0n);
    await chain.block();
  }
  for (const id of [1n, 2n, 3n, 4n]) t.is((await request(chain, id)).request.status, S.REQUEST_STATUS_EXPIRED);
  t.true(chain.app.height > near);
  // enough room: assigned with the full accept phase and at least min_proving_window after it
  const { height: h2 } = await ok(chain, requester, m.request(requester, { maxFee: 2000n, expiry: chain.app.height + 6n, minCollateral: 10_000n, window: 50n }));
  const rq = (await request(chain, 5n)).request;
  t.is(rq.status, S.REQUEST_STATUS_ASSIGNED);
  const a = rq.assignment!;
  t.is(a.acceptUntilHeight, h2 + 3n);
  t.is(a.deadlineHeight, rq.expiryHeight); // clamped to expiry, still >= accept + min window
  t.true(a.deadlineHeight - a.acceptUntilHeight >= 2n);
  // price 1000 (the ask's second unit competes): the lock is capped at 5 x 1000 although min_collateral says 10000
  t.is(a.price, '1000');
  t.is(a.collateral, '5000');
  t.is((await bondedOf(chain, p1.address)).locked, 5000n);
});

test('decline in the accept phase is free for the prover and costs the requester the decline fee; after it, release is the only way out', async (t) => {
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await txs(chain, [[p1, [m.ask(p1, 5000n, 1n)]], [p2, [m.ask(p2, 6000n, 1n)]]]);
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 100n, window: 10n }), m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 100n, window: 10n, input: 1 }));
  const r1 = (await request(chain, 1n)).request;
  t.is(r1.assignment!.prover, p1.address);
  const [b1, bond1, req0, esc0, s0] = [await balance(chain, p1.address), await bondedOf(chain, p1.address), await balance(chain, requester.address), await balance(chain, ESCROW), await supply(chain)];
  const res = await ok(chain, p1, m.decline(p1, 1n));
  t.true(res.height <= r1.assignment!.acceptUntilHeight);
  // the prover: tx fee out, decline fee (1 % of max_fee) in, no slash, collateral unlocked
  t.is(await balance(chain, p1.address), b1 - FEE + 100n);
  t.deepEqual(await bondedOf(chain, p1.address), { bonded: bond1.bonded, locked: bond1.locked - BigInt(r1.assignment!.collateral) });
  t.is(await supply(chain), s0 - 0n + 0n); // nothing burned
  // the requester: pays the decline fee out of its escrow, nothing else
  t.is(await balance(chain, requester.address), req0);
  t.is(await balance(chain, ESCROW), esc0 - 100n);
  const after = (await request(chain, 1n)).request;
  t.is(after.escrow, '9900');
  t.is(after.declines, 1);
  t.deepEqual(after.excludedProvers, [p1.address]);
  t.is(after.history.at(-1)!.event, 'declined');
  t.is(chain.app.modules.keepers.market.reputation(queryCtx(chain), p1.address as any, after.circuitId).declined, 1n);
  // request 2 went to p2; after its accept phase a decline is refused (release is the way out, and it costs)
  const r2 = (await request(chain, 2n)).request;
  while (chain.app.height <= r2.assignment!.acceptUntilHeight) await chain.block();
  const late = await failing(chain, r2.assignment!.prover === p1.address ? p1 : p2, m.decline(r2.assignment!.prover === p1.address ? p1 : p2, 2n));
  t.regex(late.result.log, /accept phase ended at height/);
});

test('an excluded prover is never assigned the request again, even as the only ask; max_failed_assignments failures open the fallback', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const p3 = await devnetKey(3);
  await ok(chain, p3, m.bond(p3, 1_000_000n));
  await ok(chain, p1, m.ask(p1, 1000n, 5n));
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 200n }));
  t.is((await request(chain, 1n)).request.assignment!.prover, p1.address);
  await ok(chain, p1, m.release(p1, 1n)); // p1 releases: excluded
  for (let i = 0; i < 8; i++) {
    const r = (await request(chain, 1n)).request;
    t.is(r.status, S.REQUEST_STATUS_OPEN); // p1's ask (the only one, 5 free units) never gets it back
    await chain.block();
  }
  await ok(chain, p2, m.ask(p2, 2000n, 1n));
  t.is((await request(chain, 1n)).request.assignment!.prover, p2.address);
  await ok(chain, p2, m.decline(p2, 1n)); // failure 2
  await ok(chain, p3, m.ask(p3, 3000n, 1n));
  t.is((await request(chain, 1n)).request.assignment!.prover, p3.address);
  await ok(chain, p3, m.release(p3, 1n)); // failure 3 = max_failed_assignments: fallback
  const fb = (await request(chain, 1n)).request;
  t.is(fb.status, S.REQUEST_STATUS_FALLBACK);
  t.deepEqual(fb.excludedProvers, [p1.address, p2.address, p3.address]);
  for (let i = 0; i < 3; i++) {
    await chain.block();
    t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FALLBACK); // out of the auction
  }
  for (const k of [p1, p2, p3]) {
    t.regex((await failing(chain, k, m.commit(k, 1n, pf))).result.log, /released, missed or declined/);
    t.regex((await failing(chain, k, m.proof(k, 1n, pf))).result.log, /released, missed or declined/);
  }
  // an unassigned, bonded prover with no ask fulfils it
  const p4 = await devnetKey(4);
  await ok(chain, p4, m.bond(p4, 1000n));
  const b4 = await balance(chain, p4.address);
  const bounty = BigInt(fb.bounty);
  t.true(bounty > 0n);
  const esc = BigInt(fb.escrow);
  t.is(fb.fallbackReferenceFee, '3000', "the fallback fee starts from p3's failed assignment price");
  const { height: hr } = await commitReveal(chain, p4, 1n, pf);
  const done = (await request(chain, 1n)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  // the fee the commitment (one block before the reveal) locked: 3000 ramping to the current fee (the escrow left, 9900)
  const ramp = 3000n + (7000n * (hr - 1n - fb.fallbackHeight)) / DEFAULT_PARAMS.fallbackRampBlocks;
  const price = ramp < esc ? ramp : esc;
  t.is(done.paidPrice, price.toString());
  t.is(await balance(chain, p4.address), b4 - 2n * FEE + price - price / 100n + bounty); // commit deposit refunded
});

test("the requester's patience opens the fallback without any assignment; unbonded accounts cannot use it", async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p2 } = await setup();
  t.teardown(() => chain.close());
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee: 8000n, expiry: chain.app.height + 100n, patience: 3n }));
  const early = await failing(chain, p2, m.proof(p2, 1n, pf));
  t.regex(early.result.log, /OPEN, not ASSIGNED/);
  while (chain.app.height < h + 3n) await chain.block();
  const stranger = await devnetKey(5);
  t.regex((await failing(chain, stranger, m.commit(stranger, 1n, pf))).result.log, /has no bond/);
  t.regex((await failing(chain, stranger, m.proof(stranger, 1n, pf))).result.log, /has no bond/);
  const b = await balance(chain, p2.address);
  await commitReveal(chain, p2, 1n, pf);
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FULFILLED);
  t.is(await balance(chain, p2.address), b - 2n * FEE + 8000n - 80n);
});

// ---- property test over the params: release-and-rewin never pays -------------------------------------------------

function lcg(seed: number): () => bigint {
  let x = BigInt(seed) * 6364136223846793005n + 1442695040888963407n;
  return () => {
    x = (x * 6364136223846793005n + 1442695040888963407n) % (1n << 64n);
    return x >> 16n;
  };
}

test('property: for every valid params, a release costs > 0, holding to the deadline and releasing costs the full collateral, and a release followed by a partner re-winning loses money', (t) => {
  let checked = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const rnd = lcg(seed);
    const pick = (lo: bigint, hi: bigint) => lo + (rnd() % (hi - lo + 1n));
    const ratio = pick(1n, 50_000n);
    const p: Params = {
      ...DEFAULT_PARAMS,
      collateralRatioBps: ratio,
      maxCollateralRatioBps: pick(ratio, 100_000n),
      releaseSlashBps: pick(0n, BPS),
      slashToRequesterBps: pick(0n, BPS),
      fallbackBountyBps: pick(0n, BPS),
      acceptBlocks: pick(0n, 10n),
    };
    try {
      validateParams(p);
    } catch {
      continue; // only params the chain accepts
    }
    checked++;
    const price = pick(1n, 10n ** 12n);
    const collateral = collateralFor(pick(0n, collateralCap(p, price)), price, p.collateralRatioBps);
    const assigned = pick(1n, 1000n);
    const acceptUntil = assigned + p.acceptBlocks;
    const deadline = acceptUntil + pick(p.minProvingWindow, 500n);
    const h = pick(assigned, deadline);
    const slash = releaseSlash(p, collateral, acceptUntil, deadline, h);
    // 1. a release always costs the releaser something (the same prover can never re-win: it is excluded)
    t.true(slash > 0n, `seed ${seed}`);
    // 2. holding until the deadline and releasing costs what a miss costs
    t.is(releaseSlash(p, collateral, acceptUntil, deadline, deadline), collateral);
    // 3. coalition: the partner that re-wins collects at most the bounty; the requester share leaves the coalition
    //    (or, if the requester is in it, still the burned part is lost): strictly negative either way
    const { toRequester, bounty, burned } = splitSlash(p, slash);
    t.is(toRequester + bounty + burned, slash);
    t.true(-slash + bounty < 0n);
    t.true(-slash + bounty + toRequester < 0n);
  }
  t.true(checked > 500, `only ${checked} valid parameter sets`);
});

test('after a miss with nobody left to auction it to, an unassigned bonded prover fulfils it through the fallback: fallback fee + slash share', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, 4000n, 1n));
  const r0 = await balance(chain, requester.address);
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 100n, window: 2n }));
  const a = (await request(chain, 1n)).request.assignment!;
  t.is(a.prover, p1.address);
  const collateral = BigInt(a.collateral);
  while (chain.app.height <= a.deadlineHeight) await chain.block(); // p1 (a dead prover) never proves
  const fb = (await request(chain, 1n)).request;
  t.true(chain.app.height > h);
  t.is(fb.status, S.REQUEST_STATUS_FALLBACK);
  t.deepEqual(fb.excludedProvers, [p1.address]);
  for (let i = 0; i < 3; i++) {
    await chain.block();
    t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FALLBACK); // p1's ask is live again but excluded
  }
  t.is(BigInt(fb.bounty), collateral / 4n);
  t.is(await balance(chain, requester.address), r0 - FEE - 10_000n + collateral / 2n - (await holdingPaid(chain, 1n))); // compensated half the slash (less the holding charge, modules/market/holding.ts)
  const b2 = await balance(chain, p2.address);
  const { height: hr } = await commitReveal(chain, p2, 1n, pf); // p2 has a bond and no ask
  const done = (await request(chain, 1n)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.is(done.history.at(-1)!.event, 'fallback_fulfilled');
  // paid the fallback fee locked at its commitment (one block before the reveal): from p1's price 4000 towards 10000
  const price = 4000n + (6000n * (hr - 1n - fb.fallbackHeight)) / DEFAULT_PARAMS.fallbackRampBlocks;
  t.is(done.paidPrice, price.toString());
  t.is(await balance(chain, p2.address), b2 - 2n * FEE + price - price / 100n + collateral / 4n);
  t.is(await balance(chain, ESCROW), 0n);
});
