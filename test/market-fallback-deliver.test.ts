/**
 * Issue 11: the fallback delivers at the first valid reveal and pays the earliest commitment (modules/market/fallback.ts,
 * docs/protocol.md "The fallback path: commit–reveal"). Under test: an EARLIER commitment that reveals a valid proof in
 * its own window after a later one delivered is paid instead (the displaced payee and any commitment between get their
 * deposits back); genesis validates a held payment; retention never prunes a delivery before its payment settles.
 * Real app on LevelDB, invariants after every block, real snarkjs proofs.
 */
import test from 'ava';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { devnetKey, type TestChain } from './helpers/chain.js';
import { ESCROW, FEE, S, TREASURY, balance, getProofs, m, queryCtx, request, rawBlockChecked, setup, supply } from './helpers/market.js';
import { DEFAULT_PARAMS } from '../modules/market/keys.js';
import { createModules } from '../app/modules.js';
import { defaultGenesis } from '../genesis/index.js';
import { Context } from '../src/framework/context.js';
import { SortedArrayKV } from './bank-kv.js';
import type { RawKey } from '../src/client/sign.js';
import { describeRequest, waitPrinter } from '../cli/request.js';
import { QueryRequestRequest, QueryRequestResponse } from '../src/gen/proofbook/market/v1/market.js';

test.after.always(() => terminateSnarkjs());

const DEPOSIT = BigInt(DEFAULT_PARAMS.fallbackCommitDeposit);
const WINDOW = DEFAULT_PARAMS.fallbackRevealBlocks;
const MAX_FEE = 8000n;

/** A block of exactly these txs, in this order (failing ones included), invariants checked after (helpers/market.ts). */
const block = async (chain: TestChain, items: Parameters<typeof rawBlockChecked>[1]) => (await rawBlockChecked(chain, items)).txResults;

/** Request `id` (max fee MAX_FEE, patience 1) submitted; returns once it is open to the fallback. */
async function fallbackRequest(chain: TestChain, requester: RawKey, expiryIn = 200n): Promise<void> {
  const res = await block(chain, [[requester, [m.request(requester, { maxFee: MAX_FEE, expiry: chain.app.height + expiryIn, patience: 1n })]]]);
  if (res[0].code !== 0) throw new Error(res[0].log);
  await block(chain, []);
}

test('an earlier commitment that reveals a valid proof in its window after a later one delivered is paid instead; the displaced payee and the one between get their deposits back; the earliest garbage one forfeits', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const p3 = await devnetKey(3);
  const p4 = await devnetKey(4);
  await block(chain, [[p3, [m.bond(p3, 1000n)]], [p4, [m.bond(p4, 1000n)]]]);
  await fallbackRequest(chain, requester);
  const id = 1n;
  const s0 = await supply(chain);
  const tr0 = await balance(chain, TREASURY);
  // A (p1, garbage) at c, B (p3, valid) at c + 1, C (p4, valid) at c + 2, D (p2, valid) at c + 2 after C
  const c = chain.app.height + 1n;
  await block(chain, [[p1, [m.commit(p1, id, pf, p2.address)]]]);
  await block(chain, [[p3, [m.commit(p3, id, pf)]]]);
  t.deepEqual((await block(chain, [[p4, [m.commit(p4, id, pf)]], [p2, [m.commit(p2, id, pf)]]])).map((r) => r.code), [0, 0]);
  const b = { p1: await balance(chain, p1.address), p2: await balance(chain, p2.address), p3: await balance(chain, p3.address), p4: await balance(chain, p4.address) };
  // C reveals first (c + 3): delivered, payment held (A and B earlier); D (later than C) refunded at once
  t.is((await block(chain, [[p4, [m.proof(p4, id, pf)]]]))[0].code, 0);
  let r = (await request(chain, id)).request;
  t.is(r.status, S.REQUEST_STATUS_FULFILLED);
  t.is(r.fulfilledHeight, c + 3n);
  t.is(r.fallbackPayee, p4.address);
  t.is(r.fallbackPayoutHeight, c + 1n + WINDOW); // B's window ends last
  t.is(await balance(chain, p2.address), b.p2 + DEPOSIT);
  // D cannot reveal any more (refunded), nor anyone commit (the request is delivered)
  t.regex((await block(chain, [[p2, [m.proof(p2, id, pf)]]]))[0].log, /only a commitment earlier than the payee's may still reveal/);
  // B reveals a valid proof in its window (c + 5): B becomes the payee, C gets its deposit back (no forfeit); A is
  // still live, so B's payment waits for A's window (c + R)
  t.is((await block(chain, [[p3, [m.proof(p3, id, pf)]]]))[0].code, 0);
  r = (await request(chain, id)).request;
  t.is(r.fallbackPayee, p3.address);
  t.is(r.fallbackPayoutHeight, c + WINDOW);
  t.is(r.fallbackCommits, 2);
  t.is(await balance(chain, p4.address), b.p4 - FEE + DEPOSIT);
  t.is(r.history.at(-1)!.event, 'fallback_payee_replaced');
  // C may not reveal again (its commitment is gone), B may not reveal twice
  t.regex((await block(chain, [[p4, [m.proof(p4, id, pf)]]]))[0].log, /only a commitment earlier than the payee's/);
  t.regex((await block(chain, [[p3, [m.proof(p3, id, pf)]]]))[0].log, /only a commitment earlier than the payee's/);
  const rq0 = await balance(chain, requester.address);
  while (chain.app.height < c + WINDOW) await block(chain, []);
  // A's window ended: its deposit to the requester; B paid the fee it locked (less 1 %) and its deposit
  r = (await request(chain, id)).request;
  t.is(r.fallbackPayeeCommitId, 0n);
  t.is(r.fallbackForfeits, 1);
  t.deepEqual(r.history.slice(-3).map((e) => [e.event, e.prover]), [['fallback_delivered', p4.address], ['fallback_payee_replaced', p3.address], ['fallback_fulfilled', p3.address]]);
  const price = BigInt(r.paidPrice);
  t.is(await balance(chain, p3.address), b.p3 - 2n * FEE + price - price / 100n + DEPOSIT);
  t.is(await balance(chain, p1.address), b.p1); // forfeited (its deposit was taken at commit)
  t.is(await balance(chain, requester.address), rq0 + DEPOSIT + (MAX_FEE - price));
  t.is(await balance(chain, TREASURY), tr0 + price / 100n);
  t.is(await balance(chain, ESCROW), 0n);
  t.is(await supply(chain), s0);
});

test('the earliest commitment revealing after a later delivery is paid at once; genesis refuses an inconsistent held payment', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await fallbackRequest(chain, requester);
  const id = 1n;
  const c = chain.app.height + 1n;
  await block(chain, [[p1, [m.commit(p1, id, pf)]]]);
  await block(chain, [[p2, [m.commit(p2, id, pf)]]]);
  const b1 = await balance(chain, p1.address);
  const b2 = await balance(chain, p2.address);
  t.is((await block(chain, [[p2, [m.proof(p2, id, pf)]]]))[0].code, 0);
  // what the requester sees while the payment is held: `request status` and `request prove --wait` name the payee and
  // the settlement height (the query's own response, as the CLI gets it)
  const q = QueryRequestResponse.decode((await chain.query('/proofbook.market.v1.Query/Request', QueryRequestRequest.encode({ id }).finish())).value);
  const text = describeRequest(q.request!, undefined, q.fallbackCommits);
  t.regex(text, new RegExp(`fulfilled: +height ${c + 2n}, payment pending`));
  t.regex(text, new RegExp(`payment: +held for ${p2.address} until height ${c + WINDOW}`));
  t.regex(text, new RegExp(`committed: +${p1.address} at height ${c} .*may reveal until height ${c + WINDOW}`));
  t.regex(text, new RegExp(`committed: +${p2.address} at height ${c + 1n} .*revealed at height ${c + 2n}: the payee`));
  t.regex(text, /proof delivered through the fallback by/);
  const lines: string[] = [];
  waitPrinter((x) => lines.push(x)).onProgress({ status: 'FULFILLED', request: q.request!, height: c + 2n });
  t.regex(lines[0], new RegExp(`verified: proof accepted on chain at height ${c + 2n}, payment to ${p2.address} held until height ${c + WINDOW}`));
  // held: export it and feed broken variants of it to a fresh chain's genesis
  const market = chain.app.modules.modules.find((x) => x.name === 'market')!;
  const exported = JSON.parse(JSON.stringify(market.exportGenesis!(queryCtx(chain))));
  const init = (g: unknown) => () => createModules().modules.find((x) => x.name === 'market')!.initGenesis!(new Context(new SortedArrayKV(), { chainId: 'x', height: chain.app.height, timeSeconds: 0n }, 'genesis'), g);
  t.notThrows(init(exported));
  const clone = () => JSON.parse(JSON.stringify(exported));
  const g1 = clone();
  g1.fallback_commits = g1.fallback_commits.filter((x: { prover: string }) => x.prover !== p1.address);
  g1.requests[0].fallback_commits = 1;
  t.throws(init(g1), { message: /holds a fallback payment with no earlier commitment left/ });
  const g2 = clone();
  g2.requests[0].fallback_payout_height = String(c + 99n);
  t.throws(init(g2), { message: /settles its fallback payment at/ });
  const g3 = clone();
  g3.requests[0].fallback_payee = p1.address;
  t.throws(init(g3), { message: /is revealed but is not request 1's payee/ });
  const g4 = clone();
  g4.requests[0].status = 'REQUEST_STATUS_EXPIRED';
  t.throws(init(g4), { message: /holds a fallback payment but is not FULFILLED/ });
  const g5 = clone();
  g5.fallback_commits.push({ ...g5.fallback_commits[0], id: '99', prover: (await devnetKey(3)).address, revealed_height: '0' });
  g5.requests[0].fallback_commits = 3;
  g5.next_fallback_commit_id = '100';
  t.throws(init(g5), { message: /later than request 1's payee and must have been refunded/ });
  // p1 (earliest) reveals its valid proof: paid at once, p2's deposit back
  const [settle] = await block(chain, [[p1, [m.proof(p1, id, pf)]]]);
  t.is(settle.code, 0, settle.log);
  const ev = (type: string) => settle.events.find((e) => e.type === `proofbook.market.${type}`);
  const attr = (type: string, key: string) => ev(type)?.attributes.find((a) => a.key === key)?.value;
  t.is(attr('fallback_payee_replaced', 'displaced'), p2.address);
  t.is(attr('fallback_payout_settled', 'prover'), p1.address);
  t.is(attr('fallback_payout_settled', 'deposit'), DEPOSIT.toString());
  t.is(attr('request_fulfilled', 'delivered_height'), String(c + 2n));
  const r = (await request(chain, id)).request;
  t.is(r.fallbackPayeeCommitId, 0n);
  t.is(r.history.at(-1)!.prover, p1.address);
  const price = BigInt(r.paidPrice);
  t.is(await balance(chain, p1.address), b1 - FEE + price - price / 100n + DEPOSIT);
  t.is(await balance(chain, p2.address), b2 - FEE + DEPOSIT);
  t.is(await balance(chain, ESCROW), 0n);
  t.true(chain.app.height < c + WINDOW);
});

test('retention never prunes a delivery before its held payment settles; it is pruned settled_retention_blocks after the settlement', async (t) => {
  const [pf] = await getProofs();
  const g = defaultGenesis() as { market: { params: Record<string, string> } };
  g.market.params.settled_retention_blocks = '2';
  g.market.params.fallback_reveal_blocks = '6';
  const { chain, requester, p1, p2 } = await setup(g as never);
  t.teardown(() => chain.close());
  await fallbackRequest(chain, requester);
  const id = 1n;
  await block(chain, [[p1, [m.commit(p1, id, pf, p2.address)]]]);
  const hc = chain.app.height;
  await block(chain, [[p2, [m.commit(p2, id, pf)]]]);
  t.is((await block(chain, [[p2, [m.proof(p2, id, pf)]]]))[0].code, 0);
  const settleAt = hc + 6n;
  // blocks well past delivery + retention: the record stays while the payment is held
  while (chain.app.height < settleAt - 1n) {
    await block(chain, []);
    t.is((await request(chain, id)).request.fallbackPayee, p2.address);
  }
  await block(chain, []);
  const r = (await request(chain, id)).request;
  t.is(r.fallbackPayeeCommitId, 0n);
  t.is(r.history.at(-1)!.event, 'fallback_fulfilled');
  await block(chain, []);
  t.is((await request(chain, id)).request.status, S.REQUEST_STATUS_FULFILLED); // settle + 1: still kept
  await block(chain, []);
  await t.throwsAsync(() => request(chain, id)); // settle + 2: pruned
  t.is(await balance(chain, ESCROW), 0n);
});
