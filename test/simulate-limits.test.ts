/**
 * Issue 10 item 6: Simulate — which anyone can call over ABCI query, gRPC and REST — cannot hold the consensus queue
 * unbounded (app/simulate-limit.ts: gas cap, thread-time token bucket, gateway concurrency cap) and never computes a
 * pairing (proofs and verifying keys are left to the block, where they are paid for).
 */
import test from 'ava';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { SimulateRequest, SimulateResponse } from 'cosmjs-types/cosmos/tx/v1beta1/service';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { MsgRegisterCircuit, ProofSystem } from '../src/gen/proofbook/verifier/v1/verifier.js';
import { MsgSubmitRequest } from '../src/gen/proofbook/market/v1/market.js';
import { encodeVerifyingKey } from '../src/zk/groth16.js';
import { loadGenesisVerifyingKey } from '../src/zk/genesis.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { pairingStats } from '../src/zk/verifier.js';
import { createDispatcher, MAX_CONCURRENT_SIMULATIONS } from '../app/grpc/server.js';
import type { VerifierKeeperImpl } from '../modules/verifier/keeper.js';
import type { RawKey } from '../src/client/sign.js';
import type { TestChain } from './helpers/chain.js';
import { CIRCUIT, SIGNALS, setup } from './helpers/market.js';

test.after.always(() => terminateSnarkjs());

const SIMULATE = '/cosmos.tx.v1beta1.Service/Simulate';

/** An unsigned tx (empty signature: Simulate accepts it) with three MsgSubmitRequest of 64 KiB inline input each. */
async function heavyTx(chain: TestChain, k: RawKey): Promise<Uint8Array> {
  const big = Buffer.alloc(65_536, 0x61);
  const msg = () => ({
    typeUrl: '/proofbook.market.v1.MsgSubmitRequest',
    value: MsgSubmitRequest.encode(MsgSubmitRequest.fromPartial({
      requester: k.address, circuitId: CIRCUIT, inputInline: big, expectedPublicSignals: SIGNALS[0], minFee: '1000', maxFee: '1000',
      provingWindow: 500n, expiryHeight: chain.app.height + 1000n, minCollateral: '0',
    })).finish(),
  });
  const tx = TxRaw.decode(await chain.sign(k, { msgs: [msg(), msg(), msg()], fee: [], gasLimit: 0n }));
  tx.signatures = [new Uint8Array()];
  return TxRaw.encode(tx).finish();
}

const simulate = (chain: TestChain, txBytes: Uint8Array) => chain.app.query({ path: SIMULATE, data: SimulateRequest.encode({ txBytes }).finish(), height: 0n, prove: false });

test.serial('a flood of Simulate calls queued ahead of a block delays its FinalizeBlock by at most the limiter budget', async (t) => {
  const { chain, requester } = await setup();
  t.teardown(() => chain.close());
  const tx = await heavyTx(chain, requester);
  // One simulation's time (and that it works at all).
  let single = 0;
  for (let i = 0; i < 3; i++) {
    // On a loaded machine one simulation can outlast the burst and leave the bucket in debt; the refusal says
    // "retry shortly", and a retry after the refill is answered (what a client does).
    for (let tries = 0; ; tries++) {
      const t0 = performance.now();
      const r = await simulate(chain, tx);
      if (r.code !== 0 && /rate limited/.test(r.log) && tries < 40) {
        await new Promise((res) => setTimeout(res, 500));
        continue;
      }
      single = Math.max(single, performance.now() - t0);
      t.is(r.code, 0, r.log);
      break;
    }
  }
  // Enough calls that running them all would hold the queue for ≥ 3 s.
  const n = Math.max(100, Math.ceil(3000 / single));
  const lim = chain.app.simulateLimiter;
  const s0 = { ...lim.stats };
  const q = chain.app.queue;
  const floodStart = performance.now();
  const flood = Array.from({ length: n }, () => q.run(() => simulate(chain, tx)));
  let blockStarted = 0;
  const block = q.run(async () => {
    blockStarted = performance.now();
    const t0 = performance.now();
    const b = await chain.block([]);
    return { b, ms: performance.now() - t0 };
  });
  const results = await Promise.all(flood);
  const { b } = await block;
  t.truthy(b.appHash);
  const delay = blockStarted - floodStart;
  const admitted = lim.stats.admitted - s0.admitted;
  const refused = lim.stats.refused - s0.refused;
  const spent = lim.stats.spentMs - s0.spentMs;
  t.is(admitted + refused, n);
  t.true(refused > 0, 'the flood was refused once its budget was used');
  for (const r of results) if (r.code !== 0) t.regex(r.log, /ResourceExhausted.*rate limited/);
  // The simulations that ran took at most the bucket: burst + refill over the elapsed time + one simulation.
  const allowed = lim.burstMs + (lim.refillMsPerSecond * delay) / 1000 + single * 2;
  t.true(spent <= allowed, `simulations ran ${spent.toFixed(0)} ms, the budget allows ${allowed.toFixed(0)} ms`);
  // And the block waited far less than the flood would have taken unbounded (n × one simulation ≥ 3 s).
  t.true(delay < (n * single) / 2, `FinalizeBlock waited ${delay.toFixed(0)} ms behind ${n} simulations of ${single.toFixed(1)} ms`);
  t.log(`${n} simulations of ≤ ${single.toFixed(1)} ms queued: ${admitted} ran (${spent.toFixed(0)} ms), ${refused} refused; the block waited ${delay.toFixed(0)} ms`);
});

test.serial('Simulate and CheckTx of a circuit registration compute no pairing; the block prepares the key', async (t) => {
  const { chain, requester } = await setup();
  t.teardown(() => chain.close());
  const vk = loadGenesisVerifyingKey();
  const msg = MsgRegisterCircuit.fromPartial({
    creator: requester.address, name: 'variant', proofSystem: ProofSystem.PROOF_SYSTEM_GROTH16_BN254,
    verifyingKey: Buffer.from(encodeVerifyingKey({ ...vk, ic: [vk.ic[2], vk.ic[0], vk.ic[1]] })), constraints: 4741n,
    wasm: { sha256: 'aa'.repeat(32), uri: 'https://artifacts.example/v.wasm', size: 100n },
    provingKey: { sha256: 'bb'.repeat(32), uri: 'https://artifacts.example/v.zkey', size: 200n },
  });
  const unsigned = { msgs: [{ typeUrl: '/proofbook.verifier.v1.MsgRegisterCircuit', value: MsgRegisterCircuit.encode(msg).finish() }], fee: [{ denom: 'uproof', amount: 2000n }], gasLimit: 1_000_000n };
  const stats = (chain.app.modules.keepers.verifier as VerifierKeeperImpl).stats;
  const k0 = stats.keysPrepared;
  const p0 = pairingStats.singleChecks + pairingStats.combinedChecks;
  const signed = await chain.sign(requester, unsigned);
  const sim = await simulate(chain, signed);
  t.is(sim.code, 0, sim.log);
  t.true(SimulateResponse.decode(sim.value).gasInfo!.gasUsed >= 150_000n, 'the key preparation gas is in the estimate');
  t.is((await chain.checkTx(signed)).code, 0);
  t.is(stats.keysPrepared, k0, 'neither Simulate nor CheckTx prepared the key (no e(alpha, beta), no subgroup checks)');
  t.is(pairingStats.singleChecks + pairingStats.combinedChecks, p0);
  const b = await chain.block([signed]);
  t.is(b.txResults[0].code, 0, b.txResults[0].log);
  t.is(stats.keysPrepared, k0 + 1, 'the block prepared it, paid');
});

test.serial('the gRPC/REST gateway refuses Simulate beyond its concurrency cap with RESOURCE_EXHAUSTED before queueing', async (t) => {
  const { chain, requester } = await setup();
  t.teardown(() => chain.close());
  const tx = await heavyTx(chain, requester);
  // The gateway's QueryFn as the devnet wires it: the app's query through its serialized queue.
  const dispatcher = createDispatcher({
    rpcUrl: 'http://127.0.0.1:1', // not used by Simulate
    query: (path, data, height) => chain.app.queue.run(() => chain.app.query({ path, data, height: height ?? 0n, prove: false })),
  });
  t.teardown(() => dispatcher.close());
  const method = dispatcher.methods.get(SIMULATE)!;
  // Hold the app's queue (as a long block would) while the calls arrive.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const held = chain.app.queue.run(() => gate);
  const calls = Array.from({ length: MAX_CONCURRENT_SIMULATIONS + 6 }, () =>
    method(SimulateRequest.encode({ txBytes: tx }).finish(), {}).then(() => 'ok', (e: { code?: number }) => e.code),
  );
  await new Promise((r) => setImmediate(r));
  release();
  await held;
  const outcomes = await Promise.all(calls);
  t.is(outcomes.filter((o) => o === 'ok').length, MAX_CONCURRENT_SIMULATIONS);
  t.is(outcomes.filter((o) => o === grpc.status.RESOURCE_EXHAUSTED).length, 6);
});
