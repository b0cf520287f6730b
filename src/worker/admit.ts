/**
 * Whether the worker starts an assignment it holds, or gives it back (declined in the accept phase, else released).
 *
 * It gives back what it cannot prove by the deadline. In the accept phase, where a decline costs only the decline fee,
 * it also gives back what it would prove only after racers would start on it (race.ts: the race opens at the
 * assignment's overdue height, Assignment.overdue_height, or at the requester's patience if that comes first, and
 * racers wait past that while the assignee's own record says it is not overdue yet): from there any bonded prover
 * may race it, and an outraced assignee loses its proof and is slashed as for a release
 * (docs/protocol.md "Overdue by its own record"). A fresh prover without a record, or one whose record is capped at
 * half the window, sees that height at assignment, so declining early is cheaper than proving into a race it may lose.
 * Past the accept phase it keeps proving: a release would cost what the race might, and it may still deliver first.
 */
export type Admission = { start: true } | { start: false; why: string };

export interface AdmissionInput {
  /** The chain's height now. */
  height: bigint;
  /** Blocks the proof needs from now (its place in the worker's queue, the measured latency, the safety margin). */
  needBlocks: bigint;
  deadlineHeight: bigint;
  /** From this height racers would race it (race.ts raceFrom of raceOpensAt); 0 = none (no patience, and no overdue height before the deadline). */
  racedFromHeight: bigint;
  /** Whether a decline sent now still lands in the accept phase. */
  inAcceptPhase: boolean;
}

export function admit(a: AdmissionInput): Admission {
  const done = a.height + a.needBlocks;
  if (done > a.deadlineHeight) return { start: false, why: `cannot finish by height ${a.deadlineHeight}: ${a.needBlocks} blocks needed at height ${a.height}` };
  if (a.inAcceptPhase && a.racedFromHeight > 0n && done > a.racedFromHeight) {
    return { start: false, why: `would finish after height ${a.racedFromHeight}, from which any prover may race it (${a.needBlocks} blocks needed at height ${a.height})` };
  }
  return { start: true };
}
