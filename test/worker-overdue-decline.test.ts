/**
 * The worker declines, in the accept phase, an assignment it would prove only after the assignment's overdue height
 * (src/worker/admit.ts): from there any bonded prover may race it, and an outraced assignee loses its proof and pays a
 * release slash. A real devnet (CometBFT-shaped RPC over the ABCI app) and a worker whose prover takes seconds (a
 * stand-in for rapidsnark that sleeps, then proves with snarkjs). The window of each request is chosen from the
 * worker's own estimate (calibrated latency / observed block time), so that the proof lands between the overdue height
 * and the deadline (declined), or before the overdue height (proved); a requester's patience that opens the race
 * before the proof gets it declined too. A worker configured `declineOverdue: false` proves the late one anyway.
 */
import test from 'ava';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { startDevnet } from '../app/devnet/index.js';
import { defaultGenesis } from '../genesis/index.js';
import { ProofbookClient } from '../src/client/proofbook.js';
import { ProverWorker } from '../src/worker/worker.js';
import { fulfilled, submitRequests, testConfig, waitAll, wallet } from '../src/worker/testing.js';

const SNARKJS = fileURLToPath(new URL('../node_modules/.bin/snarkjs', import.meta.url));
// a long accept phase, so the worker always decides within it even on a loaded machine
const ACCEPT_BLOCKS = 10n;

test('a worker declines in the accept phase what it would prove only after the overdue height, or after a requester\'s patience opens the race, and proves what it finishes before; with declineOverdue false it proves the late one too', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'worker-overdue-'));
  const logger = pino({ level: 'warn' });
  const prover = join(dir, 'slow-prover.sh');
  await writeFile(prover, `#!/bin/sh\nsleep 6\nexec "${process.execPath}" "${SNARKJS}" groth16 prove "$1" "$2" "$3" "$4" >/dev/null\n`);
  await chmod(prover, 0o755);
  const appState = defaultGenesis() as { market: { params: Record<string, unknown> } };
  appState.market.params.accept_blocks = ACCEPT_BLOCKS.toString();
  const devnet = await startDevnet({ home: join(dir, 'node'), blockTimeMs: 300, rpcAddress: '127.0.0.1:0', logger, appState });
  let w: ProverWorker | undefined;
  let w2: ProverWorker | undefined;
  let rq: ProofbookClient | undefined;
  try {
    await devnet.waitForHeight(2);
    rq = await ProofbookClient.connect(devnet.rpcUrl, await wallet(7), { pollIntervalMs: 100 });
    // a worker on the slow prover, bonded, once its ask is on chain
    const startWorker = async (name: string, key: number, over: Record<string, unknown> = {}) => {
      const worker = await ProverWorker.start({
        home: join(dir, name), nodeUrl: devnet.rpcUrl, signer: await wallet(key), logger,
        config: testConfig({ backend: 'command', command: { path: prover, parallelism: 1 }, capacity: 1, bond: '1000000000', pricing: { calibrationProofs: 1, fixedPrice: 100 }, ...over }),
      });
      while ((await rq!.asks({ prover: worker.address })).asks.length === 0) await new Promise((r) => setTimeout(r, 200));
      return worker;
    };
    // Window W with the proof landing at about 3/4 of it: past the overdue height (accept + W/2), before the deadline
    // (accept + W), with a quarter of the window of margin each way for the block time to drift. The blocks one proof
    // needs are the worker's own reckoning (admit's needBlocks for the first job in line).
    const lateWindow = (worker: ProverWorker) => {
      const s = worker.status();
      const need = BigInt(Math.ceil(s.calibrations[0]!.latencyMs / Math.max(1, s.blockTimeMs))) + 2n;
      t.true(need > ACCEPT_BLOCKS, `a proof takes ${need} blocks, more than the accept phase`);
      return { need, window: (4n * (need + 1n - ACCEPT_BLOCKS) + 2n) / 3n };
    };
    w = await startWorker('w', 6);
    const { need: n, window: late } = lateWindow(w);
    const [r1] = await submitRequests(rq, 1, { maxFee: 1000n, window: late, lifetime: 2000n, seed: 21 });
    const [declined] = await waitAll(rq, [r1!], (r) => r.history.some((e) => e.event === 'declined' || e.event === 'fulfilled' || e.event === 'outraced' || e.event === 'released'), 120_000);
    const d = declined!.history.find((e) => e.event === 'declined');
    t.truthy(d, `declined, not proved: ${JSON.stringify(declined!.history.map((e) => e.event))} (window ${late}, ${n} blocks needed)`);
    t.is(d?.prover, w.address);
    const asg = declined!.history.find((e) => e.event === 'assigned')!;
    t.true(d!.height <= asg.height + ACCEPT_BLOCKS, 'in the accept phase');
    // (the worker records the decline once it has seen its tx in a block)
    const jobOf = async () => (await w!.allJobs()).find((j) => j.requestId === r1!.toString())!;
    let job = await jobOf();
    for (let i = 0; i < 100 && job.state !== 'declined'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = await jobOf();
    }
    t.is(job.state, 'declined');
    t.regex(job.note ?? '', /would finish after height \d+, from which any prover may race it/);
    t.false(declined!.history.some((e) => e.event === 'slashed'));
    t.false(w.breakerOpen, 'a decline is not a failure');

    // A window whose overdue height comes after the proof (the `early` one below), but with a requester's patience of 1
    // block: the race opens right after the accept phase, and racers start there on a prover without a record of the
    // circuit (this one has none yet: it declined the first), before the proof would land: declined
    const early = 2n * (n + 1n - ACCEPT_BLOCKS) + 8n;
    const [r4] = await submitRequests(rq, 1, { maxFee: 1000n, window: early, lifetime: 2000n, seed: 24, patience: 1n });
    const [impatient] = await waitAll(rq, [r4!], (r) => r.history.some((e) => e.event === 'declined' || e.event === 'fulfilled' || e.event === 'outraced' || e.event === 'released'), 120_000);
    const d4 = impatient!.history.find((e) => e.event === 'declined');
    t.is(d4?.prover, w.address, JSON.stringify(impatient!.history.map((e) => e.event)));
    const asg4 = impatient!.history.find((e) => e.event === 'assigned')!;
    t.true(d4!.height <= asg4.height + ACCEPT_BLOCKS, 'in the accept phase');
    const j4 = (await w.allJobs()).find((j) => j.requestId === r4!.toString())!;
    t.is(j4.racedFromHeight, (asg4.height + ACCEPT_BLOCKS + 1n).toString(), 'raced from the end of the accept phase');
    t.true(BigInt(j4.overdueHeight ?? '0') > BigInt(j4.racedFromHeight!), 'before its overdue height');

    // The same window without a patience: proved and paid.
    const [r2] = await submitRequests(rq, 1, { maxFee: 1000n, window: early, lifetime: 2000n, seed: 22 });
    const [done] = await waitAll(rq, [r2!], fulfilled, 120_000);
    t.true(done!.history.some((e) => e.event === 'fulfilled' && e.prover === w!.address), JSON.stringify(done!.history.map((e) => e.event)));
    t.false(done!.history.some((e) => e.event === 'declined'));

    // declineOverdue: false (another worker, the first one stopped): the same late window is proved anyway, and with
    // nobody racing it the proof is paid
    await w.stop();
    w2 = await startWorker('w2', 8, { declineOverdue: false });
    const [r3] = await submitRequests(rq, 1, { maxFee: 1000n, window: lateWindow(w2).window, lifetime: 2000n, seed: 23 });
    const [kept] = await waitAll(rq, [r3!], fulfilled, 120_000);
    t.true(kept!.history.some((e) => e.event === 'fulfilled' && e.prover === w2!.address), JSON.stringify(kept!.history.map((e) => e.event)));
    t.false(kept!.history.some((e) => e.event === 'declined'));
  } finally {
    await w?.stop();
    await w2?.stop();
    rq?.disconnect();
    await devnet.close();
    await rm(dir, { recursive: true, force: true });
  }
});
