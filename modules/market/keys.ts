/**
 * Market state layout, params defaults and errors. Every key lives under the module prefix `market/`
 * (ctx.store(MARKET_STORE_PREFIX)). `circ` is the 32 raw bytes of a circuit id (hex -> bytes), `addr` is a
 * length-prefixed address (one length byte + raw bytes, as in modules/bank/keys.ts), u64 is big-endian.
 *
 *   'p'                              -> Params (protobuf)
 *   'n' / 'N'                        -> next request id / next ask id (u64)
 *   'r' + u64(id)                    -> Request (protobuf)
 *   'i' + u64(id)                    -> the request's inline input (kept out of the record, which is rewritten at
 *                                       every status change; queries and genesis export put it back)
 *   'a' + u64(id)                    -> Ask (protobuf)
 *   'o' + circ + desc(maxEff) + u64(id) -> "minFee,rampBlocks,submittedHeight,maxFee,maxEff,minCollateral"   OPEN (and auctioned
 *                                       FALLBACK) requests by circuit, highest fee bound first. maxEff = min(max_fee,
 *                                       escrow): the escrow clamp (decline fees come out of the escrow) is part of the key,
 *                                       so every request's fee is <= its key amount; the value evaluates the ramp without
 *                                       decoding the record (openEntryFee). desc() below.
 *   'g' + circ + asc(lowFee) + u64(id) -> same value   the auctioned requests of 'o' whose fee still can move
 *                                       (lowFee = min(min_fee, escrow) < maxEff, ramp_blocks > 0), lowest first: the
 *                                       auction finds ramping requests under a fee ceiling here (auction-read.ts)
 *   'e' + u64(expiry) + u64(id)      -> empty   OPEN and FALLBACK requests by expiry height
 *   'd' + u64(deadline) + u64(id)    -> empty   ASSIGNED requests by deadline height
 *   'q' + addr + u64(id)             -> empty   requests by requester (all statuses)
 *   's' + u8(status) + u64(id)       -> empty   requests by status
 *   'w' + circ + u8(status) + u64(id) -> empty  requests by circuit and status (the Requests query's circuit filter:
 *                                       a prover's fallback scan pages through its circuits' FALLBACK requests)
 *   'c' + addr                       -> u64     a requester's non-final (OPEN/ASSIGNED) request count
 *   'k' + addr + u64(askId)          -> empty   asks by prover
 *   'b' + circ + u64(askId)          -> empty   asks by circuit
 *   'x' + u64(expiry) + u64(askId)   -> empty   asks by expiry height (removal once they hold no assignments)
 *   'v' + circ + asc(price) + u64(askId) -> empty   asks by circuit, cheapest first (the auction checks the cheapest live
 *                                       ask against the circuit's demand before loading any; admission evicts from the top)
 *   'y' + circ + asc(price) + u64(askId) -> empty   the asks of 'v' with capacity left (active < capacity): the auction
 *                                       walks and loads only these (asks at full capacity cost it nothing)
 *   'C' + circ                       -> u64     number of ask records of the circuit (<= params.max_asks_per_circuit)
 *   'u' + addr + circ                -> Reputation (protobuf)
 *   'l' + circ                       -> "price,height" last clearing price of the circuit (ASCII)
 *   't' + u64(height) + circ         -> per-block stats counters (ASCII, see StatsCounters), pruned past stats_window
 *   'z' + u64(settled h) + u64(id)   -> empty   settled requests, removed settled_retention_blocks later (retention.ts)
 *   'R' / 'S' / 'T'                  -> the spread rule's window of the last assignments (recent-winners.ts)
 *   'P'                              -> the spread penalty in force, once its controller has moved it (spread-penalty.ts)
 *   'K' + circ                       -> CircuitPace (protobuf): how fast the circuit's assigned provers deliver (circuit-pace.ts)
 */
import { registerError, GRPC } from '../../src/framework/errors.js';
import { bytesToKey, keyToU64, u64Key, type Key } from '../../src/store/kv.js';
import { addressBytes, type Address } from '../../src/crypto/address.js';
import type { Params } from '../../src/gen/proofbook/market/v1/market.js';
import { NATIVE_DENOM } from '../../src/types/coins.js';
import { isHex64 } from '../../src/types/hex.js';

export const MARKET_MODULE_NAME = 'market';
export const MARKET_STORE_PREFIX = 'market/';
export const ESCROW_ACCOUNT = 'market_escrow';
export const TREASURY_ACCOUNT = 'treasury';

export const PARAMS_KEY = 'p';
export const NEXT_REQUEST_ID_KEY = 'n';
export const NEXT_ASK_ID_KEY = 'N';
export const REQUEST_PREFIX = 'r';
export const ASK_PREFIX = 'a';
export const INPUT_PREFIX = 'i';
export const OPEN_BY_CIRCUIT_PREFIX = 'o';
export const RAMPING_BY_CIRCUIT_PREFIX = 'g';
export const OPEN_BY_EXPIRY_PREFIX = 'e';
export const BY_DEADLINE_PREFIX = 'd';
export const BY_REQUESTER_PREFIX = 'q';
export const BY_STATUS_PREFIX = 's';
export const BY_CIRCUIT_STATUS_PREFIX = 'w';
export const ACTIVE_COUNT_PREFIX = 'c';
export const ASK_BY_PROVER_PREFIX = 'k';
export const ASK_BY_CIRCUIT_PREFIX = 'b';
export const ASK_BY_EXPIRY_PREFIX = 'x';
export const ASK_BY_PRICE_PREFIX = 'v';
export const ASK_WITH_ROOM_PREFIX = 'y';
export const ASK_COUNT_PREFIX = 'C';
export const REPUTATION_PREFIX = 'u';
export const CLEARING_PREFIX = 'l';
export const STATS_PREFIX = 't';

export const EMPTY = new Uint8Array(0);
export const BPS = 10_000n;
export const MAX_ASK_CAPACITY = 1000n;
/**
 * Default of params.max_asks_per_circuit (ask-cap.ts). The auction loads a circuit's asks in a block only when the
 * circuit has a fundable live ask within reach of its demand, at ~4-13 µs an ask (bench adversarial): 1,000 asks is
 * ~4-13 ms per such circuit.
 */
export const MAX_ASKS_PER_CIRCUIT = 1000n;
export const MAX_URI_LENGTH = 1024;
/** The spread rule's window (recent-winners.ts): the chain's last 128 assignments. */
export const SPREAD_WINDOW = 128n;
/**
 * Default params.spread_penalty (docs/mechanism.md "The spread rule"): 15,000 uproof per unit share of the window, so a
 * prover holding every recent assignment yields a request to an ask up to 15,000 uproof (within the band) above its
 * own, and one holding a quarter to an ask 3,750 above. In the simulated market (proofs of 1M-16M constraints at
 * 500-5,000 uproof per M) that moves small jobs off the busiest provers and keeps large ones on the cheapest ask; it is
 * the value of the measured sweep (5,000-20,000) that brings the winners' HHI under 0.25 at 16 and 64 provers.
 */
export const SPREAD_PENALTY = '15000';
export const SPREAD_FREE_WINS = 0n;
/**
 * Default params.spread_target_hhi_bps and spread_adjust_bps (spread-penalty.ts): the controller holds the window's HHI
 * near 0.22, under the 0.25 of issue 11's target with room for the window's noise, and moves the penalty by at most
 * 12.5 % a block (EIP-1559's step for its base fee). The penalty a market needs depends on how far apart its asks are,
 * not on a constant: measured, a fixed 15,000 overshoots at 64 provers (HHI 0.12-0.14, docs/mechanism.md).
 */
export const SPREAD_TARGET_HHI_BPS = 2200n;
export const SPREAD_ADJUST_BPS = 1250n;
/**
 * Default params.overdue_race_bps and overdue_race_slack_blocks (penalties.ts overdueHeight): an assignment is open to
 * the fallback race once it has taken twice its prover's average blocks to proof for the circuit, plus 2 blocks for a
 * proof tx to land. Twice, not the worker's 1.25x (src/worker/race.ts), because this one binds every racer whatever
 * it knows: an honest prover is raced only when it is much slower than its own record. It bounds a hold by the
 * holder's own proving time instead of the requester's window (docs/mechanism.md "Overdue by its own record").
 */
export const OVERDUE_RACE_BPS = 20_000n;
export const OVERDUE_RACE_SLACK_BLOCKS = 2n;
/**
 * Default params.overdue_race_new_bps: a prover without a delivery of the circuit is raced from halfway through its
 * proving window. Without it a coalition member holds its first assignments of a circuit to the deadline.
 */
export const OVERDUE_RACE_NEW_BPS = 5_000n;
/**
 * Default params.overdue_race_max_bps: no assignment goes unraced past half its proving window, whatever its prover's
 * record says. A record is the prover's own deliveries, so a holder can make it say "slow" by delivering late on
 * purpose (at its overdue height less one, the first delivery sets the average): measured in censor-pad.json, such a
 * coalition held censored requests to the deadline as if there were no overdue race (docs/mechanism.md "Padding the
 * record"). An honest prover whose average needs more than half the window is raced from there, as a new one is.
 */
export const OVERDUE_RACE_MAX_BPS = 5_000n;
/**
 * Default params.overdue_race_pace_bps: off. Held to twice the circuit's pace (20,000), a prover without a record of the
 * circuit is raced much earlier than halfway through the window, and every requester's latency falls (v2's p99 14 -> 9
 * blocks at 16 provers with declining workers), but the targets issue 11 sets are ratios: the uncensored p99 falls
 * further than the censored one, so the hold ratio rises at 16 provers (2.65x -> 3.44x with workers that decline)
 * and stays near 4.9x at 64, and the winners' HHI at 16 provers rises to 0.25-0.26 (docs/mechanism.md "The circuit's
 * pace"). The pace is tracked either way (Stats shows it, genesis exports it), so a chain restarted from its export
 * with the rule on starts from the paces it had measured.
 */
export const OVERDUE_RACE_PACE_BPS = 0n;
export const MAX_SIGNALS = 256;

export const DEFAULT_PARAMS: Params = {
  feeDenom: NATIVE_DENOM,
  collateralDenom: NATIVE_DENOM,
  collateralRatioBps: 20_000n,
  protocolFeeBps: 100n,
  releaseSlashBps: 1000n,
  slashToRequesterBps: 5000n,
  minFee: '1000',
  maxInlineInputBytes: 65_536n,
  maxOpenRequestsPerAccount: 100n,
  maxAsksPerAccount: 20n,
  minProvingWindow: 2n,
  maxProvingWindow: 10_000n,
  maxRequestLifetime: 100_000n,
  statsWindow: 1000n,
  settledRetentionBlocks: 1000n,
  maxCollateralRatioBps: 50_000n,
  acceptBlocks: 3n,
  declineFeeBps: 100n,
  maxFailedAssignments: 3n,
  fallbackBountyBps: 2500n,
  // 10^-5 uproof per byte-block (holding.ts): a 600-byte request held 1,000 blocks plus the 1,000-block retention
  // pays 12 uproof; the largest (64 KiB input, max lifetime) ~67,000 uproof; writing the same byte costs 0.03 uproof of
  // gas once, about 3,000 blocks of holding.
  holdingPriceAtto: 10_000_000_000_000n,
  // Fallback commit-reveal (fallback.ts): a deposit that makes spam commitments cost something (the tx fee is the
  // other part), a reveal window long enough for a loaded node to get the reveal into a block, a few live
  // commitments per request (bounded state). k squatters keep an honest commitment out only while they hold all M
  // slots: at most floor(k (R + 1) / M) blocks (docs/protocol.md "Squatting the fallback"); 8 slots leave the 4
  // non-excluded members of a 5-prover coalition (the cheapest 1/3 of 16) no delay at all (docs/mechanism.md).
  fallbackCommitDeposit: '1000',
  fallbackRevealBlocks: 10n,
  maxFallbackCommits: 8n,
  // The fallback fee ramps from the market's price to the request's current fee over this many blocks (fallback-fee.ts).
  // A fallback prover can commit only once its proof is done, so it is paid about ref + (max_fee - ref) * t / R for a
  // proof taking t blocks: a longer ramp overpays less; a reference pushed down by a coalition delays the fallback by at
  // most R. 40 blocks (4 min at 6 s) is one proving window of the simulated scenarios (docs/mechanism.md "The fallback fee").
  fallbackRampBlocks: 40n,
  // Ask admission (ask-cap.ts): at most 1,000 asks per circuit; each ask needs 10,000 uproof (10x min_fee) of its
  // prover's free collateral, so holding a circuit's whole ask book takes 10 PROOF of free bond; an ask lives at most
  // 100,000 blocks (as a request), so nothing posted once stays in the book for good.
  maxAsksPerCircuit: MAX_ASKS_PER_CIRCUIT,
  minBondPerAsk: '10000',
  maxAskLifetime: 100_000n,
  spreadPenalty: SPREAD_PENALTY,
  spreadFreeWins: SPREAD_FREE_WINS,
  spreadTargetHhiBps: SPREAD_TARGET_HHI_BPS,
  spreadAdjustBps: SPREAD_ADJUST_BPS,
  overdueRaceBps: OVERDUE_RACE_BPS,
  overdueRaceSlackBlocks: OVERDUE_RACE_SLACK_BLOCKS,
  overdueRaceNewBps: OVERDUE_RACE_NEW_BPS,
  overdueRaceMaxBps: OVERDUE_RACE_MAX_BPS,
  overdueRacePaceBps: OVERDUE_RACE_PACE_BPS,
};

// ---- errors (codespace 'market') ----------------------------------------------------------------------------------

export const MARKET_CODESPACE = 'market';
export const ErrInvalidRequestParams = registerError(MARKET_CODESPACE, 2, 'invalid proof request');
export const ErrUnknownRequest = registerError(MARKET_CODESPACE, 3, 'unknown request', GRPC.NotFound);
export const ErrNotRequester = registerError(MARKET_CODESPACE, 4, 'not the requester', GRPC.PermissionDenied);
export const ErrWrongStatus = registerError(MARKET_CODESPACE, 5, 'request is not in the required status', GRPC.FailedPrecondition);
export const ErrTooManyRequests = registerError(MARKET_CODESPACE, 6, 'too many open requests', GRPC.ResourceExhausted);
export const ErrInvalidAsk = registerError(MARKET_CODESPACE, 7, 'invalid ask');
export const ErrUnknownAsk = registerError(MARKET_CODESPACE, 8, 'unknown ask', GRPC.NotFound);
export const ErrNotAskOwner = registerError(MARKET_CODESPACE, 9, 'not the ask owner', GRPC.PermissionDenied);
export const ErrTooManyAsks = registerError(MARKET_CODESPACE, 10, 'too many asks', GRPC.ResourceExhausted);
export const ErrNotBonded = registerError(MARKET_CODESPACE, 11, 'prover is not bonded', GRPC.FailedPrecondition);
export const ErrJailed = registerError(MARKET_CODESPACE, 12, 'prover is jailed', GRPC.FailedPrecondition);
export const ErrNotAssignedProver = registerError(MARKET_CODESPACE, 13, 'not the assigned prover', GRPC.PermissionDenied);
export const ErrDeadlinePassed = registerError(MARKET_CODESPACE, 14, 'deadline passed', GRPC.FailedPrecondition);
export const ErrSignalsMismatch = registerError(MARKET_CODESPACE, 15, 'public signals do not match the expected public signals');
export const ErrInvalidProof = registerError(MARKET_CODESPACE, 16, 'invalid proof');
export const ErrUnknownCircuit = registerError(MARKET_CODESPACE, 17, 'unknown circuit', GRPC.NotFound);
export const ErrInvalidSignals = registerError(MARKET_CODESPACE, 18, 'invalid public signals');
export const ErrNotInAcceptPhase = registerError(MARKET_CODESPACE, 19, 'the accept phase is over', GRPC.FailedPrecondition);
export const ErrNotEligible = registerError(MARKET_CODESPACE, 20, 'prover not eligible for this request', GRPC.PermissionDenied);
export const ErrAskUnderfunded = registerError(MARKET_CODESPACE, 30, 'free collateral too low for another ask', GRPC.FailedPrecondition);

// ---- keys ---------------------------------------------------------------------------------------------------------

const addrKeyCache = new Map<string, Key>();
/** One length byte + raw address bytes (memoized: bech32 decoding is slow). */
export function addrKey(addr: Address): Key {
  let k = addrKeyCache.get(addr);
  if (k === undefined) {
    const b = addressBytes(addr);
    k = String.fromCharCode(b.length) + bytesToKey(b);
    if (addrKeyCache.size >= 16384) addrKeyCache.clear();
    addrKeyCache.set(addr, k);
  }
  return k;
}

/** The 32 raw bytes of a 64-hex circuit id as a key string. */
export function circKey(circuitId: string): Key {
  if (!isHex64(circuitId)) throw new Error(`circuit id must be 64 lowercase hex characters, got ${JSON.stringify(circuitId)}`);
  return bytesToKey(Buffer.from(circuitId, 'hex'));
}

export function circIdFromKey(k: Key): string {
  return Buffer.from(k, 'latin1').toString('hex');
}

export const requestKey = (id: bigint): Key => REQUEST_PREFIX + u64Key(id);
export const inputKey = (id: bigint): Key => INPUT_PREFIX + u64Key(id);
export const askKey = (id: bigint): Key => ASK_PREFIX + u64Key(id);
export const openByCircuitPrefix = (circuitId: string): Key => OPEN_BY_CIRCUIT_PREFIX + circKey(circuitId);
export const openByCircuitKey = (circuitId: string, maxEff: bigint, id: bigint): Key => openByCircuitPrefix(circuitId) + descAmountKey(maxEff) + u64Key(id);
export const rampingByCircuitPrefix = (circuitId: string): Key => RAMPING_BY_CIRCUIT_PREFIX + circKey(circuitId);
export const rampingByCircuitKey = (circuitId: string, lowFee: bigint, id: bigint): Key => rampingByCircuitPrefix(circuitId) + ascAmountKey(lowFee) + u64Key(id);

/**
 * Order-reversing key of a non-negative amount of any size: one byte 255 - (byte length), then every big-endian byte
 * complemented. Larger amounts sort first; the length byte makes the encoding prefix-free.
 */
export function descAmountKey(n: bigint): Key {
  if (n < 0n) throw new Error('descAmountKey: negative amount');
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let out = String.fromCharCode(255 - hex.length / 2);
  for (let i = 0; i < hex.length; i += 2) out += String.fromCharCode(255 - parseInt(hex.slice(i, i + 2), 16));
  return out;
}

/** Order-keeping key of a non-negative amount of any size: one byte (byte length), then the big-endian bytes. */
export function ascAmountKey(n: bigint): Key {
  if (n < 0n) throw new Error('ascAmountKey: negative amount');
  let hex = n === 0n ? '' : n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let out = String.fromCharCode(hex.length / 2);
  for (let i = 0; i < hex.length; i += 2) out += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return out;
}

/** Inverse of ascAmountKey, reading at `offset`. */
export function readAscAmountKey(k: Key, offset: number): { amount: bigint; end: number } {
  const len = k.charCodeAt(offset);
  let hex = '';
  for (let i = 1; i <= len; i++) hex += k.charCodeAt(offset + i).toString(16).padStart(2, '0');
  return { amount: len === 0 ? 0n : BigInt('0x' + hex), end: offset + 1 + len };
}

/** Inverse of descAmountKey, reading at `offset`; returns the amount and the offset after it. */
export function readDescAmountKey(k: Key, offset: number): { amount: bigint; end: number } {
  const len = 255 - k.charCodeAt(offset);
  let hex = '';
  for (let i = 1; i <= len; i++) hex += (255 - k.charCodeAt(offset + i)).toString(16).padStart(2, '0');
  return { amount: len === 0 ? 0n : BigInt('0x' + hex), end: offset + 1 + len };
}

/** What the auction needs of an auctioned request to evaluate its fee without decoding the record. */
export interface OpenEntry {
  minFee: bigint;
  rampBlocks: bigint;
  submittedHeight: bigint;
  maxFee: bigint;
  /** min(max_fee, escrow): the most the request can pay now or later (the key amount of 'o'). */
  maxEff: bigint;
  /** The request's min_collateral (the auction skips, undecoded, a request no live ask's prover could lock for). */
  minCollateral: bigint;
}
/** The entry of an auctioned request (escrow clamp included); `lowFee` is the least fee it can have. */
export function openEntryOf(r: { minFee: string; maxFee: string; rampBlocks: bigint; submittedHeight: bigint; escrow: string; minCollateral: string }): OpenEntry & { lowFee: bigint } {
  const maxFee = BigInt(r.maxFee);
  const minFee = r.minFee === '' ? maxFee : BigInt(r.minFee);
  const escrow = BigInt(r.escrow);
  const maxEff = maxFee < escrow ? maxFee : escrow;
  const lowFee = minFee < escrow ? minFee : escrow;
  const minCollateral = r.minCollateral === '' ? 0n : BigInt(r.minCollateral);
  return { minFee, rampBlocks: r.rampBlocks, submittedHeight: r.submittedHeight, maxFee, maxEff, minCollateral, lowFee };
}
/** Whether the request's fee can still change (it is also indexed under 'g' by its lowest fee). */
export const feeMoves = (e: OpenEntry & { lowFee: bigint }): boolean => e.rampBlocks > 0n && e.lowFee < e.maxEff;
/** "minFee,rampBlocks,submittedHeight,maxFee,maxEff,minCollateral" (the invariants compare this text). */
export const openEntryText = (e: OpenEntry): string => `${e.minFee},${e.rampBlocks},${e.submittedHeight},${e.maxFee},${e.maxEff},${e.minCollateral}`;
export function encodeOpenEntry(e: OpenEntry): Uint8Array {
  return enc.encode(openEntryText(e));
}
export function decodeOpenEntry(v: Uint8Array): OpenEntry {
  const [a, b, c, d, e, f] = dec.decode(v).split(',');
  return { minFee: BigInt(a), rampBlocks: BigInt(b), submittedHeight: BigInt(c), maxFee: BigInt(d), maxEff: BigInt(e), minCollateral: BigInt(f) };
}
export const openByExpiryKey = (expiry: bigint, id: bigint): Key => OPEN_BY_EXPIRY_PREFIX + u64Key(expiry) + u64Key(id);
export const byDeadlineKey = (deadline: bigint, id: bigint): Key => BY_DEADLINE_PREFIX + u64Key(deadline) + u64Key(id);
export const byRequesterPrefix = (addr: Address): Key => BY_REQUESTER_PREFIX + addrKey(addr);
export const byRequesterKey = (addr: Address, id: bigint): Key => byRequesterPrefix(addr) + u64Key(id);
export const byStatusPrefix = (status: number): Key => BY_STATUS_PREFIX + String.fromCharCode(status);
export const byStatusKey = (status: number, id: bigint): Key => byStatusPrefix(status) + u64Key(id);
export const byCircuitPrefix = (circuitId: string): Key => BY_CIRCUIT_STATUS_PREFIX + circKey(circuitId);
export const byCircuitStatusPrefix = (circuitId: string, status: number): Key => byCircuitPrefix(circuitId) + String.fromCharCode(status);
export const byCircuitStatusKey = (circuitId: string, status: number, id: bigint): Key => byCircuitStatusPrefix(circuitId, status) + u64Key(id);
export const activeCountKey = (addr: Address): Key => ACTIVE_COUNT_PREFIX + addrKey(addr);
export const askByProverPrefix = (addr: Address): Key => ASK_BY_PROVER_PREFIX + addrKey(addr);
export const askByProverKey = (addr: Address, id: bigint): Key => askByProverPrefix(addr) + u64Key(id);
export const askByCircuitPrefix = (circuitId: string): Key => ASK_BY_CIRCUIT_PREFIX + circKey(circuitId);
export const askByCircuitKey = (circuitId: string, id: bigint): Key => askByCircuitPrefix(circuitId) + u64Key(id);
export const askByPricePrefix = (circuitId: string): Key => ASK_BY_PRICE_PREFIX + circKey(circuitId);
export const askByPriceKey = (circuitId: string, price: bigint, id: bigint): Key => askByPricePrefix(circuitId) + ascAmountKey(price) + u64Key(id);
export const askWithRoomPrefix = (circuitId: string): Key => ASK_WITH_ROOM_PREFIX + circKey(circuitId);
export const askWithRoomKey = (circuitId: string, price: bigint, id: bigint): Key => askWithRoomPrefix(circuitId) + ascAmountKey(price) + u64Key(id);
export const askCountKey = (circuitId: string): Key => ASK_COUNT_PREFIX + circKey(circuitId);
export const askByExpiryKey = (expiry: bigint, id: bigint): Key => ASK_BY_EXPIRY_PREFIX + u64Key(expiry) + u64Key(id);
export const reputationPrefix = (addr: Address): Key => REPUTATION_PREFIX + addrKey(addr);
export const reputationKey = (addr: Address, circuitId: string): Key => reputationPrefix(addr) + circKey(circuitId);
export const clearingKey = (circuitId: string): Key => CLEARING_PREFIX + circKey(circuitId);
export const statsKey = (height: bigint, circuitId: string): Key => STATS_PREFIX + u64Key(height) + circKey(circuitId);

/** The trailing u64 of an index key. */
export function trailingId(k: Key): bigint {
  return keyToU64(k, k.length - 8);
}

const enc = new TextEncoder();
const dec = new TextDecoder();
export const encodeU64 = (n: bigint): Uint8Array => enc.encode(n.toString());
export const decodeU64 = (v: Uint8Array): bigint => BigInt(dec.decode(v));
export const encodeText = (s: string): Uint8Array => enc.encode(s);
export const decodeText = (v: Uint8Array): string => dec.decode(v);

/** Per block and circuit counters, stored as comma-separated decimals in this field order. */
export interface StatsCounters {
  /** Assignments made by the auction, and the sum of their prices. */
  matches: bigint;
  priceSum: bigint;
  /** Proofs accepted, and the sum of their blocks-to-proof. */
  fills: bigint;
  blocksSum: bigint;
  /** Deadline misses and releases that slashed collateral. */
  slashes: bigint;
  /** Requests that reached EXPIRED. */
  expiries: bigint;
  /**
   * Of the fills, proofs delivered by the assigned prover (not through the fallback), and the sum of their blocks from
   * assignment to proof. Appended last: a value written before they existed decodes them as 0.
   */
  assignedFills: bigint;
  assignedBlocksSum: bigint;
}
export const STATS_FIELDS = ['matches', 'priceSum', 'fills', 'blocksSum', 'slashes', 'expiries', 'assignedFills', 'assignedBlocksSum'] as const;
export function emptyStats(): StatsCounters {
  return { matches: 0n, priceSum: 0n, fills: 0n, blocksSum: 0n, slashes: 0n, expiries: 0n, assignedFills: 0n, assignedBlocksSum: 0n };
}
export function encodeStats(s: StatsCounters): Uint8Array {
  return enc.encode(STATS_FIELDS.map((f) => s[f].toString()).join(','));
}
export function decodeStats(v: Uint8Array): StatsCounters {
  const parts = dec.decode(v).split(',');
  const s = emptyStats();
  STATS_FIELDS.forEach((f, i) => (s[f] = BigInt(parts[i] ?? '0')));
  return s;
}
