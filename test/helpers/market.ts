/** Shared helpers of the market app-level tests (test/market-*.test.ts). */
import { Context } from '../../src/framework/context.js';
import { CacheKV } from '../../src/store/cache.js';
import { QueryBalanceRequest, QueryBalanceResponse, QuerySupplyOfRequest, QuerySupplyOfResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { TestChain, devnetKey } from './chain.js';
import type { RawKey } from '../../src/client/sign.js';
import { moduleAddress } from '../../src/crypto/address.js';
import { genesisCircuitId } from '../../modules/verifier/index.js';
import { GENESIS_CIRCUIT, genesisInput } from '../../src/zk/genesis.js';
import { proveWithSnarkjs } from '../../src/zk/prove.js';
import { publicSignalsFromInput } from '../../src/zk/witness.js';
import { encodeProof } from '../../src/zk/groth16.js';
import { fallbackCommitment } from '../../src/zk/fallback-commitment.js';
import { MsgBond } from '../../src/gen/proofbook/bond/v1/bond.js';
import {
  MsgCancelAsk,
  MsgCancelRequest,
  MsgCommitFallbackProof,
  MsgDeclineAssignment,
  MsgPostAsk,
  MsgReleaseAssignment,
  MsgSubmitProof,
  MsgSubmitRequest,
  QueryRequestRequest,
  QueryRequestResponse,
  RequestStatus,
  type Request,
} from '../../src/gen/proofbook/market/v1/market.js';
import type { AppState } from '../../genesis/index.js';

export const FEE = 5000n;
export const GAS = 5_000_000n;
export const CIRCUIT = genesisCircuitId();
export const S = RequestStatus;

export interface P {
  proof: Uint8Array;
  signals: string[];
}
/** The two statements the tests request and prove; SIGNALS[i] are INPUTS[i]'s public signals (from the witness generator). */
export const INPUTS = [genesisInput(1001n, 8n), genesisInput(1002n, 9n)];
export const SIGNALS: string[][] = (await Promise.all(INPUTS.map((i) => publicSignalsFromInput(GENESIS_CIRCUIT.wasmPath, i, GENESIS_CIRCUIT.nPublic)))).map((s) => s.map(String));

let proofs: Promise<P[]> | undefined;
export function getProofs(): Promise<P[]> {
  proofs ??= (async () => {
    const out: P[] = [];
    for (const input of INPUTS) {
      const r = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, input, { singleThread: true });
      out.push({ proof: encodeProof(r.proof), signals: r.publicSignals.map(String) });
    }
    return out;
  })();
  return proofs;
}

export type Msg = { typeUrl: string; value: Uint8Array };
export const m = {
  bond: (k: RawKey, amount: bigint): Msg => ({ typeUrl: '/proofbook.bond.v1.MsgBond', value: MsgBond.encode({ prover: k.address, amount: [{ denom: 'uproof', amount: amount.toString() }] }).finish() }),
  ask: (k: RawKey, price: bigint, capacity: bigint, expiryHeight = 100_000n): Msg => ({
    typeUrl: '/proofbook.market.v1.MsgPostAsk',
    value: MsgPostAsk.encode({ prover: k.address, circuitId: CIRCUIT, price: price.toString(), capacity, expiryHeight }).finish(),
  }),
  cancelAsk: (k: RawKey, askId: bigint): Msg => ({ typeUrl: '/proofbook.market.v1.MsgCancelAsk', value: MsgCancelAsk.encode({ prover: k.address, askId }).finish() }),
  /** A request for statement INPUTS[o.input ?? 0], committed to its signals (or to `o.expect`). */
  request: (k: RawKey, o: { maxFee: bigint; minFee?: bigint; ramp?: bigint; window?: bigint; expiry: bigint; expect?: string[]; input?: number; minCollateral?: bigint; patience?: bigint }): Msg => ({
    typeUrl: '/proofbook.market.v1.MsgSubmitRequest',
    value: MsgSubmitRequest.encode(
      MsgSubmitRequest.fromPartial({
        requester: k.address,
        circuitId: CIRCUIT,
        inputInline: Buffer.from(JSON.stringify(INPUTS[o.input ?? 0])),
        expectedPublicSignals: o.expect ?? SIGNALS[o.input ?? 0],
        minFee: (o.minFee ?? o.maxFee).toString(),
        maxFee: o.maxFee.toString(),
        rampBlocks: o.ramp ?? 0n,
        provingWindow: o.window ?? 10n,
        expiryHeight: o.expiry,
        minCollateral: (o.minCollateral ?? 0n).toString(),
        fallbackAfterBlocks: o.patience ?? 0n,
      }),
    ).finish(),
  }),
  cancel: (k: RawKey, requestId: bigint): Msg => ({ typeUrl: '/proofbook.market.v1.MsgCancelRequest', value: MsgCancelRequest.encode({ requester: k.address, requestId }).finish() }),
  proof: (k: RawKey, requestId: bigint, p: P): Msg => ({
    typeUrl: '/proofbook.market.v1.MsgSubmitProof',
    value: MsgSubmitProof.encode({ prover: k.address, requestId, proof: Buffer.from(p.proof), publicSignals: p.signals }).finish(),
  }),
  decline: (k: RawKey, requestId: bigint, reason = 'witness gives other public signals'): Msg => ({
    typeUrl: '/proofbook.market.v1.MsgDeclineAssignment',
    value: MsgDeclineAssignment.encode({ prover: k.address, requestId, reason }).finish(),
  }),
  /** MsgCommitFallbackProof to proof `p` for request `requestId` under `k`'s address (or `as`'s, for a copier). */
  commit: (k: RawKey, requestId: bigint, p: P, as?: string): Msg => ({
    typeUrl: '/proofbook.market.v1.MsgCommitFallbackProof',
    value: MsgCommitFallbackProof.encode({ prover: k.address, requestId, commitment: Buffer.from(fallbackCommitment(requestId, p.proof, p.signals, as ?? k.address)) }).finish(),
  }),
  release: (k: RawKey, requestId: bigint): Msg => ({ typeUrl: '/proofbook.market.v1.MsgReleaseAssignment', value: MsgReleaseAssignment.encode({ prover: k.address, requestId }).finish() }),
};

export async function txs(chain: TestChain, items: [RawKey, Msg[]][]) {
  const signed = [];
  for (const [k, msgs] of items) signed.push(await chain.sign(k, { msgs, fee: [{ denom: 'uproof', amount: FEE }], gasLimit: GAS }));
  return chain.block(signed);
}
/** A block with a tx that fails (PrepareProposal would drop it: CheckTx rejects it), as a proposer could include it. */
export async function failing(chain: TestChain, k: RawKey, msg: Msg) {
  const tx = await chain.sign(k, { msgs: [msg], fee: [{ denom: 'uproof', amount: FEE }], gasLimit: GAS });
  const check = await chain.checkTx(tx);
  const res = await chain.rawBlock([tx]);
  const broken = chain.app.checkInvariants();
  if (broken.length) throw new Error(`invariants broken: ${broken.join('; ')}`);
  return { check, result: res.txResults[0] };
}
export async function ok(chain: TestChain, k: RawKey, ...msgs: Msg[]) {
  const res = await txs(chain, [[k, msgs]]);
  if (res.txResults[0].code !== 0) throw new Error(`tx failed: ${res.txResults[0].log}`);
  return res;
}
export async function balance(chain: TestChain, address: string): Promise<bigint> {
  const r = await chain.query('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom: 'uproof' }).finish());
  return BigInt(QueryBalanceResponse.decode(r.value).balance!.amount);
}
export async function supply(chain: TestChain): Promise<bigint> {
  const r = await chain.query('/cosmos.bank.v1beta1.Query/SupplyOf', QuerySupplyOfRequest.encode({ denom: 'uproof' }).finish());
  return BigInt(QuerySupplyOfResponse.decode(r.value).amount!.amount);
}
export async function request(chain: TestChain, id: bigint): Promise<{ request: Request; currentFee: bigint; fallbackFee?: bigint; outraceBounty?: bigint }> {
  const r = await chain.query('/proofbook.market.v1.Query/Request', QueryRequestRequest.encode({ id }).finish());
  if (r.code !== 0) throw new Error(r.log);
  const res = QueryRequestResponse.decode(r.value);
  const opt = (v: string) => (v === '' ? undefined : BigInt(v));
  return { request: res.request!, currentFee: BigInt(res.currentFee), fallbackFee: opt(res.fallbackFee), outraceBounty: opt(res.outraceBounty) };
}
/** The fallback path: commit in one block, reveal (MsgSubmitProof) in the next; returns the reveal's block. */
export async function commitReveal(chain: TestChain, k: RawKey, requestId: bigint, p: P) {
  await ok(chain, k, m.commit(k, requestId, p));
  return ok(chain, k, m.proof(k, requestId, p));
}
export async function bondedOf(chain: TestChain, addr: string): Promise<{ bonded: bigint; locked: bigint }> {
  const p = chain.app.modules.keepers.bond.prover(queryCtx(chain), addr as any);
  const amt = (l: { denom: string; amount: string }[] | undefined) => BigInt(l?.find((c) => c.denom === 'uproof')?.amount ?? '0');
  return { bonded: amt(p?.bonded), locked: amt(p?.locked) };
}
export function queryCtx(chain: TestChain): Context {
  return new Context(new CacheKV(chain.app.store), { chainId: 'x', height: chain.app.height, timeSeconds: 0n }, 'query');
}
export const TREASURY = moduleAddress('treasury');
export const ESCROW = moduleAddress('market_escrow');

export async function setup(appState?: AppState) {
  const chain = await TestChain.create(appState ? { appState } : {});
  const [requester, p1, p2] = await Promise.all([devnetKey(0), devnetKey(1), devnetKey(2)]);
  await txs(chain, [[p1, [m.bond(p1, 1_000_000n)]], [p2, [m.bond(p2, 1_000_000n)]]]);
  return { chain, requester, p1, p2 };
}


/**
 * A block of exactly these txs, in this order (failing ones included, as a proposer could build it; PrepareProposal
 * would drop them), with every module invariant checked after it.
 */
export async function rawBlockChecked(chain: TestChain, items: [RawKey, { typeUrl: string; value: Uint8Array }[]][]) {
  const signed = [];
  for (const [k, msgs] of items) signed.push(await chain.sign(k, { msgs, fee: [{ denom: 'uproof', amount: FEE }], gasLimit: GAS }));
  const res = await chain.rawBlock(signed);
  const broken = chain.app.checkInvariants();
  if (broken.length) throw new Error(`invariants broken at height ${chain.app.height}: ${broken.join('; ')}`);
  return res;
}
