/**
 * Builds the node and CLI (cli/main.ts and everything it imports from this repository) into dist/node/: the entry
 * proofbook.mjs and the chunks it loads lazily, with packages left as imports from node_modules. `bin/proofbook.mjs`
 * (so `npx proofbook` and `npm start`) and the localnet scripts run it; it is rebuilt whenever a source it was built
 * from, or this builder, changes.
 *
 * Why: a node run through tsx carries tsx's module loader for its whole life — a second V8 isolate on a loader thread,
 * and an esbuild service process on a cache miss — for code it compiled once at start (`npm run bench -- node`
 * measures an idle node both ways; docs/state.md "The compiled node"). Memory is issue 13's target for a long-running
 * node.
 *
 * Plain JavaScript, so the launcher can build without tsx. Several processes may build at once (test files starting
 * localnets in parallel): each builds into its own temporary folder and renames the files into dist/node, the entry
 * after its chunks and before its input list, so a reader sees complete files from one build or the other and at worst
 * rebuilds once.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const NODE_DIST = join(REPO_ROOT, 'dist', 'node');
/** The built node and CLI: `import(NODE_BUNDLE)` gives cli/main.ts's exports (`run(argv)`). */
export const NODE_BUNDLE = join(NODE_DIST, 'proofbook.mjs');

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
/** `to` relative to `from`, with forward slashes (the form inputs.json, source maps and module URLs use). */
const relPosix = (from, to) => relative(from, to).split(sep).join('/');

/**
 * Each bundled module keeps its own `import.meta.url`: the code finds files beside its source (the gRPC descriptors,
 * the genesis circuits, the explorer's web/dist, the worker-thread scripts) relative to it, so every occurrence is
 * rewritten to the source file's URL, computed from the bundle's location at run time (the checkout can move).
 */
function keepModuleUrls(outDir) {
  return {
    name: 'proofbook-module-urls',
    setup(b) {
      b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
        const src = await readFile(args.path, 'utf8');
        const loader = /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js';
        if (!src.includes('import.meta.url')) return { contents: src, loader };
        return { contents: src.replaceAll('import.meta.url', `new URL(${JSON.stringify(relPosix(outDir, args.path))}, import.meta.url).href`), loader };
      });
    },
  };
}

/** The input list's format: a build with another (an older builder's) is rebuilt. */
const INPUTS_FORMAT = 2;

/** Chunks of earlier builds are removed once this old: a process that loaded an older entry may still import them. */
const STALE_CHUNK_MS = 10 * 60_000;

/**
 * Bundles `entries` ({ name: repository path }) into `outDir`: `NAME.mjs` for each entry, the chunks they load lazily,
 * source maps, and inputs.json (every repository source read, with the SHA-256 of its content: what nodeBuildStale
 * checks). Code splitting keeps lazy imports lazy: cli/main.ts's command groups load only their own modules and
 * packages (one bundle evaluated every group's packages at start, ~1.7 s for `proofbook keys list`).
 */
export async function buildBundle({ outDir, entries, quiet = false }) {
  const { build } = await import('esbuild');
  const t0 = performance.now();
  await mkdir(outDir, { recursive: true });
  const tmp = await mkdtemp(join(outDir, '.tmp-'));
  try {
    const result = await build({
      absWorkingDir: REPO_ROOT,
      entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, join(REPO_ROOT, file)])),
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      splitting: true,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      metafile: true,
      logLevel: quiet ? 'error' : 'warning',
      // The rewritten URLs are relative to outDir, where the files end up, not to the temporary folder.
      plugins: [keepModuleUrls(outDir)],
      banner: { js: `// Built by scripts/build-node.mjs from ${Object.values(entries).join(', ')}; do not edit (rebuilt when a source changes).` },
    });
    const inputs = {};
    for (const p of Object.keys(result.metafile.inputs).sort()) {
      const abs = join(REPO_ROOT, p);
      if (!abs.startsWith(REPO_ROOT + sep)) continue;
      inputs[relPosix(REPO_ROOT, abs)] = sha256(await readFile(abs));
    }
    // The builder itself too: a change to how the bundle is made rebuilds it.
    const self = fileURLToPath(import.meta.url);
    inputs[relPosix(REPO_ROOT, self)] = sha256(await readFile(self));
    await writeFile(join(tmp, 'inputs.json'), JSON.stringify({ format: INPUTS_FORMAT, entries, inputs }, null, 1) + '\n');
    // The maps name their sources relative to where they were written (the temporary folder, one level down): make
    // them relative to outDir, where they end up, so stack traces name the real files.
    for (const f of await readdir(tmp)) {
      if (!f.endsWith('.map')) continue;
      const map = JSON.parse(await readFile(join(tmp, f), 'utf8'));
      map.sources = map.sources.map((src) => relPosix(outDir, resolve(tmp, src)));
      await writeFile(join(tmp, f), JSON.stringify(map));
    }
    // Chunks (content-hashed names) and maps first, then the entries that import them, then the input list.
    const rank = (f) => (f === 'inputs.json' ? 3 : f.startsWith('chunk-') ? 0 : f.endsWith('.map') ? 1 : 2);
    const files = (await readdir(tmp)).sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
    for (const f of files) await rename(join(tmp, f), join(outDir, f));
    const built = new Set(files);
    for (const f of await readdir(outDir)) {
      if (!f.startsWith('chunk-') || built.has(f)) continue;
      const old = join(outDir, f);
      if (Date.now() - (await stat(old)).mtimeMs > STALE_CHUNK_MS) await rm(old, { force: true });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { ms: Math.round(performance.now() - t0) };
}

/** Builds dist/node/proofbook.mjs (cli/main.ts) and its chunks. */
export async function buildNode(opts = {}) {
  const { ms } = await buildBundle({ outDir: NODE_DIST, entries: { proofbook: 'cli/main.ts' }, quiet: opts.quiet });
  if (!opts.quiet) console.log(`built ${relPosix(REPO_ROOT, NODE_BUNDLE)} and its chunks in ${ms} ms`);
}

/**
 * Why the bundle must be rebuilt, or null if it is current: missing, or a source it was built from changed or is
 * gone. (A new source file is reached only through an import in a changed one, so changed inputs cover it.)
 */
export function nodeBuildStale(root = REPO_ROOT, dist = NODE_DIST) {
  const inputsFile = join(dist, 'inputs.json');
  if (!existsSync(join(dist, 'proofbook.mjs')) || !existsSync(inputsFile)) return 'not built';
  let list;
  try {
    list = JSON.parse(readFileSync(inputsFile, 'utf8'));
  } catch {
    return 'unreadable input list';
  }
  if (list?.format !== INPUTS_FORMAT) return 'built by an older builder';
  const recorded = list.inputs;
  if (recorded === null || typeof recorded !== 'object') return 'unreadable input list';
  for (const [file, hash] of Object.entries(recorded)) {
    const abs = join(root, file);
    if (!existsSync(abs)) return `${file} is gone`;
    if (sha256(readFileSync(abs)) !== hash) return `${file} changed`;
  }
  return null;
}

/** The bundle's path, built first if it is missing or stale. */
export async function ensureNodeBuild(opts = {}) {
  const why = nodeBuildStale();
  if (why !== null) {
    if (!opts.quiet) console.error(`proofbook: building the node (${why}) …`);
    await buildNode({ quiet: true });
  }
  return NODE_BUNDLE;
}

/** The bundle's file URL, for `import()`. */
export const nodeBundleUrl = () => pathToFileURL(NODE_BUNDLE).href;

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildNode({ quiet: process.argv.includes('--quiet') });
}
