/**
 * Bank messages: `/cosmos.bank.v1beta1.MsgSend` with the Cosmos SDK's checks and events.
 */
import { MsgSend, MsgSendResponse } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import type { Coin as ProtoCoin } from 'cosmjs-types/cosmos/base/v1beta1/coin';
import type { MsgRoute } from '../../src/framework/module.js';
import { ErrInsufficientFunds, ErrInvalidAddress, ErrInvalidCoins, ErrUnauthorized } from '../../src/framework/errors.js';
import { parseAddress, type Address } from '../../src/crypto/address.js';
import { isValidDenom, sortUniqueByDenom, type Coin, type Coins } from '../../src/types/coins.js';
import type { BankKeeper } from './keeper.js';
import { MAX_AMOUNT } from './keys.js';

export const MSG_SEND_TYPE_URL = '/cosmos.bank.v1beta1.MsgSend';
export const MSG_SEND_RESPONSE_TYPE_URL = '/cosmos.bank.v1beta1.MsgSendResponse';

/** Parses a bech32 field of a message; ErrInvalidAddress names the field. */
export function msgAddress(value: string, field: string): Address {
  if (!value) throw ErrInvalidAddress(`${field} cannot be empty`);
  try {
    return parseAddress(value);
  } catch (e) {
    throw ErrInvalidAddress(`invalid ${field}: ${(e as Error).message}`);
  }
}

/**
 * Strict conversion of protobuf coins in messages, params and genesis of proofbook's own modules: valid denoms,
 * positive integer amounts ≤ 2^256−1, no duplicate denoms; returns them sorted by denom. Throws ErrInvalidCoins.
 * (MsgSend keeps `msgCoins` below, whose codes follow the Cosmos SDK's bank module.)
 */
export function strictCoins(coins: readonly { denom: string; amount: string }[], what: string, opts: { allowEmpty: boolean }): Coins {
  if (!opts.allowEmpty && coins.length === 0) throw ErrInvalidCoins(`${what}: amount cannot be empty`);
  const out: Coin[] = [];
  for (const c of coins) {
    if (!isValidDenom(c.denom)) throw ErrInvalidCoins(`${what}: invalid denom '${c.denom}'`);
    if (!/^[1-9][0-9]*$/.test(c.amount)) throw ErrInvalidCoins(`${what}: amount '${c.amount}' of ${c.denom} must be a positive integer`);
    const amount = BigInt(c.amount);
    if (amount > MAX_AMOUNT) throw ErrInvalidCoins(`${what}: amount of ${c.denom} exceeds 2^256-1`);
    out.push({ denom: c.denom, amount });
  }
  return sortUniqueByDenom(out, (d) => ErrInvalidCoins(`${what}: duplicate denom '${d}'`));
}

/**
 * Converts a message's coins to bigint Coins: each amount a canonical non-negative decimal, each denom valid, no
 * duplicates (ErrInvalidCoins), every amount positive and at least one coin (ErrInsufficientFunds, as the SDK's
 * `IsAllPositive` check does). Order is not required; the result is sorted by denom.
 */
export function msgCoins(coins: readonly ProtoCoin[], field = 'amount'): Coins {
  const out: Coin[] = [];
  for (const c of coins) {
    if (!isValidDenom(c.denom)) throw ErrInvalidCoins(`${field}: invalid denom '${c.denom}'`);
    if (!/^(0|[1-9][0-9]*)$/.test(c.amount)) throw ErrInvalidCoins(`${field}: amount '${c.amount}' of ${c.denom} is not a non-negative integer`);
    const amount = BigInt(c.amount);
    if (amount > MAX_AMOUNT) throw ErrInvalidCoins(`${field}: amount of ${c.denom} exceeds 2^256-1`);
    if (amount === 0n) throw ErrInsufficientFunds(`${field}: 0${c.denom} is not a positive amount`);
    out.push({ denom: c.denom, amount });
  }
  if (out.length === 0) throw ErrInsufficientFunds(`${field}: no coins to send`);
  return sortUniqueByDenom(out, (d) => ErrInvalidCoins(`${field}: duplicate denom '${d}'`));
}

export function msgSendRoute(keeper: BankKeeper): MsgRoute<MsgSend, MsgSendResponse> {
  return {
    typeUrl: MSG_SEND_TYPE_URL,
    type: MsgSend,
    responseTypeUrl: MSG_SEND_RESPONSE_TYPE_URL,
    responseType: MsgSendResponse,
    signers: (msg) => [msgAddress(msg.fromAddress, 'from address')],
    validateBasic(msg) {
      msgAddress(msg.fromAddress, 'from address');
      msgAddress(msg.toAddress, 'to address');
      msgCoins(msg.amount);
    },
    handle(ctx, msg) {
      const from = msgAddress(msg.fromAddress, 'from address');
      const to = msgAddress(msg.toAddress, 'to address');
      const coins = msgCoins(msg.amount);
      if (keeper.isBlockedAddress(ctx, to)) {
        throw ErrUnauthorized(`${to} is a module account and is not allowed to receive funds`);
      }
      keeper.send(ctx, from, to, coins);
      return MsgSendResponse.fromPartial({});
    },
  };
}
