/**
 * The chain's last SPREAD_WINDOW (128) assignments, by prover (allocation 'spread', docs/protocol.md "Spreading work"):
 * a ring of SPREAD_WINDOW slots and a count per prover, so the auction reads a prover's share of recent work in one get and each
 * assignment costs a constant number of writes. Bounded: at most SPREAD_WINDOW slots and counts.
 *
 *   'R' + u64(slot)   -> prover address (UTF-8)   slot = sequence number mod window
 *   'S' + addr        -> u64 count                 how many of the slots hold the prover (absent when 0)
 *   'T'               -> u64                       sequence number of the next assignment recorded
 */
import type { Address } from '../../src/crypto/address.js';
import { iteratePrefix, keyToU64, u64Key, type KV, type KVReader } from '../../src/store/kv.js';
import { SPREAD_WINDOW, addrKey, decodeText, encodeText } from './keys.js';

const SLOT_PREFIX = 'R';
const COUNT_PREFIX = 'S';
const NEXT_KEY = 'T';

const countKey = (prover: Address): string => COUNT_PREFIX + addrKey(prover);
const readU64 = (kv: KVReader, key: string): bigint => {
  const v = kv.get(key);
  return v === undefined ? 0n : BigInt(decodeText(v));
};

/** How many of the last `window` assignments went to `prover`. */
export function recentWins(kv: KVReader, prover: Address): bigint {
  return readU64(kv, countKey(prover));
}

/** Records an assignment to `prover`: it takes the oldest slot once all SPREAD_WINDOW are filled. */
export function recordWinner(kv: KV, prover: Address): void {
  const seq = readU64(kv, NEXT_KEY);
  const slot = SLOT_PREFIX + u64Key(seq % SPREAD_WINDOW);
  const old = kv.get(slot);
  if (old !== undefined) {
    const was = decodeText(old) as Address;
    const n = readU64(kv, countKey(was)) - 1n;
    if (n > 0n) kv.set(countKey(was), encodeText(n.toString()));
    else kv.delete(countKey(was));
  }
  kv.set(slot, encodeText(prover));
  kv.set(countKey(prover), encodeText((readU64(kv, countKey(prover)) + 1n).toString()));
  kv.set(NEXT_KEY, encodeText((seq + 1n).toString()));
}

/** The slots in order of recording, oldest first (genesis export, invariants). */
export function recentWinners(kv: KVReader): Address[] {
  const seq = readU64(kv, NEXT_KEY);
  const slots: [bigint, Address][] = [];
  for (const [k, v] of iteratePrefix(kv, SLOT_PREFIX)) slots.push([keyToU64(k, 1), decodeText(v) as Address]);
  const n = BigInt(slots.length);
  if (n === 0n) return [];
  // the slot written last is (seq - 1) mod n; the oldest is the one after it
  const start = Number(seq % n);
  return [...slots.slice(start), ...slots.slice(0, start)].map(([, a]) => a);
}

/** Each prover's count as stored (invariants compare it with the slots). */
export function recentCounts(kv: KVReader): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [k, v] of iteratePrefix(kv, COUNT_PREFIX)) out.set(k.slice(1), BigInt(decodeText(v)));
  return out;
}

/**
 * The invariant (market/recent-winners): at most SPREAD_WINDOW slots, each prover's count is the number of slots
 * holding it (no zero counts kept), and the next sequence number is at least the number of slots.
 */
export function checkRecentWinners(kv: KVReader): string | undefined {
  const want = new Map<string, bigint>();
  let slots = 0n;
  for (const [k, v] of iteratePrefix(kv, SLOT_PREFIX)) {
    if (keyToU64(k, 1) >= SPREAD_WINDOW) return `recent-winner slot ${keyToU64(k, 1)} is outside the window of ${SPREAD_WINDOW}`;
    const key = addrKey(decodeText(v) as Address);
    want.set(key, (want.get(key) ?? 0n) + 1n);
    slots++;
  }
  if (readU64(kv, NEXT_KEY) < slots) return `recent winners: ${slots} slots filled by ${readU64(kv, NEXT_KEY)} assignments`;
  const have = recentCounts(kv);
  for (const [key, n] of have) if (want.get(key) !== n) return `recent winners: a prover counts ${n} wins, its slots hold ${want.get(key) ?? 0n}`;
  for (const [key, n] of want) if (have.get(key) !== n) return `recent winners: a prover in ${n} slots counts ${have.get(key) ?? 0n}`;
  return undefined;
}
