/**
 * Market invariants (checked after every block by TestChain / --check-invariants):
 *  - market/escrow:      balance('market_escrow') == Σ escrow + holding deposit (fee_denom) + Σ bounty (collateral_denom) of OPEN, ASSIGNED
 *                        and FALLBACK requests, + Σ escrow + bounty of fallback deliveries whose payment is held (other
 *                        final ones hold 0) + Σ fallback commitment deposits; excluded_provers ≤ max_failed_assignments
 *  - market/locked:      per prover, Σ collateral of its assignments == bond locked (collateral_denom)
 *  - market/ask-active:  ask.active == number of ASSIGNED requests pointing at the ask, and <= capacity
 *  - market/indexes:     every index entry is exactly what the records imply (no missing, no stale entries); an
 *                        ASSIGNED request's overdue_height is 0 or after its accept phase and before its deadline
 *  - market/fallback-commits: commitments on live requests or on a delivery whose payment is held, counted; each
 *                        unrevealed one within its own window and indexed for expiry; a revealed one only as the
 *                        payee of a held payment, with the unrevealed ones all earlier and the payout height their
 *                        last window end; none by a prover that forfeited the request nor by an ASSIGNED request's own prover; forfeit markers on live
 *                        requests, counted; locked price ≤ max fee; a
 *                        fallback reference fee only on a request that entered the fallback, ≤ its max fee
 *  - market/recent-winners: the spread rule's window (recent-winners.ts): at most 128 slots, counts = slots; a stored
 *    spread penalty belongs to a controller and lies within [1, its cap] (spread-penalty.ts)
 */
import type { Context } from '../../src/framework/context.js';
import { checkRecentWinners } from './recent-winners.js';
import { checkSpreadPenalty } from './spread-penalty.js';
import type { Invariant } from '../../src/framework/module.js';
import type { Address } from '../../src/crypto/address.js';
import { compareKeys, iteratePrefix } from '../../src/store/kv.js';
import { Ask, Request, RequestStatus, type FallbackCommit } from '../../src/gen/proofbook/market/v1/market.js';
import type { MarketKeeperImpl } from './keeper.js';
import { paidDeposit } from './holding.js';
import { allCommits, allForfeits, commitExpiryKey, COMMIT_BY_EXPIRY_PREFIX, isRevealed, payoutHeightOf, payoutPending } from './fallback.js';
import {
  ACTIVE_COUNT_PREFIX,
  ASK_BY_CIRCUIT_PREFIX,
  ASK_BY_PRICE_PREFIX,
  ASK_COUNT_PREFIX,
  RAMPING_BY_CIRCUIT_PREFIX,
  feeMoves,
  openEntryOf,
  openEntryText,
  rampingByCircuitKey,
  askByPriceKey,
  askWithRoomKey,
  ASK_WITH_ROOM_PREFIX,
  askCountKey,
  ASK_BY_EXPIRY_PREFIX,
  ASK_BY_PROVER_PREFIX,
  ASK_PREFIX,
  BY_DEADLINE_PREFIX,
  BY_REQUESTER_PREFIX,
  BY_STATUS_PREFIX,
  BY_CIRCUIT_STATUS_PREFIX,
  byCircuitStatusKey,
  ESCROW_ACCOUNT,
  OPEN_BY_CIRCUIT_PREFIX,
  OPEN_BY_EXPIRY_PREFIX,
  REQUEST_PREFIX,
  activeCountKey,
  askByCircuitKey,
  askByExpiryKey,
  askByProverKey,
  byDeadlineKey,
  byRequesterKey,
  byStatusKey,
  decodeU64,
  openByCircuitKey,
  openByExpiryKey,
} from './keys.js';

const S = RequestStatus;

function load(ctx: Context, k: MarketKeeperImpl): { requests: Request[]; asks: Ask[] } {
  const kv = k.store(ctx);
  return {
    requests: [...iteratePrefix(kv, REQUEST_PREFIX)].map(([, v]) => Request.decode(v)),
    asks: [...iteratePrefix(kv, ASK_PREFIX)].map(([, v]) => Ask.decode(v)),
  };
}

const live = (r: Request) => r.status === S.REQUEST_STATUS_OPEN || r.status === S.REQUEST_STATUS_ASSIGNED || r.status === S.REQUEST_STATUS_FALLBACK;

export function marketInvariants(k: MarketKeeperImpl): Invariant[] {
  const escrow: Invariant = {
    name: 'market/escrow',
    check(ctx) {
      const p = k.params(ctx);
      const want = new Map<string, bigint>([[p.feeDenom, 0n], [p.collateralDenom, 0n]]);
      for (const r of load(ctx, k).requests) {
        const e = BigInt(r.escrow) + (live(r) ? paidDeposit(r) : 0n); // a live request's holding deposit is in escrow (holding.ts)
        const b = BigInt(r.bounty || '0');
        // a fallback delivery whose payment is held keeps its escrow and bounty until it settles (fallback.ts)
        if (!live(r) && !payoutPending(r) && (e !== 0n || b !== 0n)) return `request ${r.id} is final but holds escrow ${e} and bounty ${b}`;
        if (payoutPending(r) && r.status !== S.REQUEST_STATUS_FULFILLED) return `request ${r.id} holds a fallback payment but is not FULFILLED`;
        if (BigInt(r.excludedProvers.length) > p.maxFailedAssignments) return `request ${r.id} excludes ${r.excludedProvers.length} provers, more than max_failed_assignments`;
        want.set(p.feeDenom, want.get(p.feeDenom)! + e);
        want.set(p.collateralDenom, want.get(p.collateralDenom)! + b);
      }
      // live fallback commitments' deposits (fallback.ts) are in escrow too
      for (const c of allCommits(k.store(ctx))) want.set(p.feeDenom, want.get(p.feeDenom)! + BigInt(c.deposit || '0'));
      for (const [denom, sum] of [...want].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
        const bal = k.bank.balance(ctx, k.bank.moduleAccount(ESCROW_ACCOUNT), denom);
        if (bal !== sum) return `market_escrow holds ${bal}${denom}, requests' escrow and bounties ${sum}${denom}`;
      }
      return undefined;
    },
  };
  const locked: Invariant = {
    name: 'market/locked',
    check(ctx) {
      const p = k.params(ctx);
      const { requests, asks } = load(ctx, k);
      const sums = new Map<string, bigint>();
      for (const a of asks) sums.set(a.prover, 0n);
      for (const r of requests) {
        if (r.status !== S.REQUEST_STATUS_ASSIGNED || !r.assignment) continue;
        sums.set(r.assignment.prover, (sums.get(r.assignment.prover) ?? 0n) + BigInt(r.assignment.collateral));
      }
      for (const prover of [...sums.keys()].sort(compareKeys)) {
        const pr = k.bond.prover(ctx, prover as Address);
        let lockedAmt = 0n;
        for (const c of pr?.locked ?? []) if (c.denom === p.collateralDenom) lockedAmt = BigInt(c.amount);
        if (lockedAmt !== sums.get(prover)) return `prover ${prover}: assignments hold ${sums.get(prover)}${p.collateralDenom} collateral, bond has ${lockedAmt} locked`;
      }
      return undefined;
    },
  };
  const askActive: Invariant = {
    name: 'market/ask-active',
    check(ctx) {
      const { requests, asks } = load(ctx, k);
      const counts = new Map<bigint, bigint>();
      for (const r of requests) if (r.status === S.REQUEST_STATUS_ASSIGNED && r.assignment) counts.set(r.assignment.askId, (counts.get(r.assignment.askId) ?? 0n) + 1n);
      for (const a of asks) {
        const n = counts.get(a.id) ?? 0n;
        if (a.active !== n) return `ask ${a.id} has active=${a.active} but ${n} assignments`;
        if (a.active > a.capacity) return `ask ${a.id} has active=${a.active} > capacity ${a.capacity}`;
        counts.delete(a.id);
      }
      for (const [id, n] of counts) return `${n} assignments point at missing ask ${id}`;
      return undefined;
    },
  };
  const indexes: Invariant = {
    name: 'market/indexes',
    check(ctx) {
      const kv = k.store(ctx);
      const { requests, asks } = load(ctx, k);
      const want = new Map<string, string>();
      const counts = new Map<string, bigint>();
      // 'o' by min(max_fee, escrow) and, while the fee can move, 'g' by min(min_fee, escrow); the value holds the terms
      const auctioned = (r: Request): void => {
        const e = openEntryOf(r);
        const v = openEntryText(e);
        want.set(openByCircuitKey(r.circuitId, e.maxEff, r.id), v);
        if (feeMoves(e)) want.set(rampingByCircuitKey(r.circuitId, e.lowFee, r.id), v);
      };
      for (const r of requests) {
        const rq = r.requester as Address;
        want.set(byRequesterKey(rq, r.id), '');
        want.set(byStatusKey(r.status, r.id), '');
        want.set(byCircuitStatusKey(r.circuitId, r.status, r.id), '');
        // a live fallback commitment takes the request out of the auction (fallback.ts)
        const uncommitted = (r.fallbackCommits ?? 0) === 0;
        if (r.status === S.REQUEST_STATUS_OPEN) {
          if (uncommitted) auctioned(r); // the auction's fee terms
          want.set(openByExpiryKey(r.expiryHeight, r.id), '');
        }
        if (r.status === S.REQUEST_STATUS_FALLBACK) {
          want.set(openByExpiryKey(r.expiryHeight, r.id), '');
          if (uncommitted && k.fallbackAuctioned(ctx, r)) auctioned(r);
        }
        if (r.status === S.REQUEST_STATUS_ASSIGNED) {
          const a = r.assignment;
          if (!a) return `request ${r.id} is ASSIGNED without an assignment`;
          // the race never opens inside the accept phase; an overdue height at or past the deadline is stored as 0
          if (a.overdueHeight !== 0n && (a.overdueHeight <= a.acceptUntilHeight || a.overdueHeight >= a.deadlineHeight)) return `request ${r.id}: overdue height ${a.overdueHeight} outside (${a.acceptUntilHeight}, ${a.deadlineHeight})`;
          want.set(byDeadlineKey(a.deadlineHeight, r.id), '');
        }
        if (live(r)) {
          const ck = activeCountKey(rq);
          counts.set(ck, (counts.get(ck) ?? 0n) + 1n);
        }
      }
      for (const a of asks) {
        want.set(askByProverKey(a.prover as Address, a.id), '');
        want.set(askByCircuitKey(a.circuitId, a.id), '');
        want.set(askByExpiryKey(a.expiryHeight, a.id), '');
        want.set(askByPriceKey(a.circuitId, BigInt(a.price), a.id), '');
        if (a.active < a.capacity) want.set(askWithRoomKey(a.circuitId, BigInt(a.price), a.id), '');
        const ak = askCountKey(a.circuitId);
        counts.set(ak, (counts.get(ak) ?? 0n) + 1n);
      }
      for (const [ck, n] of counts) want.set(ck, n.toString());
      const have = new Map<string, string>();
      for (const prefix of [OPEN_BY_CIRCUIT_PREFIX, RAMPING_BY_CIRCUIT_PREFIX, OPEN_BY_EXPIRY_PREFIX, BY_DEADLINE_PREFIX, BY_REQUESTER_PREFIX, BY_STATUS_PREFIX, BY_CIRCUIT_STATUS_PREFIX, ASK_BY_PROVER_PREFIX, ASK_BY_CIRCUIT_PREFIX, ASK_BY_EXPIRY_PREFIX]) {
        const valued = prefix === OPEN_BY_CIRCUIT_PREFIX || prefix === RAMPING_BY_CIRCUIT_PREFIX;
        for (const [key, v] of iteratePrefix(kv, prefix)) have.set(key, valued ? new TextDecoder().decode(v) : '');
      }
      for (const [key, v] of iteratePrefix(kv, ACTIVE_COUNT_PREFIX)) have.set(key, decodeU64(v).toString());
      for (const [key] of iteratePrefix(kv, ASK_BY_PRICE_PREFIX)) have.set(key, '');
      for (const [key] of iteratePrefix(kv, ASK_WITH_ROOM_PREFIX)) have.set(key, '');
      for (const [key, v] of iteratePrefix(kv, ASK_COUNT_PREFIX)) {
        const cap = k.params(ctx).maxAsksPerCircuit;
        if (decodeU64(v) > cap) return `circuit key ${JSON.stringify(key)} holds ${decodeU64(v)} asks, more than params.max_asks_per_circuit ${cap}`;
        have.set(key, decodeU64(v).toString());
      }
      for (const [key, v] of want) {
        if (have.get(key) !== v) return `index entry ${JSON.stringify(key)} expected ${JSON.stringify(v)}, found ${JSON.stringify(have.get(key))}`;
      }
      for (const key of have.keys()) if (!want.has(key)) return `stale index entry ${JSON.stringify(key)}`;
      return undefined;
    },
  };
  const commits: Invariant = {
    name: 'market/fallback-commits',
    check(ctx) {
      const p = k.params(ctx);
      const kv = k.store(ctx);
      const byRequest = new Map<bigint, number>();
      const wantExpiry = new Set<string>();
      // forfeit markers (fallback.ts): each on a live request that counts them
      const forfeited = new Set<string>();
      const forfeitsPer = new Map<bigint, number>();
      for (const f of allForfeits(kv)) {
        const r = k.request(ctx, f.requestId);
        if (r === undefined || !live(r)) return `fallback forfeit of ${f.prover} is on request ${f.requestId}, which is not live`;
        forfeited.add(`${f.requestId}/${f.prover}`);
        forfeitsPer.set(f.requestId, (forfeitsPer.get(f.requestId) ?? 0) + 1);
      }
      const unrevealed = new Map<bigint, FallbackCommit[]>();
      for (const c of allCommits(kv)) {
        const r = k.request(ctx, c.requestId);
        if (r === undefined || (!live(r) && !payoutPending(r))) return `fallback commitment ${c.id} is on request ${c.requestId}, which is neither live nor holding a fallback payment`;
        if (isRevealed(c)) {
          // the payee of a held payment (fallback.ts): revealed in a later block than its commitment, not indexed
          if (!payoutPending(r) || r.fallbackPayeeCommitId !== c.id || r.fallbackPayee !== c.prover) return `fallback commitment ${c.id} on request ${c.requestId} is revealed but is not its payee`;
          if (c.revealedHeight <= c.height || c.revealedHeight > c.revealUntilHeight) return `fallback commitment ${c.id} was revealed at ${c.revealedHeight}, outside its window ${c.height + 1n}..${c.revealUntilHeight}`;
        } else {
          // its own window: blocks height + 1 .. reveal_until_height, not over, at most fallback_reveal_blocks long
          if (c.revealUntilHeight <= c.height) return `fallback commitment ${c.id} has no reveal window (height ${c.height}, until ${c.revealUntilHeight})`;
          if (c.revealUntilHeight < ctx.height) return `fallback commitment ${c.id} outlived its reveal window (until ${c.revealUntilHeight}, now ${ctx.height})`;
          if (c.revealUntilHeight > ctx.height + p.fallbackRevealBlocks) return `fallback commitment ${c.id} reveals until ${c.revealUntilHeight}, more than fallback_reveal_blocks after height ${ctx.height}`;
          if (payoutPending(r) && c.id >= r.fallbackPayeeCommitId) return `fallback commitment ${c.id} on request ${c.requestId} is not earlier than the payee's (${r.fallbackPayeeCommitId}) but was not refunded`;
          wantExpiry.add(commitExpiryKey(c));
          unrevealed.set(c.requestId, [...(unrevealed.get(c.requestId) ?? []), c]);
        }
        if (forfeited.has(`${c.requestId}/${c.prover}`)) return `fallback commitment ${c.id} is by ${c.prover}, who forfeited request ${c.requestId}`;
        // past the patience an ASSIGNED request is raced, but never by its own prover (it delivers directly)
        if (r.status === S.REQUEST_STATUS_ASSIGNED && r.assignment?.prover === c.prover) return `fallback commitment ${c.id} on request ${c.requestId} is by its assigned prover`;
        if (c.commitment.length !== 32) return `fallback commitment ${c.id} has ${c.commitment.length} bytes`;
        if ((c.price ?? '') !== '' && BigInt(c.price) > BigInt(r.maxFee)) return `fallback commitment ${c.id} locked ${c.price}, above request ${r.id}'s max fee ${r.maxFee}`;
        byRequest.set(c.requestId, (byRequest.get(c.requestId) ?? 0) + 1);
      }
      for (const r of load(ctx, k).requests) {
        const n = byRequest.get(r.id) ?? 0;
        if (n !== (r.fallbackCommits ?? 0)) return `request ${r.id} counts ${r.fallbackCommits} fallback commitments, state has ${n}`;
        if (BigInt(n) > p.maxFallbackCommits) return `request ${r.id} has ${n} fallback commitments, more than max_fallback_commits`;
        if (payoutPending(r)) {
          // a held payment waits for at least one earlier window, and settles at the end of the last one
          const earlier = unrevealed.get(r.id) ?? [];
          if (earlier.length === 0) return `request ${r.id} holds a fallback payment with no earlier commitment left (it should have settled)`;
          if (r.fallbackPayoutHeight !== payoutHeightOf(earlier)) return `request ${r.id} settles its fallback payment at ${r.fallbackPayoutHeight}, its earlier commitments' windows end at ${payoutHeightOf(earlier)}`;
        } else if ((r.fallbackPayoutHeight ?? 0n) !== 0n) return `request ${r.id} has a fallback payout height but no held payment`;
        if (live(r) && (forfeitsPer.get(r.id) ?? 0) !== (r.fallbackForfeits ?? 0)) return `request ${r.id} counts ${r.fallbackForfeits} fallback forfeits, state has ${forfeitsPer.get(r.id) ?? 0}`;
        const ref = r.fallbackReferenceFee ?? '';
        if (ref !== '' && (r.fallbackHeight === 0n || BigInt(ref) > BigInt(r.maxFee))) return `request ${r.id} has fallback reference fee ${ref} (fallback height ${r.fallbackHeight}, max fee ${r.maxFee})`;
      }
      let seen = 0;
      for (const [key] of iteratePrefix(kv, COMMIT_BY_EXPIRY_PREFIX)) {
        if (!wantExpiry.has(key)) return `stale fallback commitment expiry entry ${JSON.stringify(key)}`;
        seen++;
      }
      if (seen !== wantExpiry.size) return `fallback commitment expiry index has ${seen} entries, ${wantExpiry.size} commitments`;
      return undefined;
    },
  };
  const recent: Invariant = {
    name: 'market/recent-winners',
    check: (ctx) => checkRecentWinners(k.store(ctx)) ?? checkSpreadPenalty(k.store(ctx), k.params(ctx)),
  };
  return [escrow, locked, askActive, indexes, commits, recent];
}
