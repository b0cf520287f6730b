/**
 * Global options before the command: `proofbook --home DIR --node URL <group> ...` must reach every command group,
 * including the lazily mounted ones (request, market, worker, simulate, tx/query module groups). Each command runs
 * in-process against an unreachable node, so the expected outcome is "node unreachable" (3) or the command's own
 * result — never commander's "unknown command" usage error (2).
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, commandWords } from '../cli/main.js';

const DEAD = 'http://127.0.0.1:9'; // discard port: connection refused
const CIRCUIT = 'a'.repeat(64);
const ADDR = 'proof1ydrtt8crxezy2jam44r7tm8mmt2s22hktu94nm';

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const write = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  let err = '';
  process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    const code = await main(['node', 'proofbook', ...args]);
    return { code, err };
  } finally {
    process.stderr.write = write;
    process.stdout.write = out;
  }
}

test('commandWords skips global options and their values before the command', (t) => {
  t.deepEqual(commandWords(['--home', '/h', '--node', 'http://x', 'worker', 'start', '--key', 'k']), ['worker', 'start', 'k']);
  t.deepEqual(commandWords(['-o', 'json', 'market', 'book']), ['market', 'book']);
  t.deepEqual(commandWords(['--home=/h', 'request', 'list']), ['request', 'list']);
});

test.serial('every command group works with --home/--node (and -o json) given first', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'cli-global-'));
  try {
    const g = ['--home', home, '--node', DEAD];
    const cases: { args: string[]; codes: number[] }[] = [
      { args: [...g, 'status'], codes: [3] },
      { args: [...g, 'query', 'balance', ADDR], codes: [3] },
      { args: [...g, 'query', 'market', 'params'], codes: [3] },
      { args: [...g, 'query', 'bond', 'params'], codes: [3] },
      { args: [...g, 'query', 'verifier', 'circuits'], codes: [3] },
      { args: [...g, 'keys', 'list', '--keyring-backend', 'test'], codes: [0] },
      { args: [...g, 'request', 'status', '1'], codes: [3] },
      { args: [...g, 'request', 'list'], codes: [3] },
      { args: [...g, 'market', 'book', '--circuit', CIRCUIT], codes: [3] },
      { args: [...g, '-o', 'json', 'market', 'quote', '--circuit', CIRCUIT], codes: [3] },
      { args: [...g, 'worker', 'status'], codes: [0, 1] },
      { args: [...g, 'simulate', '--scenario', join(home, 'missing.json')], codes: [1] },
      { args: [...g, 'chain-registry'], codes: [3] },
    ];
    for (const c of cases) {
      const r = await cli(c.args);
      t.false(/unknown command|unknown option/i.test(r.err), `${c.args.slice(4).join(' ')}: ${r.err}`);
      t.true(c.codes.includes(r.code), `${c.args.slice(4).join(' ')} exited ${r.code}: ${r.err}`);
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
