/**
 * `proofbook market book|quote`: the order book of a circuit as a readable table, and a price quote for N proofs
 * with the reasoning behind it (src/client/quote.ts).
 */
import { Command } from 'commander';
import { Ctx, CliError, EXIT } from './common.js';
import { protoJson } from './proto-json.js';
import { circuitArg, readerFor, tableHelper, uintArg } from './request.js';

function bookCommand(): Command {
  return new Command('book')
    .description('show the order book of a circuit: ask levels (free capacity), open requests, last clearing price')
    .requiredOption('--circuit <id>', 'circuit id (64 hex) or registered name')
    .action(async (o: { circuit: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const client = await readerFor(ctx);
      try {
        const circuitId = await circuitArg(client, o.circuit);
        const [book, height] = await Promise.all([client.book(circuitId), client.height()]);
        const { marketTypes } = await import('../src/index.js');
        ctx.print({ circuit_id: circuitId, height, ...protoJson('proofbook.market.v1.QueryBookResponse', marketTypes.QueryBookResponse, book) }, () => {
          const out = [`order book for circuit ${circuitId} at height ${height}`, ''];
          out.push('asks (provers):');
          out.push(book.asks.length === 0 ? '  (none)' : tableHelper.table(['price', 'free units', 'asks'], book.asks.map((l) => [l.price, String(l.quantity), String(l.orders)])));
          out.push('', 'open requests (current fee):');
          out.push(book.requests.length === 0 ? '  (none)' : tableHelper.table(['fee', 'requests'], [...book.requests].reverse().map((l) => [l.price, String(l.quantity)])));
          out.push('', book.lastClearingHeight > 0n ? `last clearing price ${book.lastClearingPrice} at height ${book.lastClearingHeight}` : 'no clearing yet');
          return out.join('\n');
        });
      } finally {
        client.disconnect();
      }
    });
}

/** What `--patience auto` sets for a `window`-block request of `circuitId`, and why (src/client/patience.ts). */
async function patienceLine(client: Awaited<ReturnType<typeof readerFor>>, circuitId: string, window: bigint): Promise<{ blocks: bigint; text: string }> {
  const { medianAssignedMilli, patienceFor } = await import('../src/client/patience.js');
  const m = medianAssignedMilli((await client.statsHistory(circuitId)).blocks);
  const p = patienceFor(m, window);
  const why = m === undefined
    ? 'no delivery by an assigned prover in the stats window: a quarter of the window'
    : `twice the median ${(Number(m) / 1000).toFixed(3)} blocks from assignment to proof of the assigned provers' recent deliveries, + 3`;
  return { blocks: p, text: `--patience auto for a ${window}-block window: ${p} blocks (${why})` };
}

function quoteCommand(): Command {
  return new Command('quote')
    .description('estimate the price of N proofs now, from the book\'s cheapest free ask capacity and recent clearing prices')
    .requiredOption('--circuit <id>', 'circuit id (64 hex) or registered name')
    .option('--count <n>', 'number of proofs', '1')
    .option('--window <blocks>', 'also say what `request prove --patience auto` would set for this proving window')
    .action(async (o: { circuit: string; count: string; window?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const count = uintArg(o.count, '--count')!;
      if (count === 0n) throw new CliError('--count must be at least 1', EXIT.USAGE);
      const window = o.window === undefined ? undefined : uintArg(o.window, '--window')!;
      if (window === 0n) throw new CliError('--window must be at least 1', EXIT.USAGE);
      const client = await readerFor(ctx);
      try {
        const circuitId = await circuitArg(client, o.circuit);
        const [book, stats, params] = await Promise.all([client.book(circuitId), client.stats(circuitId), client.params()]);
        const { quote } = await import('../src/client/quote.js');
        const q = quote(circuitId, count, book, stats, BigInt(params.market.minFee || '0'));
        const denom = params.market.feeDenom;
        const patience = window === undefined ? undefined : await patienceLine(client, circuitId, window);
        ctx.print({ ...q, denom, ...(patience ? { patience: patience.blocks } : {}) }, () => [
          q.estimate !== null
            ? `likely price now: ${q.estimate}${denom} per proof for ${count} proof(s)`
            : `no price now: the book cannot serve ${count} more proof(s) at the moment`,
          `suggested --max-fee: ${q.suggestedMaxFee}${denom}`,
          ...(patience ? [patience.text] : []),
          '',
          'how this was estimated:',
          ...q.explanation.map((l) => `  - ${l}`),
        ].join('\n'));
      } finally {
        client.disconnect();
      }
    });
}

/** The `book` and `quote` subcommands, for mounting under the `market` command group. */
export function marketBookCommands(): Command[] {
  return [bookCommand(), quoteCommand()];
}

/** A standalone `market` group holding book and quote (if the lead does not merge them into another group). */
export function marketCommand(): Command {
  const market = new Command('market').description('order book and price quotes');
  for (const c of marketBookCommands()) market.addCommand(c);
  return market;
}
