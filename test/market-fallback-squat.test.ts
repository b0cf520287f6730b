/**
 * Issue 11: commit-squatting on the permissionless fallback (modules/market/fallback.ts, docs/protocol.md "Squatting").
 * Coalition members that are not excluded from a censored request commit to it and never reveal. The rules under test:
 * a prover whose commitment expired unrevealed is excluded from the request for good (it may never commit to it
 * again), its deposit goes to the requester, and a queued commitment's reveal window starts only when it holds the
 * reveal — so k squatters delay an honest prover by at most k × (fallback_reveal_blocks + 1) + 1 blocks.
 * Real app on LevelDB, invariants after every block, real snarkjs proofs; genesis round trip of the new state.
 */
import test from 'ava';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { devnetKey, type TestChain } from './helpers/chain.js';
import { ESCROW, FEE, S, TREASURY, balance, getProofs, m, queryCtx, request, setup, supply, type P } from './helpers/market.js';
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

/** A block of exactly these txs, in this order (failing ones included, as a proposer could), invariants checked after. */
async function block(chain: TestChain, items: [RawKey, { typeUrl: string; value: Uint8Array }[]][]) {
  const signed = [];
  for (const [k, msgs] of items) signed.push(await chain.sign(k, { msgs, fee: [{ denom: 'uproof', amount: FEE }], gasLimit: 5_000_000n }));
  const res = await chain.rawBlock(signed);
  const broken = chain.app.checkInvariants();
  if (broken.length) throw new Error(`invariants broken at height ${chain.app.height}: ${broken.join('; ')}`);
  return res.txResults;
}

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

test('squatting: four squatters fill every slot and never reveal; each holds the reveal once, forfeits to the requester and is excluded; the honest prover is paid within the bound', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const squatters = [p1, await devnetKey(3), await devnetKey(4), await devnetKey(5)];
  const honest = p2;
  await block(chain, squatters.slice(1).map((k) => [k, [m.bond(k, 1000n)]]));
  // a request whose patience (3 blocks) runs out with no ask: open to the fallback
  const { height: h0 } = await chain.block([await chain.sign(requester, { msgs: [m.request(requester, { maxFee: MAX_FEE, expiry: chain.app.height + 300n, patience: 3n })], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: 5_000_000n })]);
  const id = 1n;
  while (chain.app.height < h0 + 3n) await chain.block();
  const r0 = await balance(chain, requester.address);
  const tr0 = await balance(chain, TREASURY);
  const s0 = await supply(chain);
  const hb0 = await balance(chain, honest.address);

  // block c: the squatters take all max_fallback_commits (4) slots, ahead of the honest prover's commitment
  const c = chain.app.height + 1n;
  const first = await block(chain, [...squatters.map((k): [RawKey, ReturnType<typeof m.commit>[]] => [k, [m.commit(k, id, pf, squatters[0].address)]]), [honest, [m.commit(honest, id, pf)]]]);
  t.deepEqual(first.map((r) => r.code === 0), [true, true, true, true, false]);
  t.regex(first[4].log, /already has 4 live fallback commitments/);
  // only the earliest commitment holds a reveal window; the queued ones have none yet
  const q = await commitsOn(chain, id);
  t.deepEqual(q.map((x) => x.revealUntilHeight), [c + WINDOW, 0n, 0n, 0n]);

  // From block c + 1 on the honest prover acts as a worker would: commit whenever a slot is free, reveal whenever its
  // commitment holds the reveal; every squatter whose commitment expired tries to commit again each block.
  const forfeitedAt = new Map<string, bigint>();
  let honestCommit: bigint | undefined;
  let paidAt: bigint | undefined;
  let roundTripped = false;
  while (paidAt === undefined && chain.app.height < c + 60n) {
    const h = chain.app.height + 1n;
    const live = await commitsOn(chain, id);
    const items: [RawKey, { typeUrl: string; value: Uint8Array }[]][] = [];
    const retrying = squatters.filter((k) => forfeitedAt.has(k.address));
    for (const k of retrying) items.push([k, [m.commit(k, id, pf, squatters[0].address)]]);
    const mine = live.find((x) => x.prover === honest.address);
    const holds = mine !== undefined && live[0].prover === honest.address && mine.height < h;
    if (mine === undefined) items.push([honest, [m.commit(honest, id, pf)]]);
    else if (holds) items.push([honest, [m.proof(honest, id, pf)]]);
    const res = items.length ? await block(chain, items) : (await chain.block(), []);
    // no squatter ever commits twice
    res.slice(0, retrying.length).forEach((r) => t.regex(r.log, /expire unrevealed and may not commit to, fulfil or be assigned it again/));
    const last = res.at(-1);
    if (mine === undefined && last?.code === 0) honestCommit = h;
    if (holds) {
      t.is(last?.code, 0, last?.log);
      paidAt = h;
    }
    // squatters whose commitment is gone (expired) are forfeited
    const now = new Set((await commitsOn(chain, id)).map((x) => x.prover));
    for (const k of squatters) if (!forfeitedAt.has(k.address) && live.some((x) => x.prover === k.address) && !now.has(k.address)) forfeitedAt.set(k.address, h);
    // once two have forfeited and the honest commitment queues: the state round-trips through genesis
    if (!roundTripped && forfeitedAt.size === 2 && honestCommit !== undefined && paidAt === undefined) {
      roundTripped = true;
      const { exported, again, broken } = roundTrip(chain);
      t.is((exported.fallback_forfeits as unknown[]).length, 2);
      t.true((exported.fallback_commits as { reveal_until_height?: string }[]).some((x) => (x.reveal_until_height ?? '0') === '0')); // queued (proto3 JSON omits 0)
      t.deepEqual(again, exported);
      t.deepEqual(broken, []);
    }
  }
  t.true(roundTripped);
  t.not(paidAt, undefined);
  // each squatter held the reveal for one full window in turn (a queued window starts when the one before expires)
  t.deepEqual(squatters.map((k) => forfeitedAt.get(k.address)), [1n, 2n, 3n, 4n].map((i) => c + i * WINDOW));
  // the bound of docs/protocol.md: an honest prover ready at c + 1 is paid by c + 1 + k (R + 1) + 1, k = 4
  t.true(paidAt! <= c + 1n + 4n * (WINDOW + 1n) + 1n, `paid at ${paidAt}, bound ${c + 1n + 4n * (WINDOW + 1n) + 1n}`);
  t.is(paidAt, c + 4n * WINDOW + 1n);
  const done = (await request(chain, id)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.is(done.history.at(-1)!.prover, honest.address);
  t.is(done.fallbackForfeits, 4);
  // the requester got the four forfeited deposits and the refund of its escrow above the fallback fee; the treasury
  // only the protocol fee; the honest prover the fee less 1 % and its deposit back
  const price = BigInt(done.paidPrice);
  t.true(price > 0n && price <= MAX_FEE);
  // (plus the unused part of its holding deposit, settled when the request ends)
  const got = (await balance(chain, requester.address)) - r0;
  t.true(got >= 4n * DEPOSIT + (MAX_FEE - price) && got <= 4n * DEPOSIT + (MAX_FEE - price) + BigInt(done.holdingDeposit), `requester got ${got}`);
  t.is(await balance(chain, TREASURY), tr0 + price / 100n);
  const honestTxs = BigInt(1 + Number(paidAt! - c)); // one tx a block from c on (commit tries, the commit, the reveal)
  t.true((await balance(chain, honest.address)) >= hb0 + price - price / 100n - honestTxs * FEE);
  t.is(await balance(chain, ESCROW), 0n);
  t.is(allForfeits(chain.app.modules.keepers.market.store(queryCtx(chain))).length, 0); // markers leave with the request
  t.is(await supply(chain), s0);
});

test('property: random squatters (how many, when) against an honest prover ready at a random height: it is paid within t + k (R + 1) + 1, each squatter forfeits at most once, to the requester; escrow empty and supply unchanged at the end', async (t) => {
  const [pf] = await getProofs();
  // a short window and two slots, so that slot-filling and queueing both happen in a few blocks
  const R = 3n;
  const g = defaultGenesis() as { market: { params: Record<string, string> } };
  g.market.params.fallback_reveal_blocks = R.toString();
  g.market.params.max_fallback_commits = '2';
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
    while (chain.app.height < hs) await chain.block();
    const r0 = await balance(chain, requester.address);
    const squatters = pool.slice(0, rnd(pool.length + 1)).map((k) => ({ k, from: c + BigInt(rnd(8)), committed: false, refused: 0 }));
    const ready = c + BigInt(rnd(7));
    let paidAt: bigint | undefined;
    for (let guard = 0; paidAt === undefined && guard < 80; guard++) {
      const h = chain.app.height + 1n;
      const live = await commitsOn(chain, id);
      const items: [RawKey, { typeUrl: string; value: Uint8Array }[]][] = [];
      // squatters go first in the block; one that committed and lost its commitment keeps trying (and is refused)
      const trying = squatters.filter((q) => h >= q.from && !live.some((l) => l.prover === q.k.address));
      for (const q of trying) items.push([q.k, [m.commit(q.k, id, pf, honest.address)]]);
      const mine = live.find((l) => l.prover === honest.address);
      const reveal = mine !== undefined && live[0].prover === honest.address && mine.height < h;
      if (h >= ready && mine === undefined) items.push([honest, [m.commit(honest, id, pf)]]);
      else if (reveal) items.push([honest, [m.proof(honest, id, pf)]]);
      const res = items.length ? await block(chain, items) : (await chain.block(), []);
      trying.forEach((q, i) => {
        if (res[i].code === 0) {
          t.false(q.committed, `squatter ${q.k.address} committed twice on request ${id}`);
          q.committed = true;
        } else if (q.committed) {
          t.regex(res[i].log, /expire unrevealed/);
          q.refused++;
        }
      });
      if (reveal) {
        t.is(res.at(-1)?.code, 0, res.at(-1)?.log);
        paidAt = h;
      }
    }
    const k = BigInt(squatters.filter((q) => q.committed).length);
    t.log(`trial ${trial}: ${squatters.length} squatters (${k} committed, ${squatters.reduce((n, q) => n + q.refused, 0)} refusals after forfeiting), honest ready at c+${ready - c}, paid at c+${paidAt! - c}, bound c+${ready + k * (R + 1n) + 1n - c}`);
    const done = (await request(chain, id)).request;
    t.is(done.status, S.REQUEST_STATUS_FULFILLED, `trial ${trial}`);
    t.is(done.history.at(-1)!.prover, honest.address);
    t.true(paidAt! <= ready + k * (R + 1n) + 1n, `trial ${trial}: k ${k}, ready ${ready}, paid ${paidAt}`);
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

test('a squatter committing in the same block ahead of an honest prover cannot run the honest window out', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await openToFallback(chain, requester);
  const c = chain.app.height + 1n;
  // the proposer (or a fee bid) puts the squatter's commitment first in the honest prover's block
  const res = await block(chain, [[p1, [m.commit(p1, 1n, pf, p2.address)]], [p2, [m.commit(p2, 1n, pf)]]]);
  t.deepEqual(res.map((r) => r.code), [0, 0]);
  t.deepEqual((await commitsOn(chain, 1n)).map((x) => [x.prover, x.revealUntilHeight]), [[p1.address, c + WINDOW], [p2.address, 0n]]);
  while (chain.app.height < c + WINDOW) await chain.block();
  // the squatter's window ran out: p2 now holds the reveal for a full window of its own (before this rule both
  // windows ended together and the honest deposit was forfeited too)
  const after = await commitsOn(chain, 1n);
  t.deepEqual(after.map((x) => [x.prover, x.revealUntilHeight]), [[p2.address, c + 2n * WINDOW]]);
  const b2 = await balance(chain, p2.address);
  const r = await block(chain, [[p2, [m.proof(p2, 1n, pf)]]]);
  t.is(r[0].code, 0, r[0].log);
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FULFILLED);
  t.is(await balance(chain, p2.address), b2 - FEE + MAX_FEE - MAX_FEE / 100n + DEPOSIT);
});

test('genesis refuses inconsistent fallback state: a queued commitment with a window, a forfeit that is not counted or on an ended request, a forfeiter with a live commitment', async (t) => {
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
  g4.fallback_commits.push({ ...g4.fallback_commits[0], id: '99', prover: p1.address, reveal_until_height: String(c + 30n) });
  g4.requests[0].fallback_commits = 2;
  g4.next_fallback_commit_id = '100';
  t.throws(init(g4), { message: /queues behind an earlier one on request 1 and must have reveal_until_height 0/ });
  const g5 = clone();
  g5.requests[0].status = 'REQUEST_STATUS_CANCELLED';
  g5.requests[0].fallback_commits = 0;
  g5.fallback_commits = [];
  t.throws(init(g5), { message: /request 1 has ended and keeps no fallback forfeits/ });
});
