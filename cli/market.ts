/**
 * `proofbook tx market …` (submit-request [--wait], cancel-request, post-ask, cancel-ask, submit-proof, release) and
 * `proofbook query market …` (request, requests, book, asks, reputation, stats, params).
 * The lead mounts them: txCommand().addCommand(marketTxCommand()), queryCommand().addCommand(marketQueryCommand()).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import type { StdFee, SigningStargateClient, GasPrice, DeliverTxResponse } from '@cosmjs/stargate';
import type { AccountData, EncodeObject } from '@cosmjs/proto-signing';
import type { Comet38Client } from '@cosmjs/tendermint-rpc';
import { protoJson } from './proto-json.js';
import { Ctx, CliError, EXIT, PATIENCE_HELP, toJson } from './common.js';
import { addressArg } from './query.js';
import { DEFAULT_GAS_ADJUSTMENT, checkFeeFlags, resolveFee, txResultData, type TxFlags } from './tx.js';
import { connectComet, simulateGas } from '../src/client/tx.js';
import { proofbookRegistry, TYPE_URLS } from '../src/client/registry.js';
import { coinsToProto, parseCoins } from '../src/types/coins.js';
import { fallbackCommitment } from '../src/zk/fallback-commitment.js';
import { assignmentTerms, describeHistoryEntry } from '../src/client/describe.js';
import { decodeProof, encodeProof, proofFromSnarkjs, proofToSnarkjs, publicSignalsFromSnarkjs } from '../src/zk/groth16.js';
import {
  MsgCancelAsk,
  MsgCancelRequest,
  MsgPostAsk,
  MsgPostAskResponse,
  MsgReleaseAssignment,
  MsgReleaseAssignmentResponse,
  MsgSubmitProof,
  MsgSubmitProofResponse,
  MsgCommitFallbackProof,
  MsgCommitFallbackProofResponse,
  MsgSubmitRequest,
  MsgSubmitRequestResponse,
  QueryAsksRequest,
  QueryAsksResponse,
  QueryBookRequest,
  QueryBookResponse,
  QueryParamsRequest,
  QueryParamsResponse,
  QueryReputationRequest,
  QueryReputationResponse,
  QueryRequestRequest,
  QueryRequestResponse,
  QueryRequestsRequest,
  QueryRequestsResponse,
  QueryStatsRequest,
  QueryStatsResponse,
  QuerySpreadRequest,
  QuerySpreadResponse,
  RequestStatus,
  requestStatusFromJSON,
  requestStatusToJSON,
  Ask,
  Params,
  Reputation,
  Request,
} from '../src/gen/proofbook/market/v1/market.js';

interface MarketTxFlags extends TxFlags {
  from: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

function uintArg(s: string | undefined, what: string, dflt?: bigint): bigint {
  if (s === undefined) {
    if (dflt === undefined) throw new CliError(`${what} is required`, EXIT.USAGE);
    return dflt;
  }
  if (!/^(0|[1-9][0-9]{0,30})$/.test(s)) throw new CliError(`${what} must be a non-negative integer, got '${s}'`, EXIT.USAGE);
  return BigInt(s);
}

function circuitArg(s: string | undefined): string {
  if (s === undefined || !HEX64.test(s)) throw new CliError(`--circuit must be a 64-hex circuit id, got '${s ?? ''}'`, EXIT.USAGE, 'list circuits with: proofbook query verifier circuits');
  return s;
}

/** An amount in the market's fee denom: "5000" or "5000uproof". */
function feeArg(s: string | undefined, what: string, dflt?: string): string | undefined {
  if (s === undefined) return dflt;
  const m = /^([0-9]+)(uproof)?$/.exec(s);
  if (!m) throw new CliError(`${what} must be an amount like 5000 or 5000uproof, got '${s}'`, EXIT.USAGE);
  return BigInt(m[1]).toString();
}

/** Signs one market message with `f.from`, broadcasts, waits for the block, prints; exit 1 on failure. */
async function sendMarketMsg(
  cmd: Command,
  f: MarketTxFlags,
  build: (address: string, height: bigint) => EncodeObject,
  opts: { defaultGas?: number; extra?: (r: DeliverTxResponse) => Record<string, string>; quiet?: boolean } = {},
): Promise<{ r: DeliverTxResponse; extra: Record<string, string> }> {
  const ctx = Ctx.of(cmd);
  checkFeeFlags(f);
  const kr = ctx.keyring();
  const key = await kr.resolve(f.from);
  const { wallet } = await kr.signer(key.name);
  const comet = await connectComet(ctx.node);
  const { SigningStargateClient } = await import('@cosmjs/stargate');
  const client = SigningStargateClient.createWithSigner(comet, wallet, { registry: proofbookRegistry(), broadcastPollIntervalMs: 300, broadcastTimeoutMs: 60_000 });
  try {
    const chainId = await client.getChainId();
    if (f.chainId !== undefined && f.chainId !== chainId) throw new CliError(`--chain-id ${f.chainId} does not match the node's chain id ${chainId}`, EXIT.USAGE, `check --node (${ctx.node})`);
    const height = BigInt(await client.getHeight());
    const msgs = [build(key.address, height)];
    const [account] = await wallet.getAccounts();
    const fee = await resolveFee(client, comet, account, msgs, f, opts.defaultGas ?? 400_000);
    const r = await client.signAndBroadcast(key.address, msgs, fee, f.memo ?? '');
    const more = r.code === 0 && opts.extra ? opts.extra(r) : {};
    const data = { ...txResultData(r), ...more };
    if (!opts.quiet || r.code !== 0) {
      ctx.print(data, () =>
        [`txhash: ${data.txhash}`, `height: ${data.height}`, `code: ${data.code}`, `gas_used: ${data.gasUsed}`, `gas_wanted: ${data.gasWanted}`,
          ...Object.entries(more).map(([k, v]) => `${k}: ${v}`), ...(data.log ? [`log: ${data.log}`] : [])].join('\n'),
      );
    }
    if (r.code !== 0) throw new CliError(`transaction ${r.transactionHash} failed in block ${r.height} with code ${r.code}: ${r.rawLog ?? ''}`, EXIT.FAILED);
    return { r, extra: more };
  } finally {
    client.disconnect();
  }
}

function addFlags(cmd: Command, who: string): Command {
  return cmd
    .requiredOption('--from <key>', `name (or address) of the ${who} key in the keyring`)
    .option('--fees <coins>', 'fee to pay, e.g. 5000uproof')
    .option('--gas <limit>', 'gas limit: a number or "auto" (simulate)')
    .option('--gas-prices <price>', 'price per gas unit, e.g. 0.001uproof (fee = ceil(gas * price))')
    .option('--gas-adjustment <factor>', 'multiplier for --gas auto', String(DEFAULT_GAS_ADJUSTMENT))
    .option('--memo <text>', 'transaction memo', '')
    .option('--chain-id <id>', "expected chain id (checked against the node's)");
}

// ---- queries (shared by `query market` and `submit-request --wait`) --------------------------------------------------

async function abciQuery(node: string, p: string, data: Uint8Array): Promise<Uint8Array> {
  const comet = await connectComet(node);
  try {
    const res = await comet.abciQuery({ path: p, data });
    if ((res.code ?? 0) !== 0) throw new CliError(`query ${p} failed (codespace ${res.codespace}, code ${res.code}): ${res.log}`, EXIT.FAILED);
    return res.value;
  } finally {
    comet.disconnect();
  }
}

const Q = (m: string) => `/proofbook.market.v1.Query/${m}`;

function requestJson(r: Request): unknown {
  return protoJson('proofbook.market.v1.Request', Request, { ...r, inputInline: Buffer.alloc(0) });
}

function requestText(r: Request, currentFee?: string): string {
  const lines = [
    `id: ${r.id}`,
    `status: ${requestStatusToJSON(r.status).replace('REQUEST_STATUS_', '')}`,
    `requester: ${r.requester}`,
    `circuit: ${r.circuitId}`,
    `fee: ${r.minFee} -> ${r.maxFee} over ${r.rampBlocks} blocks${currentFee !== undefined ? ` (now ${currentFee})` : ''}`,
    `escrow: ${r.escrow}`,
    `proving_window: ${r.provingWindow}  expiry_height: ${r.expiryHeight}  submitted_height: ${r.submittedHeight}`,
  ];
  if (r.assignment) lines.push(`assigned: ${r.assignment.prover} ask #${r.assignment.askId} price ${r.assignment.price} collateral ${r.assignment.collateral} deadline ${r.assignment.deadlineHeight}`);
  if (r.status === RequestStatus.REQUEST_STATUS_FULFILLED) lines.push(`fulfilled at ${r.fulfilledHeight}, paid ${r.paidPrice}, public signals [${r.publicSignals.join(', ')}]`);
  for (const h of r.history) lines.push(`  @${h.height} ${h.event}${h.prover ? ` ${h.prover}` : ''}${h.amount ? ` ${h.amount}` : ''}`);
  return lines.join('\n');
}

async function fetchRequest(node: string, id: bigint): Promise<QueryRequestResponse> {
  return QueryRequestResponse.decode(await abciQuery(node, Q('Request'), QueryRequestRequest.encode({ id }).finish()));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Follows a request until it is final, printing each change; on FULFILLED writes proof.json / public.json into `dir`. */
async function waitForRequest(ctx: Ctx, id: bigint, dir: string, timeoutSec: number): Promise<void> {
  let printed = 0;
  const started = process.hrtime.bigint();
  for (;;) {
    const { request: r } = await fetchRequest(ctx.node, id);
    if (!r) throw new CliError(`request ${id} not found`, EXIT.FAILED);
    // Progress from the on-chain history, so no step is missed however fast the request moves.
    for (; printed < r.history.length; printed++) {
      const h = r.history[printed];
      if (ctx.output !== 'text') continue;
      const line =
        h.event === 'submitted' ? `queued (open, waiting for a prover) at height ${h.height}`
        : h.event === 'assigned' ? `assigned to ${h.prover} at price ${h.amount} (height ${h.height})${assignmentTerms(h, r.assignment)}`
        : h.event === 'fulfilled' || h.event === 'fallback_fulfilled' ? undefined // the final line says it
        : describeHistoryEntry(h); // releases, misses, declines, races, the fallback, expiry: the SDK's description
      if (line) process.stdout.write(`request ${id}: ${line}\n`);
    }
    if (r.status === RequestStatus.REQUEST_STATUS_FULFILLED) {
      const proofFile = path.join(dir, 'proof.json');
      const publicFile = path.join(dir, 'public.json');
      writeFileSync(proofFile, JSON.stringify(proofToSnarkjs(decodeProof(r.proof)), null, 1) + '\n');
      writeFileSync(publicFile, JSON.stringify(r.publicSignals, null, 1) + '\n');
      ctx.print({ request_id: id.toString(), status: 'FULFILLED', prover: r.fallbackPayee || (r.history.filter((h) => h.event === 'fulfilled').at(-1)?.prover ?? ''), price: r.paidPrice, proof: proofFile, public: publicFile }, () =>
        `request ${id}: fulfilled at height ${r.fulfilledHeight}, paid ${r.paidPrice}\nwrote ${proofFile}\nwrote ${publicFile}`,
      );
      return;
    }
    if (r.status === RequestStatus.REQUEST_STATUS_EXPIRED || r.status === RequestStatus.REQUEST_STATUS_CANCELLED) {
      throw new CliError(`request ${id} is ${requestStatusToJSON(r.status).replace('REQUEST_STATUS_', '')} (escrow refunded)`, EXIT.FAILED);
    }
    if (timeoutSec > 0 && process.hrtime.bigint() - started > BigInt(timeoutSec) * 1_000_000_000n) {
      throw new CliError(`request ${id} not fulfilled after ${timeoutSec}s (still ${requestStatusToJSON(r.status)})`, EXIT.FAILED, `follow it with: proofbook query market request ${id}`);
    }
    await sleep(1000);
  }
}

// ---- tx commands -----------------------------------------------------------------------------------------------------

interface SubmitFlags extends MarketTxFlags {
  circuit?: string;
  input?: string;
  inputUri?: string;
  inputSha256?: string;
  maxFee?: string;
  minFee?: string;
  rampBlocks?: string;
  window?: string;
  expiryIn?: string;
  minCollateral?: string;
  patience?: string;
  expectSignals?: string;
  wait?: boolean;
  waitTimeout?: string;
}

export function marketTxCommand(): Command {
  const mk = new Command('market').description('market transactions: proof requests, asks, proofs');
  addFlags(
    mk.command('submit-request')
      .description('post a proof request and escrow its max fee (the end-of-block auction assigns it to one prover)')
      .option('--circuit <id>', 'circuit id (64 hex)')
      .option('--input <file.json>', 'prover input (JSON), sent inline')
      .option('--input-uri <uri>', 'where provers fetch the input (with --input-sha256) instead of --input')
      .option('--input-sha256 <hex>', 'sha256 of the input behind --input-uri')
      .option('--max-fee <amount>', 'highest fee you pay (escrowed), e.g. 20000uproof')
      .option('--min-fee <amount>', 'starting fee of the ramp (default: max fee)')
      .option('--ramp-blocks <n>', 'blocks over which the fee rises from min to max (0: max at once)', '0')
      .option('--window <blocks>', 'blocks the assigned prover has to deliver', '20')
      .option('--expiry-in <blocks>', 'the request expires this many blocks from now', '1000')
      .option('--min-collateral <amount>', 'least collateral the prover must lock', '0')
      .option('--patience <blocks>', PATIENCE_HELP, '0')
      .option('--expect-signals <list>', 'comma-separated public signals the proof must have')
      .option('--wait', 'follow the request until it is fulfilled, then write proof.json and public.json next to the input')
      .option('--wait-timeout <seconds>', 'give up waiting after this many seconds (0: never)', '0'),
    'requester',
  )
    .addHelpText('after', '\nExample:\n  $ proofbook tx market submit-request --circuit <id> --input input.json --max-fee 20000uproof --min-fee 5000uproof \\\n      --ramp-blocks 10 --from alice --fees 5000uproof --wait')
    .action(async (f: SubmitFlags, cmd: Command) => {
      const circuitId = circuitArg(f.circuit);
      let inputInline: Uint8Array = new Uint8Array(0);
      if ((f.input === undefined) === (f.inputUri === undefined)) throw new CliError('give either --input FILE.json or --input-uri URI --input-sha256 HEX', EXIT.USAGE);
      if (f.input !== undefined) {
        try {
          inputInline = readFileSync(f.input);
          JSON.parse(Buffer.from(inputInline).toString('utf8'));
        } catch (e) {
          throw new CliError(`cannot read --input ${f.input} as JSON: ${(e as Error).message}`, EXIT.USAGE);
        }
      } else if (f.inputSha256 === undefined || !HEX64.test(f.inputSha256)) {
        throw new CliError('--input-uri needs --input-sha256 (64 lowercase hex)', EXIT.USAGE);
      }
      const maxFee = feeArg(f.maxFee, '--max-fee');
      if (maxFee === undefined) throw new CliError('--max-fee is required', EXIT.USAGE, 'e.g. --max-fee 20000uproof');
      const minFee = feeArg(f.minFee, '--min-fee', maxFee)!;
      let expect = f.expectSignals ? f.expectSignals.split(',').map((s) => s.trim()) : [];
      if (expect.length === 0) {
        // Every request commits to its proof's public signals: compute them from the input with the circuit's
        // witness generator (fetched by hash from the node or the circuit's URI, or found locally, and checked).
        if (inputInline.length === 0) throw new CliError('--input-uri needs --expect-signals (the public signals the proof must have)', EXIT.USAGE);
        const { ProofbookQueryClient } = await import('../src/client/proofbook.js');
        const { GENESIS_CIRCUIT } = await import('../src/zk/genesis.js');
        const reader = await ProofbookQueryClient.connect(Ctx.of(cmd).node);
        try {
          expect = (await reader.publicSignalsFor(circuitId, inputInline, [path.join(Ctx.of(cmd).home, 'worker', 'artifacts'), path.dirname(GENESIS_CIRCUIT.wasmPath)])).map(String);
        } catch (e) {
          throw new CliError(`cannot compute the public signals of --input: ${(e as Error).message}`, EXIT.FAILED, 'pass them with --expect-signals');
        } finally {
          reader.disconnect();
        }
      }
      const expiryIn = uintArg(f.expiryIn, '--expiry-in');
      const ctx = Ctx.of(cmd);
      const { extra } = await sendMarketMsg(
        cmd,
        f,
        (requester, height) => ({
          typeUrl: TYPE_URLS.submitRequest,
          value: MsgSubmitRequest.fromPartial({
            requester,
            circuitId,
            inputInline: Buffer.from(inputInline),
            inputUri: f.inputUri ?? '',
            inputSha256: f.inputSha256 ?? '',
            expectedPublicSignals: expect,
            minFee,
            maxFee,
            rampBlocks: uintArg(f.rampBlocks, '--ramp-blocks'),
            provingWindow: uintArg(f.window, '--window'),
            expiryHeight: height + 1n + expiryIn,
            minCollateral: feeArg(f.minCollateral, '--min-collateral', '0'),
            fallbackAfterBlocks: uintArg(f.patience, '--patience'),
          }),
        }),
        {
          // the request record (with an inline input) is written at 30 gas/byte, plus 10 gas/byte of tx size
          defaultGas: 400_000 + 45 * inputInline.length,
          extra: (r) => ({ request_id: r.msgResponses[0] ? MsgSubmitRequestResponse.decode(r.msgResponses[0].value).requestId.toString() : '' }),
        },
      );
      if (f.wait) {
        const dir = f.input !== undefined ? path.dirname(path.resolve(f.input)) : process.cwd();
        await waitForRequest(ctx, BigInt(extra.request_id), dir, Number(uintArg(f.waitTimeout, '--wait-timeout')));
      }
    });
  addFlags(mk.command('cancel-request').argument('<id>', 'request id').description('withdraw an OPEN request; the escrow is refunded'), 'requester').action(
    async (id: string, f: MarketTxFlags, cmd: Command) => {
      const requestId = uintArg(id, 'request id');
      await sendMarketMsg(cmd, f, (requester) => ({ typeUrl: TYPE_URLS.cancelRequest, value: MsgCancelRequest.fromPartial({ requester, requestId }) }));
    },
  );
  addFlags(
    mk.command('post-ask')
      .description('offer proving capacity for a circuit at a price (needs bonded collateral: proofbook tx bond bond)')
      .option('--circuit <id>', 'circuit id (64 hex)')
      .option('--price <amount>', 'lowest fee you accept per proof, e.g. 5000uproof')
      .option('--capacity <n>', 'concurrent assignments (1..1000)', '1')
      .option('--expiry-in <blocks>', 'the ask expires this many blocks from now', '10000'),
    'prover',
  )
    .addHelpText('after', '\nExample:\n  $ proofbook tx market post-ask --circuit <id> --price 5000uproof --capacity 4 --from prover0 --fees 5000uproof')
    .action(async (f: MarketTxFlags & { circuit?: string; price?: string; capacity?: string; expiryIn?: string }, cmd: Command) => {
      const circuitId = circuitArg(f.circuit);
      const price = feeArg(f.price, '--price');
      if (price === undefined) throw new CliError('--price is required', EXIT.USAGE);
      const capacity = uintArg(f.capacity, '--capacity');
      const expiryIn = uintArg(f.expiryIn, '--expiry-in');
      await sendMarketMsg(
        cmd,
        f,
        (prover, height) => ({ typeUrl: TYPE_URLS.postAsk, value: MsgPostAsk.fromPartial({ prover, circuitId, price, capacity, expiryHeight: height + 1n + expiryIn }) }),
        { extra: (r) => ({ ask_id: r.msgResponses[0] ? MsgPostAskResponse.decode(r.msgResponses[0].value).askId.toString() : '' }) },
      );
    });
  addFlags(mk.command('cancel-ask').argument('<id>', 'ask id').description('withdraw an ask (its current assignments continue)'), 'prover').action(
    async (id: string, f: MarketTxFlags, cmd: Command) => {
      const askId = uintArg(id, 'ask id');
      await sendMarketMsg(cmd, f, (prover) => ({ typeUrl: TYPE_URLS.cancelAsk, value: MsgCancelAsk.fromPartial({ prover, askId }) }));
    },
  );
  addFlags(
    mk.command('submit-proof')
      .argument('<id>', 'request id')
      .requiredOption('--proof <proof.json>', 'snarkjs proof.json')
      .requiredOption('--public <public.json>', 'snarkjs public.json')
      .description('deliver the proof of an assigned request (verified on chain; pays you the price), or reveal a committed fallback proof (see commit-fallback)'),
    'prover',
  ).action(async (id: string, f: MarketTxFlags & { proof: string; public: string }, cmd: Command) => {
    const requestId = uintArg(id, 'request id');
    let proof: Uint8Array;
    let signals: string[];
    try {
      proof = encodeProof(proofFromSnarkjs(JSON.parse(readFileSync(f.proof, 'utf8'))));
      signals = publicSignalsFromSnarkjs(JSON.parse(readFileSync(f.public, 'utf8'))).map(String);
    } catch (e) {
      throw new CliError(`cannot read the proof: ${(e as Error).message}`, EXIT.USAGE, 'pass snarkjs proof.json and public.json');
    }
    await sendMarketMsg(
      cmd,
      f,
      (prover) => ({ typeUrl: TYPE_URLS.submitProof, value: MsgSubmitProof.fromPartial({ prover, requestId, proof: Buffer.from(proof), publicSignals: signals }) }),
      { defaultGas: 1_000_000, extra: (r) => ({ paid: r.msgResponses[0] ? MsgSubmitProofResponse.decode(r.msgResponses[0].value).paid : '' }) },
    );
  });
  addFlags(
    mk.command('commit-fallback')
      .argument('<id>', 'request id')
      .requiredOption('--proof <proof.json>', 'snarkjs proof.json')
      .requiredOption('--public <public.json>', 'snarkjs public.json')
      .description('commit to a fallback proof (sha256 of proof, signals and your address; locks the commit deposit); reveal it with submit-proof from the next block on'),
    'prover',
  ).action(async (id: string, f: MarketTxFlags & { proof: string; public: string }, cmd: Command) => {
    const requestId = uintArg(id, 'request id');
    let proof: Uint8Array;
    let signals: string[];
    try {
      proof = encodeProof(proofFromSnarkjs(JSON.parse(readFileSync(f.proof, 'utf8'))));
      signals = publicSignalsFromSnarkjs(JSON.parse(readFileSync(f.public, 'utf8'))).map(String);
    } catch (e) {
      throw new CliError(`cannot read the proof: ${(e as Error).message}`, EXIT.USAGE, 'pass snarkjs proof.json and public.json');
    }
    await sendMarketMsg(
      cmd,
      f,
      (prover) => ({ typeUrl: TYPE_URLS.commitFallbackProof, value: MsgCommitFallbackProof.fromPartial({ prover, requestId, commitment: Buffer.from(fallbackCommitment(requestId, proof, signals, prover)) }) }),
      {
        extra: (r) => {
          const res = r.msgResponses[0] ? MsgCommitFallbackProofResponse.decode(r.msgResponses[0].value) : undefined;
          return { commit_id: res?.commitId.toString() ?? '', reveal_until_height: res?.revealUntilHeight.toString() ?? '' };
        },
      },
    );
  });
  addFlags(mk.command('release').argument('<id>', 'request id').description('give an assignment back before its deadline (a smaller slash than missing it)'), 'prover').action(
    async (id: string, f: MarketTxFlags, cmd: Command) => {
      const requestId = uintArg(id, 'request id');
      await sendMarketMsg(cmd, f, (prover) => ({ typeUrl: TYPE_URLS.releaseAssignment, value: MsgReleaseAssignment.fromPartial({ prover, requestId }) }), {
        extra: (r) => ({ slashed: r.msgResponses[0] ? MsgReleaseAssignmentResponse.decode(r.msgResponses[0].value).slashed : '' }),
      });
    },
  );
  return mk;
}

// ---- query commands --------------------------------------------------------------------------------------------------

function pageFlags(cmd: Command): Command {
  return cmd.option('--limit <n>', 'page size (default 100)').option('--offset <n>', 'skip this many').option('--page-key <hex>', 'next_key of the previous page');
}
function pageReq(o: { limit?: string; offset?: string; pageKey?: string }) {
  if (o.pageKey !== undefined && !/^([0-9a-fA-F]{2})+$/.test(o.pageKey)) throw new CliError(`--page-key must be hex, got '${o.pageKey}'`, EXIT.USAGE);
  if (o.pageKey !== undefined && o.offset !== undefined) throw new CliError('give either --page-key or --offset, not both', EXIT.USAGE);
  return { key: Buffer.from(o.pageKey ?? '', 'hex'), offset: uintArg(o.offset, '--offset', 0n), limit: uintArg(o.limit, '--limit', 0n), countTotal: true, reverse: false };
}

/** A right-aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function marketQueryCommand(): Command {
  const mk = new Command('market').description('market queries: requests, order book, asks, reputation, stats');
  mk.command('request')
    .argument('<id>', 'request id')
    .description('one request with its status history and current fee')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const r = await fetchRequest(ctx.node, uintArg(id, 'request id'));
      ctx.print({ request: requestJson(r.request!), current_fee: r.currentFee }, () => requestText(r.request!, r.currentFee));
    });
  pageFlags(
    mk.command('requests')
      .description('requests, filtered by requester, status (OPEN, ASSIGNED, FALLBACK, FULFILLED, CANCELLED, EXPIRED) and/or circuit')
      .option('--requester <address>', 'requester address or key name')
      .option('--status <status>', 'status filter')
      .option('--circuit <id>', 'circuit id filter (64 hex characters)'),
  ).action(async (o: { requester?: string; status?: string; circuit?: string; limit?: string; offset?: string; pageKey?: string }, cmd: Command) => {
    const ctx = Ctx.of(cmd);
    const requester = o.requester ? await addressArg(ctx, o.requester) : '';
    let status = RequestStatus.REQUEST_STATUS_UNSPECIFIED;
    if (o.status) {
      status = requestStatusFromJSON('REQUEST_STATUS_' + o.status.toUpperCase().replace(/^REQUEST_STATUS_/, ''));
      if (status === RequestStatus.UNRECOGNIZED || status === RequestStatus.REQUEST_STATUS_UNSPECIFIED) throw new CliError(`unknown --status '${o.status}'`, EXIT.USAGE, 'OPEN, ASSIGNED, FULFILLED, CANCELLED or EXPIRED');
    }
    const r = QueryRequestsResponse.decode(await abciQuery(ctx.node, Q('Requests'), QueryRequestsRequest.encode({ requester, status, circuitId: o.circuit ?? '', pagination: pageReq(o) }).finish()));
    const nextKey = Buffer.from(r.pagination?.nextKey ?? []).toString('hex');
    ctx.print({ requests: r.requests.map(requestJson), pagination: { next_key: nextKey, total: (r.pagination?.total ?? 0n).toString() } }, () =>
      r.requests.length === 0
        ? 'no requests'
        : table(
            ['ID', 'STATUS', 'MAX_FEE', 'PROVER', 'PRICE', 'EXPIRY'],
            r.requests.map((q) => [q.id.toString(), requestStatusToJSON(q.status).replace('REQUEST_STATUS_', ''), q.maxFee, q.assignment?.prover ?? '', q.assignment?.price ?? q.paidPrice, q.expiryHeight.toString()]),
          ) + (nextKey ? `\nnext page: --page-key ${nextKey}` : ''),
    );
  });
  mk.command('book')
    .argument('<circuit>', 'circuit id (64 hex)')
    .description('the order book of a circuit: asks by price (free capacity), open requests by current fee, last clearing price')
    .action(async (circuit: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const circuitId = circuitArg(circuit);
      const b = QueryBookResponse.decode(await abciQuery(ctx.node, Q('Book'), QueryBookRequest.encode({ circuitId }).finish()));
      const lvl = (l: { price: string; quantity: bigint; orders: bigint }) => ({ price: l.price, quantity: l.quantity.toString(), orders: l.orders.toString() });
      ctx.print({ circuit_id: circuitId, ...protoJson('proofbook.market.v1.QueryBookResponse', QueryBookResponse, b) }, () => {
        const rows: string[][] = [];
        for (const a of [...b.asks].reverse()) rows.push(['', '', a.price, a.quantity.toString(), a.orders.toString()]);
        rows.push(['', '', '------', '', '']);
        for (const r of b.requests) rows.push([r.orders.toString(), r.price, '', '', '']);
        const last = b.lastClearingPrice ? `last clearing price ${b.lastClearingPrice} at height ${b.lastClearingHeight}` : 'no clearing yet';
        return `circuit ${circuitId}\n` + table(['REQUESTS', 'FEE', 'ASK', 'FREE_UNITS', 'ASKS'], rows) + `\n${last}`;
      });
    });
  pageFlags(
    mk.command('asks')
      .description('asks, filtered by prover and/or circuit')
      .option('--prover <address>', 'prover address or key name')
      .option('--circuit <id>', 'circuit id'),
  ).action(async (o: { prover?: string; circuit?: string; limit?: string; offset?: string; pageKey?: string }, cmd: Command) => {
    const ctx = Ctx.of(cmd);
    const prover = o.prover ? await addressArg(ctx, o.prover) : '';
    const circuitId = o.circuit ? circuitArg(o.circuit) : '';
    const r = QueryAsksResponse.decode(await abciQuery(ctx.node, Q('Asks'), QueryAsksRequest.encode({ prover, circuitId, pagination: pageReq(o) }).finish()));
    ctx.print(protoJson('proofbook.market.v1.QueryAsksResponse', QueryAsksResponse, r), () =>
      r.asks.length === 0
        ? 'no asks'
        : table(['ID', 'PROVER', 'CIRCUIT', 'PRICE', 'ACTIVE/CAP', 'EXPIRY'], r.asks.map((a) => [a.id.toString(), a.prover, a.circuitId.slice(0, 12) + '…', a.price, `${a.active}/${a.capacity}`, a.expiryHeight.toString()])),
    );
  });
  mk.command('reputation')
    .argument('<address>', 'prover address or key name')
    .description("a prover's on-chain record per circuit (fulfilled, missed, released, mean blocks to proof)")
    .action(async (a: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const prover = await addressArg(ctx, a);
      const r = QueryReputationResponse.decode(await abciQuery(ctx.node, Q('Reputation'), QueryReputationRequest.encode({ prover }).finish()));
      ctx.print(protoJson('proofbook.market.v1.QueryReputationResponse', QueryReputationResponse, r), () =>
        r.reputations.length === 0
          ? 'no record yet'
          : table(['CIRCUIT', 'FULFILLED', 'MISSED', 'RELEASED', 'AVG_BLOCKS'], r.reputations.map((x) => [x.circuitId.slice(0, 12) + '…', x.fulfilled.toString(), x.missed.toString(), x.released.toString(), (Number(x.avgBlocksToProofMilli) / 1000).toFixed(3)])),
      );
    });
  mk.command('stats')
    .option('--circuit <id>', 'one circuit only')
    .description("per-circuit fills, mean clearing price, mean blocks to proof (of all fills, and of those delivered by the assigned prover), the circuit's pace (the moving average a prover without a record is held to), slashes, expiries over params.stats_window blocks")
    .action(async (o: { circuit?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const circuitId = o.circuit ? circuitArg(o.circuit) : '';
      const r = QueryStatsResponse.decode(await abciQuery(ctx.node, Q('Stats'), QueryStatsRequest.encode({ circuitId }).finish()));
      ctx.print(protoJson('proofbook.market.v1.QueryStatsResponse', QueryStatsResponse, r), () =>
        r.stats.length === 0
          ? 'no activity in the stats window'
          : table(['CIRCUIT', 'FILLS', 'MEAN_PRICE', 'MEAN_BLOCKS', 'BY_ASSIGNEE', 'ITS_MEAN_BLOCKS', 'PACE', 'SLASHES', 'EXPIRIES', 'WINDOW'], r.stats.map((s) => [s.circuitId.slice(0, 12) + '…', s.fills.toString(), s.meanClearingPrice, (Number(s.meanBlocksToProofMilli) / 1000).toFixed(3), s.assignedFills.toString(), (Number(s.meanAssignedBlocksToProofMilli) / 1000).toFixed(3), (Number(s.paceBlocksToProofMilli) / 1000).toFixed(3), s.slashes.toString(), s.expiries.toString(), s.windowBlocks.toString()])),
      );
    });
  mk.command('spread')
    .description("the spread rule: the penalty the next auction applies, the window's HHI and its target, each prover's recent wins")
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const r = QuerySpreadResponse.decode(await abciQuery(ctx.node, Q('Spread'), QuerySpreadRequest.encode({}).finish()));
      const bps = (v: bigint) => (Number(v) / 10_000).toFixed(4);
      ctx.print(protoJson('proofbook.market.v1.QuerySpreadResponse', QuerySpreadResponse, r), () =>
        [
          `penalty in force: ${r.penaltyInForce} (${r.targetHhiBps === 0n ? 'fixed' : `steered to HHI ${bps(r.targetHhiBps)}`})`,
          `window: ${r.windowAssignments} assignments, HHI ${bps(r.windowHhiBps)}`,
          r.provers.length === 0 ? 'no assignments yet' : table(['PROVER', 'WINS', 'SHARE'], r.provers.map((x) => [x.prover, x.wins.toString(), `${((Number(x.wins) * 100) / Number(r.windowAssignments)).toFixed(1)} %`])),
        ].join('\n'),
      );
    });
  mk.command('params')
    .description('market parameters')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const p = QueryParamsResponse.decode(await abciQuery(ctx.node, Q('Params'), QueryParamsRequest.encode({}).finish())).params!;
      const j = protoJson('proofbook.market.v1.Params', Params, p);
      ctx.print(j, () => Object.entries(j).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n'));
    });
  return mk;
}

/** sha256 hex of a file (for --input-uri users). */
export function fileSha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
