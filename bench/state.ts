/**
 * `npm run bench -- state --direct ...` is the store-level scale run (1,000,000 requests' writes): bench/state-direct.ts.
 * `npm run bench -- state [--requests N] [--accounts A] [--retention B] [--history H] [--no-baseline] [--mixed]
 * [--runtime-defaults]`: a chain that
 * has processed N proof requests, with A funded accounts, through the real app on LevelDB.
 *
 * Each request is a signed MsgSubmitRequest in one block and a signed MsgCancelRequest (full refund) in the next:
 * 1,000 requesters, so every block is a 1,000-tx market block and every 2 blocks settle 1,000 requests (the
 * submit-then-cancel bloat pattern of issue 13; proving every request would make the run hours long). The market's
 * settled_retention_blocks is B (default 50), the store keeps H recent heights (default 100). With --mixed each
 * requester's tx instead cancels its previous request and submits the next (two messages), so every block is a
 * 1,000-tx market block that submits and settles 1,000 requests: half the blocks for the same number of requests.
 * The process runs with the node's memory settings (app/node-memory.ts) unless --runtime-defaults.
 *
 * Measured, in one process:
 *   - node memory after processing (RSS, and V8 heap after a full GC), state entries, value-cache bytes, disk use;
 *     the same request stream with settled_retention_blocks = 0 (requests kept for good) is the baseline
 *     (--no-baseline skips it);
 *   - FinalizeBlock+Commit of a 1,000-tx submit block after 10,000 requests and after N;
 *   - restart to serving: close, ProofbookApp.open, first balance query answered;
 *   - disk use of data/state sampled after every block: spread (max-min)/mean over the last half of the run;
 *   - state sync, app side: snapshot export (chunks written) and restore into an empty app (offer + apply chunks,
 *     root checked), in-process (no CometBFT/p2p; the localnet test covers that path).
 * Targets from issue 13: 1,000,000 requests / 100,000 accounts: RSS <= 500 MB, restart <= 3 s, the 1,000-tx block
 * within +-15 % of the same block at 10,000 requests. The defaults are far smaller (the machine is shared):
 * the table says exactly what ran.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { QueryBalanceRequest } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { ProofbookApp } from '../app/app.js';
import { SnapshotManager } from '../app/snapshots.js';
import { defaultGenesis } from '../genesis/index.js';
import { rawKeyFromPrivkey, signTx, type RawKey } from '../src/client/sign.js';
import { MsgCancelRequest, MsgSubmitRequest } from '../src/gen/proofbook/market/v1/market.js';
import { genesisCircuitId } from '../modules/verifier/index.js';
import { GENESIS_CIRCUIT, genesisInput } from '../src/zk/genesis.js';
import { publicSignalsFromInput } from '../src/zk/witness.js';
import { printTable, type BenchRow } from './table.js';
import { nodeMemoryForBench } from './node-memory.js';
import { addressFromBytes } from '../src/crypto/address.js';

const BLOCK_TXS = 1000;
const silent = pino({ level: 'silent' });

function arg(flags: string[], name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : flags.find((f) => f.startsWith(`--${name}=`))?.split('=')[1];
  return v === undefined ? def : Number(v);
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    try {
      n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // LevelDB compaction removed it meanwhile
    }
  }
  return n;
}

const keys = (n: number): RawKey[] => Array.from({ length: n }, (_, i) => rawKeyFromPrivkey(createHash('sha256').update(`state-bench-${i}`).digest()));
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

interface ChainRun {
  rss: number; heap: number; entries: number; cacheBytes: number; disk: number; diskSpread: number; diskMin: number; diskMax: number;
  blockAt10k?: number; blockAtEnd: number; cpuAt10k?: number; cpuAtEnd: number; peakRss: number; restartMs: number; snapshotMs?: number; restoreMs?: number; snapshotChunks?: number; snapshotBytes?: number; height: bigint;
}

async function runChain(requests: number, accounts: number, retention: number, history: number, withSync: boolean, mixed: boolean): Promise<ChainRun> {
  const dir = mkdtempSync(join(tmpdir(), 'proofbook-state-bench-'));
  try {
    const chainId = `state-bench-${retention}`;
    let app = await ProofbookApp.open({ home: dir, logger: silent, store: { historyBlocks: history, sync: true } });
    const senders = keys(BLOCK_TXS);
    const holders = accounts - senders.length;
    const genesis = defaultGenesis() as ReturnType<typeof defaultGenesis> & { market: { params: Record<string, string> } };
    genesis.market.params.settled_retention_blocks = String(retention);
    const bank = genesis.bank as { balances: { address: string; coins: { denom: string; amount: string }[] }[] };
    const extra = senders.map((k) => ({ address: k.address, coins: [{ denom: 'uproof', amount: '1000000000000' }] }));
    // passive holders: addresses derived cheaply (no key needed), one balance each
    for (let i = 0; i < holders; i++) {
      extra.push({ address: addressFromBytes(createHash('sha256').update(`holder-${i}`).digest().subarray(0, 20)), coins: [{ denom: 'uproof', amount: '1000' }] });
    }
    bank.balances = [...bank.balances, ...extra];
    let time = 1_700_000_000n;
    await app.initChain({ time: { seconds: time, nanos: 0 }, chainId, validators: [], appStateBytes: new TextEncoder().encode(JSON.stringify(genesis)), initialHeight: 1n,
      // 1,000-tx blocks of ~250,000 gas each: above the default block gas limit (app/tx/block-gas.ts), which bounds
      // adversarial blocks; this bench measures state growth, so it sets genesis block.max_gas as an operator can.
      consensusParams: { block: { maxBytes: 22_020_096n, maxGas: 1_000_000_000_000n } } as never });
    const accountNumber = (i: number) => BigInt(10 + i);
    const circuitId = genesisCircuitId();
    const input = genesisInput(4242n, 7n);
    const signals = (await publicSignalsFromInput(GENESIS_CIRCUIT.wasmPath, input, GENESIS_CIRCUIT.nPublic)).map(String);
    const inputBytes = Buffer.from(JSON.stringify(input));
    const seq = new Array<bigint>(senders.length).fill(0n);
    let nextId = 1n;
    const diskSamples: number[] = [];

    const blockCpu: number[] = [];
    let peakRss = 0;
    const block = async (txs: Uint8Array[]): Promise<number> => {
      const height = app.height + 1n;
      time += 1n;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const r = await app.finalizeBlock({ txs, decidedLastCommit: undefined as never, misbehavior: [], hash: new Uint8Array(32), height, time: { seconds: time, nanos: 0 }, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20) });
      await app.commit();
      const t = ms(t0);
      const c = process.cpuUsage(c0);
      blockCpu.push((c.user + c.system) / 1000); // all threads: the signature-verify workers included
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      const bad = r.txResults.findIndex((x) => x.code !== 0);
      if (bad >= 0) throw new Error(`tx ${bad} failed at height ${height}: ${r.txResults[bad]!.log}`);
      diskSamples.push(dirBytes(join(dir, 'data', 'state')));
      return t;
    };
    const submitMsg = (k: RawKey) => ({ typeUrl: '/proofbook.market.v1.MsgSubmitRequest', value: MsgSubmitRequest.encode(MsgSubmitRequest.fromPartial({
      requester: k.address, circuitId, inputInline: inputBytes, expectedPublicSignals: signals, minFee: '2000', maxFee: '2000',
      provingWindow: 10n, expiryHeight: app.height + 1000n, minCollateral: '0',
    })).finish() });
    const cancelMsg = (k: RawKey, id: bigint) => ({ typeUrl: '/proofbook.market.v1.MsgCancelRequest', value: MsgCancelRequest.encode({ requester: k.address, requestId: id }).finish() });
    const submitBlock = () => senders.map((k, i) => signTx(k, {
      msgs: [submitMsg(k)],
      fee: [{ denom: 'uproof', amount: 3000n }], gasLimit: 3_000_000n,
    }, { chainId, accountNumber: accountNumber(i), sequence: seq[i]!++ }));
    // --mixed: each requester's tx cancels its previous request and submits the next (one block per 1,000 requests)
    const mixedBlock = (previous: bigint) => senders.map((k, i) => signTx(k, {
      msgs: [cancelMsg(k, previous + BigInt(i)), submitMsg(k)],
      fee: [{ denom: 'uproof', amount: 6000n }], gasLimit: 6_000_000n,
    }, { chainId, accountNumber: accountNumber(i), sequence: seq[i]!++ }));
    const cancelBlock = (first: bigint) => senders.map((k, i) => signTx(k, {
      msgs: [{ typeUrl: '/proofbook.market.v1.MsgCancelRequest', value: MsgCancelRequest.encode({ requester: k.address, requestId: first + BigInt(i) }).finish() }],
      fee: [{ denom: 'uproof', amount: 3000n }], gasLimit: 3_000_000n,
    }, { chainId, accountNumber: accountNumber(i), sequence: seq[i]!++ }));

    // submit-block times: the median of the 5 submit blocks ending at 10,000 requests, and of the last 5
    const submitTimes: number[] = [];
    let blockAt10k: number | undefined;
    const median5 = (xs: number[]) => { const w = xs.slice(-5).sort((a, b) => a - b); return w[w.length >> 1]!; };
    const submitCpu: number[] = [];
    let cpuAt10k: number | undefined;
    const t0run = process.hrtime.bigint();
    for (let done = 0; done < requests; done += senders.length) {
      const first = nextId;
      submitTimes.push(await block(mixed && done > 0 ? mixedBlock(first - BigInt(senders.length)) : submitBlock()));
      submitCpu.push(blockCpu.at(-1)!);
      nextId += BigInt(senders.length);
      if (done + senders.length === 10_000) { blockAt10k = median5(submitTimes); cpuAt10k = median5(submitCpu); }
      if (!mixed || done + senders.length >= requests) await block(cancelBlock(first));
      if ((done / senders.length) % 20 === 19) {
        process.stderr.write(`  [state bench, retention ${retention}] ${done + senders.length} requests, height ${app.height}, ${Math.round(ms(t0run) / 1000)} s; ` +
          `last 5 market blocks: ${Math.round(median5(submitTimes))} ms wall, ${Math.round(median5(submitCpu))} ms CPU; RSS ${Math.round(process.memoryUsage.rss() / 1e6)} MB, ${app.store.size} entries\n`);
      }
    }
    gc();
    const mem = process.memoryUsage();
    const half = diskSamples.slice(diskSamples.length >> 1);
    const mean = half.reduce((a, b) => a + b, 0) / half.length;
    const blockAtEnd = median5(submitTimes);
    const out: ChainRun = {
      rss: mem.rss, heap: mem.heapUsed, entries: app.store.size, cacheBytes: app.store.cache.bytes, disk: diskSamples.at(-1)!,
      diskMin: Math.min(...half), diskMax: Math.max(...half), diskSpread: (Math.max(...half) - Math.min(...half)) / mean,
      blockAt10k, blockAtEnd, cpuAt10k, cpuAtEnd: median5(submitCpu), peakRss, restartMs: 0, height: app.height,
    };
    if (withSync) {
      const snapDir = join(dir, 'bench-snapshots');
      const mgr = new SnapshotManager(app.store, snapDir, { interval: 1, keepRecent: 1 }, silent);
      const t0 = process.hrtime.bigint();
      mgr.afterCommit(app.height);
      await mgr.idle();
      out.snapshotMs = ms(t0);
      const [snap] = mgr.list();
      out.snapshotChunks = snap!.chunks;
      out.snapshotBytes = dirBytes(snapDir);
      const emptyDir = mkdtempSync(join(tmpdir(), 'proofbook-state-bench-restore-'));
      try {
        const fresh = await ProofbookApp.open({ home: emptyDir, logger: silent });
        const t1 = process.hrtime.bigint();
        const offered = await fresh.offerSnapshot({ snapshot: snap!, appHash: app.store.appHash });
        if (offered.result !== 1) throw new Error(`snapshot offer refused: ${offered.result}`);
        for (let i = 0; i < snap!.chunks; i++) {
          const r = await fresh.applySnapshotChunk({ index: i, chunk: mgr.loadChunk({ height: snap!.height, format: snap!.format, chunk: i }), sender: '' });
          if (r.result !== 1) throw new Error(`chunk ${i}: ${r.result}`);
        }
        out.restoreMs = ms(t1);
        if (fresh.height !== app.height) throw new Error('restore did not reach the snapshot height');
        await fresh.close();
      } finally {
        rmSync(emptyDir, { recursive: true, force: true });
      }
    }
    // restart to serving
    await app.close();
    const t0 = process.hrtime.bigint();
    app = await ProofbookApp.open({ home: dir, logger: silent, store: { historyBlocks: history } });
    const q = await app.query({ path: '/cosmos.bank.v1beta1.Query/Balance', data: QueryBalanceRequest.encode({ address: senders[0]!.address, denom: 'uproof' }).finish(), height: 0n, prove: false });
    out.restartMs = ms(t0);
    if (q.code !== 0) throw new Error(`query after restart failed: ${q.log}`);
    await app.close();
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(flags: string[]): Promise<void> {
  if (flags.includes('--direct')) return (await import('./state-direct.js')).runDirect(flags); // store-level scale run
  const requests = arg(flags, 'requests', 20_000);
  const accounts = arg(flags, 'accounts', 20_000);
  const retention = arg(flags, 'retention', 50);
  const history = arg(flags, 'history', 100);
  const baseline = !process.argv.includes('--no-baseline');
  const mixed = flags.includes('--mixed') || process.argv.includes('--mixed');
  // The node's memory settings (app/node-memory.ts), as in bench/state-direct.ts; --runtime-defaults for V8's/glibc's.
  const memory = nodeMemoryForBench(flags.includes('--runtime-defaults') || process.argv.includes('--runtime-defaults'), 'state');
  if (memory.rerun) return;
  const memorySetting = memory.setting;
  const MB = (b: number) => Math.round(b / 1e5) / 10;
  const r = await runChain(requests, accounts, retention, history, true, mixed);
  const b = baseline ? await runChain(requests, accounts, 0, history, false, mixed) : undefined;
  const what = `${requests.toLocaleString('en-US')} requests (${mixed ? 'each tx cancels its previous request and submits the next' : 'submit + cancel'}, 1,000-tx blocks), ${accounts.toLocaleString('en-US')} accounts, retention ${retention} blocks, history ${history} heights, ${r.height} blocks`;
  const rows: BenchRow[] = [
    { name: 'process RSS after processing (retention on)', value: MB(r.rss), unit: 'MB', target: '<= 500 MB at 1M requests / 100k accounts', note: `${what}; the bench process also signs every tx and runs the verify workers; memory settings: ${memorySetting}` },
    { name: 'process RSS, peak over every block (retention on)', value: MB(r.peakRss), unit: 'MB', note: 'sampled after each FinalizeBlock+Commit' },
    { name: 'V8 heap after GC (retention on)', value: MB(r.heap), unit: 'MB', note: `state entries ${r.entries.toLocaleString('en-US')}; value cache ${MB(r.cacheBytes)} MB` },
    ...(b ? [
      { name: 'V8 heap after GC (retention 0: settled requests kept, baseline)', value: MB(b.heap), unit: 'MB', note: `state entries ${b.entries.toLocaleString('en-US')}; RSS ${MB(b.rss)} MB (same process, after the first chain)` },
    ] : []),
    { name: 'restart to serving (open + first query)', value: Math.round(r.restartMs), unit: 'ms', target: '<= 3 s', note: `${r.entries.toLocaleString('en-US')} state entries` },
    ...(b ? [{ name: 'restart to serving, retention 0 (baseline)', value: Math.round(b.restartMs), unit: 'ms', note: `${b.entries.toLocaleString('en-US')} state entries` }] : []),
    ...(r.blockAt10k !== undefined ? [{ name: `FinalizeBlock+Commit, 1,000-tx ${mixed ? 'cancel+submit' : 'submit'} block at 10,000 requests (median of 5)`, value: Math.round(r.blockAt10k), unit: 'ms' }] : []),
    { name: `FinalizeBlock+Commit, 1,000-tx ${mixed ? 'cancel+submit' : 'submit'} block at ${requests.toLocaleString('en-US')} requests (median of the last 5)`, value: Math.round(r.blockAtEnd), unit: 'ms', target: '+-15 % of the block at 10,000',
      note: r.blockAt10k !== undefined ? `ratio ${(r.blockAtEnd / r.blockAt10k).toFixed(2)}` : 'run >= 10,000 requests for the ratio' },
    ...(r.cpuAt10k !== undefined ? [{ name: 'the same block at 10,000 requests, CPU (all threads, median of 5)', value: Math.round(r.cpuAt10k), unit: 'ms' }] : []),
    { name: `the same block at ${requests.toLocaleString('en-US')} requests, CPU (all threads, median of the last 5)`, value: Math.round(r.cpuAtEnd), unit: 'ms', target: '+-15 %',
      note: r.cpuAt10k !== undefined ? `ratio ${(r.cpuAtEnd / r.cpuAt10k).toFixed(2)} (CPU time is steadier than wall time on a shared machine)` : '' },
    { name: 'disk use of data/state at the end', value: MB(r.disk), unit: 'MB', note: b ? `retention 0: ${MB(b.disk)} MB` : '' },
    { name: 'disk use spread over the last half of the blocks', value: Math.round(r.diskSpread * 1000) / 10, unit: '%', target: 'flat (+-10 %)', note: `min ${MB(r.diskMin)} MB, max ${MB(r.diskMax)} MB${b ? `; retention 0: ${Math.round(b.diskSpread * 1000) / 10} %, ${MB(b.diskMin)}-${MB(b.diskMax)} MB` : ''}` },
    { name: 'state sync: snapshot written (app side)', value: Math.round(r.snapshotMs!), unit: 'ms', note: `${r.snapshotChunks} chunk(s), ${MB(r.snapshotBytes!)} MB` },
    { name: 'state sync: snapshot restored into an empty app (app side)', value: Math.round(r.restoreMs!), unit: 'ms', note: 'offer + apply chunks + root check + commit; CometBFT p2p/light client not included' },
  ];
  printTable('State: bounded memory, retention, restart, state sync (real app, LevelDB)', rows);
}
