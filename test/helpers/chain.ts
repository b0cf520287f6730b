/**
 * A test chain: the real ProofbookApp on real LevelDB in a temp dir, driven through CometBFT's call sequence
 * (InitChain, CheckTx, PrepareProposal, ProcessProposal, FinalizeBlock, Commit, RECHECK), with every module's
 * invariants checked after every block.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Slip10, Slip10Curve, Bip39, EnglishMnemonic } from '@cosmjs/crypto';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { CheckTxType, ResponseProcessProposal_ProposalStatus, type Event, type ExecTxResult, type CommitInfo, type Misbehavior, type ValidatorUpdate } from 'cosmjs-types/tendermint/abci/types';
import { ProofbookApp, type AppOptions } from '../../app/app.js';
import { defaultGenesis, DEVNET_MNEMONIC, type AppState } from '../../genesis/index.js';
import { rawKeyFromPrivkey, signTx, type RawKey, type UnsignedTx } from '../../src/client/sign.js';
import { QueryAccountRequest, QueryAccountResponse } from 'cosmjs-types/cosmos/auth/v1beta1/query';
import { BaseAccount } from 'cosmjs-types/cosmos/auth/v1beta1/auth';

export const TEST_CHAIN_ID = 'proofbook-test-1';
const seedCache = new Map<string, Uint8Array>();

/** The i-th devnet key (HD path m/44'/118'/0'/0/i). */
export async function devnetKey(i: number, mnemonic = DEVNET_MNEMONIC): Promise<RawKey> {
  let seed = seedCache.get(mnemonic);
  if (!seed) {
    seed = await Bip39.mnemonicToSeed(new EnglishMnemonic(mnemonic));
    seedCache.set(mnemonic, seed);
  }
  const { privkey } = Slip10.derivePath(Slip10Curve.Secp256k1, seed, makeCosmoshubPath(i));
  return rawKeyFromPrivkey(privkey);
}

export interface BlockResult {
  height: bigint;
  txResults: ExecTxResult[];
  appHash: Uint8Array;
  validatorUpdates: ValidatorUpdate[];
  /** The block's own events (BeginBlock/EndBlock work: the auction's assignments, misses), not its txs'. */
  events: Event[];
}

/** What CometBFT would tell FinalizeBlock about consensus at a height (default: 20 zero bytes as proposer, no votes). */
export interface BlockConsensus {
  proposerAddress?: Uint8Array;
  decidedLastCommit?: CommitInfo;
  misbehavior?: Misbehavior[];
}

export class TestChain {
  private time = 1_700_000_000n;
  readonly dir: string;
  /** Seconds between blocks (block time is the header time: the chain never reads a clock). */
  blockSeconds = 1n;
  /** Consensus facts for FinalizeBlock at each height (proposer, last commit, evidence); tests of staking set it. */
  consensus?: (height: bigint) => BlockConsensus;
  private constructor(public app: ProofbookApp, dir: string, private readonly opts: Partial<AppOptions> & { appState?: AppState }) {
    this.dir = dir;
  }

  /** InitChain as CometBFT sends it when Info reports height 0 (first start, or a restart before the first Commit). */
  /** The validators InitChain returned (the gentxs' set; empty when the genesis has none). */
  genesisValidators: ValidatorUpdate[] = [];

  private async initChain(): Promise<void> {
    const res = await this.app.initChain({
      time: { seconds: 1_700_000_000n, nanos: 0 }, chainId: TEST_CHAIN_ID, consensusParams: undefined, validators: [],
      appStateBytes: new TextEncoder().encode(JSON.stringify(this.opts.appState ?? defaultGenesis())), initialHeight: 1n,
    });
    this.genesisValidators = res.validators;
  }

  static async create(opts: { appState?: AppState; dir?: string } & Partial<AppOptions> = {}): Promise<TestChain> {
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'proofbook-test-'));
    const app = await ProofbookApp.open({ home: dir, logger: pino({ level: 'silent' }), checkInvariants: true, ...opts });
    const chain = new TestChain(app, dir, opts);
    if (app.height === 0n) await chain.initChain();
    return chain;
  }

  /** Closes and reopens the app on the same home (what a restart does). */
  async restart(): Promise<void> {
    await this.app.close();
    this.app = await ProofbookApp.open({ home: this.dir, logger: pino({ level: 'silent' }), checkInvariants: true, ...this.opts });
    if (this.app.height === 0n) await this.initChain();
  }

  async checkTx(tx: Uint8Array, recheck = false) {
    return this.app.checkTx({ tx, type: recheck ? CheckTxType.RECHECK : CheckTxType.NEW });
  }

  /** Produces one block with `txs` exactly as CometBFT would (no mempool filtering: what you pass is proposed). */
  async block(txs: Uint8Array[] = []): Promise<BlockResult> {
    const height = this.app.height + 1n;
    this.time += this.blockSeconds;
    const time = { seconds: this.time, nanos: 0 };
    const cons = this.consensusAt(height);
    const prepared = await this.app.prepareProposal({ maxTxBytes: 22_020_096n, txs, localLastCommit: undefined as any, misbehavior: [], height, time, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20) });
    const pp = await this.app.processProposal({ txs: prepared.txs, proposedLastCommit: undefined as any, misbehavior: [], hash: new Uint8Array(32), height, time, nextValidatorsHash: new Uint8Array(), proposerAddress: new Uint8Array(20) });
    if (pp.status !== ResponseProcessProposal_ProposalStatus.ACCEPT) throw new Error('proposal rejected');
    const res = await this.app.finalizeBlock({ txs: prepared.txs, hash: new Uint8Array(32), height, time, nextValidatorsHash: new Uint8Array(), ...cons });
    await this.app.commit();
    const broken = this.app.checkInvariants();
    if (broken.length || this.app.invariantFailures.length) throw new Error(`invariants broken at height ${height}: ${[...broken, ...this.app.invariantFailures.flatMap((f) => f.failures)].join('; ')}`);
    return { height, txResults: res.txResults, appHash: res.appHash, validatorUpdates: res.validatorUpdates, events: res.events };
  }

  /** Produces a block with exactly these txs, skipping PrepareProposal's filtering (as a byzantine proposer could). */
  async rawBlock(txs: Uint8Array[]): Promise<BlockResult> {
    const height = this.app.height + 1n;
    this.time += this.blockSeconds;
    const time = { seconds: this.time, nanos: 0 };
    const res = await this.app.finalizeBlock({ txs, hash: new Uint8Array(32), height, time, nextValidatorsHash: new Uint8Array(), ...this.consensusAt(height) });
    await this.app.commit();
    return { height, txResults: res.txResults, appHash: res.appHash, validatorUpdates: res.validatorUpdates, events: res.events };
  }

  private consensusAt(height: bigint): Required<BlockConsensus> {
    const c = this.consensus?.(height) ?? {};
    return {
      proposerAddress: c.proposerAddress ?? new Uint8Array(20),
      decidedLastCommit: c.decidedLastCommit ?? (undefined as any),
      misbehavior: c.misbehavior ?? [],
    };
  }

  async query<T>(path: string, reqBytes: Uint8Array) {
    return this.app.query({ path, data: reqBytes, height: 0n, prove: false });
  }

  async account(address: string): Promise<BaseAccount | undefined> {
    const r = await this.query('/cosmos.auth.v1beta1.Query/Account', QueryAccountRequest.encode({ address }).finish());
    if (r.code !== 0) return undefined;
    return BaseAccount.decode(QueryAccountResponse.decode(r.value).account!.value);
  }

  /** Signs `tx` for `key` with its current on-chain account number and sequence (or the given sequence). */
  async sign(key: RawKey, tx: UnsignedTx, sequence?: bigint): Promise<Uint8Array> {
    const acc = await this.account(key.address);
    if (!acc) throw new Error(`no account for ${key.address}`);
    return signTx(key, tx, { chainId: TEST_CHAIN_ID, accountNumber: acc.accountNumber, sequence: sequence ?? acc.sequence });
  }

  async close(remove = true): Promise<void> {
    await this.app.close();
    if (remove) rmSync(this.dir, { recursive: true, force: true });
  }
}
