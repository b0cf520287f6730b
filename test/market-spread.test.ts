/**
 * The spread allocation on the real app (docs/mechanism.md "The spread rule"): each request goes to the ask within the
 * band with the least price + the spread penalty x its prover's share of the chain's last 128 assignments, the penalty
 * moved by its controller toward the HHI target (spread-penalty.ts). Signed
 * txs through the ABCI app, every module invariant (market/recent-winners included) checked after every block.
 */
import test from 'ava';
import { defaultGenesis } from '../genesis/index.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { SPREAD_PENALTY, SPREAD_WINDOW, exportMarketGenesis, initMarketGenesis, validateParams, DEFAULT_PARAMS, type MarketKeeperImpl } from '../modules/market/index.js';
import { recentCounts, recentWinners } from '../modules/market/recent-winners.js';
import { SPREAD_MIN_SAMPLE, SPREAD_PENALTY_CAP, nextSpreadPenalty, spreadPenaltyInForce, storedSpreadPenalty, windowHhi } from '../modules/market/spread-penalty.js';
import { Context } from '../src/framework/context.js';
import { QuerySpreadRequest, QuerySpreadResponse } from '../src/gen/proofbook/market/v1/market.js';
import { CacheKV } from '../src/store/cache.js';
import { m, queryCtx, rawBlockChecked, request, setup } from './helpers/market.js';

test.after.always(() => terminateSnarkjs());

/** Two provers, asks 5,000 and 5,300 (capacity 20 each); then `n` requests, one per block; who won each, at what price. */
async function run(n: number, appState?: Parameters<typeof setup>[0]) {
  const { chain, requester, p1, p2 } = await setup(appState);
  await rawBlockChecked(chain, [[p1, [m.ask(p1, 5000n, 20n)]], [p2, [m.ask(p2, 5300n, 20n)]]]);
  const won: string[] = [];
  const prices: bigint[] = [];
  for (let i = 1; i <= n; i++) {
    await rawBlockChecked(chain, [[requester, [m.request(requester, { maxFee: 9000n, expiry: chain.app.height + 100n })]]]);
    const a = (await request(chain, BigInt(i))).request.assignment!;
    won.push(a.prover === p1.address ? 'p1' : a.prover === p2.address ? 'p2' : a.prover);
    prices.push(BigInt(a.price));
  }
  return { chain, p1, p2, won, prices };
}

test('spread: the cheaper prover yields a request once its recent wins cost more than the 300 uproof between the asks', async (t) => {
  t.is(SPREAD_PENALTY, '15000');
  t.is(SPREAD_WINDOW, 128n);
  const { chain, p1, p2, won, prices } = await run(8);
  t.teardown(() => chain.close());
  // p1 keeps a request while 15,000 x (its wins - p2's) / 128 < 300, i.e. while it leads by at most 2
  t.deepEqual(won, ['p1', 'p1', 'p1', 'p2', 'p1', 'p2', 'p1', 'p2']);
  // one request a block: greedy's price is p1's own next unit (5,000); a deal to p2 pays its ask (within the 50 % band)
  t.deepEqual(prices, [5000n, 5000n, 5000n, 5300n, 5000n, 5300n, 5000n, 5300n]);
  // the window, oldest first, in state and in the genesis export; an import replays it (export -> import -> export)
  const keeper = chain.app.modules.keepers.market as MarketKeeperImpl;
  const names = (xs: string[]) => xs.map((x) => (x === p1.address ? 'p1' : x === p2.address ? 'p2' : x));
  t.deepEqual(names(recentWinners(keeper.store(queryCtx(chain)))), won);
  const exported = exportMarketGenesis(queryCtx(chain), keeper) as { recent_winners: string[] };
  t.deepEqual(names(exported.recent_winners), won);
  const fresh = new Context(new CacheKV({ get: () => undefined, has: () => false, iterate: function* () {} }), { chainId: 'x', height: 0n, timeSeconds: 0n }, 'genesis');
  initMarketGenesis(fresh, JSON.parse(JSON.stringify(exported)), keeper);
  t.deepEqual(exportMarketGenesis(fresh, keeper), exported);
  // an import longer than the window, or with a non-address, is refused
  const again = () => new Context(new CacheKV({ get: () => undefined, has: () => false, iterate: function* () {} }), { chainId: 'x', height: 0n, timeSeconds: 0n }, 'genesis');
  const tooMany = { ...exported, recent_winners: Array.from({ length: Number(SPREAD_WINDOW) + 1 }, () => p1.address) };
  t.throws(() => initMarketGenesis(again(), tooMany, keeper), { message: /129 recent winners, the window holds 128/ });
  t.throws(() => initMarketGenesis(again(), { ...exported, recent_winners: ['nope'] }, keeper), { message: /recent winner "nope" is not an address/ });
});

test('spread: params.spread_penalty 0 is greedy (every request to the cheapest ask); spread_free_wins delays the penalty', async (t) => {
  const withParams = (market: Record<string, unknown>) => {
    const g = defaultGenesis() as any;
    g.market.params = { ...g.market.params, ...market };
    return g;
  };
  const greedy = await run(6, withParams({ spread_penalty: '0' }));
  t.teardown(() => greedy.chain.close());
  t.deepEqual(greedy.won, ['p1', 'p1', 'p1', 'p1', 'p1', 'p1']);
  t.deepEqual(greedy.prices, [5000n, 5000n, 5000n, 5000n, 5000n, 5000n]);
  // 2 free wins each: only wins beyond 2 count, so p1 takes 5 requests before yielding (3 without), then p2 takes
  // three until its own count passes 2
  const free = await run(8, withParams({ spread_free_wins: '2' }));
  t.teardown(() => free.chain.close());
  t.deepEqual(free.won, ['p1', 'p1', 'p1', 'p1', 'p1', 'p2', 'p2', 'p2']);
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, spreadPenalty: '-1' }), { message: /spread_penalty must be a non-negative integer/ });
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, spreadFreeWins: SPREAD_WINDOW + 1n }), { message: /spread_free_wins must be at most the window, 128/ });
});

/** Two provers, asks 5,000 and 5,600 (capacity 60 each), then 8 requests a block for `blocks` blocks, with `params`. */
async function controllerRun(blocks: number, params: Record<string, unknown> = {}, each?: (kv: ReturnType<MarketKeeperImpl['store']>) => void) {
  const g = defaultGenesis() as any;
  g.market.params = { ...g.market.params, ...params };
  const { chain, requester, p1, p2 } = await setup(g);
  const keeper = chain.app.modules.keepers.market as MarketKeeperImpl;
  await rawBlockChecked(chain, [[p1, [m.ask(p1, 5000n, 60n)]], [p2, [m.ask(p2, 5600n, 60n)]]]);
  for (let b = 0; b < blocks; b++) {
    const msgs = Array.from({ length: 8 }, () => m.request(requester, { maxFee: 9000n, expiry: chain.app.height + 100n }));
    await rawBlockChecked(chain, [[requester, msgs]]);
    each?.(keeper.store(queryCtx(chain)));
  }
  return { chain, keeper, p1, kv: () => keeper.store(queryCtx(chain)) };
}

test('spread: the controller moves the penalty toward the HHI target after each block that assigned work, once the window holds 32; the auction deals with it; it travels in the genesis export', async (t) => {
  t.is(DEFAULT_PARAMS.spreadTargetHhiBps, 2200n);
  t.is(DEFAULT_PARAMS.spreadAdjustBps, 1250n);
  let expected: bigint | undefined;
  const seen: (bigint | undefined)[] = [];
  let block = 0;
  const { chain, keeper, p1, kv } = await controllerRun(6, {}, (store) => {
    const { n, hhiBps } = windowHhi(recentCounts(store).values());
    t.is(n, BigInt(8 * ++block), 'every request of the block was assigned');
    // two provers hold the window: HHI about 0.5, far above 0.22, so each step is a full 12.5 % up
    if (n >= SPREAD_MIN_SAMPLE) {
      t.true(hhiBps > 4000n, `${hhiBps}`);
      expected = nextSpreadPenalty(expected ?? 15_000n, hhiBps, 2200n, 1250n, 15_000n * SPREAD_PENALTY_CAP);
    }
    t.is(storedSpreadPenalty(store), expected, `block ${block}: the penalty in force`);
    seen.push(storedSpreadPenalty(store));
  });
  t.teardown(() => chain.close());
  // 8, 16, 24 assignments: no step; 32: 15,000 -> 16,875; 40: 18,984; 48: 21,357 (each + 12.5 %, truncated)
  t.deepEqual(seen, [undefined, undefined, undefined, 16_875n, 18_984n, 21_357n]);
  t.is(spreadPenaltyInForce(kv(), keeper.params(queryCtx(chain))), 21_357n);
  // the Spread query tells provers the same: the penalty, the window's size, HHI and target, each prover's wins
  const q = await chain.query('/proofbook.market.v1.Query/Spread', QuerySpreadRequest.encode({}).finish());
  t.is(q.code, 0, q.log);
  const spread = QuerySpreadResponse.decode(q.value);
  const counts = new Map<string, bigint>();
  for (const w of recentWinners(kv())) counts.set(w, (counts.get(w) ?? 0n) + 1n);
  t.is(spread.penaltyInForce, '21357');
  t.is(spread.windowAssignments, 48n);
  t.is(spread.windowHhiBps, windowHhi(counts.values()).hhiBps);
  t.is(spread.targetHhiBps, 2200n);
  t.deepEqual(spread.provers.map((x) => [x.prover, x.wins]), [...counts].sort((a, b) => (a[1] > b[1] ? -1 : 1)));
  t.is(spread.provers[0].prover, p1.address, 'the cheaper prover holds more of the window');
  // the auction deals with it: the same blocks under the fixed 15,000 deal the first 32 assignments alike (no step
  // yet) and the later ones differently. p1 keeps a request while penalty x (its lead in the window) / 128 < 600: a
  // lead of 5 at 15,000, 4 at 16,875 and 18,984, 3 at 21,357; so p1 takes fewer of the last 16
  const fixed = await controllerRun(6, { spread_target_hhi_bps: '0' });
  t.teardown(() => fixed.chain.close());
  const controlledWins = recentWinners(kv());
  const fixedWins = recentWinners(fixed.kv());
  t.deepEqual(controlledWins.slice(0, 32), fixedWins.slice(0, 32));
  const p1Wins = (xs: string[]) => xs.slice(32).filter((x) => x === p1.address).length;
  t.true(p1Wins(controlledWins) < p1Wins(fixedWins), `${p1Wins(controlledWins)} < ${p1Wins(fixedWins)}`);
  // export -> import -> export keeps the penalty in force; the import refuses a bad one
  const exported = exportMarketGenesis(queryCtx(chain), keeper) as { spread_penalty_current: string; params: Record<string, unknown> };
  t.is(exported.spread_penalty_current, '21357');
  const fresh = () => new Context(new CacheKV({ get: () => undefined, has: () => false, iterate: function* () {} }), { chainId: 'x', height: 0n, timeSeconds: 0n }, 'genesis');
  const again = fresh();
  initMarketGenesis(again, JSON.parse(JSON.stringify(exported)), keeper);
  t.deepEqual(exportMarketGenesis(again, keeper), exported);
  t.throws(() => initMarketGenesis(fresh(), { ...exported, spread_penalty_current: '0' }, keeper), { message: /spread_penalty_current must be a positive integer, got "0"/ });
  t.throws(() => initMarketGenesis(fresh(), { ...exported, spread_penalty_current: '960001' }, keeper), { message: /spread_penalty_current 960001 is above its cap 960000/ });
  t.throws(() => initMarketGenesis(fresh(), { ...exported, params: { ...exported.params, spread_target_hhi_bps: '0' } }, keeper), { message: /spread_penalty_current needs a controller/ });
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, spreadTargetHhiBps: 10_001n }), { message: /spread_target_hhi_bps must be at most 10000/ });
  t.throws(() => validateParams({ ...DEFAULT_PARAMS, spreadAdjustBps: 10_001n }), { message: /spread_adjust_bps must be at most 10000/ });
});

test('spread: with spread_target_hhi_bps 0 the penalty stays fixed at spread_penalty (nothing stored); spread_penalty 0 stays greedy under a target', async (t) => {
  for (const [params, want] of [[{ spread_target_hhi_bps: '0' }, 15_000n], [{ spread_penalty: '0' }, 0n]] as const) {
    const { chain, keeper, kv } = await controllerRun(5, params);
    t.teardown(() => chain.close());
    t.is(windowHhi(recentCounts(kv()).values()).n, 40n);
    t.is(storedSpreadPenalty(kv()), undefined);
    t.is(spreadPenaltyInForce(kv(), keeper.params(queryCtx(chain))), want);
    t.false('spread_penalty_current' in (exportMarketGenesis(queryCtx(chain), keeper) as object), 'nothing to export');
  }
});
