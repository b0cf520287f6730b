/**
 * Issue 11: the requester's patience binds an assignment too (docs/protocol.md "The requester's patience"). Past
 * submitted_height + fallback_after_blocks, and never before the assignment's accept phase has ended, anyone eligible
 * but the assigned prover may race it through commit–reveal; the first valid proof wins. A fallback proof that wins ends
 * the assignment as a release at that height would. Real app on LevelDB, invariants after every block, real proofs.
 */
import test from 'ava';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { CIRCUIT, ESCROW, FEE, S, balance, bondedOf, failing, getProofs, m, ok, queryCtx, request, setup, supply } from './helpers/market.js';
import { DEFAULT_PARAMS } from '../modules/market/keys.js';
import { defaultGenesis } from '../genesis/index.js';
import { holdingRefund } from '../modules/market/holding.js';
import { describeRequest } from '../cli/request.js';
import type { TestChain } from './helpers/chain.js';
import type { RawKey } from '../src/client/sign.js';

test.after.always(() => terminateSnarkjs());

const DEPOSIT = BigInt(DEFAULT_PARAMS.fallbackCommitDeposit);
const RAMP = DEFAULT_PARAMS.fallbackRampBlocks;
const PRICE = 1000n;
const MAX_FEE = 8000n;
const COLLATERAL = 2n * PRICE; // collateral_ratio_bps 20000

/** p1 asks PRICE for one unit; the requester's request (patience 2, window `window`) is assigned to p1 in its own block. */
async function assigned(chain: TestChain, requester: RawKey, p1: RawKey, window: bigint) {
  await ok(chain, p1, m.ask(p1, PRICE, 1n));
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee: MAX_FEE, window, expiry: chain.app.height + 200n, patience: 2n }));
  const r = (await request(chain, 1n)).request;
  if (r.status !== S.REQUEST_STATUS_ASSIGNED || r.assignment?.prover !== p1.address) throw new Error(`request not assigned to p1: ${JSON.stringify(r.status)}`);
  return { h, asg: r.assignment };
}

test("past the requester's patience a fallback proof outraces the assigned prover: it is paid from the assignment's price, the assignee is slashed as a release at that height", async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const { h, asg } = await assigned(chain, requester, p1, 20n);
  // the patience (submitted + 2) has run out, but the accept phase has not ended: nobody may race yet
  const opens = asg.acceptUntilHeight + 1n;
  t.true(h + 2n < opens);
  while (chain.app.height + 1n < opens) {
    const closed = await request(chain, 1n);
    t.is(closed.fallbackFee, undefined);
    t.is(closed.outraceBounty, undefined);
    t.regex((await failing(chain, p2, m.commit(p2, 1n, pf))).result.log, new RegExp(`not open to the fallback \\(its fallback opens at height ${opens}\\)`));
  }
  // open next block: the query gives a racer its payout, the locked fee and what outracing adds to the bounty (a quarter
  // of the release slash at the next block; the slash only rises, so the delivery below adds at least this)
  const releaseSlashAt = (h: bigint) => (COLLATERAL * (1000n + (9000n * (h - asg.acceptUntilHeight)) / (asg.deadlineHeight - asg.acceptUntilHeight)) + 9999n) / 10000n;
  const quoted = await request(chain, 1n);
  t.is(quoted.outraceBounty, releaseSlashAt(chain.app.height + 1n) / 4n);
  t.true(quoted.outraceBounty! > 0n);
  t.not(quoted.fallbackFee, undefined);
  // `request status` tells a racer both
  const text = describeRequest(quoted.request, quoted.currentFee, [], quoted.fallbackFee, quoted.outraceBounty);
  t.regex(text, new RegExp(`fallback fee: ${quoted.fallbackFee} for a commitment in the next block`));
  t.regex(text, new RegExp(`outrace: +a fallback proof delivered before the assignee's adds at least ${quoted.outraceBounty} to the bounty`));
  // the assigned prover itself may not commit: it delivers directly
  t.regex((await failing(chain, p1, m.commit(p1, 1n, pf))).result.log, /is assigned to you: deliver it with MsgSubmitProof/);
  const { height: hc } = await ok(chain, p2, m.commit(p2, 1n, pf));
  const q = (await request(chain, 1n)).request;
  t.is(q.status, S.REQUEST_STATUS_ASSIGNED); // still the assignee's, and racing
  // the fallback fee ramps from the assignment's price, from the height the race opened
  const locked = PRICE + ((MAX_FEE - PRICE) * (hc - opens)) / RAMP;
  const r0 = await balance(chain, requester.address);
  const b2 = await balance(chain, p2.address);
  const s0 = await supply(chain);
  const bond1 = await bondedOf(chain, p1.address);
  t.is(bond1.locked, COLLATERAL);
  const { height: hr } = await ok(chain, p2, m.proof(p2, 1n, pf));
  const done = (await request(chain, 1n)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.is(done.assignment, undefined);
  // the assignment ended as a release at hr: 10 % after the accept phase, rising linearly to 100 % at the deadline
  const slash = releaseSlashAt(hr);
  t.true(slash / 4n >= quoted.outraceBounty!, 'the bounty paid is at least what the query quoted');
  t.is((await request(chain, 1n)).outraceBounty, undefined);
  const outraced = done.history.find((e) => e.event === 'outraced')!;
  t.is(outraced.prover, p1.address);
  t.is(outraced.amount, slash.toString());
  t.is(outraced.compensation, (slash / 2n).toString());
  t.deepEqual(done.history.slice(-2).map((e) => e.event), ['outraced', 'fallback_fulfilled']);
  t.is(done.paidPrice, locked.toString());
  const after1 = await bondedOf(chain, p1.address);
  t.is(after1.locked, 0n);
  t.is(after1.bonded, bond1.bonded - slash);
  // p2: the locked fee less the 1 % protocol fee, the bounty (a quarter of the slash), its deposit back
  t.is(await balance(chain, p2.address), b2 - FEE + locked - locked / 100n + slash / 4n + DEPOSIT);
  // the requester: half the slash, the escrow above the fee and the unused holding deposit back
  t.is(await balance(chain, requester.address), r0 + slash / 2n + (MAX_FEE - locked) + holdingRefund(done, hr));
  t.is(await supply(chain), s0 - (slash - slash / 2n - slash / 4n)); // only the burned quarter leaves the supply
  t.is(await balance(chain, ESCROW), 0n);
  // p1's ask slot is free again; p1 counts a release, not a miss
  const market = chain.app.modules.keepers.market;
  t.is(market.ask(queryCtx(chain), 1n)?.active, 0n);
  const rep = market.reputation(queryCtx(chain), p1.address as never, CIRCUIT);
  t.is(rep.released, 1n);
  t.is(rep.missed, 0n);
  // the assignee's proof, now too late, is refused and changes nothing
  const b1 = await balance(chain, p1.address);
  t.regex((await failing(chain, p1, m.proof(p1, 1n, pf))).result.log, /FULFILLED, not ASSIGNED/);
  t.is(await balance(chain, p1.address), b1 - FEE);
});

test('the assigned prover delivers first: it is paid its price and the racing commitment is refunded', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const { asg } = await assigned(chain, requester, p1, 20n);
  while (chain.app.height <= asg.acceptUntilHeight) await chain.block();
  await ok(chain, p2, m.commit(p2, 1n, pf));
  const b1 = await balance(chain, p1.address);
  const b2 = await balance(chain, p2.address);
  const r0 = await balance(chain, requester.address);
  const { height: hd } = await ok(chain, p1, m.proof(p1, 1n, pf));
  const done = (await request(chain, 1n)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.is(done.paidPrice, PRICE.toString());
  t.is(done.fallbackCommits, 0);
  t.is(await balance(chain, p1.address), b1 - FEE + PRICE - PRICE / 100n);
  t.is(await balance(chain, p2.address), b2 + DEPOSIT); // its deposit back: it can no longer be paid
  t.is(await balance(chain, requester.address), r0 + MAX_FEE - PRICE + holdingRefund(done, hd));
  t.is((await bondedOf(chain, p1.address)).locked, 0n);
  t.regex((await failing(chain, p2, m.proof(p2, 1n, pf))).result.log, /FULFILLED, not ASSIGNED/);
  t.is(await balance(chain, ESCROW), 0n);
});

test('no patience and no overdue race (overdue_race_bps 0): an ASSIGNED request without fallback_after_blocks is closed to the fallback until its deadline', async (t) => {
  const [pf] = await getProofs();
  const g = defaultGenesis() as any;
  g.market.params = { ...g.market.params, overdue_race_bps: '0' }; // (the overdue race: market-overdue-race.test.ts)
  const { chain, requester, p1, p2 } = await setup(g);
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, PRICE, 1n));
  await ok(chain, requester, m.request(requester, { maxFee: MAX_FEE, window: 5n, expiry: chain.app.height + 200n }));
  const asg = (await request(chain, 1n)).request.assignment!;
  while (chain.app.height < asg.deadlineHeight) {
    t.is((await request(chain, 1n)).outraceBounty, undefined); // no patience: never raced
    const res = await failing(chain, p2, m.commit(p2, 1n, pf));
    t.regex(res.result.log, /is ASSIGNED and not open to the fallback: /); // (no patience: no height it opens at)
  }
  await chain.block(); // the miss: FALLBACK, open to p2
  const missed = await request(chain, 1n);
  t.is(missed.request.status, S.REQUEST_STATUS_FALLBACK);
  t.not(missed.fallbackFee, undefined);
  t.is(missed.outraceBounty, undefined); // nothing to outrace: the bounty already holds the miss's share
  await ok(chain, p2, m.commit(p2, 1n, pf));
});

test('a miss while a racing commitment is live: the request enters FALLBACK, the commitment reveals in its window and is paid the fee it locked plus the whole bounty', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const { asg } = await assigned(chain, requester, p1, 2n);
  while (chain.app.height <= asg.acceptUntilHeight) await chain.block();
  const { height: hc } = await ok(chain, p2, m.commit(p2, 1n, pf));
  const c = (await request(chain, 1n)).request;
  t.is(c.fallbackCommits, 1);
  const locked = PRICE + ((MAX_FEE - PRICE) * (hc - (asg.acceptUntilHeight + 1n))) / RAMP;
  while (chain.app.height <= asg.deadlineHeight) await chain.block(); // p1 misses
  const missed = (await request(chain, 1n)).request;
  t.is(missed.status, S.REQUEST_STATUS_FALLBACK);
  t.is(missed.fallbackCommits, 1); // the racing commitment survives the status change
  t.true(chain.app.height <= hc + DEFAULT_PARAMS.fallbackRevealBlocks);
  const b2 = await balance(chain, p2.address);
  await ok(chain, p2, m.proof(p2, 1n, pf));
  const done = (await request(chain, 1n)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.is(done.paidPrice, locked.toString());
  t.is(await balance(chain, p2.address), b2 - FEE + locked - locked / 100n + COLLATERAL / 4n + DEPOSIT);
  t.is(await balance(chain, ESCROW), 0n);
});
