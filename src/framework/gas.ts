/**
 * Deterministic gas: every tx declares a limit; the meter charges for bytes, signatures, store reads/writes and
 * proof verification, and aborts with ErrOutOfGas past the limit. Costs mirror the Cosmos SDK's defaults
 * (store/types/gas.go KVGasConfig, x/auth params) so wallets' gas estimates behave as users expect.
 */
import { ErrOutOfGas } from './errors.js';
import type { KV, Key } from '../store/kv.js';

export const GasCosts = {
  readFlat: 1000n,
  readPerByte: 3n,
  writeFlat: 2000n,
  writePerByte: 30n,
  has: 1000n,
  delete: 1000n,
  iterNextFlat: 30n,
  txSizePerByte: 10n,
  sigVerifySecp256k1: 1000n,
} as const;

export class GasMeter {
  private used = 0n;
  constructor(readonly limit: bigint) {}
  get consumed(): bigint {
    return this.used;
  }
  consume(amount: bigint, descriptor: string): void {
    this.used += amount;
    if (this.used > this.limit) {
      throw ErrOutOfGas(`out of gas in location: ${descriptor}; gasWanted: ${this.limit}, gasUsed: ${this.used}. Raise the tx's gas limit (e.g. --gas auto)`);
    }
  }
  /** Gas as reported in results: never above the limit. */
  reported(): bigint {
    return this.used > this.limit ? this.limit : this.used;
  }
}

/** An unlimited meter for block-level work (begin/end block, genesis) where gas is not charged to anyone. */
export function infiniteGasMeter(): GasMeter {
  return new GasMeter(0xffffffffffffffffn);
}

/** Charges the meter for every store access; wraps the tx's cache store. */
export class GasKV implements KV {
  constructor(private readonly inner: KV, private readonly meter: GasMeter) {}
  get(key: Key) {
    const v = this.inner.get(key);
    this.meter.consume(GasCosts.readFlat + GasCosts.readPerByte * BigInt(key.length + (v?.length ?? 0)), 'ReadFlat');
    return v;
  }
  has(key: Key) {
    this.meter.consume(GasCosts.has, 'Has');
    return this.inner.has(key);
  }
  set(key: Key, value: Uint8Array) {
    this.meter.consume(GasCosts.writeFlat + GasCosts.writePerByte * BigInt(key.length + value.length), 'WriteFlat');
    this.inner.set(key, value);
  }
  delete(key: Key) {
    this.meter.consume(GasCosts.delete, 'Delete');
    this.inner.delete(key);
  }
  *iterate(start: Key, end: Key | undefined, reverse = false): IterableIterator<[Key, Uint8Array]> {
    for (const [k, v] of this.inner.iterate(start, end, reverse)) {
      this.meter.consume(GasCosts.iterNextFlat + GasCosts.readPerByte * BigInt(k.length + v.length), 'IterNext');
      yield [k, v];
    }
  }
}
