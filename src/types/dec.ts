/**
 * Fixed-point decimals with 18 places, as the Cosmos SDK's LegacyDec: a bigint of atto-units (1.0 = 10^18). On the
 * protobuf wire (commission rates, delegator shares, slash fractions, reward amounts) the SDK writes a LegacyDec as
 * its atto-unit integer in decimal ("100000000000000000" is 0.1), so that is the only form `parseDecWire` accepts;
 * genesis files and the CLI may use the human form "0.1" (`parseDecHuman`).
 */
export const DEC_PLACES = 18;
export const DEC_ONE = 10n ** 18n;

export class DecError extends Error {}

const WIRE_RE = /^(0|[1-9][0-9]{0,95})$/;
const HUMAN_RE = /^(0|[1-9][0-9]{0,77})(\.[0-9]{1,18})?$/;

/** A LegacyDec as the wire carries it: the atto-unit integer string. Empty means 0 (proto3 default). */
export function parseDecWire(s: string, what = 'decimal'): bigint {
  if (s === '') return 0n;
  if (!WIRE_RE.test(s)) throw new DecError(`${what} '${s}' is not a decimal in the wire form (an integer of 10^-18 units, e.g. "100000000000000000" for 0.1)`);
  return BigInt(s);
}

/** The human form: "0.05" → 5·10^16, "1" → 10^18. */
export function parseDecHuman(s: string, what = 'decimal'): bigint {
  if (!HUMAN_RE.test(s)) throw new DecError(`${what} '${s}' is not a non-negative decimal with at most 18 places (e.g. 0.05)`);
  const [int, frac = ''] = s.split('.');
  return BigInt(int!) * DEC_ONE + BigInt((frac + '0'.repeat(DEC_PLACES)).slice(0, DEC_PLACES));
}

/** atto-units → "0.050000000000000000" (the SDK's LegacyDec.String()). */
export function formatDec(atto: bigint): string {
  const neg = atto < 0n;
  const a = neg ? -atto : atto;
  const int = a / DEC_ONE;
  const frac = (a % DEC_ONE).toString().padStart(DEC_PLACES, '0');
  return `${neg ? '-' : ''}${int}.${frac}`;
}

/** floor(amount × dec) for a non-negative integer amount and decimal. */
export function mulDecFloor(amount: bigint, dec: bigint): bigint {
  return (amount * dec) / DEC_ONE;
}
