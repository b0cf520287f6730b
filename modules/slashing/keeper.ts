/**
 * The slashing keeper: liveness (missed blocks over a sliding window, from FinalizeBlock's decided_last_commit) and
 * evidence (DuplicateVote / LightClientAttack from FinalizeBlock's misbehavior), in the Cosmos SDK's x/slashing and
 * x/evidence rules.
 *
 * Liveness. Each validator's signing info counts the blocks it missed among the last `signed_blocks_window` (a bit
 * per window position). Once past its first window (start_height + window), a validator that missed more than
 * window − ceil-ish(window × min_signed_per_window) blocks is slashed `slash_fraction_downtime` of its stake at the
 * infraction (height − 2: the last height its power could sign), jailed until block time + `downtime_jail_duration`,
 * and its window is reset. MsgUnjail brings it back after that time (self-delegation ≥ its minimum).
 *
 * Evidence. Double signing (either kind of misbehavior) of a validator that is not unbonded and not already
 * tombstoned slashes `slash_fraction_double_sign` of its stake at the infraction height − 1 — which reaches unbonding
 * and redelegated stake that left after the infraction (staking keeper's slash) — jails it and tombstones it: it can
 * never unjail. CometBFT only commits evidence within its max age, so no age check is repeated here.
 *
 * Validators that staking does not know (a genesis without gentxs keeps CometBFT's genesis validators outside
 * staking) have no signing info and are skipped.
 */
import { Params, ValidatorSigningInfo } from 'cosmjs-types/cosmos/slashing/v1beta1/slashing';
import { BondStatus } from 'cosmjs-types/cosmos/staking/v1beta1/staking';
import type { Context, MisbehaviorInfo } from '../../src/framework/context.js';
import { iteratePrefix, type KV } from '../../src/store/kv.js';
import { DEC_ONE } from '../../src/types/dec.js';
import type { StakingKeeper, StakingHooks } from '../staking/keeper.js';
import { valconsFromBytes, consAddress, ed25519FromAny } from '../staking/addresses.js';
import {
  DEFAULT_SLASHING_PARAMS, DOUBLE_SIGN_JAIL_END, decFromBytes, EMPTY, PARAMS_KEY, SLASHING_STORE_PREFIX, VALIDATOR_UPDATE_DELAY,
  ErrMissingSelfDelegation, ErrNoValidatorForAddress, ErrSelfDelegationTooLowToUnjail, ErrValidatorJailed, ErrValidatorNotJailed,
  infoKey, missedKey, missedPrefix,
} from './keys.js';

export class SlashingKeeperImpl {
  constructor(private readonly staking: StakingKeeper) {}

  store(ctx: Context): KV {
    return ctx.store(SLASHING_STORE_PREFIX);
  }

  params(ctx: Context): Params {
    const v = this.store(ctx).get(PARAMS_KEY);
    return v === undefined ? DEFAULT_SLASHING_PARAMS : Params.decode(v);
  }

  setParams(ctx: Context, p: Params): void {
    this.store(ctx).set(PARAMS_KEY, Params.encode(p).finish());
  }

  signingInfo(ctx: Context, cons: Uint8Array): ValidatorSigningInfo | undefined {
    const v = this.store(ctx).get(infoKey(cons));
    return v === undefined ? undefined : ValidatorSigningInfo.decode(v);
  }

  setSigningInfo(ctx: Context, cons: Uint8Array, info: ValidatorSigningInfo): void {
    this.store(ctx).set(infoKey(cons), ValidatorSigningInfo.encode(info).finish());
  }

  /** Staking hooks: a validator entering the set gets (or restarts) its liveness record. */
  hooks(): StakingHooks {
    return {
      afterValidatorBonded: (ctx, cons) => {
        const info = this.signingInfo(ctx, cons);
        if (info !== undefined) {
          this.setSigningInfo(ctx, cons, { ...info, startHeight: ctx.height });
          return;
        }
        this.setSigningInfo(ctx, cons, {
          address: valconsFromBytes(cons), startHeight: ctx.height, indexOffset: 0n, jailedUntil: { seconds: 0n, nanos: 0 }, tombstoned: false, missedBlocksCounter: 0n,
        });
      },
    };
  }

  /** How many blocks of the window a validator may miss: window − round(window × min_signed_per_window). */
  maxMissed(p: Params): bigint {
    const minSigned = (p.signedBlocksWindow * decFromBytes(p.minSignedPerWindow, 'min_signed_per_window') + DEC_ONE / 2n) / DEC_ONE;
    return p.signedBlocksWindow - minSigned;
  }

  beginBlock(ctx: Context): void {
    const c = ctx.block.consensus;
    if (c === undefined) return;
    const p = this.params(ctx);
    for (const v of c.votes) this.handleSignature(ctx, p, v.address, v.power, v.signed);
    for (const m of c.misbehavior) this.handleEvidence(ctx, p, m);
  }

  private clearWindow(kv: KV, cons: Uint8Array): void {
    const keys: string[] = [];
    for (const [k] of iteratePrefix(kv, missedPrefix(cons))) keys.push(k);
    for (const k of keys) kv.delete(k);
  }

  handleSignature(ctx: Context, p: Params, cons: Uint8Array, power: bigint, signed: boolean): void {
    const v = this.staking.validatorByCons(ctx, cons);
    if (v === undefined || v.jailed) return;
    const info = this.signingInfo(ctx, cons);
    if (info === undefined) return;
    const kv = this.store(ctx);
    const index = info.indexOffset % p.signedBlocksWindow;
    info.indexOffset += 1n;
    const key = missedKey(cons, index);
    const wasMissed = kv.has(key);
    if (!wasMissed && !signed) {
      kv.set(key, EMPTY);
      info.missedBlocksCounter += 1n;
    } else if (wasMissed && signed) {
      kv.delete(key);
      info.missedBlocksCounter -= 1n;
    }
    if (!signed) ctx.emit('liveness', [['address', valconsFromBytes(cons)], ['missed_blocks', info.missedBlocksCounter.toString()], ['height', ctx.height.toString()]]);
    const minHeight = info.startHeight + p.signedBlocksWindow;
    if (ctx.height > minHeight && info.missedBlocksCounter > this.maxMissed(p)) {
      // The last height at which this validator's power could have signed: the infraction height for slashing.
      const infraction = ctx.height - VALIDATOR_UPDATE_DELAY - 1n;
      const burned = this.staking.slash(ctx, cons, infraction, power, decFromBytes(p.slashFractionDowntime, 'slash_fraction_downtime'));
      this.staking.jail(ctx, cons);
      info.jailedUntil = { seconds: ctx.block.timeSeconds + p.downtimeJailDuration.seconds, nanos: 0 };
      info.missedBlocksCounter = 0n;
      info.indexOffset = 0n;
      this.clearWindow(kv, cons);
      ctx.emit('slash', [['address', valconsFromBytes(cons)], ['power', power.toString()], ['reason', 'missing_signature'], ['jailed', valconsFromBytes(cons)], ['burned', burned.toString()]]);
    }
    this.setSigningInfo(ctx, cons, info);
  }

  handleEvidence(ctx: Context, p: Params, m: MisbehaviorInfo): void {
    const cons = m.address;
    const v = this.staking.validatorByCons(ctx, cons);
    if (v === undefined || v.status === BondStatus.BOND_STATUS_UNBONDED) return; // nothing at stake any more
    const info = this.signingInfo(ctx, cons);
    if (info === undefined || info.tombstoned) return; // already punished for double signing
    const infraction = m.height - VALIDATOR_UPDATE_DELAY;
    const burned = this.staking.slash(ctx, cons, infraction, m.power, decFromBytes(p.slashFractionDoubleSign, 'slash_fraction_double_sign'));
    this.staking.jail(ctx, cons);
    this.setSigningInfo(ctx, cons, { ...info, jailedUntil: { seconds: DOUBLE_SIGN_JAIL_END, nanos: 0 }, tombstoned: true });
    ctx.emit('slash', [
      ['address', valconsFromBytes(cons)], ['power', m.power.toString()], ['reason', m.kind === 'duplicate_vote' ? 'double_sign' : 'light_client_attack'],
      ['infraction_height', m.height.toString()], ['jailed', valconsFromBytes(cons)], ['burned', burned.toString()],
    ]);
  }

  /** MsgUnjail (the SDK's rules). */
  unjail(ctx: Context, val: Uint8Array): void {
    const v = this.staking.validator(ctx, val);
    if (v === undefined) throw ErrNoValidatorForAddress();
    const self = this.staking.selfDelegationTokens(ctx, val);
    if (self === 0n) throw ErrMissingSelfDelegation();
    if (self < BigInt(v.minSelfDelegation)) throw ErrSelfDelegationTooLowToUnjail(`self-delegation ${self} < min_self_delegation ${v.minSelfDelegation}`);
    if (!v.jailed) throw ErrValidatorNotJailed();
    const cons = consAddress(ed25519FromAny(v.consensusPubkey));
    const info = this.signingInfo(ctx, cons);
    if (info !== undefined) {
      if (info.tombstoned) throw ErrValidatorJailed('the validator double-signed (tombstoned)');
      if (ctx.block.timeSeconds < info.jailedUntil.seconds) throw ErrValidatorJailed(`jailed until ${info.jailedUntil.seconds} (block time ${ctx.block.timeSeconds})`);
    }
    this.staking.unjail(ctx, val);
  }
}
