/**
 * Issue 10 item 5: the cost of keeping a request open is charged to it (modules/market/holding.ts). A deposit for
 * its whole lifetime plus retention is paid at submission into market_escrow; on settlement the unused open blocks
 * are refunded and the rest goes to the fee collector. Supply is conserved and the invariants (market/escrow counts
 * live deposits) hold after every block (TestChain checks them).
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { moduleAddress } from '../src/crypto/address.js';
import { rawKeyFromPrivkey } from '../src/client/sign.js';
import { defaultGenesis } from '../genesis/index.js';
import { DEFAULT_PARAMS } from '../modules/market/keys.js';
import { holdingBytes, holdingRefund } from '../modules/market/holding.js';
import { FEE, GAS, S, balance, m, ok, request, setup, supply } from './helpers/market.js';

const ESCROW = moduleAddress('market_escrow');
const FEES = moduleAddress('fee_collector');
const ATTO = 10n ** 18n;

test('a request pays a holding deposit for lifetime + retention at submission; cancelling early refunds the unused open blocks', async (t) => {
  const { chain, requester } = await setup();
  t.teardown(() => chain.close());
  const s0 = await supply(chain);
  const r0 = await balance(chain, requester.address);
  const e0 = await balance(chain, ESCROW);
  const lifetime = 1000n;
  const { height: h } = await ok(chain, requester, m.request(requester, { maxFee: 5000n, expiry: chain.app.height + 1n + lifetime }));
  const rq = (await request(chain, 1n)).request;
  const deposit = BigInt(rq.holdingDeposit);
  // The deposit is the price per byte-block times the request's bytes times lifetime + retention, rounded up.
  t.is(rq.holdingBlocks, lifetime + DEFAULT_PARAMS.settledRetentionBlocks);
  t.is(deposit, (DEFAULT_PARAMS.holdingPriceAtto * holdingBytes(rq) * rq.holdingBlocks + ATTO - 1n) / ATTO);
  t.true(deposit > 0n);
  t.is(await balance(chain, requester.address), r0 - FEE - 5000n - deposit);
  t.is(await balance(chain, ESCROW), e0 + 5000n + deposit, 'escrow holds the max fee and the deposit');

  // Cancel 10 blocks later: refund = deposit * (expiry - h_cancel) / holding_blocks; the rest to the fee collector.
  for (let i = 0; i < 9; i++) await chain.block();
  const f0 = await balance(chain, FEES);
  const { height: hc } = await ok(chain, requester, m.cancel(requester, 1n));
  const after = (await request(chain, 1n)).request;
  t.is(after.status, S.REQUEST_STATUS_CANCELLED);
  const refund = (deposit * (rq.expiryHeight - hc)) / rq.holdingBlocks;
  t.is(holdingRefund(rq, hc), refund);
  t.true(refund > 0n && refund < deposit);
  t.is(await balance(chain, requester.address), r0 - 2n * FEE - (deposit - refund), 'the requester paid only for the blocks used and the retention');
  t.is(await balance(chain, FEES), f0 + FEE + (deposit - refund), 'the kept part went to the fee collector with the tx fee');
  t.is(await balance(chain, ESCROW), e0, 'nothing of the request is left in escrow');
  t.is(await supply(chain), s0, 'supply conserved');
  t.true(hc > h);
});

test('a request that sits to expiry pays its whole deposit; deposits scale with lifetime and input size', async (t) => {
  const { chain, requester } = await setup();
  t.teardown(() => chain.close());
  const s0 = await supply(chain);
  const r0 = await balance(chain, requester.address);
  const h0 = chain.app.height + 1n;
  await ok(chain, requester, m.request(requester, { maxFee: 5000n, expiry: h0 + 3n }), m.request(requester, { maxFee: 5000n, expiry: h0 + 2003n }));
  const [a, b] = [(await request(chain, 1n)).request, (await request(chain, 2n)).request];
  // Each deposit is price * its bytes * its lifetime + retention (bytes differ only by the varint of the expiry).
  const [da, db] = [BigInt(a.holdingDeposit), BigInt(b.holdingDeposit)];
  for (const [r, d] of [[a, da], [b, db]] as const) t.is(d, (DEFAULT_PARAMS.holdingPriceAtto * holdingBytes(r) * r.holdingBlocks + ATTO - 1n) / ATTO);
  t.true(holdingBytes(b) - holdingBytes(a) <= 2n);
  t.true(db > 2n * da);
  while (chain.app.height < h0 + 3n) await chain.block();
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_EXPIRED);
  // Request 1 expired: max fee back, the whole deposit kept. Request 2 still holds its deposit.
  t.is(await balance(chain, requester.address), r0 - FEE - 5000n - da - db);
  t.is(await supply(chain), s0);
});

test('a fresh account funded for the max fee alone cannot open a request: every open request pays for its state', async (t) => {
  const fresh = rawKeyFromPrivkey(createHash('sha256').update('market-holding/fresh').digest());
  const appState = defaultGenesis() as any;
  // Enough for the tx fee and the max fee, not for the holding deposit.
  appState.bank.balances.push({ address: fresh.address, coins: [{ denom: 'uproof', amount: (FEE + 5000n).toString() }] });
  const { chain } = await setup(appState);
  t.teardown(() => chain.close());
  const tx = await chain.sign(fresh, { msgs: [m.request(fresh, { maxFee: 5000n, expiry: chain.app.height + 50_000n })], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: GAS });
  const check = await chain.checkTx(tx);
  t.not(check.code, 0);
  t.regex(check.log, /insufficient funds/);
  const res = await chain.rawBlock([tx]);
  t.not(res.txResults[0].code, 0);
  t.deepEqual(chain.app.checkInvariants(), []);
  t.is(await balance(chain, fresh.address), 5000n, 'only the tx fee was taken');
});
