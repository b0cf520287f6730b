/**
 * Decoding of Cosmos SDK transactions (cosmos.tx.v1beta1.TxRaw) into the parts the ante handler and the message
 * router need. Signatures are later checked over the body and auth-info bytes exactly as received, never over a
 * re-encoding, so any client's encoding choices are honoured.
 */
import crypto from 'node:crypto';
import { TxRaw, TxBody, AuthInfo } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { ErrTxDecode, ErrUnknownRequest, ErrInvalidRequest, ErrUnknownExtensionOptions, AppError } from '../../src/framework/errors.js';
import type { MsgRoute } from '../../src/framework/module.js';
import { rejectUnknownFields } from './unknown-fields.js';

export interface DecodedMsg {
  readonly typeUrl: string;
  readonly value: unknown;
  readonly route: MsgRoute;
}

export interface DecodedTx {
  readonly bytes: Uint8Array;
  /** sha256 of the tx bytes: the tx hash CometBFT and clients use. */
  readonly hash: Buffer;
  /** The same hash as a latin1 string: the key of every per-tx cache. */
  readonly hashKey: string;
  readonly raw: TxRaw;
  readonly body: TxBody;
  readonly authInfo: AuthInfo;
  readonly msgs: readonly DecodedMsg[];
}

/**
 * The same tx bytes object passes through decodeTx several times per height (prefetch, CheckTx, ProcessProposal,
 * FinalizeBlock's passes), and hashing it each time was ~7% of the pipeline. This memo maps a bytes object to its hash
 * and to a private copy of the bytes it was computed from; a hit is used only when the object still holds exactly
 * those bytes (a memcmp, ~50x cheaper than sha256 here), so mutating an array in place can never return a stale hash.
 */
const byObject = new WeakMap<Uint8Array, { copy: Buffer; hash: Buffer; key: string }>();

function hashed(bytes: Uint8Array): { hash: Buffer; key: string } {
  const hit = byObject.get(bytes);
  if (hit && hit.copy.equals(bytes)) return hit;
  // One-shot hashing: several times cheaper than createHash() for small inputs.
  const hash = crypto.hash('sha256', bytes, 'buffer');
  const entry = { copy: Buffer.from(bytes), hash, key: hash.toString('latin1') };
  byObject.set(bytes, entry);
  return entry;
}

export function txHash(bytes: Uint8Array): Buffer {
  return hashed(bytes).hash;
}

/** The tx hash as a latin1 string (DecodedTx.hashKey): the key of every per-tx cache. */
export function txHashKey(bytes: Uint8Array): string {
  return hashed(bytes).key;
}

function decodeOrThrow<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw ErrTxDecode(`cannot decode ${what} (${(e as Error).message}); send a protobuf-encoded cosmos.tx.v1beta1.TxRaw`);
  }
}

/**
 * Decoded txs by hash: a tx is decoded in CheckTx and again in FinalizeBlock (and on recheck). Decoding is a pure
 * function of the bytes, and a DecodedTx is never mutated, so a hit returns exactly what decoding would.
 */
const decoded = new Map<string, DecodedTx>();
const DECODE_CACHE_SIZE = 50_000;

/**
 * Drops committed txs from the decode cache: a committed tx can never run again (its sequence is used), so keeping
 * its decoded form would only grow the old generation the garbage collector has to mark.
 */
export function forgetDecoded(hashKey: string): void {
  decoded.delete(hashKey);
}

export function decodeTx(bytes: Uint8Array, routes: ReadonlyMap<string, MsgRoute>): DecodedTx {
  if (bytes.length === 0) throw ErrTxDecode('empty tx');
  const { hash, key } = hashed(bytes);
  const hit = decoded.get(key);
  if (hit && hit.msgs.every((m) => routes.get(m.typeUrl) === m.route)) return hit;
  const tx = decodeUncached(bytes, hash, key, routes);
  if (decoded.size >= DECODE_CACHE_SIZE) decoded.clear();
  decoded.set(key, tx);
  return tx;
}

function decodeUncached(bytes: Uint8Array, hash: Buffer, hashKey: string, routes: ReadonlyMap<string, MsgRoute>): DecodedTx {
  const raw = decodeOrThrow('TxRaw', () => TxRaw.decode(bytes));
  const body = decodeOrThrow('TxBody', () => TxBody.decode(raw.bodyBytes));
  const authInfo = decodeOrThrow('AuthInfo', () => AuthInfo.decode(raw.authInfoBytes));
  if (body.messages.length === 0) throw ErrInvalidRequest('tx must contain at least one message');
  if (body.extensionOptions.length > 0) throw ErrUnknownExtensionOptions('extension options are not supported');
  if (body.nonCriticalExtensionOptions.length > 0) throw ErrUnknownExtensionOptions('non-critical extension options are not supported');
  const msgs = body.messages.map((any, i) => {
    const route = routes.get(any.typeUrl);
    if (!route) throw ErrUnknownRequest(`message ${i} has unknown type '${any.typeUrl}'; see 'proofbook --help' for supported messages`);
    const value = decodeOrThrow(`message ${i} (${any.typeUrl})`, () => route.type.decode(any.value));
    if (route.validateBasic) {
      try {
        route.validateBasic(value);
      } catch (e) {
        if (e instanceof AppError) throw new AppError(e.codespace, e.code, `message ${i}: ${e.message}`, e.grpcCode);
        throw ErrInvalidRequest(`message ${i}: ${(e as Error).message}`);
      }
    }
    return { typeUrl: any.typeUrl, value, route };
  });
  // Fields nobody interprets would let a relayer change the tx hash (TxRaw) or smuggle signed-but-ignored data.
  rejectUnknownFields(bytes, raw.bodyBytes, raw.authInfoBytes);
  return { bytes, hash, hashKey, raw, body, authInfo, msgs };
}
