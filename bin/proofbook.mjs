#!/usr/bin/env node
// Launcher for the `proofbook` bin: registers tsx so the TypeScript CLI runs without a build step.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../cli/main.ts');
await run(process.argv);
