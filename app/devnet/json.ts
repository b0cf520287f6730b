/**
 * CometBFT v0.38 RPC JSON encodings (libs/json + gogoproto json tags): int64/uint64 (and Go int) as decimal
 * strings, int32/uint32 as numbers, []byte as base64, HexBytes as upper-case hex, times as RFC 3339 with
 * nanoseconds, and `omitempty` on every field of ABCI protobuf messages.
 */
import type { Timestamp } from 'cosmjs-types/google/protobuf/timestamp';
import type { BlockID, Header, Commit } from 'cosmjs-types/tendermint/types/types';
import type { Block } from 'cosmjs-types/tendermint/types/block';
import type {
  Event, ExecTxResult, ResponseCheckTx, ResponseFinalizeBlock, ResponseInfo, ResponseQuery, ValidatorUpdate,
} from 'cosmjs-types/tendermint/abci/types';
import type { ConsensusParams } from 'cosmjs-types/tendermint/types/params';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
export const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

export function rfc3339Nano(t: Timestamp): string {
  const base = new Date(Number(t.seconds) * 1000).toISOString().slice(0, 19);
  if (t.nanos === 0) return `${base}Z`;
  const frac = String(t.nanos).padStart(9, '0').replace(/0+$/, '');
  return `${base}.${frac}Z`;
}

/**
 * CometBFT's RPC JSON (libs/json) ignores `omitempty`: every ABCI field is present, zero ints as 0 / "0",
 * empty bytes as null, empty strings as "". (Checked against a real CometBFT 0.38 node: test/devnet-parity.test.ts.)
 */
const bytesOrNull = (v: Uint8Array | undefined): string | null => (v && v.length > 0 ? b64(v) : null);

export function eventJson(e: Event): JsonObject {
  return { type: e.type, attributes: e.attributes.map((a) => ({ key: a.key, value: a.value, index: a.index })) };
}

/** ExecTxResult and ResponseCheckTx share these fields and their JSON. */
export function execTxResultJson(r: ExecTxResult | ResponseCheckTx): JsonObject {
  return {
    code: r.code, data: bytesOrNull(r.data), log: r.log, info: r.info,
    gas_wanted: r.gasWanted.toString(), gas_used: r.gasUsed.toString(),
    events: r.events.map(eventJson), codespace: r.codespace,
  };
}

/** ExecTxResult inside a websocket Tx event: there CometBFT 0.38 does honour omitempty. */
export function execTxResultEventJson(r: ExecTxResult): JsonObject {
  const out: JsonObject = {};
  if (r.code !== 0) out.code = r.code;
  if (r.data.length > 0) out.data = b64(r.data);
  if (r.log !== '') out.log = r.log;
  if (r.info !== '') out.info = r.info;
  if (r.gasWanted !== 0n) out.gas_wanted = r.gasWanted.toString();
  if (r.gasUsed !== 0n) out.gas_used = r.gasUsed.toString();
  if (r.events.length > 0) {
    out.events = r.events.map((e) => {
      const ev: JsonObject = { type: e.type };
      if (e.attributes.length > 0) {
        ev.attributes = e.attributes.map((a) => {
          const at: JsonObject = { key: a.key, value: a.value };
          if (a.index) at.index = true;
          return at;
        });
      }
      return ev;
    });
  }
  if (r.codespace !== '') out.codespace = r.codespace;
  return out;
}

export function checkTxJson(r: ResponseCheckTx): JsonObject {
  return execTxResultJson(r);
}

export function infoJson(r: ResponseInfo): JsonObject {
  return {
    data: r.data, version: r.version, app_version: r.appVersion.toString(),
    last_block_height: r.lastBlockHeight.toString(), last_block_app_hash: bytesOrNull(r.lastBlockAppHash),
  };
}

export function queryJson(r: ResponseQuery): JsonObject {
  const proof = r.proofOps
    ? { ops: r.proofOps.ops.map((op) => ({ type: op.type, key: bytesOrNull(op.key), data: bytesOrNull(op.data) })) }
    : null;
  return {
    code: r.code, log: r.log, info: r.info, index: r.index.toString(),
    key: bytesOrNull(r.key), value: bytesOrNull(r.value),
    proofOps: proof, // CometBFT's RPC uses the proto json name here (and Comet38Client reads proofOps)
    height: r.height.toString(), codespace: r.codespace,
  };
}

export function pubKeyJson(ed25519: Uint8Array): JsonObject {
  return { type: 'tendermint/PubKeyEd25519', value: b64(ed25519) };
}

export function validatorUpdateJson(v: ValidatorUpdate): JsonObject {
  const key: JsonObject = v.pubKey?.ed25519 ? { Sum: { type: 'tendermint.crypto.PublicKey_Ed25519', value: { ed25519: b64(v.pubKey.ed25519) } } }
    : { Sum: { type: 'tendermint.crypto.PublicKey_Secp256K1', value: { secp256k1: b64(v.pubKey?.secp256k1 ?? new Uint8Array()) } } };
  return { pub_key: key, power: v.power.toString() };
}

export function consensusParamsJson(p: ConsensusParams): JsonObject {
  const out: JsonObject = {};
  if (p.block) out.block = { max_bytes: p.block.maxBytes.toString(), max_gas: p.block.maxGas.toString() };
  if (p.evidence) {
    const d = p.evidence.maxAgeDuration;
    const ns = d ? d.seconds * 1_000_000_000n + BigInt(d.nanos) : 0n;
    out.evidence = {
      max_age_num_blocks: p.evidence.maxAgeNumBlocks.toString(), max_age_duration: ns.toString(), max_bytes: p.evidence.maxBytes.toString(),
    };
  }
  if (p.validator) out.validator = { pub_key_types: [...p.validator.pubKeyTypes] };
  if (p.version) out.version = { app: p.version.app.toString() };
  if (p.abci) out.abci = { vote_extensions_enable_height: p.abci.voteExtensionsEnableHeight.toString() };
  return out;
}

export function finalizeBlockJson(r: ResponseFinalizeBlock): JsonObject {
  // As CometBFT 0.38 sends it in NewBlock events: nil slices as null, a nil consensus_param_updates omitted.
  const out: JsonObject = {
    events: r.events.length > 0 ? r.events.map(eventJson) : null,
    tx_results: r.txResults.length > 0 ? r.txResults.map(execTxResultJson) : null,
    validator_updates: r.validatorUpdates.length > 0 ? r.validatorUpdates.map(validatorUpdateJson) : null,
  };
  if (r.consensusParamUpdates) out.consensus_param_updates = consensusParamsJson(r.consensusParamUpdates);
  out.app_hash = bytesOrNull(r.appHash);
  return out;
}

export function blockIdJson(id: BlockID): JsonObject {
  return { hash: hex(id.hash), parts: { total: id.partSetHeader.total, hash: hex(id.partSetHeader.hash) } };
}

export function headerJson(h: Header): JsonObject {
  return {
    version: { block: h.version.block.toString(), app: h.version.app.toString() },
    chain_id: h.chainId,
    height: h.height.toString(),
    time: rfc3339Nano(h.time),
    last_block_id: blockIdJson(h.lastBlockId),
    last_commit_hash: hex(h.lastCommitHash),
    data_hash: hex(h.dataHash),
    validators_hash: hex(h.validatorsHash),
    next_validators_hash: hex(h.nextValidatorsHash),
    consensus_hash: hex(h.consensusHash),
    app_hash: hex(h.appHash),
    last_results_hash: hex(h.lastResultsHash),
    evidence_hash: hex(h.evidenceHash),
    proposer_address: hex(h.proposerAddress),
  };
}

export function commitJson(c: Commit): JsonObject {
  return {
    height: c.height.toString(),
    round: c.round,
    block_id: blockIdJson(c.blockId),
    signatures: c.signatures.map((s) => ({
      block_id_flag: s.blockIdFlag,
      validator_address: hex(s.validatorAddress),
      timestamp: rfc3339Nano(s.timestamp),
      signature: s.signature.length > 0 ? b64(s.signature) : null,
    })),
  };
}

export function blockJson(b: Block): JsonObject {
  return {
    header: headerJson(b.header),
    data: { txs: b.data.txs.map(b64) },
    evidence: { evidence: [] },
    last_commit: b.lastCommit ? commitJson(b.lastCommit) : null,
  };
}
