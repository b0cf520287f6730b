/**
 * Settled requests leave consensus state after params.settled_retention_blocks (modules/market/retention.ts):
 * record, inline input and every index entry go; live requests stay; invariants hold throughout; genesis import
 * schedules settled requests it receives.
 */
import test from 'ava';
import { defaultGenesis } from '../genesis/index.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { iteratePrefix } from '../src/store/kv.js';
import { exportMarketGenesis, initMarketGenesis, type MarketKeeperImpl } from '../modules/market/index.js';
import { SETTLED_PREFIX, settledKey } from '../modules/market/retention.js';
import { S, getProofs, m, ok, queryCtx, request, setup, txs } from './helpers/market.js';
import { Context } from '../src/framework/context.js';
import { CacheKV } from '../src/store/cache.js';

test.after.always(() => terminateSnarkjs());

const marketKeys = (chain: { app: { store: { iterate(s: string, e: string | undefined): IterableIterator<[string, Uint8Array]> } } }, id: bigint): string[] => {
  const suffix = Buffer.from(id.toString(16).padStart(16, '0'), 'hex').toString('latin1');
  const out: string[] = [];
  for (const [k] of chain.app.store.iterate('market/', 'market0')) if (k.endsWith(suffix) && 'riqsoedz'.includes(k[7]!)) out.push(k); // request keys, not asks/stats
  return out;
};

test('fulfilled, cancelled and expired requests are removed retention blocks after settling; live ones stay', async (t) => {
  const [pf] = await getProofs();
  const g = defaultGenesis() as any;
  g.market.params.settled_retention_blocks = '3';
  const { chain, requester, p1 } = await setup(g);
  t.teardown(() => chain.close());
  const h0 = chain.app.height;
  // 1: fulfilled, 2: cancelled, 3: expires, 4: stays live (long expiry)
  await ok(chain, requester, m.request(requester, { maxFee: 9000n, expiry: h0 + 100n }));
  await ok(chain, p1, m.ask(p1, 5000n, 1n));
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  await ok(chain, requester, m.request(requester, { maxFee: 9000n, expiry: h0 + 100n }), m.request(requester, { maxFee: 9000n, expiry: chain.app.height + 2n }),
    m.request(requester, { maxFee: 9000n, expiry: h0 + 1000n }));
  await ok(chain, requester, m.cancel(requester, 2n));
  const fulfilledAt = (await ok(chain, p1, m.proof(p1, 1n, pf!))).height;
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FULFILLED);
  t.is((await request(chain, 2n)).request.status, S.REQUEST_STATUS_CANCELLED);
  t.is((await request(chain, 3n)).request.status, S.REQUEST_STATUS_EXPIRED);
  t.true(marketKeys(chain, 1n).length >= 3, 'record, input and indexes exist before pruning');
  t.truthy(chain.app.store.get('market/' + settledKey(fulfilledAt, 1n)));
  // still there up to fulfilledAt + 2, gone in the block at fulfilledAt + 3
  while (chain.app.height < fulfilledAt + 2n) await txs(chain, []);
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FULFILLED);
  await txs(chain, []);
  for (const id of [1n, 2n, 3n]) {
    const q = await chain.query('/proofbook.market.v1.Query/Request', (await import('../src/gen/proofbook/market/v1/market.js')).QueryRequestRequest.encode({ id }).finish());
    t.not(q.code, 0, `request ${id} is gone`);
    t.deepEqual(marketKeys(chain, id), [], `no key of request ${id} is left`);
  }
  t.true([S.REQUEST_STATUS_OPEN, S.REQUEST_STATUS_ASSIGNED].includes((await request(chain, 4n)).request.status), 'request 4 is live and kept');
  t.true(marketKeys(chain, 4n).length >= 3);
  t.deepEqual([...iteratePrefix(chain.app.store, 'market/' + SETTLED_PREFIX)], []);
  t.deepEqual(chain.app.checkInvariants(), []);
});

test('retention 0 keeps settled requests; genesis import schedules the settled requests it receives', async (t) => {
  const g = defaultGenesis() as any;
  g.market.params.settled_retention_blocks = '0';
  const { chain, requester } = await setup(g);
  t.teardown(() => chain.close());
  await ok(chain, requester, m.request(requester, { maxFee: 9000n, expiry: chain.app.height + 100n }));
  const cancelledAt = (await ok(chain, requester, m.cancel(requester, 1n))).height;
  for (let i = 0; i < 3; i++) await txs(chain, []);
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_CANCELLED);
  // export, then import into a fresh store: the cancelled request is scheduled at the height it settled
  const keeper = chain.app.modules.keepers.market as unknown as MarketKeeperImpl;
  const exported = exportMarketGenesis(queryCtx(chain), keeper);
  const fresh = new CacheKV(new CacheKV(chain.app.store));
  for (const [k] of [...fresh.iterate('market/', 'market0')]) fresh.delete(k);
  const ctx = new Context(fresh, { chainId: 'x', height: 0n, timeSeconds: 0n }, 'deliver');
  initMarketGenesis(ctx, exported, keeper);
  t.truthy(fresh.get('market/' + settledKey(cancelledAt, 1n)));
});
