/**
 * Crash safety of the prover worker. Worker A runs as a child process (`cli/worker.ts worker start`), worker B
 * in-process at a higher price. A is SIGKILLed mid-proof:
 *  1. restarted on the same home, it resumes the assignment from its LevelDB job store and delivers it (or releases
 *     it in time): never slashed, and the request is fulfilled;
 *  2. left dead, its collateral is slashed at the deadline, the request enters the fallback, and B fulfils it there.
 * No request is left stuck.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { startDevnet } from '../app/devnet/index.js';
import { DEVNET_MNEMONIC, defaultGenesis } from '../genesis/index.js';
import { Keyring } from '../src/keyring/index.js';
import { ProofbookClient, RequestStatus } from '../src/client/proofbook.js';
import { ProverWorker } from '../src/worker/worker.js';
import { CIRCUIT, fulfilled, submitRequests, testConfig, waitAll, wallet } from '../src/worker/testing.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startChild(home: string, node: string, cfg: string, logFile: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/worker.ts', '--home', home, '--node', node, 'worker', 'start', '--key', 'prover', '--keyring-backend', 'test', '--config', cfg], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  return child;
}

async function waitForJobState(home: string, requestId: bigint, state: string, timeoutMs: number, client?: ProofbookClient): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const s = JSON.parse(await readFile(join(home, 'worker', 'status.json'), 'utf8')) as { jobs: { requestId: string; state: string }[] };
      if (s.jobs.some((j) => j.requestId === requestId.toString() && j.state === state)) return;
    } catch {
      // not written yet
    }
    await sleep(100);
  }
  // say where the request went, so a failure under load can be told apart from a worker that never looked
  const where = client ? JSON.stringify((await client.request(requestId)).request, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) : '';
  throw new Error(`job ${requestId} never reached state ${state}; on chain: ${where}`);
}

async function readStatus(home: string): Promise<{ breaker: { open: boolean }; jobs: unknown[] } | undefined> {
  try {
    return JSON.parse(await readFile(join(home, 'worker', 'status.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Waits until worker A holds no job and has a live ask with free capacity. The order matters: A refreshes an ask that
 * is near expiry by cancel + re-post in one tx, re-posting only the capacity its held jobs leave free. A refresh
 * decided while request N was still held cancels the ask and posts nothing, so an ask seen free in the moment between
 * N's fulfilment and that tx's inclusion is about to vanish, and a request submitted then goes to B (seen once in CI).
 * status.json is written at the end of a tick, after that tick's ask tx is included, so once it lists no jobs every
 * later refresh re-posts the full capacity in the same tx.
 */
async function waitForFreeAsk(rq: ProofbookClient, home: string, prover: string, why: string): Promise<void> {
  for (let i = 0; ; i++) {
    const s = await readStatus(home);
    if (s && s.jobs.length === 0) {
      const h = await rq.height();
      if ((await rq.asks({ prover })).asks.some((a) => a.expiryHeight > h + 2n && a.capacity > a.active)) return;
    }
    if (i > 600) throw new Error(why);
    await sleep(200);
  }
}

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'cli/worker.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('exit', (code) => resolve({ code, out }));
  });
}

// Since the mechanism-v2/worker changes something (worker, SDK client or devnet) keeps a handle open after this test's
// teardown, and the file then fails to exit although every assertion has run (seen in two full runs). Until that
// handle is found (noted in the session's closing note), exit the test process a few seconds after teardown.
test.after.always(() => { setTimeout(() => process.exit(process.exitCode ?? 0), 5_000).unref(); });

const killed = (c: ChildProcess) => new Promise<void>((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });

test('a SIGKILLed worker resumes after restart; left dead it is slashed and the other worker takes over', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'worker-crash-'));
  const logger = pino({ level: 'warn' });
  // The miss path and the breaker it trips: with the chain's overdue race on, a dead A would be outraced once overdue by
  // its own record instead (a release slash, no breaker), which test/worker-fallback-cometbft.test.ts part F covers.
  const appState = defaultGenesis() as { market: { params: Record<string, unknown> } };
  appState.market.params.overdue_race_bps = '0';
  const devnet = await startDevnet({ home: join(dir, 'node'), blockTimeMs: 300, rpcAddress: '127.0.0.1:0', logger, appState });
  const homeA = join(dir, 'a');
  const logA = join(dir, 'a.log');
  let child: ChildProcess | undefined;
  let b: ProverWorker | undefined;
  let requester: ProofbookClient | undefined;
  try {
    await devnet.waitForHeight(2);
    const { info } = await Keyring.forHome(homeA, { backend: 'test' }).add('prover', { mnemonic: DEVNET_MNEMONIC, hdPath: "m/44'/118'/0'/0/3" });
    const cfgA = join(dir, 'a.json');
    await writeFile(cfgA, JSON.stringify({
      threads: 1, capacity: 1, bond: '1000000000', blockTimeMs: 300, pollIntervalMs: 250, cooldownMs: 0, askLifetimeBlocks: 30, logLevel: 'info',
      pricing: { calibrationProofs: 1, fixedPrice: 1000 },
    }));
    child = startChild(homeA, devnet.rpcUrl, cfgA, logA);
    b = await ProverWorker.start({
      home: join(dir, 'b'), nodeUrl: devnet.rpcUrl, signer: await wallet(4), logger,
      config: testConfig({ capacity: 1, bond: '1000000000', pricing: { calibrationProofs: 1, fixedPrice: 5000 } }),
    });
    requester = await ProofbookClient.connect(devnet.rpcUrl, await wallet(5), { pollIntervalMs: 100 });
    const rq = requester;
    // Both asks live before any request.
    for (let i = 0; ; i++) {
      const asks = (await rq.asks({ circuitId: CIRCUIT })).asks;
      if (asks.some((a) => a.prover === info.address) && asks.some((a) => a.prover === b!.address)) break;
      if (i > 600) throw new Error(`worker A never posted its ask; log:\n${await readFile(logA, 'utf8').catch(() => '')}`);
      await sleep(200);
    }

    // --- 1. killed mid-proof, restarted: delivers (or releases in time), never slashed.
    const [r1] = await submitRequests(rq, 1, { maxFee: 10_000n, window: 200n, lifetime: 2000n, seed: 11 });
    await waitForJobState(homeA, r1!, 'proving', 60_000, rq);
    child.kill('SIGKILL');
    await killed(child);
    const held = (await rq.request(r1!)).request;
    t.is(held.status, RequestStatus.REQUEST_STATUS_ASSIGNED);
    t.is(held.assignment?.prover, info.address, 'A held the request when it died');
    child = startChild(homeA, devnet.rpcUrl, cfgA, logA);
    const [done1] = await waitAll(rq, [r1!], (r) => r.status === RequestStatus.REQUEST_STATUS_FULFILLED, 120_000);
    const ev1 = done1!.history.filter((e) => e.prover === info.address).map((e) => e.event);
    t.false(ev1.includes('slashed'), `A was not slashed: ${ev1.join(',')}`);
    t.true(ev1.includes('fulfilled') || ev1.includes('released'), `A delivered or released in time: ${ev1.join(',')}`);

    // --- 2. killed mid-proof, left dead: slashed at the deadline, B fulfils the request.
    const bondedBefore = BigInt((await rq.prover(info.address)).prover!.bonded.find((c) => c.denom === 'uproof')!.amount);
    // A's ask has free capacity again (after the restart it could only re-post once request 1 was done).
    await waitForFreeAsk(rq, homeA, info.address, 'worker A never re-posted its ask');
    const [r2] = await submitRequests(rq, 1, { maxFee: 10_000n, window: 150n, lifetime: 3000n, seed: 12 });
    await waitForJobState(homeA, r2!, 'proving', 60_000, rq);
    child.kill('SIGKILL');
    await killed(child);
    child = undefined;
    const [done2] = await waitAll(rq, [r2!], fulfilled, 200_000);
    const h2 = done2!.history;
    t.true(h2.some((e) => e.event === 'slashed' && e.prover === info.address), 'A was slashed for the missed deadline');
    // a request that missed its deadline is not auctioned again: it waits in the permissionless fallback, where B's
    // worker takes it (commit, then reveal)
    t.true(h2.some((e) => e.event === 'fallback_fulfilled' && e.prover === b!.address), `B fulfilled it through the fallback: ${h2.map((e) => `${e.event}:${e.prover}`).join(',')}`);
    const bondedAfter = BigInt((await rq.prover(info.address)).prover!.bonded.find((c) => c.denom === 'uproof')!.amount);
    t.true(bondedAfter < bondedBefore, `A's collateral was slashed (${bondedBefore} -> ${bondedAfter})`);
    // Nothing stuck: no request is left OPEN or ASSIGNED.
    for (const s of [RequestStatus.REQUEST_STATUS_OPEN, RequestStatus.REQUEST_STATUS_ASSIGNED]) t.is((await rq.requests({ status: s })).requests.length, 0);
    // B's job store agrees (once its submit call has seen the tx in a block).
    let bJob = false;
    for (let i = 0; i < 100 && !bJob; i++) {
      bJob = (await b!.allJobs()).some((j) => j.requestId === r2!.toString() && j.state === 'fulfilled');
      if (!bJob) await sleep(100);
    }
    t.true(bJob, "B's job store records the fulfilment");

    // --- 3. A restarts, learns it was slashed (breaker opens, cooldownMs 0 = manual), `worker resume` closes it;
    // SIGTERM mid-proof finishes or releases the work, cancels the asks and exits 0.
    child = startChild(homeA, devnet.rpcUrl, cfgA, logA);
    for (let i = 0; ; i++) {
      const s = await readStatus(homeA);
      if (s?.breaker.open && s.jobs.length === 0) break;
      if (i > 600) throw new Error('A never reported its breaker open after the slash');
      await sleep(200);
    }
    const hb = await rq.height();
    t.true((await rq.asks({ prover: info.address })).asks.every((a) => a.expiryHeight <= hb + 1n), 'no live asks while the breaker is open');
    const cli = await runCli(['--home', homeA, 'worker', 'resume']);
    t.is(cli.code, 0, cli.out);
    await waitForFreeAsk(rq, homeA, info.address, 'A did not take work again after resume');
    const [r3] = await submitRequests(rq, 1, { maxFee: 10_000n, window: 200n, lifetime: 2000n, seed: 13 });
    await waitForJobState(homeA, r3!, 'proving', 60_000, rq);
    const st = await runCli(['--home', homeA, '-o', 'json', 'worker', 'status']);
    t.is(st.code, 0, st.out);
    t.is((JSON.parse(st.out) as { address: string }).address, info.address);
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    t.is(await exited, 0, 'graceful exit');
    child = undefined;
    const [done3] = await waitAll(rq, [r3!], fulfilled, 200_000);
    const ev3 = done3!.history.filter((e) => e.prover === info.address).map((e) => e.event);
    t.false(ev3.includes('slashed'), ev3.join(','));
    t.true(ev3.includes('fulfilled') || ev3.includes('released'), ev3.join(','));
    const h3 = await rq.height();
    t.false((await rq.asks({ prover: info.address })).asks.some((a) => a.expiryHeight > h3), 'A cancelled its asks on the way out');
  } catch (e) {
    t.log(await readFile(logA, 'utf8').catch(() => '(no log)'));
    throw e;
  } finally {
    if (child) { child.kill('SIGKILL'); await killed(child); }
    await b?.stop();
    requester?.disconnect();
    await devnet.close();
    await rm(dir, { recursive: true, force: true });
  }
});
