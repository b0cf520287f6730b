/**
 * Offline construction and SIGN_MODE_DIRECT signing of Cosmos transactions with a raw secp256k1 key, using the
 * native libsecp256k1 signer (RFC 6979 deterministic nonces, always low-S). Wallet users go through @cosmjs's
 * SigningStargateClient instead; this path is for tools that sign many txs fast (benchmarks, the prover worker).
 */
import '../codec/cosmjs-types-alloc.js';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { TxRaw, TxBody, AuthInfo, SignDoc } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing';
import { PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys';
import type { Any } from 'cosmjs-types/google/protobuf/any';
import { addressFromPubkey, type Address } from '../crypto/address.js';
import { coinsToProto, type Coins } from '../types/coins.js';

const require = createRequire(import.meta.url);
const secp = require('secp256k1/bindings') as {
  ecdsaSign(msg32: Uint8Array, key: Uint8Array): { signature: Uint8Array; recid: number };
  publicKeyCreate(key: Uint8Array, compressed: boolean): Uint8Array;
};

export interface RawKey {
  privkey: Uint8Array;
  pubkey: Uint8Array; // 33-byte compressed
  address: Address;
}

export function rawKeyFromPrivkey(privkey: Uint8Array): RawKey {
  const pubkey = new Uint8Array(secp.publicKeyCreate(privkey, true));
  return { privkey, pubkey, address: addressFromPubkey(pubkey) };
}

export interface UnsignedTx {
  msgs: Any[];
  fee: Coins;
  gasLimit: bigint;
  memo?: string;
  timeoutHeight?: bigint;
}

export interface SignerData {
  chainId: string;
  accountNumber: bigint;
  sequence: bigint;
}

export function signTx(key: RawKey, tx: UnsignedTx, signer: SignerData): Uint8Array {
  const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: tx.msgs, memo: tx.memo ?? '', timeoutHeight: tx.timeoutHeight ?? 0n })).finish();
  const authInfoBytes = AuthInfo.encode(
    AuthInfo.fromPartial({
      signerInfos: [
        {
          publicKey: { typeUrl: '/cosmos.crypto.secp256k1.PubKey', value: PubKey.encode({ key: key.pubkey }).finish() },
          modeInfo: { single: { mode: SignMode.SIGN_MODE_DIRECT } },
          sequence: signer.sequence,
        },
      ],
      fee: { amount: coinsToProto(tx.fee), gasLimit: tx.gasLimit, payer: '', granter: '' },
    }),
  ).finish();
  const signDoc = SignDoc.encode({ bodyBytes, authInfoBytes, chainId: signer.chainId, accountNumber: signer.accountNumber }).finish();
  const digest = createHash('sha256').update(signDoc).digest();
  const { signature } = secp.ecdsaSign(digest, key.privkey);
  return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [new Uint8Array(signature)] }).finish();
}
