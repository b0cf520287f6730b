/**
 * The auction over the fee index on the real market keeper (issue 10 #5): with thousands of open requests priced
 * under the only ask, EndBlock assigns exactly the requests whose current fee reaches the ask (a fixed-fee one at
 * once, a ramping one the block its ramp crosses the ask), leaves the rest OPEN, and keeps the index invariant.
 */
import test from 'ava';
import { Context } from '../src/framework/context.js';
import { unfillableBook } from '../bench/endblock.js';
import { initVerifierBackend, genesisCircuitId } from '../modules/verifier/index.js';
import { marketInvariants } from '../modules/market/index.js';
import { Request, RequestStatus } from '../src/gen/proofbook/market/v1/market.js';
import { simAddress } from '../sim/agents.js';

test('EndBlock assigns only the requests that can pay the ask; thousands under it stay OPEN untouched', async (t) => {
  await initVerifierBackend();
  const { base, market, chainId } = unfillableBook(3000);
  const at = (h: bigint, kv = base) => new Context(kv, { chainId, height: h, timeSeconds: h * 6n }, 'block');
  const circuitId = genesisCircuitId();
  const requester = simAddress('bench/requester');
  const mk = (id: bigint, minFee: bigint, maxFee: bigint, ramp: bigint) =>
    Request.fromPartial({
      id, requester, circuitId, expectedPublicSignals: ['1', '2'], minFee: minFee.toString(), maxFee: maxFee.toString(), rampBlocks: ramp,
      provingWindow: 20n, expiryHeight: 100_000n, minCollateral: '0', submittedHeight: 1n, status: RequestStatus.REQUEST_STATUS_OPEN, escrow: maxFee.toString(),
    });
  market.putNewRequest(at(1n), mk(5001n, 20_000n, 20_000n, 0n)); // pays the ask at once
  market.putNewRequest(at(1n), mk(5002n, 1000n, 30_000n, 10n)); // 1,000 + 2,900 per block: reaches 10,000 at height 5
  const indexes = marketInvariants(market).find((i) => i.name === 'market/indexes')!;
  t.is(indexes.check(at(1n)), undefined);
  const assignedAt = new Map<bigint, bigint>();
  for (let h = 2n; h <= 6n; h++) {
    const ctx = at(h);
    market.endBlock(ctx);
    for (const e of ctx.events) {
      if (e.type !== 'proofbook.market.request_assigned') continue;
      assignedAt.set(BigInt(e.attributes.find((a) => a.key === 'request_id')!.value), h);
    }
    t.is(indexes.check(at(h)), undefined, `index invariant after the block at height ${h}`);
  }
  t.deepEqual([...assignedAt.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)), [[5001n, 2n], [5002n, 5n]]);
  t.is(market.request(at(6n), 5001n)!.status, RequestStatus.REQUEST_STATUS_ASSIGNED);
  t.is(market.request(at(6n), 5002n)!.assignment!.price, '10000'); // the ask's spare unit competes: uniform price = ask
  for (const id of [1n, 2n, 1500n, 3000n]) t.is(market.request(at(6n), id)!.status, RequestStatus.REQUEST_STATUS_OPEN);
});
