/**
 * The spread allocation on the real app (docs/mechanism.md "The spread rule"): each request goes to the ask within the
 * band with the least price + params.spread_penalty x its prover's share of the chain's last 128 assignments. Signed
 * txs through the ABCI app, every module invariant (market/recent-winners included) checked after every block.
 */
import test from 'ava';
import { defaultGenesis } from '../genesis/index.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { SPREAD_PENALTY, SPREAD_WINDOW, exportMarketGenesis, initMarketGenesis, validateParams, DEFAULT_PARAMS, type MarketKeeperImpl } from '../modules/market/index.js';
import { recentWinners } from '../modules/market/recent-winners.js';
import { Context } from '../src/framework/context.js';
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
