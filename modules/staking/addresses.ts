/**
 * Validator addresses, in the Cosmos SDK's three bech32 forms over our `proof` prefix:
 *   operator   proofvaloper1…  the operator account's 20 bytes (the account that signs for the validator)
 *   consensus  proofvalcons1…  the first 20 bytes of sha256(ed25519 consensus pubkey): CometBFT's validator address
 * The operator form is what wallets and cosmjs' staking queries carry (`validator_address`).
 */
import { createHash } from 'node:crypto';
import { fromBech32, toBech32 } from '@cosmjs/encoding';
import { PubKey as Ed25519PubKey } from 'cosmjs-types/cosmos/crypto/ed25519/keys';
import type { Any } from 'cosmjs-types/google/protobuf/any';
import { addressFromBytes, BECH32_PREFIX, type Address } from '../../src/crypto/address.js';
import { ErrInvalidAddress, ErrInvalidPubKey } from '../../src/framework/errors.js';

export const VALOPER_PREFIX = `${BECH32_PREFIX}valoper`;
export const VALCONS_PREFIX = `${BECH32_PREFIX}valcons`;
export const ED25519_PUBKEY_TYPE_URL = '/cosmos.crypto.ed25519.PubKey';

export interface Valoper {
  /** Canonical bech32 (lower case). */
  readonly valoper: string;
  readonly bytes: Uint8Array;
  /** The operator's account address (same bytes, `proof` prefix). */
  readonly account: Address;
}

export function parseValoper(s: string, field = 'validator_address'): Valoper {
  if (!s) throw ErrInvalidAddress(`${field} cannot be empty`);
  let decoded;
  try {
    decoded = fromBech32(s);
  } catch (e) {
    throw ErrInvalidAddress(`invalid ${field} '${s}': ${(e as Error).message}`);
  }
  if (decoded.prefix !== VALOPER_PREFIX) throw ErrInvalidAddress(`invalid ${field} '${s}': prefix '${decoded.prefix}', expected '${VALOPER_PREFIX}'`);
  if (decoded.data.length !== 20) throw ErrInvalidAddress(`invalid ${field} '${s}': ${decoded.data.length} bytes, expected 20`);
  return { valoper: toBech32(VALOPER_PREFIX, decoded.data), bytes: decoded.data, account: addressFromBytes(decoded.data) };
}

export function valoperFromBytes(bytes: Uint8Array): string {
  return toBech32(VALOPER_PREFIX, bytes);
}

export function valconsFromBytes(bytes: Uint8Array): string {
  return toBech32(VALCONS_PREFIX, bytes);
}

/** CometBFT's validator address of an ed25519 key: sha256(pubkey)[0:20]. */
export function consAddress(pubkey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(pubkey).digest().subarray(0, 20));
}

/** The 32-byte ed25519 key inside a consensus pubkey Any; ErrInvalidPubKey for anything else. */
export function ed25519FromAny(any: Any | undefined): Uint8Array {
  if (!any) throw ErrInvalidPubKey('pubkey is required (the validator\'s ed25519 consensus key)');
  if (any.typeUrl !== ED25519_PUBKEY_TYPE_URL) throw ErrInvalidPubKey(`consensus pubkey type '${any.typeUrl}' is not supported; use ${ED25519_PUBKEY_TYPE_URL}`);
  let key: Uint8Array;
  try {
    key = Ed25519PubKey.decode(any.value).key;
  } catch (e) {
    throw ErrInvalidPubKey(`cannot decode the ed25519 pubkey: ${(e as Error).message}`);
  }
  if (key.length !== 32) throw ErrInvalidPubKey(`ed25519 pubkey must be 32 bytes, got ${key.length}`);
  return key;
}

export function ed25519Any(key: Uint8Array): Any {
  return { typeUrl: ED25519_PUBKEY_TYPE_URL, value: Ed25519PubKey.encode({ key }).finish() };
}
