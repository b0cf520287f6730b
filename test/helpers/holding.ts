/** The holding charge (modules/market/holding.ts) as the market tests account for it. */
import { RequestStatus } from '../../src/gen/proofbook/market/v1/market.js';
import { holdingCost, paidDeposit } from '../../modules/market/holding.js';
import type { TestChain } from './chain.js';
import { request } from './market.js';

const LIVE = new Set([RequestStatus.REQUEST_STATUS_OPEN, RequestStatus.REQUEST_STATUS_ASSIGNED, RequestStatus.REQUEST_STATUS_FALLBACK]);

/** What request `id`'s holding charge has taken from its requester so far: the deposit while live, deposit − refund once settled. */
export async function holdingPaid(chain: TestChain, id: bigint): Promise<bigint> {
  const r = (await request(chain, id)).request;
  if (LIVE.has(r.status)) return paidDeposit(r);
  return holdingCost(r, r.history[r.history.length - 1].height);
}

/** The holding deposit request `id` holds in market_escrow (0 once settled). */
export async function holdingHeld(chain: TestChain, id: bigint): Promise<bigint> {
  const r = (await request(chain, id)).request;
  return LIVE.has(r.status) ? paidDeposit(r) : 0n;
}
