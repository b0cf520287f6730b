/** Shared bookkeeping of the off-chain mechanisms: proving slots per prover and a per-block event calendar. */
import type { World } from '../agents.js';

export class Slots {
  private readonly busyUntil: number[][];
  constructor(w: World) {
    this.busyUntil = w.provers.map((p) => Array(p.capacity).fill(0));
  }
  free(prover: number, h: number): number {
    let n = 0;
    for (const b of this.busyUntil[prover]) if (b <= h) n++;
    return n;
  }
  /** Occupies one free slot of `prover` until block `until` (free again at `until`). */
  occupy(prover: number, h: number, until: number): void {
    const s = this.busyUntil[prover];
    const i = s.findIndex((b) => b <= h);
    if (i < 0) throw new Error(`prover ${prover} has no free slot at ${h}`);
    s[i] = until;
  }
}

export class Calendar<E> {
  private readonly byBlock = new Map<number, E[]>();
  at(block: number, e: E): void {
    const list = this.byBlock.get(block);
    if (list) list.push(e);
    else this.byBlock.set(block, [e]);
  }
  take(block: number): E[] {
    const list = this.byBlock.get(block) ?? [];
    this.byBlock.delete(block);
    return list;
  }
}

/** Open jobs in FIFO (job id) order. */
export class OpenQueue {
  private ids: number[] = [];
  private dirty = false;
  add(id: number): void {
    this.ids.push(id);
    this.dirty = true;
  }
  remove(id: number): void {
    const i = this.ids.indexOf(id);
    if (i >= 0) this.ids.splice(i, 1);
  }
  list(): number[] {
    if (this.dirty) {
      this.ids.sort((a, b) => a - b);
      this.dirty = false;
    }
    return [...this.ids];
  }
}
