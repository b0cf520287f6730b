/** Human-readable lines for a request's on-chain history (SDK waitForProof's onEvent, `proofbook request status|prove`). */
import * as market from '../gen-sdk/proofbook/market/v1/market.js';

/** The fields of a history entry the description reads (the node's generated StatusChange fits as well as the SDK's). */
export type HistoryEntry = Pick<market.StatusChange, 'height' | 'event' | 'prover' | 'amount' | 'compensation'> & { status: number };

/** The request's live assignment, as far as the description reads it. */
export type LiveAssignment = Pick<market.Assignment, 'prover' | 'assignedHeight' | 'deadlineHeight' | 'overdueHeight'>;

/**
 * For the 'assigned' entry that made the assignment in force (`live`): its deadline and, if set, the height from which
 * any prover may race it (Assignment.overdue_height: overdue by the prover's own record); '' for any other entry.
 */
export function assignmentTerms(e: Pick<HistoryEntry, 'height' | 'event' | 'prover'>, live?: LiveAssignment): string {
  if (e.event !== 'assigned' || live === undefined || live.prover !== e.prover || live.assignedHeight !== e.height) return '';
  return `; deadline height ${live.deadlineHeight}${live.overdueHeight > 0n ? `, open to any prover's race from height ${live.overdueHeight} if not delivered by then` : ''}`;
}

/** One line for a request history entry, as a requester wants to read it. `live`: the request's assignment now. */
export function describeHistoryEntry(e: HistoryEntry, live?: LiveAssignment): string {
  const comp = e.compensation && e.compensation !== '0' ? `, you received ${e.compensation} in compensation` : '';
  switch (e.event) {
    case 'submitted': return `height ${e.height}: submitted (escrow ${e.amount})`;
    case 'assigned': return `height ${e.height}: assigned to ${e.prover} at price ${e.amount}${assignmentTerms(e, live)}`;
    case 'declined': return `height ${e.height}: declined by ${e.prover} in its accept phase (decline fee ${e.amount} paid out of your escrow); ${e.status === market.RequestStatus.REQUEST_STATUS_FALLBACK ? 'open to any prover (fallback)' : 're-auctioned without it'}`;
    case 'released': return `height ${e.height}: released by ${e.prover}, slashed ${e.amount}${comp}; ${e.status === market.RequestStatus.REQUEST_STATUS_FALLBACK ? 'open to any prover (fallback)' : 're-auctioned without it'}`;
    case 'slashed': return `height ${e.height}: ${e.prover} missed its deadline, slashed ${e.amount}${comp}; ${e.status === market.RequestStatus.REQUEST_STATUS_EXPIRED ? 'the request expired' : 'open to any bonded prover through the fallback'}`;
    case 'outraced': return `height ${e.height}: a fallback proof came before ${e.prover}'s, which held the assignment past your patience or its own overdue height; it was slashed ${e.amount} as for a release${comp}`;
    case 'fulfilled': return `height ${e.height}: fulfilled by ${e.prover}, paid ${e.amount}`;
    case 'fallback_delivered': return `height ${e.height}: proof delivered through the fallback by ${e.prover}; its payment (${e.amount}) waits for earlier fallback commitments' reveal windows`;
    case 'fallback_payee_replaced': return `height ${e.height}: ${e.prover}, an earlier fallback commitment, revealed a valid proof and is paid instead`;
    case 'fallback_fulfilled': return `height ${e.height}: fulfilled through the fallback by ${e.prover}, paid ${e.amount}${e.compensation && e.compensation !== '0' ? ` plus bounty ${e.compensation}` : ''}`;
    case 'expired': return `height ${e.height}: expired, refunded ${e.amount}${e.compensation && e.compensation !== '0' ? ` and the bounty ${e.compensation}` : ''}`;
    case 'cancelled': return `height ${e.height}: cancelled, refunded ${e.amount}`;
    default: return `height ${e.height}: ${e.event}${e.prover ? ` ${e.prover}` : ''}${e.amount ? ` ${e.amount}` : ''}`;
  }
}
