/**
 * `proofbook request …`: the requester's flow on top of the SDK (src/client/proofbook.ts).
 *
 *   request prove --from KEY --circuit ID --input input.json --max-fee 50000 --window 20 [--wait]
 *   request status ID | request list [--requester ADDR] [--status S] [--circuit ID] | request cancel ID --from KEY
 *
 * `prove --wait` exit codes: 0 fulfilled (proof.json / public.json written next to the input), 1 failed,
 * 5 expired or cancelled, 6 timed out (plus the usual 2 usage, 3 node unreachable, 4 keyring).
 */
import { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Ctx, CliError, EXIT, PATIENCE_HELP } from './common.js';
import { protoJson } from './proto-json.js';
import type { ProofbookClient, ProofbookReader, Request, Amount } from '../src/client/proofbook.js';
import { RequestStatus } from '../src/gen/proofbook/market/v1/market.js';
import { fallbackOpensAt } from '../modules/market/penalties.js';
import { describeHistoryEntry } from '../src/client/describe.js';

export const REQUEST_EXIT = { FULFILLED: 0, FAILED: 1, ENDED: 5, TIMEOUT: 6 } as const;

const STATUS_NAMES: Record<string, RequestStatus> = {
  open: RequestStatus.REQUEST_STATUS_OPEN, assigned: RequestStatus.REQUEST_STATUS_ASSIGNED, fulfilled: RequestStatus.REQUEST_STATUS_FULFILLED,
  cancelled: RequestStatus.REQUEST_STATUS_CANCELLED, expired: RequestStatus.REQUEST_STATUS_EXPIRED, fallback: RequestStatus.REQUEST_STATUS_FALLBACK,
};

/** '50000' or '50000uproof' -> an SDK amount. */
export function amountArg(s: string, flag: string): Amount {
  const t = s.trim();
  if (/^\d+$/.test(t)) return BigInt(t);
  const m = /^(\d+)([a-zA-Z][a-zA-Z0-9/:._-]{1,127})$/.exec(t);
  if (!m) throw new CliError(`${flag} must be an integer amount like 50000 or 50000uproof, got '${s}'`, EXIT.USAGE);
  return { denom: m[2]!, amount: m[1]! };
}

export function uintArg(s: string | undefined, flag: string): bigint | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s.trim())) throw new CliError(`${flag} must be a non-negative integer, got '${s}'`, EXIT.USAGE);
  return BigInt(s.trim());
}

function idArg(s: string): bigint {
  if (!/^[1-9]\d*$/.test(s.trim())) throw new CliError(`request id must be a positive integer, got '${s}'`, EXIT.USAGE);
  return BigInt(s.trim());
}

export async function readerFor(ctx: Ctx): Promise<ProofbookReader> {
  const { ProofbookQueryClient } = await import('../src/client/proofbook.js');
  return ProofbookQueryClient.connect(ctx.node);
}

export async function signerFor(ctx: Ctx, from: string, gasPrices?: string): Promise<ProofbookClient> {
  const kr = ctx.keyring();
  const key = await kr.resolve(from);
  const { wallet } = await kr.signer(key.name);
  const { ProofbookClient } = await import('../src/client/proofbook.js');
  // Where a circuit's witness generator may already sit when the node does not serve /artifacts/<sha256>: the
  // worker's artifact cache in this home, and the genesis circuit shipped with the package (matched by hash only).
  const { GENESIS_CIRCUIT } = await import('../src/zk/genesis.js');
  const artifactDirs = [path.join(ctx.home, 'worker', 'artifacts'), path.dirname(GENESIS_CIRCUIT.wasmPath)];
  return ProofbookClient.connect(ctx.node, wallet, { gasPrice: gasPrices, address: key.address, artifactDirs });
}

/** A circuit id (64 hex) or a registered circuit's name. */
export async function circuitArg(client: ProofbookReader, s: string): Promise<string> {
  if (/^[0-9a-f]{64}$/i.test(s)) return s.toLowerCase();
  const matches = (await client.circuits({ limit: 1000n })).circuits.filter((c) => c.name === s);
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) throw new CliError(`circuit name '${s}' is ambiguous (${matches.length} circuits); use the id`, EXIT.USAGE);
  throw new CliError(`no circuit with id or name '${s}'`, EXIT.FAILED, 'list circuits with `proofbook query verifier circuits`');
}

export function statusLabel(s: RequestStatus): string {
  return (Object.entries(STATUS_NAMES).find(([, v]) => v === s)?.[0] ?? 'unspecified').toUpperCase();
}

export function describeRequest(
  r: Request,
  currentFee?: bigint,
  commits: readonly { prover: string; height: bigint; revealUntilHeight: bigint; price?: string; revealedHeight?: bigint }[] = [],
  fallbackFee?: bigint,
  outraceBounty?: bigint,
): string {
  const lines = [
    `request ${r.id}: ${statusLabel(r.status)}`,
    `  circuit:     ${r.circuitId}`,
    `  requester:   ${r.requester}`,
    `  fee:         ${r.minFee === r.maxFee ? r.maxFee : `${r.minFee} -> ${r.maxFee} over ${r.rampBlocks} blocks`}${currentFee !== undefined ? ` (now ${currentFee})` : ''}`,
    `  window:      ${r.provingWindow} blocks; expires at height ${r.expiryHeight}`,
  ];
  const opens = fallbackOpensAt(r);
  if (opens !== undefined) {
    // the race opens at the assignment's overdue height (its prover's own record) when that comes before the patience
    const overdue = r.status === RequestStatus.REQUEST_STATUS_ASSIGNED && r.assignment?.overdueHeight === opens;
    lines.push(overdue
      ? `  overdue:     from height ${opens} (overdue by its prover's record of the circuit, or a share of the window) any bonded prover may also deliver it`
      : `  patience:    from height ${opens} (after an assignment's accept phase) any bonded prover may also deliver it`);
  }
  if (r.assignment) lines.push(`  assignment:  ${r.assignment.prover} at price ${r.assignment.price}, collateral ${r.assignment.collateral}, deadline height ${r.assignment.deadlineHeight}`);
  const held = (r.fallbackPayeeCommitId ?? 0n) > 0n;
  if (r.status === RequestStatus.REQUEST_STATUS_FULFILLED) lines.push(`  fulfilled:   height ${r.fulfilledHeight}, ${held ? 'payment pending' : `paid ${r.paidPrice}`}, public signals [${r.publicSignals.join(', ')}]`);
  if (held) lines.push(`  payment:     held for ${r.fallbackPayee} until height ${r.fallbackPayoutHeight} (an earlier fallback commitment revealing a valid proof in its window is paid instead)`);
  if (r.excludedProvers.length > 0) lines.push(`  excluded:    ${r.excludedProvers.join(', ')} (released, missed or declined it)`);
  if (r.bounty && r.bounty !== '0') lines.push(`  bounty:      ${r.bounty} (slashed collateral, paid to whoever proves it)`);
  if (r.status === RequestStatus.REQUEST_STATUS_FALLBACK) {
    const ref = r.fallbackReferenceFee ? `; its fee ramps from ${r.fallbackReferenceFee} (the market's price) to the current fee` : '';
    lines.push(`  fallback:    since height ${r.fallbackHeight}: any bonded prover may fulfil it${ref}`);
  }
  if (fallbackFee !== undefined) lines.push(`  fallback fee: ${fallbackFee} for a commitment in the next block (what a fallback proof would be paid)`);
  if (outraceBounty !== undefined) lines.push(`  outrace:     a fallback proof delivered before the assignee's adds at least ${outraceBounty} to the bounty (its share of the assignee's release slash)`);
  for (const c of commits) {
    const when = (c.revealedHeight ?? 0n) > 0n ? `revealed at height ${c.revealedHeight}: the payee` : `may reveal until height ${c.revealUntilHeight}`;
    lines.push(`  committed:   ${c.prover} at height ${c.height}${c.price ? ` at fee ${c.price}` : ''} (${when})`);
  }
  if ((r.fallbackForfeits ?? 0) > 0) lines.push(`  forfeited:   ${r.fallbackForfeits} fallback commitment(s) expired unrevealed (deposits paid to the requester; those provers are excluded)`);
  if (r.history.length > 0) {
    lines.push('  history:');
    for (const h of r.history) lines.push(`    ${describeHistoryEntry(h, r.assignment)}`);
  }
  return lines.join('\n');
}

/**
 * What `request prove --wait` prints while it waits (waitForProof's onEvent/onProgress): every assignment (the first as
 * "assigned: …", later ones as reassignments, even when two land between polls), releases, declines, misses with the
 * slash and the compensation received, entry into the fallback, and fulfilment (assigned or through the fallback).
 */
export function waitPrinter(log: (s: string) => void): {
  onEvent: (e: { entry: Request['history'][number]; text: string; request: Request }) => void;
  onProgress: (p: { status: string; request: Request; height: bigint }) => void;
} {
  let assignments = 0;
  return {
    onEvent: ({ entry, text, request }) => {
      if (entry.event === 'submitted' || entry.event === 'fulfilled') return; // the submit line and "verified" say it
      if (entry.event === 'assigned') {
        assignments++;
        const a = request.assignment;
        const current = a !== undefined && a.prover === entry.prover && a.assignedHeight === entry.height;
        const what = assignments === 1 ? 'assigned' : 'reassigned';
        if (current) {
          log(`${what}: prover ${a.prover} at price ${a.price} (collateral ${a.collateral} locked), height ${a.assignedHeight}`);
          log(`proving: the prover has until height ${a.deadlineHeight}`);
        } else log(`${what}: ${text}`);
        return;
      }
      log(`  ${text}`);
    },
    onProgress: ({ status, request, height: h }) => {
      if (status === 'OPEN') log(`queued: waiting in the book for the next auction (height ${h})`);
      else if (status === 'FALLBACK') log(`fallback: since height ${request.fallbackHeight} any bonded prover may fulfil it (commit-reveal)${request.bounty && request.bounty !== '0' ? `, bounty ${request.bounty}` : ''}`);
      else if (status === 'FULFILLED') {
        const held = (request.fallbackPayeeCommitId ?? 0n) > 0n;
        log(`verified: proof accepted on chain at height ${request.fulfilledHeight}, ${held ? `payment to ${request.fallbackPayee} held until height ${request.fallbackPayoutHeight}` : `paid ${request.paidPrice}`}`);
      }
    },
  };
}

interface ProveFlags {
  from: string; circuit: string; input: string; maxFee: string; minFee?: string; ramp?: string; window: string; lifetime?: string;
  minCollateral?: string; expect?: string; wait?: boolean; timeout: string; gasPrices?: string; patience?: string;
}

async function prove(f: ProveFlags, cmd: Command): Promise<void> {
  const ctx = Ctx.of(cmd);
  let inputBytes: Buffer;
  try {
    inputBytes = await readFile(f.input);
  } catch (e) {
    throw new CliError(`cannot read --input ${f.input}: ${(e as Error).message}`, EXIT.USAGE);
  }
  try {
    JSON.parse(inputBytes.toString('utf8'));
  } catch (e) {
    throw new CliError(`--input ${f.input} is not JSON: ${(e as Error).message}`, EXIT.USAGE);
  }
  const maxFee = amountArg(f.maxFee, '--max-fee');
  const minFee = f.minFee !== undefined ? amountArg(f.minFee, '--min-fee') : undefined;
  const provingWindow = uintArg(f.window, '--window')!;
  const timeoutS = Number(f.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new CliError(`--timeout must be a positive number of seconds, got '${f.timeout}'`, EXIT.USAGE);
  const client = await signerFor(ctx, f.from, f.gasPrices);
  const patienceArg = f.patience === 'auto' ? 'auto' : uintArg(f.patience ?? '0', '--patience')!;
  const { ProofbookTimeoutError, ProofbookRequestEndedError, ProofbookSignalsMismatchError } = await import('../src/client/proofbook.js');
  const log = (s: string): void => { if (ctx.output === 'text') process.stdout.write(`${s}\n`); };
  try {
    const circuitId = await circuitArg(client, f.circuit);
    const patience = patienceArg === 'auto' ? await client.suggestedPatience(circuitId, provingWindow) : patienceArg;
    const { requestId, txHash, height, expectedPublicSignals } = await client.submitRequest({
      circuitId, input: new Uint8Array(inputBytes), maxFee, minFee, rampBlocks: uintArg(f.ramp, '--ramp'), provingWindow,
      lifetimeBlocks: uintArg(f.lifetime, '--lifetime'), minCollateral: f.minCollateral !== undefined ? amountArg(f.minCollateral, '--min-collateral') : undefined,
      fallbackAfterBlocks: patience,
      expectedPublicSignals: f.expect ? f.expect.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined,
    });
    log(`submitted: request ${requestId} (tx ${txHash}, height ${height}), committed to public signals [${expectedPublicSignals.join(', ')}]`);
    if (patience > 0n) log(`patience: ${patience} blocks${patienceArg === 'auto' ? " (auto: from the circuit's recent deliveries)" : ''}: from height ${BigInt(height) + patience} (not inside an assignment's accept phase) any bonded prover may also deliver it`);
    if (!f.wait) {
      if (ctx.output === 'json') ctx.print({ requestId, txHash, height, patience }, () => '');
      else log(`follow it with: proofbook request status ${requestId}   (or re-run with --wait)`);
      return;
    }
    let result;
    try {
      result = await client.waitForProof(requestId, {
        timeoutMs: Math.round(timeoutS * 1000),
        expectedPublicSignals,
        ...waitPrinter(log),
      });
    } catch (e) {
      if (e instanceof ProofbookSignalsMismatchError) throw new CliError(e.message, EXIT.FAILED, 'no proof.json / public.json written');
      if (e instanceof ProofbookRequestEndedError) throw new CliError(`request ${requestId} ${e.status.toLowerCase()} without a proof`, REQUEST_EXIT.ENDED);
      if (e instanceof ProofbookTimeoutError) {
        throw new CliError(`${e.message}; the request is still live`, REQUEST_EXIT.TIMEOUT, `check later with \`proofbook request status ${requestId}\``);
      }
      throw e;
    }
    const dir = path.dirname(path.resolve(f.input));
    const proofFile = path.join(dir, 'proof.json');
    const publicFile = path.join(dir, 'public.json');
    await writeFile(proofFile, JSON.stringify(result.proof, null, 1) + '\n');
    await writeFile(publicFile, JSON.stringify(result.publicSignals, null, 1) + '\n');
    ctx.print({ requestId, status: 'FULFILLED', proofFile, publicFile, publicSignals: result.publicSignals, paid: result.request.paidPrice },
      () => `wrote ${proofFile} and ${publicFile}`);
  } finally {
    client.disconnect();
  }
}

export function requestCommand(): Command {
  const request = new Command('request').description('request proofs and follow them (requester side of the market)');
  request
    .command('prove')
    .description('submit a proof request for a circuit and (with --wait) wait for the verified proof')
    .requiredOption('--from <key>', 'key (name or address) in the keyring that pays the fee')
    .requiredOption('--circuit <id>', 'circuit id (64 hex) or registered name, e.g. hashchain')
    .requiredOption('--input <file>', 'the circuit input as JSON (sent inline to the prover)')
    .requiredOption('--max-fee <amount>', 'most you pay for the proof, e.g. 50000 or 50000uproof (escrowed)')
    .option('--min-fee <amount>', 'starting fee of a linear ramp up to --max-fee (default: --max-fee)')
    .option('--ramp <blocks>', 'blocks over which the fee ramps from --min-fee to --max-fee', '0')
    .requiredOption('--window <blocks>', 'blocks the assigned prover has to deliver the proof')
    .option('--lifetime <blocks>', 'blocks until the request expires if nobody proves it', '200')
    .option('--min-collateral <amount>', 'minimum collateral the prover must lock')
    .option('--patience <blocks>', `${PATIENCE_HELP}; auto: twice the median blocks the circuit's assigned provers took lately + 3 (a quarter of --window before any)`, '0')
    .option('--expect <signals>', 'comma-separated public signals the proof must have (default: computed from --input with the circuit\'s witness generator)')
    .option('--wait', 'wait for the proof, print progress, write proof.json and public.json next to the input')
    .option('--timeout <seconds>', 'give up waiting after this long (exit 6)', '600')
    .option('--gas-prices <price>', 'gas price', '0.001uproof')
    .addHelpText('after', `
Exit codes with --wait: 0 fulfilled, 1 failed, 5 expired or cancelled, 6 timed out.

Example:
  $ proofbook request prove --from devnet0 --circuit hashchain --input input.json --max-fee 50000 --window 20 --wait`)
    .action(prove);

  request
    .command('status')
    .argument('<id>', 'request id')
    .description('show a request: status, fee, assignment, history')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      idArg(id); // a malformed id is a usage error before the node is asked
      const client = await readerFor(ctx);
      try {
        const { ProofbookNotFoundError } = await import('../src/client/proofbook.js');
        let r;
        try {
          r = await client.request(idArg(id));
        } catch (e) {
          if (e instanceof ProofbookNotFoundError) throw new CliError(`request ${id} not found`, EXIT.FAILED);
          throw e;
        }
        const { marketTypes } = await import('../src/index.js');
        // A settled request past the retention window is rebuilt from tx history (src/client/history.ts).
        const src = r.fromHistory ? 'tx history (no longer in state)' : 'state';
        const race = { ...(r.fallbackFee !== undefined ? { fallbackFee: r.fallbackFee } : {}), ...(r.outraceBounty !== undefined ? { outraceBounty: r.outraceBounty } : {}) };
        ctx.print({ request: protoJson('proofbook.market.v1.Request', marketTypes.Request, r.request), currentFee: r.currentFee, ...race, source: src },
          () => describeRequest(r.request, r.currentFee, r.fallbackCommits, r.fallbackFee, r.outraceBounty) + (r.fromHistory ? `\n  source:      ${src}` : ''));
      } finally {
        client.disconnect();
      }
    });

  request
    .command('list')
    .description('list requests, optionally by requester, status and circuit')
    .option('--requester <address>', 'only this requester (bech32 address or key name)')
    .option('--status <status>', `only this status: ${Object.keys(STATUS_NAMES).join('|')}`)
    .option('--circuit <id>', 'only this circuit (64 hex characters)')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o: { requester?: string; status?: string; circuit?: string; limit: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      let status: RequestStatus | undefined;
      if (o.status !== undefined) {
        status = STATUS_NAMES[o.status.toLowerCase()];
        if (status === undefined) throw new CliError(`--status must be one of ${Object.keys(STATUS_NAMES).join(', ')}, got '${o.status}'`, EXIT.USAGE);
      }
      let requester = o.requester;
      if (requester !== undefined && !requester.startsWith('proof1')) requester = (await ctx.keyring().resolve(requester)).address;
      const limit = uintArg(o.limit, '--limit')!;
      const client = await readerFor(ctx);
      try {
        const { requests } = await client.requests({ requester, status, circuitId: o.circuit, pagination: { limit } });
        const { marketTypes } = await import('../src/index.js');
        ctx.print({ requests: requests.map((r) => protoJson('proofbook.market.v1.Request', marketTypes.Request, r)) }, () => {
          if (requests.length === 0) return 'no requests';
          const { table } = tableHelper;
          return table(['id', 'status', 'circuit', 'max fee', 'window', 'expiry', 'prover'],
            requests.map((r) => [String(r.id), statusLabel(r.status), r.circuitId.slice(0, 12) + '…', r.maxFee, String(r.provingWindow), String(r.expiryHeight), r.assignment?.prover ?? '-']));
        });
      } finally {
        client.disconnect();
      }
    });

  request
    .command('cancel')
    .argument('<id>', 'request id')
    .requiredOption('--from <key>', 'the requester\'s key')
    .option('--gas-prices <price>', 'gas price', '0.001uproof')
    .description('withdraw an open (not yet assigned) request; the escrow is refunded')
    .action(async (id: string, o: { from: string; gasPrices?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      idArg(id);
      const client = await signerFor(ctx, o.from, o.gasPrices);
      try {
        const r = await client.cancelRequest(idArg(id));
        ctx.print({ requestId: id, txHash: r.txHash, height: r.height }, () => `cancelled request ${id} (tx ${r.txHash}, height ${r.height})`);
      } finally {
        client.disconnect();
      }
    });
  return request;
}

/** A left-aligned first column, right-aligned numbers: a plain text table. */
export const tableHelper = {
  table(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
  },
};
