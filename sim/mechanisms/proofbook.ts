/**
 * proofbook's mechanism, run on the REAL state machine code: the auth, bank, verifier, bond and market modules are
 * built exactly as app/modules.ts wires them (createXModule), over an in-memory store (a root CacheKV), with a block
 * loop that mirrors ProofbookApp.finalizeBlock: beginBlock hooks, the market's beforeTxs, every message in its own
 * cache through the MsgRoute's validateBasic + handle (writes kept only on success), endBlock hooks each in its own
 * cache, then every module invariant. Simulated block clock: height h, time = h * blockSeconds.
 *
 * The ONE stand-in: the VerifierKeeper handed to the market is MarkerVerifier. Circuits are registered through the
 * real verifier genesis (real Groth16 verifying keys) and `circuit()` reads the real registry, but `verifyProof`
 * does not run a pairing: it accepts exactly the marker proof `markerProof(requestId, prover)` (magic bytes || u64
 * request id || prover address bytes) when that request is ASSIGNED, on that circuit, to that prover, and it still
 * rejects a wrong public-signal count the way the real verifier does. Proving work is not executed either: its cost
 * and duration come from the prover's hardware model (agents.ts). Tx fees, gas and signatures are not simulated
 * (each message is protobuf encoded and decoded, then handed to its route's validateBasic + handle, as the tx
 * pipeline would after its ante checks).
 */
import { Context, type BlockInfo } from '../../src/framework/context.js';
import type { Module, MsgRoute } from '../../src/framework/module.js';
import { AppError } from '../../src/framework/errors.js';
import { createModules } from '../../app/modules.js';
import type { BondKeeperImpl } from '../../modules/bond/keeper.js';
import { fallbackCommitment } from '../../src/zk/fallback-commitment.js';
import { commitsOf } from '../../modules/market/fallback.js';
import { fallbackOpen, outraceBounty, fallbackOpensAt } from '../../modules/market/penalties.js';
import { raceFrom } from '../../src/worker/race.js';
import { suggestPatience } from '../../src/client/patience.js';
import { marketQueryRoutes, QUERY_STATS_HISTORY } from '../../modules/market/queries.js';
import type { QueryStatsHistoryResponse } from '../../src/gen/proofbook/market/v1/market.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  BPS,
  DEFAULT_MECHANISM,
  DEFAULT_PARAMS,
  MSG_COMMIT_FALLBACK_PROOF,
  MSG_DECLINE_ASSIGNMENT,
  MSG_POST_ASK,
  MSG_RELEASE_ASSIGNMENT,
  MSG_SUBMIT_PROOF,
  MSG_SUBMIT_REQUEST,
  defaultMarketGenesis,
  paramsToJson,
  type MarketKeeperImpl,
  type MarketMechanism,
} from '../../modules/market/index.js';
import {
  circuitToJson,
  circuitIdOf,
  defaultVerifierGenesis,
  genesisCircuit,
  initVerifierBackend,
  ErrUnknownCircuit,
  ErrWrongSignalCount,
  type VerifierKeeper,
  type VerifierKeeperImpl,
} from '../../modules/verifier/index.js';
import { addressBytes, addressFromBytes, type Address } from '../../src/crypto/address.js';
import { CacheKV } from '../../src/store/cache.js';
import type { KV, KVReader } from '../../src/store/kv.js';
import { decodeVerifyingKey, encodeVerifyingKey } from '../../src/zk/groth16.js';
import { ProofSystem, type Circuit } from '../../src/gen/proofbook/verifier/v1/verifier.js';
import { RequestStatus, type Params } from '../../src/gen/proofbook/market/v1/market.js';
import { bn254 } from '@noble/curves/bn254.js';
import { crashes, deliveryBlocks, provingBlocks, proofCost, refuses, askPrice, serves, type World } from '../agents.js';
import { newOutcome, spend, type RunOutcome } from '../metrics.js';
import type { Event } from 'cosmjs-types/tendermint/abci/types';

// ---- the verification stand-in -----------------------------------------------------------------------------------

const MAGIC = new TextEncoder().encode('proofbook-sim-marker-proof/v1');

/** The marker proof a simulated prover submits for `requestId`. */
export function markerProof(requestId: bigint, prover: Address): Uint8Array {
  const a = addressBytes(prover);
  const out = new Uint8Array(MAGIC.length + 8 + a.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setBigUint64(MAGIC.length, requestId);
  out.set(a, MAGIC.length + 8);
  return out;
}

function parseMarker(proof: Uint8Array): { requestId: bigint; prover: Address } | undefined {
  if (proof.length <= MAGIC.length + 8) return undefined;
  for (let i = 0; i < MAGIC.length; i++) if (proof[i] !== MAGIC[i]) return undefined;
  try {
    const requestId = new DataView(proof.buffer, proof.byteOffset, proof.byteLength).getBigUint64(MAGIC.length);
    return { requestId, prover: addressFromBytes(proof.subarray(MAGIC.length + 8)) };
  } catch {
    return undefined;
  }
}

/** VerifierKeeper for the market: the real registry, a marker check instead of the pairing (see the file comment). */
export class MarkerVerifier implements VerifierKeeper {
  market: MarketKeeperImpl | undefined;
  accepted = 0;
  rejected = 0;
  constructor(readonly real: VerifierKeeperImpl) {}

  circuit(ctx: Context, id: string): Circuit | undefined {
    return this.real.circuit(ctx, id);
  }

  verifyProof(ctx: Context, circuitId: string, proof: Uint8Array, publicSignals: readonly bigint[]): boolean {
    const c = this.real.circuit(ctx, circuitId);
    if (c === undefined) throw ErrUnknownCircuit(`circuit ${circuitId} is not registered`);
    if (publicSignals.length !== c.numPublicInputs) throw ErrWrongSignalCount(`circuit ${circuitId} has ${c.numPublicInputs} public signals, got ${publicSignals.length}`);
    const m = parseMarker(proof);
    const r = m === undefined || this.market === undefined ? undefined : this.market.request(ctx, m.requestId);
    const assignedOk = r?.status === RequestStatus.REQUEST_STATUS_ASSIGNED && r.assignment?.prover === m?.prover;
    // the permissionless fallback (FALLBACK, or OPEN/ASSIGNED past the requester's patience): any (non-excluded,
    // checked by the keeper) prover's marker for that request
    const fallbackOk = r !== undefined && fallbackOpen(r, ctx.height);
    const ok = m !== undefined && r !== undefined && r.circuitId === circuitId && (assignedOk || fallbackOk);
    if (ok) this.accepted++;
    else this.rejected++;
    return ok;
  }

  preverify(): void {
    // nothing to batch: the marker check is a state lookup
  }
}

/**
 * Circuit k of the scenario: circuit 0 is the genesis circuit; circuit k > 0 is the genesis verifying key with alpha
 * replaced by (k+1)·alpha (a valid BN254 key with its own id, registered through the real verifier genesis).
 */
export function simCircuits(names: readonly { name: string; constraints: number }[]): Circuit[] {
  const base = genesisCircuit();
  const vk = decodeVerifyingKey(base.verifyingKey);
  return names.map((c, k) => {
    let bytes: Uint8Array = base.verifyingKey;
    if (k > 0) {
      const alpha = bn254.G1.Point.fromAffine({ x: vk.alpha.x, y: vk.alpha.y }).multiply(BigInt(k + 1)).toAffine();
      bytes = encodeVerifyingKey({ ...vk, alpha: { x: alpha.x, y: alpha.y } });
    }
    return { ...base, id: circuitIdOf({ ...base, verifyingKey: bytes }), name: `sim-${c.name}`.slice(0, 64), verifyingKey: Buffer.from(bytes), constraints: BigInt(c.constraints) };
  });
}

// ---- the chain harness -----------------------------------------------------------------------------------------

const EMPTY_STORE: KVReader = {
  get: () => undefined,
  has: () => false,
  *iterate() {},
};

interface Msg {
  typeUrl: string;
  value: any;
}

export interface BlockResult {
  events: Event[];
  /** Per message: the handler's response, or the AppError / Error it threw. */
  results: ({ ok: true; response: any } | { ok: false; error: string; code: number })[];
  broken: string[];
}

/** The modules exactly as app/modules.ts wires them (createModules), with MarkerVerifier in the market, over an in-memory store. */
export class SimChain {
  readonly base = new CacheKV(EMPTY_STORE);
  readonly modules: readonly Module[];
  readonly routes: ReadonlyMap<string, MsgRoute>;
  readonly market: MarketKeeperImpl;
  readonly bond: BondKeeperImpl;
  readonly verifier: MarkerVerifier;
  height = 0n;

  constructor(readonly chainId: string, readonly blockSeconds: bigint, mechanism: MarketMechanism = DEFAULT_MECHANISM) {
    let marker: MarkerVerifier | undefined;
    const set = createModules({ marketVerifier: (real) => (marker = new MarkerVerifier(real)), marketMechanism: mechanism });
    this.verifier = marker!;
    this.market = set.keepers.market;
    this.verifier.market = this.market;
    this.bond = set.keepers.bond as BondKeeperImpl;
    this.modules = set.modules;
    this.routes = set.routes;
  }

  block(h: bigint): BlockInfo {
    return { chainId: this.chainId, height: h, timeSeconds: 1_700_000_000n + h * this.blockSeconds };
  }

  invariants(ctx: Context): string[] {
    const broken: string[] = [];
    for (const m of this.modules) {
      for (const inv of m.invariants ?? []) {
        let msg: string | undefined;
        try {
          msg = inv.check(ctx);
        } catch (e) {
          msg = `invariant threw: ${(e as Error).message}`;
        }
        if (msg) broken.push(`${m.name}/${inv.name}: ${msg}`);
      }
    }
    return broken;
  }

  initGenesis(appState: Record<string, unknown>): string[] {
    const cache = new CacheKV(this.base);
    const ctx = new Context(cache, this.block(0n), 'genesis');
    for (const m of this.modules) m.initGenesis?.(ctx, appState[m.name] ?? m.defaultGenesis?.());
    const broken = this.invariants(ctx);
    cache.writeTo(this.base);
    return broken;
  }

  private hook(blockCache: KV, info: BlockInfo, fn: (ctx: Context) => void, events: Event[]): void {
    const cache = new CacheKV(blockCache);
    const ctx = new Context(cache, info, 'block');
    try {
      fn(ctx);
      cache.writeTo(blockCache);
      events.push(...ctx.events);
    } catch {
      // as ProofbookApp.runHook: a failing hook's writes are discarded
    }
  }

  /**
   * Executes one block of messages (each message is its own tx) and checks every invariant. Each message goes through
   * its protobuf type first (fromPartial, encode, decode), so handlers see exactly what the tx decoder would give them.
   */
  runBlock(input: readonly Msg[]): BlockResult {
    const h = this.height + 1n;
    const info = this.block(h);
    const blockCache = new CacheKV(this.base);
    const events: Event[] = [];
    const msgs: (Msg | Error)[] = input.map((m) => {
      const route = this.routes.get(m.typeUrl);
      if (!route) return new Error(`no route for ${m.typeUrl}`);
      try {
        return { typeUrl: m.typeUrl, value: route.type.decode(route.type.encode(route.type.fromPartial(m.value)).finish()) };
      } catch (e) {
        return e as Error;
      }
    });
    for (const m of this.modules) if (m.beginBlock) this.hook(blockCache, info, m.beginBlock, events);
    const decodable = msgs.filter((m): m is Msg => !(m instanceof Error));
    for (const m of this.modules) {
      if (!m.beforeTxs) continue;
      try {
        m.beforeTxs(new Context(new CacheKV(blockCache), info, 'block'), decodable);
      } catch {
        // ignored, as in the app
      }
    }
    const results: BlockResult['results'] = [];
    for (const msg of msgs) {
      const cache = new CacheKV(blockCache);
      const ctx = new Context(cache, info, 'deliver');
      try {
        if (msg instanceof Error) throw msg;
        const route = this.routes.get(msg.typeUrl)!;
        route.validateBasic?.(msg.value);
        const response = route.handle(ctx, msg.value);
        cache.writeTo(blockCache);
        events.push(...ctx.events);
        results.push({ ok: true, response });
      } catch (e) {
        results.push({ ok: false, error: (e as Error).message, code: e instanceof AppError ? e.code : -1 });
      }
    }
    for (const m of this.modules) if (m.endBlock) this.hook(blockCache, info, m.endBlock, events);
    const broken = this.invariants(new Context(blockCache, info, 'query'));
    blockCache.writeTo(this.base);
    this.height = h;
    return { events, results, broken };
  }

  /** A read-only context on the committed state. */
  query(): Context {
    return new Context(new CacheKV(this.base), this.block(this.height), 'query');
  }
}

function attr(e: Event, key: string): string {
  const a = e.attributes.find((x) => x.key === key);
  if (!a) throw new Error(`event ${e.type} has no attribute ${key}`);
  return a.value;
}

// ---- the mechanism run -------------------------------------------------------------------------------------------

let backendReady: Promise<void> | undefined;

export interface ProofbookExtras {
  txFailures: Map<string, number>;
  accepted: number;
  rejected: number;
}

/**
 * Runs the chain on world `w` with the auction rules `mechanism`; `marketParams` overrides market params in genesis
 * (e.g. the `fullfee` row: fallback_ramp_blocks = 0, the fallback fee rule before the ramp); `patience` is every
 * request's fallback_after_blocks (0: none; the `patience` rows; 'auto': what `--patience auto` sets, suggestPatience from the
 * circuit's StatsHistory when the request is submitted); `racers` when racers start on an assignment past it:
 * as soon as the race opens, or once it is overdue by its prover's own record (src/worker/race.ts). An assignment is
 * also raced from its overdue height (params.overdue_race_bps), whatever the patience. `declineLate`: honest assignees
 * decline (in the accept phase) what they would prove only after racers start on it, as the worker does (declineOverdue).
 */
export async function runProofbook(
  w: World,
  extras?: ProofbookExtras,
  onProgress?: (msg: string) => void,
  mechanism: MarketMechanism = DEFAULT_MECHANISM,
  name = 'proofbook',
  marketParams?: Partial<Params>,
  patience: number | 'auto' = 0,
  racers: 'open' | 'overdue' = 'open',
  declineLate = false,
): Promise<RunOutcome> {
  backendReady ??= initVerifierBackend();
  await backendReady;
  const s = w.scenario;
  const o = newOutcome(w, name);
  const chain = new SimChain('proofbook-sim', BigInt(s.blockSeconds), mechanism);
  // the 'auto' patience: what `proofbook request prove --patience auto` sets, from the same query the CLI makes
  const statsHistory = marketQueryRoutes(chain.market).find((r) => r.path === QUERY_STATS_HISTORY)!;
  const autoPatience = (circuitId: string, window: number): bigint =>
    suggestPatience((statsHistory.handle(chain.query(), { circuitId }) as QueryStatsHistoryResponse).blocks, BigInt(window));
  // 'squat' holds like 'hold' and also squats the fallback of censored requests (below); 'pad' holds and delivers late
  const hold = s.coalition.strategy === 'hold' || s.coalition.strategy === 'squat' || s.coalition.strategy === 'pad';
  const pad = s.coalition.strategy === 'pad';
  const squat = s.coalition.strategy === 'squat';
  o.forfeitedDeposits = 0n;
  const circuits = simCircuits(s.circuits);
  const numSignals = circuits[0].numPublicInputs;
  const signals = Array.from({ length: numSignals }, () => '1');

  // genesis: the real verifier registry with the scenario's circuits; funded provers and requesters
  const needs = new Map<string, bigint>();
  for (const j of w.jobs) {
    const a = w.requesters[j.requester].address;
    needs.set(a, (needs.get(a) ?? 0n) + j.value);
  }
  const balances = [
    ...w.provers.map((p) => ({ address: p.address, coins: [{ denom: 'uproof', amount: (p.collateral * 10n).toString() }] })),
    ...w.requesters.map((r) => ({ address: r.address, coins: [{ denom: 'uproof', amount: ((needs.get(r.address) ?? 0n) + 1_000_000n).toString() }] })),
  ];
  const vg = defaultVerifierGenesis();
  const market = marketParams ? { ...(defaultMarketGenesis() as object), params: paramsToJson({ ...DEFAULT_PARAMS, ...marketParams }) } : undefined;
  const broken0 = chain.initGenesis({ bank: { balances }, verifier: { params: vg.params, circuits: circuits.map(circuitToJson) }, ...(market ? { market } : {}) });
  if (broken0.length) throw new Error(`simulation genesis breaks invariants: ${broken0.join('; ')}`);

  const bs = s.blockSeconds;
  const jobOfRequest = new Map<bigint, number>();
  const slots = w.provers.map((p) => Array<number>(p.capacity).fill(0));
  /** Messages scheduled for a future block. */
  const pending = new Map<number, Msg[]>();
  const later = (h: number, m: Msg) => {
    const l = pending.get(h);
    if (l) l.push(m);
    else pending.set(h, [m]);
  };
  const byAddress = new Map(w.provers.map((p) => [p.address as string, p]));
  const fail = (what: string) => extras?.txFailures.set(what, (extras.txFailures.get(what) ?? 0) + 1);

  /** Fallback attempts to look at again one block after they should have landed (crashed or refused ones). */
  const fallbackRetries = new Map<number, { requestId: bigint; tried: string[] }[]>();
  /**
   * Fallback provers with a finished proof, working the commit-reveal as a worker does: from the block the proof is
   * done, commit whenever the request has a free commitment slot, reveal in the next block (every live commitment may
   * reveal in its own window; the first valid reveal delivers, modules/market/fallback.ts). Without squatters holding
   * every slot this is commit at `from`, reveal at `from + 1`. Keyed by request.
   */
  type Attempt = { requestId: bigint; p: (typeof w.provers)[number]; proof: Uint8Array; from: number; tried: string[] };
  const attempts = new Map<bigint, Attempt>();
  /**
   * Assignments to race, by the block before their race opens (fallbackOpensAt − 1): looked at before that block runs.
   * Keyed to the assignment (prover, height), not the request: one released and assigned again has its own race.
   */
  const races = new Map<number, { requestId: bigint; prover: string; assignedHeight: bigint }[]>();
  /** Assignments whose prover crashed on them ('requestId/prover'): outracing those loses no work that was not lost. */
  const crashed = new Set<string>();
  /**
   * Assignments being worked ('requestId/prover'): the block the prover starts on it (FIFO behind its other jobs), what
   * it costs, its slot and when that slot was free before. One outraced before its start was never computed: the
   * prover's worker sees the request delivered and never starts it.
   */
  const queued = new Map<string, { start: number; done: number; cost: bigint; slot: number; freeBefore: number }>();
  /** 'squat': the censored requests in the fallback, and the (request, member) pairs the chain refuses for good. */
  const squatTargets = new Set<bigint>();
  const squatBarred = new Set<string>();
  const coalitionMembers = w.provers.filter((p) => p.coalition);
  /**
   * Fallback agents: of the provers that are not excluded from the request (and do not refuse it, have not tried it
   * already) and serve the circuit, the one that can commit first takes it over and submits its proof through the
   * permissionless path — first valid proof wins, so a prover that would finish later has no reason to start. A prover
   * commits at the first height at which its proof can be done (a slot free soonest + its proving time) AND the
   * fallback fee its commitment would lock there (the keeper's fallbackFee, modules/market/fallback-fee.ts), less the
   * protocol fee, plus the request's bounty (and, racing an assignment, what the outrace adds to it: the Request query's
   * outrace_bounty, as the worker counts it), covers its ask: it starts proving just in time for that. Equal commit
   * height: the cheaper prover. A crashed attempt is seen by the others when its proof does not land (fallbackRetries).
   * The same agent races an ASSIGNED request whose requester's patience ran out (`races`): the assigned prover is
   * excluded, and nobody can tell an honest assignee still proving from a holder, so it starts whenever the request is
   * still ASSIGNED when the race opens (`racers` 'open') or once it is overdue by its prover's record ('overdue') —
   * its compute is counted whether it wins or the assignee delivers first.
   */
  const fallbackAgent = (requestId: bigint, excluded: ReadonlySet<string>, h: number, tried: readonly string[] = []) => {
    const jobId = jobOfRequest.get(requestId);
    if (jobId === undefined || attempts.has(requestId)) return; // (someone is working it already: a race that became a miss)
    const j = w.jobs[jobId - 1];
    const c = w.circuits[j.circuit];
    const expiry = j.submitBlock + j.lifetime;
    const q0 = chain.query();
    const rec = chain.market.request(q0, requestId);
    if (rec === undefined) return;
    const params = chain.market.params(q0);
    const feeBps = params.protocolFeeBps;
    const bounty = BigInt(rec.bounty || '0');
    const payoutAt = new Map<number, bigint>();
    const payout = (x: number): bigint => {
      let v = payoutAt.get(x);
      if (v === undefined) {
        const fee = chain.market.fallbackFee(q0, rec, BigInt(x));
        // racing an assignment: the outrace adds the bounty share of the assignee's release slash (at least the commit height's)
        const race = rec.status === RequestStatus.REQUEST_STATUS_ASSIGNED && rec.assignment ? outraceBounty(params, rec.assignment, BigInt(x)) : 0n;
        v = fee - (fee * feeBps) / BPS + bounty + race;
        payoutAt.set(x, v);
      }
      return v;
    };
    let best: { p: (typeof w.provers)[number]; k: number; start: number; done: number } | undefined;
    for (const p of w.provers) {
      if (excluded.has(p.address) || refuses(p, j) || !serves(w, p, c)) continue;
      if (chain.bond.prover(q0, p.address)?.jailed) continue; // a jailed prover's proof would be refused
      const sl = slots[p.idx];
      let k = 0;
      for (let i = 1; i < sl.length; i++) if (sl[i] < sl[k]) k = i;
      const start = Math.max(h + 1, sl[k]);
      let done = start + provingBlocks(p, c, bs);
      const ask = askPrice(p, c);
      while (done < expiry && payout(done) < ask) done++; // wait for the fee ramp to reach its price
      if (done >= expiry) continue;
      if (best === undefined || done < best.done || (done === best.done && proofCost(p, c) < proofCost(best.p, c))) best = { p, k, start, done };
    }
    if (best === undefined) return;
    const r = o.jobs[jobId - 1];
    r.attempts++;
    o.computations++;
    spend(o, best.p.idx, proofCost(best.p, c));
    // it planned with the nominal proving time; with scenario.provingJitter the proof may be done later than planned
    const late = best.start + deliveryBlocks(w, best.p, c, jobId, r.attempts);
    if (late > best.done) best = { ...best, done: late };
    slots[best.p.idx][best.k] = best.done;
    // commit-reveal (modules/market/fallback.ts): commit when the proof is done, reveal in the next block. If no proof
    // has landed one block after the reveal should have (a crash, or a proof refused because its prover was jailed
    // meanwhile), the others see the request still FALLBACK and the next one steps in
    const l = fallbackRetries.get(best.done + 2) ?? [];
    l.push({ requestId, tried: [...tried, best.p.address] });
    fallbackRetries.set(best.done + 2, l);
    if (crashes(w, best.p, jobId, r.attempts)) return;
    attempts.set(requestId, { requestId, p: best.p, proof: markerProof(requestId, best.p.address), from: best.done, tried: [...tried, best.p.address] });
  };

  /** This block's commit / reveal of every fallback attempt whose proof is done (see Attempt). */
  const attemptMsgs = (h: number, push: (m: Msg, kind: string) => void) => {
    const q = chain.query();
    const kv = chain.market.store(q);
    for (const a of attempts.values()) {
      if (a.from > h) continue;
      const rec = chain.market.request(q, a.requestId);
      // FALLBACK, or OPEN/ASSIGNED past the requester's patience (a race); anything else: delivered or gone
      if (rec === undefined || !fallbackOpen(rec, BigInt(h))) {
        attempts.delete(a.requestId);
        continue;
      }
      if (chain.bond.prover(q, a.p.address)?.jailed) {
        // its proof would be refused: the others take over (at once if the usual retry block has passed)
        attempts.delete(a.requestId);
        if (h >= a.from + 2) fallbackAgent(a.requestId, new Set([...rec.excludedProvers, ...a.tried]), h, a.tried);
        continue;
      }
      const live = commitsOf(kv, a.requestId);
      const mine = live.find((c) => c.prover === a.p.address);
      if (mine === undefined) {
        push({ typeUrl: MSG_COMMIT_FALLBACK_PROOF, value: { prover: a.p.address, requestId: a.requestId, commitment: fallbackCommitment(a.requestId, a.proof, signals, a.p.address) } }, 'commit');
      } else if (mine.height < BigInt(h)) {
        push({ typeUrl: MSG_SUBMIT_PROOF, value: { prover: a.p.address, requestId: a.requestId, proof: a.proof, publicSignals: signals } }, 'proof');
      }
    }
  };

  /**
   * 'squat': every coalition member not excluded from a censored request in the fallback commits to it with a garbage
   * commitment (it has no proof) and never reveals; again whenever it has no live commitment there and the chain lets
   * it (refusals for good — excluded, forfeited — end its squatting on that request). Sent first in the block: the
   * coalition front-runs the honest commitments.
   */
  const squatMsgs = (h: number, push: (m: Msg, kind: string) => void) => {
    const q = chain.query();
    const kv = chain.market.store(q);
    const max = Number(chain.market.params(q).maxFallbackCommits);
    for (const id of [...squatTargets]) {
      const rec = chain.market.request(q, id);
      if (rec?.status !== RequestStatus.REQUEST_STATUS_FALLBACK) {
        squatTargets.delete(id);
        continue;
      }
      const live = commitsOf(kv, id);
      let n = live.length;
      for (const p of coalitionMembers) {
        if (n >= max) break;
        if (rec.excludedProvers.includes(p.address) || squatBarred.has(`${id}/${p.address}`) || live.some((c) => c.prover === p.address)) continue;
        if (chain.bond.prover(q, p.address)?.jailed) continue;
        const garbage = sha256(new TextEncoder().encode(`squat/${id}/${p.address}/${h}`));
        push({ typeUrl: MSG_COMMIT_FALLBACK_PROOF, value: { prover: p.address, requestId: id, commitment: garbage } }, `squat:${id}:${p.address}`);
        n++;
      }
    }
  };

  let next = 0;
  for (let h = 1; h <= w.endBlock; h++) {
    const msgs: Msg[] = [];
    const kinds: string[] = [];
    const push = (m: Msg, kind: string) => {
      msgs.push(m);
      kinds.push(kind);
    };
    if (h === 1) {
      for (const p of w.provers) {
        push({ typeUrl: '/proofbook.bond.v1.MsgBond', value: { prover: p.address, amount: [{ denom: 'uproof', amount: p.collateral.toString() }] } }, 'bond');
        for (const c of w.circuits) {
          if (!serves(w, p, c)) continue;
          push({ typeUrl: MSG_POST_ASK, value: { prover: p.address, circuitId: circuits[c.idx].id, price: askPrice(p, c).toString(), capacity: BigInt(p.capacity), expiryHeight: BigInt(w.endBlock + 10) } }, 'ask');
        }
      }
    } else {
      // keep-alive: unjail when allowed, top the bond back up after slashes
      const q = chain.query();
      for (const p of w.provers) {
        const rec = chain.bond.prover(q, p.address);
        if (rec === undefined) continue;
        if (rec.jailed && BigInt(h) >= rec.jailedUntil) push({ typeUrl: '/proofbook.bond.v1.MsgUnjail', value: { prover: p.address } }, 'unjail');
        const bonded = BigInt(rec.bonded.find((c) => c.denom === 'uproof')?.amount ?? '0');
        if (bonded * 2n < p.collateral) push({ typeUrl: '/proofbook.bond.v1.MsgBond', value: { prover: p.address, amount: [{ denom: 'uproof', amount: (p.collateral - bonded).toString() }] } }, 'bond');
      }
    }
    const arriving: number[] = [];
    while (next < w.jobs.length && w.jobs[next].submitBlock === h) {
      const j = w.jobs[next++];
      arriving.push(j.id);
      const minFee = (j.value * BigInt(s.proofbook.minFeeBps)) / 10_000n;
      push(
        {
          typeUrl: MSG_SUBMIT_REQUEST,
          value: {
            requester: w.requesters[j.requester].address,
            circuitId: circuits[j.circuit].id,
            inputInline: new TextEncoder().encode(`{"job":${j.id}}`),
            inputUri: '',
            inputSha256: '',
            expectedPublicSignals: signals, // every request commits to its proof's public signals
            minFee: (minFee < 1n ? 1n : minFee).toString(),
            maxFee: j.value.toString(),
            rampBlocks: BigInt(s.proofbook.rampBlocks),
            provingWindow: BigInt(j.window),
            expiryHeight: BigInt(h + j.lifetime),
            minCollateral: '0',
            fallbackAfterBlocks: patience === 'auto' ? autoPatience(circuits[j.circuit].id, j.window) : BigInt(patience),
          },
        },
        `request:${j.id}`,
      );
    }
    if (squat) squatMsgs(h, push);
    for (const m of pending.get(h) ?? []) push(m, m.typeUrl === MSG_SUBMIT_PROOF ? 'proof' : m.typeUrl === MSG_COMMIT_FALLBACK_PROOF ? 'commit' : m.typeUrl === MSG_DECLINE_ASSIGNMENT ? 'decline' : 'release');
    pending.delete(h);
    attemptMsgs(h, push);

    // Fallback attempts that crashed: the request is still FALLBACK after the crashed attempt would have finished,
    // which every prover watching the chain sees, so the next cheapest eligible prover steps in.
    for (const f of fallbackRetries.get(h) ?? []) {
      const rec = chain.market.request(chain.query(), f.requestId);
      if (attempts.get(f.requestId)?.p.address === f.tried.at(-1)) continue; // still working it (queued behind others)
      if (rec !== undefined && fallbackOpen(rec, BigInt(h + 1))) fallbackAgent(f.requestId, new Set([...rec.excludedProvers, ...f.tried, ...(rec.assignment ? [rec.assignment.prover] : [])]), h, f.tried);
    }
    fallbackRetries.delete(h);
    // races: assignments open to the fallback in the next block (the requester's patience or their overdue height),
    // still held by the prover they were made to (a released request assigned again is raced on its new assignment's terms)
    for (const x of races.get(h) ?? []) {
      const rec = chain.market.request(chain.query(), x.requestId);
      const same = rec?.status === RequestStatus.REQUEST_STATUS_ASSIGNED && rec.assignment?.prover === x.prover && rec.assignment.assignedHeight === x.assignedHeight;
      if (same && fallbackOpen(rec, BigInt(h + 1))) {
        o.races = (o.races ?? 0) + 1;
        fallbackAgent(x.requestId, new Set([...rec.excludedProvers, x.prover]), h);
      }
    }
    races.delete(h);
    const res = chain.runBlock(msgs);
    if (onProgress && h % 100 === 0 && h < w.endBlock) onProgress(`  proofbook ${w.provers.length} provers: block ${h}/${w.endBlock}`);
    o.invariantBlocks++;
    for (const b of res.broken) o.invariantFailures.push(`h=${h}: ${b}`);
    res.results.forEach((r, i) => {
      const kind = kinds[i];
      if (kind.startsWith('request:')) {
        const jobId = Number(kind.slice(8));
        if (r.ok) jobOfRequest.set(r.response.requestId as bigint, jobId);
        else {
          fail('submit_request');
          o.jobs[jobId - 1].expired = true;
        }
      } else if (kind.startsWith('squat:')) {
        if (r.ok) o.squatCommits = (o.squatCommits ?? 0) + 1;
        else {
          // refused for good (excluded, or its own commitment expired unrevealed): stop squatting that request
          if (/expire unrevealed|released, missed or declined/.test(r.error)) squatBarred.add(kind.slice(6).replace(':', '/'));
          else fail('squat');
        }
      } else if (!r.ok) { fail(kind); if (process.env.SIM_DEBUG) console.error('h', h, kind, JSON.stringify(r, (_k, v) => typeof v === 'bigint' ? v.toString() : v).slice(0, 300)); }
    });

    for (const e of res.events) {
      if (e.type === 'proofbook.market.request_assigned') {
        const jobId = jobOfRequest.get(BigInt(attr(e, 'request_id')));
        const p = byAddress.get(attr(e, 'prover'));
        if (jobId === undefined || p === undefined) continue;
        const j = w.jobs[jobId - 1];
        const c = w.circuits[j.circuit];
        const r = o.jobs[jobId - 1];
        r.attempts++;
        r.assignedBlock ??= h;
        const deadline = Number(attr(e, 'deadline'));
        const overdue = BigInt(attr(e, 'overdue_at') || '0'); // Assignment.overdue_height (0 = none)
        const requestId = BigInt(attr(e, 'request_id'));
        // the race opens at the requester's patience or at the assignment's overdue height, whichever is set and first
        const rec = chain.market.request(chain.query(), requestId);
        const opens = rec ? fallbackOpensAt(rec) : undefined;
        const from = opens === undefined || racers === 'open' ? opens : raceFrom(opens, BigInt(h), chain.market.reputation(chain.query(), p.address, circuits[c.idx].id), overdue);
        if (from !== undefined && Number(from) <= deadline) {
          const at = Math.max(h + 1, Number(from) - 1);
          races.set(at, [...(races.get(at) ?? []), { requestId, prover: p.address, assignedHeight: BigInt(h) }]);
        }
        const release: Msg = { typeUrl: MSG_RELEASE_ASSIGNMENT, value: { prover: p.address, requestId } };
        if (refuses(p, j)) {
          // 'release': hand it back at once; 'hold': sit on it until the deadline passes (a miss)
          if (!hold) later(h + 1, release);
          continue;
        }
        // FIFO over the prover's slots: start when a slot frees, release at once if the deadline is out of reach
        const sl = slots[p.idx];
        let k = 0;
        for (let i = 1; i < sl.length; i++) if (sl[i] < sl[k]) k = i;
        const start = Math.max(h, sl[k]);
        const done = start + provingBlocks(p, c, bs);
        if (done > deadline) {
          later(h + 1, release);
          continue;
        }
        if (declineLate && from !== undefined && done > Number(from)) {
          // what the worker does (src/worker/admit.ts): decline in the accept phase what it would prove only after racers
          // start on it, rather than prove into a race it may lose
          later(h + 1, { typeUrl: MSG_DECLINE_ASSIGNMENT, value: { prover: p.address, requestId, reason: 'would finish after racers start' } });
          continue;
        }
        o.computations++;
        spend(o, p.idx, proofCost(p, c));
        // planned with the nominal time; delivered when the proof is done (later, with scenario.provingJitter)
        const proved = start + deliveryBlocks(w, p, c, jobId, r.attempts);
        queued.set(`${requestId}/${p.address}`, { start, done: proved, cost: proofCost(p, c), slot: k, freeBefore: sl[k] });
        if (crashes(w, p, jobId, r.attempts)) {
          crashed.add(`${requestId}/${p.address}`);
          sl[k] = deadline + 1;
        } else if (proved > deadline) {
          // done after its deadline: the worker drops it (the chain records the miss), its slot busy until then
          sl[k] = proved;
        } else {
          sl[k] = proved;
          // 'pad': a coalition member keeps the finished proof until the block before racers would start on it (its overdue
          // height, or the requester's patience if that comes first; else the deadline), so its record of the circuit says
          // it is slow without losing the job; its slot is free meanwhile (the best case for it)
          const submitAt = pad && p.coalition ? Math.max(proved, Math.min(from !== undefined ? Number(from) : deadline, deadline) - 1) : proved;
          later(submitAt, { typeUrl: MSG_SUBMIT_PROOF, value: { prover: p.address, requestId, proof: markerProof(requestId, p.address), publicSignals: signals } });
        }
      } else if (e.type === 'proofbook.market.request_fallback') {
        const requestId = BigInt(attr(e, 'request_id'));
        const jobId = jobOfRequest.get(requestId);
        if (squat && jobId !== undefined && w.jobs[jobId - 1].censored) squatTargets.add(requestId);
        fallbackAgent(requestId, new Set(attr(e, 'excluded').split(',').filter((x) => x)), h);
      } else if (e.type === 'proofbook.market.fallback_delivered') {
        // the requester has the proof now; the payment (request_fulfilled) may follow up to fallback_reveal_blocks later
        const jobId = jobOfRequest.get(BigInt(attr(e, 'request_id')));
        const p = byAddress.get(attr(e, 'prover'));
        if (jobId === undefined || p === undefined) continue;
        o.jobs[jobId - 1].provedBlock = h;
        o.jobs[jobId - 1].prover = p.idx;
      } else if (e.type === 'proofbook.market.request_fulfilled') {
        const jobId = jobOfRequest.get(BigInt(attr(e, 'request_id')));
        const p = byAddress.get(attr(e, 'prover'));
        if (jobId === undefined || p === undefined) continue;
        const r = o.jobs[jobId - 1];
        const price = BigInt(attr(e, 'price'));
        // a fallback delivery whose payment was held is paid later: the requester had the proof at delivered_height
        const delivered = e.attributes.find((x) => x.key === 'delivered_height')?.value;
        r.provedBlock = delivered !== undefined ? Number(delivered) : h;
        r.prover = p.idx;
        r.price = price;
        o.proverRevenue[p.idx] += price - BigInt(attr(e, 'protocol_fee')) + BigInt(e.attributes.find((x) => x.key === 'bounty')?.value ?? '0');
        o.proverWins[p.idx]++;
      } else if (e.type === 'proofbook.market.deadline_missed' || e.type === 'proofbook.market.assignment_released' || e.type === 'proofbook.market.assignment_outraced') {
        const p = byAddress.get(attr(e, 'prover'));
        if (p) o.proverSlashed[p.idx] += BigInt(attr(e, 'slashed'));
        o.compensation += BigInt(e.attributes.find((x) => x.key === 'compensated')?.value ?? '0');
        if (e.type === 'proofbook.market.assignment_outraced') {
          o.outraced = (o.outraced ?? 0) + 1;
          const jobId = jobOfRequest.get(BigInt(attr(e, 'request_id')));
          const key = `${attr(e, 'request_id')}/${p?.address}`;
          const q = queued.get(key);
          if (jobId === undefined || p === undefined || crashed.has(key)) {
            // (crashed on it: no work lost that was not lost already)
          } else if (q !== undefined && q.start > h) {
            // still queued behind the prover's other jobs: never started, so never computed; its slot frees as before
            o.computations--;
            spend(o, p.idx, -q.cost);
            if (slots[p.idx][q.slot] === q.done) slots[p.idx][q.slot] = q.freeBefore;
          } else if (!refuses(p, w.jobs[jobId - 1]) && !(pad && p.coalition)) {
            // honest work lost: the assignee was proving it (neither refusing it, nor padding its record, nor crashed on it)
            o.outracedHonest = (o.outracedHonest ?? 0) + 1;
          }
        }
      } else if (e.type === 'proofbook.market.fallback_commit_expired') {
        o.forfeitedDeposits = (o.forfeitedDeposits ?? 0n) + BigInt(attr(e, 'forfeited') || '0');
        // from the squatting rule on, the forfeited deposit is paid to the requester
        o.compensation += BigInt(e.attributes.find((x) => x.key === 'compensated')?.value ?? '0');
      } else if (e.type === 'proofbook.market.request_expired') {
        const jobId = jobOfRequest.get(BigInt(attr(e, 'request_id')));
        if (jobId !== undefined) o.jobs[jobId - 1].expired = true;
      }
    }
  }
  for (const r of o.jobs) if (r.provedBlock === null) r.expired = true;
  if (extras) {
    extras.accepted = chain.verifier.accepted;
    extras.rejected = chain.verifier.rejected;
  }
  return o;
}
