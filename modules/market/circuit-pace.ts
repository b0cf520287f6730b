/**
 * A circuit's pace (CircuitPace; docs/protocol.md "Overdue by its own record"): how fast the circuit's assigned provers
 * deliver, the moving average of their blocks from assignment to accepted proof. A prover without a delivery of the
 * circuit has no record of its own to be overdue by; params.overdue_race_pace_bps holds it to this one instead
 * (penalties.ts overdueHeight), so a coalition member's first assignment of a circuit is raced once it takes much longer
 * than the market does, not only from halfway through the window.
 *
 *   'K' + circ -> CircuitPace (protobuf)
 *
 * The same average as a prover's Reputation (weight 1/8, the first delivery sets it), over every assigned prover of the
 * circuit. A racer's delivery is left out: it runs from submission, so a held request would slow the pace, which is
 * what a holder wants. A coalition that delivers its own assignments late on purpose moves it too; the height it
 * gives is never later than the new-prover height (overdue_race_new_bps), so padding the pace costs the rule nothing
 * it had before (docs/mechanism.md "The circuit's pace").
 */
import { iteratePrefix, type KV, type KVReader } from '../../src/store/kv.js';
import { CircuitPace } from '../../src/gen/proofbook/market/v1/market.js';
import { isHex64 } from '../../src/types/hex.js';
import { circKey } from './keys.js';

const PACE_PREFIX = 'K';
const paceKey = (circuitId: string) => PACE_PREFIX + circKey(circuitId);

/** The circuit's pace; undefined before its first assigned delivery. */
export function circuitPace(kv: KVReader, circuitId: string): CircuitPace | undefined {
  const v = kv.get(paceKey(circuitId));
  return v === undefined ? undefined : CircuitPace.decode(v);
}

/**
 * The moving average of blocks to proof, times 1000, after one more delivery that took `blocks`: the first sets it,
 * each later one moves it by an eighth. A prover's record (Reputation) and a circuit's pace both keep it.
 */
export function nextAverageMilli(avgMilli: bigint, deliveries: bigint, blocks: bigint): bigint {
  const sample = blocks * 1000n;
  return deliveries === 0n ? sample : (avgMilli * 7n + sample) / 8n;
}

/** Counts a delivery by the assigned prover that took `blocks` from assignment to proof. */
export function recordPace(kv: KV, circuitId: string, blocks: bigint): void {
  const before = circuitPace(kv, circuitId) ?? { circuitId, deliveries: 0n, avgBlocksToProofMilli: 0n };
  setCircuitPace(kv, { circuitId, deliveries: before.deliveries + 1n, avgBlocksToProofMilli: nextAverageMilli(before.avgBlocksToProofMilli, before.deliveries, blocks) });
}

/** Stores a pace as given (genesis import; recordPace otherwise). */
export function setCircuitPace(kv: KV, pace: CircuitPace): void {
  kv.set(paceKey(pace.circuitId), CircuitPace.encode(pace).finish());
}

/** Every circuit's pace, in key order (genesis export). */
export function allCircuitPaces(kv: KVReader): CircuitPace[] {
  return [...iteratePrefix(kv, PACE_PREFIX)].map(([, v]) => CircuitPace.decode(v));
}

/** What is wrong with a pace from genesis, or undefined. */
export function circuitPaceProblem(pace: CircuitPace): string | undefined {
  if (!isHex64(pace.circuitId)) return `circuit_paces: circuit_id must be 64 lowercase hex characters, got ${JSON.stringify(pace.circuitId)}`;
  if (pace.deliveries === 0n) return `circuit_paces: ${pace.circuitId} has no deliveries (leave it out)`;
  return undefined;
}
