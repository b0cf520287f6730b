import test from 'ava';
import fc from 'fast-check';
import { createBankModule } from '../modules/bank/index.js';
import { ErrInsufficientFunds } from '../src/framework/errors.js';
import { addressFromBytes, type Address } from '../src/crypto/address.js';
import type { Coin } from '../src/types/coins.js';
import { SortedArrayKV, TestAccounts, newContext } from './bank-kv.js';

const USERS = [addressFromBytes(new Uint8Array(20).fill(1)), addressFromBytes(new Uint8Array(20).fill(2)), addressFromBytes(new Uint8Array(32).fill(3))] as Address[];
const MODULES = ['market', 'escrow'];
const DENOMS = ['uproof', 'ufoo', 'ibc/ABC'];

type Op =
  | { kind: 'send'; from: number; to: number; coins: Coin[] }
  | { kind: 'toModule'; from: number; mod: number; coins: Coin[] }
  | { kind: 'fromModule'; mod: number; to: number; coins: Coin[] }
  | { kind: 'moduleToModule'; from: number; to: number; coins: Coin[] }
  | { kind: 'mint'; mod: number; coins: Coin[] }
  | { kind: 'burn'; mod: number; coins: Coin[] };

const coinsArb = fc
  .uniqueArray(fc.constantFrom(...DENOMS), { minLength: 1, maxLength: 3 })
  .chain((ds) => fc.tuple(...ds.map((d) => fc.bigInt({ min: 0n, max: 400n }).map((amount) => ({ denom: d, amount })))));
const u = fc.nat({ max: USERS.length - 1 });
const m = fc.nat({ max: MODULES.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), from: u, to: u, coins: coinsArb }),
  fc.record({ kind: fc.constant('toModule' as const), from: u, mod: m, coins: coinsArb }),
  fc.record({ kind: fc.constant('fromModule' as const), mod: m, to: u, coins: coinsArb }),
  fc.record({ kind: fc.constant('moduleToModule' as const), from: m, to: m, coins: coinsArb }),
  fc.record({ kind: fc.constant('mint' as const), mod: m, coins: coinsArb }),
  fc.record({ kind: fc.constant('burn' as const), mod: m, coins: coinsArb }),
);

test('random sends/mints/burns keep the supply invariant and match a simple model', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
      const kv = new SortedArrayKV();
      const ctx = newContext(kv);
      const { module, keeper } = createBankModule({ accounts: new TestAccounts() });
      module.initGenesis!(ctx, { balances: USERS.map((a) => ({ address: a, coins: [{ denom: 'uproof', amount: '500' }, { denom: 'ufoo', amount: '100' }] })) });
      const bal = new Map<string, bigint>(); // `${addr} ${denom}` -> amount
      const get = (a: string, d: string) => bal.get(`${a} ${d}`) ?? 0n;
      const put = (a: string, d: string, n: bigint) => bal.set(`${a} ${d}`, n);
      for (const a of USERS) {
        put(a, 'uproof', 500n);
        put(a, 'ufoo', 100n);
      }
      const supply = new Map<string, bigint>([['uproof', 1500n], ['ufoo', 300n]]);
      const burned = new Map<string, bigint>();
      const mod = (i: number) => keeper.moduleAccount(MODULES[i]);

      for (const op of ops) {
        let from: string | undefined;
        let to: string | undefined;
        let run: () => void;
        switch (op.kind) {
          case 'send': from = USERS[op.from]; to = USERS[op.to]; run = () => keeper.send(ctx, USERS[op.from], USERS[op.to], op.coins); break;
          case 'toModule': from = USERS[op.from]; to = mod(op.mod); run = () => keeper.sendToModule(ctx, USERS[op.from], MODULES[op.mod], op.coins); break;
          case 'fromModule': from = mod(op.mod); to = USERS[op.to]; run = () => keeper.sendFromModule(ctx, MODULES[op.mod], USERS[op.to], op.coins); break;
          case 'moduleToModule': from = mod(op.from); to = mod(op.to); run = () => keeper.moduleToModule(ctx, MODULES[op.from], MODULES[op.to], op.coins); break;
          case 'mint': to = mod(op.mod); run = () => keeper.mint(ctx, MODULES[op.mod], op.coins); break;
          case 'burn': from = mod(op.mod); run = () => keeper.burn(ctx, MODULES[op.mod], op.coins); break;
        }
        const short = from !== undefined && op.coins.some((c) => get(from!, c.denom) < c.amount);
        if (short) {
          const before = kv.dump();
          let err: unknown;
          try {
            run();
          } catch (e) {
            err = e;
          }
          if (!ErrInsufficientFunds.is(err)) return false;
          if (JSON.stringify(kv.dump()) !== JSON.stringify(before)) return false;
          continue;
        }
        run();
        for (const c of op.coins) {
          if (from !== undefined) put(from, c.denom, get(from, c.denom) - c.amount);
          if (to !== undefined) put(to, c.denom, get(to, c.denom) + c.amount);
          if (op.kind === 'mint') supply.set(c.denom, (supply.get(c.denom) ?? 0n) + c.amount);
          if (op.kind === 'burn') {
            supply.set(c.denom, (supply.get(c.denom) ?? 0n) - c.amount);
            burned.set(c.denom, (burned.get(c.denom) ?? 0n) + c.amount);
          }
        }
        for (const inv of module.invariants!) {
          const broken = inv.check(ctx);
          if (broken !== undefined) throw new Error(`${inv.name} broken after ${JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}: ${broken}`);
        }
      }
      for (const a of [...USERS, ...MODULES.map((_, i) => mod(i))]) {
        for (const d of DENOMS) if (keeper.balance(ctx, a, d) !== get(a, d)) return false;
        const expected = DENOMS.filter((d) => get(a, d) !== 0n).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)).map((d) => ({ denom: d, amount: get(a, d) }));
        if (JSON.stringify(keeper.balances(ctx, a), (_, v) => (typeof v === 'bigint' ? v.toString() : v)) !== JSON.stringify(expected, (_, v) => (typeof v === 'bigint' ? v.toString() : v))) return false;
      }
      for (const d of DENOMS) {
        if (keeper.supply(ctx, d) !== (supply.get(d) ?? 0n)) return false;
        if (keeper.burned(ctx, d) !== (burned.get(d) ?? 0n)) return false;
      }
      // No zero balance is ever stored.
      return kv.dump().every(([k, v]) => !k.startsWith('bank/b') || v !== Buffer.from('0').toString('hex'));
    }),
    { numRuns: 300, seed: 20261124 },
  );
  t.pass();
});
