import test from 'ava';
import { createBankModule, exportBankGenesis, balanceKey, supplyKey, type BankGenesis } from '../modules/bank/index.js';
import { UPROOF_METADATA } from '../modules/bank/genesis.js';
import { addressFromBytes, moduleAddress, type Address } from '../src/crypto/address.js';
import { SortedArrayKV, TestAccounts, newContext } from './bank-kv.js';

const A = addressFromBytes(new Uint8Array(20).fill(1)) as Address;
const B = addressFromBytes(new Uint8Array(20).fill(2)) as Address;
const L = addressFromBytes(new Uint8Array(32).fill(0)) as Address; // 32-byte: sorts after every 20-byte address
const enc = (s: string) => new TextEncoder().encode(s);
const c = (amount: bigint | number, denom = 'uproof') => ({ denom, amount: BigInt(amount) });

function fresh() {
  const kv = new SortedArrayKV();
  const accounts = new TestAccounts();
  const { module, keeper } = createBankModule({ accounts });
  return { kv, ctx: newContext(kv, 'genesis'), accounts, module, keeper };
}

const GEN: BankGenesis = {
  balances: [
    { address: L, coins: [{ denom: 'uproof', amount: '7' }] },
    { address: B, coins: [{ denom: 'uproof', amount: '100' }, { denom: 'ufoo', amount: '3' }] },
    { address: A, coins: [{ denom: 'uproof', amount: '900' }] },
  ],
  supply: [{ denom: 'ufoo', amount: '3' }, { denom: 'uproof', amount: '1007' }],
};

test('default genesis has no balances, holds the uproof/PROOF metadata, and loads', (t) => {
  const { ctx, module } = fresh();
  module.initGenesis!(ctx, module.defaultGenesis!());
  t.deepEqual(module.exportGenesis!(ctx), { balances: [], supply: [], burned: [], module_accounts: [], denom_metadata: [UPROOF_METADATA] });
  t.deepEqual(UPROOF_METADATA.denom_units.map((u) => [u.denom, u.exponent]), [['uproof', 0], ['proof', 6]]);
});

test('denom metadata: round trip through export/init; malformed entries are refused before anything is written', (t) => {
  const other = { ...UPROOF_METADATA, base: 'ufoo', display: 'foo', name: 'FOO', symbol: 'FOO',
    denom_units: [{ denom: 'ufoo', exponent: 0, aliases: [] }, { denom: 'foo', exponent: 6, aliases: [] }] };
  const one = fresh();
  one.module.initGenesis!(one.ctx, { ...GEN, denom_metadata: [UPROOF_METADATA, other] });
  const exported = one.module.exportGenesis!(one.ctx) as BankGenesis;
  t.deepEqual(exported.denom_metadata!.map((m) => m.base), ['ufoo', 'uproof'], 'store order (by base denom)');
  const two = fresh();
  two.module.initGenesis!(two.ctx, JSON.parse(JSON.stringify(exported)));
  t.deepEqual(two.module.exportGenesis!(two.ctx), exported);
  const bad: [string, unknown][] = [
    ['first unit not the base', { ...UPROOF_METADATA, denom_units: [{ denom: 'proof', exponent: 6, aliases: [] }] }],
    ['exponents not increasing', { ...UPROOF_METADATA, denom_units: [{ denom: 'uproof', exponent: 0, aliases: [] }, { denom: 'proof', exponent: 0, aliases: [] }] }],
    ['display not a unit', { ...UPROOF_METADATA, display: 'mproof' }],
    ['blank symbol', { ...UPROOF_METADATA, symbol: ' ' }],
    ['duplicate alias', { ...UPROOF_METADATA, denom_units: [{ denom: 'uproof', exponent: 0, aliases: ['proof'] }, { denom: 'proof', exponent: 6, aliases: [] }] }],
  ];
  for (const [why, m] of bad) {
    const f = fresh();
    t.throws(() => f.module.initGenesis!(f.ctx, { balances: [], denom_metadata: [m] }), undefined, why);
    t.deepEqual(f.kv.dump(), [], `${why}: nothing written`);
  }
  const dup = fresh();
  t.throws(() => dup.module.initGenesis!(dup.ctx, { balances: [], denom_metadata: [UPROOF_METADATA, UPROOF_METADATA] }), { message: /duplicate denom_metadata/ });
});

test('genesis round trip: export is canonical and export -> init -> export is the identity, state included', (t) => {
  const one = fresh();
  one.module.initGenesis!(one.ctx, GEN);
  t.deepEqual(one.accounts.created, [L, B, A], 'ensureAccount for every address, in file order');
  // Activity that creates every kind of state: transfers, module accounts, mint, burn.
  one.keeper.send(one.ctx, A, B, [c(50)]);
  one.keeper.mint(one.ctx, 'mint', [c(20, 'unew')]);
  one.keeper.burn(one.ctx, 'mint', [c(5, 'unew')]);
  one.keeper.sendToModule(one.ctx, A, 'market', [c(10)]);
  const exported = one.module.exportGenesis!(one.ctx) as BankGenesis;
  t.deepEqual(exported.balances.map((b) => b.address), [A, B, moduleAddress('market'), moduleAddress('mint'), L].sort((x, y) => {
    // expected order: 20-byte addresses by bytes, then the 32-byte one
    const bx = exportKeyOrder(x), by = exportKeyOrder(y);
    return bx < by ? -1 : bx > by ? 1 : 0;
  }));
  t.deepEqual(exported.balances.find((b) => b.address === B)!.coins, [{ denom: 'ufoo', amount: '3' }, { denom: 'uproof', amount: '150' }]);
  t.deepEqual(exported.supply, [{ denom: 'ufoo', amount: '3' }, { denom: 'unew', amount: '15' }, { denom: 'uproof', amount: '1007' }]);
  t.deepEqual(exported.burned, [{ denom: 'unew', amount: '5' }]);
  t.deepEqual(exported.module_accounts, ['market', 'mint']);
  // JSON round trip, into a fresh chain.
  const two = fresh();
  two.module.initGenesis!(two.ctx, JSON.parse(JSON.stringify(exported)));
  t.deepEqual(two.module.exportGenesis!(two.ctx), exported);
  t.deepEqual(two.kv.dump().filter(([k]) => k.startsWith('bank/')), one.kv.dump().filter(([k]) => k.startsWith('bank/')));
  t.is(two.keeper.burned(two.ctx, 'unew'), 5n);
  t.true(two.keeper.isBlockedAddress(two.ctx, moduleAddress('market')));
  for (const inv of two.module.invariants!) t.is(inv.check(two.ctx), undefined, inv.name);
});

function exportKeyOrder(a: string): string {
  // length byte then address bytes, as the store orders balance keys
  return balanceKey(a as Address, '');
}

test('supply may be omitted or empty (computed), but a given non-empty supply must match', (t) => {
  const noSupply = fresh();
  noSupply.module.initGenesis!(noSupply.ctx, { balances: GEN.balances });
  t.is(noSupply.keeper.supply(noSupply.ctx, 'uproof'), 1007n);
  const empty = fresh();
  empty.module.initGenesis!(empty.ctx, { balances: GEN.balances, supply: [] });
  t.is(empty.keeper.supply(empty.ctx, 'uproof'), 1007n);
  const bad = fresh();
  t.throws(() => bad.module.initGenesis!(bad.ctx, { ...GEN, supply: [{ denom: 'uproof', amount: '1007' }] }), {
    message: 'bank genesis: supply 1007uproof does not equal the sum of balances 3ufoo,1007uproof',
  });
  t.deepEqual(bad.kv.dump(), [], 'nothing written on rejection');
});

test('bad genesis entries are rejected with a message naming the entry', (t) => {
  const cases: [unknown, RegExp][] = [
    [null, /bank genesis must be an object/],
    [{ balances: {} }, /balances must be an array/],
    [{ balances: [], extra: 1 }, /unknown field 'extra'/],
    [{ balances: [{ address: 'proof1bad', coins: [] }] }, /balances\[0\]: 'proof1bad' is not a valid bech32 address/],
    [{ balances: [{ address: A, coins: [{ denom: 'uproof', amount: '1' }] }, { address: A.toUpperCase(), coins: [{ denom: 'uproof', amount: '1' }] }] }, /balances\[1\]: duplicate balance entry for proof1/],
    [{ balances: [{ address: A, coins: [] }] }, /balances\[0\] \(proof1.*\): coins must not be empty/],
    [{ balances: [{ address: A, coins: [{ denom: 'uproof', amount: '-5' }] }] }, /balances\[0\]\.coins \(proof1.*\)\[0\] \(uproof\): amount "-5" must be a decimal integer string/],
    [{ balances: [{ address: A, coins: [{ denom: 'uproof', amount: 5 }] }] }, /amount 5 must be a decimal integer string/],
    [{ balances: [{ address: A, coins: [{ denom: 'uproof', amount: '0' }] }] }, /\[0\] \(uproof\): amount must be positive/],
    [{ balances: [{ address: A, coins: [{ denom: 'uproof', amount: '007' }] }] }, /leading zeros/],
    [{ balances: [{ address: A, coins: [{ denom: 'u', amount: '1' }] }] }, /balances\[0\]\.coins .*\[0\]: invalid denom "u"/],
    [{ balances: [{ address: A, coins: [{ denom: 'uproof', amount: '1' }, { denom: 'uproof', amount: '2' }] }] }, /duplicate denom 'uproof'/],
    [{ balances: [{ address: A, coins: [{ denom: 'uproof', amount: (1n << 256n).toString() }] }] }, /exceeds 2\^256-1/],
    [{ balances: [], burned: [{ denom: 'uproof', amount: 'x' }] }, /burned\[0\] \(uproof\): amount "x"/],
    [{ balances: [], module_accounts: ['a', 'a'] }, /module_accounts\[1\]: duplicate module name 'a'/],
  ];
  for (const [g, re] of cases) {
    const { ctx, kv, module } = fresh();
    t.throws(() => module.initGenesis!(ctx, g), { message: re }, JSON.stringify(g));
    t.deepEqual(kv.dump(), []);
  }
});

test('invariants hold on good state and detect corrupted balances and supply', (t) => {
  const { ctx, kv, module } = fresh();
  module.initGenesis!(ctx, GEN);
  const [supplyInv, nonneg] = module.invariants!;
  t.is(supplyInv.name, 'bank/total-supply');
  t.is(nonneg.name, 'bank/nonnegative');
  t.is(supplyInv.check(ctx), undefined);
  t.is(nonneg.check(ctx), undefined);

  const bk = 'bank/' + balanceKey(A, 'uproof');
  kv.set(bk, enc('901'));
  t.is(supplyInv.check(ctx), 'uproof: sum of balances 1008 != supply 1007 (diff 1)');
  t.is(nonneg.check(ctx), undefined);

  kv.set(bk, enc('0'));
  t.regex(nonneg.check(ctx)!, /proof1.* uproof: stored balance "0" is zero \(should be deleted\)/);
  kv.set(bk, enc('-900'));
  t.regex(nonneg.check(ctx)!, /stored balance "-900" is negative/);
  t.regex(supplyInv.check(ctx)!, /uproof: sum of balances -793 != supply 1007/);
  kv.set(bk, enc('900'));
  t.is(supplyInv.check(ctx), undefined);

  kv.set('bank/' + supplyKey('ughost'), enc('5'));
  t.is(supplyInv.check(ctx), 'ughost: sum of balances 0 != supply 5 (diff -5)');
  kv.delete('bank/' + supplyKey('ughost'));
  kv.delete('bank/' + supplyKey('ufoo'));
  t.is(supplyInv.check(ctx), 'ufoo: sum of balances 3 != supply 0 (diff 3)');
});

test('exportBankGenesis is also exported standalone', (t) => {
  const { ctx, module } = fresh();
  module.initGenesis!(ctx, GEN);
  t.deepEqual(exportBankGenesis(ctx), module.exportGenesis!(ctx));
});
