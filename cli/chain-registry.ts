/**
 * `proofbook chain-registry`: chain.json + assetlist.json (cosmos/chain-registry) and a Keplr
 * experimentalSuggestChain document, generated from a genesis (a file, or the node's `genesis` RPC) and the node's
 * public addresses. The documents are built by src/client/chain-registry.ts.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { chainRegistryDocuments } from '../src/client/chain-registry.js';
import { CliError, Ctx, EXIT } from './common.js';

export function chainRegistryCommand(): Command {
  return new Command('chain-registry')
    .description('write chain.json, assetlist.json (chain-registry) and keplr-chain-info.json from the genesis and the node addresses')
    .option('--genesis <file>', 'genesis file (CometBFT genesis.json or proofbook home genesis.json); default: the genesis of --node')
    .option('--rpc <url>', 'public CometBFT RPC URL to publish (default: --node)')
    .option('--rest <url>', 'public REST URL to publish', 'http://127.0.0.1:1317')
    .option('--grpc <host:port>', 'public gRPC address to publish')
    .option('--chain-name <name>', 'chain-registry chain_name (default proofbook, proofbookdevnet, proofbooktestnet by chain id)')
    .option('--out <dir>', 'directory to write the three files into (default: print {chain, assetlist, keplr} as JSON)')
    .addHelpText('after', `
Examples:
  $ proofbook chain-registry --out ./registry                    # from the running devnet's genesis
  $ proofbook chain-registry --genesis ~/.cometbft/config/genesis.json --rpc https://rpc.example --rest https://api.example`)
    .action(async (o: { genesis?: string; rpc?: string; rest: string; grpc?: string; chainName?: string; out?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      for (const [flag, v] of [['--rpc', o.rpc], ['--rest', o.rest]] as const) {
        if (v !== undefined && !/^(https?|wss?):\/\/[^\s/]+/.test(v)) throw new CliError(`${flag} must be an http(s) URL, got '${v}'`, EXIT.USAGE);
      }
      let genesis: unknown;
      if (o.genesis) {
        let text: string;
        try {
          text = await readFile(o.genesis, 'utf8');
        } catch (e) {
          throw new CliError(`cannot read ${o.genesis}: ${(e as Error).message}`, EXIT.USAGE);
        }
        try {
          genesis = JSON.parse(text);
        } catch (e) {
          throw new CliError(`${o.genesis} is not JSON: ${(e as Error).message}`, EXIT.USAGE);
        }
      } else {
        let res: Response;
        try {
          res = await fetch(`${ctx.node}/genesis`, { signal: AbortSignal.timeout(15_000) });
        } catch (e) {
          throw new CliError(`node ${ctx.node} did not answer: ${(e as Error).message}`, EXIT.NODE_UNREACHABLE);
        }
        genesis = ((await res.json()) as { result?: unknown }).result;
      }
      let docs;
      try {
        docs = chainRegistryDocuments(genesis, { rpc: o.rpc ?? ctx.node, rest: o.rest, ...(o.grpc ? { grpc: o.grpc } : {}), ...(o.chainName ? { chainName: o.chainName } : {}) });
      } catch (e) {
        throw new CliError((e as Error).message, EXIT.USAGE);
      }
      if (o.out) {
        await mkdir(o.out, { recursive: true });
        const files = { 'chain.json': docs.chain, 'assetlist.json': docs.assetlist, 'keplr-chain-info.json': docs.keplr };
        for (const [name, doc] of Object.entries(files)) await writeFile(path.join(o.out, name), JSON.stringify(doc, null, 2) + '\n');
        ctx.print({ out: o.out, files: Object.keys(files) }, () => `wrote ${Object.keys(files).map((f) => path.join(o.out!, f)).join(', ')}`);
      } else {
        process.stdout.write(JSON.stringify(docs, null, 2) + '\n');
      }
    });
}
