/**
 * The holding charge (issue 10 item 5): what keeping a request in state costs is charged to the request.
 *
 * An open request costs the chain nothing per block while it cannot match (the auction reads only requests that can:
 * docs/matching.md), but it occupies state — record, inline input, index entries — on every node until it settles
 * and its retention window ends. Lifetimes are bounded (params.max_request_lifetime), and per-account caps do not
 * stop a spammer with fresh accounts, so the state is paid for by the request itself:
 *
 *   deposit  = ceil(holding_price_atto * bytes * holding_blocks / 10^18)      charged at submission, into market_escrow
 *   holding_blocks = expiry_height - submitted_height + settled_retention_blocks
 *   bytes    = encoded record + inline input + INDEX_BYTES (its index entries)
 *   refund   = floor(deposit * (expiry_height - h) / holding_blocks)            on settlement at height h < expiry
 *
 * The refund goes back to the requester, the rest to the fee collector (the validators who stored the state, as tx
 * fees do); the record keeps its deposit (what was paid) and its status says whether it is still held. Up front rather than per block because a per-block charge would make every
 * block touch every open request — exactly the EndBlock cost item 5 removed — and because an up-front deposit cannot
 * run dry: a request that can no longer pay for itself never exists. A requester who settles early (fulfilled,
 * cancelled) pays only for the blocks used plus the retention; one that sits to expiry pays for all of it. Nothing is
 * created or lost: deposit = refund + kept, and the market/escrow invariant counts live requests' deposits.
 */
import type { Context } from '../../src/framework/context.js';
import type { Address } from '../../src/crypto/address.js';
import type { Params, Request } from '../../src/gen/proofbook/market/v1/market.js';
import { Request as RequestCodec } from '../../src/gen/proofbook/market/v1/market.js';
import type { BankKeeper } from '../bank/keeper.js';

/** The bank calls the holding charge needs (a subset of the market's bank keeper). */
export type HoldingBank = Pick<BankKeeper, 'sendToModule' | 'sendFromModule' | 'moduleToModule'>;

const ATTO = 1_000_000_000_000_000_000n;
/** What a request's index entries (by requester, status, circuit/fee, expiry, deadline, active count) take, roughly. */
export const INDEX_BYTES = 256n;
/** The account tx fees go to (app/tx/ante.ts FEE_COLLECTOR); modules do not import app/. */
export const HOLDING_FEE_ACCOUNT = 'fee_collector';

/** Bytes the request occupies in state (its record as stored, without the history that grows later, its input, indexes). */
export function holdingBytes(r: Request): bigint {
  const record = RequestCodec.encode({ ...r, inputInline: Buffer.alloc(0), history: [] }).finish().length;
  return BigInt(record + r.inputInline.length) + INDEX_BYTES;
}

/** The deposit and the blocks it pays for, for a request about to be stored at its submission height. */
export function holdingCharge(p: Params, r: Request): { deposit: bigint; blocks: bigint } {
  const blocks = r.expiryHeight - r.submittedHeight + p.settledRetentionBlocks;
  const price = p.holdingPriceAtto ?? 0n;
  if (price === 0n || blocks <= 0n) return { deposit: 0n, blocks: blocks > 0n ? blocks : 0n };
  const deposit = (price * holdingBytes(r) * blocks + ATTO - 1n) / ATTO;
  return { deposit, blocks };
}

/** The fields the refund arithmetic reads (a structural subset, so the SDK's copy of Request fits too). */
type HoldingFields = Pick<Request, 'holdingDeposit' | 'holdingBlocks' | 'expiryHeight'>;

/** The holding deposit the request paid (0 for records without one, e.g. imported from an older genesis). */
export function paidDeposit(r: HoldingFields): bigint {
  return r.holdingDeposit ? BigInt(r.holdingDeposit) : 0n;
}

/** What the holding charge finally cost a request that settled at height `h`: the deposit less the refund. */
export function holdingCost(r: HoldingFields, h: bigint): bigint {
  return paidDeposit(r) - holdingRefund(r, h);
}

/** The part of the deposit refunded when the request settles at height `h`: the open blocks it did not use. */
export function holdingRefund(r: HoldingFields, h: bigint): bigint {
  const deposit = paidDeposit(r);
  const blocks = r.holdingBlocks ?? 0n;
  if (deposit === 0n || blocks === 0n || h >= r.expiryHeight) return 0n;
  return (deposit * (r.expiryHeight - h)) / blocks;
}

/** Charges the deposit of a new request to its requester (throws on insufficient funds); returns the record with it. */
export function chargeHolding(ctx: Context, bank: HoldingBank, p: Params, escrowAccount: string, r: Request): Request {
  const { deposit, blocks } = holdingCharge(p, r);
  if (deposit > 0n) {
    bank.sendToModule(ctx, r.requester as Address, escrowAccount, [{ denom: p.feeDenom, amount: deposit }]);
    ctx.emit('proofbook.market.holding_charged', [['request_id', r.id.toString()], ['deposit', deposit.toString()], ['bytes', holdingBytes(r).toString()], ['blocks', blocks.toString()]]);
  }
  return { ...r, holdingDeposit: deposit.toString(), holdingBlocks: blocks };
}

/** Settles the deposit of a request leaving the live states at height `h`: refund to the requester, the rest kept. */
export function settleHolding(ctx: Context, bank: HoldingBank, p: Params, escrowAccount: string, r: Request, h: bigint): void {
  const deposit = paidDeposit(r);
  if (deposit === 0n) return;
  const refund = holdingRefund(r, h);
  const kept = deposit - refund;
  if (refund > 0n) bank.sendFromModule(ctx, escrowAccount, r.requester as Address, [{ denom: p.feeDenom, amount: refund }]);
  if (kept > 0n) bank.moduleToModule(ctx, escrowAccount, HOLDING_FEE_ACCOUNT, [{ denom: p.feeDenom, amount: kept }]);
  ctx.emit('proofbook.market.holding_settled', [['request_id', r.id.toString()], ['refund', refund.toString()], ['kept', kept.toString()]]);
}
