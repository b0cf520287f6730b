/**
 * `npm run bench -- tx`: signed MsgSend throughput through the real app on LevelDB, driven the way CometBFT drives it
 * over the ABCI socket: every CheckTx request is handed to the app as it arrives (`prefetchCheckTx`, which starts
 * signature verification on the worker pool) and queued on the app's serial queue, many in flight at once, as the
 * mempool connection pipelines them; then PrepareProposal -> ProcessProposal -> FinalizeBlock -> Commit per 1,000-tx
 * block. Pre-signing is the clients' cost and is not timed. The first WARMUP blocks (JIT warm-up) are run but not
 * timed: a validator runs for days, so steady state is the figure that matters.
 *
 * Rows, all in this process:
 *   - libsecp256k1 with the worker pool (the default configuration),
 *   - libsecp256k1 on the main thread only (parallelVerify off) — what the pool adds,
 *   - @noble/curves on the main thread only — the pure-JS baseline.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { CheckTxType, type RequestCheckTx } from 'cosmjs-types/tendermint/abci/types';
import { ProofbookApp } from '../app/app.js';
import { defaultGenesis } from '../genesis/index.js';
import { rawKeyFromPrivkey, signTx, type RawKey } from '../src/client/sign.js';
import { verifyNative, verifyNoble, type Secp256k1Verify } from '../src/crypto/secp256k1.js';
import { sharedVerifyPool } from '../src/crypto/verify-pool.js';
import { printTable, type BenchRow } from './table.js';

const BLOCK_TXS = 1000;
const WARMUP = 2;

function keys(n: number): RawKey[] {
  return Array.from({ length: n }, (_, i) => rawKeyFromPrivkey(createHash('sha256').update(`bench-key-${i}`).digest()));
}

interface RunResult { txPerSec: number; finalizeMs: number; commitMs: number; checkMs: number; blockMsP50: number; blocks: number }

let runs = 0;

async function run1(verify: Secp256k1Verify, parallelVerify: boolean, blocks: number, senders: RawKey[]): Promise<RunResult> {
  // A chain id per run, so no run sees byte-identical txs (and so process-wide decode caches) from an earlier one.
  const CHAIN_ID = `bench-${++runs}`;
  const dir = mkdtempSync(join(tmpdir(), 'proofbook-bench-'));
  const app = await ProofbookApp.open({ home: dir, logger: pino({ level: 'silent' }), verify, parallelVerify });
  const genesis = defaultGenesis();
  const bank = genesis.bank as { balances: { address: string; coins: { denom: string; amount: string }[] }[] };
  bank.balances = [...bank.balances, ...senders.map((k) => ({ address: k.address, coins: [{ denom: 'uproof', amount: '1000000000' }] }))];
  await app.initChain({ time: { seconds: 1_700_000_000n, nanos: 0 }, chainId: CHAIN_ID, validators: [], appStateBytes: new TextEncoder().encode(JSON.stringify(genesis)), initialHeight: 1n, consensusParams: undefined });
  // Account numbers: genesis accounts are numbered in genesis order (10 devnet accounts first).
  const accountNumber = (i: number) => BigInt(10 + i);
  const msgFor = (from: RawKey, to: RawKey) => ({ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from.address, toAddress: to.address, amount: [{ denom: 'uproof', amount: '1' }] }).finish() });

  const total = WARMUP + blocks;
  const txBlocks: Uint8Array[][] = [];
  for (let b = 0; b < total; b++) {
    // A tight gas limit (a send uses up to ~46,000): 1,000 of them fit the block gas limit (app/tx/block-gas.ts, 50,000,000).
    txBlocks.push(senders.map((k, i) => signTx(k, { msgs: [msgFor(k, senders[(i + 1) % senders.length])], fee: [{ denom: 'uproof', amount: 50n }], gasLimit: 50_000n }, { chainId: CHAIN_ID, accountNumber: accountNumber(i), sequence: BigInt(b) })));
  }
  let finalizeMs = 0, commitMs = 0, checkMs = 0, timedMs = 0;
  const blockMs: number[] = [];
  for (let b = 0; b < total; b++) {
    const timed = b >= WARMUP;
    const c0 = process.hrtime.bigint();
    // As the ABCI server does on receipt of each request: prefetch, then enqueue; all requests in flight together.
    // Each answer is looked at and dropped as it comes (the server encodes and writes it), not held to the end.
    let failed: string | undefined;
    const pending = txBlocks[b].map((tx) => {
      const req: RequestCheckTx = { tx, type: CheckTxType.NEW };
      app.prefetchCheckTx(req);
      return app.queue.run(() => app.checkTx(req)).then((r) => {
        if (r.code !== 0) failed ??= r.log;
      });
    });
    await Promise.all(pending);
    if (failed !== undefined) throw new Error(`CheckTx failed: ${failed}`);
    const c1 = process.hrtime.bigint();
    const height = BigInt(b + 1);
    const time = { seconds: 1_700_000_000n + height, nanos: 0 };
    const common = { misbehavior: [], height, time, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20) };
    const prepared = await app.queue.run(() => app.prepareProposal({ ...common, maxTxBytes: 22_020_096n, txs: txBlocks[b], localLastCommit: undefined as any }));
    await app.queue.run(() => app.processProposal({ ...common, txs: prepared.txs, proposedLastCommit: undefined as any, hash: new Uint8Array(32) }));
    const f0 = process.hrtime.bigint();
    const res = await app.queue.run(() => app.finalizeBlock({ ...common, txs: prepared.txs, decidedLastCommit: undefined as any, hash: new Uint8Array(32) }));
    const f1 = process.hrtime.bigint();
    await app.queue.run(() => app.commit());
    const f2 = process.hrtime.bigint();
    if (prepared.txs.length !== BLOCK_TXS || res.txResults.some((r) => r.code !== 0)) throw new Error('a tx was dropped or failed in FinalizeBlock');
    if (!timed) continue;
    checkMs += Number(c1 - c0) / 1e6;
    finalizeMs += Number(f1 - f0) / 1e6;
    commitMs += Number(f2 - f1) / 1e6;
    timedMs += Number(f2 - c0) / 1e6;
    blockMs.push(Number(f2 - c0) / 1e6);
  }
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  blockMs.sort((a, b) => a - b);
  return {
    txPerSec: (blocks * senders.length) / (timedMs / 1000), finalizeMs: finalizeMs / blocks, commitMs: commitMs / blocks,
    checkMs: checkMs / blocks, blockMsP50: blockMs[blockMs.length >> 1], blocks,
  };
}

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const senders = keys(BLOCK_TXS);
  const blocks = quick ? 3 : 10;
  // A discarded run first: every measured run then starts with the same JIT-compiled code.
  await run1(verifyNative, true, 1, senders);
  const pooled = await run1(verifyNative, true, blocks, senders);
  const workers = sharedVerifyPool()?.size ?? 0;
  const mainOnly = await run1(verifyNative, false, blocks, senders);
  const noble = flags.includes('--no-baseline') ? mainOnly : await run1(verifyNoble, false, quick ? 1 : 2, senders);
  const what = `${BLOCK_TXS} MsgSend/block, ${blocks} timed blocks after ${WARMUP} warm-up (and a discarded warm-up run)`;
  const rows: BenchRow[] = [
    { name: 'pipeline tx/s (libsecp256k1 + pool)', value: pooled.txPerSec, unit: 'tx/s', target: '>= 5,000', note: `${what}; ${workers} verify worker(s); CheckTx+Prepare+Process+Finalize+Commit` },
    { name: 'pipeline tx/s (libsecp256k1, main thread)', value: mainOnly.txPerSec, unit: 'tx/s', baseline: 'pipeline tx/s (libsecp256k1 + pool)', note: 'same run, signatures verified in CheckTx on the main thread' },
    { name: 'pipeline tx/s (@noble, main thread)', value: noble.txPerSec, unit: 'tx/s', baseline: 'pipeline tx/s (libsecp256k1 + pool)', note: `pure-JS baseline, ${noble.blocks} timed blocks` },
    { name: 'block p50 (1,000 txs, all phases)', value: pooled.blockMsP50, unit: 'ms', note: 'median over timed blocks' },
    { name: 'CheckTx 1,000 txs', value: pooled.checkMs, unit: 'ms', note: 'signatures verified on the pool, cached for FinalizeBlock' },
    { name: 'FinalizeBlock 1,000 txs', value: pooled.finalizeMs, unit: 'ms' },
    { name: 'Commit 1,000-tx block', value: pooled.commitMs, unit: 'ms', note: 'one atomic LevelDB batch, fsync on' },
    { name: 'Finalize+Commit 1,000 txs', value: pooled.finalizeMs + pooled.commitMs, unit: 'ms', target: '<= 100 ms' },
  ];
  printTable('Transactions: signed MsgSend through the ABCI pipeline (real app, LevelDB)', rows);
}
