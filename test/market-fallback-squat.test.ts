/**
 * Issue 11: commit-squatting on the permissionless fallback (modules/market/fallback.ts, docs/protocol.md "Squatting").
 * Coalition members that are not excluded from a censored request commit to it and never reveal. The rules under test:
 * any live commitment may reveal in its own window and the first valid reveal delivers, so squatters do not delay the
 * delivery unless they hold all max_fallback_commits (M) slots — then at most floor(k (R + 1) / M) blocks; the payment
 * waits for the earlier windows (at most R blocks); a prover whose commitment expired unrevealed forfeits its deposit to
 * the requester and is excluded from the live request for good (it may never commit to it again).
 * Real app on LevelDB, invariants after every block, real snarkjs proofs; genesis round trip of the new state.
 */
import test from 'ava';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { devnetKey, type TestChain } from './helpers/chain.js';
import { ESCROW, FEE, S, TREASURY, balance, getProofs, m, queryCtx, request, rawBlockChecked, setup, supply, type P } from './helpers/market.js';
import { DEFAULT_PARAMS } from '../modules/market/keys.js';
import { allForfeits } from '../modules/market/fallback.js';
import { QueryRequestRequest, QueryRequestResponse, type FallbackCommit } from '../src/gen/proofbook/market/v1/market.js';
import { createModules } from '../app/modules.js';
import { defaultGenesis } from '../genesis/index.js';
import { Context } from '../src/framework/context.js';
import { SortedArrayKV } from './bank-kv.js';
import type { RawKey } from '../src/client/sign.js';

test.after.always(() => terminateSnarkjs());

const DEPOSIT = BigInt(DEFAULT_PARAMS.fallbackCommitDeposit);
const WINDOW = DEFAULT_PARAMS.fallbackRevealBlocks;
const MAX_FEE = 8000n;

/** A block of exactly these txs, in this order (failing ones included), invariants checked after (helpers/market.ts). */
const block = async (chain: TestChain, items: Parameters<typeof rawBlockChecked>[1]) => (await rawBlockChecked(chain, items)).txResults;

async function commitsOn(chain: TestChain, id: bigint): Promise<FallbackCommit[]> {
  const r = await chain.query('/proofbook.market.v1.Query/Request', QueryRequestRequest.encode({ id }).finish());
  return QueryRequestResponse.decode(r.value).fallbackCommits;
}

/** The market module's genesis exported, imported into a fresh store and exported again; invariants on the import. */
function roundTrip(chain: TestChain): { exported: Record<string, unknown>; again: unknown; broken: string[] } {
  const market = chain.app.modules.modules.find((x) => x.name === 'market')!;
  const exported = JSON.parse(JSON.stringify(market.exportGenesis!(queryCtx(chain)))) as Record<string, unknown>;
  const set2 = createModules();
  const ctx2 = new Context(new SortedArrayKV(), { chainId: 'x', height: chain.app.height, timeSeconds: 0n }, 'genesis');
  const market2 = set2.modules.find((x) => x.name === 'market')!;
  market2.initGenesis!(ctx2, exported);
  const again = JSON.parse(JSON.stringify(market2.exportGenesis!(ctx2)));
  const broken = market2.invariants!.filter((i) => i.name === 'market/fallback-commits').map((i) => i.check(ctx2)).filter((x): x is string => x !== undefined);
  return { exported, again, broken };
}

/** Request 1 (max fee MAX_FEE, 200-block lifetime, patience 3) submitted and open to the fallback: no ask, so its patience runs out. */
async function openToFallback(chain: Awaited<ReturnType<typeof setup>>['chain'], requester: Awaited<ReturnType<typeof setup>>['requester']): Promise<void> {
  const { height: h0 } = await chain.block([await chain.sign(requester, { msgs: [m.request(requester, { maxFee: MAX_FEE, expiry: chain.app.height + 200n, patience: 3n })], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: 5_000_000n })]);
  while (chain.app.height < h0 + 3n) await chain.block();
}

/** The request's commitments and its held payment, as the Request query shows them. */
async function status(chain: TestChain, id: bigint) {
  return (await request(chain, id)).request;
}

test('squatting: three squatters commit ahead of the honest prover and never reveal; the honest reveal delivers at once, the payment waits for their windows; each forfeits to the requester; genesis round trip while the payment is held', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const squatters = [p1, await devnetKey(3), await devnetKey(4)];
  const honest = p2;
  await block(chain, squatters.slice(1).map((k) => [k, [m.bond(k, 1000n)]]));
  await openToFallback(chain, requester);
  const id = 1n;
  const r0 = await balance(chain, requester.address);
  const tr0 = await balance(chain, TREASURY);
  const s0 = await supply(chain);
  const hb0 = await balance(chain, honest.address);
  // block c: the squatters' (garbage) commitments first, the honest one last
  const c = chain.app.height + 1n;
  const first = await block(chain, [...squatters.map((k): [RawKey, ReturnType<typeof m.commit>[]] => [k, [m.commit(k, id, pf, honest.address)]]), [honest, [m.commit(honest, id, pf)]]]);
  t.deepEqual(first.map((r) => r.code), [0, 0, 0, 0]);
  // every commitment has a window of its own: c + 1 .. c + R
  t.deepEqual((await commitsOn(chain, id)).map((x) => x.revealUntilHeight), [c + WINDOW, c + WINDOW, c + WINDOW, c + WINDOW]);
  // block c + 1: the honest reveal delivers: FULFILLED now, proof stored; the payment is held (three earlier windows open)
  const rev = await block(chain, [[honest, [m.proof(honest, id, pf)]]]);
  t.is(rev[0].code, 0, rev[0].log);
  const delivered = await status(chain, id);
  t.is(delivered.status, S.REQUEST_STATUS_FULFILLED);
  t.is(delivered.fulfilledHeight, c + 1n);
  t.deepEqual(Buffer.from(delivered.proof), Buffer.from(pf.proof));
  t.is(delivered.fallbackPayee, honest.address);
  t.is(delivered.fallbackPayoutHeight, c + WINDOW);
  t.is(delivered.history.at(-1)!.event, 'fallback_delivered');
  t.is(await balance(chain, honest.address), hb0 - 2n * FEE - DEPOSIT); // nothing paid yet
  t.is(await balance(chain, ESCROW), BigInt(delivered.escrow) + 4n * DEPOSIT); // the escrow and four deposits held
  t.true(BigInt(delivered.escrow) > 0n);
  // a squatter cannot reveal its garbage commitment, nor commit again (the request is no longer open to the fallback)
  t.regex((await block(chain, [[p1, [m.proof(p1, id, pf)]]]))[0].log, /do not hash to/);
  t.regex((await block(chain, [[await devnetKey(5), [m.commit(await devnetKey(5), id, pf)]]]))[0].log, /not open to the fallback/);
  // the state round-trips through genesis while the payment is held
  const { exported, again, broken } = roundTrip(chain);
  t.is(((exported.requests as { fallback_payee_commit_id?: string }[])[0].fallback_payee_commit_id ?? '0') !== '0', true);
  t.deepEqual(again, exported);
  t.deepEqual(broken, []);
  // the squatters' windows end at c + R: each forfeits its deposit to the requester, and then the honest prover is paid
  while (chain.app.height < c + WINDOW - 1n) {
    await block(chain, []);
    t.is((await status(chain, id)).fallbackPayee, honest.address);
  }
  t.is((await status(chain, id)).fallbackPayeeCommitId > 0n, true);
  const settled = await chain.block();
  const broken2 = chain.app.checkInvariants();
  t.deepEqual(broken2, []);
  t.is(settled.height, c + WINDOW);
  const done = await status(chain, id);
  t.is(done.fallbackPayeeCommitId, 0n);
  t.is(done.fallbackCommits, 0);
  t.is(done.fallbackForfeits, 3);
  t.is(done.history.at(-1)!.event, 'fallback_fulfilled');
  t.is(done.history.at(-1)!.prover, honest.address);
  t.is(done.fulfilledHeight, c + 1n); // delivered at c + 1, paid at c + R
  const price = BigInt(done.paidPrice);
  t.true(price > 0n && price <= MAX_FEE);
  const got = (await balance(chain, requester.address)) - r0;
  t.true(got >= 3n * DEPOSIT + (MAX_FEE - price) && got <= 3n * DEPOSIT + (MAX_FEE - price) + BigInt(done.holdingDeposit), `requester got ${got}`);
  t.is(await balance(chain, TREASURY), tr0 + price / 100n);
  t.is(await balance(chain, honest.address), hb0 - 2n * FEE + price - price / 100n);
  t.is(await balance(chain, ESCROW), 0n);
  t.is(allForfeits(chain.app.modules.keepers.market.store(queryCtx(chain))).length, 0);
  t.is(await supply(chain), s0);
});

test('squatting: four squatters fill every commitment slot (M = 4); the honest prover commits when their windows end and delivers the next block (t + floor(k (R + 1) / M) + 1), paid at once', async (t) => {
  const [pf] = await getProofs();
  const g = defaultGenesis() as { market: { params: Record<string, string> } };
  g.market.params.max_fallback_commits = '4'; // (the default 8 leaves four squatters no way to keep H out)
  const { chain, requester, p1, p2 } = await setup(g as never);
  t.teardown(() => chain.close());
  const squatters = [p1, await devnetKey(3), await devnetKey(4), await devnetKey(5)];
  const honest = p2;
  await block(chain, squatters.slice(1).map((k) => [k, [m.bond(k, 1000n)]]));
  await openToFallback(chain, requester);
  const id = 1n;
  const hb0 = await balance(chain, honest.address);
  const s0 = await supply(chain);
  const c = chain.app.height + 1n;
  const first = await block(chain, [...squatters.map((k): [RawKey, ReturnType<typeof m.commit>[]] => [k, [m.commit(k, id, pf, honest.address)]]), [honest, [m.commit(honest, id, pf)]]]);
  t.deepEqual(first.map((r) => r.code === 0), [true, true, true, true, false]);
  t.regex(first[4].log, /already has 4 live fallback commitments/);
  // the honest prover (ready at c) acts as a worker: commit whenever a slot is free, reveal once its commitment is in a
  // block; forfeited squatters try to commit again every block (refused for good)
  let committedAt: bigint | undefined;
  let deliveredAt: bigint | undefined;
  let tries = 1;
  while (deliveredAt === undefined && chain.app.height < c + 40n) {
    const h = chain.app.height + 1n;
    const items: [RawKey, { typeUrl: string; value: Uint8Array }[]][] = [];
    const gone = (await commitsOn(chain, id)).length === 0 && h > c + WINDOW;
    if (gone) for (const k of squatters) items.push([k, [m.commit(k, id, pf, honest.address)]]);
    items.push([honest, [committedAt === undefined ? m.commit(honest, id, pf) : m.proof(honest, id, pf)]]);
    const res = await block(chain, items);
    if (gone) res.slice(0, squatters.length).forEach((r) => t.regex(r.log, /expire unrevealed and may not commit to, fulfil or be assigned it again/));
    const last = res.at(-1)!;
    if (committedAt === undefined) {
      tries++;
      if (last.code === 0) committedAt = h;
      else t.regex(last.log, /already has 4 live fallback commitments/);
    } else {
      t.is(last.code, 0, last.log);
      deliveredAt = h;
    }
  }
  // k = 4 squatters, M = 4 slots: each slot held for R + 1 blocks (c .. c + R), once
  t.is(committedAt, c + WINDOW + 1n);
  t.is(deliveredAt, c + WINDOW + 2n);
  t.is(deliveredAt, c + (4n * (WINDOW + 1n)) / 4n + 1n);
  const done = await status(chain, id);
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.is(done.fallbackPayeeCommitId, 0n); // no earlier commitment was live: paid at once
  t.is(done.history.at(-1)!.event, 'fallback_fulfilled');
  t.is(done.fallbackForfeits, 4);
  const price = BigInt(done.paidPrice);
  t.is(await balance(chain, honest.address), hb0 - BigInt(tries + 1) * FEE + price - price / 100n);
  t.is(await balance(chain, ESCROW), 0n);
  t.is(await supply(chain), s0);
});

test('property: random squatters (how many, when) against an honest prover ready at a random height: delivered by t + floor(k (R + 1) / M) + 1, paid within R blocks of delivery, each squatter forfeits at most once, to the requester; escrow empty and supply unchanged at the end', async (t) => {
  const [pf] = await getProofs();
  // a short window and two slots, so that slot-filling and held payments both happen in a few blocks
  const R = 3n;
  const M = 2n;
  const g = defaultGenesis() as { market: { params: Record<string, string> } };
  g.market.params.fallback_reveal_blocks = R.toString();
  g.market.params.max_fallback_commits = M.toString();
  const { chain, requester, p1, p2 } = await setup(g as never);
  t.teardown(() => chain.close());
  const pool = [p1, await devnetKey(3), await devnetKey(4), await devnetKey(5), await devnetKey(6)];
  await block(chain, pool.slice(1).map((k) => [k, [m.bond(k, 1000n)]]));
  const honest = p2;
  const s0 = await supply(chain);
  let x = 20261205n;
  const rnd = (n: number): number => {
    x = (x * 6364136223846793005n + 1442695040888963407n) % (1n << 64n);
    return Number((x >> 33n) % BigInt(n));
  };
  for (let trial = 1; trial <= 6; trial++) {
    const id = BigInt(trial);
    const { height: hs } = await chain.block([await chain.sign(requester, { msgs: [m.request(requester, { maxFee: MAX_FEE, expiry: chain.app.height + 200n, patience: 1n })], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: 5_000_000n })]);
    const c = hs + 1n; // open to the fallback from here
    const r0 = await balance(chain, requester.address);
    const squatters = pool.slice(0, rnd(pool.length + 1)).map((k) => ({ k, from: c + BigInt(rnd(8)), committed: false, refused: 0 }));
    const ready = c + BigInt(rnd(7));
    let deliveredAt: bigint | undefined;
    let paidAt: bigint | undefined;
    for (let guard = 0; paidAt === undefined && guard < 80; guard++) {
      const h = chain.app.height + 1n;
      const live = await commitsOn(chain, id);
      const items: [RawKey, { typeUrl: string; value: Uint8Array }[]][] = [];
      // squatters go first in the block; one that committed and lost its commitment keeps trying (and is refused)
      const trying = squatters.filter((q) => h >= q.from && !live.some((l) => l.prover === q.k.address));
      for (const q of trying) items.push([q.k, [m.commit(q.k, id, pf, honest.address)]]);
      const mine = live.find((l) => l.prover === honest.address);
      const reveal = deliveredAt === undefined && mine !== undefined && mine.height < h;
      if (deliveredAt === undefined && h >= ready && mine === undefined) items.push([honest, [m.commit(honest, id, pf)]]);
      else if (reveal) items.push([honest, [m.proof(honest, id, pf)]]);
      const res = items.length ? await block(chain, items) : (await chain.block(), []);
      trying.forEach((q, i) => {
        if (res[i].code === 0) {
          t.false(q.committed, `squatter ${q.k.address} committed twice on request ${id}`);
          q.committed = true;
        } else if (q.committed) {
          t.regex(res[i].log, /expire unrevealed|not open to the fallback/);
          q.refused++;
        }
      });
      if (reveal) {
        t.is(res.at(-1)?.code, 0, res.at(-1)?.log);
        deliveredAt = h;
      }
      const now = (await request(chain, id)).request;
      if (now.status === S.REQUEST_STATUS_FULFILLED && now.fallbackPayeeCommitId === 0n) paidAt = h;
    }
    const k = BigInt(squatters.filter((q) => q.committed).length);
    const bound = ready + (k * (R + 1n)) / M + 1n;
    t.log(`trial ${trial}: ${squatters.length} squatters (${k} committed, ${squatters.reduce((n, q) => n + q.refused, 0)} refusals), honest ready at c+${ready - c}, delivered at c+${deliveredAt! - c} (bound c+${bound - c}), paid at c+${paidAt! - c}`);
    const done = (await request(chain, id)).request;
    t.is(done.status, S.REQUEST_STATUS_FULFILLED, `trial ${trial}`);
    t.is(done.history.at(-1)!.prover, honest.address);
    t.is(done.fulfilledHeight, deliveredAt!);
    t.true(deliveredAt! <= bound, `trial ${trial}: k ${k}, ready ${ready}, delivered ${deliveredAt}, bound ${bound}`);
    t.true(paidAt! >= deliveredAt! && paidAt! <= deliveredAt! + R, `trial ${trial}: delivered ${deliveredAt}, paid ${paidAt}`);
    t.true(BigInt(done.fallbackForfeits) <= k);
    const price = BigInt(done.paidPrice);
    const got = (await balance(chain, requester.address)) - r0;
    const want = BigInt(done.fallbackForfeits) * DEPOSIT + (MAX_FEE - price);
    t.true(got >= want && got <= want + BigInt(done.holdingDeposit), `trial ${trial}: requester got ${got}, want ${want}`);
  }
  t.is(await balance(chain, ESCROW), 0n);
  t.is(allForfeits(chain.app.modules.keepers.market.store(queryCtx(chain))).length, 0);
  t.is(await supply(chain), s0);
});

test('genesis refuses inconsistent fallback state: a commitment without a window of its own, a forfeit that is not counted or on an ended request, a forfeiter with a live commitment', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await openToFallback(chain, requester);
  const c = chain.app.height + 1n;
  await block(chain, [[p1, [m.commit(p1, 1n, pf, p2.address)]]]);
  while (chain.app.height < c + WINDOW) await chain.block(); // p1 forfeits
  await block(chain, [[p2, [m.commit(p2, 1n, pf)]]]);
  const { exported, again, broken } = roundTrip(chain);
  t.deepEqual(again, exported);
  t.deepEqual(broken, []);
  const init = (g: unknown) => () => createModules().modules.find((x) => x.name === 'market')!.initGenesis!(new Context(new SortedArrayKV(), { chainId: 'x', height: 1n, timeSeconds: 0n }, 'genesis'), g);
  const clone = () => JSON.parse(JSON.stringify(exported));
  const g1 = clone();
  g1.fallback_forfeits = [];
  t.throws(init(g1), { message: /request 1 counts 1 fallback forfeits, genesis has 0/ });
  const g2 = clone();
  g2.fallback_forfeits.push({ request_id: '1', prover: p2.address, height: '1' });
  t.throws(init(g2), { message: /forfeited request 1 and holds a live commitment on it/ });
  const g3 = clone();
  g3.fallback_forfeits[0].prover = 'not-an-address';
  t.throws(init(g3), { message: /invalid prover address/ });
  const g4 = clone();
  g4.fallback_commits[0].reveal_until_height = g4.fallback_commits[0].height;
  t.throws(init(g4), { message: /must have reveal_until_height above its height/ });
  const g5 = clone();
  g5.requests[0].status = 'REQUEST_STATUS_CANCELLED';
  g5.requests[0].fallback_commits = 0;
  g5.fallback_commits = [];
  t.throws(init(g5), { message: /request 1 has ended and keeps no fallback forfeits/ });
});
