/**
 * Property test of the F1 arithmetic on the real keepers (auth, bank, staking, distribution over an in-memory store):
 * random sequences of create-validator / delegate / undelegate / redelegate / slash / fees / withdraw, each fee
 * allocated in a block to every validator by power. A reference model accrues every delegation's exact pro-rata share
 * as a rational (allocated reward − commission) × shares / total shares, using the allocation rule itself (whose
 * rounding is a rule, not dust). Checked after every step: all distribution invariants; and for every delegation
 *     0 ≤ exact − (paid + pending) ≤ withdrawals × 1 uproof + DUST_ATTO
 * (each withdrawal pays whole uproof, its fraction goes to the community pool; DUST_ATTO bounds the F1 truncations).
 * At the end everyone withdraws: Σ paid + community pool + Σ outstanding == Σ fees, to the atto.
 */
import test from 'ava';
import fc from 'fast-check';
import { fromBech32 } from '@cosmjs/encoding';
import { Context, type ConsensusInfo } from '../src/framework/context.js';
import { AppError } from '../src/framework/errors.js';
import { CacheKV } from '../src/store/cache.js';
import { createModules } from '../app/modules.js';
import { defaultGenesis, devnetAccounts } from '../genesis/index.js';
import { addressBytes, moduleAddress, type Address } from '../src/crypto/address.js';
import { consAddress, valoperFromBytes } from '../modules/staking/addresses.js';
import { DEC_ONE, parseDecWire } from '../src/types/dec.js';
import { SortedArrayKV } from './bank-kv.js';
import { consKey } from './helpers/staking.js';

const PROOF = 1_000_000n;
/** Bound on F1's truncation dust per delegation, in atto-uproof (ratio, stake and slash-fraction roundings). */
const DUST_ATTO = 10n ** 12n;
const NVAL = 3;
const NDEL = 4;

type Op =
  | { kind: 'delegate' | 'undelegate'; d: number; v: number; amount: bigint }
  | { kind: 'redelegate'; d: number; v: number; w: number; amount: bigint }
  | { kind: 'slash'; v: number; permille: bigint }
  | { kind: 'fees'; amount: bigint }
  | { kind: 'withdraw'; d: number; v: number }
  | { kind: 'commission'; v: number };

const d = fc.nat({ max: NDEL - 1 });
const v = fc.nat({ max: NVAL - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('delegate' as const, 'undelegate' as const), d, v, amount: fc.bigInt({ min: 1n, max: 50n * PROOF }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('redelegate' as const), d, v, w: v, amount: fc.bigInt({ min: 1n, max: 20n * PROOF }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('slash' as const), v, permille: fc.bigInt({ min: 1n, max: 500n }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('fees' as const), amount: fc.bigInt({ min: 1n, max: 10_000_000n }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), d, v }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('commission' as const), v }) },
);

/** A non-negative rational n/q. */
interface Rat { n: bigint; q: bigint }
const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? (a < 0n ? -a : a) : gcd(b, a % b));
const radd = (a: Rat, b: Rat): Rat => { const n = a.n * b.q + b.n * a.q; const q = a.q * b.q; const g = gcd(n, q) || 1n; return { n: n / g, q: q / g }; };

function setup() {
  const set = createModules();
  const kv = new SortedArrayKV();
  const genesis = defaultGenesis();
  let height = 1n;
  const ctxAt = (consensus?: ConsensusInfo) => new Context(kv, { chainId: 'proofbook-test', height, timeSeconds: 1_700_000_000n + height, consensus }, 'deliver');
  const g = ctxAt();
  for (const m of set.modules) if (['auth', 'bank', 'staking', 'distribution'].includes(m.name)) m.initGenesis!(g, genesis[m.name]);
  const accts = devnetAccounts().map((a) => a.address as Address);
  return { set, kv, ctxAt, accts, nextHeight: () => { height += 1n; } };
}

test('F1: random delegate/undelegate/redelegate/slash/fees/withdraw sequences pay every delegation its exact pro-rata share within the dust bound; nothing is created or lost', async (t) => {
  let maxDust = 0n;
  let checks = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), fc.array(fc.bigInt({ min: 0n, max: DEC_ONE / 2n }), { minLength: NVAL, maxLength: NVAL }), async (ops, rates) => { try {
      const { set, kv, ctxAt, accts, nextHeight } = setup();
      const { staking, distribution: dist, bank } = set.keepers;
      const vals = accts.slice(0, NVAL);
      const dels = accts.slice(NVAL, NVAL + NDEL);
      const valB = vals.map((a) => addressBytes(a));
      // validators with 10 PROOF self-bond each
      {
        const ctx = ctxAt();
        vals.forEach((a, i) => {
          staking.createValidator(ctx, valB[i]!, consKey(i), { moniker: `v${i}`, identity: '', website: '', securityContact: '', details: '' }, rates[i]!, DEC_ONE, DEC_ONE, 1n);
          staking.delegate(ctx, a, valB[i]!, 10n * PROOF, 'account');
        });
        staking.applyValidatorSetUpdates(ctx);
      }
      const owners = [...vals, ...dels];
      const key = (o: Address, i: number) => `${o}/${i}`;
      const accrued = new Map<string, Rat>();
      const paid = new Map<string, bigint>();
      const withdrawals = new Map<string, bigint>();
      let feesTotal = 0n;
      let paidTotal = 0n;
      const shares = (ctx: Context, o: Address, i: number) => { const x = staking.delegation(ctx, o, valB[i]!); return x === undefined ? 0n : parseDecWire(x.shares); };
      const collectPaid = (ctx: Context) => {
        for (const e of ctx.events) {
          if (e.type !== 'withdraw_rewards' && e.type !== 'withdraw_commission') continue;
          const amount = e.attributes.find((a) => a.key === 'amount')!.value;
          const n = amount === '' ? 0n : BigInt(amount.replace('uproof', ''));
          paidTotal += n;
          if (e.type === 'withdraw_commission') continue;
          const del = e.attributes.find((a) => a.key === 'delegator')!.value as Address;
          const i = vals.findIndex((_, j) => valoperFromBytes(valB[j]!) === e.attributes.find((a) => a.key === 'validator')!.value);
          paid.set(key(del, i), (paid.get(key(del, i)) ?? 0n) + n);
          withdrawals.set(key(del, i), (withdrawals.get(key(del, i)) ?? 0n) + 1n);
        }
      };
      /** One tx: runs in a cache, discarded on an AppError (as the app does). */
      const tx = (f: (ctx: Context) => void) => {
        const cache = new CacheKV(kv);
        const ctx = new Context(cache, ctxAt().block, 'deliver');
        try {
          f(ctx);
        } catch (e) {
          if (e instanceof AppError) return;
          throw e;
        }
        cache.writeTo(kv);
        collectPaid(ctx);
      };
      const check = () => {
        const ctx = ctxAt();
        for (const inv of set.modules.find((m) => m.name === 'distribution')!.invariants!) {
          const broken = inv.check(ctx);
          if (broken) throw new Error(`invariant ${inv.name}: ${broken}`);
        }
        for (const o of owners) {
          for (let i = 0; i < NVAL; i++) {
            const exact = accrued.get(key(o, i)) ?? { n: 0n, q: 1n };
            const v = staking.validator(ctx, valB[i]!);
            const pending = v !== undefined && staking.delegation(ctx, o, valB[i]!) !== undefined
              ? dist.pendingRewards(ctx.with(new CacheKV(kv)), v, o).reduce((a, c) => a + c.atto, 0n) : 0n;
            const got = (paid.get(key(o, i)) ?? 0n) * DEC_ONE + pending;
            // exact − got as a rational, compared against bounds
            const diffN = exact.n - got * exact.q;
            if (diffN < 0n) throw new Error(`${key(o, i)} got ${got} atto, more than its exact share ${exact.n}/${exact.q}`);
            const dust = diffN / exact.q;
            const bound = (withdrawals.get(key(o, i)) ?? 0n) * DEC_ONE + DUST_ATTO;
            if (dust > bound) throw new Error(`${key(o, i)}: dust ${dust} atto above the bound ${bound}`);
            const f1 = dust - (withdrawals.get(key(o, i)) ?? 0n) * DEC_ONE;
            if (f1 > maxDust) maxDust = f1;
            checks++;
          }
        }
      };

      for (const op of ops) {
        switch (op.kind) {
          case 'delegate': tx((ctx) => void staking.delegate(ctx, dels[op.d]!, valB[op.v]!, op.amount, 'account')); break;
          case 'undelegate': tx((ctx) => void staking.undelegate(ctx, dels[op.d]!, valB[op.v]!, op.amount, 'uproof')); break;
          case 'redelegate': tx((ctx) => void staking.beginRedelegate(ctx, dels[op.d]!, valB[op.v]!, valB[op.w]!, op.amount, 'uproof')); break;
          case 'withdraw': tx((ctx) => void dist.withdrawRewards(ctx, dels[op.d]!, valB[op.v]!)); break;
          case 'commission': tx((ctx) => void dist.withdrawCommission(ctx, valB[op.v]!)); break;
          case 'slash': tx((ctx) => {
            const val = staking.validator(ctx, valB[op.v]!)!;
            staking.slash(ctx, consAddress(consKey(op.v)), ctx.height, staking.power(val), (op.permille * DEC_ONE) / 1000n);
          }); break;
          case 'fees': {
            // fees paid in this block, allocated at the next block's start to all validators by power
            tx((ctx) => bank.sendToModule(ctx, accts[9]!, 'fee_collector', [{ denom: 'uproof', amount: op.amount }]));
            feesTotal += op.amount;
            nextHeight();
            const ctx0 = ctxAt();
            const votes = vals.map((_, i) => ({ i, v: staking.validator(ctx0, valB[i]!)! })).filter((x) => staking.power(x.v) > 0n)
              .map((x) => ({ address: consAddress(consKey(x.i)), power: staking.power(x.v), signed: true, i: x.i }));
            if (votes.length === 0) { feesTotal -= 0n; break; }
            const total = votes.reduce((a, x) => a + x.power, 0n);
            // the model: the allocation rule, then exact pro-rata by shares
            for (const x of votes) {
              const val = staking.validator(ctx0, valB[x.i]!)!;
              const reward = (op.amount * DEC_ONE * x.power) / total;
              const commission = (reward * parseDecWire(val.commission!.commissionRates!.rate)) / DEC_ONE;
              const shared = reward - commission;
              const totalShares = parseDecWire(val.delegatorShares);
              for (const o of owners) {
                const s = shares(ctx0, o, x.i);
                if (s > 0n) accrued.set(key(o, x.i), radd(accrued.get(key(o, x.i)) ?? { n: 0n, q: 1n }, { n: shared * s, q: totalShares }));
              }
            }
            const cache = new CacheKV(kv);
            const ctx = new Context(cache, ctxAt({ proposer: new Uint8Array(20), lastCommitRound: 0, votes, misbehavior: [] }).block, 'block');
            dist.allocateTokens(ctx);
            staking.applyValidatorSetUpdates(ctx);
            cache.writeTo(kv);
            break;
          }
        }
        check();
      }
      // Everyone withdraws everything: fees in == paid out + community pool + what stays outstanding (F1 dust), exactly.
      for (const o of owners) for (let i = 0; i < NVAL; i++) tx((ctx) => void dist.withdrawRewards(ctx, o, valB[i]!));
      for (let i = 0; i < NVAL; i++) tx((ctx) => void dist.withdrawCommission(ctx, valB[i]!));
      check();
      const ctx = ctxAt();
      const pool = dist.communityPool(ctx).reduce((a, c) => a + c.atto, 0n);
      let outstanding = 0n;
      for (let i = 0; i < NVAL; i++) outstanding += (dist.outstanding(ctx, valB[i]!) ?? []).reduce((a, c) => a + c.atto, 0n);
      const allocated = feesTotal - bank.balance(ctx, moduleAddress('fee_collector'), 'uproof');
      if (paidTotal * DEC_ONE + pool + outstanding !== allocated * DEC_ONE) throw new Error(`paid ${paidTotal} + pool ${pool} + outstanding ${outstanding} != fees ${allocated}`);
      // after everyone withdrew, what stays outstanding per validator is only commission fractions and F1 dust
      for (let i = 0; i < NVAL; i++) {
        const left = (dist.outstanding(ctx, valB[i]!) ?? []).reduce((a, c) => a + c.atto, 0n);
        if (left >= DEC_ONE + DUST_ATTO) throw new Error(`validator ${i} keeps ${left} atto outstanding after all withdrawals`);
      }
      void fromBech32;
    } catch (e) { if (process.env.DEBUG_PROP) console.error(String(e)); throw e; } }),
    { numRuns: 60, seed: 12, verbose: 1 },
  );
  t.log(`${checks} delegation checks; largest F1 dust (beyond the withdrawals' whole-coin truncation) ${maxDust} atto-uproof`);
  t.true(checks > 0);
});

test('genesis: export after delegations, fees, a slash and withdrawals imports to the same state (same export, same pending rewards, invariants hold)', (t) => {
  const { set, kv, ctxAt, accts, nextHeight } = setup();
  const { staking, distribution: dist, bank } = set.keepers;
  const vals = accts.slice(0, 2);
  const valB = vals.map((a) => addressBytes(a));
  const run = (f: (ctx: Context) => void, consensus?: ConsensusInfo) => {
    const cache = new CacheKV(kv);
    f(new Context(cache, ctxAt(consensus).block, 'deliver'));
    cache.writeTo(kv);
  };
  run((ctx) => {
    vals.forEach((a, i) => {
      staking.createValidator(ctx, valB[i]!, consKey(i), { moniker: `v${i}`, identity: '', website: '', securityContact: '', details: '' }, DEC_ONE / 20n, DEC_ONE, DEC_ONE, 1n);
      staking.delegate(ctx, a, valB[i]!, (10n + BigInt(i)) * PROOF, 'account');
    });
    staking.delegate(ctx, accts[5]!, valB[0]!, 7n * PROOF, 'account');
    staking.applyValidatorSetUpdates(ctx);
  });
  const votes = () => ({ proposer: new Uint8Array(20), lastCommitRound: 0, votes: [0, 1].map((i) => ({ address: consAddress(consKey(i)), power: 10n + BigInt(i), signed: true })), misbehavior: [] });
  for (const fee of [12_345n, 777n, 1_000_001n]) {
    run((ctx) => bank.sendToModule(ctx, accts[9]!, 'fee_collector', [{ denom: 'uproof', amount: fee }]));
    nextHeight();
    run((ctx) => dist.allocateTokens(ctx), votes());
    run((ctx) => staking.slash(ctx, consAddress(consKey(0)), ctx.height, 17n, DEC_ONE / 100n));
    run((ctx) => void dist.withdrawRewards(ctx, accts[5]!, valB[0]!));
  }
  run((ctx) => bank.sendToModule(ctx, accts[9]!, 'fee_collector', [{ denom: 'uproof', amount: 99_999n }]));
  nextHeight();
  run((ctx) => dist.allocateTokens(ctx), votes());
  const ctx = ctxAt();
  const exportAll = (c: Context) => Object.fromEntries(set.modules.filter((m) => ['auth', 'bank', 'staking', 'distribution'].includes(m.name)).map((m) => [m.name, m.exportGenesis!(c)]));
  const exported = JSON.parse(JSON.stringify(exportAll(ctx)));
  t.true((exported.distribution.validator_slash_events as unknown[]).length > 0);
  t.true((exported.distribution.delegator_starting_infos as unknown[]).length === 3);
  // a fresh store from the export
  const set2 = createModules();
  const kv2 = new SortedArrayKV();
  const ctx2 = new Context(kv2, ctx.block, 'genesis');
  for (const m of set2.modules) if (exported[m.name] !== undefined) m.initGenesis!(ctx2, exported[m.name]);
  const { auth: _a, ...again } = JSON.parse(JSON.stringify(exportAll(ctx2)));
  const { auth: _b, ...before } = exported;
  t.deepEqual(again, before); // (auth account numbers are renumbered by an import; not this module's concern)
  for (const inv of set2.modules.find((m) => m.name === 'distribution')!.invariants!) t.is(inv.check(ctx2), undefined, inv.name);
  for (const [del, i] of [[vals[0]!, 0], [vals[1]!, 1], [accts[5]!, 0]] as const) {
    const a = dist.pendingRewards(ctx.with(new CacheKV(kv)), staking.validator(ctx, valB[i]!)!, del);
    const b = set2.keepers.distribution.pendingRewards(ctx2.with(new CacheKV(kv2)), set2.keepers.staking.validator(ctx2, valB[i]!)!, del);
    t.deepEqual(b, a);
    t.true(a.length > 0);
  }
  // bad input is refused with a clear message
  const set3 = createModules();
  const ctx3 = new Context(new SortedArrayKV(), ctx.block, 'genesis');
  t.throws(() => set3.modules.find((m) => m.name === 'distribution')!.initGenesis!(ctx3, { ...exported.distribution, params: { community_tax: '1.5' } }), { message: /community_tax must be ≤ 1/ });
  t.throws(() => set3.modules.find((m) => m.name === 'distribution')!.initGenesis!(ctx3, { bogus: 1 }), { message: /unknown field 'bogus'/ });
});

test('allocation sweeps fee_collector and the market treasury (protocol fees), every denom; absent validators and signers unknown to staking earn nothing (the fees are split among the known signers)', (t) => {
  const { set, kv, ctxAt, accts, nextHeight } = setup();
  const { staking, distribution: dist, bank } = set.keepers;
  const valB = accts.slice(0, 2).map((a) => addressBytes(a));
  const run = (f: (ctx: Context) => void, consensus?: ConsensusInfo) => {
    const cache = new CacheKV(kv);
    f(new Context(cache, ctxAt(consensus).block, 'deliver'));
    cache.writeTo(kv);
  };
  run((ctx) => {
    [0, 1].forEach((i) => {
      staking.createValidator(ctx, valB[i]!, consKey(i), { moniker: `v${i}`, identity: '', website: '', securityContact: '', details: '' }, 0n, DEC_ONE, DEC_ONE, 1n);
      staking.delegate(ctx, accts[i]!, valB[i]!, 10n * PROOF, 'account');
    });
    staking.applyValidatorSetUpdates(ctx);
    bank.mint(ctx, 'fee_collector', [{ denom: 'ufoo', amount: 10n }]);
    bank.sendToModule(ctx, accts[9]!, 'fee_collector', [{ denom: 'uproof', amount: 1000n }]);
    bank.sendToModule(ctx, accts[9]!, 'treasury', [{ denom: 'uproof', amount: 500n }]);
  });
  nextHeight();
  // val0 signs with power 10; val1 absent; an unknown validator signs with power 30: only val0 is paid, all of it
  const unknown = new Uint8Array(20).fill(7);
  run((ctx) => dist.allocateTokens(ctx), {
    proposer: new Uint8Array(20), lastCommitRound: 0, misbehavior: [],
    votes: [{ address: consAddress(consKey(0)), power: 10n, signed: true }, { address: consAddress(consKey(1)), power: 10n, signed: false }, { address: unknown, power: 30n, signed: true }],
  });
  const ctx = ctxAt();
  t.deepEqual(bank.balances(ctx, moduleAddress('fee_collector')), []);
  t.deepEqual(bank.balances(ctx, moduleAddress('treasury')), []);
  t.deepEqual(dist.outstanding(ctx, valB[0]!), [{ denom: 'ufoo', atto: 10n * DEC_ONE }, { denom: 'uproof', atto: 1500n * DEC_ONE }]);
  t.deepEqual(dist.outstanding(ctx, valB[1]!), []);
  t.deepEqual(dist.communityPool(ctx), []);
  for (const inv of set.modules.find((m) => m.name === 'distribution')!.invariants!) t.is(inv.check(ctx), undefined, inv.name);
});
