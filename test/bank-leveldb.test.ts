/**
 * Bank over the real stores: a block CacheKV over the LevelDB-backed CommittedStore, per-tx CacheKVs on top (all or
 * nothing), commit, reopen from disk, and check balances, supply, invariants and the export survive unchanged.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommittedStore } from '../src/store/committed.js';
import { CacheKV } from '../src/store/cache.js';
import { Context } from '../src/framework/context.js';
import { createBankModule } from '../modules/bank/index.js';
import { addressFromBytes, type Address } from '../src/crypto/address.js';
import type { KV } from '../src/store/kv.js';
import { TestAccounts } from './bank-kv.js';

const A = addressFromBytes(new Uint8Array(20).fill(1)) as Address;
const B = addressFromBytes(new Uint8Array(20).fill(2)) as Address;
const ctxOf = (kv: KV, height: bigint) => new Context(kv, { chainId: 'proofbook-test', height, timeSeconds: 1_700_000_000n + height }, 'deliver');
const c = (amount: bigint, denom = 'uproof') => ({ denom, amount });

test('bank state commits to LevelDB, failed txs leave no trace, and everything reloads identically', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bank-leveldb-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { module, keeper } = createBankModule({ accounts: new TestAccounts() });

  let store = await CommittedStore.open(dir, { sync: false });
  const genesisBlock = new CacheKV(store);
  module.initGenesis!(ctxOf(genesisBlock, 0n), { balances: [{ address: A, coins: [{ denom: 'uproof', amount: '1000' }] }] });
  store.applyBlock(genesisBlock.writes());
  await store.commit(1n);

  const block = new CacheKV(store);
  const runTx = (f: (ctx: Context) => void): boolean => {
    const tx = new CacheKV(block);
    try {
      f(ctxOf(tx, 2n));
      tx.writeTo(block);
      return true;
    } catch {
      tx.discard();
      return false;
    }
  };
  t.true(runTx((ctx) => keeper.send(ctx, A, B, [c(300n)])));
  // A multi-step tx whose second step fails must leave nothing behind (tx-level all-or-nothing).
  t.false(runTx((ctx) => {
    keeper.sendToModule(ctx, A, 'market', [c(100n)]);
    keeper.send(ctx, B, A, [c(301n)]);
  }));
  t.true(runTx((ctx) => keeper.mint(ctx, 'mint', [c(50n, 'ufoo')])));
  t.true(runTx((ctx) => keeper.burn(ctx, 'mint', [c(20n, 'ufoo')])));
  const rootBefore = store.applyBlock(block.writes());
  await store.commit(2n);
  const exported = module.exportGenesis!(ctxOf(new CacheKV(store), 2n));
  await store.close();

  store = await CommittedStore.open(dir, { sync: false });
  t.deepEqual(store.appHash, rootBefore);
  const ctx = ctxOf(new CacheKV(store), 3n);
  t.is(keeper.balance(ctx, A, 'uproof'), 700n);
  t.is(keeper.balance(ctx, B, 'uproof'), 300n);
  t.is(keeper.balance(ctx, keeper.moduleAccount('market'), 'uproof'), 0n);
  t.false(keeper.isBlockedAddress(ctx, keeper.moduleAccount('market')), 'the failed tx did not record the market account');
  t.deepEqual(keeper.totalSupply(ctx), [c(30n, 'ufoo'), c(1000n)]);
  t.is(keeper.burned(ctx, 'ufoo'), 20n);
  for (const inv of module.invariants!) t.is(inv.check(ctx), undefined, inv.name);
  t.deepEqual(module.exportGenesis!(ctx), exported);
  await store.close();
});
