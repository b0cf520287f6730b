/**
 * Whether `s` is 64 lowercase hex characters: a sha256 digest as the chain writes it, and so the form of a circuit id
 * (the sha256 of its verifying key). One predicate for every module that checks one (validateBasic runs it on every
 * request and ask in CheckTx, hence the one compiled pattern).
 */
const HEX64 = /^[0-9a-f]{64}$/;

export function isHex64(s: unknown): s is string {
  return typeof s === 'string' && HEX64.test(s);
}
