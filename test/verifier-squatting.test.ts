/**
 * Issue 10 item 7: circuit registration squatting. The id commits to the verifying key, both artifact hashes and the
 * registrant, so a front-runner who copies a pending registration (or registers the same key with bogus artifact
 * hashes) gets a record under another id and cannot take the author's id or attach other artifacts to it.
 */
import test from 'ava';
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
import { TestChain, devnetKey } from './helpers/chain.js';
import type { RawKey } from '../src/client/sign.js';
import { encodeVerifyingKey } from '../src/zk/groth16.js';
import { loadGenesisVerifyingKey } from '../src/zk/genesis.js';
import { circuitIdOf, type VerifierKeeper } from '../modules/verifier/index.js';
import { MsgRegisterCircuit, MsgRegisterCircuitResponse, ProofSystem, type Circuit } from '../src/gen/proofbook/verifier/v1/verifier.js';
import { Context } from '../src/framework/context.js';
import { CacheKV } from '../src/store/cache.js';

const REGISTER = '/proofbook.verifier.v1.MsgRegisterCircuit';

function registration(creator: string, over: Partial<MsgRegisterCircuit> = {}): MsgRegisterCircuit {
  const vk = loadGenesisVerifyingKey();
  return MsgRegisterCircuit.fromPartial({
    creator,
    name: 'authored',
    proofSystem: ProofSystem.PROOF_SYSTEM_GROTH16_BN254,
    verifyingKey: Buffer.from(encodeVerifyingKey({ ...vk, ic: [vk.ic[1], vk.ic[2], vk.ic[0]] })),
    constraints: 4741n,
    wasm: { sha256: '11'.repeat(32), uri: 'https://author.example/c.wasm', size: 100n },
    provingKey: { sha256: '22'.repeat(32), uri: 'https://author.example/c.zkey', size: 200n },
    ...over,
  });
}

const tx = (chain: TestChain, k: RawKey, msg: MsgRegisterCircuit) =>
  chain.sign(k, { msgs: [{ typeUrl: REGISTER, value: MsgRegisterCircuit.encode(msg).finish() }], fee: [{ denom: 'uproof', amount: 1000n }], gasLimit: 1_000_000n });

function circuit(chain: TestChain, id: string): Circuit | undefined {
  const keeper = chain.app.modules.keepers.verifier as VerifierKeeper;
  return keeper.circuit(new Context(new CacheKV(chain.app.store), { chainId: '', height: chain.app.height, timeSeconds: 0n }, 'query'), id);
}

test('a front-runner copying a registration, or attaching bogus artifacts to the same key, cannot take the author\'s id', async (t) => {
  const chain = await TestChain.create();
  t.teardown(() => chain.close());
  const author = await devnetKey(3);
  const squatter = await devnetKey(4);
  const mine = registration(author.address);
  const authorId = circuitIdOf({ ...mine, owner: author.address });
  // An exact copy under the squatter's name, and the same key with bogus artifact hashes.
  const copy = registration(squatter.address);
  const bogus = registration(squatter.address, { wasm: { sha256: 'ee'.repeat(32), uri: 'https://evil.example/c.wasm', size: 1n }, provingKey: { sha256: 'ff'.repeat(32), uri: 'https://evil.example/c.zkey', size: 1n } });
  // The squatter's copy comes first in the block, before the author's registration.
  const res = await chain.block([await tx(chain, squatter, copy), await tx(chain, author, mine)]);
  t.is(res.txResults[0].code, 0, res.txResults[0].log);
  const ids = res.txResults.filter((r) => r.code === 0).map((r) => MsgRegisterCircuitResponse.decode(TxMsgData.decode(r.data).msgResponses[0].value).circuitId);
  t.true(ids.includes(authorId), 'the author registers its circuit under the id it computed, after the copy');
  const rec = circuit(chain, authorId)!;
  t.is(rec.owner, author.address);
  t.is(rec.wasm!.sha256, '11'.repeat(32));
  t.is(rec.provingKey!.sha256, '22'.repeat(32));
  const copyId = ids[0];
  t.not(copyId, authorId);
  t.is(circuit(chain, copyId)!.owner, squatter.address);
  // The bogus-artifact registration (next block) also lands elsewhere.
  const r2 = await chain.block([await tx(chain, squatter, bogus)]);
  t.is(r2.txResults[0].code, 0, r2.txResults[0].log);
  const bogusId = MsgRegisterCircuitResponse.decode(TxMsgData.decode(r2.txResults[0].data).msgResponses[0].value).circuitId;
  t.not(bogusId, authorId);
  t.is(circuit(chain, authorId)!.wasm!.sha256, '11'.repeat(32), 'the author\'s record is untouched');
  // Registering exactly the author's record again (same owner, key and artifacts) is the only duplicate refused.
  const again = await chain.rawBlock([await tx(chain, author, mine)]);
  t.is(again.txResults[0].code, 5, again.txResults[0].log);
  t.regex(again.txResults[0].log, /already registered/);
  t.deepEqual(chain.app.checkInvariants(), []);
});
