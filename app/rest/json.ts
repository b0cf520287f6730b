/**
 * The JSON the Cosmos SDK's gRPC-gateway speaks, from descriptors (@bufbuild/protobuf):
 *
 * - responses: proto3 JSON as gogo's jsonpb emits it with the SDK's settings (`OrigName: true, EmitDefaults: true`):
 *   proto field names (snake_case), 64-bit integers as strings, enums by name, bytes base64, Anys with '@type',
 *   every field present — zero scalars as 0/""/false, empty lists as [], and (as Go's nil pointers and nil byte
 *   slices) unset message fields and empty bytes as null; unset oneof members are left out.
 * - requests: path variables and query parameters ('pagination.limit=10', repeated fields by repeating the
 *   parameter, enums by name or number, bytes in standard or URL-safe base64) and, for `body: "*"`, the JSON body.
 */
import {
  fromJson, toBinary, toJson, ScalarType, fromBinary, type DescField, type DescMessage, type JsonObject,
  type JsonValue, type Registry,
} from '@bufbuild/protobuf';

export class RequestError extends Error {}

/** Finds a field by proto name or JSON name. */
function fieldOf(desc: DescMessage, name: string): DescField | undefined {
  return desc.fields.find((f) => f.name === name) ?? desc.fields.find((f) => f.jsonName === name);
}

/** Converts one query/path string to the JSON value fromJson expects for a scalar or enum field. */
function scalarValue(field: DescField, raw: string, path: string): JsonValue {
  const kind = field.fieldKind === 'list' ? field.listKind : field.fieldKind;
  if (kind === 'enum') return /^-?[0-9]+$/.test(raw) ? Number(raw) : raw;
  if (kind !== 'scalar') throw new RequestError(`parameter '${path}' names a message field; set its fields ('${path}.<field>')`);
  const scalar = field.scalar!;
  switch (scalar) {
    case ScalarType.BOOL:
      if (raw === 'true' || raw === '1' || raw === '') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new RequestError(`parameter '${path}': '${raw}' is not a boolean (true or false)`);
    case ScalarType.BYTES: {
      const b64 = raw.replace(/-/g, '+').replace(/_/g, '/');
      return b64 + '='.repeat((4 - (b64.length % 4)) % 4);
    }
    case ScalarType.STRING:
      return raw;
    case ScalarType.DOUBLE: case ScalarType.FLOAT:
      return raw;
    default:
      if (!/^-?[0-9]+$/.test(raw)) throw new RequestError(`parameter '${path}': '${raw}' is not an integer`);
      return raw;
  }
}

/**
 * Sets the (dotted) field path `path` of the JSON request object `obj` (of message `desc`) to `raw`. Unknown names
 * are ignored, as the SDK's gateway does; a repeated field collects every occurrence.
 */
export function setParam(desc: DescMessage, obj: JsonObject, path: string, raw: string): void {
  const names = path.split('.');
  let d = desc;
  let o = obj;
  for (let i = 0; i < names.length; i++) {
    const f = fieldOf(d, names[i]!);
    if (!f) return;
    const last = i === names.length - 1;
    if (!last) {
      if (f.fieldKind !== 'message') throw new RequestError(`parameter '${path}': '${names[i]}' is not a message field`);
      const next = (o[f.name] ??= {}) as JsonObject;
      o = next;
      d = f.message;
      continue;
    }
    if (f.fieldKind === 'map') throw new RequestError(`parameter '${path}': map fields cannot be set from the query string`);
    const v = scalarValue(f, raw, path);
    if (f.fieldKind === 'list') ((o[f.name] ??= []) as JsonValue[]).push(v);
    else o[f.name] = v;
  }
}

/** Builds the request bytes from a JSON object (proto or JSON field names) of message `desc`. */
export function encodeRequest(desc: DescMessage, obj: JsonObject, registry: Registry): Uint8Array {
  let msg;
  try {
    msg = fromJson(desc, obj, { registry });
  } catch (e) {
    throw new RequestError((e as Error).message);
  }
  return toBinary(desc, msg);
}

/** Decodes response bytes of message `desc` to gateway JSON (see the file comment). */
export function decodeResponse(desc: DescMessage, bytes: Uint8Array, registry: Registry): JsonValue {
  const msg = fromBinary(desc, bytes, { readUnknownFields: false });
  const json = toJson(desc, msg, { registry, alwaysEmitImplicit: true, useProtoFieldName: true });
  return gogoDefaults(desc, json, registry);
}

/** Well-known types whose JSON is not an object of their fields. */
const WKT_SPECIAL = new Set([
  'google.protobuf.Timestamp', 'google.protobuf.Duration', 'google.protobuf.FieldMask', 'google.protobuf.Struct',
  'google.protobuf.Value', 'google.protobuf.ListValue', 'google.protobuf.Empty', 'google.protobuf.DoubleValue',
  'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value', 'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue', 'google.protobuf.BytesValue',
]);

/** Adds gogo jsonpb's EmitDefaults shape to protobuf-es JSON: null for unset messages and empty bytes. */
export function gogoDefaults(desc: DescMessage, json: JsonValue, registry: Registry): JsonValue {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  if (WKT_SPECIAL.has(desc.typeName)) return json;
  if (desc.typeName === 'google.protobuf.Any') {
    const t = json['@type'];
    if (typeof t !== 'string') return json;
    const inner = registry.getMessage(t.slice(t.lastIndexOf('/') + 1));
    if (!inner) return json;
    if (WKT_SPECIAL.has(inner.typeName)) return json;
    const { '@type': type, ...rest } = json;
    return { '@type': type!, ...(gogoDefaults(inner, rest, registry) as JsonObject) };
  }
  const out: JsonObject = {};
  for (const f of desc.fields) {
    const v = json[f.name];
    if (v === undefined) {
      if (f.oneof) continue;
      if (f.fieldKind === 'message') out[f.name] = null;
      else if (f.fieldKind === 'scalar' && f.scalar === ScalarType.BYTES) out[f.name] = null;
      continue;
    }
    if (f.fieldKind === 'scalar' && f.scalar === ScalarType.BYTES && v === '') out[f.name] = null;
    else if (f.fieldKind === 'message') out[f.name] = gogoDefaults(f.message, v, registry);
    else if (f.fieldKind === 'list' && f.listKind === 'message' && Array.isArray(v)) out[f.name] = v.map((x) => gogoDefaults(f.message, x, registry));
    else if (f.fieldKind === 'map' && f.mapKind === 'message' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out[f.name] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, gogoDefaults(f.message, x, registry)]));
    } else out[f.name] = v;
  }
  return out;
}
