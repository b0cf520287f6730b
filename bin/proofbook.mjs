#!/usr/bin/env node
// Launcher for the `proofbook` bin: registers tsx so the TypeScript CLI runs without a build step. The CLI and the node
// run from a checkout of the repository; the npm package holds the SDK only (docs/clients.md "The npm package").
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../cli/main.ts', import.meta.url))) {
  console.error('proofbook: the CLI runs from a checkout of the repository (npm ci, then npx proofbook …); the npm package holds the SDK only');
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
const { run } = await import('../cli/main.ts');
await run(process.argv);
