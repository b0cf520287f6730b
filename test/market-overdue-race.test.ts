/**
 * The overdue race (docs/protocol.md "Overdue by its own record"): an assignment whose prover has delivered the circuit
 * before is open to the fallback race from assigned_height + ceil(overdue_race_bps x its average blocks to proof /
 * 10000) + overdue_race_slack_blocks, whatever the requester's patience, so a holder cannot sit on a request much
 * longer than it takes it to prove one. Pure arithmetic first, then the real app on LevelDB (invariants after every
 * block, real proofs).
 */
import test from 'ava';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { CIRCUIT, ESCROW, FEE, S, balance, bondedOf, failing, getProofs, m, ok, queryCtx, request, setup } from './helpers/market.js';
import { DEFAULT_PARAMS, OVERDUE_RACE_BPS, OVERDUE_RACE_MAX_BPS, OVERDUE_RACE_NEW_BPS, OVERDUE_RACE_PACE_BPS, OVERDUE_RACE_SLACK_BLOCKS } from '../modules/market/keys.js';
import { allCircuitPaces, circuitPace, circuitPaceProblem, recordPace } from '../modules/market/circuit-pace.js';
import { fallbackOpen, fallbackOpensAt, overdueHeight } from '../modules/market/penalties.js';
import { validateParams } from '../modules/market/genesis.js';
import { defaultGenesis } from '../genesis/index.js';
import { describeRequest } from '../cli/request.js';
import { describeHistoryEntry } from '../src/client/describe.js';
import { QueryStatsRequest, QueryStatsResponse, RequestStatus, type Assignment, type Request } from '../src/gen/proofbook/market/v1/market.js';
import type { MarketKeeperImpl } from '../modules/market/index.js';
import { createModules } from '../app/modules.js';
import { Context } from '../src/framework/context.js';
import { SortedArrayKV } from './bank-kv.js';
import type { TestChain } from './helpers/chain.js';
import type { RawKey } from '../src/client/sign.js';

test.after.always(() => terminateSnarkjs());

const PRICE = 1000n;
const MAX_FEE = 8000n;
const COLLATERAL = 2n * PRICE; // collateral_ratio_bps 20000
const rec = (fulfilled: bigint, avgBlocks: number) => ({ fulfilled, avgBlocksToProofMilli: BigInt(Math.round(avgBlocks * 1000)) });
// the record's height uncapped (overdue_race_max_bps 0) unless a case says otherwise
const ON = { overdueRaceBps: 20_000n, overdueRaceSlackBlocks: 2n, overdueRaceNewBps: 5_000n, overdueRaceMaxBps: 0n, overdueRacePaceBps: 0n };

test('overdueHeight: assigned + ceil(bps x avg / 10000) + slack, without a record accept_until + ceil(new_bps x window / 10000); never inside the accept phase; 0 when off or not before the deadline', (t) => {
  t.is(OVERDUE_RACE_BPS, 20_000n);
  t.is(OVERDUE_RACE_SLACK_BLOCKS, 2n);
  t.is(OVERDUE_RACE_NEW_BPS, 5_000n);
  t.is(overdueHeight(ON, rec(3n, 5), undefined, 100n, 103n, 200n), 100n + 10n + 2n);
  t.is(overdueHeight(ON, rec(1n, 2.5), undefined, 100n, 103n, 200n), 100n + 5n + 2n);
  t.is(overdueHeight(ON, rec(1n, 2.501), undefined, 100n, 103n, 200n), 100n + 6n + 2n, 'rounded up: 5.002 blocks is 6');
  t.is(overdueHeight({ ...ON, overdueRaceBps: 30_000n }, rec(1n, 4), undefined, 100n, 103n, 200n), 100n + 12n + 2n);
  t.is(overdueHeight(ON, rec(5n, 0.2), undefined, 100n, 103n, 200n), 104n, 'a fast record still waits out the accept phase');
  t.is(overdueHeight(ON, rec(0n, 0), undefined, 100n, 103n, 200n), 103n + 49n, 'no delivery of the circuit: half the proving window (97 blocks, rounded up)');
  t.is(overdueHeight({ ...ON, overdueRaceNewBps: 0n }, rec(0n, 0), undefined, 100n, 103n, 200n), 0n, 'overdue_race_new_bps 0: a prover without a record is never raced');
  t.is(overdueHeight({ ...ON, overdueRaceNewBps: 10_000n }, rec(0n, 0), undefined, 100n, 103n, 200n), 0n, 'the whole window: the deadline, the miss comes first');
  t.is(overdueHeight({ ...ON, overdueRaceNewBps: 1n }, rec(0n, 0), undefined, 100n, 103n, 200n), 104n);
  t.is(overdueHeight({ ...ON, overdueRaceBps: 0n }, rec(9n, 5), undefined, 100n, 103n, 200n), 0n, 'off');
  t.is(overdueHeight(ON, rec(2n, 49), undefined, 100n, 103n, 200n), 0n, 'at or past the deadline the miss comes first');
  t.is(overdueHeight(ON, rec(2n, 48.5), undefined, 100n, 103n, 200n), 199n);
});

test('overdueHeight: a record is never overdue later than accept_until + ceil(overdue_race_max_bps x window / 10000), so a record slowed on purpose buys no more than a new prover gets', (t) => {
  t.is(OVERDUE_RACE_MAX_BPS, 5_000n);
  const CAP = { ...ON, overdueRaceMaxBps: 5_000n };
  // window 97 (103..200): the cap is 103 + ceil(48.5) = 152
  t.is(overdueHeight(CAP, rec(2n, 48.5), undefined, 100n, 103n, 200n), 152n, 'a record of 48.5 blocks (uncapped: 199) is raced from half the window');
  t.is(overdueHeight(CAP, rec(2n, 49), undefined, 100n, 103n, 200n), 152n, 'a record past the deadline (uncapped: never raced) is raced from half the window');
  t.is(overdueHeight(CAP, rec(2n, 30), undefined, 100n, 103n, 200n), 152n, 'assigned + 62 passes the cap');
  t.is(overdueHeight(CAP, rec(2n, 24), undefined, 100n, 103n, 200n), 150n, 'assigned + 48 + 2 is under the cap: the record decides');
  t.is(overdueHeight(CAP, rec(3n, 5), undefined, 100n, 103n, 200n), 112n, 'a fast record is untouched');
  t.is(overdueHeight(CAP, rec(0n, 0), undefined, 100n, 103n, 200n), 152n, 'without a record: overdue_race_new_bps, as before');
  t.is(overdueHeight({ ...CAP, overdueRaceNewBps: 0n }, rec(0n, 0), undefined, 100n, 103n, 200n), 0n, 'the cap does not race a prover without a record when overdue_race_new_bps is 0');
  t.is(overdueHeight({ ...CAP, overdueRaceMaxBps: 10_000n }, rec(2n, 49), undefined, 100n, 103n, 200n), 0n, 'a cap of the whole window is the deadline: no race');
  t.is(overdueHeight({ ...CAP, overdueRaceMaxBps: 1n }, rec(2n, 24), undefined, 100n, 103n, 200n), 104n, 'never inside the accept phase');
  t.is(overdueHeight({ ...CAP, overdueRaceBps: 0n }, rec(2n, 49), undefined, 100n, 103n, 200n), 0n, 'off is off');
});

test("overdueHeight without a record: the circuit's pace when earlier than the window's share, assigned + ceil(pace_bps x pace / 10000) + slack; a slowed pace gives back only the window's share; a record ignores the pace", (t) => {
  t.is(OVERDUE_RACE_PACE_BPS, 0n, 'off by default (docs/mechanism.md "The circuit\'s pace")');
  const P = { ...ON, overdueRaceMaxBps: 5_000n, overdueRacePaceBps: 20_000n };
  const pace = (blocks: number) => ({ avgBlocksToProofMilli: BigInt(Math.round(blocks * 1000)) });
  // window 97 (103..200): the new-prover height is 103 + ceil(48.5) = 152
  t.is(overdueHeight(P, rec(0n, 0), pace(5), 100n, 103n, 200n), 112n, 'assigned + 2 x 5 + 2');
  t.is(overdueHeight(P, rec(0n, 0), pace(2.501), 100n, 103n, 200n), 108n, 'rounded up: 5.002 blocks is 6');
  t.is(overdueHeight(P, rec(0n, 0), pace(30), 100n, 103n, 200n), 152n, "a slow (or padded) pace: the window's share, as before");
  t.is(overdueHeight(P, rec(0n, 0), undefined, 100n, 103n, 200n), 152n, 'no assigned delivery of the circuit yet: no pace');
  t.is(overdueHeight({ ...P, overdueRacePaceBps: 0n }, rec(0n, 0), pace(5), 100n, 103n, 200n), 152n, 'overdue_race_pace_bps 0: the rule before');
  t.is(overdueHeight({ ...P, overdueRacePaceBps: 30_000n }, rec(0n, 0), pace(5), 100n, 103n, 200n), 117n, 'three times the pace');
  t.is(overdueHeight(P, rec(0n, 0), pace(0.2), 100n, 103n, 200n), 104n, 'never inside the accept phase');
  t.is(overdueHeight({ ...P, overdueRaceNewBps: 0n }, rec(0n, 0), pace(5), 100n, 103n, 200n), 0n, 'overdue_race_new_bps 0: a prover without a record is never raced, pace or not');
  t.is(overdueHeight(P, rec(2n, 10), pace(1), 100n, 103n, 200n), 122n, 'a record decides for its own prover, however fast the pace');
  t.is(overdueHeight({ ...P, overdueRaceBps: 0n }, rec(0n, 0), pace(5), 100n, 103n, 200n), 0n, 'off is off');
});

test("recordPace: the circuit's first assigned delivery sets the pace, each later one moves it by an eighth; genesis refuses a pace without a circuit id or a delivery", (t) => {
  const kv = new SortedArrayKV();
  const [c1, c2] = ['11'.repeat(32), '22'.repeat(32)];
  t.is(circuitPace(kv, c1), undefined);
  recordPace(kv, c1, 5n);
  t.deepEqual(circuitPace(kv, c1), { circuitId: c1, deliveries: 1n, avgBlocksToProofMilli: 5000n });
  recordPace(kv, c1, 13n);
  t.deepEqual(circuitPace(kv, c1), { circuitId: c1, deliveries: 2n, avgBlocksToProofMilli: 6000n }, '(7 x 5000 + 13000) / 8');
  recordPace(kv, c2, 1n);
  t.deepEqual(allCircuitPaces(kv).map((p) => [p.circuitId, p.deliveries]), [[c1, 2n], [c2, 1n]]);
  t.is(circuitPaceProblem({ circuitId: c1, deliveries: 1n, avgBlocksToProofMilli: 0n }), undefined);
  t.regex(circuitPaceProblem({ circuitId: '', deliveries: 1n, avgBlocksToProofMilli: 1n })!, /circuit_id must be 64 lowercase hex characters, got ""/);
  t.regex(circuitPaceProblem({ circuitId: 'AB'.repeat(32), deliveries: 1n, avgBlocksToProofMilli: 1n })!, /circuit_id must be 64 lowercase hex/);
  t.regex(circuitPaceProblem({ circuitId: c1, deliveries: 0n, avgBlocksToProofMilli: 1n })!, /has no deliveries/);
});

test('fallbackOpensAt: the earlier of the patience and the assignment\'s overdue height; the overdue height binds an ASSIGNED request only', (t) => {
  const asg = (overdue: bigint): Assignment => ({ prover: 'p', askId: 1n, price: '1', collateral: '2', assignedHeight: 10n, deadlineHeight: 60n, acceptUntilHeight: 13n, overdueHeight: overdue });
  const r = (patience: bigint, overdue: bigint, status = RequestStatus.REQUEST_STATUS_ASSIGNED) =>
    ({ fallbackAfterBlocks: patience, submittedHeight: 10n, status, assignment: asg(overdue) }) as Pick<Request, 'fallbackAfterBlocks' | 'submittedHeight' | 'status' | 'assignment'>;
  t.is(fallbackOpensAt(r(0n, 0n)), undefined);
  t.is(fallbackOpensAt(r(0n, 22n)), 22n);
  t.is(fallbackOpensAt(r(20n, 22n)), 22n, 'patience 30 later than the overdue height');
  t.is(fallbackOpensAt(r(8n, 22n)), 18n, 'patience first');
  t.is(fallbackOpensAt(r(1n, 22n)), 14n, 'patience never inside the accept phase');
  t.is(fallbackOpensAt(r(0n, 22n, RequestStatus.REQUEST_STATUS_OPEN)), undefined, 'an OPEN request has no assignment to be overdue');
  const full = { ...r(0n, 22n), id: 1n } as Request;
  t.false(fallbackOpen(full, 21n));
  t.true(fallbackOpen(full, 22n));
});

test('describeHistoryEntry: the assignment in force says its deadline and the height it may be raced from; an earlier one, or none, says neither', (t) => {
  const e = { height: 10n, event: 'assigned', prover: 'p1', amount: '1000', compensation: '', status: RequestStatus.REQUEST_STATUS_ASSIGNED };
  const live = { prover: 'p1', assignedHeight: 10n, deadlineHeight: 53n, overdueHeight: 33n };
  t.is(describeHistoryEntry(e, live), "height 10: assigned to p1 at price 1000; deadline height 53, open to any prover's race from height 33 if not delivered by then");
  t.is(describeHistoryEntry(e, { ...live, overdueHeight: 0n }), 'height 10: assigned to p1 at price 1000; deadline height 53');
  t.is(describeHistoryEntry(e, { ...live, assignedHeight: 20n }), 'height 10: assigned to p1 at price 1000', 'an earlier assignment of the same prover');
  t.is(describeHistoryEntry(e, { ...live, prover: 'p2' }), 'height 10: assigned to p1 at price 1000');
  t.is(describeHistoryEntry(e), 'height 10: assigned to p1 at price 1000');
});

test('validateParams: overdue_race_bps and overdue_race_pace_bps are 0 (off) or 10000..1000000; overdue_race_slack_blocks at most 1000; overdue_race_new_bps and overdue_race_max_bps at most 10000', (t) => {
  t.notThrows(() => validateParams(DEFAULT_PARAMS));
  t.notThrows(() => validateParams({ ...DEFAULT_PARAMS, overdueRaceBps: 0n }));
  t.notThrows(() => validateParams({ ...DEFAULT_PARAMS, overdueRaceBps: 10_000n }));
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, overdueRaceBps: 9_999n }), { message: /overdue_race_bps must be 0 \(off\) or at least 10000/ });
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, overdueRaceBps: 1_000_001n }), { message: /overdue_race_bps must be at most 1000000/ });
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, overdueRaceSlackBlocks: 1001n }), { message: /overdue_race_slack_blocks must be at most 1000/ });
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, overdueRaceNewBps: 10_001n }), { message: /overdue_race_new_bps must be at most 10000/ });
  t.notThrows(() => validateParams({ ...DEFAULT_PARAMS, overdueRaceMaxBps: 0n }));
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, overdueRaceMaxBps: 10_001n }), { message: /overdue_race_max_bps must be at most 10000/ });
  t.notThrows(() => validateParams({ ...DEFAULT_PARAMS, overdueRacePaceBps: 0n }));
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, overdueRacePaceBps: 9_999n }), { message: /overdue_race_pace_bps must be 0 \(off\) or at least 10000/ });
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, overdueRacePaceBps: 1_000_001n }), { message: /overdue_race_pace_bps must be at most 1000000/ });
});

/** The market/indexes invariant on a fresh store holding the chain's market genesis, request 2's assignment edited by `edit`. */
function indexesAfterImport(chain: TestChain, edit: (a: Record<string, string>) => Record<string, string>): string[] {
  const market = chain.app.modules.modules.find((x) => x.name === 'market')!;
  const g = JSON.parse(JSON.stringify(market.exportGenesis!(queryCtx(chain)))) as { requests: { id: string; assignment?: Record<string, string> }[] };
  for (const r of g.requests) if (r.id === '2' && r.assignment) r.assignment = edit(r.assignment);
  const market2 = createModules().modules.find((x) => x.name === 'market')!;
  const ctx2 = new Context(new SortedArrayKV(), { chainId: 'x', height: chain.app.height, timeSeconds: 0n }, 'genesis');
  market2.initGenesis!(ctx2, g);
  return market2.invariants!.filter((i) => i.name === 'market/indexes').map((i) => i.check(ctx2)).filter((x): x is string => x !== undefined);
}

/**
 * p1 (ask PRICE, one unit) delivers request 1 `took` blocks after its assignment: its record of the circuit. Then
 * request 2 (no patience, window 40) is assigned to p1 and p1 sits on it.
 */
async function heldAfterRecord(chain: TestChain, requester: RawKey, p1: RawKey, took: bigint) {
  const [pf0] = await getProofs();
  await ok(chain, p1, m.ask(p1, PRICE, 1n));
  const { height: h1 } = await ok(chain, requester, m.request(requester, { maxFee: MAX_FEE, window: 40n, expiry: chain.app.height + 300n }));
  const first = (await request(chain, 1n)).request.assignment!;
  while (chain.app.height < h1 + took - 1n) await chain.block();
  const { height: hd } = await ok(chain, p1, m.proof(p1, 1n, pf0));
  if (hd - h1 !== took) throw new Error(`delivered after ${hd - h1} blocks, not ${took}`);
  const res = await ok(chain, requester, m.request(requester, { maxFee: MAX_FEE, window: 40n, expiry: chain.app.height + 300n, input: 1 }));
  const r = (await request(chain, 2n)).request;
  if (r.status !== S.REQUEST_STATUS_ASSIGNED || r.assignment?.prover !== p1.address) throw new Error('request 2 not assigned to p1');
  return { first, asg: r.assignment, assignedIn: res };
}

test('a prover that delivered the circuit in 5 blocks and sits on its next assignment is raced from assigned + 2 x 5 + 2: the racer is paid, the holder slashed as a release, not jailed', async (t) => {
  const [, pf1] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  const { first, asg, assignedIn } = await heldAfterRecord(chain, requester, p1, 5n);
  // its first assignment of the circuit, without a record: open to the race from halfway through the 40-block window
  t.is(first.overdueHeight, first.acceptUntilHeight + 20n);
  // the held assignment travels in the genesis export; market/indexes refuses an overdue height inside the accept phase
  t.deepEqual(indexesAfterImport(chain, (a) => a), []);
  t.regex(indexesAfterImport(chain, (a) => ({ ...a, overdue_height: a.accept_until_height })).join(), /request 2: overdue height \d+ outside/);
  t.regex(indexesAfterImport(chain, (a) => ({ ...a, overdue_height: a.deadline_height })).join(), /request 2: overdue height \d+ outside/);
  const keeper = chain.app.modules.keepers.market as MarketKeeperImpl;
  t.is(keeper.reputation(queryCtx(chain), p1.address as any, CIRCUIT).avgBlocksToProofMilli, 5000n);
  const opens = asg.assignedHeight + 10n + 2n;
  t.is(asg.overdueHeight, opens);
  t.true(opens > asg.acceptUntilHeight + 1n && opens < asg.deadlineHeight);
  const ev = assignedIn.events.find((e) => e.type === 'proofbook.market.request_assigned')!;
  t.is(ev.attributes.find((a) => a.key === 'overdue_at')?.value, opens.toString());
  // no patience: until the overdue height nobody may race it
  while (chain.app.height + 1n < opens) {
    t.is((await request(chain, 2n)).fallbackFee, undefined);
    t.regex((await failing(chain, p2, m.commit(p2, 2n, pf1))).result.log, new RegExp(`not open to the fallback \\(its fallback opens at height ${opens}\\)`));
  }
  const quoted = await request(chain, 2n);
  t.not(quoted.fallbackFee, undefined);
  t.true(quoted.outraceBounty! > 0n);
  t.regex(describeRequest(quoted.request, quoted.currentFee, [], quoted.fallbackFee, quoted.outraceBounty), new RegExp(`overdue: +from height ${opens} \\(overdue by its prover's record of the circuit, or a share of the window\\)`));
  // the history line of the assignment in force says when it may be raced (request status, waitForProof's onEvent)
  t.regex(describeRequest(quoted.request, quoted.currentFee, []), new RegExp(`assigned to ${p1.address} at price ${PRICE}; deadline height ${asg.deadlineHeight}, open to any prover's race from height ${opens} if not delivered by then`));
  const { height: hc } = await ok(chain, p2, m.commit(p2, 2n, pf1));
  const b2 = await balance(chain, p2.address);
  const { height: hr } = await ok(chain, p2, m.proof(p2, 2n, pf1));
  const done = (await request(chain, 2n)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  const outraced = done.history.find((e) => e.event === 'outraced')!;
  t.is(outraced.prover, p1.address);
  const slash = (COLLATERAL * (1000n + (9000n * (hr - asg.acceptUntilHeight)) / (asg.deadlineHeight - asg.acceptUntilHeight)) + 9999n) / 10000n;
  t.is(outraced.amount, slash.toString());
  // the racer: the fee its commitment locked (ramping from the assignment's price from the height the race opened), less
  // the protocol fee, plus the bounty share of the holder's slash, plus its deposit back, less its tx fee
  const locked = PRICE + ((MAX_FEE - PRICE) * (hc - opens)) / DEFAULT_PARAMS.fallbackRampBlocks;
  t.is(done.paidPrice, locked.toString());
  t.is(await balance(chain, p2.address), b2 - FEE + locked - locked / 100n + slash / 4n + BigInt(DEFAULT_PARAMS.fallbackCommitDeposit));
  t.is((await bondedOf(chain, p1.address)).locked, 0n);
  t.false(chain.app.modules.keepers.bond.isJailed(queryCtx(chain), p1.address as any));
  t.is(await balance(chain, ESCROW), 0n);
});

test('overdue_race_bps 0 (the rule before): the same held assignment is never raced before its deadline, and carries no overdue height', async (t) => {
  const [, pf1] = await getProofs();
  const g = defaultGenesis() as any;
  g.market.params = { ...g.market.params, overdue_race_bps: '0' };
  const { chain, requester, p1, p2 } = await setup(g);
  t.teardown(() => chain.close());
  const { first, asg } = await heldAfterRecord(chain, requester, p1, 5n);
  t.is(first.overdueHeight, 0n);
  t.is(asg.overdueHeight, 0n);
  while (chain.app.height < asg.assignedHeight + 20n) {
    t.regex((await failing(chain, p2, m.commit(p2, 2n, pf1))).result.log, /is ASSIGNED and not open to the fallback: /);
  }
});

test('a prover without a delivery of the circuit that sits on its first assignment is raced from halfway through its proving window', async (t) => {
  const [pf0] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, PRICE, 1n));
  await ok(chain, requester, m.request(requester, { maxFee: MAX_FEE, window: 30n, expiry: chain.app.height + 300n }));
  const asg = (await request(chain, 1n)).request.assignment!;
  const opens = asg.acceptUntilHeight + 15n;
  t.is(asg.overdueHeight, opens);
  while (chain.app.height + 1n < opens) {
    t.regex((await failing(chain, p2, m.commit(p2, 1n, pf0))).result.log, new RegExp(`its fallback opens at height ${opens}`));
  }
  await ok(chain, p2, m.commit(p2, 1n, pf0));
  await ok(chain, p2, m.proof(p2, 1n, pf0));
  const done = (await request(chain, 1n)).request;
  t.is(done.status, S.REQUEST_STATUS_FULFILLED);
  t.is(done.history.find((e) => e.event === 'outraced')?.prover, p1.address);
  // the racer now has a record of the circuit (a fallback delivery counts), the holder still none
  const keeper = chain.app.modules.keepers.market as MarketKeeperImpl;
  t.is(keeper.reputation(queryCtx(chain), p2.address as any, CIRCUIT).fulfilled, 1n);
  t.is(keeper.reputation(queryCtx(chain), p1.address as any, CIRCUIT).fulfilled, 0n);
});

test('a record slowed on purpose (p1 delivers its first job the block before it could be raced) is still raced from half the window; without the cap (overdue_race_max_bps 0) it would never be', async (t) => {
  const [, pf1] = await getProofs();
  for (const cap of [true, false]) {
    const g = defaultGenesis() as any;
    if (!cap) g.market.params = { ...g.market.params, overdue_race_max_bps: '0' };
    const { chain, requester, p1, p2 } = await setup(g);
    const { first, asg } = await heldAfterRecord(chain, requester, p1, 22n);
    // the padding delivery came in before its own overdue height (no race), and made a 22-block record
    t.true(first.assignedHeight + 22n < first.overdueHeight);
    const keeper = chain.app.modules.keepers.market as MarketKeeperImpl;
    t.is(keeper.reputation(queryCtx(chain), p1.address as any, CIRCUIT).avgBlocksToProofMilli, 22_000n);
    // by the record alone: assigned + 2 x 22 + 2 = assigned + 46, past the deadline (assigned + accept + 40)
    t.true(asg.assignedHeight + 46n >= asg.deadlineHeight);
    if (!cap) {
      t.is(asg.overdueHeight, 0n, 'uncapped: a padded record is never overdue inside the window');
      await chain.close();
      continue;
    }
    const opens = asg.acceptUntilHeight + 20n;
    t.is(asg.overdueHeight, opens, 'capped: half the 40-block window, as for a prover without a record');
    while (chain.app.height + 1n < opens) await chain.block();
    await ok(chain, p2, m.commit(p2, 2n, pf1));
    await ok(chain, p2, m.proof(p2, 2n, pf1));
    t.is((await request(chain, 2n)).request.history.find((e) => e.event === 'outraced')?.prover, p1.address);
    await chain.close();
  }
});

test("overdue_race_pace_bps 20000: a prover without a record of the circuit is held to the circuit's pace: p1 delivered in 5 blocks, so newcomer p2 sitting on its first assignment is raced from assigned + 2 x 5 + 2, not half the window; the racer's delivery leaves the pace; the pace is in Stats and travels in the genesis export", async (t) => {
  const [pf0, pf1] = await getProofs();
  for (const paced of [true, false]) {
    const g = defaultGenesis() as any;
    if (paced) g.market.params = { ...g.market.params, overdue_race_pace_bps: '20000' };
    const { chain, requester, p1, p2 } = await setup(g);
    await ok(chain, p1, m.ask(p1, PRICE, 1n));
    const { height: h1 } = await ok(chain, requester, m.request(requester, { maxFee: MAX_FEE, window: 40n, expiry: chain.app.height + 300n }));
    while (chain.app.height < h1 + 4n) await chain.block();
    const { height: hd } = await ok(chain, p1, m.proof(p1, 1n, pf0));
    t.is(hd - h1, 5n);
    const keeper = chain.app.modules.keepers.market as MarketKeeperImpl;
    t.deepEqual(circuitPace(keeper.store(queryCtx(chain)), CIRCUIT), { circuitId: CIRCUIT, deliveries: 1n, avgBlocksToProofMilli: 5000n });
    // p2, cheaper and without a delivery of the circuit, wins request 2 and sits on it
    await ok(chain, p2, m.ask(p2, PRICE - 100n, 1n));
    await ok(chain, requester, m.request(requester, { maxFee: MAX_FEE, window: 40n, expiry: chain.app.height + 300n, input: 1 }));
    const asg = (await request(chain, 2n)).request.assignment!;
    t.is(asg.prover, p2.address);
    if (!paced) {
      t.is(asg.overdueHeight, asg.acceptUntilHeight + 20n, 'overdue_race_pace_bps 0 (the default): half the 40-block window, the pace tracked all the same');
      await chain.close();
      continue;
    }
    const opens = asg.assignedHeight + 2n * 5n + 2n;
    t.is(asg.overdueHeight, opens);
    t.true(opens < asg.acceptUntilHeight + 20n);
    const stats = QueryStatsResponse.decode((await chain.query('/proofbook.market.v1.Query/Stats', QueryStatsRequest.encode({ circuitId: CIRCUIT }).finish())).value);
    t.is(stats.stats[0].paceBlocksToProofMilli, 5000n);
    while (chain.app.height + 1n < opens) t.regex((await failing(chain, p1, m.commit(p1, 2n, pf1))).result.log, new RegExp(`its fallback opens at height ${opens}`));
    await ok(chain, p1, m.commit(p1, 2n, pf1));
    await ok(chain, p1, m.proof(p1, 2n, pf1));
    const done = (await request(chain, 2n)).request;
    t.is(done.status, S.REQUEST_STATUS_FULFILLED);
    t.is(done.history.find((e) => e.event === 'outraced')?.prover, p2.address);
    t.is(circuitPace(keeper.store(queryCtx(chain)), CIRCUIT)?.deliveries, 1n, "a racer's delivery runs from submission: not counted");
    // the genesis export carries the pace; a fresh chain imports it, and refuses it twice
    const market = chain.app.modules.modules.find((x) => x.name === 'market')!;
    const exported = JSON.parse(JSON.stringify(market.exportGenesis!(queryCtx(chain)))) as Record<string, unknown>;
    t.deepEqual(exported.circuit_paces, [{ circuit_id: CIRCUIT, deliveries: '1', avg_blocks_to_proof_milli: '5000' }]);
    const fresh = () => {
      const market2 = createModules().modules.find((x) => x.name === 'market')!;
      const ctx2 = new Context(new SortedArrayKV(), { chainId: 'x', height: chain.app.height, timeSeconds: 0n }, 'genesis');
      return { market2, ctx2 };
    };
    const { market2, ctx2 } = fresh();
    market2.initGenesis!(ctx2, exported);
    t.deepEqual(JSON.parse(JSON.stringify(market2.exportGenesis!(ctx2))), exported);
    const twice = { ...exported, circuit_paces: [...(exported.circuit_paces as unknown[]), ...(exported.circuit_paces as unknown[])] };
    const again = fresh();
    t.throws(() => again.market2.initGenesis!(again.ctx2, twice), { message: /circuit_paces: [0-9a-f]+ appears twice/ });
    await chain.close();
  }
});
