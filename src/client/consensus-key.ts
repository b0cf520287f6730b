/**
 * A validator's ed25519 consensus public key from what operators have at hand: CometBFT's
 * `config/priv_validator_key.json` (only its `pub_key` is read), the JSON `cometbft show-validator` prints
 * ({"type":"tendermint/PubKeyEd25519","value":"<base64>"}), the Cosmos SDK's form
 * ({"@type":"/cosmos.crypto.ed25519.PubKey","key":"<base64>"}), or a bare base64 key. Used by
 * `proofbook tx staking create-validator` and `proofbook genesis gentx`.
 */
import { readFileSync, existsSync } from 'node:fs';

export class ConsensusKeyError extends Error {}

function fromBase64(s: unknown, where: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(s)) throw new ConsensusKeyError(`${where}: expected a base64 32-byte ed25519 key`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/** Parses a JSON value in any of the accepted shapes. */
export function consensusKeyFromJson(j: unknown, where = 'consensus pubkey'): Uint8Array {
  if (typeof j === 'string') return fromBase64(j, where);
  if (j === null || typeof j !== 'object') throw new ConsensusKeyError(`${where}: not a public key`);
  const o = j as Record<string, unknown>;
  if ('pub_key' in o) return consensusKeyFromJson(o.pub_key, where); // priv_validator_key.json
  if (o.type !== undefined) {
    if (o.type !== 'tendermint/PubKeyEd25519') throw new ConsensusKeyError(`${where}: key type '${String(o.type)}' is not supported; validators use ed25519`);
    return fromBase64(o.value, where);
  }
  if (o['@type'] !== undefined) {
    if (o['@type'] !== '/cosmos.crypto.ed25519.PubKey') throw new ConsensusKeyError(`${where}: key type '${String(o['@type'])}' is not supported; validators use ed25519`);
    return fromBase64(o.key, where);
  }
  throw new ConsensusKeyError(`${where}: not a CometBFT or Cosmos SDK ed25519 public key`);
}

/** `arg` is a file path (priv_validator_key.json or a saved show-validator output), inline JSON, or base64. */
export function readConsensusKey(arg: string): Uint8Array {
  const t = arg.trim();
  if (t.startsWith('{') || t.startsWith('"')) {
    let j: unknown;
    try {
      j = JSON.parse(t);
    } catch (e) {
      throw new ConsensusKeyError(`consensus pubkey: bad JSON: ${(e as Error).message}`);
    }
    return consensusKeyFromJson(j);
  }
  if (existsSync(t)) {
    let j: unknown;
    try {
      j = JSON.parse(readFileSync(t, 'utf8'));
    } catch (e) {
      throw new ConsensusKeyError(`${t}: not JSON: ${(e as Error).message}`);
    }
    return consensusKeyFromJson(j, t);
  }
  return fromBase64(t, 'consensus pubkey');
}
