import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { ProofbookClient } from 'proofbook';

const rpcUrl = process.env.PROOFBOOK_RPC ?? 'http://127.0.0.1:26657';
const wallet = await DirectSecp256k1HdWallet.fromMnemonic(process.env.PROOFBOOK_MNEMONIC!, { prefix: 'proof' });
const client = await ProofbookClient.connect(rpcUrl, wallet);

// The genesis circuit proves knowledge of a preimage of a Poseidon hash chain: public signals [digest, nonce].
const { circuits } = await client.circuits();
const circuit = circuits.find((c) => c.name === 'hashchain')!;

const { requestId } = await client.submitRequest({
  circuitId: circuit.id,
  input: { preimage: '123456789', nonce: '42' }, // sent inline as JSON; the prover computes the witness
  maxFee: 50_000n,                               // uproof, escrowed until settlement
  provingWindow: 20n,                            // blocks the assigned prover has to deliver
});
console.log(`request ${requestId} submitted`);

const { proof, publicSignals } = await client.waitForProof(requestId, {
  timeoutMs: 120_000,
  onProgress: ({ status, height }) => console.log(`request ${requestId}: ${status} (height ${height})`),
});
console.log(`proof ${JSON.stringify(proof)}`);
console.log(`public signals ${publicSignals.join(',')}`);
client.disconnect();