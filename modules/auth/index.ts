import { BaseAccount } from 'cosmjs-types/cosmos/auth/v1beta1/auth';
import {
  QueryAccountRequest, QueryAccountResponse, QueryParamsRequest, QueryParamsResponse,
  QueryAccountsRequest, QueryAccountsResponse, Bech32PrefixRequest, Bech32PrefixResponse, AddressBytesToStringRequest,
  AddressBytesToStringResponse, AddressStringToBytesRequest, AddressStringToBytesResponse, QueryAccountInfoRequest,
  QueryAccountInfoResponse,
} from 'cosmjs-types/cosmos/auth/v1beta1/query';
import type { Module, QueryRoute } from '../../src/framework/module.js';
import { paginate } from '../../src/framework/paginate.js';
import { ErrInvalidAddress, ErrNotFound } from '../../src/framework/errors.js';
import { AddressError, BECH32_PREFIX, addressBytes, addressFromBytes, parseAddress, type Address } from '../../src/crypto/address.js';
import { AUTH_PREFIX, AuthKeeper, DEFAULT_AUTH_PARAMS, type AuthParams } from './keeper.js';

export { AuthKeeper, DEFAULT_AUTH_PARAMS, AUTH_PREFIX } from './keeper.js';
export type { Account, AuthParams } from './keeper.js';

export const BASE_ACCOUNT_TYPE_URL = '/cosmos.auth.v1beta1.BaseAccount';

function addressArg(s: string, field = 'address'): Address {
  try {
    return parseAddress(s);
  } catch (e) {
    throw ErrInvalidAddress(`${field}: ${(e as AddressError).message}`);
  }
}

interface AuthGenesis {
  params?: Partial<Record<keyof AuthParams, string>>;
  accounts?: { address: string; account_number?: string; sequence?: string }[];
}

function paramsToJson(p: AuthParams) {
  return {
    max_memo_characters: p.maxMemoCharacters.toString(),
    tx_sig_limit: p.txSigLimit.toString(),
    max_tx_bytes: p.maxTxBytes.toString(),
    max_tx_gas: p.maxTxGas.toString(),
    min_gas_price_atto: p.minGasPriceAtto.toString(),
    fee_denom: p.feeDenom,
  };
}

function paramsFromJson(j: Record<string, string> | undefined): AuthParams {
  const d = DEFAULT_AUTH_PARAMS;
  if (!j) return d;
  const big = (k: string, dv: bigint) => {
    const v = j[k];
    if (v === undefined) return dv;
    if (!/^[0-9]+$/.test(String(v))) throw new Error(`auth genesis: params.${k} must be a non-negative integer string, got ${JSON.stringify(v)}`);
    return BigInt(v);
  };
  const p: AuthParams = {
    maxMemoCharacters: big('max_memo_characters', d.maxMemoCharacters),
    txSigLimit: big('tx_sig_limit', d.txSigLimit),
    maxTxBytes: big('max_tx_bytes', d.maxTxBytes),
    maxTxGas: big('max_tx_gas', d.maxTxGas),
    minGasPriceAtto: big('min_gas_price_atto', d.minGasPriceAtto),
    feeDenom: j.fee_denom ?? d.feeDenom,
  };
  if (p.txSigLimit < 1n) throw new Error('auth genesis: params.tx_sig_limit must be at least 1');
  if (p.maxTxBytes < 1024n) throw new Error('auth genesis: params.max_tx_bytes must be at least 1024');
  return p;
}

export function createAuthModule(): { module: Module; keeper: AuthKeeper } {
  const keeper = new AuthKeeper();

  const queries: QueryRoute[] = [
    {
      path: '/cosmos.auth.v1beta1.Query/Account',
      requestType: QueryAccountRequest,
      responseType: QueryAccountResponse,
      handle(ctx, req: QueryAccountRequest) {
        const addr = addressArg(req.address);
        const acc = keeper.getAccount(ctx, addr);
        // cosmjs' getAccount() recognizes a missing account by this gRPC NotFound status.
        if (!acc) throw ErrNotFound(`account ${req.address} not found`);
        const value = BaseAccount.encode({ address: acc.address, pubKey: acc.pubKey, accountNumber: acc.accountNumber, sequence: acc.sequence }).finish();
        return { account: { typeUrl: BASE_ACCOUNT_TYPE_URL, value } };
      },
    },
    {
      path: '/cosmos.auth.v1beta1.Query/Accounts',
      requestType: QueryAccountsRequest,
      responseType: QueryAccountsResponse,
      handle(ctx, req) {
        // query.Paginate over the account records (key, offset, limit, count_total, reverse as in the SDK).
        const accounts: { typeUrl: string; value: Uint8Array }[] = [];
        const pagination = paginate(keeper.accountStore(ctx), req.pagination, (_k, v) => accounts.push({ typeUrl: BASE_ACCOUNT_TYPE_URL, value: v }));
        return { accounts, pagination };
      },
    },
    {
      path: '/cosmos.auth.v1beta1.Query/Params',
      requestType: QueryParamsRequest,
      responseType: QueryParamsResponse,
      handle(ctx) {
        const p = keeper.params(ctx);
        return { params: { maxMemoCharacters: p.maxMemoCharacters, txSigLimit: p.txSigLimit, txSizeCostPerByte: 10n, sigVerifyCostEd25519: 590n, sigVerifyCostSecp256k1: 1000n } };
      },
    },
    {
      path: '/cosmos.auth.v1beta1.Query/Bech32Prefix',
      requestType: Bech32PrefixRequest,
      responseType: Bech32PrefixResponse,
      handle: () => ({ bech32Prefix: BECH32_PREFIX }),
    },
    {
      path: '/cosmos.auth.v1beta1.Query/AddressBytesToString',
      requestType: AddressBytesToStringRequest,
      responseType: AddressBytesToStringResponse,
      handle(_ctx, req: AddressBytesToStringRequest) {
        const n = req.addressBytes.length;
        if (n !== 20 && n !== 32) throw ErrInvalidAddress(`address_bytes: expected 20 or 32 bytes, got ${n}`);
        return { addressString: addressFromBytes(req.addressBytes) };
      },
    },
    {
      path: '/cosmos.auth.v1beta1.Query/AddressStringToBytes',
      requestType: AddressStringToBytesRequest,
      responseType: AddressStringToBytesResponse,
      handle: (_ctx, req: AddressStringToBytesRequest) => ({ addressBytes: addressBytes(addressArg(req.addressString, 'address_string')) }),
    },
    {
      path: '/cosmos.auth.v1beta1.Query/AccountInfo',
      requestType: QueryAccountInfoRequest,
      responseType: QueryAccountInfoResponse,
      handle(ctx, req: QueryAccountInfoRequest) {
        const acc = keeper.getAccount(ctx, addressArg(req.address));
        if (!acc) throw ErrNotFound(`account ${req.address} not found`);
        return { info: { address: acc.address, pubKey: acc.pubKey, accountNumber: acc.accountNumber, sequence: acc.sequence } };
      },
    },
  ];

  const module: Module = {
    name: 'auth',
    storePrefix: AUTH_PREFIX,
    queries,
    defaultGenesis: () => ({ params: paramsToJson(DEFAULT_AUTH_PARAMS), accounts: [] }),
    initGenesis(ctx, state) {
      const g = (state ?? {}) as AuthGenesis;
      keeper.setParams(ctx, paramsFromJson(g.params as Record<string, string> | undefined));
      for (const [i, a] of (g.accounts ?? []).entries()) {
        let addr: Address;
        try {
          addr = parseAddress(a.address);
        } catch (e) {
          throw new Error(`auth genesis: accounts[${i}]: ${(e as Error).message}`);
        }
        keeper.ensureAccount(ctx, addr);
      }
    },
    exportGenesis(ctx) {
      return {
        params: paramsToJson(keeper.params(ctx)),
        accounts: [...keeper.accounts(ctx)].map((a) => ({ address: a.address, account_number: a.accountNumber.toString(), sequence: a.sequence.toString() })),
      };
    },
    invariants: [],
  };
  return { module, keeper };
}
