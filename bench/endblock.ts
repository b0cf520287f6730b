/**
 * The market's EndBlock with many open requests nobody will fill (issue 10 #5), measured on the real market keeper
 * (app/modules.ts wiring) over an in-memory store (a root CacheKV holding the state, as the simulator uses).
 *
 * State: one bonded prover with a live ask at 10,000 uproof and N open requests whose max fee (1,000..9,999, half of
 * them ramping) is below it (20,000 with --quick; 20,000 and 100,000 without). On top, one attack per row: cheap asks
 * nobody can be assigned to (unbonded, underfunded, jailed, at full capacity). Each timed EndBlock runs on a fresh
 * cache over that state, so every run sees the same book. Baselines in the same run: the keeper's 'full' reference
 * auction (decode every auctioned request, clear every circuit with asks) on the same state, and mechanism v1's
 * auction step alone (decode every open request of the circuit, clear).
 */
import { createModules } from '../app/modules.js';
import { Context } from '../src/framework/context.js';
import { CacheKV } from '../src/store/cache.js';
import { iteratePrefix, type KVReader } from '../src/store/kv.js';
import { simAddress } from '../sim/agents.js';
import { genesisCircuitId, initVerifierBackend } from '../modules/verifier/index.js';
import { Request, RequestStatus } from '../src/gen/proofbook/market/v1/market.js';
import { clearCircuit, type MatchRequest } from '../modules/market/matching.js';
import { openByCircuitPrefix, trailingId, type MarketKeeperImpl } from '../modules/market/index.js';
import { ESCROW_ACCOUNT, MAX_ASKS_PER_CIRCUIT } from '../modules/market/keys.js';
import { moduleAddress } from '../src/crypto/address.js';
import { printTable, type BenchRow } from './table.js';

const EMPTY_STORE: KVReader = { get: () => undefined, has: () => false, *iterate() {} };

function time(fn: () => void, minMs: number): { median: number; min: number; runs: number } {
  fn();
  const times: number[] = [];
  const start = process.hrtime.bigint();
  while (times.length < 5 || Number(process.hrtime.bigint() - start) / 1e6 < minMs) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1], min: times[0], runs: times.length };
}

/** Max fee of the book's request i: 1,000..9,999, spread. */
const bookMaxFee = (i: number): bigint => 1000n + BigInt((i * 7919) % 9000);

export function unfillableBook(n: number): { base: CacheKV; market: MarketKeeperImpl; height: bigint; chainId: string } {
  const mods = createModules();
  const base = new CacheKV(EMPTY_STORE);
  const chainId = 'bench-endblock';
  const prover = simAddress('bench/prover');
  const requester = simAddress('bench/requester');
  const g = new Context(base, { chainId, height: 0n, timeSeconds: 0n }, 'genesis');
  // the escrow account holds the requests' max fees (the market/escrow invariant), as if they had been submitted
  let escrow = 0n;
  for (let i = 1; i <= n; i++) escrow += bookMaxFee(i);
  const balances = [{ address: prover, coins: [{ denom: 'uproof', amount: '1000000000000' }] }];
  if (escrow > 0n) balances.push({ address: moduleAddress(ESCROW_ACCOUNT), coins: [{ denom: 'uproof', amount: escrow.toString() }] });
  const genesis: Record<string, unknown> = { bank: { balances } };
  for (const m of mods.modules) m.initGenesis?.(g, genesis[m.name] ?? m.defaultGenesis?.());
  const ctx = new Context(base, { chainId, height: 1n, timeSeconds: 6n }, 'block');
  const market = mods.keepers.market as MarketKeeperImpl;
  const circuitId = genesisCircuitId();
  (mods.keepers.bond as any).bond(ctx, prover, [{ denom: 'uproof', amount: 100_000_000n }]);
  market.putNewAsk(ctx, { id: 1n, prover, circuitId, price: '10000', capacity: 10n, active: 0n, expiryHeight: 1_000_000n, createdHeight: 1n });
  for (let i = 1; i <= n; i++) {
    const maxFee = bookMaxFee(i);
    const ramping = i % 2 === 0;
    const r: Request = Request.fromPartial({
      id: BigInt(i), requester, circuitId, inputInline: Buffer.alloc(0), expectedPublicSignals: ['1', '2'],
      minFee: ramping ? '1000' : maxFee.toString(), maxFee: maxFee.toString(), rampBlocks: ramping ? 1000n : 0n,
      provingWindow: 20n, expiryHeight: 100_000n, minCollateral: '0', submittedHeight: 1n,
      status: RequestStatus.REQUEST_STATUS_OPEN, escrow: maxFee.toString(),
      history: [{ height: 1n, status: RequestStatus.REQUEST_STATUS_OPEN, event: 'submitted', prover: '', amount: `${maxFee}uproof` }],
    });
    market.putNewRequest(ctx, r);
  }
  market.setNextId(ctx, 'N', 2n);
  market.setNextId(ctx, 'n', BigInt(n) + 1n);
  return { base, market, height: 2n, chainId };
}

/** Mechanism v1's per-block work on one circuit: decode every open request, evaluate its fee, clear. */
function fullScan(market: MarketKeeperImpl, ctx: Context): number {
  const circuitId = genesisCircuitId();
  const reqs: MatchRequest[] = [];
  for (const [k] of iteratePrefix(market.store(ctx), openByCircuitPrefix(circuitId))) {
    const r = market.request(ctx, trailingId(k))!;
    reqs.push({ id: r.id, currentFee: market.currentFee(r, ctx.height), minCollateral: BigInt(r.minCollateral) });
  }
  const asks = market.liveAsks(ctx, circuitId).map((a) => ({ id: a.id, prover: a.prover, price: BigInt(a.price), capacity: a.capacity - a.active, reputation: 0n }));
  return clearCircuit(reqs, asks, new Map(asks.map((a) => [a.prover, 10n ** 12n])), { collateralRatioBps: 20_000n }).matches.length;
}

/** One adversarial setup over the book: asks the attacker holds (written directly; see each case's note). */
interface Attack {
  name: string;
  note: string;
  setup(ctx: Context, market: MarketKeeperImpl): void;
}

const PROVER = simAddress('bench/prover');
/** Funds `who` from the book's prover and bonds `bond` of it (0: no bond). */
function fundBond(ctx: Context, market: MarketKeeperImpl, who: string, bond: bigint): void {
  (market as any).bank.send(ctx, PROVER, who, [{ denom: 'uproof', amount: bond + 1000n }]);
  if (bond > 0n) (market as any).bond.bond(ctx, who, [{ denom: 'uproof', amount: bond }]);
}
/** `count` asks at `price` from provers of 20 asks each, prepared by `prover(i)` (ids from 2 on). */
function spamAsks(ctx: Context, market: MarketKeeperImpl, count: bigint, price: bigint, prover: (k: bigint) => string, active = 0n): void {
  for (let i = 0n; i < count; i++) {
    market.putNewAsk(ctx, { id: 2n + i, prover: prover(i / 20n), circuitId: genesisCircuitId(), price: price.toString(), capacity: 1n, active, expiryHeight: 1_000_000n, createdHeight: 1n });
  }
  market.setNextId(ctx, 'N', 2n + count);
}

const ATTACKS: Attack[] = [
  { name: 'no attack', note: 'one bonded ask at 10,000 above every fee', setup() {} },
  {
    name: 'one price-1 ask of an unbonded prover',
    note: 'fails admission: removed the first time the auction meets it',
    setup(ctx, market) {
      fundBond(ctx, market, simAddress('bench/spam/unbonded'), 0n);
      spamAsks(ctx, market, 1n, 1n, () => simAddress('bench/spam/unbonded'));
    },
  },
  {
    name: 'one price-1 ask, prover admitted with 1,999 free (min_bond_per_ask 1)',
    note: 'live, but its fee ceiling is 999 (a fee f locks >= 2f): no request is in its band',
    setup(ctx, market) {
      market.setParams(ctx, { ...market.params(ctx), minBondPerAsk: '1' });
      fundBond(ctx, market, simAddress('bench/spam/poor'), 1999n);
      spamAsks(ctx, market, 1n, 1n, () => simAddress('bench/spam/poor'));
    },
  },
  {
    name: `${MAX_ASKS_PER_CIRCUIT - 1n} price-1 asks of 50 provers with 1-uproof bonds`,
    note: 'fail admission: all removed at first sight',
    setup(ctx, market) {
      for (let k = 0n; k < 50n; k++) fundBond(ctx, market, simAddress(`bench/spam/${k}`), 1n);
      spamAsks(ctx, market, MAX_ASKS_PER_CIRCUIT - 1n, 1n, (k) => simAddress(`bench/spam/${k}`));
    },
  },
  {
    name: `${MAX_ASKS_PER_CIRCUIT - 1n} price-1 asks of 50 jailed provers`,
    note: '200,000 bonded each, jailed: not live, removed at first sight',
    setup(ctx, market) {
      for (let k = 0n; k < 50n; k++) {
        const who = simAddress(`bench/jailed/${k}`);
        fundBond(ctx, market, who, 200_000n);
        while (!(market as any).bond.isJailed(ctx, who)) (market as any).bond.recordMiss(ctx, who);
      }
      spamAsks(ctx, market, MAX_ASKS_PER_CIRCUIT - 1n, 1n, (k) => simAddress(`bench/jailed/${k}`));
    },
  },
  {
    name: `${MAX_ASKS_PER_CIRCUIT - 1n} price-1 asks at full capacity`,
    note: '50 provers with 10^7 bonded each; every ask serves an assignment (active = capacity): kept, skipped every block',
    setup(ctx, market) {
      for (let k = 0n; k < 50n; k++) fundBond(ctx, market, simAddress(`bench/busy/${k}`), 10_000_000n);
      spamAsks(ctx, market, MAX_ASKS_PER_CIRCUIT - 1n, 1n, (k) => simAddress(`bench/busy/${k}`), 1n);
    },
  },
];

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const sizes = quick ? [20_000] : [20_000, 100_000];
  await initVerifierBackend();
  const rows: BenchRow[] = [];
  for (const n of sizes) {
    const N = n.toLocaleString('en-US');
    const t0 = Date.now();
    const book = unfillableBook(n);
    const built = Date.now() - t0;
    const { market, height, chainId } = book;
    for (const attack of ATTACKS) {
      const state = new CacheKV(book.base);
      attack.setup(new Context(state, { chainId, height: 1n, timeSeconds: 6n }, 'block'), market);
      const block = () => new Context(new CacheKV(state), { chainId, height, timeSeconds: height * 6n }, 'block');
      // sanity: nothing matches, in either mode
      for (const mode of ['band', 'full'] as const) {
        market.auctionRead = mode;
        const c = block();
        market.endBlock(c);
        if (c.events.some((e) => e.type === 'proofbook.market.request_assigned')) throw new Error(`bench endblock: an unfillable request matched (${attack.name}, ${mode})`);
      }
      market.auctionRead = 'band';
      // the first block after the attack pays once for removing the asks that fail admission; then commit it
      const tFirst = time(() => market.endBlock(block()), quick ? 100 : 300);
      const first = { ...market.auctionWork };
      const c1 = new CacheKV(state);
      market.endBlock(new Context(c1, { chainId, height, timeSeconds: height * 6n }, 'block'));
      c1.writeTo(state);
      const tBand = time(() => market.endBlock(block()), quick ? 300 : 1000);
      const work = { ...market.auctionWork };
      market.auctionRead = 'full';
      const tFull = time(() => market.endBlock(block()), quick ? 300 : 1000);
      market.auctionRead = 'band';
      const base = `EndBlock, ${N} open requests, full clear (reference): ${attack.name}`;
      rows.push({
        name: `EndBlock, ${N} open requests, band reads: ${attack.name}`, value: tBand.median, unit: 'ms', lowerIsBetter: true, baseline: base, target: '<= 5 ms',
        note: `min ${tBand.min.toFixed(2)} ms, ${tBand.runs} runs; ${work.entries} index entries, ${work.decoded} records decoded, ${work.asksLoaded} ask loads per block; ${attack.note}; the first block after the attack ${tFirst.median.toFixed(2)} ms (${first.asksLoaded} ask loads)`,
      });
      rows.push({ name: base, value: tFull.median, unit: 'ms', note: `min ${tFull.min.toFixed(1)} ms, ${tFull.runs} runs; decodes every open request (${N}) and clears` });
    }
    const tScan = time(() => fullScan(market, new Context(new CacheKV(book.base), { chainId, height, timeSeconds: height * 6n }, 'block')), quick ? 300 : 1000);
    rows.push({ name: `v1 auction step alone: decode every open request (${N})`, value: tScan.median, unit: 'ms', note: `min ${tScan.min.toFixed(1)} ms, ${tScan.runs} runs; book built in ${built} ms` });
  }
  printTable('endblock: market EndBlock with open requests nobody can fill, under attack asks (median per block)', rows);
}
