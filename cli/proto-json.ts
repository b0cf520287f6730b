/**
 * The CLI's JSON convention for protobuf messages (docs/cli.md "JSON output"): the REST gateway's proto3 JSON
 * (app/rest/json.ts — proto field names in snake_case, every field present, empty lists as [], unset messages and
 * empty bytes as null, 64-bit integers as strings, enums by name) except bytes, which are upper-case hex like every
 * other byte string the CLI prints (hashes, circuit ids).
 */
import { ScalarType, type DescMessage, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createFileRegistry, fromBinary, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { decodeResponse } from '../app/rest/json.js';

// The descriptor set gRPC reflection and REST use (app/grpc/descriptors.binpb), read directly: importing app/grpc
// would load grpc-js into every CLI command.
let cached: FileRegistry | undefined;
function loadRegistry(): FileRegistry {
  cached ??= createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(fileURLToPath(new URL('../app/grpc/descriptors.binpb', import.meta.url)))));
  return cached;
}

const b64ToHex = (v: JsonValue): JsonValue => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex').toUpperCase() : v);

function hexBytes(desc: DescMessage, json: JsonValue): JsonValue {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || desc.typeName.startsWith('google.protobuf.')) return json;
  const o = json as JsonObject;
  for (const f of desc.fields) {
    const v = o[f.name];
    if (v === undefined || v === null) continue;
    if (f.fieldKind === 'scalar' && f.scalar === ScalarType.BYTES) o[f.name] = b64ToHex(v);
    else if (f.fieldKind === 'list' && f.listKind === 'scalar' && f.scalar === ScalarType.BYTES && Array.isArray(v)) o[f.name] = v.map(b64ToHex);
    else if (f.fieldKind === 'message') o[f.name] = hexBytes(f.message, v);
    else if (f.fieldKind === 'list' && f.listKind === 'message' && Array.isArray(v)) o[f.name] = v.map((x) => hexBytes(f.message, x));
  }
  return o;
}

/** A ts-proto message (with its codec) as CLI JSON; `typeName` is its full protobuf name. */
export function protoJson<T>(typeName: string, codec: { encode(m: T): { finish(): Uint8Array } }, msg: T): JsonObject {
  const registry = loadRegistry();
  const desc = registry.getMessage(typeName);
  if (!desc) throw new Error(`unknown protobuf type ${typeName}`);
  return hexBytes(desc, decodeResponse(desc, codec.encode(msg).finish(), registry)) as JsonObject;
}
