/**
 * Issue 10 item 6 on the devnet: a flood of Simulate calls — over CometBFT JSON-RPC `abci_query` (the path cosmjs'
 * fee 'auto' uses) and the REST gateway's `POST /cosmos/tx/v1beta1/simulate` — does not stall block production: the
 * app's Simulate budget (app/simulate-limit.ts) and the gateway's concurrency cap refuse what is over them, so blocks
 * keep coming at about the block time. Unbounded, the 60 callers below would hold each block behind ~60 queued
 * simulations of a 100-message tx. SIMFLOOD_UNLIMITED=1 runs the same flood with an unlimited budget, as a baseline:
 * measured 16:40 UTC on the loaded 2-core machine it fails (3 blocks in 5 s, longest gap 2,215 ms) where the budgeted
 * run passed (7 blocks, longest gap 747 ms; 300 ms blocks).
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { SimulateRequest } from 'cosmjs-types/cosmos/tx/v1beta1/service';
import { QueryAccountRequest, QueryAccountResponse } from 'cosmjs-types/cosmos/auth/v1beta1/query';
import { BaseAccount } from 'cosmjs-types/cosmos/auth/v1beta1/auth';
import { startDevnet } from '../app/devnet/index.js';
import { ProofbookApp } from '../app/app.js';
import { defaultGenesis } from '../genesis/index.js';
import { signTx } from '../src/client/sign.js';
import { MsgSubmitRequest } from '../src/gen/proofbook/market/v1/market.js';
import { devnetKey } from './helpers/chain.js';
import { CIRCUIT, INPUTS, SIGNALS } from './helpers/market.js';

const CHAIN = 'pb-simflood-1';
const BLOCK_MS = 300;

test('devnet: a flood of Simulate calls over JSON-RPC and REST does not stall block production', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'devnet-simflood-'));
  const app = await ProofbookApp.open({ home: join(home, 'app'), logger: pino({ level: 'silent' }), checkInvariants: true, ...(process.env.SIMFLOOD_UNLIMITED ? { simulateLimit: { burstMs: 1e9, refillMsPerSecond: 1e9 } } : {}) });
  const devnet = await startDevnet({ home, app, blockTimeMs: BLOCK_MS, rpcAddress: '127.0.0.1:0', apiAddress: '127.0.0.1:0', appState: defaultGenesis(), chainId: CHAIN, logger: pino({ level: 'silent' }) });
  t.teardown(async () => {
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  });
  const k = await devnetKey(0);
  const r = await app.query({ path: '/cosmos.auth.v1beta1.Query/Account', data: QueryAccountRequest.encode({ address: k.address }).finish(), height: 0n, prove: false });
  t.is(r.code, 0, r.log);
  const acc = BaseAccount.decode(QueryAccountResponse.decode(r.value).account!.value);
  // An unsigned tx that is small to send and costly to simulate: 100 MsgSubmitRequest (the per-account maximum).
  const msg = {
    typeUrl: '/proofbook.market.v1.MsgSubmitRequest',
    value: MsgSubmitRequest.encode(MsgSubmitRequest.fromPartial({
      requester: k.address, circuitId: CIRCUIT, inputInline: Buffer.from(JSON.stringify(INPUTS[0])), expectedPublicSignals: SIGNALS[0], minFee: '1000', maxFee: '1000',
      provingWindow: 500n, expiryHeight: 10_000n, minCollateral: '0',
    })).finish(),
  };
  const raw = TxRaw.decode(await signTx(k, { msgs: Array.from({ length: 100 }, () => msg), fee: [], gasLimit: 0n }, { chainId: CHAIN, accountNumber: acc.accountNumber, sequence: acc.sequence }));
  raw.signatures = [new Uint8Array()];
  const txBytes = TxRaw.encode(raw).finish();
  const simData = Buffer.from(SimulateRequest.encode({ txBytes }).finish()).toString('hex');
  const rpcBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'abci_query', params: { path: '/cosmos.tx.v1beta1.Service/Simulate', data: simData } });
  const restBody = JSON.stringify({ tx_bytes: Buffer.from(txBytes).toString('base64') });

  // The simulation works at all (one call, nothing else running).
  let oneMs = 0;
  for (let i = 0; i < 3; i++) {
    // On a loaded machine one simulation can take longer than the burst, leaving the bucket in debt: a refusal then
    // says "retry shortly", and a retry after the refill succeeds (what a client should do).
    let one: any;
    for (let tries = 0; ; tries++) {
      const t0 = performance.now();
      one = (await (await fetch(devnet.rpcUrl, { method: 'POST', body: rpcBody })).json()) as any;
      oneMs = performance.now() - t0;
      if (!/rate limited/.test(one.result?.response?.log ?? '') || tries >= 40) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    t.is(one.result.response.code, 0, one.result.response.log);
    await new Promise((res) => setTimeout(res, 600)); // let the budget refill
  }

  /** Block heights seen over `ms`, sampled every 20 ms: the longest gap between two new heights. */
  const watch = async (ms: number) => {
    const end = performance.now() + ms;
    let last = devnet.height();
    let lastAt = performance.now();
    let maxGap = 0;
    let blocks = 0;
    while (performance.now() < end) {
      await new Promise((res) => setTimeout(res, 20));
      const h = devnet.height();
      if (h !== last) {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - lastAt);
        blocks += Number(h - last);
        last = h;
        lastAt = now;
      }
    }
    return { maxGap, blocks };
  };

  const calm = await watch(2000);
  const counts = { rpcOk: 0, rpcRefused: 0, restOk: 0, restRefused: 0, other: 0 };
  let flooding = true;
  const client = async (rest: boolean) => {
    while (flooding) {
      try {
        if (rest) {
          const res = await fetch(`${devnet.apiUrl}/cosmos/tx/v1beta1/simulate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: restBody });
          await res.arrayBuffer();
          if (res.status === 200) counts.restOk++;
          else if (res.status === 429) counts.restRefused++;
          else counts.other++;
        } else {
          const res = (await (await fetch(devnet.rpcUrl, { method: 'POST', body: rpcBody })).json()) as any;
          const code = res.result?.response?.code;
          if (code === 0) counts.rpcOk++;
          else if (/rate limited/.test(res.result?.response?.log ?? '')) counts.rpcRefused++;
          else counts.other++;
        }
      } catch {
        counts.other++;
      }
    }
  };
  const clients = [...Array.from({ length: 40 }, () => client(false)), ...Array.from({ length: 20 }, () => client(true))];
  const flood = await watch(5000);
  flooding = false;
  await Promise.all(clients);
  t.log(`one simulation over RPC: ${oneMs.toFixed(1)} ms (${txBytes.length} bytes); calm: ${calm.blocks} blocks, longest gap ${calm.maxGap.toFixed(0)} ms; flood: ${flood.blocks} blocks, longest gap ${flood.maxGap.toFixed(0)} ms; ${JSON.stringify(counts)}`);
  t.true(counts.rpcRefused > 0 && counts.restRefused > 0, 'both paths refused calls over the budget');
  t.true(counts.rpcOk + counts.restOk > 0, 'simulations were still answered');
  // Blocks kept coming: no gap beyond the longest calm gap (at least the block time) plus a bounded wait, and at least
  // a quarter of the calm rate (the flood's HTTP handling shares the devnet's one thread, so some slowdown is
  // expected). The gap bound starts from the calm gap measured just before, so a loaded machine, which stretches both,
  // does not fail it (1,851 ms against a fixed 1,800 once at load average 4-5). The rate bound is what the unlimited
  // baseline fails: re-run 2026-12-06 18:08 UTC it made 3 blocks in 5 s of flood against 7 in 2 s calm (longest gap
  // 1,405 ms, under either gap bound), where the budgeted run made 8 (longest gap 739 ms).
  const gapBound = Math.max(BLOCK_MS, calm.maxGap) + 1500;
  t.true(flood.maxGap < gapBound, `longest gap between blocks during the flood: ${flood.maxGap.toFixed(0)} ms (bound ${gapBound.toFixed(0)} ms)`);
  t.true(flood.blocks * 2000 >= calm.blocks * 5000 * 0.25, `${flood.blocks} blocks in 5 s of flood vs ${calm.blocks} in 2 s calm`);
});
