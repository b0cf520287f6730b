/**
 * Runs one transaction against a store: decode -> ante (fee, signatures, sequences) -> messages, all-or-nothing.
 *
 * Layering of caches:  target  <-  anteCache  <-  msgCache
 *   - ante fails: nothing is written; code != 0.
 *   - a message fails: in FinalizeBlock the ante writes (fee, sequence) are kept and the message writes dropped —
 *     the tx is in the block and must pay; in CheckTx/recheck/simulate nothing is kept, so a tx that would fail is
 *     refused before it reaches the mempool.
 * Every failure becomes a result code with a log; nothing thrown escapes `runTx`.
 */
import type { Event } from 'cosmjs-types/tendermint/abci/types';
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
import type { Any } from 'cosmjs-types/google/protobuf/any';
import { CacheKV } from '../../src/store/cache.js';
import type { KV } from '../../src/store/kv.js';
import { Context, type BlockInfo, type ExecMode } from '../../src/framework/context.js';
import { GasKV, GasMeter } from '../../src/framework/gas.js';
import { toAppError, AppError } from '../../src/framework/errors.js';
import type { MsgRoute } from '../../src/framework/module.js';
import { decodeTx, type DecodedTx } from './decode.js';
import { MSG_EXTRA_GAS } from './msg-gas.js';
import { runAnte, type AnteDeps } from './ante.js';
import { checkTxProofWork, txProofWork, type ProofLimitsReader } from './proof-work.js';

export interface TxOutcome {
  code: number;
  codespace: string;
  log: string;
  data: Uint8Array;
  gasWanted: bigint;
  gasUsed: bigint;
  events: Event[];
  /** Decoded tx when decoding succeeded (used by PrepareProposal and the devnet). */
  tx?: DecodedTx;
}

export interface PipelineDeps extends AnteDeps {
  routes: ReadonlyMap<string, MsgRoute>;
  /** Module name per typeUrl for `message.module` events. */
  moduleOf: ReadonlyMap<string, string>;
  /** The caps on proof-verification work (proof-work.ts); absent, no per-tx cap is checked. */
  proofLimits?: ProofLimitsReader;
  /** Gas limit of a simulation (the block gas limit); absent, SIMULATE_GAS_LIMIT. */
  simulateGasLimit?: () => bigint;
}

const EMPTY = new Uint8Array();

function failure(err: unknown, gasWanted: bigint, gasUsed: bigint, events: Event[] = [], tx?: DecodedTx): TxOutcome {
  const e: AppError = toAppError(err);
  return { code: e.code, codespace: e.codespace, log: e.message, data: EMPTY, gasWanted, gasUsed, events, tx };
}

/** Simulation runs with this gas limit (the tx's own limit is usually 0 when a wallet simulates). */
const SIMULATE_GAS_LIMIT = 100_000_000n;

export function runTx(target: KV, block: BlockInfo, mode: ExecMode, bytes: Uint8Array, deps: PipelineDeps): TxOutcome {
  let tx: DecodedTx;
  try {
    tx = decodeTx(bytes, deps.routes);
  } catch (e) {
    return failure(e, 0n, 0n);
  }
  const gasWanted = tx.authInfo.fee?.gasLimit ?? 0n;
  const meter = new GasMeter(mode === 'simulate' ? (deps.simulateGasLimit?.() ?? SIMULATE_GAS_LIMIT) : gasWanted);

  const anteCache = new CacheKV(target);
  const anteCtx = new Context(new GasKV(anteCache, meter), block, mode, meter);
  try {
    // Before anything is charged: a tx over the per-tx proof cap is refused outright (it cannot be in a valid block).
    if (deps.proofLimits && txProofWork(tx).proofs > 0n) checkTxProofWork(tx, deps.proofLimits(new Context(target, block, mode)));
    runAnte(anteCtx, tx, deps);
  } catch (e) {
    return failure(e, gasWanted, meter.reported(), [], tx);
  }

  // Only FinalizeBlock keeps the ante writes of a tx whose messages fail, so only it needs a separate message layer;
  // elsewhere a failure discards everything, and the messages write straight into the ante cache.
  const msgCache = mode === 'deliver' ? new CacheKV(anteCache) : undefined;
  const msgCtx = msgCache ? anteCtx.with(new GasKV(msgCache, meter)) : anteCtx.with(anteCtx.kv);
  const responses: Any[] = [];
  try {
    for (let i = 0; i < tx.msgs.length; i++) {
      const m = tx.msgs[i];
      const signers = m.route.signers(m.value);
      msgCtx.emit('message', [['action', m.typeUrl], ['sender', signers[0] ?? ''], ['module', deps.moduleOf.get(m.typeUrl) ?? ''], ['msg_index', String(i)]]);
      const extra = MSG_EXTRA_GAS.get(m.typeUrl);
      if (extra !== undefined) meter.consume(extra, `${m.typeUrl} (block work, msg-gas.ts)`);
      const res = m.route.handle(msgCtx, m.value);
      responses.push({ typeUrl: m.route.responseTypeUrl, value: m.route.responseType.encode(res).finish() });
    }
  } catch (e) {
    const err = toAppError(e);
    const indexed = new AppError(err.codespace, err.code, `failed to execute message; ${err.message}`, err.grpcCode);
    if (mode === 'deliver') anteCache.writeTo(target);
    return failure(indexed, gasWanted, meter.reported(), mode === 'deliver' ? anteCtx.events : [], tx);
  }
  msgCache?.writeTo(anteCache);
  anteCache.writeTo(target);
  const data = TxMsgData.encode({ data: [], msgResponses: responses }).finish();
  return {
    code: 0,
    codespace: '',
    log: '',
    data,
    gasWanted,
    gasUsed: meter.reported(),
    events: [...anteCtx.events, ...msgCtx.events],
    tx,
  };
}
