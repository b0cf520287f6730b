/**
 * Builds the explorer (web/) into web/dist/: one minified ES module bundle (Preact + uPlot + our pages), its CSS,
 * index.html, and a copy of snarkjs' browser build, which the page loads only when someone verifies a proof.
 * Run by `npm run build:web` (and so by `npm run build`, `npm start` and the explorer test); web/dist/ is not committed.
 */
import { build } from 'esbuild';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_DIST = join(root, 'web', 'dist');

export interface WebBuild { dir: string; files: { name: string; bytes: number; gzip: number }[] }

/**
 * Builds into a fresh folder beside web/dist, then renames each file into web/dist (an atomic replace on one
 * filesystem). Several test files build at once while another one's Chromium is loading the page: deleting web/dist
 * first left that page without app.js (an explorer test waited 60 s for a figure that never drew). Same sources give
 * the same bytes, so a reader gets a complete file from one build or the other, never half of one.
 */
export async function buildWeb(opts: { quiet?: boolean } = {}): Promise<WebBuild> {
  await mkdir(WEB_DIST, { recursive: true });
  const out = await mkdtemp(`${WEB_DIST}.tmp-`);
  try {
    await buildInto(out, opts);
    for (const name of await readdir(out)) await rename(join(out, name), join(WEB_DIST, name));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  const files = [];
  for (const name of ['index.html', 'app.js', 'app.css', 'snarkjs.min.js']) {
    const buf = await readFile(join(WEB_DIST, name));
    files.push({ name, bytes: buf.length, gzip: gzipSync(buf).length });
  }
  return { dir: WEB_DIST, files };
}

async function buildInto(dir: string, opts: { quiet?: boolean }): Promise<void> {
  await build({
    absWorkingDir: root,
    entryPoints: { app: 'web/src/main.tsx' },
    outdir: dir,
    bundle: true,
    format: 'esm',
    splitting: false,
    minify: true,
    sourcemap: false,
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(root, 'web', 'tsconfig.json'),
    legalComments: 'none',
    logLevel: opts.quiet ? 'warning' : 'info',
  });
  // snarkjs ships a self-contained browser build (global `snarkjs`); copied, not bundled, so it loads on demand.
  const require = createRequire(import.meta.url);
  // snarkjs' exports map hides package.json; its CommonJS entry is build/main.cjs, next to snarkjs.min.js.
  const snarkjs = join(dirname(require.resolve('snarkjs')), 'snarkjs.min.js');
  await copyFile(snarkjs, join(dir, 'snarkjs.min.js'));
  await copyFile(join(root, 'web', 'index.html'), join(dir, 'index.html'));
  const files = [];
  for (const name of ['index.html', 'app.js', 'app.css', 'snarkjs.min.js']) {
    const buf = await readFile(join(dir, name));
    files.push({ name, bytes: buf.length, gzip: gzipSync(buf).length });
  }
  await writeFile(join(dir, 'build.json'), JSON.stringify({ files }, null, 2) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const b = await buildWeb();
  for (const f of b.files) console.log(`${f.name.padEnd(16)} ${String(f.bytes).padStart(9)} B  ${String(f.gzip).padStart(8)} B gzipped`);
}
