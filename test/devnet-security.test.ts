/**
 * Issue 10 #1–2 and issue 11 #1, #5 end to end on one embedded devnet (real blocks, real cosmjs clients, a real
 * worker, real snarkjs proofs):
 *  - the SDK commits every request to the signals its witness generator computes; a proof of another statement is
 *    refused on chain;
 *  - a bond-grab request (min_collateral far above the fee) is refused; a mis-stated and an unprovable request are
 *    declined by the worker in the accept phase: no slash, no breaker trip, the requester pays the decline fee;
 *  - a prover that released a request is never assigned it again; after a miss an unassigned prover fulfils it
 *    through the fallback and is paid escrow fee + bounty; the requester's waitForProof reports all of it.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startDevnet } from '../app/devnet/index.js';
import { defaultGenesis } from '../genesis/index.js';
import { ProofbookClient, ProofbookTxError, RequestStatus, type Request } from '../src/client/proofbook.js';
import { ProverWorker } from '../src/worker/worker.js';
import { CIRCUIT, testConfig, wallet } from '../src/worker/testing.js';
import { GENESIS_CIRCUIT } from '../src/zk/genesis.js';
import { proveWithSnarkjs, terminateSnarkjs } from '../src/zk/prove.js';
import { publicSignalsFromInput } from '../src/zk/witness.js';

test.after.always(() => terminateSnarkjs());

const S = RequestStatus;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, f: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

test('devnet: bound proofs, no bond grab, free declines by the worker, exclusion, fallback after a miss, requester-visible progress', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'devnet-security-'));
  const logger = pino({ level: 'warn' });
  // 300 ms blocks keep the test short; the accept phase is 10 blocks (3 s) instead of the default 3 (3 s at 1 s
  // blocks) so that the worker's preflight and decline fit it on this loaded machine.
  const g = defaultGenesis() as { market: { params: Record<string, string> } };
  g.market.params.accept_blocks = '10';
  const devnet = await startDevnet({ home: join(home, 'node'), blockTimeMs: 300, rpcAddress: '127.0.0.1:0', logger, appState: g });
  const clients: ProofbookClient[] = [];
  let worker: ProverWorker | undefined;
  try {
    await devnet.waitForHeight(2);
    const connect = async (i: number) => {
      const c = await ProofbookClient.connect(devnet.rpcUrl, await wallet(i), { pollIntervalMs: 100 });
      clients.push(c);
      return c;
    };
    const [rq, p2, p3, p4, p5] = await Promise.all([connect(0), connect(2), connect(3), connect(4), connect(5)]);
    const request = async (id: bigint): Promise<Request> => (await rq.request(id)).request;

    // --- the worker (wallet 1) is the only ask: it gets the two bad requests and declines both in the accept phase
    worker = await ProverWorker.start({ home: join(home, 'w'), nodeUrl: devnet.rpcUrl, signer: await wallet(1), logger, config: testConfig({ capacity: 2, bond: '100000000' }) });
    const wAddr = worker.address;
    await until('the worker ask', async () => (await rq.asks({ prover: wAddr })).asks.length > 0);
    const bond0 = (await rq.prover(wAddr)).prover!.bonded.find((c) => c.denom === 'uproof')!.amount;

    // bond grab: a 1000-uproof request asking for a 1,000,000 lock is refused (cap: 5x max fee)
    const grab = await t.throwsAsync(rq.submitRequest({ circuitId: CIRCUIT, input: { preimage: '1', nonce: '1' }, maxFee: 1000n, provingWindow: 20n, minCollateral: 1_000_000n }), { instanceOf: ProofbookTxError });
    t.regex(grab!.message, /max_collateral_ratio_bps/);

    // a request without signals is refused by the chain (sent as a raw message: the SDK would compute them)
    const { MsgSubmitRequest } = await import('../src/gen/proofbook/market/v1/market.js');
    const h0 = await rq.height();
    const raw = await t.throwsAsync(rq.execute([{ typeUrl: '/proofbook.market.v1.MsgSubmitRequest', value: MsgSubmitRequest.fromPartial({ requester: rq.address, circuitId: CIRCUIT, inputInline: Buffer.from('{"preimage":"1","nonce":"1"}'), maxFee: '5000', minFee: '5000', provingWindow: 20n, expiryHeight: h0 + 100n }) }]), { instanceOf: ProofbookTxError });
    t.regex(raw!.message, /expected_public_signals is required/);

    // mis-stated (committed to another input's signals) and unprovable (not a number) requests
    const other = (await publicSignalsFromInput(GENESIS_CIRCUIT.wasmPath, { preimage: '999', nonce: '1' }, 2)).map(String);
    const { requestId: bad1 } = await rq.submitRequest({ circuitId: CIRCUIT, input: { preimage: '5', nonce: '1' }, expectedPublicSignals: other, maxFee: 50_000n, provingWindow: 100n, lifetimeBlocks: 2000n });
    const { requestId: bad2 } = await rq.submitRequest({ circuitId: CIRCUIT, input: { preimage: 'not-a-number', nonce: '1' }, expectedPublicSignals: other, maxFee: 50_000n, provingWindow: 100n, lifetimeBlocks: 2000n });
    for (const id of [bad1, bad2]) {
      await until(`request ${id} declined by the worker`, async () => (await request(id)).history.some((e) => e.event === 'declined' && e.prover === wAddr));
      const r = await request(id);
      t.deepEqual(r.excludedProvers, [wAddr]);
      t.is(r.escrow, '49500'); // the decline fee (1 % of the max fee) came out of the requester's escrow
      t.false(r.history.some((e) => e.event === 'released' || e.event === 'slashed'));
    }
    t.false(worker.status().breaker.open, 'declining bad requests does not trip the breaker');
    t.is((await rq.prover(wAddr)).prover!.bonded.find((c) => c.denom === 'uproof')!.amount, bond0, 'no collateral lost');
    for (const id of [bad1, bad2]) await rq.cancelRequest(id);

    // a good request through the SDK: its commitment is the input's statement, the worker proves it
    const { requestId: good, expectedPublicSignals } = await rq.submitRequest({ circuitId: CIRCUIT, input: { preimage: '77', nonce: '3' }, maxFee: 50_000n, provingWindow: 200n, lifetimeBlocks: 2000n });
    const proof = await rq.waitForProof(good, { timeoutMs: 120_000 });
    t.deepEqual(proof.publicSignals, expectedPublicSignals);
    await worker.stop(); // cancels its asks
    worker = undefined;

    // --- exclusion: p2 (cheapest ask) releases; it is never assigned the request again, p4 gets it
    await p2.bond(10_000_000n);
    await p3.bond(1_000_000n);
    await p4.bond(10_000_000n);
    await p5.bond(1_000_000n);
    await p2.postAsk({ circuitId: CIRCUIT, price: 2000n, capacity: 5n });
    const input = { preimage: '4242', nonce: '9' };
    const events: string[] = [];
    const { requestId: id } = await rq.submitRequest({ circuitId: CIRCUIT, input, maxFee: 20_000n, provingWindow: 5n, lifetimeBlocks: 3000n });
    const waiting = rq.waitForProof(id, { timeoutMs: 240_000, pollIntervalMs: 200, onEvent: (e) => events.push(e.entry.event) });
    waiting.catch(() => undefined);
    await until('assignment to p2', async () => (await request(id)).assignment?.prover === p2.address);
    await p2.release(id);
    const releasedAt = await rq.height();
    await until('20 blocks after the release', async () => (await rq.height()) >= releasedAt + 20n);
    let r = await request(id);
    t.is(r.status, S.REQUEST_STATUS_OPEN);
    t.is(r.history.filter((e) => e.event === 'assigned').length, 1, 'p2 (the only ask, 5 free units) never got it back');
    t.deepEqual(r.excludedProvers, [p2.address]);

    // --- fallback after a miss: p4 wins it and does nothing; p3 (bonded, no ask) fulfils it
    await p4.postAsk({ circuitId: CIRCUIT, price: 3000n, capacity: 1n });
    await until('assignment to p4', async () => (await request(id)).assignment?.prover === p4.address);
    await until('p4 misses its deadline', async () => (await request(id)).history.some((e) => e.event === 'slashed' && e.prover === p4.address), 60_000);
    r = await request(id);
    t.is(r.status, S.REQUEST_STATUS_FALLBACK); // both asks' provers are excluded: nobody to auction it to
    t.deepEqual(r.excludedProvers, [p2.address, p4.address]);
    const bounty = BigInt(r.bounty);
    t.true(bounty > 0n);
    const slashed = r.history.find((e) => e.event === 'slashed')!;
    t.true(BigInt(slashed.compensation) > 0n, 'the requester was compensated');
    // the excluded provers cannot take the fallback
    const pf = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, input, { singleThread: true });
    await t.throwsAsync(p4.submitProof(id, pf.proofJson, pf.publicJson), { instanceOf: ProofbookTxError, message: /released, missed or declined/ });
    // a valid proof of another statement is refused (the request is bound to its committed signals)
    const wrong = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, { preimage: '4243', nonce: '9' }, { singleThread: true });
    await t.throwsAsync(p3.submitProof(id, wrong.proofJson, wrong.publicJson), { instanceOf: ProofbookTxError, message: /committed to public signals/ });
    const b3 = await p3.signing.getBalance(p3.address, 'uproof');
    const before = await rq.request(id);
    t.true(before.fallbackFee !== undefined && before.fallbackFee <= before.currentFee, 'the fallback fee ramps up to the current fee');
    // a squatter (bonded, not excluded) commits to garbage first and never reveals: p3's commitment comes after it, and
    // the SDK reveals right after its commitment is in a block; the proof is delivered at once, the payment is held
    // until the squatter's window ends (docs/protocol.md "The fallback path")
    const squat = await p5.commitFallbackProof(id, new Uint8Array(256).fill(7), pf.publicJson);
    t.true(squat.revealUntilHeight > 0n, 'the squatter has a window of its own');
    const { paid, commit, payout } = await p3.submitProof(id, pf.proofJson, pf.publicJson);
    t.truthy(commit, 'the SDK committed before revealing');
    t.true(commit!.revealUntilHeight > BigInt(commit!.height), "p3's commitment has a window of its own");
    const done = await waiting; // the requester has the proof now
    t.deepEqual(done.publicSignals, pf.publicJson);
    t.is(done.request.fulfilledHeight > 0n, true);
    const heldPayment = payout !== undefined;
    if (heldPayment) {
      // (unless the squatter's window had already ended when p3 revealed: then p3 was paid at once)
      t.is(paid, 0n, 'nothing paid while the payment is held');
      t.is(payout!.payee, p3.address);
      t.is(payout!.height, squat.revealUntilHeight, 'the payment settles when the squatter window ends');
      t.true(events.includes('fallback_delivered'), `waitForProof reported the delivery (${events.join(',')})`);
    }
    await until('the payment settles', async () => (await request(id)).fallbackPayeeCommitId === 0n, 120_000);
    const after = await request(id);
    t.is(after.fallbackForfeits, 1, 'the squatter forfeited');
    await t.throwsAsync(p5.commitFallbackProof(id, new Uint8Array(256).fill(8), pf.publicJson), { instanceOf: ProofbookTxError }); // the request is done
    t.true(commit!.price >= before.fallbackFee! && commit!.price <= BigInt(r.maxFee), 'the commitment locked a fee at least what the query showed');
    const settled = after.history.at(-1)!;
    t.is(settled.event, 'fallback_fulfilled');
    t.is(settled.prover, p3.address);
    t.is(BigInt(settled.amount), commit!.price, 'the fallback prover is paid the locked fee');
    t.is(BigInt(settled.compensation), bounty, '... plus the bounty');
    if (!heldPayment) t.is(paid, commit!.price - commit!.price / 100n + bounty, 'the fallback prover is paid the locked fee (less 1 %) plus the bounty');
    t.true(BigInt((await p3.signing.getBalance(p3.address, 'uproof')).amount) > BigInt(b3.amount));
    for (const e of ['submitted', 'assigned', 'released', 'slashed']) t.true(events.includes(e), `waitForProof reported '${e}' (${events.join(',')})`);
  } finally {
    if (worker) await worker.stop().catch(() => undefined);
    for (const c of clients) c.disconnect();
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  }
});
