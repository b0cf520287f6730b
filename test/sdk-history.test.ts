/**
 * Requests removed from state by the retention window (modules/market/retention.ts) are rebuilt by the SDK from the
 * node's tx/event history (src/client/history.ts): a fulfilled request's proof and signals, a cancelled request's
 * status, and waitForProof resolving for a request fulfilled and pruned before the wait began. Real devnet, real proof.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { startDevnet } from '../app/devnet/index.js';
import { DEVNET_MNEMONIC, defaultGenesis } from '../genesis/index.js';
import { ProofbookClient, ProofbookQueryClient, RequestStatus } from '../src/index.js';
import { GENESIS_CIRCUIT, genesisInput } from '../src/zk/genesis.js';
import { proveWithSnarkjs, terminateSnarkjs } from '../src/zk/prove.js';
import { encodeProof, proofFromSnarkjs } from '../src/zk/groth16.js';

test.after.always(() => terminateSnarkjs());

test('SDK falls back to tx history for requests pruned from state', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'sdk-history-'));
  const g = defaultGenesis() as any;
  g.market.params.settled_retention_blocks = '2';
  const devnet = await startDevnet({ home, blockTimeMs: 100, rpcAddress: '127.0.0.1:0', appState: g, logger: pino({ level: 'warn' }) });
  const clients: { disconnect(): void }[] = [];
  try {
    await devnet.waitForHeight(1);
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(4), makeCosmoshubPath(5)] });
    const [reqAcc, provAcc] = await wallet.getAccounts();
    const requester = await ProofbookClient.connect(devnet.rpcUrl, wallet, { address: reqAcc!.address, pollIntervalMs: 100 });
    const prover = await ProofbookClient.connect(devnet.rpcUrl, wallet, { address: provAcc!.address, pollIntervalMs: 100 });
    const reader = await ProofbookQueryClient.connect(devnet.rpcUrl);
    clients.push(requester, prover, reader);
    const circuit = (await reader.circuits()).circuits.find((c) => c.name === 'hashchain')!;
    await prover.bond(500_000n);
    await prover.postAsk({ circuitId: circuit.id, price: 7_000n, capacity: 1n });
    const input = genesisInput(5n, 6n);
    const { requestId: r1 } = await requester.submitRequest({ circuitId: circuit.id, input, maxFee: 50_000n, provingWindow: 30n });
    const { requestId: r2 } = await requester.submitRequest({ circuitId: circuit.id, input, maxFee: 50_000n, provingWindow: 30n });
    await requester.cancelRequest(r2);
    for (let i = 0; i < 100 && (await reader.request(r1)).request.status !== RequestStatus.REQUEST_STATUS_ASSIGNED; i++) await new Promise((r) => setTimeout(r, 100));
    const p = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, input, { singleThread: true });
    const sent = await prover.submitProof(r1, p.proof, p.publicSignals);
    t.true(sent.paid > 0n);
    // wait until both are out of state (retention 2 blocks)
    const inState = async (id: bigint) => !(await reader.request(id)).fromHistory;
    for (let i = 0; i < 200 && ((await inState(r1)) || (await inState(r2))); i++) await new Promise((r) => setTimeout(r, 100));

    const h1 = await reader.request(r1);
    t.true(h1.fromHistory);
    t.is(h1.request.status, RequestStatus.REQUEST_STATUS_FULFILLED);
    t.is(h1.request.requester, requester.address);
    t.is(h1.request.circuitId, circuit.id);
    t.deepEqual(JSON.parse(Buffer.from(h1.request.inputInline).toString()), JSON.parse(JSON.stringify(input)));
    t.deepEqual(h1.request.publicSignals, p.publicSignals.map(String));
    t.true(h1.request.fulfilledHeight > 0n);
    const h2 = await reader.request(r2);
    t.true(h2.fromHistory);
    t.is(h2.request.status, RequestStatus.REQUEST_STATUS_CANCELLED);
    // waitForProof on a pruned, fulfilled request resolves from history with the verified proof
    const res = await reader.waitForProof(r1, { timeoutMs: 30_000 });
    t.deepEqual(res.publicSignals, p.publicSignals.map(String));
    t.deepEqual(Buffer.from(encodeProof(proofFromSnarkjs(res.proof))), Buffer.from(encodeProof(p.proof)));
    t.deepEqual(Buffer.from(h1.request.proof), Buffer.from(encodeProof(p.proof)));
  } finally {
    for (const c of clients) c.disconnect();
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  }
});
