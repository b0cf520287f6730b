/**
 * Prover worker parts without a chain: config validation (errors name the field), the pricing formula, the
 * content-addressed artifact cache (never hands out an unverified file), and the snarkjs thread pool (real proofs,
 * checked with the chain's verifier).
 */
import test from 'ava';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askPrice, ConfigError, parseConfig } from '../src/worker/config.js';
import { ArtifactCache, ArtifactError } from '../src/worker/artifacts.js';
import { AutoBackend, createBackend, ProveError, SnarkjsPoolBackend } from '../src/worker/backends.js';
import { JobStore } from '../src/worker/jobs.js';
import { blockingCommit, fallbackPayout } from '../src/worker/fallback-commits.js';
import { raceFrom } from '../src/worker/race.js';
import { raceOpensAt } from '../src/market/race-opens.js';
import { fallbackOpensAt } from '../modules/market/penalties.js';
import { RequestStatus } from '../src/gen/proofbook/market/v1/market.js';
import { admit } from '../src/worker/admit.js';
import { GENESIS_CIRCUIT, loadGenesisVerifyingKey } from '../src/zk/genesis.js';
import { initZk, prepareVerifyingKey, verifyOne } from '../src/zk/verifier.js';
import { proofFromSnarkjs, publicSignalsFromSnarkjs } from '../src/zk/groth16.js';

const C = 'ab'.repeat(32);

test('parseConfig fills defaults and names the bad field', (t) => {
  const cfg = parseConfig({ circuits: [C], pricing: { costPerHourUproof: '7200000' } });
  t.is(cfg.backend, 'auto');
  t.true(cfg.threads >= 1);
  t.is(cfg.capacity, cfg.threads);
  t.is(parseConfig({ circuits: [C], backend: 'native' }).capacity, 1, 'the native prover runs one job at a time on every core');
  t.is(parseConfig({ circuits: [C], backend: 'native', native: { threads: 2 } }).native.threads, 2);
  t.is(cfg.pricing.costPerHourUproof, 7_200_000n);
  t.is(cfg.pricing.parallelEfficiencyPct, 80n);
  t.true(cfg.fallback, 'the permissionless fallback is served by default');
  t.false(parseConfig({ circuits: [C], pricing: { costPerHourUproof: 1 }, fallback: false }).fallback);
  t.is(cfg.fallbackCommitGraceBlocks, 2n);
  t.true(cfg.declineOverdue, 'an assignment that would be proved only after its overdue height is declined by default');
  t.false(parseConfig({ circuits: [C], pricing: { costPerHourUproof: 1 }, declineOverdue: false }).declineOverdue);
  t.is(parseConfig({ circuits: [C], pricing: { costPerHourUproof: 1 }, fallbackCommitGraceBlocks: 5 }).fallbackCommitGraceBlocks, 5n);
  const bad: [unknown, string][] = [
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, bogus: 1 }, 'bogus'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, backend: 'gpu' }, 'backend'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, backend: 'command' }, 'command'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, backend: 'command', command: { path: '' } }, 'command.path'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, threads: 0 }, 'threads'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, backend: 'snarkjs', native: {} }, 'native'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, backend: 'native', native: { gpu: true } }, 'native.gpu'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, backend: 'native', native: { threads: -1 } }, 'native.threads'],
    [{ circuits: ['xyz'], pricing: { costPerHourUproof: 1 } }, 'circuits[0]'],
    [{ circuits: [], pricing: { costPerHourUproof: 1 } }, 'circuits'],
    [{ circuits: [C], pricing: { costPerHourUproof: -5 } }, 'pricing.costPerHourUproof'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1, parallelEfficiencyPct: 101 } }, 'pricing.parallelEfficiencyPct'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1, marginbps: 5 } }, 'pricing.marginbps'],
    [{ circuits: [C], pricing: { costPerHourUproof: 0 } }, 'pricing.costPerHourUproof'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, gasPrice: 'cheap' }, 'gasPrice'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, bond: '1.5' }, 'bond'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, fallback: 'yes' }, 'fallback'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, declineOverdue: 1 }, 'declineOverdue'],
    [{ circuits: [C], pricing: { costPerHourUproof: 1 }, fallbackCommitGraceBlocks: -1 }, 'fallbackCommitGraceBlocks'],
    [[], '(root)'],
  ];
  for (const [raw, field] of bad) {
    const e = t.throws(() => parseConfig(raw), { instanceOf: ConfigError }, JSON.stringify(raw));
    t.is(e?.field, field, JSON.stringify(raw));
    t.true(e!.message.includes(field));
  }
});

test('fallbackPayout: the locked fee less the protocol fee (rounded down, as the keeper takes it), plus the bounty', (t) => {
  t.is(fallbackPayout(10_000n, 100n, 500n), 10_400n);
  t.is(fallbackPayout(99n, 100n, 0n), 99n, 'a fee too small for a whole protocol-fee unit keeps all of it');
  t.is(fallbackPayout(0n, 100n, 7n), 7n);
});

test("raceFrom: a racer waits until the assignment is overdue by its prover's record (1.25x its average, rounded up, + 2 blocks), never before the patience opens it, never past the chain's overdue height", (t) => {
  t.is(raceFrom(104n, 100n), 104n, 'no record: from the patience on');
  t.is(raceFrom(104n, 100n, { fulfilled: 0n, avgBlocksToProofMilli: 0n }), 104n, 'no deliveries of the circuit: from the patience on');
  t.is(raceFrom(104n, 100n, { fulfilled: 3n, avgBlocksToProofMilli: 4000n }), 107n, 'avg 4 blocks: due at 100 + 5 + 2');
  t.is(raceFrom(104n, 100n, { fulfilled: 3n, avgBlocksToProofMilli: 4001n }), 108n, '1.25 x 4.001 = 5.00125, rounded up to 6');
  t.is(raceFrom(110n, 100n, { fulfilled: 3n, avgBlocksToProofMilli: 4000n }), 110n, 'never before the patience');
  t.is(raceFrom(104n, 100n, { fulfilled: 9n, avgBlocksToProofMilli: 20_000n }), 127n, 'a slow honest prover (20 blocks) is left alone until 127');
  // the chain's overdue height (capped where the record is slow, params.overdue_race_max_bps) ends the wait
  t.is(raceFrom(104n, 100n, { fulfilled: 9n, avgBlocksToProofMilli: 20_000n }, 123n), 123n, 'a record of 20 blocks capped by the chain at 123: raced from 123, not 127');
  t.is(raceFrom(104n, 100n, { fulfilled: 9n, avgBlocksToProofMilli: 20_000n }, 130n), 127n, 'an overdue height after the record\'s: the record');
  t.is(raceFrom(125n, 100n, { fulfilled: 9n, avgBlocksToProofMilli: 20_000n }, 123n), 125n, 'never before the race opens');
  t.is(raceFrom(104n, 100n, { fulfilled: 9n, avgBlocksToProofMilli: 20_000n }, 0n), 127n, 'no overdue height: the record');
});

test('blockingCommit: a fresh or revealed commitment keeps the worker off a fallback request; stale unrevealed ones (squatters) do not', (t) => {
  const at = (height: bigint, revealedHeight = 0n) => ({ height, revealedHeight });
  t.is(blockingCommit([], 100n, 2n), undefined, 'no commitment');
  t.deepEqual(blockingCommit([at(98n)], 100n, 2n), at(98n), 'made 2 blocks ago: its reveal may land in the next block');
  t.is(blockingCommit([at(97n)], 100n, 2n), undefined, '3 blocks unrevealed: taken for a squatter');
  t.is(blockingCommit([at(90n), at(91n), at(92n)], 100n, 2n), undefined, 'several squatters do not keep the worker off');
  t.deepEqual(blockingCommit([at(90n), at(99n)], 100n, 2n), at(99n), 'a fresh one behind squatters does');
  t.deepEqual(blockingCommit([at(90n, 95n)], 100n, 2n), at(90n, 95n), 'a revealed one (payment held: already delivered) does');
  t.deepEqual(blockingCommit([at(100n)], 100n, 0n), at(100n), 'grace 0: only a commitment of this very block');
  t.is(blockingCommit([at(99n)], 100n, 0n), undefined);
});

test('askPrice: ceil(cost/h × seconds / 3600 / efficiency × (1 + margin)), floored at minPrice, fixedPrice overrides', (t) => {
  const p = parseConfig({ circuits: [C], pricing: { costPerHourUproof: 3_600_000 } }).pricing; // 1000 uproof per second
  t.is(askPrice(p, 1000n), 1500n); // 1000 / 0.8 × 1.2
  t.is(askPrice(p, 1001n), 1502n); // 1501.5 rounded up
  t.is(askPrice({ ...p, marginBps: 0n, parallelEfficiencyPct: 100n }, 2500n), 2500n);
  t.is(askPrice({ ...p, minPrice: 10_000n }, 1000n), 10_000n);
  t.is(askPrice({ ...p, costPerHourUproof: 1n }, 1n), 1n);
  t.is(askPrice({ ...p, fixedPrice: 77n }, 123_456n), 77n);
});

test('ArtifactCache: only a file hashing to the registered sha256 enters the cache; bad sources are skipped', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'worker-art-'));
  const good = Buffer.from('the real proving key bytes');
  const sha = createHash('sha256').update(good).digest('hex');
  let hits = 0;
  // The "node" serves the wrong bytes under the right name.
  const server = http.createServer((req, res) => { hits++; res.end(req.url === `/artifacts/${sha}` ? 'tampered' : ''); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const search = join(dir, 'local');
    await mkdir(search);
    const cache = new ArtifactCache(join(dir, 'home'), { nodeUrl: `http://127.0.0.1:${port}`, searchDirs: [search] });
    await t.throwsAsync(cache.get({ sha256: sha, uri: `/artifacts/${sha}` }), { instanceOf: ArtifactError, message: /does not hash to/ });
    t.true(hits >= 1);
    // A correct local copy (any name) is found by content.
    await writeFile(join(search, 'pk.bin'), good);
    const cache2 = new ArtifactCache(join(dir, 'home'), { nodeUrl: `http://127.0.0.1:${port}`, searchDirs: [search] });
    const p = await cache2.get({ sha256: sha, uri: `/artifacts/${sha}` });
    t.is(p, join(dir, 'home', 'worker', 'artifacts', sha));
    t.deepEqual(await readFile(p), good);
    // A corrupted cache entry is not used: it is fetched again from a good source.
    await writeFile(p, 'bit rot');
    const cache3 = new ArtifactCache(join(dir, 'home'), { nodeUrl: `http://127.0.0.1:${port}`, searchDirs: [search] });
    t.deepEqual(await readFile(await cache3.get({ sha256: sha, uri: '' })), good);
    await t.throwsAsync(cache3.get({ sha256: 'zz', uri: '' }), { instanceOf: ArtifactError });
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('SnarkjsPoolBackend proves in worker threads, jobs in parallel; proofs pass the chain verifier; bad input fails cleanly', async (t) => {
  await initZk();
  const vk = prepareVerifyingKey(loadGenesisVerifyingKey());
  const pool = new SnarkjsPoolBackend(2);
  try {
    const job = (i: number) => ({ circuitId: 'genesis', wasmPath: GENESIS_CIRCUIT.wasmPath, zkeyPath: GENESIS_CIRCUIT.zkeyPath, input: { preimage: String(100 + i), nonce: String(i) } });
    const outs = await Promise.all([0, 1, 2].map((i) => pool.prove(job(i))));
    for (const [i, o] of outs.entries()) {
      t.true(verifyOne(vk, proofFromSnarkjs(o.proof), publicSignalsFromSnarkjs(o.publicSignals)), `proof ${i}`);
      t.is(o.publicSignals[1], String(i), 'nonce is the second public signal');
      t.true(o.timing.totalMs >= o.timing.proveMs);
    }
    t.not(outs[0]!.publicSignals[0], outs[1]!.publicSignals[0]);
    await t.throwsAsync(pool.prove({ ...job(0), input: { preimage: 'not a number' } }), { instanceOf: ProveError });
    // The pool survives a failed job.
    const again = await pool.prove(job(5));
    t.true(verifyOne(vk, proofFromSnarkjs(again.proof), publicSignalsFromSnarkjs(again.publicSignals)));
  } finally {
    await pool.close();
  }
  await t.throwsAsync(pool.prove({ circuitId: 'x', wasmPath: '', zkeyPath: '', input: {} }), { instanceOf: ProveError, message: /closed/ });
});

test('JobStore keeps jobs in request id order across reopen', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'worker-jobs-'));
  try {
    let s = await JobStore.open(dir);
    for (const id of ['10', '9', '100']) {
      await s.put({ requestId: id, circuitId: C, state: id === '9' ? 'fulfilled' : 'proving', assignedHeight: '1', deadlineHeight: '50', price: '5', collateral: '10', attempts: 1, updatedAt: 0 });
    }
    await s.putCalibration({ circuitId: C, backend: 'snarkjs', parallelism: 2, proofs: 2, latencyMs: 900, msPerProof: 450, price: '10', at: 0 });
    await s.close();
    s = await JobStore.open(dir);
    t.deepEqual((await s.all()).map((j) => j.requestId), ['9', '10', '100']);
    t.deepEqual((await s.active()).map((j) => j.requestId), ['10', '100']);
    t.is((await s.calibration(C, 'snarkjs'))?.msPerProof, 450);
    t.is(await s.calibration(C, 'command'), undefined);
    await s.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('examples/worker.json is a valid config', async (t) => {
  const raw = JSON.parse(await readFile(new URL('../examples/worker.json', import.meta.url), 'utf8'));
  const cfg = parseConfig(raw);
  t.is(cfg.backend, 'auto'); // the example lets calibration pick the fastest backend per circuit
  t.is(cfg.metricsPort, 9464);
  t.is(cfg.bond, 10_000_000n);
});

test('WorkerMetrics serves Prometheus text on /metrics and JSON on /status', async (t) => {
  const { WorkerMetrics } = await import('../src/worker/metrics.js');
  const m = new WorkerMetrics('command');
  m.jobs.set({ state: 'proving' }, 2);
  m.provingSeconds.observe({ backend: 'command', circuit: 'abc' }, 1.5);
  m.earnings.inc(1234);
  m.slashes.inc({ kind: 'released' });
  const srv = await m.serve(0, '127.0.0.1', () => ({ height: 42n, jobs: [] }));
  try {
    const text = await (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text();
    t.regex(text, /proofbook_worker_jobs\{state="proving",backend="command"\} 2/);
    t.regex(text, /proofbook_worker_proving_seconds_count\{backend="command",circuit="abc"\} 1/);
    t.regex(text, /proofbook_worker_earnings_uproof\{backend="command"\} 1234/);
    t.regex(text, /proofbook_worker_slashes_total\{kind="released",backend="command"\} 1/);
    t.deepEqual(await (await fetch(`http://127.0.0.1:${srv.port}/status`)).json(), { height: '42', jobs: [] });
    t.is((await fetch(`http://127.0.0.1:${srv.port}/nope`)).status, 404);
  } finally {
    await srv.close();
  }
});

test('without the native prover, auto falls back to snarkjs and says so; backend native refuses to start', async (t) => {
  const saved = process.env.PROOFBOOK_NATIVE_PROVER;
  process.env.PROOFBOOK_NATIVE_PROVER = join(tmpdir(), 'no-such-native-prover');
  const warnings: string[] = [];
  try {
    const auto = createBackend(parseConfig({ circuits: [C], threads: 2 }), tmpdir(), (m) => warnings.push(m));
    t.true(auto instanceof AutoBackend);
    t.deepEqual((auto as AutoBackend).candidates.map((b) => b.name), ['snarkjs-mt', 'snarkjs']);
    t.regex(warnings.join('\n'), /without the native prover.*npm run build:native/);
    await auto.close();
    t.throws(() => createBackend(parseConfig({ circuits: [C], backend: 'native' }), tmpdir()), { instanceOf: ProveError, message: /backend 'native'.*npm run build:native/ });
  } finally {
    if (saved === undefined) delete process.env.PROOFBOOK_NATIVE_PROVER;
    else process.env.PROOFBOOK_NATIVE_PROVER = saved;
  }
});

test('admit: an assignment that cannot be proved by its deadline is given back; in the accept phase so is one that would be proved only after the race opens (its overdue height or the patience)', (t) => {
  const base = { height: 100n, needBlocks: 10n, deadlineHeight: 140n, racedFromHeight: 0n, inAcceptPhase: true };
  t.deepEqual(admit(base), { start: true });
  t.deepEqual(admit({ ...base, needBlocks: 40n }), { start: true }, 'done at the deadline itself');
  const late = admit({ ...base, needBlocks: 41n });
  t.false(late.start);
  t.regex(late.start ? '' : late.why, /cannot finish by height 140: 41 blocks needed at height 100/);
  t.deepEqual(admit({ ...base, racedFromHeight: 110n }), { start: true }, 'done as the race opens: no race yet');
  const raced = admit({ ...base, racedFromHeight: 109n });
  t.false(raced.start);
  t.regex(raced.start ? '' : raced.why, /would finish after height 109, from which any prover may race it \(10 blocks needed at height 100\)/);
  t.deepEqual(admit({ ...base, racedFromHeight: 109n, inAcceptPhase: false }), { start: true }, 'past the accept phase it keeps proving: it may still deliver first');
  t.false(admit({ ...base, racedFromHeight: 109n, needBlocks: 41n, inAcceptPhase: false }).start, 'but never past the deadline');
});

test('raceOpensAt: the worker computes the height a race opens exactly as the chain does (penalties.ts fallbackOpensAt)', (t) => {
  const assigned = (acceptUntilHeight: bigint, overdueHeight: bigint) => ({ prover: 'p', askId: 1n, price: '1', collateral: '0', assignedHeight: 10n, acceptUntilHeight, deadlineHeight: 60n, overdueHeight });
  const cases = [
    { fallbackAfterBlocks: 0n, submittedHeight: 9n, status: RequestStatus.REQUEST_STATUS_OPEN, assignment: undefined },
    { fallbackAfterBlocks: 5n, submittedHeight: 9n, status: RequestStatus.REQUEST_STATUS_OPEN, assignment: undefined },
    { fallbackAfterBlocks: 0n, submittedHeight: 9n, status: RequestStatus.REQUEST_STATUS_ASSIGNED, assignment: assigned(12n, 0n) },
    { fallbackAfterBlocks: 0n, submittedHeight: 9n, status: RequestStatus.REQUEST_STATUS_ASSIGNED, assignment: assigned(12n, 30n) },
    { fallbackAfterBlocks: 2n, submittedHeight: 9n, status: RequestStatus.REQUEST_STATUS_ASSIGNED, assignment: assigned(12n, 30n) }, // patience inside the accept phase
    { fallbackAfterBlocks: 8n, submittedHeight: 9n, status: RequestStatus.REQUEST_STATUS_ASSIGNED, assignment: assigned(12n, 30n) }, // patience first
    { fallbackAfterBlocks: 40n, submittedHeight: 9n, status: RequestStatus.REQUEST_STATUS_ASSIGNED, assignment: assigned(12n, 30n) }, // overdue first
    { fallbackAfterBlocks: 40n, submittedHeight: 9n, status: RequestStatus.REQUEST_STATUS_ASSIGNED, assignment: assigned(12n, 0n) },
  ];
  const opens = cases.map((c) => raceOpensAt(c));
  t.deepEqual(opens, [undefined, 14n, undefined, 30n, 13n, 17n, 30n, 49n]);
  t.deepEqual(opens, cases.map((c) => fallbackOpensAt(c)));
});
