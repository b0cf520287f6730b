/**
 * The execution context handed to every message handler, query, hook and genesis function: the block being
 * processed, a (gas-metered, cache-wrapped) store, the gas meter and an event sink. Modules reach their own state
 * only through `ctx.store(prefix)`.
 */
import type { Event, EventAttribute } from 'cosmjs-types/tendermint/abci/types';
import { PrefixKV, type KV } from '../store/kv.js';
import { GasMeter, infiniteGasMeter } from './gas.js';

export type ExecMode = 'genesis' | 'check' | 'recheck' | 'simulate' | 'deliver' | 'block' | 'query';

export interface BlockInfo {
  readonly chainId: string;
  readonly height: bigint;
  /** Block time in whole seconds since the Unix epoch (from the block header, never the local clock). */
  readonly timeSeconds: bigint;
}

export class Context {
  readonly events: Event[] = [];
  constructor(
    readonly kv: KV,
    readonly block: BlockInfo,
    readonly mode: ExecMode,
    readonly gas: GasMeter = infiniteGasMeter(),
  ) {}

  get height(): bigint {
    return this.block.height;
  }

  /** Views handed out so far, by prefix (a handful per context; a MsgSend asks ~15 times for 2 prefixes). */
  private views: Map<string, KV> | undefined;

  /** The module-scoped view of state: every key is under `prefix`. */
  store(prefix: string): KV {
    this.views ??= new Map();
    let view = this.views.get(prefix);
    if (view === undefined) {
      view = new PrefixKV(this.kv, prefix);
      this.views.set(prefix, view);
    }
    return view;
  }

  /** Records an event. Attribute order is kept as given, so keep it fixed in code (never from object iteration of dynamic keys). */
  emit(type: string, attributes: ReadonlyArray<readonly [string, string]>): void {
    // A plain indexed loop: destructuring each pair in a callback went through the iterator protocol, which made
    // this the hottest line of a MsgSend (~12 events per tx).
    const attrs: EventAttribute[] = new Array(attributes.length);
    for (let i = 0; i < attributes.length; i++) {
      const a = attributes[i];
      attrs[i] = { key: a[0], value: a[1], index: true };
    }
    this.events.push({ type, attributes: attrs });
  }

  /** Same block and mode over a different store and meter (used for nested caches). */
  with(kv: KV, gas: GasMeter = this.gas): Context {
    return new Context(kv, this.block, this.mode, gas);
  }

  get isCheck(): boolean {
    return this.mode === 'check' || this.mode === 'recheck' || this.mode === 'simulate';
  }
}
