/**
 * ProofbookClient / ProofbookQueryClient against an in-process devnet: read calls, typed errors (tx rejected in
 * simulation and in CheckTx, not found), waitForProof's CANCELLED / EXPIRED / timeout / abort rejections, progress
 * reports over the NewBlock websocket (polling effectively disabled), and quote() on the live book.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { startDevnet } from '../app/devnet/index.js';
import { DEVNET_MNEMONIC } from '../genesis/index.js';
import {
  ProofbookClient, ProofbookQueryClient, ProofbookTxError, ProofbookNotFoundError, ProofbookTimeoutError,
  ProofbookRequestEndedError, ProofbookAbortedError, RequestStatus, quote,
} from '../src/index.js';

test('SDK: read calls, typed errors, waitForProof rejections and websocket progress, quote', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'sdk-client-'));
  const devnet = await startDevnet({ home, blockTimeMs: 100, rpcAddress: '127.0.0.1:0', logger: pino({ level: 'warn' }) });
  const clients: { disconnect(): void }[] = [];
  try {
    await devnet.waitForHeight(1);
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(2), makeCosmoshubPath(3)] });
    const [reqAcc, provAcc] = await wallet.getAccounts();
    const requester = await ProofbookClient.connect(devnet.rpcUrl, wallet, { address: reqAcc!.address, pollIntervalMs: 100 });
    const prover = await ProofbookClient.connect(devnet.rpcUrl, wallet, { address: provAcc!.address, pollIntervalMs: 100 });
    const reader = await ProofbookQueryClient.connect(devnet.rpcUrl);
    clients.push(requester, prover, reader);
    t.is(requester.address, reqAcc!.address);
    t.is(prover.address, provAcc!.address);

    // Reads.
    const params = await reader.params();
    t.is(params.market.feeDenom, 'uproof');
    t.true(params.bond.collateralDenoms.includes('uproof'));
    const circuit = (await reader.circuits()).circuits.find((c) => c.name === 'hashchain')!;
    t.truthy(circuit);
    t.is((await reader.circuit(circuit.id)).id, circuit.id);
    const nf = await t.throwsAsync(reader.request(987_654n), { instanceOf: ProofbookNotFoundError });
    t.regex(nf!.message, /987654/);
    await t.throwsAsync(reader.circuit('00'.repeat(32)), { instanceOf: ProofbookNotFoundError });

    // A tx rejected in simulation: proving window 0.
    const bad = await t.throwsAsync(requester.submitRequest({ circuitId: circuit.id, input: { preimage: '1', nonce: '1' }, maxFee: 50_000n, provingWindow: 0n }),
      { instanceOf: ProofbookTxError }) as ProofbookTxError;
    t.is(bad.codespace, 'market');
    t.true(bad.code > 1);
    t.is(bad.txHash, '');
    t.regex(bad.log, /proving_window/);
    // Wrong denom for the fee is caught client-side.
    await t.throwsAsync(requester.submitRequest({ circuitId: circuit.id, input: { a: 1 }, maxFee: { denom: 'uatom', amount: '5' }, provingWindow: 10n }), { instanceOf: RangeError });

    // Prover: bond and one ask.
    await prover.bond(500_000n);
    const pv = await reader.prover(prover.address);
    t.is(pv.prover?.bonded.find((c) => c.denom === 'uproof')?.amount, '500000');
    const { askId } = await prover.postAsk({ circuitId: circuit.id, price: 7_000n, capacity: 3n });
    const asks = await reader.asks({ prover: prover.address });
    t.deepEqual(asks.asks.map((a) => [a.id, a.price, a.capacity]), [[askId, '7000', 3n]]);
    const book = await reader.book(circuit.id);
    t.deepEqual(book.asks.map((l) => [l.price, l.quantity]), [['7000', 3n]]);
    const q = quote(circuit.id, 1n, book, await reader.stats(circuit.id), BigInt(params.market.minFee));
    t.is(q.freeCapacity, 3n);
    t.is(q.estimate, 7_000n); // the second free unit (also 7000) is the first left out
    t.true(q.suggestedMaxFee >= 7_000n);
    t.true(q.explanation.length > 0);

    // A request that gets assigned (in the block that includes it): the first check reports it.
    const statuses: string[] = [];
    const { requestId: r1 } = await requester.submitRequest({ circuitId: circuit.id, input: { preimage: '5', nonce: '6' }, maxFee: 20_000n, provingWindow: 50n, lifetimeBlocks: 500n });
    const ac = new AbortController();
    const aborted = requester.waitForProof(r1, { timeoutMs: 120_000, signal: ac.signal, pollIntervalMs: 600_000, onProgress: (p) => statuses.push(p.status) });
    aborted.catch(() => undefined);
    for (let i = 0; i < 200 && !statuses.includes('ASSIGNED'); i++) await new Promise((r) => setTimeout(r, 50));
    t.deepEqual(statuses, ['ASSIGNED']);
    ac.abort();
    await t.throwsAsync(aborted, { instanceOf: ProofbookAbortedError });
    const assigned = await reader.request(r1);
    t.is(assigned.request.status, RequestStatus.REQUEST_STATUS_ASSIGNED);
    t.is(assigned.request.assignment?.prover, prover.address);
    t.true((await reader.requests({ requester: requester.address })).requests.some((r) => r.id === r1));

    // Timeout on a request that stays assigned.
    const to = await t.throwsAsync(requester.waitForProof(r1, { timeoutMs: 300, pollIntervalMs: 100 }), { instanceOf: ProofbookTimeoutError }) as ProofbookTimeoutError;
    t.is(to.lastStatus, RequestStatus.REQUEST_STATUS_ASSIGNED);
    t.is(to.requestId, r1);

    // An assignment cannot be cancelled by the requester; the CheckTx/simulation rejection is typed.
    await t.throwsAsync(requester.cancelRequest(r1), { instanceOf: ProofbookTxError });

    // Cancel an open request (no free capacity for a circuit nobody serves: cancel the prover's ask first).
    await prover.cancelAsk(askId);
    const { requestId: r2 } = await requester.submitRequest({ circuitId: circuit.id, input: { preimage: '7', nonce: '8' }, maxFee: 20_000n, provingWindow: 50n, lifetimeBlocks: 500n });
    t.is((await reader.request(r2)).request.status, RequestStatus.REQUEST_STATUS_OPEN);
    // Polling every 10 minutes only: the cancellation can only be noticed through the NewBlock websocket.
    const waitCancelled = requester.waitForProof(r2, { timeoutMs: 60_000, pollIntervalMs: 600_000 });
    waitCancelled.catch(() => undefined);
    await requester.cancelRequest(r2);
    const ended = await t.throwsAsync(waitCancelled, { instanceOf: ProofbookRequestEndedError }) as ProofbookRequestEndedError;
    t.is(ended.status, 'CANCELLED');

    // Expiry: a request that lives 30 blocks (3 s) with no capacity. Not fewer: under load, simulating, signing and
    // broadcasting took longer than 3 blocks, the recheck dropped the expired tx from the mempool and the wait timed out.
    const { requestId: r3 } = await requester.submitRequest({ circuitId: circuit.id, input: { preimage: '9', nonce: '9' }, maxFee: 20_000n, provingWindow: 2n, lifetimeBlocks: 30n });
    const expired = await t.throwsAsync(reader.waitForProof(r3, { timeoutMs: 60_000, pollIntervalMs: 100 }), { instanceOf: ProofbookRequestEndedError }) as ProofbookRequestEndedError;
    t.is(expired.status, 'EXPIRED');
    t.is(expired.request.status, RequestStatus.REQUEST_STATUS_EXPIRED);

    // Reputation / stats exist for the prover's circuit after an assignment.
    t.true(Array.isArray(await reader.reputation(prover.address)));
    t.true((await reader.stats()).length >= 0);
  } finally {
    for (const c of clients) c.disconnect();
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  }
});
