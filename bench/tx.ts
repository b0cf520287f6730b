/**
 * `npm run bench -- tx`: signed MsgSend throughput through the real app on LevelDB, driven like CometBFT:
 * CheckTx (NEW) for every tx, then PrepareProposal -> ProcessProposal -> FinalizeBlock -> Commit per 1,000-tx block.
 * Baseline in the same process: the identical run with the pure-JS @noble/curves verifier instead of libsecp256k1.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { CheckTxType } from 'cosmjs-types/tendermint/abci/types';
import { ProofbookApp } from '../app/app.js';
import { defaultGenesis } from '../genesis/index.js';
import { rawKeyFromPrivkey, signTx, type RawKey } from '../src/client/sign.js';
import { verifyNative, verifyNoble, type Secp256k1Verify } from '../src/crypto/secp256k1.js';
import { printTable, type BenchRow } from './table.js';

const CHAIN_ID = 'bench-1';
const BLOCK_TXS = 1000;

function keys(n: number): RawKey[] {
  return Array.from({ length: n }, (_, i) => rawKeyFromPrivkey(createHash('sha256').update(`bench-key-${i}`).digest()));
}

interface RunResult { txPerSec: number; finalizeMs: number; commitMs: number; checkMs: number; blocks: number }

async function run1(verify: Secp256k1Verify, blocks: number, senders: RawKey[]): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'proofbook-bench-'));
  const app = await ProofbookApp.open({ home: dir, logger: pino({ level: 'silent' }), verify });
  const genesis = defaultGenesis();
  const bank = genesis.bank as { balances: { address: string; coins: { denom: string; amount: string }[] }[] };
  bank.balances = [...bank.balances, ...senders.map((k) => ({ address: k.address, coins: [{ denom: 'uproof', amount: '1000000000' }] }))];
  await app.initChain({ time: { seconds: 1_700_000_000n, nanos: 0 }, chainId: CHAIN_ID, validators: [], appStateBytes: new TextEncoder().encode(JSON.stringify(genesis)), initialHeight: 1n, consensusParams: undefined });
  // Account numbers: genesis accounts are numbered in genesis order (10 devnet accounts first).
  const accountNumber = (i: number) => BigInt(10 + i);
  const msgFor = (from: RawKey, to: RawKey) => ({ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from.address, toAddress: to.address, amount: [{ denom: 'uproof', amount: '1' }] }).finish() });

  // Pre-sign every tx (signing is the client's cost, not the chain's).
  const txBlocks: Uint8Array[][] = [];
  for (let b = 0; b < blocks; b++) {
    txBlocks.push(senders.map((k, i) => signTx(k, { msgs: [msgFor(k, senders[(i + 1) % senders.length])], fee: [{ denom: 'uproof', amount: 200n }], gasLimit: 200_000n }, { chainId: CHAIN_ID, accountNumber: accountNumber(i), sequence: BigInt(b) })));
  }
  let finalizeMs = 0, commitMs = 0, checkMs = 0;
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < blocks; b++) {
    const txs = txBlocks[b];
    const c0 = process.hrtime.bigint();
    for (const tx of txs) {
      const r = await app.checkTx({ tx, type: CheckTxType.NEW });
      if (r.code !== 0) throw new Error(`CheckTx failed: ${r.log}`);
    }
    checkMs += Number(process.hrtime.bigint() - c0) / 1e6;
    const height = BigInt(b + 1);
    const time = { seconds: 1_700_000_000n + height, nanos: 0 };
    const common = { misbehavior: [], height, time, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20) };
    const prepared = await app.prepareProposal({ ...common, maxTxBytes: 22_020_096n, txs, localLastCommit: undefined as any });
    await app.processProposal({ ...common, txs: prepared.txs, proposedLastCommit: undefined as any, hash: new Uint8Array(32) });
    const f0 = process.hrtime.bigint();
    const res = await app.finalizeBlock({ ...common, txs: prepared.txs, decidedLastCommit: undefined as any, hash: new Uint8Array(32) });
    const f1 = process.hrtime.bigint();
    await app.commit();
    const f2 = process.hrtime.bigint();
    if (res.txResults.some((r) => r.code !== 0)) throw new Error('a tx failed in FinalizeBlock');
    finalizeMs += Number(f1 - f0) / 1e6;
    commitMs += Number(f2 - f1) / 1e6;
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  return { txPerSec: (blocks * senders.length) / (totalMs / 1000), finalizeMs: finalizeMs / blocks, commitMs: commitMs / blocks, checkMs: checkMs / blocks, blocks };
}

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const senders = keys(BLOCK_TXS);
  const native = await run1(verifyNative, quick ? 3 : 10, senders);
  const noble = flags.includes('--no-baseline') ? native : await run1(verifyNoble, quick ? 1 : 2, senders);
  const rows: BenchRow[] = [
    { name: 'pipeline tx/s (libsecp256k1)', value: native.txPerSec, unit: 'tx/s', target: '>= 5,000', note: `${native.blocks} blocks x ${BLOCK_TXS} MsgSend: CheckTx+Prepare+Process+Finalize+Commit` },
    { name: 'pipeline tx/s (@noble baseline)', value: noble.txPerSec, unit: 'tx/s', baseline: 'pipeline tx/s (libsecp256k1)', note: `${noble.blocks} blocks` },
    { name: 'native vs noble', value: native.txPerSec / noble.txPerSec, unit: 'x', note: 'speed-up from the native verifier' },
    { name: 'CheckTx 1,000 txs', value: native.checkMs, unit: 'ms', note: 'signature verified here, cached for FinalizeBlock' },
    { name: 'FinalizeBlock 1,000 txs', value: native.finalizeMs, unit: 'ms' },
    { name: 'Commit 1,000-tx block', value: native.commitMs, unit: 'ms', note: 'one atomic LevelDB batch' },
    { name: 'Finalize+Commit 1,000 txs', value: native.finalizeMs + native.commitMs, unit: 'ms', target: '<= 100 ms' },
  ];
  printTable('Transactions: signed MsgSend through the ABCI pipeline (real app, LevelDB)', rows);
}
