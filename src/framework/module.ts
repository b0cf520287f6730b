/**
 * The module contract. A module owns one state prefix, its messages, queries, genesis, block hooks, events and
 * invariants, and reaches other modules only through the small keeper interfaces they export. The app wires the
 * modules together in a fixed order (app/modules.ts), which is also the order of genesis and block hooks.
 */
import type { Context } from './context.js';
import type { Address } from '../crypto/address.js';

/** A protobuf message type as ts-proto / cosmjs-types generate them. */
export interface ProtoType<T> {
  encode(message: T, writer?: any): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: any): T;
}

export interface MsgRoute<T = any, R = any> {
  /** e.g. '/cosmos.bank.v1beta1.MsgSend' */
  readonly typeUrl: string;
  readonly type: ProtoType<T>;
  /** typeUrl and type of the response message, placed in TxMsgData.msg_responses. */
  readonly responseTypeUrl: string;
  readonly responseType: ProtoType<R>;
  /** Addresses that must sign the tx carrying this message (validated bech32; throw ErrInvalidAddress otherwise). */
  signers(msg: T): Address[];
  /** Stateless checks (field formats, positive amounts); throw AppError. */
  validateBasic?(msg: T): void;
  /** Executes the message; throws AppError to fail the whole tx. */
  handle(ctx: Context, msg: T): R;
  /**
   * For messages that make the chain verify zero-knowledge proofs: how many proofs and public signals (stateless,
   * from the message alone). The app caps this work per tx and per block and batch-verifies it ahead of execution.
   */
  proofWork?(msg: T): { proofs: number; signals: number };
}

export interface QueryRoute<Q = any, R = any> {
  /** gRPC-style path, e.g. '/cosmos.bank.v1beta1.Query/Balance' */
  readonly path: string;
  readonly requestType: ProtoType<Q>;
  readonly responseType: ProtoType<R>;
  /** Throws AppError (its grpcCode becomes the `rpc error: code = …` in the log). */
  handle(ctx: Context, req: Q): R;
}

/**
 * The route builder for one query service: `const route = queryRouter('/cosmos.staking.v1beta1.Query/')`, then
 * `route('Validators', Q.QueryValidatorsRequest, Q.QueryValidatorsResponse, (ctx, req) => …)`.
 */
export function queryRouter(prefix: string) {
  return <Req, Res>(method: string, requestType: ProtoType<Req>, responseType: ProtoType<Res>, handle: (ctx: Context, req: Req) => Res): QueryRoute<Req, Res> =>
    ({ path: prefix + method, requestType, responseType, handle });
}

export interface Invariant {
  readonly name: string;
  /** Returns a description of the broken invariant, or undefined when it holds. */
  check(ctx: Context): string | undefined;
}

export interface Module {
  readonly name: string;
  /** Unique state prefix; no module's prefix may be a prefix of another's. Convention: `name + '/'`. */
  readonly storePrefix: string;
  readonly msgs?: readonly MsgRoute[];
  readonly queries?: readonly QueryRoute[];
  /** Default genesis section (JSON-serializable: bigints as decimal strings). */
  defaultGenesis?(): unknown;
  /** Validates and loads this module's genesis section; throw Error with a clear message on bad input. */
  initGenesis?(ctx: Context, state: unknown): void;
  exportGenesis?(ctx: Context): unknown;
  beginBlock?(ctx: Context): void;
  /**
   * Called in FinalizeBlock after beginBlock and before the block's txs run, with the messages of every decodable tx
   * in block order. For batching work whose results are pure functions of the messages (e.g. verifying all proofs of
   * the block in one pairing check and caching the verdicts). Must not write state: its writes are discarded.
   */
  beforeTxs?(ctx: Context, msgs: readonly { readonly typeUrl: string; readonly value: unknown }[]): void;
  endBlock?(ctx: Context): void;
  /**
   * Changes to CometBFT's validator set (power 0 removes a validator): called by the app after every module's
   * endBlock in FinalizeBlock, and once at InitChain after genesis (then it is the whole initial set). Its writes and
   * its answer are kept together or dropped together. Only the staking module has one.
   */
  validatorUpdates?(ctx: Context): readonly ValidatorPowerUpdate[];
  /**
   * Signed txs in this module's genesis section that the app delivers, in order, after every module's initGenesis
   * (the Cosmos SDK's gentxs: validators created by their own operators' signatures). A failing one fails InitChain.
   */
  genesisTxs?(state: unknown): readonly Uint8Array[];
  readonly invariants?: readonly Invariant[];
}

export interface ValidatorPowerUpdate {
  /** 32-byte ed25519 consensus public key. */
  readonly pubKeyEd25519: Uint8Array;
  readonly power: bigint;
}
