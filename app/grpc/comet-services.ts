/**
 * The Cosmos SDK's node-facing services, answered from CometBFT's JSON-RPC (the same source the SDK uses, so blocks,
 * validator sets and node info are exactly what the consensus engine holds — the validator set is CometBFT's, whose
 * hash is in each header, not a re-derivation from staking state):
 *
 * - cosmos.base.tendermint.v1beta1.Service: GetNodeInfo, GetSyncing, GetLatestBlock, GetBlockByHeight,
 *   GetLatestValidatorSet, GetValidatorSetByHeight, ABCIQuery (CometBFT `abci_query`, proofs included when asked)
 * - cosmos.base.node.v1beta1.Service: Config (answered by the app: the minimum gas price is a consensus parameter
 *   here) and Status
 * - cosmos.tx.v1beta1.Service/GetBlockWithTxs
 *
 * Raw JSON-RPC (not cosmjs' client) because these answers re-encode the block as protobuf, byte for byte.
 * Nothing here is reached by the state machine.
 */
import { toBech32 } from '@cosmjs/encoding';
import { Block as SdkBlock } from 'cosmjs-types/cosmos/base/tendermint/v1beta1/types';
import {
  ABCIQueryRequest, ABCIQueryResponse, GetBlockByHeightRequest, GetBlockByHeightResponse, GetLatestBlockRequest,
  GetLatestBlockResponse, GetLatestValidatorSetRequest, GetLatestValidatorSetResponse, GetNodeInfoRequest,
  GetNodeInfoResponse, GetSyncingRequest, GetSyncingResponse, GetValidatorSetByHeightRequest,
  GetValidatorSetByHeightResponse, type Validator,
} from 'cosmjs-types/cosmos/base/tendermint/v1beta1/query';
import { StatusRequest, StatusResponse } from 'cosmjs-types/cosmos/base/node/v1beta1/query';
import { GetBlockWithTxsRequest, GetBlockWithTxsResponse } from 'cosmjs-types/cosmos/tx/v1beta1/service';
import { AuthInfo, Tx, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { PubKey as Ed25519PubKey } from 'cosmjs-types/cosmos/crypto/ed25519/keys';
import type { PageRequest } from 'cosmjs-types/cosmos/base/query/v1beta1/pagination';
import { Block } from 'cosmjs-types/tendermint/types/block';
import type { BlockID, Commit, Header, LightBlock, Vote } from 'cosmjs-types/tendermint/types/types';
import type { Validator as TmValidator, ValidatorSet } from 'cosmjs-types/tendermint/types/validator';
import type { PublicKey } from 'cosmjs-types/tendermint/crypto/keys';
import type { Evidence } from 'cosmjs-types/tendermint/types/evidence';
import type { Timestamp } from 'cosmjs-types/google/protobuf/timestamp';
import { VALCONS_PREFIX } from '../../modules/staking/addresses.js';
import { APP_VERSION } from '../version.js';
import { GrpcStatusError, MAX_PAGE_LIMIT, statusFromQueryError, type CallMeta, type QueryFn, type RawMethod } from './server.js';
import * as grpc from '@grpc/grpc-js';

type J = Record<string, unknown>;

const bytesHex = (s: unknown): Uint8Array => (typeof s === 'string' && s !== '' ? new Uint8Array(Buffer.from(s, 'hex')) : new Uint8Array());
const bytesB64 = (s: unknown): Uint8Array => (typeof s === 'string' && s !== '' ? new Uint8Array(Buffer.from(s, 'base64')) : new Uint8Array());
const big = (s: unknown): bigint => BigInt(typeof s === 'string' || typeof s === 'number' ? s : 0);
const obj = (v: unknown): J => (typeof v === 'object' && v !== null ? (v as J) : {});

/** RFC 3339 with up to nanosecond digits -> google.protobuf.Timestamp, without losing the nanoseconds. */
export function timestampOf(s: unknown): Timestamp {
  const m = typeof s === 'string' ? /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(s) : null;
  if (!m) return { seconds: 0n, nanos: 0 };
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

function blockIdOf(j: unknown): BlockID {
  const b = obj(j), parts = obj(b.parts);
  return { hash: bytesHex(b.hash), partSetHeader: { total: Number(parts.total ?? 0), hash: bytesHex(parts.hash) } };
}

function headerOf(j: unknown): Header {
  const h = obj(j), v = obj(h.version);
  return {
    version: { block: big(v.block), app: big(v.app) }, chainId: String(h.chain_id ?? ''), height: big(h.height),
    time: timestampOf(h.time), lastBlockId: blockIdOf(h.last_block_id), lastCommitHash: bytesHex(h.last_commit_hash),
    dataHash: bytesHex(h.data_hash), validatorsHash: bytesHex(h.validators_hash), nextValidatorsHash: bytesHex(h.next_validators_hash),
    consensusHash: bytesHex(h.consensus_hash), appHash: bytesHex(h.app_hash), lastResultsHash: bytesHex(h.last_results_hash),
    evidenceHash: bytesHex(h.evidence_hash), proposerAddress: bytesHex(h.proposer_address),
  };
}

function commitOf(j: unknown): Commit {
  const c = obj(j);
  return {
    height: big(c.height), round: Number(c.round ?? 0), blockId: blockIdOf(c.block_id),
    signatures: ((c.signatures ?? []) as unknown[]).map((s) => {
      const x = obj(s);
      return { blockIdFlag: Number(x.block_id_flag ?? 0), validatorAddress: bytesHex(x.validator_address), timestamp: timestampOf(x.timestamp), signature: bytesB64(x.signature) };
    }),
  };
}

function voteOf(j: unknown): Vote {
  const v = obj(j);
  return {
    type: Number(v.type ?? 0), height: big(v.height), round: Number(v.round ?? 0), blockId: blockIdOf(v.block_id),
    timestamp: timestampOf(v.timestamp), validatorAddress: bytesHex(v.validator_address), validatorIndex: Number(v.validator_index ?? 0),
    signature: bytesB64(v.signature), extension: bytesB64(v.extension), extensionSignature: bytesB64(v.extension_signature),
  };
}

/** CometBFT's amino-JSON public key ({type, value}) -> tendermint.crypto.PublicKey. */
function publicKeyOf(j: unknown): PublicKey {
  const k = obj(j);
  if (k.type === 'tendermint/PubKeyEd25519') return { ed25519: bytesB64(k.value) };
  if (k.type === 'tendermint/PubKeySecp256k1') return { secp256k1: bytesB64(k.value) };
  if (j === null || j === undefined) return {};
  throw new GrpcStatusError(grpc.status.UNIMPLEMENTED, `validator key of type '${String(k.type)}' cannot be re-encoded by this gateway (only ed25519 and secp256k1)`);
}

function validatorOf(j: unknown): TmValidator {
  const v = obj(j);
  return { address: bytesHex(v.address), pubKey: publicKeyOf(v.pub_key), votingPower: big(v.voting_power), proposerPriority: big(v.proposer_priority) };
}

/** As ValidatorSet.ToProto: total_voting_power is always 0 on the wire (CometBFT keeps it out of the encoding). */
function validatorSetOf(j: unknown): ValidatorSet | undefined {
  if (j === null || j === undefined) return undefined;
  const v = obj(j);
  return {
    validators: ((v.validators ?? []) as unknown[]).map(validatorOf),
    proposer: v.proposer === null || v.proposer === undefined ? undefined : validatorOf(v.proposer),
    totalVotingPower: 0n,
  };
}

/** LightBlock.ToProto: a nil signed header, header, commit or validator set stays absent. */
function lightBlockOf(j: unknown): LightBlock | undefined {
  if (j === null || j === undefined) return undefined;
  const b = obj(j);
  const sh = b.signed_header === null || b.signed_header === undefined ? undefined : obj(b.signed_header);
  return {
    signedHeader: sh && {
      header: sh.header === null || sh.header === undefined ? undefined : headerOf(sh.header),
      commit: sh.commit === null || sh.commit === undefined ? undefined : commitOf(sh.commit),
    },
    validatorSet: validatorSetOf(b.validator_set),
  };
}

/**
 * The two evidence types of CometBFT v0.38 (types/evidence.go), from the `block` RPC's amino JSON: the vote and light
 * block fields carry JSON tags, the ABCI-specific ones (TotalVotingPower, ValidatorPower, CommonHeight,
 * ByzantineValidators, Timestamp) their Go names. test/comet-evidence.test.ts checks both against CometBFT's own
 * protobuf encoding of the same block.
 */
function evidenceOf(j: unknown): Evidence {
  const e = obj(j), v = obj(e.value);
  if (e.type === 'tendermint/DuplicateVoteEvidence') {
    return {
      duplicateVoteEvidence: {
        voteA: voteOf(v.vote_a), voteB: voteOf(v.vote_b), totalVotingPower: big(v.TotalVotingPower),
        validatorPower: big(v.ValidatorPower), timestamp: timestampOf(v.Timestamp),
      },
    };
  }
  if (e.type === 'tendermint/LightClientAttackEvidence') {
    return {
      lightClientAttackEvidence: {
        conflictingBlock: lightBlockOf(v.ConflictingBlock), commonHeight: big(v.CommonHeight),
        byzantineValidators: ((v.ByzantineValidators ?? []) as unknown[]).map(validatorOf),
        totalVotingPower: big(v.TotalVotingPower), timestamp: timestampOf(v.Timestamp),
      },
    };
  }
  throw new GrpcStatusError(grpc.status.UNIMPLEMENTED, `evidence of type '${String(e.type)}' cannot be re-encoded by this gateway (CometBFT v0.38 has only DuplicateVoteEvidence and LightClientAttackEvidence)`);
}

/** A CometBFT JSON `block` result -> (BlockID, tendermint Block, SDK Block with a bech32 valcons proposer). */
export function blocksOf(result: unknown): { blockId: BlockID; block: Block; sdkBlock: SdkBlock } {
  const r = obj(result), b = obj(r.block);
  const header = headerOf(b.header);
  const data = { txs: ((obj(b.data).txs ?? []) as unknown[]).map(bytesB64) };
  const evidence = { evidence: ((obj(b.evidence).evidence ?? []) as unknown[]).map(evidenceOf) };
  const lastCommit = commitOf(b.last_commit);
  const proposer = header.proposerAddress.length > 0 ? toBech32(VALCONS_PREFIX, header.proposerAddress) : '';
  return {
    blockId: blockIdOf(r.block_id),
    block: { header, data, evidence, lastCommit },
    sdkBlock: { header: { ...header, proposerAddress: proposer }, data, evidence, lastCommit },
  };
}

/** JSON-RPC over HTTP to CometBFT (tcp:// is read as http://). */
export function cometRpc(rpcUrl: string): (method: string, params?: J) => Promise<J> {
  const url = rpcUrl.replace(/^tcp:\/\//, 'http://');
  let id = 0;
  return async (method, params = {}) => {
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }) });
    } catch (e) {
      throw new GrpcStatusError(grpc.status.UNAVAILABLE, `cannot reach CometBFT RPC at ${url}: ${(e as Error).message}`);
    }
    const body = obj(await res.json().catch(() => ({})));
    if (body.error) {
      const err = obj(body.error);
      const msg = `${String(err.message ?? '')} ${String(err.data ?? '')}`.trim();
      if (/must be less than or equal to the current blockchain height|height \d+ is not available|could not find|must be greater than 0/i.test(msg)) {
        throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, `${method}: ${msg}`);
      }
      throw new GrpcStatusError(grpc.status.UNAVAILABLE, `CometBFT ${method} failed: ${msg}`);
    }
    return obj(body.result);
  };
}

const heightParam = (h: bigint): J => {
  if (h < 0n) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, `invalid height ${h}: must be positive`);
  if (h === 0n) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'height must be greater than 0 (use the /latest route for the latest block)');
  return { height: h.toString() };
};

/** Offset/limit over a whole list (validator sets are at most a few hundred entries). */
function page<T>(all: T[], p: PageRequest | undefined): { items: T[]; total: bigint } {
  if (p && p.key.length > 0) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'invalid pagination: validator sets are paged by offset and limit, not key');
  const limit = p && p.limit > 0n ? p.limit : 100n;
  if (limit > MAX_PAGE_LIMIT) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, `invalid pagination: limit ${limit} exceeds the maximum of ${MAX_PAGE_LIMIT}`);
  const offset = Number(p?.offset ?? 0n);
  return { items: all.slice(offset, offset + Number(limit)), total: BigInt(all.length) };
}

function txOf(bytes: Uint8Array): Tx {
  try {
    const raw = TxRaw.decode(bytes);
    return Tx.fromPartial({ body: TxBody.decode(raw.bodyBytes), authInfo: AuthInfo.decode(raw.authInfoBytes), signatures: raw.signatures });
  } catch {
    return Tx.fromPartial({});
  }
}

type Codec<T> = { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T };

/** Adds the methods above to a dispatcher's table; returns the names of the services added. */
export function addCometServices(methods: Map<string, RawMethod>, opts: { rpcUrl: string; query: QueryFn }): string[] {
  const rpc = cometRpc(opts.rpcUrl);
  const add = <Req, Res>(path: string, reqC: Codec<Req>, resC: Codec<Res>, fn: (r: Req, meta: CallMeta) => Promise<Res>): void => {
    methods.set(path, async (bytes, meta) => {
      let req: Req;
      try {
        req = reqC.decode(bytes);
      } catch (e) {
        throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, `cannot decode the request for ${path}: ${(e as Error).message}`);
      }
      return { value: resC.encode(await fn(req, meta)).finish() };
    });
  };

  const validatorSet = async (height: bigint | undefined, p: PageRequest | undefined) => {
    const all: Validator[] = [];
    let blockHeight = 0n;
    for (let n = 1; ; n++) {
      const r = await rpc('validators', { ...(height === undefined ? {} : heightParam(height)), page: String(n), per_page: '100' });
      blockHeight = big(r.block_height);
      const vs = (r.validators ?? []) as unknown[];
      for (const v of vs) {
        const x = obj(v), pk = obj(x.pub_key);
        const key = bytesB64(pk.value);
        all.push({
          address: toBech32(VALCONS_PREFIX, bytesHex(x.address)),
          pubKey: pk.type === 'tendermint/PubKeyEd25519' ? { typeUrl: '/cosmos.crypto.ed25519.PubKey', value: Ed25519PubKey.encode({ key }).finish() } : undefined,
          votingPower: big(x.voting_power), proposerPriority: big(x.proposer_priority),
        });
      }
      if (vs.length === 0 || all.length >= Number(r.total ?? 0)) break;
    }
    const { items, total } = page(all, p);
    return { blockHeight, validators: items, pagination: { nextKey: new Uint8Array(), total } };
  };

  const T = '/cosmos.base.tendermint.v1beta1.Service/';
  add(`${T}GetNodeInfo`, GetNodeInfoRequest, GetNodeInfoResponse, async () => {
    const ni = obj((await rpc('status')).node_info), pv = obj(ni.protocol_version), other = obj(ni.other);
    return {
      defaultNodeInfo: {
        protocolVersion: { p2p: big(pv.p2p), block: big(pv.block), app: big(pv.app) }, defaultNodeId: String(ni.id ?? ''),
        listenAddr: String(ni.listen_addr ?? ''), network: String(ni.network ?? ''), version: String(ni.version ?? ''),
        channels: bytesHex(ni.channels), moniker: String(ni.moniker ?? ''),
        other: { txIndex: String(other.tx_index ?? ''), rpcAddress: String(other.rpc_address ?? '') },
      },
      applicationVersion: {
        name: 'proofbook', appName: 'proofbook', version: APP_VERSION, gitCommit: '', buildTags: '',
        goVersion: `node ${process.version}`, buildDeps: [], cosmosSdkVersion: '',
      },
    };
  });
  add(`${T}GetSyncing`, GetSyncingRequest, GetSyncingResponse, async () => ({ syncing: obj((await rpc('status')).sync_info).catching_up === true }));
  add(`${T}GetLatestBlock`, GetLatestBlockRequest, GetLatestBlockResponse, async () => blocksOf(await rpc('block')));
  add(`${T}GetBlockByHeight`, GetBlockByHeightRequest, GetBlockByHeightResponse, async (r) => blocksOf(await rpc('block', heightParam(r.height))));
  add(`${T}GetLatestValidatorSet`, GetLatestValidatorSetRequest, GetLatestValidatorSetResponse, (r) => validatorSet(undefined, r.pagination));
  add(`${T}GetValidatorSetByHeight`, GetValidatorSetByHeightRequest, GetValidatorSetByHeightResponse, (r) => validatorSet(r.height, r.pagination));
  add(`${T}ABCIQuery`, ABCIQueryRequest, ABCIQueryResponse, async (r) => {
    if (r.path === '') throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'path is required (a gRPC query path such as /cosmos.bank.v1beta1.Query/Balance, or store/key)');
    if (r.height < 0n) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, `invalid height ${r.height}`);
    const q = obj((await rpc('abci_query', { path: r.path, data: Buffer.from(r.data).toString('hex'), height: r.height.toString(), prove: r.prove })).response);
    const ops = ((obj(q.proofOps ?? q.proof_ops).ops ?? []) as unknown[]).map((o) => ({ type: String(obj(o).type ?? ''), key: bytesB64(obj(o).key), data: bytesB64(obj(o).data) }));
    return {
      code: Number(q.code ?? 0), log: String(q.log ?? ''), info: String(q.info ?? ''), index: big(q.index), key: bytesB64(q.key),
      value: bytesB64(q.value), proofOps: ops.length > 0 ? { ops } : undefined, height: big(q.height), codespace: String(q.codespace ?? ''),
    };
  });

  add('/cosmos.base.node.v1beta1.Service/Status', StatusRequest, StatusResponse, async () => {
    const s = obj((await rpc('status')).sync_info);
    const latest = big(s.latest_block_height);
    const header = latest > 0n ? headerOf(obj(obj(await rpc('block', { height: latest.toString() })).block).header) : undefined;
    return {
      earliestStoreHeight: big(s.earliest_block_height), height: latest, timestamp: timestampOf(s.latest_block_time),
      appHash: bytesHex(s.latest_app_hash), validatorHash: header?.validatorsHash ?? new Uint8Array(),
    };
  });
  // Config: forwarded to the app as an ABCI query (modules/auth answers it from its params).
  methods.set('/cosmos.base.node.v1beta1.Service/Config', async (bytes, meta) => {
    const res = await opts.query('/cosmos.base.node.v1beta1.Service/Config', bytes, meta.height ?? 0n);
    if (res.code !== 0) throw statusFromQueryError(res);
    return { value: res.value, height: res.height };
  });

  add('/cosmos.tx.v1beta1.Service/GetBlockWithTxs', GetBlockWithTxsRequest, GetBlockWithTxsResponse, async (r) => {
    const { blockId, block } = blocksOf(await rpc('block', heightParam(r.height)));
    const all = block.data.txs;
    const p = r.pagination;
    if (p && p.key.length > 0) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'invalid pagination: use offset and limit');
    const offset = Number(p?.offset ?? 0n);
    const limit = p && p.limit > 0n ? Number(p.limit) : 100;
    if (offset > all.length && all.length > 0) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, `out of range: cannot paginate ${all.length} txs with offset ${offset} and limit ${limit}`);
    const txs = all.slice(offset, offset + limit).map(txOf);
    return { txs, blockId, block, pagination: { nextKey: new Uint8Array(), total: BigInt(all.length) } };
  });

  return ['cosmos.base.tendermint.v1beta1.Service', 'cosmos.base.node.v1beta1.Service'];
}
