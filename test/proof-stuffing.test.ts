/**
 * Issue 10 item 4: proposal stuffing. No proof of a tx is verified in FinalizeBlock before that tx's signature and
 * fee pass; proof work is capped per tx (CheckTx, ProcessProposal) and per block (PrepareProposal, ProcessProposal).
 */
import test from 'ava';
import { ResponseProcessProposal_ProposalStatus } from 'cosmjs-types/tendermint/abci/types';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { defaultGenesis } from '../genesis/index.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { pairingStats } from '../src/zk/verifier.js';
import * as mcl from 'mcl-wasm';
import { decodeProof, encodeProof } from '../src/zk/groth16.js';
import type { VerifierKeeperImpl } from '../modules/verifier/keeper.js';
import type { TestChain } from './helpers/chain.js';
import type { RawKey } from '../src/client/sign.js';
import { FEE, GAS, S, getProofs, m, ok, request, setup, type P } from './helpers/market.js';

test.after.always(() => terminateSnarkjs());

const { ACCEPT, REJECT } = ResponseProcessProposal_ProposalStatus;

/** n distinct well-formed proofs of the request's statement that fail only the pairing check: A replaced by [k]A. */
function wrongProofs(pf: P, n: number): P[] {
  const proof = decodeProof(pf.proof);
  const a = new mcl.G1();
  a.setStr(`1 ${proof.a.x.toString(16)} ${proof.a.y.toString(16)}`, 16);
  return Array.from({ length: n }, (_, i) => {
    const k = new mcl.Fr();
    k.setInt(i + 2);
    const [, x, y] = mcl.normalize(mcl.mul(a, k)).getStr(16).split(' ');
    return { proof: encodeProof({ ...proof, a: { x: BigInt('0x' + x), y: BigInt('0x' + y) } }), signals: pf.signals };
  });
}

async function proofTx(chain: TestChain, k: RawKey, requestId: bigint, proofs: P[], gasLimit = GAS * 4n): Promise<Uint8Array> {
  return chain.sign(k, { msgs: proofs.map((p) => m.proof(k, requestId, p)), fee: [{ denom: 'uproof', amount: gasLimit / 1000n }], gasLimit });
}

function processProposal(chain: TestChain, txs: Uint8Array[]) {
  return chain.app.processProposal({ txs, proposedLastCommit: undefined as any, misbehavior: [], hash: new Uint8Array(32), height: chain.app.height + 1n, time: { seconds: 1_800_000_000n, nanos: 0 }, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20) });
}

const verifierStats = (chain: TestChain) => ({ ...(chain.app.modules.keepers.verifier as VerifierKeeperImpl).stats, ...pairingStats });

async function assigned(chain: TestChain, requester: RawKey, p1: RawKey, pf: P) {
  await ok(chain, p1, m.ask(p1, 5000n, 2n));
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n, window: 20n, expect: pf.signals }));
  const rq = (await request(chain, 1n)).request;
  if (rq.status !== S.REQUEST_STATUS_ASSIGNED) throw new Error('request 1 not assigned');
}

test.serial('a block tx with a bad signature gets none of its proofs verified; a paid one is batch-verified', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  await assigned(chain, requester, p1, pf);
  (chain.app.modules.keepers.verifier as VerifierKeeperImpl).clearCaches();

  // The assigned prover's own message (so filtering by prover does not help), signature broken.
  const signed = TxRaw.decode(await proofTx(chain, p1, 1n, wrongProofs(pf, 12)));
  signed.signatures[0][5] ^= 1;
  const forged = TxRaw.encode(signed).finish();
  t.is((await processProposal(chain, [forged])).status, ACCEPT); // decodes, within the caps
  const before = verifierStats(chain);
  const res = await chain.rawBlock([forged]);
  t.is(res.txResults[0].code, 4, res.txResults[0].log); // unauthorized
  const after = verifierStats(chain);
  t.is(after.batchedProofs - before.batchedProofs, 0, 'no proof of the unsigned tx was batch-verified');
  t.is(after.singleChecks + after.combinedChecks, before.singleChecks + before.combinedChecks, 'no pairing was computed');
  t.deepEqual(chain.app.checkInvariants(), []);

  // The same proofs in a properly signed (paying) tx are batch-verified ahead of execution, and the tx fails on the
  // first invalid proof having paid its fee.
  const paid = await proofTx(chain, p1, 1n, wrongProofs(pf, 12));
  const res2 = await chain.rawBlock([paid]);
  t.not(res2.txResults[0].code, 0);
  t.regex(res2.txResults[0].log, /does not verify/);
  const after2 = verifierStats(chain);
  t.is(after2.batchedProofs - after.batchedProofs, 12);
  t.true(after2.verdictHits > after.verdictHits, 'execution used the batch verdicts');
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  t.deepEqual(chain.app.checkInvariants(), []);
});

test.serial('per-tx proof cap: CheckTx refuses, ProcessProposal rejects, FinalizeBlock fails the tx before its ante', async (t) => {
  const [pf] = await getProofs();
  const { chain, requester, p1 } = await setup();
  t.teardown(() => chain.close());
  await assigned(chain, requester, p1, pf);
  const tx = await proofTx(chain, p1, 1n, wrongProofs(pf, 17), 25_000_000n);
  const check = await chain.checkTx(tx);
  t.is(check.code, 18, check.log);
  t.regex(check.log, /17 proofs; verifier params.max_proofs_per_tx is 16/);
  t.is((await processProposal(chain, [tx])).status, REJECT);
  const seq = (await chain.account(p1.address))!.sequence;
  const before = verifierStats(chain);
  const res = await chain.rawBlock([tx]);
  t.is(res.txResults[0].code, 18);
  t.is((await chain.account(p1.address))!.sequence, seq, 'refused before the ante handler: nothing charged');
  t.is(verifierStats(chain).batchedProofs, before.batchedProofs);
});

test.serial('per-block proof cap: ProcessProposal rejects a proposal over it; PrepareProposal stops at it', async (t) => {
  const [pf1, pf2] = await getProofs();
  const appState = defaultGenesis() as any;
  appState.verifier.params.max_proofs_per_block = '1';
  const { chain, requester, p1 } = await setup(appState);
  t.teardown(() => chain.close());
  await ok(chain, p1, m.ask(p1, 5000n, 2n));
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n, window: 20n, expect: pf1.signals, input: 0 }));
  await ok(chain, requester, m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 50n, window: 20n, expect: pf2.signals, input: 1 }));
  t.is((await request(chain, 2n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  const acc = (await chain.account(p1.address))!;
  const tx1 = await chain.sign(p1, { msgs: [m.proof(p1, 1n, pf1)], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: GAS }, acc.sequence);
  const tx2 = await chain.sign(p1, { msgs: [m.proof(p1, 2n, pf2)], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: GAS }, acc.sequence + 1n);
  t.is((await chain.checkTx(tx1)).code, 0);
  t.is((await chain.checkTx(tx2)).code, 0);
  t.is((await processProposal(chain, [tx1, tx2])).status, REJECT);
  t.is((await processProposal(chain, [tx1])).status, ACCEPT);
  // chain.block runs PrepareProposal on both: only the first fits the block's cap.
  const b = await chain.block([tx1, tx2]);
  t.is(b.txResults.length, 1);
  t.is(b.txResults[0].code, 0, b.txResults[0].log);
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_FULFILLED);
  t.is((await request(chain, 2n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  const b2 = await chain.block([tx2]);
  t.is(b2.txResults[0].code, 0, b2.txResults[0].log);
  t.is((await request(chain, 2n)).request.status, S.REQUEST_STATUS_FULFILLED);
});

test.serial('batch pre-verification: proofs of other signals, or from a prover who may not fulfil the request, cost no pairing', async (t) => {
  const [pf, pf2] = await getProofs();
  const { chain, requester, p1, p2 } = await setup();
  t.teardown(() => chain.close());
  await assigned(chain, requester, p1, pf);
  (chain.app.modules.keepers.verifier as VerifierKeeperImpl).clearCaches();
  // The assigned prover, paying, with well-formed proofs of another statement (request 1 committed to pf's signals).
  const otherSignals = wrongProofs(pf, 6).map((p) => ({ ...p, signals: pf2.signals }));
  const mismatched = await proofTx(chain, p1, 1n, otherSignals, GAS * 2n);
  // A bonded prover that is not assigned request 1 (and the request is not in the fallback), with the right signals.
  const notAssigned = await proofTx(chain, p2, 1n, wrongProofs(pf, 6), GAS * 2n);
  const before = verifierStats(chain);
  const res = await chain.rawBlock([mismatched, notAssigned]);
  t.regex(res.txResults[0].log, /committed to public signals/);
  t.regex(res.txResults[1].log, /is assigned to/);
  const after = verifierStats(chain);
  t.is(after.batchedProofs - before.batchedProofs, 0, 'none of them joined the batch');
  t.is(after.singleChecks + after.combinedChecks, before.singleChecks + before.combinedChecks, 'no pairing was computed');
  t.is((await request(chain, 1n)).request.status, S.REQUEST_STATUS_ASSIGNED);
  t.deepEqual(chain.app.checkInvariants(), []);
});

test.serial('block gas limit: CheckTx refuses a tx over it, ProcessProposal rejects a proposal over it, FinalizeBlock runs nothing past it', async (t) => {
  const appState = defaultGenesis() as any;
  const { chain, requester, p1 } = await setup(appState);
  t.teardown(() => chain.close());
  const { DEFAULT_BLOCK_MAX_GAS } = await import('../app/tx/block-gas.js');
  const send = (k: RawKey, gasLimit: bigint, seq?: bigint) =>
    chain.sign(k, { msgs: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: k.address, toAddress: requester.address, amount: [{ denom: 'uproof', amount: '1' }] }).finish() }], fee: [{ denom: 'uproof', amount: gasLimit / 1000n + 1n }], gasLimit }, seq);
  const tooBig = await send(p1, DEFAULT_BLOCK_MAX_GAS + 1n);
  const c = await chain.checkTx(tooBig);
  t.is(c.code, 41, c.log);
  t.regex(c.log, /exceeds the block gas limit/);
  // Two txs that each fit but together do not.
  const half = DEFAULT_BLOCK_MAX_GAS / 2n + 1n;
  const seq = (await chain.account(p1.address))!.sequence;
  const a = await send(p1, half, seq);
  const b = await send(p1, half, seq + 1n);
  t.is((await chain.checkTx(a)).code, 0);
  t.is((await processProposal(chain, [a, b])).status, REJECT);
  t.is((await processProposal(chain, [a])).status, ACCEPT);
  const forced = await chain.rawBlock([a, b]);
  t.is(forced.txResults[0].code, 0, forced.txResults[0].log);
  t.is(forced.txResults[1].code, 11, forced.txResults[1].log);
  t.is(forced.txResults[1].gasUsed, 0n);
  t.is((await chain.account(p1.address))!.sequence, seq + 1n, 'the tx past the limit did not run its ante handler');
  t.deepEqual(chain.app.checkInvariants(), []);
});
