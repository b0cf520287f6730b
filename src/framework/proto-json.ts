/**
 * Genesis files use the Cosmos SDK's snake_case proto field names, while ts-proto's toJSON/fromJSON use camelCase:
 * these convert a proto3 JSON value's keys recursively (an Any's '@type' is kept as it is).
 */
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function rekey(x: unknown, f: (s: string) => string): unknown {
  if (Array.isArray(x)) return x.map((y) => rekey(y, f));
  if (x !== null && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([k, v]) => [k.startsWith('@') ? k : f(k), rekey(v, f)]));
  }
  return x;
}

/** camelCase keys (ts-proto's toJSON) to snake_case (SDK genesis JSON). */
export const snakeJsonKeys = (x: unknown): unknown => rekey(x, snake);
/** snake_case keys (SDK genesis JSON) to camelCase (ts-proto's fromJSON). */
export const camelJsonKeys = (x: unknown): unknown => rekey(x, camel);

/**
 * The keys of the JSON object `o` that name no field of `fields` (a message as ts-proto's fromPartial({}) builds it:
 * every field, camelCase), in either spelling, sorted. proto3 JSON parsers skip unknown fields, so a misspelt genesis
 * param would silently read as 0 — for most params "off".
 */
export function unknownJsonFields(o: Record<string, unknown>, fields: object): string[] {
  const known = new Set(Object.keys(fields));
  return Object.keys(o).filter((k) => !known.has(camel(k))).sort();
}

/** A JSON object (not null, not an array): what a genesis section or its params must be. */
export function isJsonObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
