/**
 * Property test: random sequences of bond / unbond / lock / unlock / slash / miss / unjail / advance-height, each
 * run as a tx (CacheKV over the block's CacheKV over a LevelDB CommittedStore; a failed op is discarded), checked
 * against a simple model (which ops must succeed, bonded/locked/balances) and against every bank and bond invariant
 * after each step.
 */
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommittedStore } from '../src/store/committed.js';
import { CacheKV } from '../src/store/cache.js';
import { Context } from '../src/framework/context.js';
import { AppError } from '../src/framework/errors.js';
import { createBankModule } from '../modules/bank/index.js';
import { createBondModule, amountIn } from '../modules/bond/index.js';
import { addressFromBytes, moduleAddress, type Address } from '../src/crypto/address.js';
import type { KV } from '../src/store/kv.js';
import { TestAccounts } from './bank-kv.js';

const USERS = [1, 2, 3].map((i) => addressFromBytes(new Uint8Array(i === 3 ? 32 : 20).fill(i)) as Address);
const BENEFICIARY = addressFromBytes(new Uint8Array(20).fill(9)) as Address;
const DENOMS = ['uproof', 'ueth'];
const START = 1000n;
const PARAMS = { collateral_denoms: ['ueth', 'uproof'], unbonding_blocks: '5', max_misses: '2', jail_blocks: '3' };

type Op =
  | { kind: 'bond' | 'unbond' | 'lock' | 'unlock'; who: number; denom: number; amount: bigint }
  | { kind: 'slash'; who: number; denom: number; amount: bigint; bps: bigint }
  | { kind: 'miss' | 'unjail'; who: number }
  | { kind: 'advance'; blocks: bigint };

const who = fc.nat({ max: USERS.length - 1 });
const denom = fc.nat({ max: DENOMS.length - 1 });
const amount = fc.bigInt({ min: 0n, max: 400n });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('bond' as const, 'unbond' as const, 'lock' as const, 'unlock' as const), who, denom, amount }),
  fc.record({ kind: fc.constant('slash' as const), who, denom, amount, bps: fc.bigInt({ min: 0n, max: 10_000n }) }),
  fc.record({ kind: fc.constantFrom('miss' as const, 'unjail' as const), who }),
  fc.record({ kind: fc.constant('advance' as const), blocks: fc.bigInt({ min: 1n, max: 4n }) }),
);

interface ModelProver {
  bonded: Map<string, bigint>;
  locked: Map<string, bigint>;
  jailed: boolean;
  until: bigint;
  misses: bigint;
}

test('random bond/unbond/lock/unlock/slash/miss/unjail/advance sequences match the model and keep every invariant', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bond-prop-'));
  const store = await CommittedStore.open(dir, { sync: false });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ctxOf = (kv: KV, h: bigint) => new Context(kv, { chainId: 'proofbook-test', height: h, timeSeconds: 1_700_000_000n + h }, 'deliver');
  let runs = 0;
  let succeeded = 0;
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 50, size: 'max' }), (ops) => {
      runs++;
      const block = new CacheKV(store);
      const bankM = createBankModule({ accounts: new TestAccounts(), moduleAccounts: ['bond'] });
      const bondM = createBondModule({ bank: bankM.keeper });
      const bank = bankM.keeper;
      const bond = bondM.keeper;
      bankM.module.initGenesis!(ctxOf(block, 0n), {
        balances: USERS.map((a) => ({ address: a, coins: DENOMS.slice().sort().map((d) => ({ denom: d, amount: START.toString() })) })),
      });
      bondM.module.initGenesis!(ctxOf(block, 0n), { params: PARAMS, provers: [], unbondings: [], next_unbonding_id: '1' });

      let h = 1n;
      const model = new Map<Address, ModelProver>();
      const wallet = new Map<string, bigint>(USERS.flatMap((a) => DENOMS.map((d) => [a + d, START] as [string, bigint])));
      const pending: { addr: Address; denom: string; amount: bigint; completion: bigint }[] = [];
      let benef = 0n;
      const get = (m: Map<string, bigint>, k: string) => m.get(k) ?? 0n;

      const tx = (f: (ctx: Context) => void): boolean => {
        const c = new CacheKV(block);
        try {
          f(ctxOf(c, h));
          c.writeTo(block);
          return true;
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          c.discard();
          return false;
        }
      };

      // Every user starts bonded in the first denom, so the other ops have something to act on.
      const setup: Op[] = USERS.map((_a, i) => ({ kind: 'bond', who: i, denom: 0, amount: 300n }));
      for (const op of [...setup, ...ops]) {
        if (op.kind === 'advance') {
          h += op.blocks;
          bond.endBlock(ctxOf(block, h));
          for (let i = pending.length - 1; i >= 0; i--) {
            const e = pending[i];
            if (e.completion <= h) {
              wallet.set(e.addr + e.denom, get(wallet, e.addr + e.denom) + e.amount);
              pending.splice(i, 1);
            }
          }
        } else {
          const addr = USERS[op.who];
          const p = model.get(addr);
          let ok: boolean;
          let expect: boolean;
          switch (op.kind) {
            case 'bond': {
              const d = DENOMS[op.denom];
              expect = op.amount > 0n && get(wallet, addr + d) >= op.amount;
              ok = tx((ctx) => bond.bond(ctx, addr, [{ denom: d, amount: op.amount }]));
              if (ok) {
                const mp = p ?? { bonded: new Map(), locked: new Map(), jailed: false, until: 0n, misses: 0n };
                mp.bonded.set(d, get(mp.bonded, d) + op.amount);
                model.set(addr, mp);
                wallet.set(addr + d, get(wallet, addr + d) - op.amount);
              }
              break;
            }
            case 'unbond': {
              const d = DENOMS[op.denom];
              expect = p !== undefined && op.amount > 0n && op.amount <= get(p.bonded, d) - get(p.locked, d);
              ok = tx((ctx) => void bond.unbond(ctx, addr, [{ denom: d, amount: op.amount }]));
              if (ok) {
                p!.bonded.set(d, get(p!.bonded, d) - op.amount);
                pending.push({ addr, denom: d, amount: op.amount, completion: h + 5n });
              }
              break;
            }
            case 'lock': {
              const d = DENOMS[op.denom];
              expect = p !== undefined && !p.jailed && op.amount > 0n && op.amount <= get(p.bonded, d) - get(p.locked, d);
              ok = tx((ctx) => bond.lock(ctx, addr, d, op.amount));
              if (ok) p!.locked.set(d, get(p!.locked, d) + op.amount);
              break;
            }
            case 'unlock': {
              const d = DENOMS[op.denom];
              expect = p !== undefined && op.amount > 0n && op.amount <= get(p.locked, d);
              ok = tx((ctx) => bond.unlock(ctx, addr, d, op.amount));
              if (ok) p!.locked.set(d, get(p!.locked, d) - op.amount);
              break;
            }
            case 'slash': {
              const d = DENOMS[op.denom];
              expect = op.amount === 0n || (p !== undefined && op.amount <= get(p.locked, d));
              let r = { compensated: -1n, burned: -1n };
              ok = tx((ctx) => void (r = bond.slashLocked(ctx, addr, d, op.amount, BENEFICIARY, op.bps)));
              if (ok && op.amount > 0n) {
                p!.locked.set(d, get(p!.locked, d) - op.amount);
                p!.bonded.set(d, get(p!.bonded, d) - op.amount);
                const comp = (op.amount * op.bps) / 10_000n;
                t.deepEqual(r, { compensated: comp, burned: op.amount - comp });
                if (d === 'uproof') benef += comp;
              }
              break;
            }
            case 'miss': {
              expect = p !== undefined;
              ok = tx((ctx) => bond.recordMiss(ctx, addr));
              if (ok) {
                p!.misses++;
                if (!p!.jailed && p!.misses >= 2n) {
                  p!.jailed = true;
                  p!.until = h + 3n;
                }
              }
              break;
            }
            case 'unjail': {
              expect = p !== undefined && p.jailed && h >= p.until;
              ok = tx((ctx) => bond.unjail(ctx, addr));
              if (ok) Object.assign(p!, { jailed: false, until: 0n, misses: 0n });
              break;
            }
          }
          if (ok !== expect) throw new Error(`${JSON.stringify(op, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))} at height ${h}: ok=${ok}, model expected ${expect}`);
          if (ok) succeeded++;
        }
        // Compare state with the model and run every invariant.
        const ctx = ctxOf(block, h);
        for (const a of USERS) {
          const mp = model.get(a);
          const sp = bond.prover(ctx, a);
          if ((mp === undefined) !== (sp === undefined)) return false;
          if (mp && sp) {
            for (const d of DENOMS) {
              if (amountIn(sp.bonded, d) !== get(mp.bonded, d) || amountIn(sp.locked, d) !== get(mp.locked, d)) return false;
              if (bond.freeCollateral(ctx, a, d) !== (mp.jailed ? 0n : get(mp.bonded, d) - get(mp.locked, d))) return false;
            }
            if (sp.jailed !== mp.jailed || sp.jailedUntil !== mp.until || sp.recentMisses !== mp.misses) return false;
          }
          for (const d of DENOMS) if (bank.balance(ctx, a, d) !== get(wallet, a + d)) return false;
        }
        if (bank.balance(ctx, BENEFICIARY, 'uproof') !== benef) return false;
        for (const m of [bankM.module, bondM.module]) {
          for (const inv of m.invariants ?? []) {
            const r = inv.check(ctx);
            if (r) {
              t.log(`${m.name}/${inv.name}: ${r}`);
              return false;
            }
          }
        }
      }
      // Everything still unbonding is in the bond account; after enough blocks all of it is paid out.
      h += 10n;
      bond.endBlock(ctxOf(block, h));
      const ctx = ctxOf(block, h);
      for (const d of DENOMS) {
        let bonded = 0n;
        for (const mp of model.values()) bonded += get(mp.bonded, d);
        if (bank.balance(ctx, moduleAddress('bond'), d) !== bonded) return false;
      }
      return bondM.module.invariants!.every((inv) => inv.check(ctx) === undefined);
    }),
    { numRuns: 150, seed: 20261124 },
  );
  t.is(runs, 150);
  t.true(succeeded > 1000, `only ${succeeded} ops succeeded: the generator explores too little`);
});
