/**
 * `npm run bench -- adversarial [--quick]` (issue 10): the worst block a proposer can build within the block limits,
 * run through the real app (ProcessProposal, FinalizeBlock, Commit on LevelDB), and the time of each step.
 *
 * The block holds, from fresh accounts funded at genesis (the per-account caps do not bind a proposer with many):
 *   - proof stuffing at the caps: max_proofs_per_block (64) invalid-but-well-formed proofs, 16 per tx (the per-tx
 *     cap), in paid txs of the assigned prover — every one reaches the pairing check and the batch holds only bad
 *     proofs, the worst case for bisection;
 *   - REQ_TXS txs of 100 MsgSubmitRequest each (many open requests) and ASK_TXS txs bonding and posting 20 asks each
 *     (many asks), all of which the block's EndBlock auction then clears;
 *   - one unsigned tx with 3,000 MsgSubmitProof for the assigned request (the stuffing tx): ProcessProposal
 *     rejects a proposal holding it, so it is timed alone in a block forced past ProcessProposal.
 * Baseline in the same process: the 64 proofs verified one by one (what a failing batch used to fall back to).
 */
import { createHash } from 'node:crypto';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import * as mcl from 'mcl-wasm';
import { TestChain, devnetKey } from '../test/helpers/chain.js';
import { CIRCUIT, INPUTS, SIGNALS, getProofs, m, type P } from '../test/helpers/market.js';
import { defaultGenesis } from '../genesis/index.js';
import { rawKeyFromPrivkey, type RawKey } from '../src/client/sign.js';
import { decodeProof, encodeProof } from '../src/zk/groth16.js';
import { verifyOne, pairingStats } from '../src/zk/verifier.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import type { VerifierKeeperImpl } from '../modules/verifier/keeper.js';
import { ResponseProcessProposal_ProposalStatus } from 'cosmjs-types/tendermint/abci/types';
import { printTable, type BenchRow } from './table.js';

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

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

const freshKey = (i: number): RawKey => rawKeyFromPrivkey(createHash('sha256').update(`bench/adversarial/${i}`).digest());

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const REQ_TXS = quick ? 5 : 50;
  const ASK_TXS = quick ? 5 : 50;
  const [pf] = await getProofs();
  const requesters = Array.from({ length: REQ_TXS }, (_, i) => freshKey(i));
  const askers = Array.from({ length: ASK_TXS }, (_, i) => freshKey(10_000 + i));
  const appState = defaultGenesis() as any;
  for (const k of [...requesters, ...askers]) appState.bank.balances.push({ address: k.address, coins: [{ denom: 'uproof', amount: '1000000000000' }] });
  const chain = await TestChain.create({ appState, checkInvariants: false });
  try {
    // An assigned request for the stuffing txs (prover devnet1).
    const [requester, prover] = [await devnetKey(0), await devnetKey(1)];
    const sign = (k: RawKey, msgs: any[], gas = 50_000_000n, seq?: bigint) => chain.sign(k, { msgs, fee: [{ denom: 'uproof', amount: gas / 1000n }], gasLimit: gas }, seq);
    await chain.block([await sign(prover, [m.bond(prover, 10_000_000n), m.ask(prover, 5000n, 2n)])]);
    await chain.block([await sign(requester, [m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 1000n, window: 500n, expect: pf.signals })])]);

    // The adversarial block.
    const bad = wrongProofs(pf, 64);
    const acc = (await chain.account(prover.address))!;
    const proofTxs: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) proofTxs.push(await sign(prover, bad.slice(i * 16, i * 16 + 16).map((p) => m.proof(prover, 1n, p)), 5_000_000n, acc.sequence + BigInt(i)));
    const reqTxs: Uint8Array[] = [];
    for (const k of requesters) {
      const msgs = Array.from({ length: 100 }, (_, j) => m.request(k, { maxFee: 10_000n, expiry: chain.app.height + 1000n, window: 500n, input: j % 2, expect: SIGNALS[j % 2] }));
      reqTxs.push(await sign(k, msgs));
    }
    const askTxs: Uint8Array[] = [];
    for (const k of askers) askTxs.push(await sign(k, [m.bond(k, 100_000_000_000n), ...Array.from({ length: 20 }, (_, j) => m.ask(k, 1000n + BigInt(j), 10n))]));
    const txs = [...askTxs, ...reqTxs, ...proofTxs];
    const bytes = txs.reduce((s, t) => s + t.length, 0);

    const height = chain.app.height + 1n;
    const time = { seconds: 1_800_000_000n + height, nanos: 0 };
    const base = { hash: new Uint8Array(32), height, time, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20), misbehavior: [] };
    let t0 = process.hrtime.bigint();
    const pp = await chain.app.processProposal({ ...base, txs, proposedLastCommit: undefined as any });
    const ppMs = ms(t0);
    if (pp.status !== ResponseProcessProposal_ProposalStatus.ACCEPT) throw new Error('adversarial block rejected by ProcessProposal');
    const p0 = { ...pairingStats };
    t0 = process.hrtime.bigint();
    const fb = await chain.app.finalizeBlock({ ...base, txs, decidedLastCommit: undefined as any });
    const fbMs = ms(t0);
    const pairings = pairingStats.singleChecks - p0.singleChecks + pairingStats.combinedChecks - p0.combinedChecks;
    t0 = process.hrtime.bigint();
    await chain.app.commit();
    const commitMs = ms(t0);
    const ok = fb.txResults.filter((r) => r.code === 0).length;
    const broken = chain.app.checkInvariants();
    if (broken.length) throw new Error(`invariants broken: ${broken.join('; ')}`);

    // The proof part alone: another 64 invalid proofs (not in the verdict cache), nothing else in the block.
    const fresh = wrongProofs(pf, 128).slice(64);
    const acc2 = (await chain.account(prover.address))!;
    const onlyProofs: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) onlyProofs.push(await sign(prover, fresh.slice(i * 16, i * 16 + 16).map((p) => m.proof(prover, 1n, p)), 5_000_000n, acc2.sequence + BigInt(i)));
    const h1 = chain.app.height + 1n;
    const base1 = { ...base, height: h1, time: { seconds: time.seconds + 1n, nanos: 0 } };
    t0 = process.hrtime.bigint();
    await chain.app.finalizeBlock({ ...base1, txs: onlyProofs, decidedLastCommit: undefined as any });
    const proofsOnlyMs = ms(t0);
    await chain.app.commit();

    // The stuffing tx: 3,000 MsgSubmitProof for the assigned request, signature invalid.
    const stuffed = TxRaw.decode(await sign(prover, wrongProofs(pf, 3000).map((p) => m.proof(prover, 1n, p)), 50_000_000n));
    stuffed.signatures[0] = new Uint8Array(64);
    const stuffedTx = TxRaw.encode(stuffed).finish();
    const h2 = chain.app.height + 1n;
    const base2 = { ...base, height: h2, time: { seconds: time.seconds + 2n, nanos: 0 } };
    const pp2 = await chain.app.processProposal({ ...base2, txs: [stuffedTx], proposedLastCommit: undefined as any });
    const p1 = { ...pairingStats };
    t0 = process.hrtime.bigint();
    const fb2 = await chain.app.finalizeBlock({ ...base2, txs: [stuffedTx], decidedLastCommit: undefined as any });
    const stuffMs = ms(t0);
    await chain.app.commit();
    const stuffPairings = pairingStats.singleChecks - p1.singleChecks + pairingStats.combinedChecks - p1.combinedChecks;

    // Baseline: the 64 proofs one by one.
    const keeper = chain.app.modules.keepers.verifier as VerifierKeeperImpl;
    const circuit = keeper.circuit(new (await import('../src/framework/context.js')).Context(new (await import('../src/store/cache.js')).CacheKV(chain.app.store), { chainId: '', height: 0n, timeSeconds: 0n }, 'query'), CIRCUIT)!;
    const prepared = keeper.prepared(circuit);
    t0 = process.hrtime.bigint();
    for (const p of bad) verifyOne(prepared, decodeProof(p.proof), p.signals.map(BigInt));
    const singlesMs = ms(t0);

    const rows: BenchRow[] = [
      { name: 'baseline: the 64 proofs verified one by one', value: singlesMs, unit: 'ms' },
      { name: `ProcessProposal (${txs.length} txs, ${(bytes / 1e6).toFixed(2)} MB)`, value: ppMs, unit: 'ms' },
      { name: 'FinalizeBlock of the worst block', value: fbMs, unit: 'ms', target: '≤ 1000 ms', note: `${ok}/${txs.length} txs ok; ${REQ_TXS * 100} requests, ${ASK_TXS * 20} asks, 64 invalid proofs (${pairings} pairing checks)` },
      { name: 'Commit of the worst block', value: commitMs, unit: 'ms' },
      { name: 'FinalizeBlock, the 64 invalid proofs alone (4 paid txs)', value: proofsOnlyMs, unit: 'ms', baseline: 'baseline: the 64 proofs verified one by one', lowerIsBetter: true },
      { name: 'FinalizeBlock, unsigned 3,000-proof tx (forced past ProcessProposal)', value: stuffMs, unit: 'ms', note: `ProcessProposal: ${pp2.status === ResponseProcessProposal_ProposalStatus.REJECT ? 'REJECT' : 'ACCEPT'}; code ${fb2.txResults[0].code}; ${stuffPairings} pairing checks` },
    ];
    printTable(`adversarial block (${quick ? 'quick' : 'full'}; inputs ${INPUTS.length})`, rows);
  } finally {
    await chain.close();
    await terminateSnarkjs();
  }
}
