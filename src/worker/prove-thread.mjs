// Proving thread of the worker's snarkjs pool (src/worker/backends.ts). Plain ESM so it loads in a worker_thread
// without a TypeScript loader. Messages in: { id, op: 'prove' | 'witness', wasmPath, zkeyPath, input, wtnsPath,
// multiThread } (multiThread: snarkjs proves with its own threads, only in a child process).
// Messages out: { id, ok: true, proof, publicSignals, witnessMs, proveMs } or { id, ok: false, error }.
import { parentPort as threadPort } from 'node:worker_threads';
import * as snarkjs from 'snarkjs';

// In a forked child process (SnarkjsMultiThreadBackend) the same protocol runs over the IPC channel; there snarkjs
// runs on a real main thread and can start its own worker threads.
const parentPort = threadPort ?? { on: (ev, f) => process.on(ev, f), postMessage: (m) => process.send(m) };

const now = () => Number(process.hrtime.bigint()) / 1e6;

parentPort.on('message', async (msg) => {
  try {
    const t0 = now();
    if (msg.op === 'witness') {
      await snarkjs.wtns.calculate(msg.input, msg.wasmPath, msg.wtnsPath);
      parentPort.postMessage({ id: msg.id, ok: true, witnessMs: now() - t0, proveMs: 0 });
      return;
    }
    const wtns = { type: 'mem' };
    await snarkjs.wtns.calculate(msg.input, msg.wasmPath, wtns);
    const t1 = now();
    const { proof, publicSignals } = await snarkjs.groth16.prove(msg.zkeyPath, wtns, undefined, { singleThread: msg.multiThread !== true });
    parentPort.postMessage({ id: msg.id, ok: true, proof, publicSignals, witnessMs: t1 - t0, proveMs: now() - t1 });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
