/**
 * Issue 10 item 9: tx hash malleability. An unknown field appended to TxRaw keeps the signature valid and changes the
 * hash; such txs (and unknown critical fields in TxBody/AuthInfo, also inside messages and public keys) must be
 * refused like the Cosmos SDK's decoder refuses them, in CheckTx and in a proposal.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { TxRaw, SignDoc } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { ResponseProcessProposal_ProposalStatus } from 'cosmjs-types/tendermint/abci/types';
import { TestChain, devnetKey, TEST_CHAIN_ID } from './helpers/chain.js';
import type { RawKey } from '../src/client/sign.js';
import { createModules } from '../app/modules.js';
import { hasDescriptor } from '../app/tx/unknown-fields.js';

function send(from: RawKey, to: string, amount: bigint) {
  return {
    msgs: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from.address, toAddress: to, amount: [{ denom: 'uproof', amount: amount.toString() }] }).finish() }],
    fee: [{ denom: 'uproof', amount: 200n }],
    gasLimit: 200_000n,
  };
}

/** A length-delimited field `field` holding `payload`. */
function lenField(field: number, payload: Uint8Array): Uint8Array {
  const out: number[] = [];
  const varint = (v: number) => {
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v);
  };
  varint((field << 3) | 2);
  varint(payload.length);
  return new Uint8Array([...out, ...payload]);
}

const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Signs body/auth-info bytes exactly as given (so they may carry extra fields) and builds TxRaw. */
async function signRaw(chain: TestChain, key: RawKey, bodyBytes: Uint8Array, authInfoBytes: Uint8Array): Promise<Uint8Array> {
  const acc = (await chain.account(key.address))!;
  const signDoc = SignDoc.encode({ bodyBytes, authInfoBytes, chainId: TEST_CHAIN_ID, accountNumber: acc.accountNumber }).finish();
  const signature = secp256k1.sign(createHash('sha256').update(signDoc).digest(), key.privkey, { prehash: false, lowS: true });
  return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [signature] }).finish();
}

async function rejectedEverywhere(t: any, chain: TestChain, tx: Uint8Array, pattern: RegExp) {
  const check = await chain.checkTx(tx);
  t.is(check.code, 2, check.log);
  t.regex(check.log, pattern);
  const height = chain.app.height + 1n;
  const pp = await chain.app.processProposal({ txs: [tx], proposedLastCommit: undefined as any, misbehavior: [], hash: new Uint8Array(32), height, time: { seconds: 1_800_000_000n, nanos: 0 }, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20) });
  t.is(pp.status, ResponseProcessProposal_ProposalStatus.REJECT);
  // A byzantine proposer's block that holds it anyway: the tx fails with the decode error and changes nothing.
  const hashBefore = Uint8Array.from((await chain.block([])).appHash);
  const seqBefore = (await chain.account((await devnetKey(0)).address))!.sequence;
  const res = await chain.rawBlock([tx]);
  t.is(res.txResults[0].code, 2);
  t.is((await chain.account((await devnetKey(0)).address))!.sequence, seqBefore);
  t.deepEqual(Uint8Array.from(res.appHash), hashBefore);
  t.deepEqual(chain.app.checkInvariants(), []);
}

test('an unknown field appended to TxRaw is refused in CheckTx, ProcessProposal and FinalizeBlock; the original still commits', async (t) => {
  const chain = await TestChain.create();
  t.teardown(() => chain.close());
  const a = await devnetKey(0);
  const b = await devnetKey(1);
  const tx = await chain.sign(a, send(a, b.address, 5n));
  const altered = cat(tx, lenField(4, new Uint8Array([1, 2, 3])));
  // The signature covers only body and auth info, so before the fix the altered copy verified under another hash.
  await rejectedEverywhere(t, chain, altered, /unknown field 4 .*TxRaw/);
  // Non-critical numbers are no exception in TxRaw, nor are repeated or reordered fields.
  await rejectedEverywhere(t, chain, cat(tx, lenField(1025, new Uint8Array([9]))), /unknown field 1025/);
  const raw = TxRaw.decode(tx);
  const reordered = cat(lenField(2, raw.authInfoBytes), lenField(1, raw.bodyBytes), lenField(3, raw.signatures[0]));
  await rejectedEverywhere(t, chain, reordered, /ADR-027/);
  const doubled = cat(lenField(1, new Uint8Array([0x12, 0])), tx);
  await rejectedEverywhere(t, chain, doubled, /more than once/);
  const check = await chain.checkTx(tx);
  t.is(check.code, 0, check.log);
  const res = await chain.block([tx]);
  t.is(res.txResults[0].code, 0, res.txResults[0].log);
});

test('unknown critical fields in TxBody, in a message and in AuthInfo are refused; non-critical ones in TxBody pass as in the SDK', async (t) => {
  const chain = await TestChain.create();
  t.teardown(() => chain.close());
  const a = await devnetKey(0);
  const b = await devnetKey(1);
  const tx = TxRaw.decode(await chain.sign(a, send(a, b.address, 5n)));
  const junk = new Uint8Array([7, 7]);
  // body: critical unknown field 20
  await rejectedEverywhere(t, chain, await signRaw(chain, a, cat(tx.bodyBytes, lenField(20, junk)), tx.authInfoBytes), /unknown field 20 .*TxBody/);
  // auth info: even a non-critical number is refused (the SDK decodes AuthInfo strictly)
  await rejectedEverywhere(t, chain, await signRaw(chain, a, tx.bodyBytes, cat(tx.authInfoBytes, lenField(1030, junk))), /unknown field 1030 .*AuthInfo/);
  // inside the MsgSend carried in the body's Any
  const msg = cat(MsgSend.encode({ fromAddress: a.address, toAddress: b.address, amount: [{ denom: 'uproof', amount: '5' }] }).finish(), lenField(9, junk));
  const any = cat(lenField(1, new TextEncoder().encode('/cosmos.bank.v1beta1.MsgSend')), lenField(2, msg));
  await rejectedEverywhere(t, chain, await signRaw(chain, a, lenField(1, any), tx.authInfoBytes), /unknown field 9 .*MsgSend/);
  // a non-critical unknown field in the body (number with bit 11 set) is allowed, as the SDK allows it
  const ok = await signRaw(chain, a, cat(tx.bodyBytes, lenField(1030, junk)), tx.authInfoBytes);
  const check = await chain.checkTx(ok);
  t.is(check.code, 0, check.log);
  const res = await chain.block([ok]);
  t.is(res.txResults[0].code, 0, res.txResults[0].log);
});

test('every routed message type has a descriptor, so none is refused as unresolvable', (t) => {
  for (const typeUrl of createModules().routes.keys()) t.true(hasDescriptor(typeUrl.slice(1)), `${typeUrl} missing from app/grpc/descriptors.binpb`);
});
