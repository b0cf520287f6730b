/**
 * `npm run bench [-- SECTION...]`: runs the named benchmark sections (all when none are named) and
 * prints one table per section. Each section measures a baseline in the same process so ratios are
 * comparable on whatever machine runs it.
 */
const sections: Record<string, () => Promise<{ run: (args: string[]) => Promise<void> }>> = {
  tx: () => import('./tx.js'),
  verify: () => import('./verify.js'),
  matching: () => import('./matching.js'),
  endblock: () => import('./endblock.js'),
  adversarial: () => import('./adversarial.js'),
  store: () => import('./store.js'),
  prove: () => import('./prove.js'),
  explorer: () => import('./explorer.js'),
  state: () => import('./state.js'),
  statesync: () => import('./statesync.js'),
  node: () => import('./node.js'),
};

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
if (flags.includes('--help')) {
  console.log(`usage: npm run bench [-- ${Object.keys(sections).join('|')} ...] [--quick]`);
  process.exit(0);
}
const chosen = args.length ? args : Object.keys(sections);
for (const name of chosen) {
  const load = sections[name];
  if (!load) {
    console.error(`unknown bench section '${name}'; choose from: ${Object.keys(sections).join(', ')}`);
    process.exit(2);
  }
  const mod = await load();
  await mod.run(flags);
}
process.exit(0);
