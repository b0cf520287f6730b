/**
 * One JSON convention for the whole CLI (docs/cli.md "JSON output"): snake_case keys, full messages (empty lists
 * kept), bytes as hex; `query market book` and `market book` agree; malformed input is a usage error (exit 2)
 * before any key or node is touched. The real CLI (`main`) in process against an in-process devnet.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { main } from '../cli/main.js';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { genesisCircuitId } from '../modules/verifier/genesis.js';

let devnet: Devnet | undefined;
let home = '';

test.before(async () => {
  home = await mkdtemp(join(tmpdir(), 'cli-json-'));
  devnet = await startDevnet({ home: join(home, 'chain'), blockTimeMs: 100, rpcAddress: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
  await devnet.waitForHeight(2);
});
test.after.always(async () => {
  await devnet?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

async function cli(args: string[], node = devnet!.rpcUrl): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const ow = process.stdout.write.bind(process.stdout), ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'proofbook', '--home', join(home, 'cli'), '--node', node, ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

/** Every object key in a JSON document, recursively. */
function keys(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => keys(x, out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) { out.push(k); keys(x, out); }
  return out;
}
const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

test.serial('query market book and market book: the same snake_case fields, empty lists kept', async (t) => {
  const circuit = genesisCircuitId();
  const q = await cli(['query', 'market', 'book', circuit, '-o', 'json']);
  t.is(q.code, 0, q.stderr);
  const m = await cli(['market', 'book', '--circuit', circuit, '-o', 'json']);
  t.is(m.code, 0, m.stderr);
  const qj = JSON.parse(q.stdout), mj = JSON.parse(m.stdout);
  t.deepEqual(qj.asks, [], 'an empty book keeps its arrays');
  t.deepEqual(qj.requests, []);
  t.is(qj.circuit_id.toLowerCase(), circuit.toLowerCase());
  const { height, ...rest } = mj;
  t.true(BigInt(height) > 0n);
  t.deepEqual(rest, qj, 'both commands print the same document');
  for (const k of [...keys(qj), ...keys(mj)]) t.regex(k, SNAKE);
});

test.serial('full messages in snake_case: market params, requests list, status, tx-less queries', async (t) => {
  for (const args of [['query', 'market', 'params'], ['query', 'market', 'requests'], ['request', 'list'], ['status'], ['query', 'verifier', 'circuits'], ['query', 'market', 'stats']]) {
    const r = await cli([...args, '-o', 'json']);
    t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    const j = JSON.parse(r.stdout);
    for (const k of keys(j)) t.regex(k, SNAKE, `${args.join(' ')}: key ${k}`);
  }
  const reqs = JSON.parse((await cli(['query', 'market', 'requests', '-o', 'json'])).stdout);
  t.deepEqual(reqs.requests, []);
  // the circuit filter (an index by circuit and status): accepted by both commands; a bad id is a clear error
  for (const args of [['query', 'market', 'requests', '--circuit', genesisCircuitId(), '--status', 'fallback'], ['request', 'list', '--circuit', genesisCircuitId()]]) {
    const r = await cli([...args, '-o', 'json']);
    t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    t.deepEqual(JSON.parse(r.stdout).requests, []);
  }
  const bad = await cli(['request', 'list', '--circuit', 'xyz', '-o', 'json']);
  t.not(bad.code, 0);
  t.regex(bad.stdout + bad.stderr, /circuit_id must be 64 lowercase hex/);
  const params = JSON.parse((await cli(['query', 'market', 'params', '-o', 'json'])).stdout);
  t.is(typeof params.collateral_ratio_bps, 'string');
  t.is(typeof params.fee_denom, 'string');
});

test.serial('usage errors exit 2 before the keyring or the node is asked; errors as JSON use snake_case', async (t) => {
  const dead = 'http://127.0.0.1:9';
  const to = 'proof1ydrtt8crxezy2jam44r7tm8mmt2s22hktu94nm';
  const cases: string[][] = [
    ['tx', 'bank', 'send', 'nokey', to, '12xx'],
    ['tx', 'bank', 'send', 'nokey', to, '100uproof', '--fees', 'abc'],
    ['tx', 'bank', 'send', 'nokey', to, '100uproof', '--fees', '5uproof', '--gas', 'x'],
    ['tx', 'bond', 'bond', '1000uproof', '--from', 'nokey', '--fees', '1..2uproof'],
    ['tx', 'market', 'post-ask', '--circuit', 'a'.repeat(64), '--price', '5', '--capacity', '1', '--from', 'nokey', '--fees', 'x'],
    ['request', 'status', 'x'],
    ['request', 'cancel', '0', '--from', 'nokey'],
    ['query', 'tx', 'zz'],
  ];
  for (const c of cases) {
    const r = await cli(c, dead);
    t.is(r.code, 2, `${c.join(' ')} -> ${r.code}: ${r.stderr}`);
  }
  const j = await cli(['-o', 'json', 'tx', 'bank', 'send', 'nokey', to, '100uproof', '--fees', 'abc'], dead);
  t.deepEqual(Object.keys(JSON.parse(j.stderr)).sort(), ['error', 'exit_code', 'hint']);
  // Unreachable node (3) and a missing key (4) keep their own codes once the syntax is right.
  t.is((await cli(['request', 'status', '1'], dead)).code, 3);
  t.is((await cli(['tx', 'bank', 'send', 'nokey', to, '100uproof', '--fees', '2000uproof'], dead)).code, 4);
});
