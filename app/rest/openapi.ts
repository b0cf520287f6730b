/**
 * An OpenAPI 3.0 document of the REST gateway, generated from the same descriptors and annotations as the routes:
 * one operation per route, parameters from path variables and the remaining (flattened) request fields, and a
 * schema per message in the gateway's JSON shape (proto field names, 64-bit integers as strings, enums by name,
 * bytes as base64 strings).
 */
import { ScalarType, type DescField, type DescMessage, type Registry } from '@bufbuild/protobuf';
import type { Route } from './routes.js';

type Schema = Record<string, unknown>;

const WKT_SCHEMAS: Record<string, Schema> = {
  'google.protobuf.Timestamp': { type: 'string', format: 'date-time' },
  'google.protobuf.Duration': { type: 'string', example: '1.5s' },
  'google.protobuf.Any': { type: 'object', properties: { '@type': { type: 'string' } }, additionalProperties: true },
};

function scalarSchema(t: ScalarType): Schema {
  switch (t) {
    case ScalarType.BOOL: return { type: 'boolean' };
    case ScalarType.STRING: return { type: 'string' };
    case ScalarType.BYTES: return { type: 'string', format: 'byte' };
    case ScalarType.DOUBLE: return { type: 'number', format: 'double' };
    case ScalarType.FLOAT: return { type: 'number', format: 'float' };
    case ScalarType.INT64: case ScalarType.SINT64: case ScalarType.SFIXED64: return { type: 'string', format: 'int64' };
    case ScalarType.UINT64: case ScalarType.FIXED64: return { type: 'string', format: 'uint64' };
    case ScalarType.UINT32: case ScalarType.FIXED32: return { type: 'integer', format: 'int64', minimum: 0 };
    default: return { type: 'integer', format: 'int32' };
  }
}

const ref = (m: DescMessage): Schema => (WKT_SCHEMAS[m.typeName] ? WKT_SCHEMAS[m.typeName]! : { $ref: `#/components/schemas/${m.typeName}` });

export function buildOpenApi(routes: readonly Route[], _registry: Registry): Schema {
  const schemas: Record<string, Schema> = {};
  const want = (m: DescMessage): void => {
    if (WKT_SCHEMAS[m.typeName] || schemas[m.typeName]) return;
    const properties: Record<string, Schema> = {};
    schemas[m.typeName] = { type: 'object', properties };
    for (const f of m.fields) properties[f.name] = fieldSchema(f);
  };
  const single = (f: DescField, kind: 'scalar' | 'enum' | 'message'): Schema => {
    if (kind === 'scalar') return scalarSchema(f.scalar!);
    if (kind === 'enum') return { type: 'string', enum: f.enum!.values.map((v) => v.name) };
    want(f.message!);
    return ref(f.message!);
  };
  const fieldSchema = (f: DescField): Schema => {
    if (f.fieldKind === 'list') return { type: 'array', items: single(f, f.listKind) };
    if (f.fieldKind === 'map') return { type: 'object', additionalProperties: single(f, f.mapKind) };
    return single(f, f.fieldKind);
  };

  const paths: Record<string, Record<string, Schema>> = {};
  for (const r of routes) {
    want(r.output);
    const pathVars = r.segments.flatMap((s) => ('field' in s ? [s.field] : []));
    const params: Schema[] = pathVars.map((v) => ({ name: v, in: 'path', required: true, schema: { type: 'string' } }));
    if (r.body === '') {
      const walk = (m: DescMessage, prefix: string, depth: number): void => {
        for (const f of m.fields) {
          const name = prefix + f.name;
          if (pathVars.includes(name)) continue;
          if (f.fieldKind === 'message' && depth < 2 && !WKT_SCHEMAS[f.message.typeName]) walk(f.message, name + '.', depth + 1);
          else if (f.fieldKind === 'scalar' || f.fieldKind === 'enum') params.push({ name, in: 'query', required: false, schema: fieldSchema(f) });
          else if (f.fieldKind === 'list' && f.listKind !== 'message') params.push({ name, in: 'query', required: false, schema: fieldSchema(f), explode: true });
        }
      };
      walk(r.input, '', 0);
    }
    const path = '/' + r.segments.map((s) => ('literal' in s ? s.literal : `{${s.field}}`)).join('/');
    const op: Schema = {
      operationId: `${r.service.typeName.replace(/\./g, '_')}_${r.method.name}`,
      tags: [r.service.typeName],
      summary: `${r.service.typeName}/${r.method.name}`,
      parameters: [...params, { name: 'x-cosmos-block-height', in: 'header', required: false, schema: { type: 'string' }, description: 'answer at this height (an error if the node does not keep it)' }],
      responses: {
        200: { description: 'OK', content: { 'application/json': { schema: ref(r.output) } } },
        default: { description: 'error (gRPC status code and message)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Status' } } } },
      },
    };
    if (r.body !== '') {
      want(r.input);
      op.requestBody = { required: true, content: { 'application/json': { schema: ref(r.input) } } };
    }
    (paths[path] ??= {})[r.verb.toLowerCase()] = op;
  }
  schemas.Status = { type: 'object', properties: { code: { type: 'integer' }, message: { type: 'string' }, details: { type: 'array', items: WKT_SCHEMAS['google.protobuf.Any'] } } };
  const sortedSchemas = Object.fromEntries(Object.keys(schemas).sort().map((k) => [k, schemas[k]]));
  const sortedPaths = Object.fromEntries(Object.keys(paths).sort().map((k) => [k, paths[k]]));
  return {
    openapi: '3.0.3',
    info: { title: 'proofbook REST API', version: '1', description: 'Cosmos SDK gRPC-gateway routes and proofbook module queries, generated from the google.api.http annotations in proto/.' },
    paths: sortedPaths,
    components: { schemas: sortedSchemas },
  };
}
