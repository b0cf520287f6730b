/**
 * The Requests query's circuit filter (index 'w' + circuit + status + id, modules/market/keys.ts) and the worker's
 * rotating fallback scan over it (src/worker/fallback-scan.ts), on the real app (TestChain on LevelDB, invariants — the
 * new index included — after every block). 450 FALLBACK requests wait on circuit A, more than the 200 a scan reads in a
 * tick, and 30 on circuit B.
 */
import test from 'ava';
import { defaultGenesis } from '../genesis/index.js';
import { TestChain, devnetKey } from './helpers/chain.js';
import { CIRCUIT, S, m, ok } from './helpers/market.js';
import { moduleAddress } from '../src/crypto/address.js';
import { QueryRequestsRequest, QueryRequestsResponse, Request, RequestStatus } from '../src/gen/proofbook/market/v1/market.js';
import { RotatingScan, type RequestsPage } from '../src/worker/fallback-scan.js';

const OTHER = 'ab'.repeat(32); // a second circuit id (the market does not look it up for stored requests)
const ESCROW = 1000n;

async function chainWithRequests() {
  const rq = await devnetKey(0);
  const g = defaultGenesis() as Record<string, any>;
  const requests: unknown[] = [];
  const add = (circuitId: string, status: RequestStatus, extra: Partial<Request> = {}) => {
    const id = BigInt(requests.length + 1);
    requests.push(
      Request.toJSON(
        Request.fromPartial({
          id, requester: rq.address, circuitId, minFee: '1000', maxFee: '1000', rampBlocks: 0n, provingWindow: 10n, expiryHeight: 100_000n,
          minCollateral: '0', submittedHeight: 1n, status, escrow: ESCROW.toString(), bounty: '0', holdingDeposit: '0',
          ...(status === S.REQUEST_STATUS_FALLBACK ? { fallbackHeight: 1n, fallbackReferenceFee: '500' } : {}),
          ...extra,
        }),
      ),
    );
  };
  // interleaved ids, so a circuit's requests are not one contiguous id range
  for (let i = 0; i < 450; i++) {
    add(CIRCUIT, S.REQUEST_STATUS_FALLBACK);
    if (i % 15 === 0) add(OTHER, S.REQUEST_STATUS_FALLBACK);
    if (i % 22 === 0 && i < 440) add(CIRCUIT, S.REQUEST_STATUS_OPEN);
  }
  g.market = { ...g.market, requests, next_request_id: (requests.length + 1).toString() };
  g.bank.balances.push({ address: moduleAddress('market_escrow'), coins: [{ denom: 'uproof', amount: (ESCROW * BigInt(requests.length)).toString() }] });
  const chain = await TestChain.create({ appState: g });
  await chain.block(); // invariants (indexes included) after the first block
  return { chain, rq };
}

async function page(chain: TestChain, q: Partial<QueryRequestsRequest>): Promise<QueryRequestsResponse> {
  const r = await chain.query('/proofbook.market.v1.Query/Requests', QueryRequestsRequest.encode(QueryRequestsRequest.fromPartial(q)).finish());
  if (r.code !== 0) throw new Error(r.log);
  return QueryRequestsResponse.decode(r.value);
}

test('Requests: the circuit filter reads one circuit (and status) from its own index; with a requester it filters that requester\'s requests; a bad id is refused', async (t) => {
  const { chain, rq } = await chainWithRequests();
  t.teardown(() => chain.close());
  const fa = await page(chain, { status: S.REQUEST_STATUS_FALLBACK, circuitId: CIRCUIT, pagination: { limit: 1000n } as any });
  t.is(fa.requests.length, 450);
  t.true(fa.requests.every((r) => r.circuitId === CIRCUIT && r.status === S.REQUEST_STATUS_FALLBACK));
  t.deepEqual(fa.requests.map((r) => r.id), [...fa.requests.map((r) => r.id)].sort((a, b) => (a < b ? -1 : 1)), 'in id order');
  t.is((await page(chain, { status: S.REQUEST_STATUS_FALLBACK, circuitId: OTHER, pagination: { limit: 1000n } as any })).requests.length, 30);
  const all = await page(chain, { circuitId: CIRCUIT, pagination: { limit: 1000n } as any });
  t.is(all.requests.length, 470, 'any status: FALLBACK and OPEN of circuit A');
  const mine = await page(chain, { requester: rq.address, circuitId: OTHER, pagination: { limit: 1000n } as any });
  t.is(mine.requests.length, 30);
  t.true(mine.requests.every((r) => r.circuitId === OTHER));
  const bad = await chain.query('/proofbook.market.v1.Query/Requests', QueryRequestsRequest.encode(QueryRequestsRequest.fromPartial({ circuitId: 'xyz' })).finish());
  t.not(bad.code, 0);
  t.regex(bad.log, /circuit_id must be 64 lowercase hex/);

  // a status change moves the request between the circuit's status ranges (the invariant checks every entry each block)
  const open = (await page(chain, { status: S.REQUEST_STATUS_OPEN, circuitId: CIRCUIT, pagination: { limit: 1000n } as any })).requests;
  t.is(open.length, 20);
  await ok(chain, rq, m.cancel(rq, open[0].id));
  t.is((await page(chain, { status: S.REQUEST_STATUS_OPEN, circuitId: CIRCUIT, pagination: { limit: 1000n } as any })).requests.length, 19);
  t.deepEqual((await page(chain, { status: S.REQUEST_STATUS_CANCELLED, circuitId: CIRCUIT })).requests.map((r) => r.id), [open[0].id]);
});

test('worker scan: at most pages × limit requests per tick, continuing where the last tick stopped, so all 450 FALLBACK requests of the served circuit are seen within 3 ticks; then it starts over', async (t) => {
  const { chain } = await chainWithRequests();
  t.teardown(() => chain.close());
  let reads = 0;
  const fetchPage: RequestsPage<Request> = async (q) => {
    reads++;
    const r = await page(chain, { status: q.status, circuitId: q.circuitId, pagination: { key: q.key, limit: q.limit } as any });
    return { requests: r.requests, nextKey: r.pagination?.nextKey };
  };
  const scan = new RotatingScan(2, 100n);
  const seen = new Set<bigint>();
  const sizes: number[] = [];
  for (let tick = 0; tick < 3; tick++) {
    const got = await scan.next(fetchPage, CIRCUIT, S.REQUEST_STATUS_FALLBACK);
    sizes.push(got.length);
    for (const r of got) {
      t.is(r.circuitId, CIRCUIT);
      t.false(seen.has(r.id), `request ${r.id} read twice before the scan wrapped`);
      seen.add(r.id);
    }
  }
  t.deepEqual(sizes, [200, 200, 50]);
  t.is(seen.size, 450, 'every FALLBACK request of the circuit, not only the first page');
  t.is(reads, 5, 'two pages per tick, one for the tail');
  const again = await scan.next(fetchPage, CIRCUIT, S.REQUEST_STATUS_FALLBACK);
  t.is(again.length, 200);
  const first = [...seen].sort((a, b) => (a < b ? -1 : 1))[0];
  t.is(again[0].id, first, 'wrapped to the first request');
  // the cursor is per circuit and status: circuit B's scan starts at its own beginning
  t.is((await scan.next(fetchPage, OTHER, S.REQUEST_STATUS_FALLBACK)).length, 30);
});
