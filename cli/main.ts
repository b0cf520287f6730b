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
  // Usage errors exit with 2 (commander's default is 1); --help/--version exit 0.
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.showHelpAfterError('(add --help for usage and examples)');
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
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
      process.stderr.write(toJson({ error: err.message, hint: err.hint ?? null, exitCode: err.exitCode }) + '\n');
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
