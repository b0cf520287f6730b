#!/usr/bin/env node
// Launcher for the `proofbook` bin (and `npm start`): runs the CLI and node built into dist/node/proofbook.mjs by
// scripts/build-node.mjs, building it first when it is missing or a source changed (a second or so, once). The
// compiled node does not carry tsx's loader thread and esbuild process for its whole life (docs/state.md "The compiled
// node"). Where it cannot be built (a read-only checkout), the CLI runs from the sources through tsx instead. The CLI
// and the node run from a checkout of the repository; the npm package holds the SDK only (docs/clients.md).
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../cli/main.ts', import.meta.url))) {
  console.error('proofbook: the CLI runs from a checkout of the repository (npm ci, then npx proofbook …); the npm package holds the SDK only');
  process.exit(1);
}
// Stack traces name the TypeScript sources (dist/node carries source maps); measured: no RSS cost on an idle node.
process.setSourceMapsEnabled(true);
const { ensureNodeBuild, nodeBundleUrl } = await import('../scripts/build-node.mjs');
let entry;
try {
  await ensureNodeBuild();
  entry = nodeBundleUrl();
} catch (e) {
  console.error(`proofbook: cannot build dist/node (${e instanceof Error ? e.message.split('\n')[0] : e}); running from the sources through tsx`);
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('../cli/main.ts', import.meta.url).href;
}
const { run } = await import(entry);
await run(process.argv);
