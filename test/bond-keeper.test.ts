/**
 * Bond keeper over the real stores (a CacheKV over a fresh LevelDB-backed CommittedStore, real bank keeper): bond,
 * unbond and maturity release, free-collateral rules, locks, slashing with exact compensation/burn accounting, jail
 * and unjail, invariants catching a corrupted ledger, genesis round trip and validation, queries.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommittedStore } from '../src/store/committed.js';
import { CacheKV } from '../src/store/cache.js';
import { Context } from '../src/framework/context.js';
import { AppError, ErrInsufficientFunds, ErrInvalidCoins } from '../src/framework/errors.js';
import { createBankModule, type BankKeeper } from '../modules/bank/index.js';
import {
  createBondModule,
  BOND_STORE_PREFIX,
  ErrDenomNotCollateral,
  ErrInsufficientCollateral,
  ErrInsufficientLocked,
  ErrJailNotExpired,
  ErrNotJailed,
  ErrProverJailed,
  ErrUnknownProver,
  ErrInvalidBondAmount,
  QUERY_PROVER,
  QUERY_PROVERS,
  QUERY_BOND_PARAMS,
  queueKey,
  proverKey,
  unbondingKey,
  validateBondGenesis,
  defaultBondGenesis,
  type BondGenesis,
} from '../modules/bond/index.js';
import { Prover, QueryProversResponse, UnbondingEntry } from '../src/gen/proofbook/bond/v1/bond.js';
import { addressFromBytes, moduleAddress, type Address } from '../src/crypto/address.js';
import type { KV } from '../src/store/kv.js';
import type { Module } from '../src/framework/module.js';
import { TestAccounts } from './bank-kv.js';

const A = addressFromBytes(new Uint8Array(20).fill(1)) as Address;
const B = addressFromBytes(new Uint8Array(20).fill(2)) as Address;
const C = addressFromBytes(new Uint8Array(32).fill(3)) as Address;
const BOND_ACCT = moduleAddress('bond');
const U = 'uproof';

const ctxOf = (kv: KV, height: bigint) => new Context(kv, { chainId: 'proofbook-test', height, timeSeconds: 1_700_000_000n + height }, 'deliver');

interface Fixture {
  kv: CacheKV;
  bank: BankKeeper;
  bankModule: Module;
  bond: ReturnType<typeof createBondModule>['keeper'];
  module: Module;
  at(h: bigint): Context;
  invariants(h?: bigint): string[];
}

async function fixture(t: { teardown(f: () => void | Promise<void>): void }, genesis?: unknown): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'bond-keeper-'));
  const store = await CommittedStore.open(dir, { sync: false });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kv = new CacheKV(store);
  const bankM = createBankModule({ accounts: new TestAccounts(), moduleAccounts: ['bond'] });
  const bondM = createBondModule({ bank: bankM.keeper });
  const g = ctxOf(kv, 0n);
  bankM.module.initGenesis!(g, {
    balances: [
      { address: A, coins: [{ denom: 'ufoo', amount: '500' }, { denom: U, amount: '10000' }] },
      { address: B, coins: [{ denom: U, amount: '10000' }] },
      { address: C, coins: [{ denom: U, amount: '10000' }] },
    ],
  });
  bondM.module.initGenesis!(g, genesis ?? bondM.module.defaultGenesis!());
  const at = (h: bigint) => ctxOf(kv, h);
  const invariants = (h = 1n) => {
    const out: string[] = [];
    for (const m of [bankM.module, bondM.module]) for (const inv of m.invariants ?? []) {
      const r = inv.check(at(h));
      if (r) out.push(`${m.name}/${inv.name}: ${r}`);
    }
    return out;
  };
  return { kv, bank: bankM.keeper, bankModule: bankM.module, bond: bondM.keeper, module: bondM.module, at, invariants };
}

const coins = (amount: bigint, denom = U) => [{ denom, amount }];
function throwsKind(t: any, f: () => unknown, kind: { is(e: unknown): boolean; description: string }, re?: RegExp) {
  const e = t.throws(f, { instanceOf: AppError });
  t.true(kind.is(e), `expected ${kind.description}, got ${e?.message}`);
  if (re) t.regex(e!.message, re);
}

test('bond moves coins into the bond account; unbond keeps them there until maturity; endBlock pays out exactly then', async (t) => {
  const f = await fixture(t);
  f.bond.bond(f.at(5n), A, coins(4000n));
  t.is(f.bank.balance(f.at(5n), A, U), 6000n);
  t.is(f.bank.balance(f.at(5n), BOND_ACCT, U), 4000n);
  const p = f.bond.prover(f.at(5n), A)!;
  t.deepEqual(p.bonded, [{ denom: U, amount: '4000' }]);
  t.is(f.bond.freeCollateral(f.at(5n), A, U), 4000n);
  t.is(f.bond.freeCollateral(f.at(5n), B, U), 0n, 'unknown prover has no free collateral');

  const ctx = f.at(10n);
  const e = f.bond.unbond(ctx, A, coins(1500n));
  t.is(e.id, 1n);
  t.is(e.completionHeight, 110n);
  t.deepEqual(ctx.events.map((ev) => ev.type), ['proofbook.bond.unbonding']);
  t.is(f.bond.prover(ctx, A)!.bonded[0].amount, '2500');
  t.is(f.bank.balance(ctx, A, U), 6000n, 'coins stay in the bond account while unbonding');
  t.is(f.bank.balance(ctx, BOND_ACCT, U), 4000n);
  t.deepEqual(f.invariants(), []);

  const e2 = f.bond.unbond(f.at(20n), A, coins(500n));
  t.is(e2.id, 2n);
  t.is(e2.completionHeight, 120n);

  f.bond.endBlock(f.at(109n));
  t.is(f.bank.balance(f.at(109n), A, U), 6000n, 'nothing matured before height 110');
  const c110 = f.at(110n);
  f.bond.endBlock(c110);
  t.is(f.bank.balance(c110, A, U), 7500n);
  t.is(f.bank.balance(c110, BOND_ACCT, U), 2500n);
  t.truthy(c110.events.find((ev) => ev.type === 'proofbook.bond.unbonded'));
  t.is(f.bond.unbonding(c110, 1n), undefined);
  t.deepEqual(f.bond.unbondingsOf(c110, A).map((x) => x.id), [2n]);
  t.deepEqual(f.invariants(), []);
  // A later endBlock releases the second entry (completion ≤ height: a skipped height still pays out).
  f.bond.endBlock(f.at(500n));
  t.is(f.bank.balance(f.at(500n), A, U), 8000n);
  t.is(f.bank.balance(f.at(500n), BOND_ACCT, U), 2000n);
  t.deepEqual(f.bond.unbondingsOf(f.at(500n), A), []);
  t.deepEqual(f.invariants(), []);
});

test('bond refuses non-collateral denoms, empty or unfunded amounts and changes nothing', async (t) => {
  const f = await fixture(t);
  throwsKind(t, () => f.bond.bond(f.at(1n), A, coins(10n, 'ufoo')), ErrDenomNotCollateral, /collateral denoms are uproof/);
  throwsKind(t, () => f.bond.bond(f.at(1n), A, []), ErrInvalidCoins);
  throwsKind(t, () => f.bond.bond(f.at(1n), A, coins(10001n)), ErrInsufficientFunds);
  t.is(f.bond.prover(f.at(1n), A), undefined);
  t.is(f.bank.balance(f.at(1n), BOND_ACCT, U), 0n);
  throwsKind(t, () => f.bond.unbond(f.at(1n), A, coins(1n)), ErrUnknownProver);
});

test('unbond above free collateral is refused; locked collateral can never be unbonded', async (t) => {
  const f = await fixture(t);
  f.bond.bond(f.at(1n), A, coins(3000n));
  f.bond.lock(f.at(2n), A, U, 2000n);
  t.is(f.bond.freeCollateral(f.at(2n), A, U), 1000n);
  const before = Prover.encode(f.bond.prover(f.at(2n), A)!).finish();
  throwsKind(t, () => f.bond.unbond(f.at(3n), A, coins(1001n)), ErrInsufficientCollateral, /free collateral is 1000uproof \(bonded 3000, locked 2000\)/);
  t.deepEqual(Prover.encode(f.bond.prover(f.at(3n), A)!).finish(), before, 'refused unbond changed nothing');
  t.is(f.bond.nextUnbondingId(f.at(3n)), 1n);
  f.bond.unbond(f.at(3n), A, coins(1000n));
  throwsKind(t, () => f.bond.unbond(f.at(4n), A, coins(1n)), ErrInsufficientCollateral);
  throwsKind(t, () => f.bond.lock(f.at(4n), A, U, 1n), ErrInsufficientCollateral);
  // Unlocking frees it again.
  f.bond.unlock(f.at(5n), A, U, 500n);
  t.is(f.bond.freeCollateral(f.at(5n), A, U), 500n);
  throwsKind(t, () => f.bond.unlock(f.at(5n), A, U, 1501n), ErrInsufficientLocked);
  throwsKind(t, () => f.bond.lock(f.at(5n), A, U, 0n), ErrInvalidBondAmount);
  throwsKind(t, () => f.bond.lock(f.at(5n), B, U, 1n), ErrUnknownProver);
  t.deepEqual(f.invariants(), []);
});

test('slashLocked splits compensation and burn exactly, lowers supply and records bank.burned', async (t) => {
  const f = await fixture(t);
  f.bond.bond(f.at(1n), A, coins(5000n));
  f.bond.lock(f.at(1n), A, U, 1000n);
  const supply0 = f.bank.supply(f.at(2n), U);
  const b0 = f.bank.balance(f.at(2n), B, U);
  const ctx = f.at(2n);
  const r = f.bond.slashLocked(ctx, A, U, 333n, B, 2500n);
  t.deepEqual(r, { compensated: 83n, burned: 250n }, '333 * 2500 / 10000 = 83.25 -> 83');
  t.is(f.bank.balance(ctx, B, U), b0 + 83n);
  t.is(f.bank.supply(ctx, U), supply0 - 250n);
  t.is(f.bank.burned(ctx, U), 250n);
  t.is(f.bank.balance(ctx, BOND_ACCT, U), 5000n - 333n);
  const p = f.bond.prover(ctx, A)!;
  t.deepEqual(p.bonded, [{ denom: U, amount: '4667' }]);
  t.deepEqual(p.locked, [{ denom: U, amount: '667' }]);
  t.deepEqual(p.slashed, [{ denom: U, amount: '333' }]);
  const ev = ctx.events.find((e) => e.type === 'proofbook.bond.slashed')!;
  t.deepEqual(ev.attributes.map((a) => [a.key, a.value]), [['prover', A], ['amount', '333uproof'], ['beneficiary', B], ['compensated', '83uproof'], ['burned', '250uproof']]);
  t.deepEqual(f.invariants(), []);

  // All to the beneficiary, all burned, over-slash refused.
  t.deepEqual(f.bond.slashLocked(f.at(3n), A, U, 100n, B, 10_000n), { compensated: 100n, burned: 0n });
  t.deepEqual(f.bond.slashLocked(f.at(3n), A, U, 67n, B, 0n), { compensated: 0n, burned: 67n });
  throwsKind(t, () => f.bond.slashLocked(f.at(3n), A, U, 501n, B, 0n), ErrInsufficientLocked);
  throwsKind(t, () => f.bond.slashLocked(f.at(3n), A, U, 1n, B, 10_001n), ErrInvalidBondAmount);
  t.is(f.bank.burned(f.at(3n), U), 317n);
  t.deepEqual(f.bond.prover(f.at(3n), A)!.slashed, [{ denom: U, amount: '500' }]);
  t.deepEqual(f.invariants(), []);
});

test('max_misses misses jail a prover; jailed provers take no work but may unbond; unjail only after jailed_until', async (t) => {
  const f = await fixture(t);
  f.bond.bond(f.at(1n), A, coins(2000n));
  f.bond.lock(f.at(1n), A, U, 500n);
  f.bond.recordMiss(f.at(10n), A);
  f.bond.recordMiss(f.at(11n), A);
  t.false(f.bond.isJailed(f.at(11n), A));
  t.is(f.bond.prover(f.at(11n), A)!.recentMisses, 2n);
  const ctx = f.at(12n);
  f.bond.recordMiss(ctx, A);
  t.true(f.bond.isJailed(ctx, A));
  const p = f.bond.prover(ctx, A)!;
  t.is(p.jailedUntil, 212n);
  const jailed = ctx.events.find((e) => e.type === 'proofbook.bond.jailed')!;
  t.deepEqual(jailed.attributes.map((a) => [a.key, a.value]), [['prover', A], ['jailed_until', '212'], ['recent_misses', '3']]);
  t.is(f.bond.freeCollateral(f.at(13n), A, U), 0n);
  throwsKind(t, () => f.bond.lock(f.at(13n), A, U, 1n), ErrProverJailed);
  // Still unbonds free collateral (bonded - locked), and the market can still unlock/slash what was locked.
  f.bond.unbond(f.at(13n), A, coins(1500n));
  throwsKind(t, () => f.bond.unbond(f.at(13n), A, coins(1n)), ErrInsufficientCollateral);
  f.bond.unlock(f.at(13n), A, U, 100n);
  f.bond.slashLocked(f.at(13n), A, U, 400n, B, 5000n);
  throwsKind(t, () => f.bond.unjail(f.at(211n), A), ErrJailNotExpired, /from height 212/);
  f.bond.unjail(f.at(212n), A);
  const after = f.bond.prover(f.at(212n), A)!;
  t.false(after.jailed);
  t.is(after.recentMisses, 0n);
  t.is(after.jailedUntil, 0n);
  t.is(f.bond.freeCollateral(f.at(212n), A, U), 100n);
  throwsKind(t, () => f.bond.unjail(f.at(213n), A), ErrNotJailed);
  throwsKind(t, () => f.bond.unjail(f.at(213n), B), ErrUnknownProver);
  throwsKind(t, () => f.bond.recordMiss(f.at(213n), B), ErrUnknownProver);
  t.deepEqual(f.invariants(), []);
});

test('invariants detect a corrupted ledger', async (t) => {
  const f = await fixture(t);
  f.bond.bond(f.at(1n), A, coins(2000n));
  f.bond.bond(f.at(1n), C, coins(1000n));
  f.bond.unbond(f.at(2n), A, coins(300n));
  t.deepEqual(f.invariants(), []);
  const kv = f.at(3n).store(BOND_STORE_PREFIX);
  const snapshot = (k: string) => kv.get(k);
  const restore = (k: string, v: Uint8Array | undefined) => (v === undefined ? kv.delete(k) : kv.set(k, v));

  // Bonded inflated without coins.
  const pk = proverKey(A);
  const orig = snapshot(pk)!;
  const p = Prover.decode(orig);
  kv.set(pk, Prover.encode({ ...p, bonded: [{ denom: U, amount: '1701' }] }).finish());
  t.regex(f.invariants().join('\n'), /bond\/module-balance: uproof: bond module account holds 3000, bonded \+ unbonding sum to 3001/);
  // Locked above bonded.
  kv.set(pk, Prover.encode({ ...p, locked: [{ denom: U, amount: '1701' }] }).finish());
  t.regex(f.invariants().join('\n'), /bond\/locked-le-bonded: prover .* has 1701uproof locked but only 1700uproof bonded/);
  restore(pk, orig);
  t.deepEqual(f.invariants(), []);

  // Queue key missing / duplicated / pointing to nothing.
  const qk = queueKey(102n, 1n);
  t.truthy(snapshot(qk));
  kv.delete(qk);
  t.regex(f.invariants().join('\n'), /bond\/unbonding-index: unbonding 1 is in the maturity queue 0 times/);
  kv.set(qk, new Uint8Array());
  kv.set(queueKey(50n, 1n), new Uint8Array());
  t.regex(f.invariants().join('\n'), /unbonding 1 queued at height 50, completes at 102/);
  kv.delete(queueKey(50n, 1n));
  kv.set(queueKey(7n, 99n), new Uint8Array());
  t.regex(f.invariants().join('\n'), /queue names missing unbonding entry 99/);
  kv.delete(queueKey(7n, 99n));
  t.deepEqual(f.invariants(), []);

  // Unbonding entry amount changed: balance breaks.
  const uk = unbondingKey(1n);
  const uorig = snapshot(uk)!;
  kv.set(uk, UnbondingEntry.encode({ ...UnbondingEntry.decode(uorig), amount: [{ denom: U, amount: '299' }] }).finish());
  t.regex(f.invariants().join('\n'), /module-balance/);
  restore(uk, uorig);
  t.deepEqual(f.invariants(), []);
});

test('genesis: export round-trips through init, validation names the problem', async (t) => {
  const f = await fixture(t);
  f.bond.bond(f.at(1n), A, coins(2000n));
  f.bond.bond(f.at(1n), C, coins(1000n));
  f.bond.lock(f.at(1n), A, U, 700n);
  f.bond.unbond(f.at(2n), A, coins(300n));
  f.bond.unbond(f.at(3n), C, coins(100n));
  f.bond.recordMiss(f.at(4n), C);
  const exported = f.module.exportGenesis!(f.at(5n)) as BondGenesis;
  t.is(exported.provers.length, 2);
  t.deepEqual(exported.unbondings.map((u) => u.id), ['1', '2']);
  t.is(exported.next_unbonding_id, '3');
  const json = JSON.parse(JSON.stringify(exported));

  // A second chain from the exported bank + bond state is identical.
  const bankExport = f.bankModule.exportGenesis!(f.at(5n));
  const dir = mkdtempSync(join(tmpdir(), 'bond-genesis-'));
  const store = await CommittedStore.open(dir, { sync: false });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kv = new CacheKV(store);
  const bankM = createBankModule({ accounts: new TestAccounts(), moduleAccounts: ['bond'] });
  const bondM = createBondModule({ bank: bankM.keeper });
  bankM.module.initGenesis!(ctxOf(kv, 0n), bankExport);
  bondM.module.initGenesis!(ctxOf(kv, 0n), json);
  for (const inv of bondM.module.invariants!) t.is(inv.check(ctxOf(kv, 0n)), undefined, inv.name);
  t.deepEqual(bondM.module.exportGenesis!(ctxOf(kv, 0n)), exported);
  t.is(bondM.keeper.unbondingsOf(ctxOf(kv, 0n), A)[0].completionHeight, 102n);
  // Maturity still works after import.
  bondM.keeper.endBlock(ctxOf(kv, 102n));
  t.deepEqual(bondM.keeper.unbondingsOf(ctxOf(kv, 102n), A), []);
  t.is(bondM.keeper.unbondingsOf(ctxOf(kv, 102n), C).length, 1);
  t.is(bankM.keeper.balance(ctxOf(kv, 102n), A, U), 8300n);

  const bad = (mut: (g: any) => void, re: RegExp) => {
    const g = JSON.parse(JSON.stringify(exported));
    mut(g);
    t.throws(() => validateBondGenesis(g), { message: re });
  };
  bad((g) => (g.params.max_misses = '0'), /params.max_misses must be at least 1/);
  bad((g) => (g.params.collateral_denoms = ['uproof', 'uproof']), /collateral_denoms has duplicates/);
  bad((g) => (g.params.unbonding_blocks = 5), /params.unbonding_blocks must be a uint64 decimal string/);
  bad((g) => (g.provers[0].locked = [{ denom: U, amount: '5000' }]), /locked 5000uproof exceeds bonded/);
  bad((g) => g.provers.push(g.provers[0]), /listed twice/);
  bad((g) => (g.provers[0].address = 'cosmos1xyz'), /provers\[0\].address/);
  bad((g) => (g.next_unbonding_id = '2'), /next_unbonding_id 2 must exceed every unbonding id \(max 2\)/);
  bad((g) => (g.unbondings[0].completion_height = '1'), /completion_height 1 is before creation_height 2/);
  bad((g) => (g.unbondings[0].amount = [{ denom: U, amount: '0' }]), /must be a positive integer/);
  bad((g) => (g.provers[0].extra = 1), /unknown field 'extra'/);
  bad((g) => (g.unbondings[1].address = B), /not among the provers/);
  t.notThrows(() => validateBondGenesis(defaultBondGenesis()));
});

test('queries: Prover with its unbondings (NotFound when unknown), paginated Provers, Params', async (t) => {
  const f = await fixture(t);
  f.bond.bond(f.at(1n), A, coins(2000n));
  f.bond.bond(f.at(1n), B, coins(1000n));
  f.bond.bond(f.at(1n), C, coins(1000n));
  f.bond.unbond(f.at(2n), B, coins(10n));
  const q = (path: string) => f.module.queries!.find((r) => r.path === path)!;
  const r = q(QUERY_PROVER).handle(f.at(3n), { address: B });
  t.is(r.prover.address, B);
  t.deepEqual(r.unbonding.map((e: UnbondingEntry) => e.id), [1n]);
  const e = t.throws(() => q(QUERY_PROVER).handle(f.at(3n), { address: addressFromBytes(new Uint8Array(20).fill(9)) }), { instanceOf: AppError })!;
  t.is((e as AppError).grpcCode, 5);
  t.throws(() => q(QUERY_PROVER).handle(f.at(3n), { address: 'nonsense' }), { message: /invalid address/ });
  const page1 = q(QUERY_PROVERS).handle(f.at(3n), { pagination: { key: Buffer.alloc(0), offset: 0n, limit: 2n, countTotal: true, reverse: false } });
  t.is(page1.provers.length, 2);
  t.is(page1.pagination.total, 3n);
  const page2 = q(QUERY_PROVERS).handle(f.at(3n), { pagination: { key: page1.pagination.nextKey, offset: 0n, limit: 2n, countTotal: false, reverse: false } });
  t.is(page2.provers.length, 1);
  t.deepEqual([...page1.provers, ...page2.provers].map((p: Prover) => p.address), [A, B, C], '20-byte addresses sort before 32-byte ones');
  // Encodes on the wire.
  t.is(QueryProversResponse.decode(QueryProversResponse.encode(page1).finish()).provers.length, 2);
  t.deepEqual(q(QUERY_BOND_PARAMS).handle(f.at(3n), {}).params.collateralDenoms, [U]);
});

test('endBlock: an entry that cannot be paid (broken ledger) stays queued and does not hold back the others', async (t) => {
  const f = await fixture(t);
  f.bond.bond(f.at(1n), A, coins(2000n));
  f.bond.bond(f.at(1n), C, coins(1000n));
  f.bond.unbond(f.at(2n), A, coins(300n)); // id 1, completes at 102
  f.bond.unbond(f.at(2n), C, coins(400n)); // id 2, completes at 102
  const kv = f.at(3n).store(BOND_STORE_PREFIX);
  const e1 = UnbondingEntry.decode(kv.get(unbondingKey(1n))!);
  kv.set(unbondingKey(1n), UnbondingEntry.encode({ ...e1, amount: [{ denom: U, amount: '999999' }] }).finish());
  const c0 = f.bank.balance(f.at(3n), C, U);
  const ctx = f.at(102n);
  f.bond.endBlock(ctx);
  t.is(f.bank.balance(ctx, C, U), c0 + 400n, 'entry 2 paid');
  t.is(f.bond.unbonding(ctx, 2n), undefined);
  t.truthy(f.bond.unbonding(ctx, 1n), 'entry 1 kept');
  t.is(f.bank.balance(ctx, BOND_ACCT, U), 3000n - 400n);
  t.deepEqual(ctx.events.filter((e) => e.type === 'proofbook.bond.unbonded').map((e) => e.attributes[1].value), ['2']);
  t.regex(f.invariants().join('\n'), /module-balance/);
  // Repaired, it is paid on the next block.
  kv.set(unbondingKey(1n), UnbondingEntry.encode(e1).finish());
  f.bond.endBlock(f.at(103n));
  t.is(f.bond.unbonding(f.at(103n), 1n), undefined);
  t.deepEqual(f.invariants(), []);
});
