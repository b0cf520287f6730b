/**
 * The verifier module inside the real app (LevelDB, ABCI call sequence, invariants after every block): genesis
 * circuit, MsgRegisterCircuit through signed txs, rejections with codes, queries over ABCI, restart, and verifyProof
 * on committed state with real proofs.
 */
import test from 'ava';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
import { createHash } from 'node:crypto';
import { TestChain, devnetKey } from './helpers/chain.js';
import { rawKeyFromPrivkey, type RawKey } from '../src/client/sign.js';
import { Context } from '../src/framework/context.js';
import { CacheKV } from '../src/store/cache.js';
import { GasMeter } from '../src/framework/gas.js';
import { moduleAddress } from '../src/crypto/address.js';
import {
  MsgRegisterCircuit,
  MsgRegisterCircuitResponse,
  ProofSystem,
  QueryCircuitRequest,
  QueryCircuitResponse,
  QueryCircuitsRequest,
  QueryCircuitsResponse,
  QueryParamsRequest,
  QueryParamsResponse,
} from '../src/gen/proofbook/verifier/v1/verifier.js';
import { encodeProof, encodeVerifyingKey, type Groth16VerifyingKey } from '../src/zk/groth16.js';
import { GENESIS_CIRCUIT, genesisInput, loadGenesisVerifyingKey } from '../src/zk/genesis.js';
import { proveWithSnarkjs, terminateSnarkjs } from '../src/zk/prove.js';
import { REGISTER_DEFAULT_GAS } from '../cli/verifier.js';
import { initVerifierBackend, genesisCircuitId, computeCircuitId, DEFAULT_PARAMS, type VerifierKeeper } from '../modules/verifier/index.js';

const FEE = [{ denom: 'uproof', amount: 2000n }];
const REGISTER = '/proofbook.verifier.v1.MsgRegisterCircuit';
const VERIFIER_ACCT = moduleAddress('verifier');

let proof: { bytes: Uint8Array; signals: bigint[] };

test.before(async () => {
  await initVerifierBackend();
  const r = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, genesisInput(31337n, 77n), { singleThread: true });
  proof = { bytes: encodeProof(r.proof), signals: r.publicSignals };
});
test.after.always(async () => {
  await terminateSnarkjs();
});

function vkVariant(): Groth16VerifyingKey {
  const vk = loadGenesisVerifyingKey();
  return { ...vk, ic: [vk.ic[2], vk.ic[0], vk.ic[1]] };
}

function registerTx(from: RawKey, over: Partial<MsgRegisterCircuit> = {}) {
  const msg = MsgRegisterCircuit.fromPartial({
    creator: from.address,
    name: 'variant',
    proofSystem: ProofSystem.PROOF_SYSTEM_GROTH16_BN254,
    verifyingKey: Buffer.from(encodeVerifyingKey(vkVariant())),
    constraints: 4741n,
    wasm: { sha256: 'aa'.repeat(32), uri: 'https://artifacts.example/variant.wasm', size: 100n },
    provingKey: { sha256: 'bb'.repeat(32), uri: 'https://artifacts.example/variant.zkey', size: 200n },
    ...over,
  });
  return { msgs: [{ typeUrl: REGISTER, value: MsgRegisterCircuit.encode(msg).finish() }], fee: FEE, gasLimit: 1_000_000n };
}

async function balance(chain: TestChain, address: string): Promise<bigint> {
  const r = await chain.query('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom: 'uproof' }).finish());
  return BigInt(QueryBalanceResponse.decode(r.value).balance!.amount);
}

async function circuit(chain: TestChain, id: string) {
  const r = await chain.query('/proofbook.verifier.v1.Query/Circuit', QueryCircuitRequest.encode({ id }).finish());
  return r.code === 0 ? QueryCircuitResponse.decode(r.value).circuit : r;
}

test('genesis circuit, registration through a signed tx, duplicate and unfunded registrations refused, state survives a restart', async (t) => {
  const chain = await TestChain.create();
  t.teardown(() => chain.close());
  const alice = await devnetKey(0);

  // Genesis: params and the genesis circuit.
  const params = QueryParamsResponse.decode((await chain.query('/proofbook.verifier.v1.Query/Params', QueryParamsRequest.encode({}).finish())).value).params;
  t.deepEqual(params, DEFAULT_PARAMS);
  const g = (await circuit(chain, genesisCircuitId())) as any;
  t.is(g.name, 'hashchain');
  t.is(g.owner, VERIFIER_ACCT);
  const missing = (await circuit(chain, '00'.repeat(32))) as any;
  t.is(missing.code, 6);
  t.is(missing.codespace, 'verifier');
  t.regex(missing.log, /code = NotFound/);

  // Register.
  const a0 = await balance(chain, alice.address);
  const res = await chain.block([await chain.sign(alice, registerTx(alice))]);
  const r0 = res.txResults[0];
  t.is(r0.code, 0, r0.log);
  t.log(`MsgRegisterCircuit gas used: ${r0.gasUsed}`);
  t.true(r0.gasUsed < BigInt(REGISTER_DEFAULT_GAS), 'the CLI default gas limit covers a registration');
  const data = TxMsgData.decode(r0.data);
  t.is(data.msgResponses[0].typeUrl, '/proofbook.verifier.v1.MsgRegisterCircuitResponse');
  const id = MsgRegisterCircuitResponse.decode(data.msgResponses[0].value).circuitId;
  t.is(id, computeCircuitId(ProofSystem.PROOF_SYSTEM_GROTH16_BN254, encodeVerifyingKey(vkVariant()), { wasmSha256: 'aa'.repeat(32), provingKeySha256: 'bb'.repeat(32), owner: alice.address }));
  t.true(r0.events.some((e) => e.type === 'proofbook.verifier.circuit_registered' && e.attributes[0].value === id));
  t.is(await balance(chain, alice.address), a0 - 1_000_000n - 2000n);
  t.is(await balance(chain, VERIFIER_ACCT), 1_000_000n);
  const c = (await circuit(chain, id)) as any;
  t.is(c.owner, alice.address);
  t.is(c.registeredHeight, res.height);
  t.is(c.numPublicInputs, 2);

  // Duplicate: fails in the block with verifier code 5; only the fee moves (rawBlock: PrepareProposal would drop it).
  const dup = (await chain.rawBlock([await chain.sign(alice, registerTx(alice, { name: 'again' }))])).txResults[0];
  t.is(dup.codespace, 'verifier');
  t.is(dup.code, 5);
  t.regex(dup.log, /already registered/);
  t.is(await balance(chain, VERIFIER_ACCT), 1_000_000n);
  t.is(await balance(chain, alice.address), a0 - 1_000_000n - 4000n);

  // Unsupported proof system: refused by CheckTx (validateBasic).
  const plonk = await chain.checkTx(await chain.sign(alice, registerTx(alice, { proofSystem: ProofSystem.PROOF_SYSTEM_PLONK_BN254 })));
  t.is(plonk.codespace, 'verifier');
  t.is(plonk.code, 4);
  t.regex(plonk.log, /not supported yet/);
  const badHash = await chain.checkTx(await chain.sign(alice, registerTx(alice, { wasm: { sha256: 'nothex', uri: 'x', size: 1n } })));
  t.is(badHash.code, 2);

  // An account that cannot pay the deposit.
  const poor = rawKeyFromPrivkey(createHash('sha256').update('verifier-app poor key').digest());
  const fund = { msgs: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: alice.address, toAddress: poor.address, amount: [{ denom: 'uproof', amount: '500000' }] }).finish() }], fee: FEE, gasLimit: 200_000n };
  t.is((await chain.block([await chain.sign(alice, fund)])).txResults[0].code, 0);
  const other = { ...vkVariant(), ic: [loadGenesisVerifyingKey().ic[1], loadGenesisVerifyingKey().ic[2], loadGenesisVerifyingKey().ic[0]] };
  const unfunded = (await chain.rawBlock([await chain.sign(poor, registerTx(poor, { verifyingKey: Buffer.from(encodeVerifyingKey(other)) }))])).txResults[0];
  t.is(unfunded.codespace, 'sdk');
  t.is(unfunded.code, 5, unfunded.log);
  t.is(await balance(chain, poor.address), 500_000n - 2000n);
  t.is((await circuit(chain, computeCircuitId(ProofSystem.PROOF_SYSTEM_GROTH16_BN254, encodeVerifyingKey(other), { wasmSha256: 'aa'.repeat(32), provingKeySha256: 'bb'.repeat(32), owner: poor.address })) as any).code, 6);

  t.deepEqual(chain.app.checkInvariants(), []);

  // Circuits query (id order) and a restart.
  const list = QueryCircuitsResponse.decode((await chain.query('/proofbook.verifier.v1.Query/Circuits', QueryCircuitsRequest.encode({ pagination: undefined }).finish())).value);
  t.deepEqual(list.circuits.map((x) => x.id), [id, genesisCircuitId()].sort());
  t.is(list.pagination!.total, 2n);
  const hashBefore = chain.app.store.appHash;
  await chain.restart();
  t.deepEqual(chain.app.store.appHash, hashBefore);
  t.deepEqual(await circuit(chain, id), c);

  // verifyProof on the committed state with the app's own keeper (as the market module calls it).
  const keeper = (chain.app.modules.keepers as unknown as { verifier: VerifierKeeper }).verifier;
  const ctx = new Context(new CacheKV(chain.app.store), { chainId: chain.app.chain, height: chain.app.height + 1n, timeSeconds: 0n }, 'deliver', new GasMeter(1_000_000n));
  t.true(keeper.verifyProof(ctx, genesisCircuitId(), proof.bytes, proof.signals));
  t.false(keeper.verifyProof(ctx, genesisCircuitId(), proof.bytes, [proof.signals[0], 78n]));
  t.false(keeper.verifyProof(ctx, id, proof.bytes, proof.signals), 'a proof for another circuit');
});
