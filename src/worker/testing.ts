/** Helpers for the prover worker's tests and benchmark (test/worker-*.test.ts, bench/prove.ts); not used by the worker. */
import path from 'node:path';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { DEVNET_MNEMONIC } from '../../genesis/index.js';
import { genesisCircuitId } from '../../modules/verifier/genesis.js';
import { GENESIS_CIRCUIT } from '../zk/genesis.js';
import { parseConfig, type WorkerConfig } from './config.js';
import { ProofbookClient, RequestStatus, statusName, type Request } from '../client/proofbook.js';
import { MsgSubmitRequest, MsgSubmitRequestResponse } from '../gen/proofbook/market/v1/market.js';
import { TYPE_URLS } from '../client/registry.js';
import { publicSignalsFromInput } from '../zk/witness.js';

export const CIRCUIT = genesisCircuitId();

export async function wallet(i: number): Promise<DirectSecp256k1HdWallet> {
  return DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(i)] });
}

export function testConfig(over: Record<string, unknown>): WorkerConfig {
  return parseConfig(
    {
      circuits: [CIRCUIT],
      backend: 'snarkjs',
      threads: 1,
      blockTimeMs: 300,
      pollIntervalMs: 250,
      cooldownMs: 0,
      logLevel: 'warn',
      artifactSearchDirs: [path.dirname(GENESIS_CIRCUIT.wasmPath)],
      pricing: { calibrationProofs: 1, costPerHourUproof: 3_600_000 },
      ...over,
    },
    { calibrationInputs: { [CIRCUIT]: GENESIS_CIRCUIT.exampleInputPath } },
  );
}

/** Submits `n` requests in one tx (distinct inputs); returns their ids. */
export async function submitRequests(client: ProofbookClient, n: number, o: { maxFee: bigint; window: bigint; lifetime: bigint; seed: number; patience?: bigint }): Promise<bigint[]> {
  const h = await client.height();
  const inputs = Array.from({ length: n }, (_, i) => ({ preimage: String(o.seed * 1000 + i + 1), nonce: String(i + 7) }));
  const signals = await Promise.all(inputs.map((x) => publicSignalsFromInput(GENESIS_CIRCUIT.wasmPath, x, GENESIS_CIRCUIT.nPublic)));
  const msgs = inputs.map((input, i) => ({
    typeUrl: TYPE_URLS.submitRequest,
    value: MsgSubmitRequest.fromPartial({
      requester: client.address, circuitId: CIRCUIT,
      inputInline: Buffer.from(JSON.stringify(input)),
      expectedPublicSignals: signals[i]!.map(String),
      minFee: o.maxFee.toString(), maxFee: o.maxFee.toString(), rampBlocks: 0n, provingWindow: o.window, expiryHeight: h + o.lifetime, minCollateral: '0',
      fallbackAfterBlocks: o.patience ?? 0n,
    }),
  }));
  const r = await client.execute(msgs);
  return r.msgResponses.filter((m) => m.typeUrl === `${TYPE_URLS.submitRequest}Response`).map((m) => MsgSubmitRequestResponse.decode(m.value).requestId);
}

export async function waitAll(client: ProofbookClient, ids: bigint[], pred: (r: Request) => boolean, timeoutMs: number): Promise<Request[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const rs = await Promise.all(ids.map(async (id) => (await client.request(id)).request));
    if (rs.every(pred)) return rs;
    if (Date.now() > end) {
      const summary = rs.map((r) => `${r.id}:${statusName(r.status)}`).join(' ');
      throw new Error(`timed out waiting for requests: ${summary}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

export const fulfilled = (r: Request) => r.status === RequestStatus.REQUEST_STATUS_FULFILLED;
