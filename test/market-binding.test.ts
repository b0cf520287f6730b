/**
 * Issue 10 #1: a proof is bound to its request. Every request commits to the full public signals its proof must have;
 * a proof of another statement is never paid (not another request's proof, not one copied from the mempool into a
 * different assignment), while identical statements may share one proof. Real app on LevelDB (invariants after
 * every block), real snarkjs proofs.
 */
import test from 'ava';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { publicSignalsFromInput } from '../src/zk/witness.js';
import { GENESIS_CIRCUIT } from '../src/zk/genesis.js';
import { ESCROW, FEE, S, SIGNALS, INPUTS, balance, bondedOf, failing, getProofs, m, ok, request, setup, txs } from './helpers/market.js';

test.after.always(() => terminateSnarkjs());

test('the witness generator gives the signals snarkjs proves (the commitment a requester computes is the statement)', async (t) => {
  const [pf, pf2] = await getProofs();
  t.deepEqual(SIGNALS[0], pf.signals);
  t.deepEqual(SIGNALS[1], pf2.signals);
  t.notDeepEqual(SIGNALS[0], SIGNALS[1]);
  await t.throwsAsync(publicSignalsFromInput(GENESIS_CIRCUIT.wasmPath, { preimage: 'not-a-number', nonce: '1' }, 2), { message: /witness generator rejects the input/ });
});

test('a request without expected public signals is refused with a clear error and changes nothing', async (t) => {
  const { chain, requester } = await setup();
  t.teardown(() => chain.close());
  const b0 = await balance(chain, requester.address);
  const msg = m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n, expect: [] });
  const r = await failing(chain, requester, msg);
  t.not(r.check.code, 0);
  t.regex(r.check.log, /expected_public_signals is required/);
  t.not(r.result.code, 0);
  t.regex(r.result.log, /expected_public_signals is required/);
  t.is(await balance(chain, requester.address), b0); // refused before execution (validateBasic): no fee either
  t.is(await balance(chain, ESCROW), 0n);
  await t.throwsAsync(request(chain, 1n), { message: /not found/ });
});

test("a proof of another request's statement is refused: the assigned prover is not paid and keeps its lock", async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, 5000n, 2n));
  // request 1 (statement 0) is fulfilled honestly; its proof is now public on chain
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n, input: 0 }));
  await ok(chain, p1, m.proof(p1, 1n, pf));
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FULFILLED);
  // request 2 is statement 1; the prover submits the proof already on chain for statement 0
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n, input: 1 }));
  const before = await Promise.all([balance(chain, p1.address), balance(chain, ESCROW), bondedOf(chain, p1.address)]);
  const res = await failing(chain, p1, m.proof(p1, 2n, pf));
  t.not(res.result.code, 0);
  t.is(res.result.codespace, 'market');
  t.regex(res.result.log, /committed to public signals/);
  const rq = (await request(chain, 2n)).request;
  t.is(rq.status, S.REQUEST_STATUS_ASSIGNED);
  t.deepEqual(rq.expectedPublicSignals, SIGNALS[1]);
  t.deepEqual(await Promise.all([balance(chain, p1.address), balance(chain, ESCROW), bondedOf(chain, p1.address)]), [before[0] - FEE, before[1], before[2]]);
});

test('a pending proof copied from the mempool into a different assignment pays nothing; the original prover is paid', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await txs(chain, [[p1, [m.ask(p1, 5000n, 1n)]], [p2, [m.ask(p2, 5000n, 1n)]]]);
  // request 1 (statement 0) and request 2 (statement 1), one to each prover
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n, input: 0 }), m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n, input: 1 }));
  const [r1, r2] = [(await request(chain, 1n)).request, (await request(chain, 2n)).request];
  t.is(r1.status, S.REQUEST_STATUS_ASSIGNED);
  t.is(r2.status, S.REQUEST_STATUS_ASSIGNED);
  const [honest, copier] = r1.assignment!.prover === p1.address ? [p1, p2] : [p2, p1];
  t.is(r2.assignment!.prover, copier.address);
  const b = await Promise.all([balance(chain, honest.address), balance(chain, copier.address)]);
  // the copier sees the honest prover's MsgSubmitProof and puts the same proof and signals into its own assignment
  // (straight to FinalizeBlock, as a proposer could include it: CheckTx would already refuse the copy)
  const tx1 = await chain.sign(honest, { msgs: [m.proof(honest, 1n, pf)], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: 5_000_000n });
  const tx2 = await chain.sign(copier, { msgs: [m.proof(copier, 2n, pf)], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: 5_000_000n });
  t.regex((await chain.checkTx(tx2)).log, /committed to public signals/);
  const res = await chain.rawBlock([tx1, tx2]);
  t.deepEqual(chain.app.checkInvariants(), []);
  t.is(res.txResults[0].code, 0);
  t.not(res.txResults[1].code, 0);
  t.regex(res.txResults[1].log, /committed to public signals/);
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FULFILLED);
  t.is((await request(chain, 2n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  const price = BigInt(r1.assignment!.price);
  t.is(await balance(chain, honest.address), b[0] - FEE + price - price / 100n); // price less the 1 % protocol fee
  t.is(await balance(chain, copier.address), b[1] - FEE);
});

test('identical statements may share one proof: two requests for the same statement are both fulfilled by it', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await txs(chain, [[p1, [m.ask(p1, 5000n, 1n)]], [p2, [m.ask(p2, 5000n, 1n)]]]);
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n }), m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n }));
  const a1 = (await request(chain, 1n)).request.assignment!.prover;
  const [k1, k2] = a1 === p1.address ? [p1, p2] : [p2, p1];
  const res = await txs(chain, [[k1, [m.proof(k1, 1n, pf)]], [k2, [m.proof(k2, 2n, pf)]]]);
  t.deepEqual(res.txResults.map((r) => r.code), [0, 0]);
  t.deepEqual((await request(chain, 2n)).request.publicSignals, SIGNALS[0]);
  t.is(JSON.stringify(INPUTS[0]), Buffer.from((await request(chain, 2n)).request.inputInline).toString());
});
