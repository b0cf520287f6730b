/**
 * Builds the SDK package (`import … from 'proofbook'`) into dist/ from src/index.ts (docs/clients.md "The npm package"):
 *
 *   dist/esm/      ES modules for Node, one file per source file, with the .d.ts declarations beside them
 *   dist/cjs/      the same as CommonJS (its own package.json says "type": "commonjs"), with a copy of the declarations
 *   dist/browser/  one ES module for bundlers (the `browser` export condition): src/index.ts with platform.ts replaced by
 *                  platform.browser.ts, dependencies left as imports; checked to import nothing Node-only
 *
 * TypeScript (the compiler API, tsconfig.sdk.json) type-checks the SDK's sources and writes the declarations; esbuild
 * writes the JavaScript (both module formats from the same sources, which tsc cannot do inside a "type": "module"
 * package). Run by `npm run build` (so by `npm test` and .ci/run); dist/ is not committed.
 */
import { build, transform } from 'esbuild';
import ts from 'typescript';
import { mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SDK_DIST = join(root, 'dist');
const SRC = join(root, 'src');

/** Imports the browser build must never contain (Node built-ins, gRPC, Node-only packages). */
export const NODE_ONLY_IMPORT = /^(node:|@grpc\/|ws$|snarkjs|level|secp256k1|pino|fs$|path$|crypto$|module$|url$|os$|child_process$|worker_threads$)/;

/** Files besides the sources whose change makes dist/ stale. */
const BUILD_INPUTS = ['package.json', 'tsconfig.sdk.json', 'scripts/build-sdk.ts', 'src/client/platform.browser.ts'];

export interface SdkBuild {
  /** Source files compiled (relative to the repository root). */
  sources: string[];
  /** Bytes of dist/browser/index.js. */
  browserBytes: number;
}

function sdkProgram(): { program: ts.Program; options: ts.CompilerOptions } {
  const configPath = join(root, 'tsconfig.sdk.json');
  const cfg = ts.readConfigFile(configPath, ts.sys.readFile);
  if (cfg.error) throw new Error(ts.flattenDiagnosticMessageText(cfg.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, root, undefined, configPath);
  if (parsed.errors.length) throw new Error(parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  return { program: ts.createProgram(parsed.fileNames, parsed.options), options: parsed.options };
}

function report(diags: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(diags, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' });
}

export async function buildSdk(opts: { quiet?: boolean } = {}): Promise<SdkBuild> {
  const esm = join(SDK_DIST, 'esm');
  const cjs = join(SDK_DIST, 'cjs');
  const browser = join(SDK_DIST, 'browser');
  // Only the SDK's own outputs: dist/node (the compiled node, scripts/build-node.mjs) lives beside them, and nodes
  // started from it may still load its chunks while the SDK is rebuilt.
  for (const d of [esm, cjs, browser, join(SDK_DIST, 'sources.json')]) await rm(d, { recursive: true, force: true });

  // 1. Declarations (and a type check of exactly what the package ships) into dist/esm.
  const { program } = sdkProgram();
  const diags = ts.getPreEmitDiagnostics(program);
  if (diags.length) throw new Error(`SDK type errors:\n${report(diags)}`);
  const emitted = program.emit(undefined, undefined, undefined, true);
  if (emitted.diagnostics.length) throw new Error(`SDK declaration errors:\n${report(emitted.diagnostics)}`);
  // The sources the package consists of: every file of the program under src/ (the entry's static and dynamic imports).
  const sources = program.getSourceFiles().map((f) => f.fileName).filter((f) => f.startsWith(SRC + '/') && !f.endsWith('.d.ts') && !f.endsWith('.browser.ts')).sort();
  if (!sources.some((f) => f.endsWith('/src/index.ts'))) throw new Error('tsconfig.sdk.json does not compile src/index.ts');

  // 2. JavaScript, file by file: ESM and CommonJS for Node.
  for (const file of sources) {
    const rel = relative(SRC, file).replace(/\.ts$/, '.js');
    const code = await readFile(file, 'utf8');
    const common = { loader: 'ts' as const, target: 'node20', sourcefile: relative(root, file), legalComments: 'inline' as const };
    const e = await transform(code, { ...common, format: 'esm', platform: 'node' });
    // CommonJS has no import.meta: its one use (the genesis circuit's directory, src/zk/genesis.ts) gets the file URL.
    const usesMeta = code.includes('import.meta');
    const c = await transform(code, {
      ...common, format: 'cjs', platform: 'node',
      ...(usesMeta ? { define: { 'import.meta.url': '__pbImportMetaUrl' }, banner: 'const __pbImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' } : {}),
    });
    for (const [dir, out] of [[esm, e.code], [cjs, c.code]] as const) {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), out);
    }
    const dts = relative(SRC, file).replace(/\.ts$/, '.d.ts');
    await copyFile(join(esm, dts), join(cjs, dts)).catch(() => undefined);
  }
  await writeFile(join(cjs, 'package.json'), '{ "type": "commonjs" }\n');
  // platform.browser.ts is in the program only to be type-checked; it ships inside dist/browser/index.js.
  await rm(join(esm, 'client', 'platform.browser.d.ts'), { force: true });

  // 3. The browser build: one ES module; our platform module swapped for its browser twin; dependencies stay imports.
  const swapped = new Set<string>();
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(SRC, 'index.ts')],
    outfile: join(browser, 'index.js'),
    bundle: true,
    packages: 'external',
    platform: 'browser',
    format: 'esm',
    target: ['es2022'],
    metafile: true,
    legalComments: 'inline',
    logLevel: opts.quiet ? 'warning' : 'info',
    plugins: [{
      name: 'proofbook-browser-platform',
      setup(b) {
        b.onResolve({ filter: /^\.\/platform\.js$/ }, (args) => {
          if (!args.importer.startsWith(SRC + sep)) return undefined;
          const file = join(args.resolveDir, args.path).replace(/\.js$/, '.browser.ts');
          swapped.add(file);
          return { path: file };
        });
      },
    }],
  });
  if (swapped.size !== 1) throw new Error(`browser build: expected to swap one platform module, swapped ${swapped.size}`);
  const inputs = Object.keys(result.metafile.inputs);
  const nodeOnlyFiles = inputs.filter((f) => /src\/(client\/(artifacts|platform)\.ts|zk\/(witness|prove|genesis)\.ts|gen\/)/.test(f));
  const out = Object.values(result.metafile.outputs)[0]!;
  const nodeImports = out.imports.map((i) => i.path).filter((p) => NODE_ONLY_IMPORT.test(p));
  if (nodeOnlyFiles.length || nodeImports.length) {
    throw new Error(`browser build pulls in Node-only code: ${[...nodeOnlyFiles, ...nodeImports].join(', ')}`);
  }
  // What this build was made from, for test/sdk-package.test.ts' freshness check (not part of the package's files).
  await writeFile(join(SDK_DIST, 'sources.json'), JSON.stringify([...sources.map((f) => relative(root, f)), ...BUILD_INPUTS], null, 1) + '\n');
  if (!opts.quiet) console.log(`SDK: ${sources.length} sources -> dist/esm, dist/cjs (+ .d.ts), dist/browser/index.js (${out.bytes} B)`);
  return { sources: sources.map((f) => relative(root, f).split(sep).join('/')), browserBytes: out.bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildSdk({ quiet: process.argv.includes('--quiet') });
}
