/**
 * The ABCI 2.0 application contract (CometBFT v0.38), in cosmjs-types' generated wire types.
 *
 * Both drivers of the app speak to it through this interface: the socket server that real CometBFT
 * connects to (app/abci/server.ts) and the embedded devnet block producer (app/devnet/). Each method
 * must resolve with a response — application errors are expressed as result codes, never as
 * rejections. The drivers still guard against rejections (a bug) by answering with a safe default
 * and logging, because a `ResponseException` makes CometBFT halt.
 *
 * Callers must not run two methods concurrently: drivers serialize all calls through one queue.
 */
import type {
  RequestInfo, ResponseInfo,
  RequestInitChain, ResponseInitChain,
  RequestQuery, ResponseQuery,
  RequestCheckTx, ResponseCheckTx,
  RequestPrepareProposal, ResponsePrepareProposal,
  RequestProcessProposal, ResponseProcessProposal,
  RequestFinalizeBlock, ResponseFinalizeBlock,
  RequestExtendVote, ResponseExtendVote,
  RequestVerifyVoteExtension, ResponseVerifyVoteExtension,
  ResponseCommit,
  RequestListSnapshots, ResponseListSnapshots,
  RequestOfferSnapshot, ResponseOfferSnapshot,
  RequestLoadSnapshotChunk, ResponseLoadSnapshotChunk,
  RequestApplySnapshotChunk, ResponseApplySnapshotChunk,
} from 'cosmjs-types/tendermint/abci/types';

export interface AbciApplication {
  info(req: RequestInfo): Promise<ResponseInfo>;
  initChain(req: RequestInitChain): Promise<ResponseInitChain>;
  query(req: RequestQuery): Promise<ResponseQuery>;
  checkTx(req: RequestCheckTx): Promise<ResponseCheckTx>;
  prepareProposal(req: RequestPrepareProposal): Promise<ResponsePrepareProposal>;
  processProposal(req: RequestProcessProposal): Promise<ResponseProcessProposal>;
  finalizeBlock(req: RequestFinalizeBlock): Promise<ResponseFinalizeBlock>;
  extendVote(req: RequestExtendVote): Promise<ResponseExtendVote>;
  verifyVoteExtension(req: RequestVerifyVoteExtension): Promise<ResponseVerifyVoteExtension>;
  commit(): Promise<ResponseCommit>;
  listSnapshots(req: RequestListSnapshots): Promise<ResponseListSnapshots>;
  offerSnapshot(req: RequestOfferSnapshot): Promise<ResponseOfferSnapshot>;
  loadSnapshotChunk(req: RequestLoadSnapshotChunk): Promise<ResponseLoadSnapshotChunk>;
  applySnapshotChunk(req: RequestApplySnapshotChunk): Promise<ResponseApplySnapshotChunk>;
  /** Releases resources (LevelDB handle). */
  close(): Promise<void>;
  /**
   * Optional, called by drivers the moment a CheckTx request arrives, before it waits its turn in the queue, so the
   * app can start work that does not touch state (signature verification on worker threads). Must not throw, must
   * not change state, and must not change any answer — only how soon it comes.
   */
  prefetchCheckTx?(req: RequestCheckTx): void;
  /**
   * Optional, called by drivers the moment a Query arrives, before it would wait its turn in the queue. For a query
   * the app answers without reading its state (GetTx: a lookup in CometBFT's tx index over RPC) it returns the answer's
   * promise, and that promise is the answer: the request never enters the queue, so a slow or unreachable RPC cannot
   * hold up FinalizeBlock or Commit behind it. For every other query it returns undefined (the driver queues it as
   * usual). Must not touch state; like query(), the promise resolves (errors are result codes).
   */
  unqueuedQuery?(req: RequestQuery): Promise<ResponseQuery> | undefined;
}

/**
 * One FIFO queue shared by every caller of the app: ABCI connections (consensus, mempool, query,
 * snapshot), the devnet producer and RPC handlers. Any `await` inside a handler would otherwise let
 * another connection interleave with half-applied state.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }
}
