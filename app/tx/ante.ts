/**
 * The ante handler: everything checked and charged before a tx's messages run — size, memo, gas limit, fee,
 * signers, public keys, sequences and signatures. Its writes (fee deduction, sequence increments, first-use pubkeys)
 * are kept even when the messages fail, like the Cosmos SDK, so a failing tx still pays and cannot be replayed.
 */
import { PubKey as Secp256k1PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys';
import type { Any } from 'cosmjs-types/google/protobuf/any';
import { SignDoc } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing';
import { hash } from 'node:crypto';
import type { Context } from '../../src/framework/context.js';
import { GasCosts } from '../../src/framework/gas.js';
import {
  ErrInsufficientFee, ErrInvalidGasLimit, ErrInvalidPubKey, ErrMemoTooLarge, ErrNoSignatures, ErrTooManySignatures,
  ErrTxTooLarge, ErrUnauthorized, ErrUnknownAddress, ErrWrongSequence, ErrInvalidRequest, ErrTxTimeoutHeight, ErrInvalidCoins,
} from '../../src/framework/errors.js';
import type { DecodedTx } from './decode.js';
import { addressFromPubkey, type Address } from '../../src/crypto/address.js';
import type { Secp256k1Verify } from '../../src/crypto/secp256k1.js';
import { amountOf, coinsFromProto, coinsToString, type Coins } from '../../src/types/coins.js';
import type { AuthKeeper, AuthParams } from '../../modules/auth/index.js';

export const SECP256K1_PUBKEY_TYPE_URL = '/cosmos.crypto.secp256k1.PubKey';
export const FEE_COLLECTOR = 'fee_collector';

export interface FeeBank {
  sendToModule(ctx: Context, from: Address, module: string, coins: Coins): void;
}

/**
 * Remembers signatures already verified, so a tx checked in CheckTx (or prefetched on the worker pool) is not verified
 * again in FinalizeBlock or on recheck. Verdicts are kept per tx (its hash as a latin1 string) and per signer
 * (signerCacheKey), so a committed tx's entries go at once. A verdict is a pure function of (body bytes, auth-info
 * bytes, signature) — all covered by the tx hash — plus the chain id (fixed per app), the account number and the
 * public key, so a hit can never change a result; the cache only saves work. Bounded: the oldest txs go first.
 */
export class SignatureCache {
  private readonly byTx = new Map<string, string[]>();
  private entries = 0;
  constructor(private readonly capacity = 200_000) {}
  has(tx: string, signer: string): boolean {
    return this.byTx.get(tx)?.includes(signer) ?? false;
  }
  /** Whether any signature of this tx was verified. */
  knows(tx: string): boolean {
    return this.byTx.has(tx);
  }
  add(tx: string, signer: string): void {
    if (this.has(tx, signer)) return;
    while (this.entries >= this.capacity) {
      const oldest = this.byTx.keys().next().value;
      if (oldest === undefined) break;
      this.forget(oldest);
    }
    const signers = this.byTx.get(tx);
    if (signers) signers.push(signer);
    else this.byTx.set(tx, [signer]);
    this.entries++;
  }
  /** Drops every verdict of one tx. */
  forget(tx: string): void {
    const signers = this.byTx.get(tx);
    if (signers === undefined) return;
    this.byTx.delete(tx);
    this.entries -= signers.length;
  }
  get size(): number {
    return this.entries;
  }
}

/** The 33-byte compressed key inside a signer's Any-wrapped public key; ErrInvalidPubKey (naming signer i) otherwise. */
export function secp256k1KeyBytes(anyKey: Any, i: number): Uint8Array {
  if (anyKey.typeUrl !== SECP256K1_PUBKEY_TYPE_URL) throw ErrInvalidPubKey(`signer ${i}: key type '${anyKey.typeUrl}' is not supported; use ${SECP256K1_PUBKEY_TYPE_URL}`);
  let key: Uint8Array;
  try {
    key = Secp256k1PubKey.decode(anyKey.value).key;
  } catch {
    throw ErrInvalidPubKey(`signer ${i}: cannot decode public key`);
  }
  if (key.length !== 33) throw ErrInvalidPubKey(`signer ${i}: public key must be 33 bytes (compressed), got ${key.length}`);
  return key;
}

/** A signer's part of a SignatureCache entry: its index, account number and public key. */
export function signerCacheKey(i: number, accountNumber: bigint, pubkey: Uint8Array): string {
  return `${i}|${accountNumber}|${Buffer.from(pubkey.buffer, pubkey.byteOffset, pubkey.byteLength).toString('latin1')}`;
}

/** sha256 of the SIGN_MODE_DIRECT SignDoc over the body and auth-info bytes exactly as received. */
export function signDocDigest(tx: DecodedTx, chainId: string, accountNumber: bigint): Buffer {
  const signDoc = SignDoc.encode({ bodyBytes: tx.raw.bodyBytes, authInfoBytes: tx.raw.authInfoBytes, chainId, accountNumber }).finish();
  return hash('sha256', signDoc, 'buffer');
}

export interface AnteDeps {
  auth: AuthKeeper;
  bank: FeeBank;
  verify: Secp256k1Verify;
  sigCache: SignatureCache;
}

/**
 * Signers by decoded tx: a pure function of the tx's messages, asked for by the prefetch, the ante handler of CheckTx
 * and of FinalizeBlock. DecodedTx objects are never mutated, so the memo can only save work.
 */
const signersOf = new WeakMap<DecodedTx, readonly Address[]>();

/** Unique signers in order of first appearance across messages (the SDK's GetSigners order). */
export function txSigners(tx: DecodedTx): readonly Address[] {
  let signers = signersOf.get(tx);
  if (signers === undefined) {
    signers = collectSigners(tx);
    signersOf.set(tx, signers);
  }
  return signers;
}

function collectSigners(tx: DecodedTx): Address[] {
  const out: Address[] = [];
  const seen = new Set<string>();
  for (const m of tx.msgs) {
    for (const s of m.route.signers(m.value)) {
      if (!seen.has(s)) {
        seen.add(s);
        out.push(s);
      }
    }
  }
  return out;
}

/** ceil(gasLimit * price / 10^18): the smallest fee the chain accepts for this gas limit. */
export function requiredFee(gasLimit: bigint, params: AuthParams): bigint {
  const num = gasLimit * params.minGasPriceAtto;
  const den = 1_000_000_000_000_000_000n;
  return (num + den - 1n) / den;
}

export function runAnte(ctx: Context, tx: DecodedTx, deps: AnteDeps): void {
  const params = deps.auth.params(ctx);
  const simulate = ctx.mode === 'simulate';
  const { body, authInfo, raw } = tx;

  if (BigInt(tx.bytes.length) > params.maxTxBytes) throw ErrTxTooLarge(`tx is ${tx.bytes.length} bytes, the limit is ${params.maxTxBytes}`);
  if (BigInt(body.memo.length) > params.maxMemoCharacters) throw ErrMemoTooLarge(`memo is ${body.memo.length} characters, the limit is ${params.maxMemoCharacters}`);
  if (body.timeoutHeight > 0n && ctx.height > body.timeoutHeight) throw ErrTxTimeoutHeight(`block height ${ctx.height} is past the tx's timeout height ${body.timeoutHeight}`);

  const fee = authInfo.fee;
  const gasLimit = fee?.gasLimit ?? 0n;
  if (!simulate) {
    if (gasLimit === 0n) throw ErrInvalidGasLimit('gas limit is 0; set --gas (or --gas auto)');
    if (gasLimit > params.maxTxGas) throw ErrInvalidGasLimit(`gas limit ${gasLimit} exceeds the maximum ${params.maxTxGas}`);
  }
  ctx.gas.consume(GasCosts.txSizePerByte * BigInt(tx.bytes.length), 'txSize');

  const signers = txSigners(tx);
  if (signers.length === 0) throw ErrNoSignatures('tx has no signers');
  if (BigInt(signers.length) > params.txSigLimit) throw ErrTooManySignatures(`${signers.length} signers, the limit is ${params.txSigLimit}`);
  if (authInfo.signerInfos.length !== signers.length) throw ErrUnauthorized(`wrong number of signer infos: expected ${signers.length}, got ${authInfo.signerInfos.length}`);
  if (raw.signatures.length !== signers.length) throw ErrUnauthorized(`wrong number of signatures: expected ${signers.length}, got ${raw.signatures.length}`);
  if (fee && (fee.payer !== '' || fee.granter !== '')) throw ErrInvalidRequest('fee payer and fee granter are not supported; the first signer pays');

  // Fee: checked and deducted before anything else can fail on the signer's balance.
  let feeCoins: Coins;
  try {
    feeCoins = coinsFromProto(fee?.amount ?? []);
  } catch (e) {
    throw ErrInvalidCoins(`fee: ${(e as Error).message}`);
  }
  // Genesis txs (gentxs, delivered at height 0) pay no minimum fee, as the SDK checks min gas prices only in CheckTx.
  const genesis = ctx.height === 0n;
  if (!simulate && !genesis) {
    const need = requiredFee(gasLimit, params);
    const have = amountOf(feeCoins, params.feeDenom);
    if (have < need) {
      throw ErrInsufficientFee(`fee ${coinsToString(feeCoins)} is below the minimum ${need}${params.feeDenom} for gas limit ${gasLimit} (min gas price ${params.minGasPriceAtto} * 10^-18 ${params.feeDenom}/gas)`);
    }
  }
  const payer = signers[0];
  if (!deps.auth.getAccount(ctx, payer)) throw ErrUnknownAddress(`fee payer ${payer} has no account; it must receive funds before it can send transactions`);
  if (simulate && feeCoins.length === 0) {
    // Wallets (cosmjs fee 'auto') simulate with an empty fee and empty signatures. Charge what the real tx will
    // cost anyway: the fee transfer's store gas (moving a nominal 1 unit on this throwaway state) and the bytes of
    // a 64-byte signature per signer. Otherwise the estimate comes out ~20k gas short and the tx runs out of gas.
    feeCoins = [{ denom: params.feeDenom, amount: 1n }];
    ctx.gas.consume(GasCosts.txSizePerByte * 64n * BigInt(signers.length), 'simulated signatures');
  }
  if (feeCoins.length > 0) {
    deps.bank.sendToModule(ctx, payer, FEE_COLLECTOR, feeCoins);
    ctx.emit('tx', [['fee', coinsToString(feeCoins)], ['fee_payer', payer]]);
  }

  for (let i = 0; i < signers.length; i++) {
    const signer = signers[i];
    const info = authInfo.signerInfos[i];
    const acc = deps.auth.getAccount(ctx, signer);
    if (!acc) throw ErrUnknownAddress(`signer ${signer} has no account; it must receive funds before it can sign`);

    let pubkeyBytes: Uint8Array | undefined;
    const anyKey = info.publicKey ?? acc.pubKey;
    if (anyKey) {
      pubkeyBytes = secp256k1KeyBytes(anyKey, i);
      if (addressFromPubkey(pubkeyBytes) !== signer) throw ErrInvalidPubKey(`signer ${i}: public key does not belong to ${signer}`);
    } else if (!simulate) {
      throw ErrInvalidPubKey(`signer ${i}: no public key in the tx and none on record for ${signer}`);
    }

    if (info.sequence !== acc.sequence) {
      throw ErrWrongSequence(`account sequence mismatch, expected ${acc.sequence}, got ${info.sequence}: query the account and re-sign with its current sequence`);
    }
    ctx.gas.consume(GasCosts.sigVerifySecp256k1, 'secp256k1 signature');

    if (!simulate) {
      const mode = info.modeInfo?.single?.mode;
      if (mode !== SignMode.SIGN_MODE_DIRECT) throw ErrUnauthorized(`signer ${i}: only SIGN_MODE_DIRECT is supported, got ${mode ?? 'multi/none'}`);
      const sig = raw.signatures[i];
      if (sig.length !== 64) throw ErrUnauthorized(`signer ${i}: signature must be 64 bytes (r||s), got ${sig.length}`);
      // Gentxs are signed offline before account numbers exist: at genesis the sign doc carries account number 0 (SDK).
      const accountNumber = genesis ? 0n : acc.accountNumber;
      const signerKey = signerCacheKey(i, accountNumber, pubkeyBytes!);
      if (!deps.sigCache.has(tx.hashKey, signerKey)) {
        if (!deps.verify(signDocDigest(tx, ctx.block.chainId, accountNumber), sig, pubkeyBytes!)) {
          throw ErrUnauthorized(`signature verification failed for signer ${signer}: check the chain-id (${ctx.block.chainId}), account number (${accountNumber}) and that the signature is low-S`);
        }
        deps.sigCache.add(tx.hashKey, signerKey);
      }
      ctx.emit('tx', [['signature', Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength).toString('base64')]]);
    }
    ctx.emit('tx', [['acc_seq', `${signer}/${acc.sequence}`]]);
    deps.auth.setAccount(ctx, { ...acc, pubKey: acc.pubKey ?? info.publicKey, sequence: acc.sequence + 1n });
  }
}
