/** Entry point of `npm run simulate -- --scenario scenarios/baseline.json [--seed N] [--out results/]`. */
import { simulateCommand } from '../cli/simulate.js';

const cmd = simulateCommand();
cmd.name('simulate');
cmd.parseAsync(process.argv).catch((e: Error) => {
  console.error(`simulate: ${e.message}`);
  process.exit(2);
});
