/** The simulator tests' small market: 6 provers (CPUs and GPUs, a quarter under-bidding), two circuits, one requester class. */
import { validateScenario, type Scenario } from '../../sim/scenario.js';

export function smallScenario(over: Partial<Scenario> = {}): Scenario {
  return validateScenario({
    name: 'test',
    description: 'small test market',
    seed: 7,
    blocks: 60,
    drainBlocks: 40,
    blockSeconds: 6,
    provers: 6,
    hardware: [
      { name: 'cpu', share: 1, costPerHour: { min: 150000, max: 400000 }, speed: { min: 20000, max: 60000 }, capacity: { min: 2, max: 3 } },
      { name: 'gpu', share: 1, costPerHour: { min: 1500000, max: 4000000 }, speed: { min: 250000, max: 900000 }, capacity: { min: 1, max: 2 } },
    ],
    strategies: [
      { kind: 'truthful', share: 3, markupBps: 1000 },
      { kind: 'under', share: 1, markupBps: -2000 },
    ],
    flaky: { share: 0, crashPpm: 0 },
    coalition: { share: 0 },
    collateral: 2_000_000,
    circuits: [
      { name: 'small', constraints: 1_000_000, weight: 3 },
      { name: 'large', constraints: 8_000_000, weight: 1 },
    ],
    requesters: [{ name: 'app', count: 4, ratePerBlock: 0.6, valuePerMConstraints: 12000, window: 40, lifetime: 80 }],
    proofbook: { minFeeBps: 2500, rampBlocks: 5 },
    fixedPricePerMConstraints: 6000,
    ...over,
  });
}
