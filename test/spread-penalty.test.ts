/**
 * The spread penalty's controller (modules/market/spread-penalty.ts), its arithmetic in exact integers: the window's
 * unbiased HHI estimate and one step toward the target (direction, size, clamps, rounding). The app-level behaviour is
 * in market-spread.test.ts.
 */
import test from 'ava';
import { nextSpreadPenalty, windowHhi } from '../modules/market/spread-penalty.js';

test('windowHhi: (sum c^2 - n) / (n (n - 1)) in bps, 0 below two assignments', (t) => {
  t.deepEqual(windowHhi([]), { n: 0n, hhiBps: 0n });
  t.deepEqual(windowHhi([1n]), { n: 1n, hhiBps: 0n });
  t.deepEqual(windowHhi([2n]), { n: 2n, hhiBps: 10_000n }, 'one prover holding the window is a monopoly');
  t.deepEqual(windowHhi([1n, 1n]), { n: 2n, hhiBps: 0n });
  // two equal provers over the full window: (2 x 64^2 - 128) / (128 x 127) = 0.4961 (the plug-in share sum says 0.5)
  t.deepEqual(windowHhi([64n, 64n]), { n: 128n, hhiBps: 4960n });
  // eight equal provers: (8 x 16^2 - 128) / (128 x 127) = 0.1181, under the plug-in 1/8
  t.deepEqual(windowHhi(Array.from({ length: 8 }, () => 16n)), { n: 128n, hhiBps: 1181n });
});

test('nextSpreadPenalty: a step of adjust x (hhi - target) / target of the penalty, the gap capped at 1, at least 1 when it moves, within [1, cap]', (t) => {
  const cap = 960_000n;
  // far above the target: a full 12.5 % step up (the gap 1.27 is capped at 1)
  t.is(nextSpreadPenalty(15_000n, 5000n, 2200n, 1250n, cap), 16_875n);
  // half the target: half a step down, truncated toward zero (15,000 - 937.5)
  t.is(nextSpreadPenalty(15_000n, 1100n, 2200n, 1250n, cap), 14_063n);
  // no concentration at all: a full step down
  t.is(nextSpreadPenalty(15_000n, 0n, 2200n, 1250n, cap), 13_125n);
  // at the target: no move
  t.is(nextSpreadPenalty(15_000n, 2200n, 2200n, 1250n, cap), 15_000n);
  // a step that rounds to nothing still moves by 1 (a small penalty is not stuck), never below 1
  t.is(nextSpreadPenalty(1n, 5000n, 2200n, 1250n, cap), 2n);
  t.is(nextSpreadPenalty(100n, 2210n, 2200n, 1250n, cap), 101n);
  t.is(nextSpreadPenalty(1n, 0n, 2200n, 1250n, cap), 1n);
  t.is(nextSpreadPenalty(2n, 0n, 2200n, 1250n, cap), 1n);
  // the cap holds
  t.is(nextSpreadPenalty(cap, 9000n, 2200n, 1250n, cap), cap);
  t.is(nextSpreadPenalty(900_000n, 9000n, 2200n, 1250n, cap), cap);
  // adjust 0: the penalty never moves
  t.is(nextSpreadPenalty(15_000n, 9000n, 2200n, 0n, cap), 15_000n);
  // a full step each block: 1.125^k up, 0.875^k down, each step truncated toward zero (so a little less up, a little
  // less down than the real-valued 48,709 and 3,947)
  let up = 15_000n;
  let down = 15_000n;
  for (let i = 0; i < 10; i++) {
    up = nextSpreadPenalty(up, 10_000n, 2200n, 1250n, cap);
    down = nextSpreadPenalty(down, 0n, 2200n, 1250n, cap);
  }
  t.is(up, 48_703n);
  t.is(down, 3_949n);
});
