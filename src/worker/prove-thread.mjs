// Proving thread of the worker's snarkjs pool (src/worker/backends.ts). Plain ESM so it loads in a worker_thread
// without a TypeScript loader. Messages in: { id, op: 'prove' | 'witness', wasmPath, zkeyPath, input, wtnsPath }.
// Messages out: { id, ok: true, proof, publicSignals, witnessMs, proveMs } or { id, ok: false, error }.
import { parentPort } from 'node:worker_threads';
import * as snarkjs from 'snarkjs';

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
    const { proof, publicSignals } = await snarkjs.groth16.prove(msg.zkeyPath, wtns, undefined, { singleThread: true });
    parentPort.postMessage({ id: msg.id, ok: true, proof, publicSignals, witnessMs: t1 - t0, proveMs: now() - t1 });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
