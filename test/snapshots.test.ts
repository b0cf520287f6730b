/**
 * State-sync snapshots at the ABCI level (app/snapshots.ts): snapshots every `interval` heights, only `keepRecent`
 * kept; a fresh app restores one chunk by chunk (offer, apply), verifies the root against the trusted app hash and
 * then executes the next blocks exactly like the source; a corrupted chunk is refetched from another sender; a wrong
 * app hash rejects the snapshot and leaves the store empty; a node with state refuses offers.
 */
import test from 'ava';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { ResponseApplySnapshotChunk_Result as Apply, ResponseOfferSnapshot_Result as Offer, type Snapshot } from 'cosmjs-types/tendermint/abci/types';
import { TestChain, devnetKey } from './helpers/chain.js';
import pino from 'pino';
import { ProofbookApp } from '../app/app.js';

const dumpAt = (app: ProofbookApp, v: Awaited<ReturnType<ProofbookApp['store']['versionAt']>>) =>
  [...app.store.readerAt(v).iterate('', undefined)].map(([k, val]) => `${Buffer.from(k, 'latin1').toString('hex')}=${Buffer.from(val).toString('hex')}`);
const dump = (app: ProofbookApp) => [...app.store.iterate('', undefined)].map(([k, v]) => `${Buffer.from(k, 'latin1').toString('hex')}=${Buffer.from(v).toString('hex')}`);

async function sends(chain: TestChain, n: number, amount: number) {
  const from = await devnetKey(0);
  const txs = [];
  const seq = (await chain.account(from.address))!.sequence;
  for (let i = 0; i < n; i++) {
    const to = (await devnetKey(1 + (i % 5))).address;
    txs.push(await chain.sign(from, { msgs: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from.address, toAddress: to, amount: [{ denom: 'uproof', amount: String(amount + i) }] }).finish() }], fee: [{ denom: 'uproof', amount: 300n }], gasLimit: 200_000n }, seq + BigInt(i)));
  }
  return chain.block(txs);
}

async function restore(target: ProofbookApp, source: ProofbookApp, snap: Snapshot, appHash: Uint8Array, corrupt?: number) {
  const offered = await target.offerSnapshot({ snapshot: snap, appHash });
  if (offered.result !== Offer.ACCEPT) return { offered: offered.result };
  const results: Apply[] = [];
  for (let i = 0; i < snap.chunks; i++) {
    let chunk = (await source.loadSnapshotChunk({ height: snap.height, format: snap.format, chunk: i })).chunk;
    if (i === corrupt) {
      const bad = Uint8Array.from(chunk);
      bad[bad.length - 1] ^= 1;
      const r = await target.applySnapshotChunk({ index: i, chunk: bad, sender: 'bad-peer' });
      results.push(r.result);
      if (r.result !== Apply.RETRY || !r.refetchChunks.includes(i) || !r.rejectSenders.includes('bad-peer')) return { offered: offered.result, results };
      chunk = (await source.loadSnapshotChunk({ height: snap.height, format: snap.format, chunk: i })).chunk;
    }
    const r = await target.applySnapshotChunk({ index: i, chunk, sender: 'good-peer' });
    results.push(r.result);
    if (r.result !== Apply.ACCEPT) break;
  }
  return { offered: offered.result, results };
}

test('snapshots every interval, keep-recent, restore into a fresh app that then follows the chain', async (t) => {
  const chain = await TestChain.create({ snapshots: { interval: 3, keepRecent: 2, chunkBytes: 2048 } });
  t.teardown(() => chain.close());
  // record every FinalizeBlock request and app hash, to replay blocks 7 and 8 on the restored app
  const src = { app: chain.app, blocks: new Map<bigint, Parameters<ProofbookApp['finalizeBlock']>[0]>(), hashes: new Map<bigint, Uint8Array>() };
  const fb = chain.app.finalizeBlock.bind(chain.app);
  chain.app.finalizeBlock = async (req) => {
    const r = await fb(req);
    src.blocks.set(req.height, req);
    src.hashes.set(req.height, r.appHash);
    return r;
  };
  for (let h = 0; h < 8; h++) {
    await sends(chain, 3, 100 + h);
    await chain.app.snapshots.idle();
  }
  t.is(src.app.height, 8n);
  const snaps = (await src.app.listSnapshots()).snapshots;
  t.deepEqual(snaps.map((s) => s.height), [6n, 3n], 'newest first, only two kept');
  t.deepEqual(readdirSync(join(chain.dir, 'data', 'snapshots')).sort(), ['3', '6']);
  const snap = snaps[0]!;
  t.true(snap.chunks > 1, `several chunks (${snap.chunks})`);
  t.is(snap.metadata.length, 32 * snap.chunks);
  // the app hash of height 6 (what CometBFT's light client gives the restoring node)
  const appHash6 = (await src.app.store.versionAt(6n)).appHash;

  // a fresh, empty app (no InitChain): what CometBFT starts state sync with
  const emptyDir = mkdtempSync(join(tmpdir(), 'snap-empty-'));
  const empty = { app: await ProofbookApp.open({ home: emptyDir, logger: pino({ level: 'silent' }) }) };
  t.teardown(() => empty.app.close());
  t.is(empty.app.height, 0n);

  // wrong app hash: rejected, store left empty
  const bad = await restore(empty.app, src.app, snap, new Uint8Array(32).fill(7));
  t.deepEqual(bad.results?.at(-1), Apply.REJECT_SNAPSHOT);
  t.is(empty.app.store.size, 0);
  t.is(empty.app.height, 0n);
  // the right one, with a corrupted chunk on the way (refetched from another sender)
  const ok = await restore(empty.app, src.app, snap, appHash6, 1);
  t.is(ok.offered, Offer.ACCEPT);
  t.deepEqual(ok.results, [Apply.ACCEPT, Apply.RETRY, ...Array(snap.chunks - 1).fill(Apply.ACCEPT)]);
  t.is(empty.app.height, 6n);
  t.deepEqual(empty.app.store.appHash, appHash6);
  const info = await empty.app.info({ version: '', blockVersion: 0n, p2pVersion: 0n, abciVersion: '' });
  t.is(info.lastBlockHeight, 6n);
  t.deepEqual(info.lastBlockAppHash, appHash6);
  // a node with state refuses further offers
  t.is((await empty.app.offerSnapshot({ snapshot: snap, appHash: appHash6 })).result, Offer.ABORT);
  t.deepEqual(dump(empty.app), dumpAt(src.app, await src.app.store.versionAt(6n)));

  // it follows the chain: the source's blocks 7 and 8, replayed through FinalizeBlock + Commit, give the same app hashes
  for (const h of [7n, 8n]) {
    const blk = src.blocks.get(h)!;
    const r = await empty.app.finalizeBlock(blk);
    await empty.app.commit();
    t.deepEqual(r.appHash, src.hashes.get(h), `app hash at ${h}`);
  }
  t.deepEqual(dump(empty.app), dump(src.app));
});
