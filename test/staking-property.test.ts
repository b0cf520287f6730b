/**
 * Staking arithmetic under random operation sequences, through the real app (TestChain runs every module's
 * invariants after each block: bonded pool = tokens of the bonded validators, not-bonded pool = other tokens +
 * unbonding entries, delegations' shares add up, power index and last set consistent):
 *
 *   - property: random delegate / undelegate / redelegate / create-validator / double-sign evidence / downtime /
 *     time jumps (unbonding maturity) keep, besides the module invariants: the Pool query equal to the sum of the
 *     BONDED validators' tokens, no negative tokens or shares, delegations worth at most their validator's tokens,
 *     delegations worth their validator's tokens less at most 1 uproof each (floor), an undelegation never yielding
 *     more than the delegation was worth, and a supply that never grows;
 *   - determinism: one random sequence with validator-set changes (create-validator, undelegate out of the set,
 *     double-sign slash + jail, downtime jail) on a normal replica and on one that closes and reopens LevelDB
 *     before every block: equal app hashes and equal validator updates at every height.
 */
import test from 'ava';
import fc from 'fast-check';
import { BondStatus, Validator } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import { QueryPoolRequest, QueryPoolResponse, QueryValidatorsRequest, QueryValidatorsResponse, QueryDelegatorDelegationsRequest, QueryDelegatorDelegationsResponse, QueryDelegatorUnbondingDelegationsRequest, QueryDelegatorUnbondingDelegationsResponse, QueryValidatorDelegationsRequest, QueryValidatorDelegationsResponse } from 'cosmjs-types/cosmos/staking/v1beta1/query';
import { QuerySupplyOfRequest, QuerySupplyOfResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import type { Misbehavior } from 'cosmjs-types/tendermint/abci/types';
import { TestChain, devnetKey, type BlockResult } from './helpers/chain.js';
import { commit, consAddr, duplicateVote, m, signed, stakingGenesis, type Msg } from './helpers/staking.js';
import { parseDecWire } from '../src/types/dec.js';
import { consAddress } from '../modules/staking/addresses.js';
import { valoperOf } from '../src/client/gentx.js';
import type { RawKey } from '../src/client/sign.js';

const PROOF = 1_000_000n;
const VALS = 4;
let VALOPERS: string[] = [];

const params = (s: Record<string, unknown>) => {
  s.slashing = { params: { signed_blocks_window: '6', min_signed_per_window: '0.5', downtime_jail_duration: '5s', slash_fraction_double_sign: '0.05', slash_fraction_downtime: '0.01' }, signing_infos: [] };
  (s.staking as { params: Record<string, unknown> }).params.unbonding_time = '20s';
  (s.staking as { params: Record<string, unknown> }).params.max_validators = 4;
};

type Op =
  | { k: 'delegate'; d: number; v: number; amount: bigint }
  | { k: 'undelegate'; d: number; v: number; amount: bigint }
  | { k: 'redelegate'; d: number; src: number; dst: number; amount: bigint }
  | { k: 'create'; amount: bigint }
  | { k: 'doubleSign'; v: number }
  | { k: 'offline'; v: number; blocks: number }
  | { k: 'wait'; seconds: number };

const amount = fc.oneof(fc.bigInt(1n, 1000n), fc.bigInt(1n, 20n * PROOF), fc.constant(3n * PROOF));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('delegate' as const), d: fc.nat(VALS + 2), v: fc.nat(VALS), amount }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('undelegate' as const), d: fc.nat(VALS + 2), v: fc.nat(VALS), amount }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('redelegate' as const), d: fc.nat(VALS + 2), src: fc.nat(VALS), dst: fc.nat(VALS), amount }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('create' as const), amount: fc.bigInt(1n, 30n * PROOF) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('doubleSign' as const), v: fc.nat(VALS) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('offline' as const), v: fc.nat(VALS), blocks: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('wait' as const), seconds: fc.integer({ min: 1, max: 30 }) }) },
);

/** A chain of 4 gentx validators (devnet 0..3, keys consKey(0..3)); devnet4 may create a 5th (consKey(4)). */
class World {
  chain!: TestChain;
  keys!: RawKey[];
  /** Consensus address index -> offline until height. */
  private offlineUntil = new Map<number, bigint>();
  private evidence: Misbehavior[] = [];
  updates: string[] = [];
  hashes: string[] = [];

  static async create(restartEveryBlock = false): Promise<World> {
    const w = new World();
    const { appState } = await stakingGenesis([10n * PROOF, 10n * PROOF, 5n * PROOF, 5n * PROOF], params);
    w.chain = await TestChain.create({ appState });
    w.keys = await Promise.all([0, 1, 2, 3, 4, 5, 6].map((i) => devnetKey(i)));
    VALOPERS = w.keys.map(valoperOf);
    w.restart = restartEveryBlock;
    w.chain.consensus = (h) => {
      const votes = w.bondedPowers().map(({ i, power }) => ({ i, power, signed: !((w.offlineUntil.get(i) ?? 0n) >= h) }));
      const ev = w.evidence;
      w.evidence = [];
      return { proposerAddress: consAddr(0), decidedLastCommit: commit(votes), misbehavior: ev };
    };
    return w;
  }
  private restart = false;
  private powers: { i: number; power: bigint }[] = [];

  /** The set CometBFT would have: what InitChain and the validator updates said (by consKey index). */
  bondedPowers(): { i: number; power: bigint }[] {
    return this.powers;
  }

  async init(): Promise<void> {
    this.powers = this.chain.genesisValidators.map((v) => ({ i: this.indexOf(v.pubKey!.ed25519!), power: v.power }));
  }

  private indexOf(pub: Uint8Array): number {
    for (let i = 0; i < 8; i++) if (Buffer.from(consAddr(i)).equals(Buffer.from(consAddress(pub)))) return i;
    throw new Error('unknown consensus key');
  }

  async block(txs: Uint8Array[]): Promise<BlockResult> {
    if (this.restart) await this.chain.restart();
    const r = await this.chain.block(txs);
    this.hashes.push(Buffer.from(r.appHash).toString('hex'));
    const ups = r.validatorUpdates.map((u) => `${this.indexOf(u.pubKey!.ed25519!)}:${u.power}`);
    this.updates.push(ups.join(','));
    for (const u of r.validatorUpdates) {
      const i = this.indexOf(u.pubKey!.ed25519!);
      this.powers = this.powers.filter((p) => p.i !== i);
      if (u.power > 0n) this.powers.push({ i, power: u.power });
    }
    this.powers.sort((a, b) => a.i - b.i);
    return r;
  }

  async apply(op: Op): Promise<void> {
    const k = this.keys;
    const h = this.chain.app.height + 1n;
    let msg: Msg | undefined;
    let signer = k[0]!;
    switch (op.k) {
      case 'delegate': signer = k[op.d]!; msg = m.delegate(signer, k[op.v]!, op.amount); break;
      case 'undelegate': signer = k[op.d]!; msg = m.undelegate(signer, k[op.v]!, op.amount); break;
      case 'redelegate': signer = k[op.d]!; msg = m.redelegate(signer, k[op.src]!, k[op.dst]!, op.amount); break;
      case 'create': signer = k[4]!; msg = m.createValidator(signer, 4, op.amount); break;
      case 'doubleSign': {
        const p = this.powers.find((x) => x.i === op.v);
        if (p) this.evidence.push(duplicateVote(op.v, p.power, h - 1n, this.powers.reduce((a, b) => a + b.power, 0n)));
        break;
      }
      case 'offline': this.offlineUntil.set(op.v, h + BigInt(op.blocks)); break;
      case 'wait': this.chain.blockSeconds = BigInt(op.seconds); break;
    }
    await this.block(msg ? [await signed(this.chain, signer, [msg])] : []);
    this.chain.blockSeconds = 1n;
  }
}


async function q<T>(chain: TestChain, path: string, req: Uint8Array, dec: { decode(b: Uint8Array): T }): Promise<T> {
  const r = await chain.query(path, req);
  if (r.code !== 0) throw new Error(`${path}: ${r.log}`);
  return dec.decode(r.value);
}

async function validators(chain: TestChain): Promise<Validator[]> {
  return (await q(chain, '/cosmos.staking.v1beta1.Query/Validators', QueryValidatorsRequest.encode({ status: '', pagination: { key: new Uint8Array(), offset: 0n, limit: 100n, countTotal: false, reverse: false } }).finish(), QueryValidatorsResponse)).validators;
}

/** An account's unbonding entries' balance and its delegations' token value per validator (by devnet index). */
async function wealth(chain: TestChain, address: string): Promise<{ unbonding: bigint; byValidator: Map<number, bigint> }> {
  const ds = await q(chain, '/cosmos.staking.v1beta1.Query/DelegatorDelegations', QueryDelegatorDelegationsRequest.encode({ delegatorAddr: address }).finish(), QueryDelegatorDelegationsResponse);
  const us = await q(chain, '/cosmos.staking.v1beta1.Query/DelegatorUnbondingDelegations', QueryDelegatorUnbondingDelegationsRequest.encode({ delegatorAddr: address }).finish(), QueryDelegatorUnbondingDelegationsResponse);
  const byValidator = new Map<number, bigint>();
  for (const d of ds.delegationResponses) byValidator.set(VALOPERS.indexOf(d.delegation!.validatorAddress), BigInt(d.balance!.amount));
  let unbonding = 0n;
  for (const u of us.unbondingResponses) for (const e of u.entries) unbonding += BigInt(e.balance);
  return { unbonding, byValidator };
}

async function supply(chain: TestChain): Promise<bigint> {
  return BigInt((await q(chain, '/cosmos.bank.v1beta1.Query/SupplyOf', QuerySupplyOfRequest.encode({ denom: 'uproof' }).finish(), QuerySupplyOfResponse)).amount!.amount);
}

test('random staking operations keep the pools, shares and supply consistent and create no tokens', async (t) => {
  t.timeout(300_000);
  let runs = 0;
  let lastError = '';
  t.teardown(() => { if (lastError) t.log(`last failure: ${lastError}`); });
  await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 20 }), async (ops) => {
    const w = await World.create();
    try {
      await w.init();
      for (const op of ops) {
        const before = await Promise.all(w.keys.map((k) => wealth(w.chain, k.address)));
        const supplyBefore = await supply(w.chain);
        await w.apply(op);
        const vals = await validators(w.chain);
        const pool = (await q(w.chain, '/cosmos.staking.v1beta1.Query/Pool', QueryPoolRequest.encode({}).finish(), QueryPoolResponse)).pool!;
        const bonded = vals.filter((v) => v.status === BondStatus.BOND_STATUS_BONDED).reduce((a, v) => a + BigInt(v.tokens), 0n);
        if (BigInt(pool.bondedTokens) !== bonded) throw new Error(`bonded pool ${pool.bondedTokens} != bonded tokens ${bonded} after ${JSON.stringify(op, (_k, x) => typeof x === 'bigint' ? x.toString() : x)}`);
        for (const v of vals) {
          if (BigInt(v.tokens) < 0n || parseDecWire(v.delegatorShares) < 0n) throw new Error(`negative stake: ${v.operatorAddress}`);
          if (BigInt(v.tokens) > 0n && parseDecWire(v.delegatorShares) === 0n) throw new Error(`tokens without shares: ${v.operatorAddress}`);
        }
        // Delegations are worth at most their validator's tokens, and at most 1 uproof per delegation less (floor).
        for (const v of vals) {
          const ds = await q(w.chain, '/cosmos.staking.v1beta1.Query/ValidatorDelegations', QueryValidatorDelegationsRequest.encode({ validatorAddr: v.operatorAddress }).finish(), QueryValidatorDelegationsResponse);
          const sum = ds.delegationResponses.reduce((a, d) => a + BigInt(d.balance!.amount), 0n);
          const tokens = BigInt(v.tokens);
          if (sum > tokens || tokens - sum > BigInt(ds.delegationResponses.length)) throw new Error(`${v.operatorAddress}: delegations worth ${sum}, tokens ${tokens}`);
        }
        // Undelegating never yields more than the delegation was worth.
        if (op.k === 'undelegate') {
          const after = await wealth(w.chain, w.keys[op.d]!.address);
          if (after.unbonding - before[op.d]!.unbonding > (before[op.d]!.byValidator.get(op.v) ?? 0n)) throw new Error(`undelegate yielded ${after.unbonding - before[op.d]!.unbonding} from a delegation worth ${before[op.d]!.byValidator.get(op.v)}`);
        }
        // Supply only falls by burns (slashes); fees stay in the fee collector.
        const supplyAfter = await supply(w.chain);
        if (supplyAfter > supplyBefore) throw new Error(`supply grew from ${supplyBefore} to ${supplyAfter}`);
      }
      runs++;
    } catch (e) {
      lastError = (e as Error).message;
      throw e;
    } finally {
      await w.chain.close();
    }
  }), { numRuns: 8, seed: 20261205, endOnFailure: true });
  t.is(runs, 8);
});

test('determinism with validator-set changes: a replica reopening LevelDB before every block has the same app hashes and validator updates', async (t) => {
  t.timeout(300_000);
  const ops: Op[] = [
    { k: 'delegate', d: 5, v: 2, amount: 7n * PROOF },
    { k: 'create', amount: 12n * PROOF },                       // enters the set (max 4): the smallest leaves
    { k: 'delegate', d: 6, v: 3, amount: 9n * PROOF },          // 3 climbs back, 4 or 2 leaves
    { k: 'undelegate', d: 1, v: 1, amount: 10n * PROOF },       // validator 1 unbonds everything: leaves
    { k: 'redelegate', d: 5, src: 2, dst: 0, amount: 2n * PROOF },
    { k: 'doubleSign', v: 0 },                                  // 5 % slash, jail, tombstone
    { k: 'offline', v: 3, blocks: 12 },                         // downtime jail
    ...Array.from({ length: 8 }, () => ({ k: 'wait' as const, seconds: 1 })),
    { k: 'wait', seconds: 25 },                                 // unbondings and redelegations mature
    { k: 'delegate', d: 6, v: 2, amount: 1n * PROOF },
  ];
  const a = await World.create(false);
  const b = await World.create(true);
  t.teardown(async () => { await a.chain.close(); await b.chain.close(); });
  await a.init();
  await b.init();
  for (const op of ops) {
    await a.apply(op);
    await b.apply(op);
  }
  t.deepEqual(b.hashes, a.hashes);
  t.deepEqual(b.updates, a.updates);
  const changes = a.updates.filter((u) => u !== '');
  t.log(`validator updates: ${changes.join(' | ')}`);
  t.true(changes.length >= 4, 'the sequence changed the validator set several times');
  t.true(a.updates.some((u) => /(^|,)0:0/.test(u)), 'the double signer left the set');
  t.true(a.updates.some((u) => /(^|,)4:/.test(u)), 'the created validator entered the set');
});
