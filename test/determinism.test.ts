/**
 * Determinism: one random tx stream replayed through three fresh app instances —
 *   A: the normal path (CheckTx for every tx, PrepareProposal, ProcessProposal, FinalizeBlock, Commit),
 *   B: never sees CheckTx (a validator whose mempool was empty: no signature or decode caches warmed),
 *   C: closes and reopens its LevelDB before every block (state rebuilt from disk, caches cold).
 * A and C take state-sync snapshots and prune old versions (different settings); A also reopens its LevelDB handle every
 * 2 heights (the periodic reopen, put off while a snapshot export holds the handle); B runs the defaults.
 * App hashes and every tx result code must be equal at every height.
 */
import test from 'ava';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { TestChain, devnetKey } from './helpers/chain.js';
import { Rng } from './helpers/rng.js';
import type { RawKey } from '../src/client/sign.js';

const HEIGHTS = 25;

test('app hashes agree at every height for CheckTx-less and restart-every-block replicas', async (t) => {
  const rng = new Rng(42);
  // A takes state-sync snapshots every 4 heights, keeps 3 recent heights and reopens its LevelDB handle every 2; C
  // (restarting) keeps 2; B the defaults: snapshots, version pruning and reopens must not change any app hash.
  const [a, b, c] = await Promise.all([
    TestChain.create({ snapshots: { interval: 4, keepRecent: 2 }, store: { historyBlocks: 3, reopenEveryBlocks: 2 } }),
    TestChain.create(),
    TestChain.create({ snapshots: { interval: 3, keepRecent: 1 }, store: { historyBlocks: 2 } }),
  ]);
  t.teardown(async () => { await a.close(); await b.close(); await c.close(); });
  const keys: RawKey[] = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => devnetKey(i)));
  const seq = new Map<string, bigint>();
  for (const k of keys) seq.set(k.address, (await a.account(k.address))!.sequence);

  for (let h = 1; h <= HEIGHTS; h++) {
    const txs: Uint8Array[] = [];
    for (let i = 0, n = rng.int(40); i < n; i++) {
      const from = rng.pick(keys);
      const to = rng.int(5) === 0 ? `proof1${'q'.repeat(38)}` : rng.pick(keys).address; // sometimes an invalid recipient
      const amount = rng.int(10) === 0 ? (10n ** 13n).toString() : String(1 + rng.int(100_000)); // sometimes an overdraft
      const s = seq.get(from.address)!;
      const useSeq = rng.int(12) === 0 ? s + 5n : s; // sometimes a wrong sequence
      const tx = await a.sign(from, { msgs: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from.address, toAddress: to, amount: [{ denom: 'uproof', amount }] }).finish() }], fee: [{ denom: 'uproof', amount: BigInt(200 + rng.int(50)) }], gasLimit: 200_000n }, useSeq);
      txs.push(tx);
      if (useSeq === s) seq.set(from.address, s + 1n); // optimistic; corrected from chain state after the block
    }
    if (rng.int(4) === 0) txs.push(rng.bytes(50)); // garbage

    // A: the full CometBFT sequence, mempool included. The block carries exactly `txs` so all replicas see the same block.
    for (const tx of txs) await a.checkTx(tx);
    const ra = await a.rawBlock(txs);
    const rb = await b.rawBlock(txs);
    await c.restart();
    const rc = await c.rawBlock(txs);
    const hex = (x: Uint8Array) => Buffer.from(x).toString('hex');
    t.is(hex(rb.appHash), hex(ra.appHash), `B diverged at height ${h}`);
    t.is(hex(rc.appHash), hex(ra.appHash), `C diverged at height ${h}`);
    t.deepEqual(rb.txResults.map((r) => [r.code, r.gasUsed]), ra.txResults.map((r) => [r.code, r.gasUsed]));
    t.deepEqual(rc.txResults.map((r) => [r.code, r.gasUsed]), ra.txResults.map((r) => [r.code, r.gasUsed]));
    for (const chain of [a, b, c]) t.deepEqual(chain.app.checkInvariants(), []);
    for (const k of keys) seq.set(k.address, (await a.account(k.address))!.sequence);
  }
  t.is(a.app.height, BigInt(HEIGHTS));
  await a.app.snapshots.idle();
  t.deepEqual(a.app.snapshots.list().map((x) => x.height), [24n, 20n]);
  t.true(a.app.store.reopens >= 1, `A reopened its LevelDB handle ${a.app.store.reopens} times (12 due; the first at height 2, before any export)`);
  t.is(a.app.store.oldestHeight, BigInt(HEIGHTS) - 2n);
});

test('PrepareProposal: the mempool-order fast path and the re-execution path choose the same txs', async (t) => {
  const a = await TestChain.create();
  const b = await TestChain.create();
  t.teardown(async () => { await a.close(); await b.close(); });
  const k0 = await devnetKey(0);
  const k1 = await devnetKey(1);
  const mk = (seq: bigint, amount: string) => a.sign(k0, { msgs: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: k0.address, toAddress: k1.address, amount: [{ denom: 'uproof', amount }] }).finish() }], fee: [{ denom: 'uproof', amount: 200n }], gasLimit: 200_000n }, seq);
  const txs = [await mk(0n, '5'), await mk(1n, '6'), await mk(2n, '7')];
  for (const tx of txs) t.is((await a.checkTx(tx)).code, 0);
  const req = (list: Uint8Array[], maxTxBytes: bigint) => ({ maxTxBytes, txs: list, localLastCommit: undefined as any, misbehavior: [], height: 1n, time: { seconds: 1n, nanos: 0 }, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20) });
  const fast = await a.app.prepareProposal(req(txs, 1_000_000n));
  const slow = await b.app.prepareProposal(req(txs, 1_000_000n));
  t.deepEqual(fast.txs, txs);
  t.deepEqual(slow.txs, txs);
  // A stale tx (sequence already used) only goes through the slow path, which drops it.
  const stale = await b.app.prepareProposal(req([txs[0], txs[0], txs[1]], 1_000_000n));
  t.deepEqual(stale.txs, [txs[0], txs[1]]);
  // max_tx_bytes is respected: room for two txs only.
  const two = BigInt(txs[0].length + txs[1].length);
  t.deepEqual((await a.app.prepareProposal(req(txs, two))).txs, txs.slice(0, 2));
});
