/**
 * The default patience `proofbook request prove` sets (src/client/patience.ts): twice the median blocks to proof of
 * the circuit's assigned deliveries + 3, or a quarter of the window before any.
 */
import test from 'ava';
import { medianAssignedMilli, suggestPatience } from '../src/client/patience.js';

const block = (assignedFills: bigint, meanAssignedBlocksToProofMilli: bigint) => ({ assignedFills, meanAssignedBlocksToProofMilli });

test('no delivery by an assigned prover in the stats window: a quarter of the proving window, rounded up', (t) => {
  t.is(suggestPatience([], 40n), 10n);
  t.is(suggestPatience([block(0n, 0n), block(0n, 0n)], 41n), 11n, 'blocks with only fallback fills or auctions count for nothing');
  t.is(suggestPatience([], 1n), 1n);
  t.throws(() => suggestPatience([], 0n), { instanceOf: RangeError });
});

test('the median is weighted by deliveries per block: twice it, rounded up, plus 3 blocks', (t) => {
  // samples 2, 2, 2 (one block of three) and 30: median 2 -> 2*2 + 3
  t.is(medianAssignedMilli([block(3n, 2000n), block(1n, 30_000n)]), 2000n);
  t.is(suggestPatience([block(3n, 2000n), block(1n, 30_000n)], 40n), 7n);
  // a minority of slow (held, padded) deliveries does not move it; a majority does
  t.is(suggestPatience([block(1n, 1500n), block(1n, 1500n), block(1n, 20_000n)], 40n), 6n, 'ceil(2 x 1.5) + 3');
  t.is(suggestPatience([block(1n, 1500n), block(2n, 20_000n)], 40n), 43n);
  // even count: the lower median; fractions of a block round up
  t.is(medianAssignedMilli([block(1n, 4000n), block(1n, 1000n)]), 1000n);
  t.is(suggestPatience([block(1n, 1001n)], 40n), 6n, 'ceil(2.002) + 3');
  // order of the blocks does not matter
  t.is(suggestPatience([block(1n, 9000n), block(2n, 3000n), block(1n, 1000n)], 40n), suggestPatience([block(1n, 1000n), block(1n, 9000n), block(2n, 3000n)], 40n));
});
