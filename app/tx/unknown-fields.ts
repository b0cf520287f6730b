/**
 * Unknown-field rejection for transactions, as the Cosmos SDK's tx decoder does it (x/auth/tx/decoder.go with
 * codec/unknownproto):
 *   - TxRaw: ADR-027 layout (fields in ascending order, length prefixes as short as possible) and no unknown field
 *     at all. Signatures do not cover TxRaw, so anything a relayer could add there would change the tx hash while
 *     the signatures still verify (hash malleability). We are slightly stricter than the SDK: body_bytes and
 *     auth_info_bytes may appear at most once (a repeated bytes field silently keeps the last copy) and tags must be
 *     minimal varints.
 *   - TxBody: recursively, including the messages inside `Any`, no unknown *critical* field. Unknown fields whose
 *     number has bit 11 set (number & 1024, the SDK's "non-critical" range) are allowed, as in the SDK.
 *   - AuthInfo: recursively (public keys inside `Any` included), no unknown field at all.
 * Known fields must come with the wire type their declared type encodes to (the SDK's canEncodeType).
 *
 * The field tables come from app/grpc/descriptors.binpb (the FileDescriptorSet of proto/, imports included), so a
 * new message type is covered as soon as its .proto is; an `Any` whose type is not in that set is refused, as the
 * SDK's interface registry refuses to resolve it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileRegistry, fromBinary, ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { ErrTxDecode } from '../../src/framework/errors.js';

const DESCRIPTORS = join(dirname(fileURLToPath(import.meta.url)), '..', 'grpc', 'descriptors.binpb');

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;

/** Bit 11 of a field number marks a field as non-critical (the SDK's unknownproto bit11NonCritical). */
const NON_CRITICAL_BIT = 1024;
const ANY = 'google.protobuf.Any';
const MAX_DEPTH = 64;

interface FieldRule {
  /** Wire types this field may arrive with. */
  readonly wires: number;
  /** Full name of the message type to descend into (length-delimited payload), or undefined for scalars. */
  readonly message?: string;
}
type Schema = ReadonlyMap<number, FieldRule>;

const bit = (w: number): number => 1 << w;

function scalarWire(t: ScalarType): number {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return I64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return I32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return LEN;
    default:
      return VARINT;
  }
}

function ruleOf(f: DescField): FieldRule {
  switch (f.fieldKind) {
    case 'scalar':
      return { wires: bit(scalarWire(f.scalar)) };
    case 'enum':
      return { wires: bit(VARINT) };
    case 'message':
      return { wires: bit(LEN), message: f.message.typeName };
    case 'map':
      return { wires: bit(LEN) };
    case 'list':
      if (f.listKind === 'message') return { wires: bit(LEN), message: f.message.typeName };
      // Repeated numbers may come packed (one length-delimited run) or one by one.
      if (f.listKind === 'enum') return { wires: bit(VARINT) | bit(LEN) };
      return { wires: bit(scalarWire(f.scalar)) | bit(LEN) };
  }
}

let schemas: Map<string, Schema> | undefined;

function loadSchemas(): Map<string, Schema> {
  if (schemas) return schemas;
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(DESCRIPTORS));
  const out = new Map<string, Schema>();
  for (const t of createFileRegistry(set)) {
    if (t.kind !== 'message') continue;
    const m = t as DescMessage;
    out.set(m.typeName, new Map(m.fields.map((f) => [f.number, ruleOf(f)])));
  }
  for (const need of ['cosmos.tx.v1beta1.TxBody', 'cosmos.tx.v1beta1.AuthInfo', ANY]) {
    if (!out.has(need)) throw new Error(`${DESCRIPTORS} has no descriptor for ${need}; rebuild it (app/grpc/build-descriptors.ts)`);
  }
  schemas = out;
  return out;
}

/** Whether a message type (full name, no leading dot) is known to the checker; tests use it to catch stale descriptors. */
export function hasDescriptor(typeName: string): boolean {
  return loadSchemas().has(typeName);
}

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }
  /** An unsigned varint (up to 64 bits) as a number when it fits, with the count of bytes it took. */
  varint(): { value: number; size: number; minimal: boolean } {
    let value = 0;
    let mul = 1;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      value += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) {
        const size = this.pos - start;
        // A multi-byte varint is minimal iff its last byte is non-zero.
        return { value, size, minimal: size === 1 || b !== 0 };
      }
    }
    throw new Error('varint longer than 10 bytes');
  }
  skip(n: number): void {
    if (n < 0 || n > this.end - this.pos) throw new Error('field runs past the end of its message');
    this.pos += n;
  }
}

/** Skips one field's value (groups included, as protowire.ConsumeFieldValue does). */
function skipValue(r: Reader, field: number, wire: number, depth: number): void {
  switch (wire) {
    case VARINT:
      r.varint();
      return;
    case I64:
      r.skip(8);
      return;
    case I32:
      r.skip(4);
      return;
    case LEN:
      r.skip(r.varint().value);
      return;
    case SGROUP: {
      if (depth > MAX_DEPTH) throw new Error('groups nested too deeply');
      for (;;) {
        const tag = r.varint().value;
        const f = Math.floor(tag / 8);
        const w = tag % 8;
        if (w === EGROUP) {
          if (f !== field) throw new Error(`group ${field} closed by end-group ${f}`);
          return;
        }
        skipValue(r, f, w, depth + 1);
      }
    }
    default:
      throw new Error(`invalid wire type ${wire}`);
  }
}

/** The type_url and value of an encoded Any (itself checked strictly for unknown fields). */
function readAny(buf: Uint8Array, start: number, end: number, allowNonCritical: boolean, path: string, depth: number): { typeUrl: string; value: [number, number] } {
  checkMessage(buf, start, end, ANY, allowNonCritical, path, depth + 1, true);
  const r = new Reader(buf, start, end);
  let typeUrl = '';
  let value: [number, number] = [0, 0];
  while (r.pos < r.end) {
    const tag = r.varint().value;
    const f = Math.floor(tag / 8);
    const len = r.varint().value;
    if (f === 1) typeUrl = new TextDecoder().decode(buf.subarray(r.pos, r.pos + len));
    else if (f === 2) value = [r.pos, r.pos + len];
    r.skip(len);
  }
  return { typeUrl, value };
}

/**
 * Throws (plain Error, the caller wraps it) at the first unknown or mistyped field of `typeName` in buf[start, end),
 * descending into nested messages and resolving `Any`.
 */
function checkMessage(buf: Uint8Array, start: number, end: number, typeName: string, allowNonCritical: boolean, path: string, depth: number, anyShell = false): void {
  if (depth > MAX_DEPTH) throw new Error(`${path}: messages nested more than ${MAX_DEPTH} deep`);
  const schema = loadSchemas().get(typeName);
  if (!schema) throw new Error(`${path}: no descriptor for ${typeName}`);
  const r = new Reader(buf, start, end);
  while (r.pos < r.end) {
    const tag = r.varint().value;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new Error(`${path}: field number 0`);
    const rule = schema.get(field);
    if (rule === undefined) {
      if (!allowNonCritical || (field & NON_CRITICAL_BIT) === 0) {
        throw new Error(`${path}: unknown field ${field} (wire type ${wire}) in ${typeName}`);
      }
      skipValue(r, field, wire, depth);
      continue;
    }
    if ((rule.wires & bit(wire)) === 0) throw new Error(`${path}: field ${field} of ${typeName} has wire type ${wire}, which its declared type cannot have`);
    if (wire !== LEN || rule.message === undefined) {
      skipValue(r, field, wire, depth);
      continue;
    }
    const len = r.varint().value;
    const from = r.pos;
    r.skip(len);
    const sub = `${path}.${field}`;
    if (rule.message === ANY && !anyShell) {
      const any = readAny(buf, from, from + len, allowNonCritical, sub, depth);
      const name = any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
      if (!loadSchemas().has(name)) throw new Error(`${sub}: unable to resolve type URL ${JSON.stringify(any.typeUrl)}`);
      checkMessage(buf, any.value[0], any.value[1], name, allowNonCritical, sub, depth + 1);
    } else {
      checkMessage(buf, from, from + len, rule.message, allowNonCritical, sub, depth + 1);
    }
  }
}

/**
 * TxRaw in ADR-027 form: fields 1 (body_bytes), 2 (auth_info_bytes), 3 (signatures, repeated) in ascending order,
 * 1 and 2 at most once, all length-delimited with minimal tags and length prefixes, nothing else.
 */
function checkTxRaw(bytes: Uint8Array): void {
  const r = new Reader(bytes, 0, bytes.length);
  let prev = 0;
  while (r.pos < r.end) {
    const t = r.varint();
    if (!t.minimal) throw new Error('TxRaw: a tag is not a minimal varint');
    const field = Math.floor(t.value / 8);
    const wire = t.value % 8;
    if (field < 1 || field > 3) throw new Error(`unknown field ${field} (wire type ${wire}) in cosmos.tx.v1beta1.TxRaw`);
    if (wire !== LEN) throw new Error(`TxRaw field ${field} has wire type ${wire}; all its fields are length-delimited`);
    if (field < prev) throw new Error(`TxRaw must follow ADR-027: field ${field} after field ${prev}`);
    if (field === prev && field !== 3) throw new Error(`TxRaw field ${field} appears more than once`);
    prev = field;
    const len = r.varint();
    if (!len.minimal) throw new Error(`TxRaw field ${field}: length prefix is not as short as possible`);
    r.skip(len.value);
  }
}

/**
 * Throws ErrTxDecode when the tx carries a field the chain would not interpret (see the file comment). Call it on
 * bytes that decoded; it re-reads only the wire structure.
 */
export function rejectUnknownFields(txBytes: Uint8Array, bodyBytes: Uint8Array, authInfoBytes: Uint8Array): void {
  try {
    checkTxRaw(txBytes);
    checkMessage(bodyBytes, 0, bodyBytes.length, 'cosmos.tx.v1beta1.TxBody', true, 'body', 0);
    checkMessage(authInfoBytes, 0, authInfoBytes.length, 'cosmos.tx.v1beta1.AuthInfo', false, 'auth_info', 0);
  } catch (e) {
    throw ErrTxDecode(`tx has fields this chain does not accept: ${(e as Error).message}`);
  }
}
