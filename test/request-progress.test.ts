/**
 * Issue 11 #5: what a requester sees. A request goes through a release, a reassignment, a missed deadline (slash,
 * compensation), the fallback and a fallback fulfilment (commit-reveal) on a real app (LevelDB, invariants after every
 * block, snarkjs proof); then `request status`'s text (describeRequest) and `request prove --wait`'s progress lines
 * (waitPrinter, fed the record block by block the way waitForProof does) must report each step with its amounts.
 */
import test from 'ava';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { devnetKey } from './helpers/chain.js';
import { S, getProofs, m, ok, request, setup, commitReveal } from './helpers/market.js';
import { describeRequest, waitPrinter } from '../cli/request.js';
import { describeHistoryEntry } from '../src/client/describe.js';
import { statusName } from '../modules/market/index.js';
import { QueryRequestRequest, QueryRequestResponse, type Request } from '../src/gen/proofbook/market/v1/market.js';

test.after.always(() => terminateSnarkjs());

test('release, reassignment, miss with compensation, fallback and fallback fulfilment are all reported to the requester', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const p3 = await devnetKey(3);
  await ok(chain, p3, m.bond(p3, 1_000_000n));
  const snapshots: Request[] = [];
  const snap = async () => snapshots.push((await request(chain, 1n)).request);
  await ok(chain, p1, m.ask(p1, 1000n, 1n));
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 200n, window: 2n }));
  await snap();
  t.is(snapshots.at(-1)!.assignment!.prover, p1.address);
  // p1 releases; p2's ask appears and gets it in the same block (the requester's next poll sees ASSIGNED again)
  await ok(chain, p1, m.release(p1, 1n));
  await ok(chain, p2, m.ask(p2, 2000n, 1n));
  await snap();
  t.is(snapshots.at(-1)!.assignment!.prover, p2.address);
  const deadline = snapshots.at(-1)!.assignment!.deadlineHeight;
  while (chain.app.height <= deadline) await chain.block(); // p2 never proves
  await snap();
  t.is(snapshots.at(-1)!.status, S.REQUEST_STATUS_FALLBACK);
  // `request status` while in the fallback: where its fee starts (p2's price) and what a commitment now would lock
  const fq = QueryRequestResponse.decode((await chain.query('/proofbook.market.v1.Query/Request', QueryRequestRequest.encode({ id: 1n }).finish())).value);
  const fbText = describeRequest(fq.request!, BigInt(fq.currentFee), fq.fallbackCommits, BigInt(fq.fallbackFee));
  t.regex(fbText, /fallback: +since height \d+: any bonded prover may fulfil it; its fee ramps from 2000 \(the market's price\) to the current fee/);
  t.regex(fbText, new RegExp(`fallback fee: ${fq.fallbackFee} for a commitment in the next block`));
  t.true(BigInt(fq.fallbackFee) >= 2000n && BigInt(fq.fallbackFee) < 10_000n);
  await commitReveal(chain, p3, 1n, pf);
  await snap();
  const done = snapshots.at(-1)!;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);

  // `request status`
  const text = describeRequest(done, 0n);
  const released = done.history.find((e) => e.event === 'released')!;
  const slashed = done.history.find((e) => e.event === 'slashed')!;
  const last = done.history.at(-1)!;
  t.true(BigInt(released.compensation) > 0n && BigInt(slashed.compensation) > 0n);
  t.regex(text, new RegExp(`released by ${p1.address}, slashed ${released.amount}, you received ${released.compensation} in compensation; re-auctioned without it`));
  t.regex(text, new RegExp(`assigned to ${p2.address} at price 2000`));
  t.regex(text, new RegExp(`${p2.address} missed its deadline, slashed ${slashed.amount}, you received ${slashed.compensation} in compensation; open to any bonded prover through the fallback`));
  t.regex(text, new RegExp(`fulfilled through the fallback by ${p3.address}, paid ${last.amount} plus bounty ${last.compensation}`));
  t.regex(text, new RegExp(`excluded: +${p1.address}, ${p2.address}`));
  t.true(BigInt(last.compensation) > 0n, 'the bounty (a share of both slashes) went to the fallback prover');

  // `request prove --wait`: the same entries through waitForProof's callbacks, one call per new history entry and
  // one per status change between polls (here: the four snapshots above)
  const lines: string[] = [];
  const pr = waitPrinter((s) => lines.push(s));
  let seen = 0;
  let lastStatus: number | undefined;
  for (const r of snapshots) {
    for (; seen < r.history.length; seen++) pr.onEvent({ entry: r.history[seen]!, text: describeHistoryEntry(r.history[seen]!), request: r });
    if (r.status !== lastStatus) {
      lastStatus = r.status;
      pr.onProgress({ status: statusName(r.status), request: r, height: r.history.at(-1)!.height });
    }
  }
  const out = lines.join('\n');
  t.regex(out, new RegExp(`assigned: .*assigned to ${p1.address}|assigned: prover ${p1.address}`));
  t.regex(out, new RegExp(`released by ${p1.address}, slashed ${released.amount}, you received ${released.compensation} in compensation`));
  t.regex(out, new RegExp(`reassigned: prover ${p2.address} at price 2000`), 'the reassignment is reported although the status stayed ASSIGNED between polls');
  t.regex(out, new RegExp(`missed its deadline, slashed ${slashed.amount}, you received ${slashed.compensation} in compensation`));
  t.regex(out, /fallback: since height \d+ any bonded prover may fulfil it \(commit-reveal\), bounty \d+/);
  t.regex(out, new RegExp(`fulfilled through the fallback by ${p3.address}, paid ${last.amount} plus bounty ${last.compensation}`));
  t.regex(out, new RegExp(`verified: proof accepted on chain at height ${done.fulfilledHeight}, paid ${done.paidPrice}`));
  t.log(out);
});
