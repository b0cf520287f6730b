#!/usr/bin/env node
/**
 * proofbook command line: `node --import tsx cli/main.ts …` or the `proofbook` bin (bin/proofbook.mjs).
 * Exit codes: see EXIT in cli/common.ts and docs/cli.md.
 */
import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT, describeError, keepAlive, toJson, type GlobalOpts } from './common.js';
import { keysCommand } from './keys.js';
import { queryCommand, statusCommand } from './query.js';
import { txCommand } from './tx.js';
import { devnetCommand, initCommand, startCommand } from './node.js';

export function buildProgram(): Command {
  const program = new Command('proofbook')
    .description('proofbook: a permissionless market for zero-knowledge proofs, as a Cosmos-style appchain on CometBFT')
    .version('0.1.0')
    .option('--home <dir>', 'home directory (config, keyring, data); env PROOFBOOK_HOME, default ~/.proofbook')
    .option('--node <url>', 'CometBFT RPC endpoint; env PROOFBOOK_NODE, default http://127.0.0.1:26657')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .showHelpAfterError('(add --help for usage and examples)')
    .addHelpText('after', `
Quick start:
  $ npm start                                   # = proofbook devnet: a local chain with 10 funded accounts
  $ proofbook keys import-devnet                # devnet0..devnet9 in ~/.proofbook/keyring
  $ proofbook keys add alice --keyring-backend test
  $ proofbook tx bank send devnet0 alice 1000uproof --fees 2000uproof
  $ proofbook query balance alice --output json

Exit codes: 0 ok, 1 failed (tx code != 0, not found), 2 usage, 3 node unreachable, 4 keyring. See docs/cli.md.`);
  program.addCommand(initCommand());
  program.addCommand(devnetCommand());
  program.addCommand(startCommand());
  program.addCommand(keysCommand());
  program.addCommand(txCommand());
  program.addCommand(queryCommand());
  program.addCommand(statusCommand());
  overrideExit(program);
  return program;
}

/** Usage errors exit with 2 (commander's default is 1); --help/--version exit 0. */
function overrideExit(cmd: Command): void {
  cmd.exitOverride();
  cmd.showHelpAfterError('(add --help for usage and examples)');
  cmd.commands.forEach(overrideExit);
}

/**
 * Module command groups mounted under `tx` and `query`. They load the generated protos and module code (~1 s of
 * CPU), so each is imported only when the command line names it or asks for help.
 */
const EXTENSIONS: readonly { name: string; load: () => Promise<{ tx: Command; query: Command }> }[] = [
  { name: 'bond', load: async () => { const m = await import('./bond.js'); return { tx: m.bondTxCommand(), query: m.bondQueryCommand() }; } },
  { name: 'market', load: async () => { const m = await import('./market.js'); return { tx: m.marketTxCommand(), query: m.marketQueryCommand() }; } },
  { name: 'staking', load: async () => { const m = await import('./staking.js'); return { tx: m.stakingTxCommand(), query: m.stakingQueryCommand() }; } },
  { name: 'slashing', load: async () => { const m = await import('./staking.js'); return { tx: m.slashingTxCommand(), query: m.slashingQueryCommand() }; } },
  { name: 'verifier', load: async () => { const m = await import('./verifier.js'); return { tx: m.verifierTxCommand(), query: m.verifierQueryCommand() }; } },
  { name: 'distribution', load: async () => { const m = await import('./distribution.js'); return { tx: m.distributionTxCommand(), query: m.distributionQueryCommand() }; } },
];

/** Top-level command groups, loaded only when named (or for help) to keep every other command's start-up fast. */
const TOP_LEVEL: readonly { name: string; load: () => Promise<Command> }[] = [
  { name: 'request', load: async () => (await import('./request.js')).requestCommand() },
  { name: 'market', load: async () => (await import('./market-book.js')).marketCommand() },
  { name: 'worker', load: async () => (await import('./worker.js')).workerCommand() },
  { name: 'simulate', load: async () => (await import('./simulate.js')).simulateCommand() },
  { name: 'chain-registry', load: async () => (await import('./chain-registry.js')).chainRegistryCommand() },
  { name: 'genesis', load: async () => (await import('./genesis.js')).genesisCommand() },
];

/** Global options that take a value (`--home DIR`, `--node URL`, `-o json`): their values are not command words. */
const GLOBAL_VALUE_OPTIONS = new Set(['--home', '--node', '-o', '--output']);

/**
 * The words of a command line that may name commands: every non-option argument, except the values of global
 * options given before the command (`proofbook --home DIR --node URL worker start` -> ['worker', 'start']).
 */
export function commandWords(args: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { words.push(...args.slice(i + 1)); break; }
    if (a.startsWith('-')) {
      if (words.length === 0 && GLOBAL_VALUE_OPTIONS.has(a)) i++; // skip the option's value
      continue;
    }
    words.push(a);
  }
  return words;
}

export async function mountExtensions(program: Command, argv: string[]): Promise<void> {
  const args = argv.slice(2);
  const words = commandWords(args);
  const bareGroup = words.length === 1 && ['tx', 'query', 'q'].includes(words[0]!); // commander prints the group's help
  const help = args.includes('--help') || args.includes('-h') || words.includes('help') || words.length === 0 || bareGroup;
  const tx = program.commands.find((c) => c.name() === 'tx')!;
  const query = program.commands.find((c) => c.name() === 'query')!;
  for (const ext of EXTENSIONS) {
    if (!help && !words.includes(ext.name)) continue;
    const { tx: t, query: q } = await ext.load();
    for (const [parent, cmd] of [[tx, t], [query, q]] as const) {
      if (parent.commands.some((c) => c.name() === cmd.name())) continue;
      parent.addCommand(cmd);
      overrideExit(cmd);
    }
  }
  for (const top of TOP_LEVEL) {
    if (!help && words[0] !== top.name) continue;
    if (program.commands.some((c) => c.name() === top.name)) continue;
    const cmd = await top.load();
    program.addCommand(cmd);
    overrideExit(cmd);
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await mountExtensions(program, argv);
    await program.parseAsync(argv);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE; // commander already printed the message
    }
    const opts = program.opts<GlobalOpts>();
    const err = describeError(e, { node: opts.node, home: opts.home });
    if (opts.output === 'json') {
      process.stderr.write(toJson({ error: err.message, hint: err.hint ?? null, exit_code: err.exitCode }) + '\n');
    } else {
      process.stderr.write(`Error: ${err.message}\n${err.hint ? `Hint: ${err.hint}\n` : ''}`);
    }
    if (process.env.PROOFBOOK_DEBUG && e instanceof Error && !(e instanceof CliError)) process.stderr.write(`${e.stack}\n`);
    return err.exitCode;
  }
}

/** Runs the CLI and exits with its code, unless a long-running command (devnet, start) is serving. */
export async function run(argv: string[]): Promise<void> {
  const code = await main(argv);
  if (code !== EXIT.OK || !keepAlive.value) process.exit(code);
}

if (process.argv[1] !== undefined && /cli[\\/]main\.ts$/.test(process.argv[1])) await run(process.argv);
