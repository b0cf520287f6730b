/** Display formatting: amounts (bigint-exact), heights, durations, statuses, addresses. */
import type { Coin, RequestStatus } from './api/types.js';

const group = (s: string) => s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export function int(v: string | number | bigint | undefined | null): string {
  if (v === undefined || v === null || v === '') return '—';
  return group(String(v));
}

/** Base-denom amount: "u" denoms with 6 decimals are shown in whole units from 1,000,000 up (exact, no floats). */
export function amount(v: string | bigint | undefined | null, denom = 'uproof'): string {
  if (v === undefined || v === null || v === '') return '—';
  const n = BigInt(v);
  if (denom.startsWith('u') && (n >= 1_000_000n || n <= -1_000_000n)) {
    const whole = n / 1_000_000n;
    const frac = (n < 0n ? -n : n) % 1_000_000n;
    const f = frac === 0n ? '' : `.${frac.toString().padStart(6, '0').replace(/0+$/, '')}`;
    return `${group(whole.toString())}${f} ${denom.slice(1).toUpperCase()}`;
  }
  return `${group(n.toString())} ${denom}`;
}

export function coins(list: Coin[] | undefined | null): string {
  if (!list || list.length === 0) return '0';
  return list.map((c) => amount(c.amount, c.denom)).join(', ');
}

export function coinAmount(list: Coin[] | undefined | null, denom: string): bigint {
  return BigInt(list?.find((c) => c.denom === denom)?.amount ?? '0');
}

export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 120) return `${s.toFixed(0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function short(addr: string, keep = 10): string {
  return addr.length > keep * 2 + 1 ? `${addr.slice(0, keep)}…${addr.slice(-6)}` : addr;
}

export function statusName(s: RequestStatus | string): string {
  return String(s).replace(/^REQUEST_STATUS_/, '');
}

export function pct(n: number | null): string {
  return n === null || !Number.isFinite(n) ? '—' : `${(n * 100).toFixed(n >= 0.995 || n === 0 ? 0 : 1)} %`;
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function b64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** The fee a request offers at `height`: linear from min_fee at submission to max_fee after ramp_blocks (as the chain computes it). */
export function feeAt(minFee: string, maxFee: string, submitted: bigint, ramp: bigint, height: bigint): bigint {
  const lo = BigInt(minFee || '0');
  const hi = BigInt(maxFee || '0');
  if (ramp === 0n || height >= submitted + ramp) return hi;
  if (height <= submitted) return lo;
  return lo + ((hi - lo) * (height - submitted)) / ramp;
}
