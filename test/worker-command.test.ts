/**
 * The `command` backend: an external prover with rapidsnark's contract
 * `PROVER <zkey> <witness.wtns> <proof.json> <public.json>` (here a stand-in script calling the snarkjs CLI), the
 * witness computed by the worker. Its proofs pass the chain's verifier and the chain accepts them; a prover that
 * fails is caught at calibration, before the worker takes any work.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { startDevnet } from '../app/devnet/index.js';
import { ProofbookClient, RequestStatus } from '../src/client/proofbook.js';
import { CommandBackend, ProveError } from '../src/worker/backends.js';
import { ProverWorker } from '../src/worker/worker.js';
import { CIRCUIT, fulfilled, submitRequests, testConfig, waitAll, wallet } from '../src/worker/testing.js';
import { GENESIS_CIRCUIT, loadGenesisVerifyingKey } from '../src/zk/genesis.js';
import { initZk, prepareVerifyingKey, verifyOne } from '../src/zk/verifier.js';
import { proofFromSnarkjs, publicSignalsFromSnarkjs } from '../src/zk/groth16.js';

const SNARKJS = fileURLToPath(new URL('../node_modules/.bin/snarkjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function standIn(dir: string, name: string, body: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, `#!/bin/sh\n# rapidsnark contract: prover <zkey> <witness.wtns> <proof.json> <public.json>\n${body}\n`);
  await chmod(p, 0o755);
  return p;
}

test('command backend: stand-in rapidsnark proofs verify, and the chain accepts them from a worker', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'worker-cmd-'));
  const logger = pino({ level: 'warn' });
  const prover = await standIn(dir, 'prover.sh', `exec "${process.execPath}" "${SNARKJS}" groth16 prove "$1" "$2" "$3" "$4" >/dev/null`);
  await initZk();
  const vk = prepareVerifyingKey(loadGenesisVerifyingKey());
  // The backend alone.
  const be = new CommandBackend({ command: prover, tmpDir: join(dir, 'tmp') });
  try {
    const out = await be.prove({ circuitId: CIRCUIT, wasmPath: GENESIS_CIRCUIT.wasmPath, zkeyPath: GENESIS_CIRCUIT.zkeyPath, input: { preimage: '42', nonce: '43' } });
    t.true(verifyOne(vk, proofFromSnarkjs(out.proof), publicSignalsFromSnarkjs(out.publicSignals)));
    t.is(out.publicSignals[1], '43');
    t.true(out.timing.witnessMs > 0 && out.timing.proveMs > 0);
  } finally {
    await be.close();
  }

  const devnet = await startDevnet({ home: join(dir, 'node'), blockTimeMs: 300, rpcAddress: '127.0.0.1:0', logger });
  let w: ProverWorker | undefined;
  let rq: ProofbookClient | undefined;
  try {
    await devnet.waitForHeight(2);
    // A prover that exits non-zero: caught by calibration, the worker never starts taking work.
    const broken = await standIn(dir, 'broken.sh', 'echo "CUDA error: no device" >&2; exit 3');
    await t.throwsAsync(
      ProverWorker.start({ home: join(dir, 'broken'), nodeUrl: devnet.rpcUrl, signer: await wallet(6), logger, config: testConfig({ backend: 'command', command: { path: broken }, pricing: { calibrationProofs: 1, fixedPrice: 100 } }) }),
      { instanceOf: ProveError, message: /exit 3.*CUDA error/s },
    );
        w = await ProverWorker.start({
      home: join(dir, 'w'), nodeUrl: devnet.rpcUrl, signer: await wallet(6), logger,
      config: testConfig({ backend: 'command', command: { path: prover, parallelism: 1 }, capacity: 2, bond: '1000000000', pricing: { calibrationProofs: 1, fixedPrice: 100 } }),
    });
    t.is(w.status().backend, 'command');
    rq = await ProofbookClient.connect(devnet.rpcUrl, await wallet(7), { pollIntervalMs: 100 });
    for (;;) {
      if ((await rq.asks({ prover: w.address })).asks.length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const ids = await submitRequests(rq, 2, { maxFee: 1000n, window: 150n, lifetime: 2000n, seed: 3 });
    const done = await waitAll(rq, ids, fulfilled, 150_000);
    for (const r of done) {
      t.true(r.history.some((e) => e.event === 'fulfilled' && e.prover === w!.address));
      t.true(verifyOne(vk, proofFromSnarkjs((await rq.waitForProof(r.id, { timeoutMs: 10_000 })).proof), r.publicSignals.map(BigInt)));
    }
    t.regex(await w.metrics.registry.metrics(), /proofbook_worker_proving_seconds_count\{[^}]*backend="command"[^}]*\} 2/);

    // A request whose window (2 blocks) is shorter than one measured proof: declined in its accept phase (free; or
    // released at 10 % of the collateral if the accept phase has passed — never a miss). The worker keeps its ask:
    // the request is never assigned to it again (it is excluded), so there is nothing to withdraw the ask for.
    const [short] = await submitRequests(rq, 1, { maxFee: 1000n, window: 2n, lifetime: 2000n, seed: 4 });
    const [rel] = await waitAll(rq, [short!], (r) => r.history.some((e) => (e.event === 'declined' || e.event === 'released') && e.prover === w!.address), 60_000);
    t.false(rel!.history.some((e) => e.event === 'slashed'));
    const liveAsks = async () => { const h = await rq!.height(); return (await rq!.asks({ prover: w!.address })).asks.filter((a) => a.expiryHeight > h); };
    const after = await rq.height();
    for (let i = 0; (await rq.height()) < after + 10n; i++) {
      if (i > 600) throw new Error('no blocks');
      await new Promise((r) => setTimeout(r, 100));
    }
    const still = (await rq.request(short!)).request;
    t.is(still.status, RequestStatus.REQUEST_STATUS_OPEN);
    t.deepEqual(still.excludedProvers, [w.address]);
    t.is(still.history.filter((e) => e.event === 'assigned').length, 1, 'never handed back to the worker');
    t.is((await liveAsks()).length, 1, 'the worker keeps its ask for other requests');
    t.false(w.breakerOpen, 'a timing release is not a failure');

    // `proofbook worker calibrate` on another home: measures with the command backend and stores the price.
    const cfgFile = join(dir, 'cal.json');
    await writeFile(cfgFile, JSON.stringify({ backend: 'command', command: { path: prover }, pricing: { calibrationProofs: 1, costPerHourUproof: 3_600_000, marginBps: 0, parallelEfficiencyPct: 100 } }));
    const cal = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', 'cli/worker.ts', '--home', join(dir, 'cal'), '--node', devnet.rpcUrl, '-o', 'json', 'worker', 'calibrate', '--circuit', CIRCUIT, '--config', cfgFile], { cwd: ROOT });
      let out = '';
      c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      c.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      c.on('exit', (code) => resolve({ code, out }));
    });
    t.is(cal.code, 0, cal.out);
    const calJson = JSON.parse(cal.out) as { calibration: { backend: string; ms_per_proof: number; price: string }; stored: boolean };
    t.is(calJson.calibration.backend, 'command');
    t.true(calJson.stored);
    // 1000 uproof per second of machine time, no margin, full efficiency: price = ceil(msPerProof).
    t.is(calJson.calibration.price, String(calJson.calibration.ms_per_proof));
    await rq.cancelRequest(short!);
    for (let i = 0; ; i++) {
      if ((await liveAsks()).length === 1) break;
      if (i > 300) throw new Error('no live ask after the short request left OPEN');
      await new Promise((r) => setTimeout(r, 200));
    }
    t.pass();
  } finally {
    await w?.stop();
    rq?.disconnect();
    await devnet.close();
    await rm(dir, { recursive: true, force: true });
  }
});
