/**
 * The fallback fee (modules/market/fallback-fee.ts, issue 11): it starts from a price the market produced (the failed
 * assignment's price or the circuit's last clearing price, fixed when the request enters FALLBACK) and ramps to the
 * request's current fee over params.fallback_ramp_blocks; a commitment locks the fee of its block.
 * Pure property tests of the arithmetic, then the real app (TestChain on LevelDB, invariants after every block, real
 * snarkjs proofs).
 */
import test from 'ava';
import { fallbackReference, rampedFallbackFee } from '../modules/market/fallback-fee.js';
import { rampedFee } from '../modules/market/keeper.js';
import { DEFAULT_PARAMS } from '../modules/market/keys.js';
import { defaultGenesis } from '../genesis/index.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { QueryRequestRequest, QueryRequestResponse } from '../src/gen/proofbook/market/v1/market.js';
import { ESCROW, S, balance, getProofs, m, ok, setup, txs } from './helpers/market.js';
import type { TestChain } from './helpers/chain.js';

test.after.always(() => terminateSnarkjs());

const R = DEFAULT_PARAMS.fallbackRampBlocks;

/** A deterministic generator (xorshift) so failures reproduce. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

test('property: the fallback fee never exceeds the current fee, never falls, starts at the reference and is the current fee from R blocks on', (t) => {
  const r = rng(11);
  for (let i = 0; i < 3000; i++) {
    const maxFee = BigInt(1 + r(1_000_000));
    const minFee = BigInt(r(Number(maxFee) + 1));
    const ramp = BigInt(r(50));
    const submitted = BigInt(r(100));
    const current = (h: bigint) => rampedFee(minFee, maxFee, ramp, submitted, h);
    const ref = fallbackReference(maxFee, r(2) ? BigInt(r(2_000_000)) : undefined, r(2) ? BigInt(r(2_000_000)) : undefined);
    t.true(ref <= maxFee);
    const h0 = submitted + BigInt(r(60));
    const rb = BigInt(r(4) === 0 ? 0 : 1 + r(100));
    let prev = -1n;
    for (let h = h0; h <= h0 + rb + 3n; h++) {
      const f = rampedFallbackFee(current(h), maxFee, ref, h0, h, rb);
      if (f > current(h)) return t.fail(`fee ${f} above the current fee ${current(h)} (case ${i})`);
      if (f < prev) return t.fail(`fee fell from ${prev} to ${f} at ${h} (case ${i})`);
      if (rb === 0n && f !== current(h)) return t.fail(`R = 0 must pay the current fee (case ${i})`);
      if (h >= h0 + rb && f !== current(h)) return t.fail(`after R blocks the fee must be the current fee (case ${i})`);
      if (h === h0 && rb > 0n && f !== (ref < current(h) ? ref : current(h))) return t.fail(`the fee must start at min(reference, current) (case ${i})`);
      prev = f;
    }
  }
  t.pass();
});

test('the reference is the larger of the failed assignment price and the last clearing price, at most max_fee', (t) => {
  t.is(fallbackReference(10_000n, 6000n, 5000n), 6000n);
  t.is(fallbackReference(10_000n, 4000n, 5000n), 5000n);
  t.is(fallbackReference(10_000n, 4000n, undefined), 4000n);
  t.is(fallbackReference(10_000n, 12_000n, 5000n), 10_000n);
  t.is(fallbackReference(10_000n, undefined, undefined), 0n);
  // linear from 6000 to 10000 over 40 blocks: 100 per block
  t.is(rampedFallbackFee(10_000n, 10_000n, 6000n, 100n, 110n, 40n), 7000n);
  t.is(rampedFallbackFee(10_000n, 10_000n, 6000n, 100n, 140n, 40n), 10_000n);
  t.is(rampedFallbackFee(8000n, 10_000n, 6000n, 100n, 140n, 40n), 8000n); // capped by the current fee
});

async function requestQ(chain: TestChain, id: bigint): Promise<QueryRequestResponse> {
  const r = await chain.query('/proofbook.market.v1.Query/Request', QueryRequestRequest.encode({ id }).finish());
  if (r.code !== 0) throw new Error(r.log);
  return QueryRequestResponse.decode(r.value);
}

test('app: a commitment locks the fee of its block (later reveal paid that); the reference is frozen when a lower clearing price follows; an OPEN request past its patience ramps from the last clearing price', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await txs(chain, [[p1, [m.ask(p1, 5000n, 1n)]], [p2, [m.ask(p2, 6000n, 1n)]]]);
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 200n, window: 2n }));
  t.is((await requestQ(chain, 1n)).request!.assignment!.price, '6000');
  await ok(chain, p1, m.cancelAsk(p1, 1n));
  while (chain.app.height < h + 6n) await chain.block(); // deadline h + 5 passes: miss, fallback
  let q = await requestQ(chain, 1n);
  t.is(q.request!.status, S.REQUEST_STATUS_FALLBACK);
  const h0 = q.request!.fallbackHeight;
  t.is(q.request!.fallbackReferenceFee, '6000');
  const fee = (x: bigint) => 6000n + (4000n * (x - h0)) / R;
  t.is(q.fallbackFee, fee(chain.app.height + 1n).toString(), 'the query shows what a commitment in the next block locks');
  t.is(q.currentFee, '10000');

  // a lower clearing price after the request entered the fallback does not move its reference: p2 re-asks at 3000 and
  // clears another request there
  await ok(chain, p2, m.cancelAsk(p2, 2n));
  await ok(chain, p2, m.ask(p2, 3000n, 1n));
  await ok(chain, requester, m.request(requester, { maxFee: 3000n, expiry: chain.app.height + 200n, window: 50n, input: 1 }));
  t.is((await requestQ(chain, 2n)).request!.assignment?.price, '3000');
  q = await requestQ(chain, 1n);
  t.is(q.request!.fallbackReferenceFee, '6000', 'frozen at entry');
  t.is(q.fallbackFee, fee(chain.app.height + 1n).toString());

  // p2 commits: the commitment records the fee of its block; it reveals 3 blocks later, when the fee is higher, and is
  // paid the locked fee (less 1 %) plus the bounty; the requester gets the rest of the escrow back
  const { height: hc } = await ok(chain, p2, m.commit(p2, 1n, pf));
  q = await requestQ(chain, 1n);
  t.is(q.fallbackCommits.length, 1);
  t.is(q.fallbackCommits[0].price, fee(hc).toString());
  await chain.block();
  await chain.block();
  t.true(fee(chain.app.height + 1n) > fee(hc), 'the fee kept ramping');
  const b2 = await balance(chain, p2.address);
  const r0 = await balance(chain, requester.address);
  const bounty = BigInt(q.request!.bounty);
  await ok(chain, p2, m.proof(p2, 1n, pf));
  const done = (await requestQ(chain, 1n)).request!;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.is(done.paidPrice, fee(hc).toString());
  const paid = fee(hc);
  // p2: the payout less the tx fee, plus its commit deposit back
  t.is(await balance(chain, p2.address), b2 - 5000n + paid - paid / 100n + bounty + BigInt(DEFAULT_PARAMS.fallbackCommitDeposit));
  t.true((await balance(chain, requester.address)) >= r0 + (10_000n - paid), 'the unpaid escrow came back to the requester');

  // OPEN with the requester's patience (no ask reaches its fee): the fallback fee ramps from the circuit's last clearing
  // price (3000) from submitted + patience on, up to the current fee
  await ok(chain, p2, m.cancelAsk(p2, 3n));
  const { height: hs } = await ok(chain, requester, m.request(requester, { maxFee: 20_000n, expiry: chain.app.height + 200n, window: 50n, patience: 2n }));
  const id = 3n;
  q = await requestQ(chain, id);
  t.is(q.request!.status, S.REQUEST_STATUS_OPEN);
  if (chain.app.height + 1n < hs + 2n) t.is(q.fallbackFee, '', 'not open to the fallback before its patience ran out');
  while (chain.app.height < hs + 5n) await chain.block();
  q = await requestQ(chain, id);
  t.is(q.fallbackFee, (3000n + (17_000n * (chain.app.height + 1n - (hs + 2n))) / R).toString());
  t.true(await balance(chain, ESCROW) > 0n);
});

test('app: a coalition that pushes the reference down delays the fallback fee by at most fallback_ramp_blocks: from then on it is the current fee', async (t) => {
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  // the coalition asks 1 and 2: the request clears at 2, the lowest reference two asks can make
  await txs(chain, [[p1, [m.ask(p1, 1n, 1n)]], [p2, [m.ask(p2, 2n, 1n)]]]);
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 200n, window: 2n }));
  const a = (await requestQ(chain, 1n)).request!.assignment!;
  t.is(a.price, '2');
  await ok(chain, a.prover === p1.address ? p1 : p2, m.cancelAsk(a.prover === p1.address ? p1 : p2, a.prover === p1.address ? 1n : 2n));
  while (chain.app.height < h + 6n) await chain.block();
  let q = await requestQ(chain, 1n);
  t.is(q.request!.status, S.REQUEST_STATUS_FALLBACK);
  t.is(q.request!.fallbackReferenceFee, '2');
  const h0 = q.request!.fallbackHeight;
  t.true(BigInt(q.fallbackFee) < 1000n, 'starts near the manipulated reference');
  while (chain.app.height + 1n < h0 + R) await chain.block();
  q = await requestQ(chain, 1n);
  t.is(q.fallbackFee, q.currentFee, `${R} blocks after the fallback opened it pays the current fee, whatever the reference`);
  t.is(q.fallbackFee, '10000');
});

test('app: fallback_ramp_blocks = 0 pays the current fee from the start (the rule before)', async (t) => {
  const [pf] = await getProofs();
  const g = defaultGenesis() as { market: { params: Record<string, string> } };
  g.market.params.fallback_ramp_blocks = '0';
  const { chain, requester, p1, p2 } = await setup(g as any);
  t.teardown(() => chain.close());
  await txs(chain, [[p1, [m.ask(p1, 5000n, 1n)]], [p2, [m.ask(p2, 6000n, 1n)]]]);
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 200n, window: 2n }));
  await ok(chain, p1, m.cancelAsk(p1, 1n));
  while (chain.app.height < h + 6n) await chain.block();
  const q = await requestQ(chain, 1n);
  t.is(q.request!.status, S.REQUEST_STATUS_FALLBACK);
  t.is(q.fallbackFee, '10000');
  await ok(chain, p2, m.commit(p2, 1n, pf));
  await ok(chain, p2, m.proof(p2, 1n, pf));
  t.is((await requestQ(chain, 1n)).request!.paidPrice, '10000');
});
