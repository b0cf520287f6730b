/**
 * Issue 10 item 6: no unauthenticated or unpaid request makes the node verify a proof on the consensus queue.
 * CheckTx, recheck and Simulate defer proof verification to the block (as the Cosmos SDK's CheckTx runs only the
 * ante handler); an invalid proof then fails in the block and its sender pays the fee.
 */
import test from 'ava';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { SimulateRequest, SimulateResponse } from 'cosmjs-types/cosmos/tx/v1beta1/service';
import * as mcl from 'mcl-wasm';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { pairingStats } from '../src/zk/verifier.js';
import { decodeProof, encodeProof } from '../src/zk/groth16.js';
import { FEE, GAS, S, balance, getProofs, m, ok, request, setup, type P } from './helpers/market.js';

test.after.always(() => terminateSnarkjs());

function tampered(pf: P): P {
  const proof = decodeProof(pf.proof);
  const a = new mcl.G1();
  a.setStr(`1 ${proof.a.x.toString(16)} ${proof.a.y.toString(16)}`, 16);
  const [, x, y] = mcl.normalize(mcl.add(a, a)).getStr(16).split(' ');
  return { proof: encodeProof({ ...proof, a: { x: BigInt('0x' + x), y: BigInt('0x' + y) } }), signals: pf.signals };
}

const pairings = () => pairingStats.singleChecks + pairingStats.combinedChecks;

test.serial('CheckTx and Simulate verify no proof; an invalid proof fails in the block and its sender pays the fee', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, 5000n, 2n));
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n, window: 20n, expect: pf.signals }));
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  const bad = tampered(pf);
  const tx = await chain.sign(p1, { msgs: [m.proof(p1, 1n, bad)], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: GAS });

  // Simulate with no signature at all (what the attacker sent): gas estimated, no pairing computed.
  const unsigned = TxRaw.decode(tx);
  unsigned.signatures = [new Uint8Array()];
  const p0 = pairings();
  const sim = await chain.query('/cosmos.tx.v1beta1.Service/Simulate', SimulateRequest.encode({ txBytes: TxRaw.encode(unsigned).finish() }).finish());
  t.is(sim.code, 0, sim.log);
  t.true(SimulateResponse.decode(sim.value).gasInfo!.gasUsed >= 150_000n, 'verification gas is in the estimate');
  t.is(pairings(), p0, 'Simulate computed no pairing');

  // CheckTx admits it without verifying (no free verification for the assigned prover's spam)...
  const check = await chain.checkTx(tx);
  t.is(check.code, 0, check.log);
  t.is(pairings(), p0, 'CheckTx computed no pairing');

  // ...and the block verifies it: the tx fails, the prover pays the fee, the request stays assigned.
  const b0 = await balance(chain, p1.address);
  const res = await chain.block([tx]);
  t.is(res.txResults.length, 1);
  t.not(res.txResults[0].code, 0);
  t.regex(res.txResults[0].log, /does not verify/);
  t.true(pairings() > p0);
  t.is(await balance(chain, p1.address), b0 - FEE);
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_ASSIGNED);

  // The valid proof still goes through CheckTx and the block.
  const good = await chain.sign(p1, { msgs: [m.proof(p1, 1n, pf)], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: GAS });
  t.is((await chain.checkTx(good)).code, 0);
  t.is((await chain.block([good])).txResults[0].code, 0);
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FULFILLED);
});
