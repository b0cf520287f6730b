/**
 * Proposer censorship of proofs (issue 12 #4, modules/market/censorship.ts): a deadline that falls in a run of blocks
 * from one proposer stays open until a block from another proposer (at most CENSORSHIP_MAX_GRACE blocks), so a
 * censoring proposer cannot get a prover slashed; with rotating proposers the deadline is enforced exactly as before.
 * The real app through TestChain with FinalizeBlock's proposer and last-commit votes set per height.
 */
import test from 'ava';
import { BlockIDFlag } from 'cosmjs-types/tendermint/types/validator';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { CENSORSHIP_MAX_GRACE } from '../modules/market/censorship.js';
import { S, bondedOf, failing, getProofs, m, ok, request, setup, txs } from './helpers/market.js';
import type { TestChain } from './helpers/chain.js';

test.after.always(() => terminateSnarkjs());

const VALS = [1, 2, 3, 4].map((i) => new Uint8Array(20).fill(i));
const votes = { round: 0, votes: VALS.map((address) => ({ validator: { address, power: 10n }, blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_COMMIT })) };

/** Rotating proposers (validators 1-3 in turn), except `censor` proposes every block in [from, to]. */
function proposers(chain: TestChain, censorRun?: { from: bigint; to: bigint }): void {
  chain.consensus = (h) => ({
    proposerAddress: censorRun && h >= censorRun.from && h <= censorRun.to ? VALS[0] : VALS[1 + Number(h % 3n)],
    decidedLastCommit: votes,
  });
}

async function assigned(chain: TestChain, requester: any, p1: any) {
  await ok(chain, p1, m.ask(p1, 5000n, 1n));
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 200n, window: 2n }));
  const rq = (await request(chain, 1n)).request;
  if (rq.status !== S.REQUEST_STATUS_ASSIGNED || rq.assignment!.prover !== p1.address) throw new Error('not assigned to p1');
  return { h, deadline: rq.assignment!.deadlineHeight };
}

test('rotating proposers: the deadline is enforced at deadline + 1 as without the rule', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  proposers(chain);
  const { deadline } = await assigned(chain, requester, p1);
  while (chain.app.height < deadline) await chain.block();
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  const late = await failing(chain, p1, m.proof(p1, 1n, pf)); // block deadline + 1
  t.regex(late.result.log, /was due at height/);
  const rq = (await request(chain, 1n)).request;
  t.deepEqual(rq.excludedProvers, [p1.address]); // slashed and excluded at the end of deadline + 1
  t.is((await bondedOf(chain, p1.address)).locked, 0n);
});

test('a deadline inside a run of one proposer stays open: the proof lands in the first block of another proposer, no slash', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  proposers(chain);
  const { deadline } = await assigned(chain, requester, p1);
  // validator 0 proposes deadline-1 … deadline+4 and leaves the proof out; the blocks go on without it
  proposers(chain, { from: deadline - 1n, to: deadline + 4n });
  const bonded0 = await bondedOf(chain, p1.address);
  while (chain.app.height < deadline + 4n) await chain.block();
  let rq = (await request(chain, 1n)).request;
  t.is(rq.status, S.REQUEST_STATUS_ASSIGNED, 'not slashed while the run lasts');
  t.deepEqual(rq.excludedProvers, []);
  // deadline + 5 comes from another proposer, which includes the proof
  const res = await txs(chain, [[p1, [m.proof(p1, 1n, pf)]]]);
  t.is(res.height, deadline + 5n);
  t.is(res.txResults[0]!.code, 0, res.txResults[0]!.log);
  rq = (await request(chain, 1n)).request;
  t.is(rq.status, S.REQUEST_STATUS_FULFILLED);
  const after = await bondedOf(chain, p1.address);
  t.is(after.bonded, bonded0.bonded);
  t.is(after.locked, 0n);
});

test('the grace ends: a run longer than CENSORSHIP_MAX_GRACE blocks cannot hold the deadline open for ever', async (t) => {
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  proposers(chain);
  const { deadline } = await assigned(chain, requester, p1);
  proposers(chain, { from: deadline - 1n, to: deadline + 100n });
  while (chain.app.height < deadline + CENSORSHIP_MAX_GRACE) await chain.block();
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  await chain.block(); // deadline + grace + 1: closed by block deadline + grace
  const rq = (await request(chain, 1n)).request;
  t.deepEqual(rq.excludedProvers, [p1.address]);
});

test('after the censoring run, a block of another proposer without the proof closes the window (the prover had that block)', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  proposers(chain);
  const { deadline } = await assigned(chain, requester, p1);
  proposers(chain, { from: deadline - 1n, to: deadline + 1n });
  while (chain.app.height < deadline + 2n) await chain.block(); // deadline + 2: another proposer, no proof
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  const late = await failing(chain, p1, m.proof(p1, 1n, pf)); // deadline + 3
  t.regex(late.result.log, /was due at height/);
  t.deepEqual((await request(chain, 1n)).request.excludedProvers, [p1.address]);
});
