/**
 * Gentxs: a validator operator's signed MsgCreateValidator for a chain's genesis (the Cosmos SDK's `gentx`). It is
 * signed offline with account number 0 and sequence 0 (genesis has no account numbers yet; the app verifies gentxs
 * that way at height 0) and no fee. The coordinator puts every operator's gentx into `app_state.staking.gen_txs`; the
 * chain's first validator set is what they create. Used by `proofbook genesis gentx` and scripts/cometbft-net.ts.
 */
import { MsgCreateValidator } from 'cosmjs-types/cosmos/staking/v1beta1/tx';
import { PubKey as Ed25519PubKey } from 'cosmjs-types/cosmos/crypto/ed25519/keys';
import { toBech32 } from '@cosmjs/encoding';
import { addressBytes } from '../crypto/address.js';
import { NATIVE_DENOM } from '../types/coins.js';
import { DEC_ONE } from '../types/dec.js';
import { signTx, type RawKey } from './sign.js';

export const GENTX_GAS = 400_000n;

export interface GentxOptions {
  chainId: string;
  /** The validator's 32-byte ed25519 consensus public key (CometBFT's priv_validator_key.json pub_key). */
  consensusPubkey: Uint8Array;
  /** Self-delegation in `denom` (default uproof). */
  amount: bigint;
  moniker: string;
  denom?: string;
  /** Commission as 10^-18 units (default rate 0.1, max 0.2, max change 0.01). */
  rate?: bigint;
  maxRate?: bigint;
  maxChangeRate?: bigint;
  minSelfDelegation?: bigint;
}

export function valoperOf(key: RawKey): string {
  return toBech32('proofvaloper', addressBytes(key.address));
}

export function createValidatorMsg(key: RawKey, o: Omit<GentxOptions, 'chainId'>) {
  return {
    typeUrl: '/cosmos.staking.v1beta1.MsgCreateValidator',
    value: MsgCreateValidator.encode(MsgCreateValidator.fromPartial({
      description: { moniker: o.moniker, identity: '', website: '', securityContact: '', details: '' },
      commission: {
        rate: (o.rate ?? DEC_ONE / 10n).toString(),
        maxRate: (o.maxRate ?? DEC_ONE / 5n).toString(),
        maxChangeRate: (o.maxChangeRate ?? DEC_ONE / 100n).toString(),
      },
      minSelfDelegation: (o.minSelfDelegation ?? 1n).toString(),
      delegatorAddress: '',
      validatorAddress: valoperOf(key),
      pubkey: { typeUrl: '/cosmos.crypto.ed25519.PubKey', value: Ed25519PubKey.encode({ key: o.consensusPubkey }).finish() },
      value: { denom: o.denom ?? NATIVE_DENOM, amount: o.amount.toString() },
    })).finish(),
  };
}

/** The signed gentx (TxRaw bytes). */
export function buildGentx(key: RawKey, o: GentxOptions): Uint8Array {
  return signTx(key, { msgs: [createValidatorMsg(key, o)], fee: [], gasLimit: GENTX_GAS, memo: '' }, { chainId: o.chainId, accountNumber: 0n, sequence: 0n });
}
