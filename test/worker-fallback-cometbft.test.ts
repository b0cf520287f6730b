/**
 * Issue 11 end to end on a real CometBFT v0.38 node (one validator, the proofbook app as its own process), with a
 * real prover worker (src/worker, snarkjs proofs) and real cosmjs clients:
 *  A. a prover that released a request is never assigned it again, although its ask stays the cheapest with free
 *     units; the worker wins the next auction and proves it;
 *  B. after a miss, the worker — not assigned, its ask above the request's fee so the auction cannot give it the
 *     request — fulfils it through the permissionless fallback (commit-reveal) once the fallback fee (ramping from the
 *     failed assignment's price) + bounty cover its price, and is paid exactly the fee its commitment locked plus the
 *     bounty (balances and account sequence checked);
 *  C. a one-request auction against one ask pays near the ask (within 2× by default; price rule v2 pays the ask);
 *  D. a squatter (bonded, not excluded) commits garbage to a request in the fallback and never reveals: the worker
 *     takes the stale commitment for a squatter's (src/worker/fallback-commits.ts), proves, commits and DELIVERS while
 *     the squatter's window is still open; the payment is held until that window ends, then settles to the worker
 *     (its job goes delivered -> fulfilled with the settled payout) and the squatter's deposit goes to the requester.
 *  E. the requester's patience: a prover that holds an assignment without proving is outraced once the patience opens
 *     the race (after its accept phase): the worker delivers before the holder's deadline through commit–reveal, the
 *     holder is slashed as for a release at that height, and waitForProof reports it.
 *  F. without any patience, a holder's assignment is open to the race once overdue (a prover without a record of the
 *     circuit: halfway through its window); the worker outraces it before the deadline.
 *
 * Needs the cometbft binary (npm run install-cometbft): fails, never skips, when it is missing.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { TxRaw, AuthInfo } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { createNet, findCometbft } from '../scripts/cometbft-net.js';
import { defaultGenesis } from '../genesis/index.js';
import { ProofbookClient, RequestStatus, type Request } from '../src/client/proofbook.js';
import { ProverWorker } from '../src/worker/worker.js';
import { CIRCUIT, testConfig, wallet } from '../src/worker/testing.js';
import { moduleAddress } from '../src/crypto/address.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { holdingRefund, paidDeposit } from '../modules/market/holding.js';

test.after.always(() => terminateSnarkjs());

const S = RequestStatus;
const ASK = 3000n; // the worker's fixed ask price
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined | false;
    try {
      v = await f();
    } catch {
      v = undefined; // node busy: try again
    }
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

test('real CometBFT + worker: released never re-assigned; after a miss the unassigned worker fulfils through the fallback and is paid fee + bounty; one request pays near the ask; a squatter does not keep the worker off; past the patience the worker outraces a holder, and without one once the holder is overdue', async (t) => {
  t.timeout(300_000);
  await findCometbft(); // loud failure, not a skip
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-worker-fallback-'));
  const appState = defaultGenesis() as { market: { params: { fallback_reveal_blocks: string } } };
  // D's squatter holds a window long enough (~30 s at these 400 ms blocks) that the worker can prove inside it
  appState.market.params.fallback_reveal_blocks = '75';
  const net = await createNet(dir, {
    validators: 1, app: 'proofbook', fast: true, appState, chainId: 'proofbook-fallback-e2e',
    timeouts: { timeout_commit: '400ms', skip_timeout_commit: false },
  });
  const logger = pino({ level: 'warn' });
  const clients: ProofbookClient[] = [];
  let worker: ProverWorker | undefined;
  let comet: Comet38Client | undefined;
  t.teardown(async () => {
    if (worker) await worker.stop().catch(() => undefined);
    for (const c of clients) c.disconnect();
    comet?.disconnect();
    await net.stop();
    if (t.passed) fs.rmSync(dir, { recursive: true, force: true });
    else t.log(`kept ${dir}\n${net.logTail(net.appLog(0))}`);
  });
  await net.start();
  await net.waitForHeight(0, 2, 90_000);
  const rpc = net.rpcUrl(0);
  comet = await Comet38Client.connect(rpc);
  const connect = async (i: number) => {
    const c = await ProofbookClient.connect(rpc, await wallet(i), { pollIntervalMs: 200 });
    clients.push(c);
    return c;
  };
  const [rq, p2, p3] = await Promise.all([connect(0), connect(2), connect(3)]);
  const request = async (id: bigint): Promise<Request> => (await rq.request(id)).request;
  const balance = async (addr: string): Promise<bigint> => BigInt((await rq.signing.getBalance(addr, 'uproof')).amount);
  /** The successful txs that emitted `event` for request `id`, once the node's tx indexer has them (it runs behind commit). */
  const indexed = (event: string, id: bigint) =>
    until(`the indexed ${event} tx of request ${id}`, async () => {
      const ok = (await comet!.txSearch({ query: `${event}.request_id='${id}'` })).txs.filter((x) => x.result.code === 0);
      return ok.length > 0 ? ok : undefined;
    }, 60_000);
  /** The fee paid by the (successful) tx that emitted `event` for request `id`. */
  const feeOf = async (event: string, id: bigint): Promise<bigint> => {
    const ok = await indexed(event, id);
    t.is(ok.length, 1, `one successful tx emitted ${event} for request ${id}`);
    const fee = AuthInfo.decode(TxRaw.decode(ok[0]!.tx).authInfoBytes).fee!.amount;
    return BigInt(fee.find((c) => c.denom === 'uproof')?.amount ?? '0');
  };

  // The worker (wallet 1): fixed ask ASK, capacity 1, fallback on (the default).
  worker = await ProverWorker.start({
    home: path.join(dir, 'w'), nodeUrl: rpc, signer: await wallet(1), logger,
    config: testConfig({ capacity: 1, bond: '10000000', pricing: { calibrationProofs: 1, fixedPrice: Number(ASK) } }),
  });
  const W = worker.address;
  await until('the worker ask', async () => (await rq.asks({ prover: W })).asks.some((a) => a.price === ASK.toString()));
  await p2.bond(10_000_000n);
  await p3.bond(10_000_000n);

  // ---- A. release: p2 (ask 2000, 5 units) wins, releases; never assigned it again; the worker gets it and proves it
  const { askId: ask2 } = await p2.postAsk({ circuitId: CIRCUIT, price: 2000n, capacity: 5n });
  const { requestId: a } = await rq.submitRequest({ circuitId: CIRCUIT, input: { preimage: '31', nonce: '1' }, maxFee: 20_000n, provingWindow: 40n, lifetimeBlocks: 400n });
  await until('assignment to p2', async () => (await request(a)).assignment?.prover === p2.address);
  await p2.release(a);
  const done = await rq.waitForProof(a, { timeoutMs: 120_000 });
  const assigned = done.request.history.filter((e) => e.event === 'assigned').map((e) => e.prover);
  t.deepEqual(assigned, [p2.address, W], 'assigned to p2, then (after its release) to the worker only');
  t.deepEqual(done.request.excludedProvers, [p2.address]);
  t.is(done.request.history.at(-1)!.event, 'fulfilled');
  t.is(done.request.history.at(-1)!.prover, W);
  const p2ask = (await rq.asks({ prover: p2.address })).asks.find((x) => x.id === ask2)!;
  t.true(p2ask.capacity - p2ask.active >= 1n, "p2's cheaper ask had free units all along");
  await p2.cancelAsk(ask2);

  // ---- B. miss -> fallback: p3 (ask 2000) wins a request whose fee (2500) is below the worker's ask, and never proves
  await p3.postAsk({ circuitId: CIRCUIT, price: 2000n, capacity: 1n });
  const { requestId: b } = await rq.submitRequest({ circuitId: CIRCUIT, input: { preimage: '32', nonce: '2' }, maxFee: 2500n, provingWindow: 4n, lifetimeBlocks: 400n });
  const asg = await until('assignment to p3', async () => (await request(b)).assignment);
  t.is(asg.prover, p3.address);
  // the worker is idle now: its balance and sequence from here on move only by its fallback txs
  const wBal0 = await balance(W);
  const wSeq0 = (await rq.signing.getSequence(W)).sequence;
  const esc0 = await balance(moduleAddress('market_escrow'));
  const r0 = await balance(rq.address);
  const fulfilled = await rq.waitForProof(b, { timeoutMs: 150_000 });
  const hist = fulfilled.request.history;
  const slashed = hist.find((e) => e.event === 'slashed')!;
  t.is(slashed.prover, p3.address);
  const collateral = BigInt(asg.collateral);
  t.is(slashed.amount, collateral.toString());
  t.is(BigInt(slashed.compensation), collateral / 2n, 'the requester got half the slash');
  t.false(hist.some((e) => e.event === 'assigned' && e.prover === W), 'the worker was never assigned it');
  const last = hist.at(-1)!;
  t.is(last.event, 'fallback_fulfilled');
  t.is(last.prover, W);
  const price = BigInt(last.amount);
  const bounty = BigInt(last.compensation);
  t.is(bounty, collateral / 4n, 'the bounty is a quarter of the slash');
  // paid the fallback fee its commitment locked (modules/market/fallback-fee.ts): between the reference (the failed
  // assignment's price, 2000) and the request's current fee (2500), not the whole current fee
  const committed = await indexed('proofbook.market.fallback_committed', b);
  t.is(committed.length, 1);
  const locked = committed[0]!.result.events.find((e) => e.type === 'proofbook.market.fallback_committed')!.attributes.find((a) => a.key === 'price')!.value;
  t.is(price, BigInt(locked), 'paid the fee its commitment locked');
  t.true(price >= 2000n && price <= 2500n, `paid ${price}: between the reference 2000 and the current fee 2500`);
  t.true(price - price / 100n + bounty >= ASK, 'fee + bounty cover the ask: why the worker took it');
  // exactly two worker txs (commit, reveal); its balance moved by the payout less their fees, the deposit came back
  const wSeq1 = (await rq.signing.getSequence(W)).sequence;
  t.is(wSeq1 - wSeq0, 2);
  const fees = (await feeOf('proofbook.market.fallback_committed', b)) + (await feeOf('proofbook.market.request_fulfilled', b));
  t.is(await balance(W), wBal0 + price - price / 100n + bounty - fees);
  // the requester: compensation in, the unused escrow back; market escrow back where it was
  const rb = fulfilled.request;
  t.is(await balance(rq.address), r0 + collateral / 2n + (2500n - price) + holdingRefund(rb, rb.fulfilledHeight));
  t.is(await balance(moduleAddress('market_escrow')), esc0 - 2500n - paidDeposit(rb), 'escrow, bounty and commit deposit all left the escrow');
  await p3.cancelAsk((await rq.asks({ prover: p3.address })).asks[0]!.id).catch(() => undefined);

  // ---- C. one request, one ask: the price paid is near the ask (within 2x; v2 pays the ask)
  await until('only the worker asks', async () => (await rq.asks({ circuitId: CIRCUIT })).asks.every((x) => x.prover === W));
  const { requestId: c } = await rq.submitRequest({ circuitId: CIRCUIT, input: { preimage: '33', nonce: '3' }, maxFee: 50_000n, provingWindow: 40n, lifetimeBlocks: 400n });
  const one = await rq.waitForProof(c, { timeoutMs: 120_000 });
  const paid = BigInt(one.request.paidPrice);
  t.log(`one request vs one ask of ${ASK}: paid ${paid} (max fee 50000)`);
  t.true(paid <= 2n * ASK, `paid ${paid}, more than 2x the ask ${ASK}`);
  t.true(paid >= ASK);
  t.is(one.request.history.at(-1)!.prover, W);

  // ---- D. a squatter ahead of the worker in the fallback: the worker delivers inside the squatter's window.
  // The worker is stopped until the squatter's commitment is in, so it meets the commitment before it takes the job
  // (a worker that skipped every request with a live commitment would wait the 75-block window out).
  const workerConfig = testConfig({ capacity: 1, bond: '10000000', pricing: { calibrationProofs: 1, fixedPrice: Number(ASK) } });
  await worker.stop();
  worker = undefined;
  await p3.postAsk({ circuitId: CIRCUIT, price: 2000n, capacity: 1n });
  const { requestId: d } = await rq.submitRequest({ circuitId: CIRCUIT, input: { preimage: '34', nonce: '4' }, maxFee: 2500n, provingWindow: 4n, lifetimeBlocks: 400n });
  t.is((await until('assignment to p3', async () => (await request(d)).assignment)).prover, p3.address);
  await until('request d in the fallback', async () => (await request(d)).status === S.REQUEST_STATUS_FALLBACK);
  // garbage: a commitment to a proof nobody has; p2 is bonded and not excluded from d
  const squat = await p2.commitFallbackProof(d, new Uint8Array(256).fill(7), []);
  worker = await ProverWorker.start({ home: path.join(dir, 'w'), nodeUrl: rpc, signer: await wallet(1), logger, config: workerConfig });
  const delivered = await until('delivery of d', async () => {
    const r = await request(d);
    return r.status === S.REQUEST_STATUS_FULFILLED ? r : undefined;
  }, 150_000);
  t.log(`squatter committed at ${squat.height}, window until ${squat.revealUntilHeight}; the worker delivered at ${delivered.fulfilledHeight}`);
  t.true(delivered.fulfilledHeight <= squat.revealUntilHeight, `delivered at ${delivered.fulfilledHeight}, inside the squatter's window (until ${squat.revealUntilHeight}): the worker did not wait it out`);
  t.is(delivered.history.find((e) => e.event === 'fallback_delivered')?.prover, W, 'the worker delivered');
  const settled = await until('settlement of d', async () => {
    const r = await request(d);
    return r.history.some((e) => e.event === 'fallback_fulfilled') ? r : undefined;
  }, 150_000);
  const pay = settled.history.find((e) => e.event === 'fallback_fulfilled')!;
  t.is(pay.prover, W, 'paid to the worker once the squatter window closed');
  t.true(pay.height > squat.revealUntilHeight - 1n, 'not before the squatter window ended');
  t.is(settled.fallbackForfeits, 1, 'the squatter forfeited its deposit (to the requester)');
  const job = await until("the worker's job of d settled", async () => (await worker!.allJobs()).find((j) => j.requestId === d.toString() && j.state === 'fulfilled'), 60_000);
  const grossD = BigInt(pay.amount);
  t.is(job.price, (grossD - grossD / 100n + BigInt(pay.compensation)).toString(), 'the job records the settled payout (delivered -> fulfilled)');

  // ---- E. the requester's patience: p3 (ask 2000) wins a request with fallback_after_blocks 3 and holds it without
  // proving. Once the race opens (after p3's accept phase), the worker — never assigned it — proves, commits and
  // reveals long before p3's deadline; p3 is slashed as for a release at that height, not for a miss.
  await until("p3's ask free again", async () => (await rq.asks({ prover: p3.address })).asks.some((x) => x.active < x.capacity));
  const events: string[] = [];
  const { requestId: e } = await rq.submitRequest({ circuitId: CIRCUIT, input: { preimage: '35', nonce: '5' }, maxFee: 5000n, provingWindow: 100n, lifetimeBlocks: 400n, fallbackAfterBlocks: 3n });
  const held = await until('assignment to p3', async () => (await request(e)).assignment);
  t.is(held.prover, p3.address);
  const raced = await rq.waitForProof(e, { timeoutMs: 150_000, onEvent: (x) => events.push(x.text) });
  const rh = raced.request.history;
  const outraced = rh.find((x) => x.event === 'outraced')!;
  t.truthy(outraced, 'the assignment ended as outraced');
  t.is(outraced.prover, p3.address);
  t.true(raced.request.fulfilledHeight < held.deadlineHeight, `delivered at ${raced.request.fulfilledHeight}, before p3's deadline ${held.deadlineHeight}`);
  t.true(raced.request.fulfilledHeight > held.acceptUntilHeight, 'not before p3\'s accept phase ended');
  // a release's slash at that height: 10 % after the accept phase, rising linearly to 100 % at the deadline
  const col = BigInt(held.collateral);
  const bpsE = 1000n + (9000n * (outraced.height - held.acceptUntilHeight)) / (held.deadlineHeight - held.acceptUntilHeight);
  t.is(BigInt(outraced.amount), (col * bpsE + 9999n) / 10000n);
  t.true(BigInt(outraced.amount) < col, 'less than the miss slash');
  t.is(BigInt(outraced.compensation), BigInt(outraced.amount) / 2n);
  t.false(rh.some((x) => x.event === 'slashed'), 'no miss');
  const won = rh.at(-1)!;
  t.is(won.event, 'fallback_fulfilled');
  t.is(won.prover, W, 'the worker, never assigned it, delivered it');
  t.is(BigInt(won.compensation), BigInt(outraced.amount) / 4n, "the bounty: a quarter of p3's slash");
  // the fee ramps from the assignment's price (the worker's ask set it: price rule v2), not from the max fee
  t.true(BigInt(won.amount) >= BigInt(held.price) && BigInt(won.amount) < 5000n, `paid ${won.amount}, from the assignment price ${held.price}`);
  t.true(events.some((x) => x.includes('a fallback proof came before') && x.includes(p3.address)), `waitForProof reported the race: ${events.join(' | ')}`);
  await until("the worker's job of e fulfilled", async () => (await worker!.allJobs()).find((j) => j.requestId === e.toString() && j.state === 'fulfilled'), 60_000);

  // ---- F. no patience: the chain's own overdue race. p4 (ask 2000, bonded now, no delivery of the circuit yet) wins a
  // request without fallback_after_blocks and holds it. Without a record its assignment is overdue halfway through its
  // 60-block window (docs/protocol.md "Overdue by its own record"); from there the worker outraces it.
  const p4 = await connect(4);
  await p4.bond(10_000_000n);
  for (const x of (await rq.asks({ prover: p3.address })).asks) await p3.cancelAsk(x.id).catch(() => undefined);
  await p4.postAsk({ circuitId: CIRCUIT, price: 2000n, capacity: 1n });
  const { requestId: f } = await rq.submitRequest({ circuitId: CIRCUIT, input: { preimage: '36', nonce: '6' }, maxFee: 5000n, provingWindow: 60n, lifetimeBlocks: 400n });
  const heldF = await until('assignment to p4', async () => (await request(f)).assignment);
  t.is(heldF.prover, p4.address);
  t.is(heldF.overdueHeight, heldF.acceptUntilHeight + 30n, 'no record: overdue halfway through the window');
  const racedF = await rq.waitForProof(f, { timeoutMs: 150_000 });
  const outF = racedF.request.history.find((x) => x.event === 'outraced');
  t.is(outF?.prover, p4.address, 'the holder was outraced');
  t.true(outF!.height >= heldF.overdueHeight, `outraced at ${outF!.height}, not before the overdue height ${heldF.overdueHeight}`);
  t.true(racedF.request.fulfilledHeight < heldF.deadlineHeight, `delivered at ${racedF.request.fulfilledHeight}, before the deadline ${heldF.deadlineHeight}`);
  t.is(racedF.request.history.at(-1)!.prover, W, 'the worker delivered it');
  t.false(racedF.request.history.some((x) => x.event === 'slashed'), 'no miss');
});

