/**
 * `npm run bench -- adversarial [--quick]` (issue 10): the worst block a proposer can build within the block limits,
 * run through the real app (ProcessProposal, FinalizeBlock, Commit on LevelDB), and the time of each step.
 *
 * A proposer controls which txs are in its block, but every tx must be paid and signed, and the block is bounded by
 * the block gas limit (app/tx/block-gas.ts) and the proof caps (verifier params max_proofs_per_tx,
 * max_proofs_per_block, max_verify_gas_per_block). So the worst block is: the proof caps filled with
 * invalid-but-well-formed proofs (bisection's worst case: every proof in the batch is bad), and the rest of the gas
 * spent on whichever tx kind costs the most time per gas. The bench builds one such block per costly tx kind, from
 * accounts funded at genesis (fresh accounts: per-account caps do not bind a proposer with many), every tx signed with
 * a gas limit just above what it uses (what an attacker would do):
 *   - `requests-64k`: MsgSubmitRequest with a 64 KiB inline input (params.max_inline_input_bytes), 3 per tx;
 *   - `requests-matched`: 100 small MsgSubmitRequest per tx, all matched by asks in the block's EndBlock auction;
 *   - `asks`: MsgBond + 20 MsgPostAsk per tx from fresh provers (many asks), priced to fill the open requests below;
 *   - `sends`: one MsgSend per tx from a fresh account (one uncached signature check each);
 * with all four on top of 2,000 (quick: 500) open requests at the minimum fee that the setup's asks (2,000) do not fill
 * (the `asks` block's asks do, which makes that block's auction assign them). It also times the proofs alone, the next empty
 * block (what the state left behind costs every block), and the stuffing tx (3,000 MsgSubmitProof, invalid
 * signature) forced past ProcessProposal. Baseline in the same process: the block's proofs verified one by one.
 */
import { MAX_ASKS_PER_CIRCUIT } from '../modules/market/keys.js';
import { createHash } from 'node:crypto';
import { AuthInfo, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { SimulateRequest, SimulateResponse } from 'cosmjs-types/cosmos/tx/v1beta1/service';
import * as mcl from 'mcl-wasm';
import { TestChain, devnetKey } from '../test/helpers/chain.js';
import { CIRCUIT, INPUTS, SIGNALS, getProofs, m, type Msg, type P } from '../test/helpers/market.js';
import { defaultGenesis } from '../genesis/index.js';
import { rawKeyFromPrivkey, type RawKey } from '../src/client/sign.js';
import { decodeProof, encodeProof } from '../src/zk/groth16.js';
import { verifyOne, pairingStats } from '../src/zk/verifier.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { Context } from '../src/framework/context.js';
import { CacheKV } from '../src/store/cache.js';
import { MsgSubmitRequest } from '../src/gen/proofbook/market/v1/market.js';
import type { VerifierKeeperImpl } from '../modules/verifier/keeper.js';
import { verifierParams } from '../modules/verifier/keeper.js';
import { proofCaps } from '../modules/verifier/keys.js';
import { blockMaxGas } from '../app/tx/block-gas.js';
import { ResponseProcessProposal_ProposalStatus } from 'cosmjs-types/tendermint/abci/types';
import { printTable, type BenchRow } from './table.js';

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const { ACCEPT, REJECT } = ResponseProcessProposal_ProposalStatus;

let proofSalt = 2;
/** n distinct invalid proofs: pf's A point times 2, 3, … (on the curve and in the subgroup, so each reaches the pairing). */
function wrongProofs(pf: P, n: number): P[] {
  const proof = decodeProof(pf.proof);
  const a = new mcl.G1();
  a.setStr(`1 ${proof.a.x.toString(16)} ${proof.a.y.toString(16)}`, 16);
  return Array.from({ length: n }, () => {
    const k = new mcl.Fr();
    k.setInt(proofSalt++);
    const [, x, y] = mcl.normalize(mcl.mul(a, k)).getStr(16).split(' ');
    return { proof: encodeProof({ ...proof, a: { x: BigInt('0x' + x), y: BigInt('0x' + y) } }), signals: pf.signals };
  });
}

const freshKey = (tag: string, i: number): RawKey => rawKeyFromPrivkey(createHash('sha256').update(`bench/adversarial/${tag}/${i}`).digest());
const send = (from: RawKey, to: string): Msg => ({ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from.address, toAddress: to, amount: [{ denom: 'uproof', amount: '1' }] }).finish() });

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const OPEN = quick ? 500 : 2000;
  const POOL = 1200; // fresh accounts per kind (more than a block of sends needs)
  const [pf] = await getProofs();
  const pools: Record<string, RawKey[]> = {};
  const MANY_ASKS = quick ? 2000 : 5000;
  const size: Record<string, number> = { sends: POOL, open: Math.ceil(OPEN / 100), asks2: MANY_ASKS / 20 };
  for (const tag of ['req64', 'reqm', 'asks', 'sends', 'open', 'askers', 'asks2']) pools[tag] = Array.from({ length: size[tag] ?? 120 }, (_, i) => freshKey(tag, i));
  const appState = defaultGenesis() as any;
  for (const k of Object.values(pools).flat()) appState.bank.balances.push({ address: k.address, coins: [{ denom: 'uproof', amount: '1000000000000' }] });
  const chain = await TestChain.create({ appState, checkInvariants: false });
  const rows: BenchRow[] = [];
  try {
    const qctx = () => new Context(new CacheKV(chain.app.store), { chainId: '', height: chain.app.height, timeSeconds: 0n }, 'query');
    const caps = proofCaps(verifierParams(qctx()));
    const gasLimit = blockMaxGas(chain.app.store);
    const nProofs = Number(caps.perBlock);
    const perTx = Number(caps.perTx);

    const signed = async (k: RawKey, msgs: Msg[], gas: bigint, seq?: bigint) => chain.sign(k, { msgs, fee: [{ denom: 'uproof', amount: gas / 1000n + 1n }], gasLimit: gas }, seq);
    /** Gas used by a tx as Simulate reports it, plus 3 % (an attacker's tight gas limit). */
    const tightGas = async (k: RawKey, msgs: Msg[]) => {
      const tx = await signed(k, msgs, 50_000_000n);
      const r = await chain.query('/cosmos.tx.v1beta1.Service/Simulate', SimulateRequest.encode({ txBytes: tx }).finish());
      if (r.code !== 0) throw new Error(`simulate failed: ${r.log}`);
      return (SimulateResponse.decode(r.value).gasInfo!.gasUsed * 103n) / 100n + 2000n;
    };

    // Setup: an assigned request for the proof txs (prover devnet1), asks with room for many matches, open requests.
    const [requester, prover] = [await devnetKey(0), await devnetKey(1)];
    await chain.block([await signed(prover, [m.bond(prover, 10_000_000n), m.ask(prover, 5000n, 2n)], 5_000_000n)]);
    await chain.block([await signed(requester, [m.request(requester, { maxFee: 10_000n, expiry: chain.app.height + 5000n, window: 4000n, expect: pf.signals })], 5_000_000n)]);
    const setup: Uint8Array[] = [];
    for (const k of pools.askers.slice(0, 50)) setup.push(await signed(k, [m.bond(k, 100_000_000_000n), m.ask(k, 2000n, 100n)], 5_000_000n));
    for (const k of pools.open) setup.push(await signed(k, Array.from({ length: 100 }, () => m.request(k, { maxFee: 1000n, expiry: chain.app.height + 50_000n, window: 500n })), 50_000_000n));
    for (let i = 0; i < setup.length; i += 20) await chain.block(setup.slice(i, i + 20));

    // The proof txs at the caps, from the assigned prover (fresh invalid proofs each time: no cached verdicts).
    const proofTxs = async () => {
      const acc = (await chain.account(prover.address))!;
      const bad = wrongProofs(pf, nProofs);
      const out: Uint8Array[] = [];
      for (let i = 0; i * perTx < nProofs; i++) {
        const msgs = bad.slice(i * perTx, (i + 1) * perTx).map((p) => m.proof(prover, 1n, p));
        const gas = (caps.gasPerBlock * BigInt(msgs.length)) / BigInt(nProofs) + 500_000n;
        out.push(await signed(prover, msgs, gas, acc.sequence + BigInt(i)));
      }
      return out;
    };
    const wantOf = (t: Uint8Array) => AuthInfo.decode(TxRaw.decode(t).authInfoBytes).fee?.gasLimit ?? 0n;
    const gasOf = (txs: Uint8Array[]) => txs.reduce((s, t) => s + wantOf(t), 0n);

    /** Times ProcessProposal, FinalizeBlock and Commit of one block. */
    const timeBlock = async (txs: Uint8Array[]) => {
      const height = chain.app.height + 1n;
      const base = { hash: new Uint8Array(32), height, time: { seconds: 1_800_000_000n + height, nanos: 0 }, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20), misbehavior: [] };
      let t0 = process.hrtime.bigint();
      const pp = await chain.app.processProposal({ ...base, txs, proposedLastCommit: undefined as any });
      const ppMs = ms(t0);
      const p0 = { ...pairingStats };
      t0 = process.hrtime.bigint();
      const fb = await chain.app.finalizeBlock({ ...base, txs, decidedLastCommit: undefined as any });
      const fbMs = ms(t0);
      const pairings = pairingStats.singleChecks - p0.singleChecks + pairingStats.combinedChecks - p0.combinedChecks;
      t0 = process.hrtime.bigint();
      await chain.app.commit();
      const commitMs = ms(t0);
      const okCount = fb.txResults.filter((r) => r.code === 0).length;
      const gasUsed = fb.txResults.reduce((s, r) => s + r.gasUsed, 0n);
      return { pp: pp.status, ppMs, fbMs, commitMs, pairings, okCount, gasUsed, n: txs.length };
    };

    // The tx kinds, each as a function building txs from a pool until `budget` gas is spent.
    const big = Buffer.alloc(65_536, 0x61);
    const bigRequest = (k: RawKey): Msg => ({
      typeUrl: '/proofbook.market.v1.MsgSubmitRequest',
      value: MsgSubmitRequest.encode(MsgSubmitRequest.fromPartial({
        requester: k.address, circuitId: CIRCUIT, inputInline: big, expectedPublicSignals: SIGNALS[0], minFee: '1000', maxFee: '1000',
        provingWindow: 500n, expiryHeight: chain.app.height + 50_000n, minCollateral: '0',
      })).finish(),
    });
    const kinds: { name: string; pool: RawKey[]; msgs: (k: RawKey) => Msg[] }[] = [
      { name: 'requests-64k (3 × 64 KiB inline input per tx)', pool: pools.req64, msgs: (k) => [bigRequest(k), bigRequest(k), bigRequest(k)] },
      { name: 'requests-matched (100 per tx, all assigned by the auction)', pool: pools.reqm, msgs: (k) => Array.from({ length: 100 }, (_, j) => m.request(k, { maxFee: 10_000n, expiry: chain.app.height + 50_000n, window: 500n, input: j % 2, expect: SIGNALS[j % 2] })) },
      { name: 'asks (MsgBond + 20 MsgPostAsk per tx)', pool: pools.asks, msgs: (k) => [m.bond(k, 100_000_000_000n), ...Array.from({ length: 20 }, (_, j) => m.ask(k, 1000n + BigInt(j), 10n))] },
      { name: 'sends (1 MsgSend per tx, fresh signer)', pool: pools.sends, msgs: (k) => [send(k, requester.address)] },
    ];

    // The proofs alone, and the baseline: the same number of (other) invalid proofs verified one by one.
    const onlyProofs = await proofTxs();
    const proofsAlone = await timeBlock(onlyProofs);
    const keeper = chain.app.modules.keepers.verifier as VerifierKeeperImpl;
    const prepared = keeper.prepared(keeper.circuit(qctx(), CIRCUIT)!);
    const baseProofs = wrongProofs(pf, nProofs);
    let t0 = process.hrtime.bigint();
    for (const p of baseProofs) verifyOne(prepared, decodeProof(p.proof), p.signals.map(BigInt));
    const singlesMs = ms(t0);
    rows.push({ name: `baseline: ${nProofs} invalid proofs verified one by one (verifyOne)`, value: singlesMs, unit: 'ms', note: `${(singlesMs / nProofs).toFixed(1)} ms per proof` });
    rows.push({
      name: `FinalizeBlock, ${nProofs} invalid proofs alone (${onlyProofs.length} paid txs)`, value: proofsAlone.fbMs, unit: 'ms',
      baseline: rows[0].name, lowerIsBetter: true, note: `${proofsAlone.pairings} pairing checks; ${(proofsAlone.fbMs / nProofs).toFixed(1)} ms per proof`,
    });

    let worst = 0;
    for (const kind of kinds) {
      const proofs = await proofTxs();
      let budget = gasLimit - gasOf(proofs);
      const gas = await tightGas(kind.pool[0], kind.msgs(kind.pool[0]));
      const txs: Uint8Array[] = [];
      for (const k of kind.pool) {
        if (budget < gas) break;
        txs.push(await signed(k, kind.msgs(k), gas));
        budget -= gas;
      }
      if (budget >= gas) throw new Error(`pool of ${kind.name} too small to fill the block`);
      const block = [...txs, ...proofs];
      const bytes = block.reduce((s, t) => s + t.length, 0);
      const r = await timeBlock(block);
      if (r.pp !== ACCEPT) throw new Error(`${kind.name}: ProcessProposal rejected the block`);
      worst = Math.max(worst, r.fbMs);
      rows.push({
        name: `FinalizeBlock: ${kind.name} + ${nProofs} invalid proofs`, value: r.fbMs, unit: 'ms', target: '≤ 1000 ms',
        note: `${r.okCount}/${r.n} txs ok, ${(bytes / 1e6).toFixed(2)} MB, gas wanted ${gasOf(block)} / used ${r.gasUsed}; ProcessProposal ${r.ppMs.toFixed(0)} ms, Commit ${r.commitMs.toFixed(0)} ms`,
      });
      rows.push({ name: `  FinalizeBlock per million gas used (${kind.name.split(' ')[0]})`, value: r.fbMs / (Number(r.gasUsed) / 1e6), unit: 'ms/Mgas', note: 'whole block, its proofs included' });
    }
    /** Median FinalizeBlock time of 7 empty blocks. */
    const emptyMedian = async () => {
      const xs: number[] = [];
      for (let i = 0; i < 7; i++) xs.push((await timeBlock([])).fbMs);
      return xs.sort((a, b) => a - b)[3];
    };
    const empty = { fbMs: await emptyMedian() };
    rows.push({ name: 'FinalizeBlock of an empty block after the above (median of 7)', value: empty.fbMs, unit: 'ms' });
    // Asks priced under the open requests (so the circuit's demand reaches them) from 1-uproof bonds, which can fund no
    // collateral: ask admission (modules/market/ask-cap.ts, params.min_bond_per_ask) refuses them, so each tx fails
    // with its fee spent; none reaches the book. (Simulate would refuse them too: a fixed gas limit is used.)
    const askTxs: Uint8Array[] = [];
    const askGas = 3_000_000n;
    for (const k of pools.asks2) askTxs.push(await signed(k, [m.bond(k, 1n), ...Array.from({ length: 20 }, () => m.ask(k, 1n, 1n))], askGas));
    const perBlock = Number(gasLimit / askGas);
    let admittedTxs = 0;
    let worstPost = 0;
    for (let i = 0; i < askTxs.length; i += perBlock) {
      const r = await timeBlock(askTxs.slice(i, i + perBlock));
      admittedTxs += r.okCount;
      worstPost = Math.max(worstPost, r.fbMs);
    }
    worst = Math.max(worst, worstPost);
    const afterAsks = { fbMs: await emptyMedian() };
    rows.push({
      name: `FinalizeBlock of an empty block after ${MANY_ASKS} more asks were posted (1-uproof bonds, price 1: under every open request; median of 7)`, value: afterAsks.fbMs, unit: 'ms', target: '≤ 1000 ms',
      note: `${admittedTxs * 20} admitted (ask admission: min_bond_per_ask; cap ${MAX_ASKS_PER_CIRCUIT} per circuit), the rest refused; posted in ${Math.ceil(askTxs.length / perBlock)} full blocks (worst ${worstPost.toFixed(0)} ms), ${askGas * BigInt(askTxs.length)} gas; +${(afterAsks.fbMs - empty.fbMs).toFixed(1)} ms over the empty block before`,
    });
    rows.push({ name: 'worst FinalizeBlock above', value: worst, unit: 'ms', target: '≤ 1000 ms', note: `block gas limit ${gasLimit}; caps ${caps.perTx}/tx, ${caps.perBlock}/block, ${caps.gasPerBlock} verify gas/block` });

    // A flood of Simulate calls queued on the app's queue ahead of a block (issue 10 item 6): how long the block waits.
    const heavy = TxRaw.decode(await signed(pools.req64[pools.req64.length - 1], [bigRequest(pools.req64[pools.req64.length - 1]), bigRequest(pools.req64[pools.req64.length - 1])], 0n));
    heavy.signatures = [new Uint8Array()];
    const simData = SimulateRequest.encode({ txBytes: TxRaw.encode(heavy).finish() }).finish();
    const simQuery = () => chain.app.query({ path: '/cosmos.tx.v1beta1.Service/Simulate', data: simData, height: 0n, prove: false });
    t0 = process.hrtime.bigint();
    const one = await simQuery();
    const oneMs = ms(t0);
    if (one.code !== 0) throw new Error(`simulate failed: ${one.log}`);
    const FLOOD = 500;
    const lim = chain.app.simulateLimiter;
    const s0 = { ...lim.stats };
    t0 = process.hrtime.bigint();
    const flood = Array.from({ length: FLOOD }, () => chain.app.queue.run(simQuery));
    let waited = 0;
    const blk = chain.app.queue.run(async () => {
      waited = ms(t0);
      return timeBlock([]);
    });
    await Promise.all(flood);
    await blk;
    rows.push({
      name: `FinalizeBlock's wait behind ${FLOOD} queued Simulate calls (${oneMs.toFixed(1)} ms each)`, value: waited, unit: 'ms',
      note: `${lim.stats.admitted - s0.admitted} ran (${(lim.stats.spentMs - s0.spentMs).toFixed(0)} ms), ${lim.stats.refused - s0.refused} refused; unbounded they would take ~${((FLOOD * oneMs) / 1000).toFixed(1)} s`,
    });

    // The stuffing tx: 3,000 MsgSubmitProof for the assigned request, signature invalid.
    const stuffed = TxRaw.decode(await signed(prover, wrongProofs(pf, 3000).map((p) => m.proof(prover, 1n, p)), 50_000_000n));
    stuffed.signatures[0] = new Uint8Array(64);
    const st = await timeBlock([TxRaw.encode(stuffed).finish()]);
    rows.push({ name: 'FinalizeBlock, unsigned 3,000-proof tx (forced past ProcessProposal)', value: st.fbMs, unit: 'ms', note: `ProcessProposal: ${st.pp === REJECT ? 'REJECT' : 'ACCEPT'}; ${st.pairings} pairing checks` });
    printTable(`adversarial block (${quick ? 'quick' : 'full'}; ${OPEN} open requests nobody fills; inputs ${INPUTS.length})`, rows);
  } finally {
    await chain.close();
    await terminateSnarkjs();
  }
}
