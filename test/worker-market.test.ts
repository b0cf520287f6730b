/**
 * Two prover workers (in-process, real snarkjs proofs in worker_threads) at different measured prices on the embedded
 * devnet with fast blocks: 20 requests are all fulfilled; the cheaper worker is given work up to its capacity and the
 * other one only what the cheaper could not hold at that block.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startDevnet } from '../app/devnet/index.js';
import { ProofbookClient, RequestStatus, type Request } from '../src/client/proofbook.js';
import { ProverWorker } from '../src/worker/worker.js';
import { CIRCUIT, fulfilled, submitRequests, testConfig, waitAll, wallet } from '../src/worker/testing.js';

const CAPACITY = 2;

/** Assignments of `prover` held at the end of block h (assigned at ≤ h, not yet settled at h). */
function heldAt(reqs: Request[], prover: string, h: bigint): number {
  let n = 0;
  for (const r of reqs) {
    const ev = r.history;
    for (let i = 0; i < ev.length; i++) {
      const e = ev[i]!;
      if (e.event !== 'assigned' || e.prover !== prover || e.height > h) continue;
      const end = ev.slice(i + 1).find((x) => x.event !== 'assigned');
      if (!end || end.height > h) n++;
    }
  }
  return n;
}

test('two workers at different prices fulfil 20 requests; the cheaper one is filled to capacity first', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'worker-market-'));
  const logger = pino({ level: 'warn' });
  const devnet = await startDevnet({ home: join(home, 'node'), blockTimeMs: 300, rpcAddress: '127.0.0.1:0', logger });
  const workers: ProverWorker[] = [];
  let requester: ProofbookClient | undefined;
  try {
    await devnet.waitForHeight(2);
    // Same hardware, different cost of running it: 10x apart.
    // Collateral: every request reserves 2x its fee (docs/matching.md), so bond enough for CAPACITY of them.
    const [cheap, dear] = await Promise.all([
      ProverWorker.start({
        home: join(home, 'cheap'), nodeUrl: devnet.rpcUrl, signer: await wallet(1), logger,
        config: testConfig({ capacity: CAPACITY, bond: '1000000000', pricing: { calibrationProofs: 1, costPerHourUproof: 3_600_000 } }),
      }),
      ProverWorker.start({
        home: join(home, 'dear'), nodeUrl: devnet.rpcUrl, signer: await wallet(2), logger,
        config: testConfig({ capacity: CAPACITY, bond: '1000000000', pricing: { calibrationProofs: 1, costPerHourUproof: 36_000_000 } }),
      }),
    ]);
    workers.push(cheap, dear);
    const pc = BigInt(cheap.status().calibrations[0]!.price);
    const pd = BigInt(dear.status().calibrations[0]!.price);
    t.true(pc < pd, `cheap ${pc} < dear ${pd}`);
    t.true(pc > 0n);

    requester = await ProofbookClient.connect(devnet.rpcUrl, await wallet(0), { pollIntervalMs: 100 });
    // Wait for both asks before any request exists, so "cheap first" is decided by the auction alone.
    for (;;) {
      const mine = (await requester.asks({ circuitId: CIRCUIT })).asks.filter((a) => a.prover === cheap.address || a.prover === dear.address);
      if (mine.length === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const ids = await submitRequests(requester, 20, { maxFee: pd * 2n, window: 150n, lifetime: 3000n, seed: 1 });
    t.is(ids.length, 20);
    // 20 proofs on two 1-thread workers: ~1.5 min on an idle 2-core machine; 18 of 20 were done at 240 s once under a
    // load average of 15, so the wait is generous (each request's own window still bounds how late a proof may be)
    const done = await waitAll(requester, ids, fulfilled, 420_000);

    const by = (p: string) => done.filter((r) => r.history.some((e) => e.event === 'fulfilled' && e.prover === p));
    const nc = by(cheap.address).length;
    const nd = by(dear.address).length;
    t.is(nc + nd, 20, 'every request fulfilled by one of the two workers');
    t.true(nc > 0 && nd > 0, `cheap ${nc}, dear ${nd}`);
    // Not asserted: "cheap did at least as much work". How many proofs each does depends on how fast each proves
    // (a slower cheap worker holds its capacity longer; cheap 9, dear 11 under a load average of 12). The rule itself
    // is the check below: the dear worker is given work only while the cheap one is full.
    // Whenever the dear worker was given work, the cheap one was at its capacity in that block.
    for (const r of done) {
      for (const e of r.history) {
        if (e.event === 'assigned' && e.prover === dear.address) t.is(heldAt(done, cheap.address, e.height), CAPACITY, `request ${r.id} at height ${e.height}`);
      }
    }
    // No missed deadlines, no releases.
    t.false(done.some((r) => r.history.some((e) => e.event === 'slashed' || e.event === 'released')));
    // Each worker's job DB agrees with the chain, and the earnings are the prices paid.
    for (const [w, n] of [[cheap, nc], [dear, nd]] as const) {
      // The last submit calls may still be waiting to see their tx in a block.
      let jobs = (await w.allJobs()).filter((j) => j.state === 'fulfilled');
      for (let i = 0; i < 100 && jobs.length < n; i++) {
        await new Promise((r) => setTimeout(r, 100));
        jobs = (await w.allJobs()).filter((j) => j.state === 'fulfilled');
      }
      t.is(jobs.length, n);
      t.is(w.activeJobs().length, 0);
      const earned = jobs.reduce((s, j) => s + BigInt(j.price), 0n);
      t.is(w.status().earnings, earned.toString());
      t.regex(await w.metrics.registry.metrics(), /proofbook_worker_proving_seconds_count\{[^}]*\} [1-9]/);
    }
    t.true(done.every((r) => r.status === RequestStatus.REQUEST_STATUS_FULFILLED));
  } finally {
    for (const w of workers) await w.stop();
    requester?.disconnect();
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  }
});
