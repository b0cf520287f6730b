/**
 * The CometBFT event query language subset used by tx_search and subscriptions:
 *   condition (AND condition)*   with   condition := key op operand | key EXISTS
 *   op := = | < | <= | > | >= | CONTAINS ; operand := 'string' | number | TIME rfc3339 | DATE yyyy-mm-dd
 * Keys are composite event keys `type.attribute` (plus the reserved tm.event, tx.hash, tx.height).
 * Matching is over a flattened map key -> values: a condition holds when any value of its key satisfies it.
 */

export type Op = '=' | '<' | '<=' | '>' | '>=' | 'CONTAINS' | 'EXISTS';
export type Operand =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'time'; value: number }
  | { kind: 'none' };

export interface Condition { key: string; op: Op; operand: Operand }
export interface Query { text: string; conditions: Condition[] }

export class QueryParseError extends Error {}

const NUMBER_RE = /^-?[0-9]+(\.[0-9]+)?$/;

export function parseQuery(text: string): Query {
  const src = text;
  let i = 0;
  const conditions: Condition[] = [];
  const skipWs = () => { while (i < src.length && /\s/.test(src[i]!)) i++; };
  const fail = (msg: string): never => { throw new QueryParseError(`failed to parse query ${JSON.stringify(text)}: ${msg} at position ${i}`); };

  skipWs();
  if (i >= src.length) fail('empty query');
  for (;;) {
    skipWs();
    const keyStart = i;
    while (i < src.length && /[A-Za-z0-9_.\-/]/.test(src[i]!)) i++;
    const key = src.slice(keyStart, i);
    if (key.length === 0 || !/^[A-Za-z_]/.test(key)) fail('expected an event key');
    skipWs();
    let op: Op;
    if (src.startsWith('<=', i)) { op = '<='; i += 2; }
    else if (src.startsWith('>=', i)) { op = '>='; i += 2; }
    else if (src[i] === '=') { op = '='; i += 1; }
    else if (src[i] === '<') { op = '<'; i += 1; }
    else if (src[i] === '>') { op = '>'; i += 1; }
    else if (/^CONTAINS\b/.test(src.slice(i))) { op = 'CONTAINS'; i += 8; }
    else if (/^EXISTS\b/.test(src.slice(i))) { op = 'EXISTS'; i += 6; }
    else return fail('expected an operator (=, <, <=, >, >=, CONTAINS, EXISTS)');
    skipWs();
    let operand: Operand = { kind: 'none' };
    if (op !== 'EXISTS') {
      if (src[i] === "'") {
        const end = src.indexOf("'", i + 1);
        if (end < 0) fail('unterminated string');
        operand = { kind: 'string', value: src.slice(i + 1, end) };
        i = end + 1;
      } else if (src.startsWith('TIME ', i) || src.startsWith('DATE ', i)) {
        const isDate = src.startsWith('DATE', i);
        i += 5;
        const start = i;
        while (i < src.length && !/\s/.test(src[i]!)) i++;
        const raw = src.slice(start, i);
        const ms = Date.parse(isDate ? `${raw}T00:00:00Z` : raw);
        if (!Number.isFinite(ms)) fail(`invalid ${isDate ? 'date' : 'time'} ${raw}`);
        operand = { kind: 'time', value: ms };
      } else {
        const start = i;
        while (i < src.length && /[0-9.\-]/.test(src[i]!)) i++;
        const raw = src.slice(start, i);
        if (!NUMBER_RE.test(raw)) fail('expected a quoted string, a number, TIME or DATE');
        operand = { kind: 'number', value: raw };
      }
      if (op === 'CONTAINS' && operand.kind !== 'string') fail('CONTAINS needs a string operand');
    }
    conditions.push({ key, op, operand });
    skipWs();
    if (i >= src.length) break;
    if (/^AND\b/.test(src.slice(i))) { i += 3; continue; }
    fail('expected AND');
  }
  return { text, conditions };
}

/** Compares two decimal strings exactly (no floats): -1, 0, 1. */
export function compareDecimal(a: string, b: string): number {
  const parse = (s: string) => {
    const neg = s.startsWith('-');
    const body = neg ? s.slice(1) : s;
    const [ip = '0', fp = ''] = body.split('.');
    return { neg, ip: ip.replace(/^0+(?=\d)/, ''), fp: fp.replace(/0+$/, '') };
  };
  const x = parse(a);
  const y = parse(b);
  const xz = /^0*$/.test(x.ip) && x.fp === '';
  const yz = /^0*$/.test(y.ip) && y.fp === '';
  if (xz && yz) return 0;
  const xneg = x.neg && !xz;
  const yneg = y.neg && !yz;
  if (xneg !== yneg) return xneg ? -1 : 1;
  let mag: number;
  if (x.ip.length !== y.ip.length) mag = x.ip.length < y.ip.length ? -1 : 1;
  else if (x.ip !== y.ip) mag = x.ip < y.ip ? -1 : 1;
  else {
    const n = Math.max(x.fp.length, y.fp.length);
    const xf = x.fp.padEnd(n, '0');
    const yf = y.fp.padEnd(n, '0');
    mag = xf === yf ? 0 : xf < yf ? -1 : 1;
  }
  return xneg ? -mag : mag;
}

function cmpHolds(op: Op, c: number): boolean {
  switch (op) {
    case '=': return c === 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
    default: return false;
  }
}

function numberIn(value: string): string | null {
  if (NUMBER_RE.test(value)) return value;
  const m = /-?[0-9]+(\.[0-9]+)?/.exec(value);
  return m ? m[0] : null;
}

export function conditionHolds(cond: Condition, value: string): boolean {
  const { op, operand } = cond;
  switch (operand.kind) {
    case 'none': return true;
    case 'string':
      if (op === 'CONTAINS') return value.includes(operand.value);
      if (op === '=') return value === operand.value;
      return cmpHolds(op, value === operand.value ? 0 : value < operand.value ? -1 : 1);
    case 'number': {
      const n = numberIn(value);
      return n !== null && cmpHolds(op, compareDecimal(n, operand.value));
    }
    case 'time': {
      const ms = Date.parse(value);
      return Number.isFinite(ms) && cmpHolds(op, ms === operand.value ? 0 : ms < operand.value ? -1 : 1);
    }
  }
}

export type EventMap = ReadonlyMap<string, readonly string[]>;

export function matches(q: Query, events: EventMap): boolean {
  return q.conditions.every((c) => {
    const values = events.get(c.key);
    if (!values || values.length === 0) return false;
    return values.some((v) => conditionHolds(c, v));
  });
}

/** Adds `type.key -> value` for every attribute (optionally only indexed ones). */
export function addAbciEvents(
  map: Map<string, string[]>,
  events: readonly { type: string; attributes: readonly { key: string; value: string; index: boolean }[] }[],
  indexedOnly: boolean,
): void {
  for (const ev of events) {
    if (ev.type.length === 0) continue;
    for (const a of ev.attributes) {
      if (indexedOnly && !a.index) continue;
      const k = `${ev.type}.${a.key}`;
      const list = map.get(k);
      if (list) list.push(a.value); else map.set(k, [a.value]);
    }
  }
}
