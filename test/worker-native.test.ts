/**
 * The worker with the native Go prover on the embedded devnet: backend 'native' fulfils requests whose proofs the
 * chain accepts, and backend 'auto' measures every available backend on the circuit, routes it to the fastest and
 * fulfils what the auction gives it.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startDevnet } from '../app/devnet/index.js';
import { ensureNative } from '../bench/circuits.js';
import { ProofbookClient } from '../src/client/proofbook.js';
import { ProverWorker } from '../src/worker/worker.js';
import { CIRCUIT, fulfilled, submitRequests, testConfig, waitAll, wallet } from '../src/worker/testing.js';
import { loadGenesisVerifyingKey } from '../src/zk/genesis.js';
import { proofFromSnarkjs } from '../src/zk/groth16.js';
import { initZk, prepareVerifyingKey, verifyOne } from '../src/zk/verifier.js';

test('backend native fulfils requests on the devnet; backend auto picks the fastest measured backend', async (t) => {
  ensureNative();
  await initZk();
  const vk = prepareVerifyingKey(loadGenesisVerifyingKey());
  const dir = await mkdtemp(join(tmpdir(), 'worker-native-'));
  const logger = pino({ level: 'warn' });
  const devnet = await startDevnet({ home: join(dir, 'node'), blockTimeMs: 300, rpcAddress: '127.0.0.1:0', logger });
  const workers: ProverWorker[] = [];
  let rq: ProofbookClient | undefined;
  try {
    await devnet.waitForHeight(2);
    const native = await ProverWorker.start({
      home: join(dir, 'native'), nodeUrl: devnet.rpcUrl, signer: await wallet(4), logger,
      config: testConfig({ backend: 'native', bond: '1000000000', pricing: { calibrationProofs: 1, fixedPrice: 100 } }),
    });
    workers.push(native);
    t.is(native.status().backend, 'native');
    t.is(native.status().parallelism, 1, 'one job at a time: the native prover uses every core itself');
    // Dearer, so the auction fills the native worker first; it gets what the native worker cannot hold.
    const auto = await ProverWorker.start({
      home: join(dir, 'auto'), nodeUrl: devnet.rpcUrl, signer: await wallet(5), logger,
      config: testConfig({ backend: 'auto', threads: 2, capacity: 1, bond: '1000000000', pricing: { calibrationProofs: 1, fixedPrice: 1000 } }),
    });
    workers.push(auto);
    const cal = auto.status().calibrations.find((c) => c.circuitId === CIRCUIT)!;
    t.is(cal.backend, 'auto');
    t.deepEqual(cal.candidates!.map((c) => c.backend).sort(), ['native', 'snarkjs', 'snarkjs-mt']);
    const best = cal.candidates!.reduce((a, b) => (b.msPerProof < a.msPerProof ? b : a));
    t.is(cal.choice, best.backend, `chose the lowest machine time per proof: ${JSON.stringify(cal.candidates)}`);
    t.is(cal.msPerProof, best.msPerProof);

    rq = await ProofbookClient.connect(devnet.rpcUrl, await wallet(8), { pollIntervalMs: 100 });
    for (;;) {
      const asks = (await rq.asks({ circuitId: CIRCUIT })).asks;
      if (asks.some((a) => a.prover === native.address) && asks.some((a) => a.prover === auto.address)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const ids = await submitRequests(rq, 3, { maxFee: 2000n, window: 150n, lifetime: 2000n, seed: 14 });
    const done = await waitAll(rq, ids, fulfilled, 180_000);
    const by = (w: ProverWorker) => done.filter((r) => r.history.some((e) => e.event === 'fulfilled' && e.prover === w.address)).length;
    t.true(by(native) >= 1, 'the native worker fulfilled work');
    t.is(by(native) + by(auto), 3);
    for (const r of done) {
      const { proof } = await rq.waitForProof(r.id, { timeoutMs: 10_000 });
      t.true(verifyOne(vk, proofFromSnarkjs(proof), r.publicSignals.map(BigInt)));
    }
    t.false(done.some((r) => r.history.some((e) => e.event === 'slashed' || e.event === 'released')));
    t.regex(await native.metrics.registry.metrics(), /proofbook_worker_proving_seconds_count\{[^}]*backend="native"[^}]*\} [1-9]/);
  } finally {
    for (const w of workers) await w.stop();
    rq?.disconnect();
    await devnet.close();
    await rm(dir, { recursive: true, force: true });
  }
});
