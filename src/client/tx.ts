/**
 * Client helpers for talking to a proofbook node with @cosmjs: a CometBFT 0.38 RPC client, a read-only
 * StargateClient and a SigningStargateClient (SIGN_MODE_DIRECT) with polling tuned for short block times.
 *
 * The @cosmjs packages are imported lazily (they take ~1 s of CPU to load), so CLI commands that never talk to a
 * node (keys, help) start fast.
 */
import type { SigningStargateClient, StargateClient, DeliverTxResponse, StdFee, MsgSendEncodeObject } from '@cosmjs/stargate';
import type { Comet38Client } from '@cosmjs/tendermint-rpc';
import type { EncodeObject, OfflineSigner, Registry } from '@cosmjs/proto-signing';
import type { Coin } from 'cosmjs-types/cosmos/base/v1beta1/coin';

export const DEFAULT_NODE = 'http://127.0.0.1:26657';

/** Thrown when the RPC endpoint does not answer (connection refused, DNS, timeout, not a CometBFT RPC). */
export class NodeUnreachableError extends Error {
  constructor(readonly url: string, cause: unknown) {
    super(`cannot reach a node at ${url}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'NodeUnreachableError';
  }
}

/** Accepts `host:port`, `tcp://host:port` (CometBFT style) or an http(s)/ws(s) URL. */
export function normalizeNodeUrl(node: string): string {
  const s = node.trim();
  if (/^tcp:\/\//i.test(s)) return `http://${s.slice(6)}`;
  if (/^(https?|wss?):\/\//i.test(s)) return s;
  return `http://${s}`;
}

export async function connectComet(node: string): Promise<Comet38Client> {
  const url = normalizeNodeUrl(node);
  const { Comet38Client } = await import('@cosmjs/tendermint-rpc');
  const client = await Comet38Client.connect(url);
  try {
    await client.health(); // connect() itself sends nothing: probe so an unreachable node fails here, clearly
  } catch (e) {
    client.disconnect();
    throw new NodeUnreachableError(url, e);
  }
  return client;
}

export async function connectQueryClient(node: string): Promise<{ client: StargateClient; comet: Comet38Client }> {
  const comet = await connectComet(node);
  const { StargateClient } = await import('@cosmjs/stargate');
  return { client: StargateClient.create(comet), comet };
}

export interface SigningOptions {
  /** e.g. "0.001uproof"; needed for fee "auto" or a numeric gas limit. */
  readonly gasPrice?: string;
  /** Custom message types (default: cosmjs' default registry, which includes bank MsgSend). */
  readonly registry?: Registry;
  /** How often to poll `tx_search` while waiting for inclusion. Default 300 ms. */
  readonly pollIntervalMs?: number;
  /** Give up waiting for inclusion after this long. Default 60 s. */
  readonly timeoutMs?: number;
}

export async function connectSigningClient(node: string, signer: OfflineSigner, opts: SigningOptions = {}): Promise<SigningStargateClient> {
  const comet = await connectComet(node);
  const { GasPrice, SigningStargateClient } = await import('@cosmjs/stargate');
  return SigningStargateClient.createWithSigner(comet, signer, {
    gasPrice: opts.gasPrice !== undefined ? GasPrice.fromString(opts.gasPrice) : undefined,
    registry: opts.registry,
    broadcastPollIntervalMs: opts.pollIntervalMs ?? 300,
    broadcastTimeoutMs: opts.timeoutMs ?? 60_000,
  });
}

export function bankSendMsg(fromAddress: string, toAddress: string, amount: readonly Coin[]): MsgSendEncodeObject {
  return { typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: { fromAddress, toAddress, amount: [...amount] } };
}

/** Signs a bank send, broadcasts it and waits until it is in a block. */
export async function sendTokens(
  client: SigningStargateClient, from: string, to: string, amount: readonly Coin[], fee: StdFee | 'auto' | number, memo = '',
): Promise<DeliverTxResponse> {
  return client.signAndBroadcast(from, [bankSendMsg(from, to, amount)], fee, memo);
}

/**
 * Estimates gas like `SigningStargateClient.simulate`, but with the fee coins the tx will really carry and a
 * 64-byte placeholder signature, so the fee deduction and the final tx size are part of the estimate (cosmjs
 * simulates with an empty fee and an empty signature, which undercounts both).
 */
export async function simulateGas(
  comet: Comet38Client, registry: Registry, signer: { pubkey: Uint8Array; sequence: number },
  messages: readonly EncodeObject[], memo: string, feeAmount: readonly Coin[],
): Promise<bigint> {
  const [{ encodePubkey }, { encodeSecp256k1Pubkey }, { AuthInfo, Fee, Tx, TxBody }, { SignMode }, { SimulateRequest, SimulateResponse }] = await Promise.all([
    import('@cosmjs/proto-signing'), import('@cosmjs/amino'), import('cosmjs-types/cosmos/tx/v1beta1/tx'),
    import('cosmjs-types/cosmos/tx/signing/v1beta1/signing'), import('cosmjs-types/cosmos/tx/v1beta1/service'),
  ]);
  const tx = Tx.fromPartial({
    body: TxBody.fromPartial({ messages: messages.map((m) => registry.encodeAsAny(m)), memo }),
    authInfo: AuthInfo.fromPartial({
      fee: Fee.fromPartial({ amount: [...feeAmount], gasLimit: 0n }),
      signerInfos: [{
        publicKey: encodePubkey(encodeSecp256k1Pubkey(signer.pubkey)),
        sequence: BigInt(signer.sequence),
        modeInfo: { single: { mode: SignMode.SIGN_MODE_DIRECT } },
      }],
    }),
    signatures: [new Uint8Array(64)],
  });
  const res = await comet.abciQuery({
    path: '/cosmos.tx.v1beta1.Service/Simulate',
    data: SimulateRequest.encode(SimulateRequest.fromPartial({ txBytes: Tx.encode(tx).finish() })).finish(),
  });
  if ((res.code ?? 0) !== 0) throw new SimulationError(res.code ?? 0, res.codespace ?? '', res.log ?? '');
  const gas = SimulateResponse.decode(res.value).gasInfo?.gasUsed;
  if (gas === undefined) throw new SimulationError(0, '', 'the node returned no gas info');
  return gas;
}

export class SimulationError extends Error {
  constructor(readonly code: number, readonly codespace: string, readonly log: string) {
    super(`simulation failed (codespace ${codespace}, code ${code}): ${log}`);
    this.name = 'SimulationError';
  }
}
