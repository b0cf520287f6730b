/**
 * Issue 11: fallback proofs cannot be copied from the mempool (commit-reveal, modules/market/fallback.ts). Real app on
 * LevelDB, invariants after every block (market/escrow counts commitment deposits; market/fallback-commits checks
 * counts, windows and the expiry index), real snarkjs proofs.
 */
import test from 'ava';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { devnetKey } from './helpers/chain.js';
import { ESCROW, FEE, S, TREASURY, balance, failing, getProofs, m, ok, queryCtx, request, rawBlockChecked, setup, supply, txs, type P } from './helpers/market.js';
import { allForfeits } from '../modules/market/fallback.js';
import { DEFAULT_PARAMS } from '../modules/market/keys.js';
import { defaultGenesis } from '../genesis/index.js';
import { fallbackCommitment } from '../src/zk/fallback-commitment.js';
import type { TestChain } from './helpers/chain.js';
import type { RawKey } from '../src/client/sign.js';

test.after.always(() => terminateSnarkjs());

const DEPOSIT = BigInt(DEFAULT_PARAMS.fallbackCommitDeposit);
const WINDOW = DEFAULT_PARAMS.fallbackRevealBlocks;

/** A block of exactly these txs, in this order (as a proposer could build it), invariants checked after. */
const rawTxs = rawBlockChecked;

/** A request in the fallback: the requester's patience (3 blocks) runs out with no ask posted. */
async function fallbackRequest(chain: TestChain, requester: RawKey, maxFee = 8000n, expiryIn = 200n): Promise<bigint> {
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee, expiry: chain.app.height + expiryIn, patience: 3n }));
  while (chain.app.height < h + 3n) await chain.block();
  return 1n;
}

test('the commitment hashes proof, signals and prover: any change changes it', async (t) => {
  const [pf] = await getProofs();
  const base = Buffer.from(fallbackCommitment(7n, pf.proof, pf.signals, 'proof1aaa')).toString('hex');
  t.is(base.length, 64);
  const flipped = Uint8Array.from(pf.proof);
  flipped[5] ^= 1;
  for (const other of [
    fallbackCommitment(8n, pf.proof, pf.signals, 'proof1aaa'),
    fallbackCommitment(7n, flipped, pf.signals, 'proof1aaa'),
    fallbackCommitment(7n, pf.proof, [...pf.signals.slice(0, -1), (BigInt(pf.signals.at(-1)!) + 1n).toString()], 'proof1aaa'),
    fallbackCommitment(7n, pf.proof, pf.signals, 'proof1aab'),
  ]) t.not(Buffer.from(other).toString('hex'), base);
  t.is(Buffer.from(fallbackCommitment(7n, pf.proof, pf.signals.map(BigInt), 'proof1aaa')).toString('hex'), base); // strings or bigints
});

test('a fallback proof without a commitment, or revealed in its commitment block, is refused; commit then reveal pays and refunds the deposit', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p2 } = await setup();
  t.teardown(() => chain.close());
  const id = await fallbackRequest(chain, requester);
  t.regex((await failing(chain, p2, m.proof(p2, id, pf))).result.log, /commit to the proof first/);
  const b0 = await balance(chain, p2.address);
  const esc0 = await balance(chain, ESCROW);
  // commit and reveal in the same block: the reveal is refused (the commitment must be in an earlier block)
  const same = await rawTxs(chain, [[p2, [m.commit(p2, id, pf), m.proof(p2, id, pf)]]]);
  t.not(same.txResults[0].code, 0);
  t.regex(same.txResults[0].log, /reveal from height/);
  t.is(await balance(chain, p2.address), b0 - FEE); // the failed tx changed nothing but its fee
  const c = await txs(chain, [[p2, [m.commit(p2, id, pf)]]]);
  t.is(c.txResults[0].code, 0);
  t.is(await balance(chain, p2.address), b0 - 2n * FEE - DEPOSIT);
  t.is(await balance(chain, ESCROW), esc0 + DEPOSIT);
  const q = await request(chain, id);
  t.is(q.request.fallbackCommits, 1);
  // a proof of the same statement that does not hash to the commitment (other bytes) is refused
  const [, pf2] = await getProofs();
  t.regex((await failing(chain, p2, m.proof(p2, id, { proof: pf2.proof, signals: pf.signals }))).result.log, /do not hash to/);
  await ok(chain, p2, m.proof(p2, id, pf));
  t.is((await request(chain, id)).request.status, S.REQUEST_STATUS_FULFILLED);
  t.is(await balance(chain, p2.address), b0 - 4n * FEE + 8000n - 80n); // fee (less 1 %) and the deposit back
});

test('mempool copy: a thief (or the proposer) that copies a revealed proof and commits to it cannot be paid, even when it orders its reveal first', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const id = await fallbackRequest(chain, requester);
  await ok(chain, p2, m.commit(p2, id, pf)); // the honest prover's commitment (reveals nothing)
  // p2's reveal is now in the mempool. The proposer drops it from this block and puts its own (p1's) commitment to
  // the copied proof in instead; in the next block it orders its reveal before p2's.
  await ok(chain, p1, m.commit(p1, id, pf));
  const b1 = await balance(chain, p1.address);
  const b2 = await balance(chain, p2.address);
  const res = await rawTxs(chain, [[p1, [m.proof(p1, id, pf)]], [p2, [m.proof(p2, id, pf)]]]);
  // the thief's reveal delivers (the requester has the proof), but its payment is held: p2's commitment is earlier and
  // still in its window; p2's reveal in the same block makes p2 the payee, paid at once, and the thief gets its deposit
  t.is(res.txResults[0].code, 0, res.txResults[0].log);
  t.is(res.txResults[1].code, 0, res.txResults[1].log);
  const done = (await request(chain, id)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.deepEqual(done.history.slice(-3).map((e) => [e.event, e.prover]), [['fallback_delivered', p1.address], ['fallback_payee_replaced', p2.address], ['fallback_fulfilled', p2.address]]);
  t.is(await balance(chain, p2.address), b2 - FEE + 8000n - 80n + DEPOSIT);
  t.is(await balance(chain, p1.address), b1 - FEE + DEPOSIT); // the thief's deposit comes back, nothing more
  t.is(done.fallbackCommits, 0);
  t.is(await balance(chain, ESCROW), 0n);
  // a copier committing under the honest prover's hash (copying the commitment bytes) gains nothing either: the
  // reveal must hash with the sender's own address
  const id2 = 2n;
  const { height: h2 } = await ok(chain, requester, m.request(requester, { maxFee: 8000n, expiry: chain.app.height + 200n, patience: 3n }));
  while (chain.app.height < h2 + 3n) await chain.block();
  await ok(chain, p1, m.commit(p1, id2, pf, p2.address)); // p1 posts p2-bound bytes
  t.regex((await failing(chain, p1, m.proof(p1, id2, pf))).result.log, /do not hash to/);
});

test('an unrevealed commitment does not hold the request: a later one delivers at once; the earlier one forfeits to the requester at the end of its window, then the payment settles; later committers are refunded at delivery', async (t) => {
  const [pf] = await getProofs();
  // four slots (max_fallback_commits), so that the fifth committer is refused
  const g = defaultGenesis() as { market: { params: Record<string, string> } };
  g.market.params.max_fallback_commits = '4';
  const { chain, requester, p1, p2 } = await setup(g as never);
  t.teardown(() => chain.close());
  const p3 = await devnetKey(3);
  const p4 = await devnetKey(4);
  const p5 = await devnetKey(5);
  await txs(chain, [[p3, [m.bond(p3, 1000n)]], [p4, [m.bond(p4, 1000n)]], [p5, [m.bond(p5, 1000n)]]]);
  const id = await fallbackRequest(chain, requester);
  const { height: hc } = await ok(chain, p1, m.commit(p1, id, pf, p2.address)); // a squatter: garbage, never revealed
  t.regex((await failing(chain, p1, m.commit(p1, id, pf))).result.log, /already has a live fallback commitment/);
  await ok(chain, p2, m.commit(p2, id, pf));
  await ok(chain, p3, m.commit(p3, id, pf));
  await ok(chain, p4, m.commit(p4, id, pf));
  t.regex((await failing(chain, p5, m.commit(p5, id, pf))).result.log, /already has 4 live fallback commitments/); // max_fallback_commits
  t.is((await request(chain, id)).request.fallbackCommits, 4);
  const tr0 = await balance(chain, TREASURY);
  const r0 = await balance(chain, requester.address);
  const s0 = await supply(chain);
  const b2 = await balance(chain, p2.address);
  const b3 = await balance(chain, p3.address);
  const b4 = await balance(chain, p4.address);
  // p2 reveals while p1's window is open: delivered now; p3, p4 (later) refunded; p2's payment waits for p1's window
  const { height: hd } = await ok(chain, p2, m.proof(p2, id, pf));
  const held = (await request(chain, id)).request;
  t.is(held.status, S.REQUEST_STATUS_FULFILLED);
  t.is(held.fulfilledHeight, hd);
  t.is(held.fallbackPayee, p2.address);
  t.is(held.fallbackPayoutHeight, hc + WINDOW);
  t.is(held.fallbackCommits, 2);
  t.is(await balance(chain, p3.address), b3 + DEPOSIT);
  t.is(await balance(chain, p4.address), b4 + DEPOSIT);
  t.is(await balance(chain, p2.address), b2 - FEE);
  const rd = await balance(chain, requester.address); // (r0 + the unused holding deposit, settled at delivery)
  t.true(rd >= r0);
  while (chain.app.height < hc + WINDOW - 1n) await chain.block();
  t.is((await request(chain, id)).request.fallbackPayee, p2.address);
  t.is(await balance(chain, requester.address), rd);
  await chain.block(); // p1's window ends: its deposit to the requester (not the treasury), then p2 is paid
  t.is(chain.app.height, hc + WINDOW);
  t.deepEqual(chain.app.checkInvariants(), []);
  const done = (await request(chain, id)).request;
  t.is(done.fallbackPayeeCommitId, 0n);
  t.is(done.fallbackForfeits, 1);
  t.is(done.paidPrice, '8000');
  t.is(await balance(chain, TREASURY), tr0 + 80n);
  t.is(await balance(chain, requester.address), rd + DEPOSIT); // the escrow was exactly the fee paid
  t.is(await balance(chain, p2.address), b2 - FEE + 8000n - 80n + DEPOSIT);
  t.is(await balance(chain, ESCROW), 0n);
  t.true((await supply(chain)) <= s0); // nothing minted
});

test('a committed request leaves the auction; a commitment on a request that expires is refunded; ineligible commits are refused', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  // not open to the fallback yet: refused
  const { height: h0 } = await ok(chain, requester, m.request(requester, { maxFee: 8000n, expiry: chain.app.height + 30n, patience: 4n }));
  t.regex((await failing(chain, p2, m.commit(p2, 1n, pf))).result.log, /not open to the fallback \(its fallback opens at height/);
  while (chain.app.height < h0 + 4n) await chain.block();
  const { height: hc } = await ok(chain, p2, m.commit(p2, 1n, pf));
  // asks that would match it appear: the request is not auctioned while the commitment is live
  await ok(chain, p1, m.ask(p1, 1000n, 1n));
  await ok(chain, p2, m.ask(p2, 500n, 1n)); // the committer's own ask (id 2), the cheaper one
  const r1 = await balance(chain, requester.address);
  while (chain.app.height < hc + WINDOW) {
    t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_OPEN);
    await chain.block();
  }
  await chain.block(); // p2's window ended unrevealed: forfeited (to the requester), the request is auctioned again
  t.is(await balance(chain, requester.address), r1 + DEPOSIT);
  // ... but never to p2, although its ask is the cheaper: a forfeited prover is excluded from the request's auctions
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  t.is((await request(chain, 1n)).request.assignment!.prover, p1.address);
  await ok(chain, p2, m.cancelAsk(p2, 2n)); // (so that p2's ask does not take request 2 below)
  // a commitment on a request that expires before it is revealed is refunded with the request
  await ok(chain, requester, m.request(requester, { maxFee: 8000n, expiry: chain.app.height + 7n, patience: 1n, input: 1 }));
  await chain.block();
  const [, pf2] = await getProofs();
  const b2 = await balance(chain, p2.address);
  await ok(chain, p2, m.commit(p2, 2n, pf2));
  t.is(await balance(chain, p2.address), b2 - FEE - DEPOSIT);
  while ((await request(chain, 2n)).request.status !== S.REQUEST_STATUS_EXPIRED) await chain.block();
  t.is(await balance(chain, p2.address), b2 - FEE);
  t.is((await request(chain, 2n)).request.fallbackCommits, 0);
});

test('property: random commits, reveals (right, wrong, early, copied) and blocks never create, lose or strand funds', async (t) => {
  const proofs = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const p3 = await devnetKey(3);
  await ok(chain, p3, m.bond(p3, 1000n));
  const provers = [p1, p2, p3];
  let x = 12345n;
  const rnd = (n: number): number => {
    x = (x * 6364136223846793005n + 1442695040888963407n) % (1n << 64n);
    return Number((x >> 33n) % BigInt(n));
  };
  // two fallback requests (patience 1) for the two statements
  await ok(chain, requester, m.request(requester, { maxFee: 9000n, expiry: chain.app.height + 60n, patience: 1n }), m.request(requester, { maxFee: 9000n, expiry: chain.app.height + 60n, patience: 1n, input: 1 }));
  await chain.block();
  const s0 = await supply(chain);
  let outcomes = 0;
  for (let step = 0; step < 40; step++) {
    const items: [RawKey, { typeUrl: string; value: Uint8Array }[]][] = [];
    for (const k of provers) {
      const roll = rnd(6);
      if (roll >= 4) continue;
      const req = BigInt(1 + rnd(2));
      const right: P = proofs[Number(req) - 1];
      const wrong: P = proofs[2 - Number(req)];
      // 0: commit to the right proof; 1: reveal it; 2: commit to bytes bound to a random prover's address (a copied
      // commitment); 3: reveal the other statement's proof bytes under this request's signals (a bad reveal)
      const msg = roll === 0 ? m.commit(k, req, right) : roll === 1 ? m.proof(k, req, right) : roll === 2 ? m.commit(k, req, right, provers[rnd(3)].address) : m.proof(k, req, { proof: wrong.proof, signals: right.signals });
      items.push([k, [msg]]);
    }
    if (items.length) {
      const res = await txs(chain, items); // invariants checked after the block
      outcomes += res.txResults.filter((r) => r.code === 0).length;
    } else await chain.block();
  }
  // run both requests to their end (fulfilled or expired): every commitment settled, nothing left in escrow
  // (a fallback delivery whose payment is held settles when the earlier commitments' windows end)
  const final = (r: { status: number; fallbackPayeeCommitId: bigint }) => (r.status === S.REQUEST_STATUS_FULFILLED && r.fallbackPayeeCommitId === 0n) || r.status === S.REQUEST_STATUS_EXPIRED;
  while (!final((await request(chain, 1n)).request) || !final((await request(chain, 2n)).request)) await chain.block();
  t.is((await request(chain, 1n)).request.fallbackCommits, 0);
  t.is((await request(chain, 2n)).request.fallbackCommits, 0);
  t.is(allForfeits(chain.app.modules.keepers.market.store(queryCtx(chain))).length, 0); // the forfeit markers leave with their requests
  t.is(await balance(chain, ESCROW), 0n);
  t.is(await supply(chain), s0); // no slashes here: nothing burned, nothing minted
  t.true(outcomes > 0);
});
