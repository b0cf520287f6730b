/**
 * More app-level market tests: batch verification of a block's proofs, jailing after missed deadlines, per-account
 * limits, ask cancellation, the list queries with pagination, genesis export/import, and the pure fee ramp.
 */
import test from 'ava';
import { devnetKey } from './helpers/chain.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { defaultGenesis } from '../genesis/index.js';
import { Context } from '../src/framework/context.js';
import { CacheKV } from '../src/store/cache.js';
import {
  QueryAsksRequest,
  QueryAsksResponse,
  QueryRequestsRequest,
  QueryRequestsResponse,
} from '../src/gen/proofbook/market/v1/market.js';
import { exportMarketGenesis, initMarketGenesis, rampedFee, type MarketKeeperImpl } from '../modules/market/index.js';
import type { VerifierKeeperImpl } from '../modules/verifier/index.js';
import { S, bondedOf, failing, getProofs, m, ok, queryCtx, request, setup, txs } from './helpers/market.js';

test.after.always(() => terminateSnarkjs());

test('rampedFee: linear, floored, capped at max_fee; ramp 0 is max_fee at once', (t) => {
  t.is(rampedFee(1000n, 11_000n, 10n, 5n, 5n), 1000n);
  t.is(rampedFee(1000n, 11_000n, 10n, 5n, 8n), 4000n);
  t.is(rampedFee(1000n, 11_000n, 10n, 5n, 15n), 11_000n);
  t.is(rampedFee(1000n, 11_000n, 10n, 5n, 500n), 11_000n);
  t.is(rampedFee(0n, 10n, 3n, 0n, 1n), 3n); // 10/3 floored
  t.is(rampedFee(1000n, 11_000n, 0n, 5n, 5n), 11_000n);
});

test("the block's proofs are batch-verified before its txs run, and both fulfil", async (t) => {
  const [pf1, pf2] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await txs(chain, [[p1, [m.ask(p1, 5000n, 1n)]], [p2, [m.ask(p2, 5000n, 1n)]]]);
  await ok(chain, requester, m.request(requester, { maxFee: 9000n, expiry: chain.app.height + 50n }), m.request(requester, { maxFee: 9000n, expiry: chain.app.height + 50n, input: 1 }));
  const a1 = (await request(chain, 1n)).request.assignment!;
  const a2 = (await request(chain, 2n)).request.assignment!;
  t.not(a1.prover, a2.prover);
  const byProver = new Map<string, typeof p1>([[p1.address, p1], [p2.address, p2]]);
  const verifier = chain.app.modules.keepers.verifier as unknown as VerifierKeeperImpl;
  const before = { ...verifier.stats };
  // straight to FinalizeBlock (no CheckTx / PrepareProposal first), so the verdicts cannot be cached already
  const k1 = byProver.get(a1.prover)!;
  const k2 = byProver.get(a2.prover)!;
  const tx1 = await chain.sign(k1, { msgs: [m.proof(k1, 1n, pf1)], fee: [{ denom: 'uproof', amount: 5000n }], gasLimit: 5_000_000n });
  const tx2 = await chain.sign(k2, { msgs: [m.proof(k2, 2n, pf2)], fee: [{ denom: 'uproof', amount: 5000n }], gasLimit: 5_000_000n });
  const res = await chain.rawBlock([tx1, tx2]);
  t.deepEqual(res.txResults.map((r) => r.code), [0, 0], res.txResults.map((r) => r.log).join(' | '));
  t.deepEqual(chain.app.checkInvariants(), []);
  t.is(verifier.stats.batches - before.batches, 1);
  t.is(verifier.stats.batchedProofs - before.batchedProofs, 2);
  t.is(verifier.stats.verdictHits - before.verdictHits, 2);
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FULFILLED);
  t.is((await request(chain, 2n)).request.status, S.REQUEST_STATUS_FULFILLED);
});

test('three misses in one block jail the prover; the requests go to the permissionless fallback (misser excluded), not to another ask', async (t) => {
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, 3000n, 3n));
  const exp = chain.app.height + 100n;
  const { height: h } = await ok(
    chain,
    requester,
    m.request(requester, { maxFee: 9000n, expiry: exp, window: 2n }),
    m.request(requester, { maxFee: 9000n, expiry: exp, window: 2n }),
    m.request(requester, { maxFee: 9000n, expiry: exp, window: 2n }),
  );
  for (const id of [1n, 2n, 3n]) t.is((await request(chain, id)).request.assignment!.prover, p1.address);
  await ok(chain, p2, m.ask(p2, 8000n, 3n));
  while (chain.app.height < h + 6n) await chain.block(); // deadline h + 3 accept + 2
  const bond = chain.app.modules.keepers.bond;
  t.true(bond.isJailed(queryCtx(chain), p1.address as any));
  for (const id of [1n, 2n, 3n]) {
    // a miss sends the request to the permissionless fallback (p1 excluded), out of the auction: p2's live ask is
    // not given it; p2 (or any bonded prover but p1) may fulfil it through the fallback
    const r = (await request(chain, id)).request;
    t.is(r.status, S.REQUEST_STATUS_FALLBACK);
    t.is(r.assignment, undefined);
    t.deepEqual(r.excludedProvers, [p1.address]);
  }
  t.is((await bondedOf(chain, p1.address)).locked, 0n);
  // a jailed prover cannot post asks
  const r = await failing(chain, p1, m.ask(p1, 3000n, 1n));
  t.regex(r.result.log, /jailed/);
});

test('per-account limits on open requests and asks (from genesis params)', async (t) => {
  const g = defaultGenesis() as any;
  g.market.params.max_open_requests_per_account = '2';
  g.market.params.max_asks_per_account = '1';
  const { chain, requester, p1 } = await setup(g);
  t.teardown(() => chain.close());
  const exp = chain.app.height + 100n;
  await ok(chain, requester, m.request(requester, { maxFee: 2000n, expiry: exp }), m.request(requester, { maxFee: 2000n, expiry: exp }));
  const third = await failing(chain, requester, m.request(requester, { maxFee: 2000n, expiry: exp }));
  t.regex(third.result.log, /already has 2 open or assigned requests/);
  // a cancelled request frees a slot
  await ok(chain, requester, m.cancel(requester, 1n));
  await ok(chain, requester, m.request(requester, { maxFee: 2000n, expiry: exp }));
  await ok(chain, p1, m.ask(p1, 50_000n, 1n));
  t.regex((await failing(chain, p1, m.ask(p1, 50_000n, 1n))).result.log, /already has 1 asks/);
  // only the owner can cancel; an ask without assignments is deleted at once
  const stranger = await devnetKey(5);
  t.regex((await failing(chain, stranger, m.cancelAsk(stranger, 1n))).result.log, /not the ask owner/);
  await ok(chain, p1, m.cancelAsk(p1, 1n));
  t.is(chain.app.modules.keepers.market.ask(queryCtx(chain), 1n), undefined);
  await ok(chain, p1, m.ask(p1, 50_000n, 1n));
});

test('Requests and Asks queries filter and paginate; genesis export -> import -> export is the identity', async (t) => {
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const other = await devnetKey(3);
  const exp = chain.app.height + 100n;
  await txs(chain, [[p1, [m.ask(p1, 3000n, 1n)]], [p2, [m.ask(p2, 4000n, 1n)]]]);
  await ok(chain, requester, m.request(requester, { maxFee: 9000n, expiry: exp }), m.request(requester, { maxFee: 1000n, expiry: exp }), m.request(requester, { maxFee: 1000n, expiry: exp }));
  await ok(chain, other, m.request(other, { maxFee: 9000n, expiry: exp }));
  const q = async (req: Parameters<typeof QueryRequestsRequest.fromPartial>[0]) => {
    const r = await chain.query('/proofbook.market.v1.Query/Requests', QueryRequestsRequest.encode(QueryRequestsRequest.fromPartial(req)).finish());
    t.is(r.code, 0, r.log);
    return QueryRequestsResponse.decode(r.value);
  };
  t.deepEqual((await q({ requester: requester.address })).requests.map((r) => r.id), [1n, 2n, 3n]);
  t.deepEqual((await q({ status: S.REQUEST_STATUS_ASSIGNED })).requests.map((r) => r.id), [1n, 4n]);
  t.deepEqual((await q({ status: S.REQUEST_STATUS_OPEN })).requests.map((r) => r.id), [2n, 3n]);
  t.deepEqual((await q({ requester: requester.address, status: S.REQUEST_STATUS_OPEN })).requests.map((r) => r.id), [2n, 3n]);
  const page1 = await q({ pagination: { limit: 3n } });
  t.deepEqual(page1.requests.map((r) => r.id), [1n, 2n, 3n]);
  const page2 = await q({ pagination: { key: page1.pagination!.nextKey, limit: 3n } });
  t.deepEqual(page2.requests.map((r) => r.id), [4n]);
  t.is(page2.pagination!.nextKey.length, 0);
  const asks = QueryAsksResponse.decode((await chain.query('/proofbook.market.v1.Query/Asks', QueryAsksRequest.encode(QueryAsksRequest.fromPartial({ prover: p2.address })).finish())).value);
  t.deepEqual(asks.asks.map((a) => [a.id, a.active]), [[2n, 1n]]);

  const keeper = chain.app.modules.keepers.market as MarketKeeperImpl;
  const exported = exportMarketGenesis(queryCtx(chain), keeper);
  const fresh = new Context(new CacheKV({ get: () => undefined, has: () => false, iterate: function* () {} }), { chainId: 'x', height: 0n, timeSeconds: 0n }, 'genesis');
  initMarketGenesis(fresh, JSON.parse(JSON.stringify(exported)), keeper);
  t.deepEqual(exportMarketGenesis(fresh, keeper), exported);
  t.is((exported as any).requests.length, 4);
  t.is((exported as any).next_request_id, '5');
  t.is((exported as any).recent_winners.length, 2); // the spread rule's window: requests 1 and 4's assignments

  // a field the market does not have is refused, not skipped: proto3 JSON would read a misspelt param as 0 (off)
  const edited = (f: (g: any) => void) => {
    const g = JSON.parse(JSON.stringify(exported));
    f(g);
    return g;
  };
  const blank = () => new Context(new CacheKV({ get: () => undefined, has: () => false, iterate: function* () {} }), { chainId: 'x', height: 0n, timeSeconds: 0n }, 'genesis');
  t.throws(() => initMarketGenesis(blank(), edited((g) => (g.params.overdue_race_bsp = '20000')), keeper), { message: "market params: unknown field 'overdue_race_bsp' (a param left out reads 0)" });
  t.throws(() => initMarketGenesis(blank(), edited((g) => Object.assign(g, { reputation: [], nextAskId: '3' })), keeper), { message: "market genesis: unknown field 'reputation'" });
  // camelCase names (ts-proto's toJSON) are the same fields
  const camel = edited((g) => {
    g.params.overdueRaceBps = g.params.overdue_race_bps;
    delete g.params.overdue_race_bps;
  });
  const fromCamel = blank();
  initMarketGenesis(fromCamel, camel, keeper);
  t.deepEqual(exportMarketGenesis(fromCamel, keeper), exported);
});

test('two replicas (one restarted mid-way) reach identical app hashes through auction, misses, re-auction and expiry', async (t) => {
  const a = await setup();
  const b = await setup();
  t.teardown(async () => {
    await a.chain.close();
    await b.chain.close();
  });
  const both = async (items: [typeof a.p1, ReturnType<typeof m.ask>[]][]) => {
    const signed = [];
    for (const [k, msgs] of items) signed.push(await a.chain.sign(k, { msgs, fee: [{ denom: 'uproof', amount: 5000n }], gasLimit: 5_000_000n }));
    const ra = await a.chain.block(signed);
    const rb = await b.chain.block(signed);
    t.deepEqual(rb.appHash, ra.appHash, `app hash differs at height ${ra.height}`);
    return ra;
  };
  const { requester, p1, p2 } = a;
  t.deepEqual(a.chain.app.store.appHash, b.chain.app.store.appHash);
  await both([[p1, [m.ask(p1, 3000n, 2n)]], [p2, [m.ask(p2, 4000n, 2n)]]]);
  const h = a.chain.app.height;
  await both([[requester, [
    m.request(requester, { maxFee: 9000n, minFee: 2000n, ramp: 4n, expiry: h + 8n, window: 2n }),
    m.request(requester, { maxFee: 8000n, expiry: h + 30n, window: 2n }),
    m.request(requester, { maxFee: 7000n, expiry: h + 30n, window: 3n }),
    m.request(requester, { maxFee: 1000n, expiry: h + 4n, window: 2n }),
  ]]]);
  for (let i = 0; i < 12; i++) {
    if (i === 5) await b.chain.restart();
    await both([]);
  }
  // everything was assigned, missed (nobody proves here), re-auctioned or expired
  const statuses = [];
  for (const id of [1n, 2n, 3n, 4n]) statuses.push((await request(a.chain, id)).request.status);
  t.true(statuses.includes(S.REQUEST_STATUS_EXPIRED));
  const rep = a.chain.app.modules.keepers.market.reputation(queryCtx(a.chain), p1.address as any, (await request(a.chain, 1n)).request.circuitId);
  t.true(rep.missed > 0n);
});
