/**
 * auth: accounts (Cosmos BaseAccount: address, public key, account number, sequence) and the chain's tx parameters.
 * Account numbers are assigned in creation order and never reused; they are part of every SignDoc, so a signature for
 * one chain/account can never be replayed for another. Sequences give per-account replay protection.
 *
 * State under 'auth/': 'a' + address bytes -> BaseAccount; 'n' -> next account number (u64 BE); 'p' -> Params.
 */
import { BaseAccount } from 'cosmjs-types/cosmos/auth/v1beta1/auth';
import type { Any } from 'cosmjs-types/google/protobuf/any';
import type { Context } from '../../src/framework/context.js';
import { bytesToKey, keyToBytes, keyToU64, u64Key, PrefixKV, type KV, type KVReader } from '../../src/store/kv.js';
import { addressBytes, type Address } from '../../src/crypto/address.js';
import { NATIVE_DENOM } from '../../src/types/coins.js';

export const AUTH_PREFIX = 'auth/';
const ACCOUNT = 'a';
const NEXT_NUMBER = 'n';
const PARAMS = 'p';

export interface AuthParams {
  /** Longest memo accepted, in characters. */
  maxMemoCharacters: bigint;
  /** Most signatures one tx may carry. */
  txSigLimit: bigint;
  /** Largest tx accepted, in bytes (CheckTx and FinalizeBlock alike). */
  maxTxBytes: bigint;
  /** Highest gas limit one tx may declare. */
  maxTxGas: bigint;
  /** Minimum fee per unit of gas, in 10^-18 uproof (a Cosmos "Dec"): fee >= ceil(gas_limit * price / 10^18). */
  minGasPriceAtto: bigint;
  /** Denom fees are paid in. */
  feeDenom: string;
}

export const DEFAULT_AUTH_PARAMS: AuthParams = {
  maxMemoCharacters: 256n,
  txSigLimit: 7n,
  maxTxBytes: 262_144n,
  maxTxGas: 50_000_000n,
  minGasPriceAtto: 10n ** 15n, // 0.001 uproof per gas: 10^-3 uproof = 10^15 in units of 10^-18 uproof
  feeDenom: NATIVE_DENOM,
};

export interface Account {
  address: Address;
  pubKey?: Any;
  accountNumber: bigint;
  sequence: bigint;
}

export function encodeParams(p: AuthParams): Uint8Array {
  // Fixed key order: this is consensus state.
  return new TextEncoder().encode(
    JSON.stringify([p.maxMemoCharacters.toString(), p.txSigLimit.toString(), p.maxTxBytes.toString(), p.maxTxGas.toString(), p.minGasPriceAtto.toString(), p.feeDenom]),
  );
}

export function decodeParams(b: Uint8Array): AuthParams {
  const [memo, sig, bytes, gas, price, denom] = JSON.parse(new TextDecoder().decode(b)) as string[];
  return { maxMemoCharacters: BigInt(memo), txSigLimit: BigInt(sig), maxTxBytes: BigInt(bytes), maxTxGas: BigInt(gas), minGasPriceAtto: BigInt(price), feeDenom: denom };
}

/**
 * Decoded accounts by stored value object. Stores hand back the same Uint8Array for a key until it is overwritten
 * (every write encodes a fresh array), and an account is read ~4 times per tx (fee payer, signer, sender, recipient),
 * so decoding once per write saves a protobuf decode per read. A hit is checked against the address it was read
 * under, and the result is frozen: callers build a new Account to change one.
 */
const decodedAccounts = new WeakMap<Uint8Array, Readonly<Account>>();

function decodeAccount(raw: Uint8Array, addr: Address): Readonly<Account> {
  const hit = decodedAccounts.get(raw);
  if (hit && hit.address === addr) return hit;
  const a = BaseAccount.decode(raw);
  const acc = Object.freeze({ address: addr, pubKey: a.pubKey, accountNumber: a.accountNumber, sequence: a.sequence });
  decodedAccounts.set(raw, acc);
  return acc;
}

export class AuthKeeper {
  private paramsCache?: { bytes: Uint8Array; params: AuthParams };

  /** Store keys by address (bounded memo: a key is a pure function of the address, read ~4 times per tx). */
  private readonly keys = new Map<Address, string>();

  private accountKey(addr: Address): string {
    let key = this.keys.get(addr);
    if (key === undefined) {
      key = ACCOUNT + bytesToKey(addressBytes(addr));
      if (this.keys.size >= 16_384) this.keys.clear();
      this.keys.set(addr, key);
    }
    return key;
  }

  getAccount(ctx: Context, addr: Address): Account | undefined {
    const raw = ctx.store(AUTH_PREFIX).get(this.accountKey(addr));
    if (!raw) return undefined;
    return decodeAccount(raw, addr);
  }

  /** getAccount straight from a raw state reader (no context, no gas): the signature prefetch's read-only guess. */
  accountIn(state: KVReader, addr: Address): Account | undefined {
    const raw = state.get(AUTH_PREFIX + this.accountKey(addr));
    return raw === undefined ? undefined : decodeAccount(raw, addr);
  }

  setAccount(ctx: Context, acc: Account): void {
    const record = Object.freeze({ address: acc.address, pubKey: acc.pubKey, accountNumber: acc.accountNumber, sequence: acc.sequence });
    const encoded = BaseAccount.encode(record).finish();
    // The next read of this value (the account's next tx) gets the record back without decoding it.
    decodedAccounts.set(encoded, record);
    ctx.store(AUTH_PREFIX).set(this.accountKey(acc.address), encoded);
  }

  /** Creates the account with the next account number if it does not exist yet (first receipt of funds). */
  ensureAccount(ctx: Context, addr: Address): void {
    const store = ctx.store(AUTH_PREFIX);
    if (store.get(this.accountKey(addr)) !== undefined) return; // a read (charged as one) but no decode
    const nextRaw = store.get(NEXT_NUMBER);
    const number = nextRaw ? keyToU64(bytesToKey(nextRaw)) : 0n;
    store.set(NEXT_NUMBER, keyToBytes(u64Key(number + 1n)));
    this.setAccount(ctx, { address: addr, accountNumber: number, sequence: 0n });
  }

  params(ctx: Context): AuthParams {
    const raw = ctx.store(AUTH_PREFIX).get(PARAMS);
    if (!raw) return DEFAULT_AUTH_PARAMS;
    // Decoding JSON on every tx is measurable; cache on the exact bytes (identity of content, not of object).
    if (this.paramsCache && Buffer.compare(this.paramsCache.bytes, raw) === 0) return this.paramsCache.params;
    const params = decodeParams(raw);
    this.paramsCache = { bytes: raw, params };
    return params;
  }

  setParams(ctx: Context, p: AuthParams): void {
    ctx.store(AUTH_PREFIX).set(PARAMS, encodeParams(p));
  }

  /** The account records as a prefix view (keys: address bytes as store keys; values: encoded BaseAccount). */
  accountStore(ctx: Context): KV {
    return new PrefixKV(ctx.store(AUTH_PREFIX), ACCOUNT);
  }

  *accounts(ctx: Context): IterableIterator<BaseAccount> {
    const store = ctx.store(AUTH_PREFIX);
    for (const [, v] of store.iterate(ACCOUNT, String.fromCharCode(ACCOUNT.charCodeAt(0) + 1))) yield BaseAccount.decode(v);
  }
}
