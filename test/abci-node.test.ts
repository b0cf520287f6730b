/**
 * startNode wiring and process behaviour: the node serves ABCI on the requested address, shares the
 * app's queue, closes the app on close(), exits 0 on SIGTERM, and exits non-zero (without answering)
 * when a state-changing ABCI call rejects.
 */
import test from 'ava';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';
import { startNode } from '../app/node.js';
import { SerialQueue } from '../app/abci/application.js';
import { FrameDecoder, encodeRequestFrame } from '../app/abci/framing.js';
import { KvStoreApp } from './fixtures/kvstore-app.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Sends requests on a fresh connection and collects `n` responses (or fewer if the socket closes). */
function exchange(port: number, reqs: object[], n: number): Promise<Response[]> {
  return new Promise((resolve, reject) => {
    const out: Response[] = [];
    const dec = new FrameDecoder();
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(Buffer.concat(reqs.map((r) => encodeRequestFrame(Request.fromPartial(r as Request)))));
    });
    s.on('data', (c) => {
      for (const f of dec.push(c)) out.push(Response.decode(f));
      if (out.length >= n) { s.destroy(); resolve(out); }
    });
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

function portOf(address: string): number { return Number(address.slice(address.lastIndexOf(':') + 1)); }

test('startNode serves the given app, routes calls through its queue, and close() closes the app', async (t) => {
  const app = new KvStoreApp() as KvStoreApp & { queue: SerialQueue };
  Object.defineProperty(app, 'queue', { value: new SerialQueue() });
  let closed = 0;
  app.close = async () => { closed++; };
  const node = await startNode({ home: os.tmpdir(), abciAddress: 'tcp://127.0.0.1:0', app, logger: pino({ level: 'silent' }), handleSignals: false });
  const port = portOf(node.abciAddress);

  // While the app's own queue is held (e.g. by an RPC handler), ABCI calls wait.
  let release!: () => void;
  const held = app.queue.run(() => new Promise<void>((r) => { release = r; }));
  const pending = exchange(port, [{ info: {} }, { flush: {} }], 2);
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(app.calls, []);
  release();
  await held;
  const res = await pending;
  t.is(res[0]!.info!.data, 'kvstore-fixture');
  t.deepEqual(app.calls, ['info']);

  await node.close();
  await node.close(); // idempotent
  t.is(closed, 1);
  await t.throwsAsync(exchange(port, [{ echo: { message: 'x' } }], 1));
});

function runNode(code: string): { child: ReturnType<typeof spawn>; ready: Promise<number>; exit: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  child.stdout!.on('data', (d) => { buf += d; });
  child.stderr!.on('data', (d) => { buf += d; });
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', () => { const m = /PORT=(\d+)/.exec(buf); if (m) resolve(Number(m[1])); });
    child.once('exit', () => reject(new Error(`exited early:\n${buf}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { child, ready, exit, output: () => buf };
}

test('a node process exits 0 on SIGTERM after closing the app', async (t) => {
  const p = runNode(`
    import { startNode } from './app/node.ts';
    import { KvStoreApp } from './test/fixtures/kvstore-app.ts';
    const app = new KvStoreApp();
    app.close = async () => { process.stdout.write('APP-CLOSED\\n'); };
    const node = await startNode({ home: '.', abciAddress: 'tcp://127.0.0.1:0', app });
    process.stdout.write('PORT=' + node.abciAddress.split(':').pop() + '\\n');
  `);
  t.teardown(() => { if (p.child.exitCode === null) p.child.kill('SIGKILL'); });
  const port = await p.ready;
  const res = await exchange(port, [{ echo: { message: 'alive' } }], 1);
  t.is(res[0]!.echo!.message, 'alive');
  p.child.kill('SIGTERM');
  t.is(await p.exit, 0);
  t.regex(p.output(), /APP-CLOSED/);
});

test('a rejected FinalizeBlock makes the node process exit non-zero without answering', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-node-fatal-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const p = runNode(`
    import { startNode } from './app/node.ts';
    import { KvStoreApp } from './test/fixtures/kvstore-app.ts';
    const app = new KvStoreApp();
    app.finalizeBlock = async () => { throw new Error('disk on fire'); };
    const node = await startNode({ home: ${JSON.stringify(dir)}, abciAddress: 'tcp://127.0.0.1:0', app });
    process.stdout.write('PORT=' + node.abciAddress.split(':').pop() + '\\n');
  `);
  t.teardown(() => { if (p.child.exitCode === null) p.child.kill('SIGKILL'); });
  const port = await p.ready;
  const res = await exchange(port, [{ finalizeBlock: { height: 1n } }, { flush: {} }], 2);
  t.deepEqual(res, [], 'no response at all, in particular no exception');
  t.is(await p.exit, 1);
  t.regex(p.output(), /disk on fire/);
  t.regex(p.output(), /"level":60/); // pino fatal
});
