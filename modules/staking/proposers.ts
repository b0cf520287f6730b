/**
 * Who proposed the recent blocks: recorded in the staking module's beginBlock from FinalizeBlock's proposer address and
 * the size of the last commit's validator set, kept for PROPOSER_HISTORY_BLOCKS heights. The market's censorship rule
 * (modules/market/censorship.ts) reads it to tell a missed deadline from a deadline that fell in a run of blocks
 * from one proposer.
 *
 *   'H' + u64(height) -> proposer consensus address (20 bytes) || u32 big-endian validator count
 */
import type { Context } from '../../src/framework/context.js';
import { u64Key, type KV } from '../../src/store/kv.js';

export const PROPOSER_PREFIX = 'H';
/** Heights kept: more than any censorship look-back plus grace (market/censorship.ts) needs. */
export const PROPOSER_HISTORY_BLOCKS = 256n;

export interface ProposerRecord {
  /** The proposer's consensus address, hex (lower case). */
  readonly proposer: string;
  /** Validators in the set that signed the previous block (decided_last_commit votes). */
  readonly validators: number;
}

/** What the market reads: the proposer of a recent height, or undefined when none was recorded. */
export interface ProposerHistory {
  proposerAt(ctx: Context, height: bigint): ProposerRecord | undefined;
}

/**
 * Records block `ctx.height`'s proposer. Only when the last commit had several validators: with one there is nobody
 * else to propose, the censorship rule has nothing to weigh, and a single-validator chain's empty blocks keep
 * leaving its state (and app hash) unchanged.
 */
export function recordProposer(ctx: Context, kv: KV): void {
  if (ctx.height > PROPOSER_HISTORY_BLOCKS) {
    const old = PROPOSER_PREFIX + u64Key(ctx.height - PROPOSER_HISTORY_BLOCKS);
    if (kv.has(old)) kv.delete(old);
  }
  const c = ctx.block.consensus;
  if (c === undefined || c.proposer.length === 0 || c.votes.length <= 1) return;
  const v = new Uint8Array(c.proposer.length + 4);
  v.set(c.proposer, 0);
  new DataView(v.buffer).setUint32(c.proposer.length, c.votes.length);
  kv.set(PROPOSER_PREFIX + u64Key(ctx.height), v);
}

export function proposerAt(kv: KV, height: bigint): ProposerRecord | undefined {
  if (height < 0n) return undefined;
  const v = kv.get(PROPOSER_PREFIX + u64Key(height));
  if (v === undefined || v.length < 4) return undefined;
  const n = v.length - 4;
  return {
    proposer: Buffer.from(v.subarray(0, n)).toString('hex'),
    validators: new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(n),
  };
}
