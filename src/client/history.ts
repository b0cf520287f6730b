/**
 * Requests that have left consensus state (modules/market/retention.ts removes settled requests after
 * params.settled_retention_blocks) are rebuilt from the tx/event history the node indexes (`tx_search`):
 *   - the tx whose event `proofbook.market.request_submitted.request_id` is the id holds the MsgSubmitRequest
 *     (requester, circuit, input, fees, window, expiry) and its height;
 *   - `proofbook.market.request_fulfilled.request_id` points at the MsgSubmitProof tx (proof, public signals, the
 *     height, the prover and price from the event);
 *   - `proofbook.market.request_cancelled.request_id` at the MsgCancelRequest tx.
 * Expiry happens in EndBlock, not in a tx: a request that was submitted, is no longer in state and was neither
 * fulfilled nor cancelled expired (the only other final status). Escrow and assignment details are not rebuilt.
 */
import type { Comet38Client } from '@cosmjs/tendermint-rpc';
import { TxRaw, TxBody } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import * as market from '../gen-sdk/proofbook/market/v1/market.js';
import { TYPE_URLS } from './registry.js';

interface Found {
  height: bigint;
  msgs: { typeUrl: string; value: Uint8Array }[];
  attrs: Map<string, string>;
}

async function findTx(comet: Comet38Client, event: string, id: bigint): Promise<Found | undefined> {
  const r = await comet.txSearch({ query: `${event}.request_id='${id}'`, per_page: 5 });
  for (const tx of r.txs) {
    if (tx.result.code !== 0) continue;
    const ev = tx.result.events.find((e) => e.type === event && e.attributes.some((a) => a.key === 'request_id' && a.value === id.toString()));
    if (!ev) continue;
    const body = TxBody.decode(TxRaw.decode(tx.tx).bodyBytes);
    return {
      height: BigInt(tx.height),
      msgs: body.messages.map((m) => ({ typeUrl: m.typeUrl, value: m.value })),
      attrs: new Map(ev.attributes.map((a) => [a.key, a.value])),
    };
  }
  return undefined;
}

/** The request rebuilt from tx history, or undefined when no tx submitted it. */
export async function requestFromHistory(comet: Comet38Client, id: bigint): Promise<market.Request | undefined> {
  const sub = await findTx(comet, 'proofbook.market.request_submitted', id);
  if (!sub) return undefined;
  const requester = sub.attrs.get('requester') ?? '';
  const circuitId = sub.attrs.get('circuit_id') ?? '';
  const m = sub.msgs
    .filter((x) => x.typeUrl === TYPE_URLS.submitRequest)
    .map((x) => market.MsgSubmitRequest.decode(x.value))
    .find((x) => x.requester === requester && x.circuitId === circuitId);
  const r = market.Request.fromPartial({
    id,
    requester,
    circuitId,
    inputInline: m?.inputInline ?? new Uint8Array(0),
    inputUri: m?.inputUri ?? '',
    inputSha256: m?.inputSha256 ?? '',
    expectedPublicSignals: m?.expectedPublicSignals ?? [],
    minFee: sub.attrs.get('min_fee') ?? '',
    maxFee: sub.attrs.get('max_fee') ?? '',
    rampBlocks: BigInt(sub.attrs.get('ramp_blocks') ?? '0'),
    provingWindow: BigInt(sub.attrs.get('proving_window') ?? '0'),
    expiryHeight: BigInt(sub.attrs.get('expiry_height') ?? '0'),
    submittedHeight: sub.height,
    escrow: '0',
    history: [{ height: sub.height, status: market.RequestStatus.REQUEST_STATUS_OPEN, event: 'submitted', prover: '', amount: '', compensation: '' }],
  });
  const ful = await findTx(comet, 'proofbook.market.request_fulfilled', id);
  if (ful) {
    const p = ful.msgs
      .filter((x) => x.typeUrl === TYPE_URLS.submitProof)
      .map((x) => market.MsgSubmitProof.decode(x.value))
      .find((x) => x.requestId === id);
    r.status = market.RequestStatus.REQUEST_STATUS_FULFILLED;
    r.proof = p?.proof ?? new Uint8Array(0);
    r.publicSignals = p?.publicSignals ?? [];
    r.fulfilledHeight = ful.height;
    r.paidPrice = ful.attrs.get('price') ?? '';
    r.history.push({ height: ful.height, status: r.status, event: 'fulfilled', prover: ful.attrs.get('prover') ?? '', amount: r.paidPrice, compensation: '' });
    return r;
  }
  const can = await findTx(comet, 'proofbook.market.request_cancelled', id);
  if (can) {
    r.status = market.RequestStatus.REQUEST_STATUS_CANCELLED;
    r.history.push({ height: can.height, status: r.status, event: 'cancelled', prover: '', amount: can.attrs.get('refund') ?? '', compensation: '' });
    return r;
  }
  r.status = market.RequestStatus.REQUEST_STATUS_EXPIRED;
  return r;
}
