/**
 * The compiled node (scripts/build-node.mjs, run by bin/proofbook.mjs, `npm start` and the localnet): it is rebuilt
 * when a source it was built from changes or is gone, every module-relative path in it still names a file of the
 * checkout, and the built CLI runs. (The localnet tests run their validators from it; test/cosmjs-send.test.ts runs
 * the devnet from it as `npm start` does.)
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { NODE_DIST, REPO_ROOT, ensureNodeBuild, nodeBuildStale } from '../scripts/build-node.mjs';

const execFileP = promisify(execFile);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('staleness: current, an older builder, a changed source, a source gone, no build, a broken input list', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'pb-build-node-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dist = join(root, 'dist', 'node');
  t.is(nodeBuildStale(root, dist), 'not built');
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(dist, { recursive: true });
  writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'src', 'b.ts'), 'export const b = 2;\n');
  writeFileSync(join(dist, 'proofbook.mjs'), '// built\n');
  const list = (inputs: Record<string, string>, format = 2) => writeFileSync(join(dist, 'inputs.json'), JSON.stringify({ format, entries: { proofbook: 'cli/main.ts' }, inputs }));
  list({ 'src/a.ts': sha('export const a = 1;\n'), 'src/b.ts': sha('export const b = 2;\n') });
  t.is(nodeBuildStale(root, dist), null);
  list({ 'src/a.ts': sha('export const a = 1;\n') }, 1);
  t.is(nodeBuildStale(root, dist), 'built by an older builder');
  list({ 'src/a.ts': sha('export const a = 1;\n'), 'src/b.ts': sha('export const b = 2;\n') });
  writeFileSync(join(root, 'src', 'b.ts'), 'export const b = 3;\n');
  t.is(nodeBuildStale(root, dist), 'src/b.ts changed');
  rmSync(join(root, 'src', 'b.ts'));
  t.is(nodeBuildStale(root, dist), 'src/b.ts is gone');
  writeFileSync(join(dist, 'inputs.json'), '{not json');
  t.is(nodeBuildStale(root, dist), 'unreadable input list');
  rmSync(join(dist, 'proofbook.mjs'));
  t.is(nodeBuildStale(root, dist), 'not built');
});

test('the build is current after ensureNodeBuild, lists the sources it read, and every module URL names a file', async (t) => {
  await ensureNodeBuild({ quiet: true });
  t.is(nodeBuildStale(), null);
  const inputs = Object.keys(JSON.parse(readFileSync(join(NODE_DIST, 'inputs.json'), 'utf8')).inputs as Record<string, string>);
  for (const f of ['cli/main.ts', 'app/app.ts', 'modules/market/keeper.ts', 'src/store/committed.ts']) t.true(inputs.includes(f), f);
  // import.meta.url is rewritten to each source's own URL, relative to dist/node: each must resolve to a real file,
  // or the node would look for its descriptors, circuits or worker scripts in the wrong place.
  let urls = 0;
  for (const f of readdirSync(NODE_DIST).filter((x) => x.endsWith('.mjs'))) {
    for (const m of readFileSync(join(NODE_DIST, f), 'utf8').matchAll(/new URL\("([^"]+\.[cm]?[jt]s)", import\.meta\.url\)/g)) {
      urls++;
      t.true(existsSync(resolve(NODE_DIST, m[1]!)), `${f}: ${m[1]}`);
    }
  }
  t.true(urls >= 8, `module URLs rewritten: ${urls}`);
  t.true(inputs.includes('scripts/build-node.mjs'), 'the builder is an input: changing it rebuilds');
  // The source maps name the real files (they are written one folder down and moved).
  const map = JSON.parse(readFileSync(join(NODE_DIST, 'proofbook.mjs.map'), 'utf8')) as { sources: string[] };
  t.true(map.sources.length > 0);
  for (const src of map.sources) t.true(existsSync(resolve(NODE_DIST, src)), src);
});

test('stack traces from the built CLI name the TypeScript sources', async (t) => {
  const bin = join(REPO_ROOT, 'bin', 'proofbook.mjs');
  // An unreachable node is a NodeUnreachableError; PROOFBOOK_DEBUG prints its stack.
  const r = await execFileP(process.execPath, [bin, '--node', 'http://127.0.0.1:1', 'status'], { cwd: REPO_ROOT, env: { ...process.env, PROOFBOOK_DEBUG: '1' } }).then(
    () => ({ stderr: '' }), (e: { stderr: string }) => e);
  t.regex(r.stderr, /cannot reach a node/);
  t.true(r.stderr.includes(join(REPO_ROOT, 'src', 'client', 'tx.ts')), r.stderr);
});

test('the built CLI runs: version, a usage error, and init with the genesis circuits read beside their source', async (t) => {
  const bin = join(REPO_ROOT, 'bin', 'proofbook.mjs');
  const v = await execFileP(process.execPath, [bin, '--version'], { cwd: REPO_ROOT });
  t.is(v.stdout.trim(), JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
  const bad = await execFileP(process.execPath, [bin, 'start', '--home', '/nonexistent/pb-build-node', '--state-reopen-interval', '-1'], { cwd: REPO_ROOT }).then(
    () => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /reopen/);
  // src/zk/genesis.ts finds genesis/circuits/ through its module URL: the built init must put them in genesis.
  const home = mkdtempSync(join(tmpdir(), 'pb-build-node-home-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  await execFileP(process.execPath, [bin, '--home', home, 'init'], { cwd: REPO_ROOT });
  const genesis = JSON.parse(readFileSync(join(home, 'genesis.json'), 'utf8')) as { app_state: { verifier: { circuits: unknown[] } } };
  t.true(genesis.app_state.verifier.circuits.length > 0);
});
