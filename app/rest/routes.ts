/**
 * REST routes compiled from the `google.api.http` annotations in proto/ (read from app/grpc/descriptors.binpb, the
 * same descriptor set gRPC reflection serves): one route per annotated method and per additional binding. Nothing
 * here is hand-written per method: adding an annotation to a served method adds its REST route and its OpenAPI entry.
 */
import { readFileSync } from 'node:fs';
import {
  createFileRegistry, fromBinary, getExtension, hasExtension, type DescMessage, type DescMethod, type DescService,
  type FileRegistry,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { DESCRIPTORS_FILE } from '../grpc/server.js';

/** One segment of a path template: a literal, or a variable bound to a (possibly dotted) request field. */
export type Segment = { literal: string } | { field: string; rest: boolean };

export interface Route {
  /** HTTP method, upper case. */
  readonly verb: string;
  /** The template as annotated, e.g. '/cosmos/bank/v1beta1/denoms_metadata/{denom=**}'. */
  readonly template: string;
  readonly segments: readonly Segment[];
  /** '' (no body), '*' (the whole request) or a request field name. */
  readonly body: string;
  /** gRPC path of the method, '/cosmos.bank.v1beta1.Query/Balance'. */
  readonly grpcPath: string;
  readonly method: DescMethod;
  readonly service: DescService;
  readonly input: DescMessage;
  readonly output: DescMessage;
}

interface HttpRuleLike {
  pattern: { case: string | undefined; value?: unknown };
  body: string;
  additionalBindings: HttpRuleLike[];
}

/** Parses '/a/{b}/c/{d=**}' into segments. Throws on templates this gateway does not support. */
export function parseTemplate(template: string): Segment[] {
  const path = template.replace(/:[A-Za-z0-9_]+$/, ''); // a trailing ':verb' is not used by our routes
  if (!path.startsWith('/')) throw new Error(`path template '${template}' must start with '/'`);
  return path.slice(1).split('/').map((s): Segment => {
    const v = /^\{([A-Za-z_][A-Za-z0-9_.]*)(?:=(\*\*|\*))?\}$/.exec(s);
    if (v) return { field: v[1]!, rest: v[2] === '**' };
    if (/[{}*]/.test(s)) throw new Error(`unsupported path template segment '${s}' in '${template}'`);
    return { literal: s };
  });
}

/** Matches a request path (already split, each segment percent-decoded) against a route; variables or undefined. */
export function matchRoute(route: Route, parts: readonly string[]): Map<string, string> | undefined {
  const vars = new Map<string, string>();
  let i = 0;
  for (let s = 0; s < route.segments.length; s++) {
    const seg = route.segments[s]!;
    if ('literal' in seg) {
      if (parts[i] !== seg.literal) return undefined;
      i++;
    } else if (seg.rest) {
      // '**' takes every remaining segment but those the template still needs after it.
      const after = route.segments.length - s - 1;
      const take = parts.length - i - after;
      if (take < 1) return undefined;
      vars.set(seg.field, parts.slice(i, i + take).join('/'));
      i += take;
    } else {
      const p = parts[i];
      if (p === undefined || p === '') return undefined;
      vars.set(seg.field, p);
      i++;
    }
  }
  return i === parts.length ? vars : undefined;
}

export interface RouteTable {
  readonly registry: FileRegistry;
  readonly routes: readonly Route[];
}

let cached: RouteTable | undefined;

/** The registry of every proto/ type and the routes of every annotated method (cached; descriptors are static). */
export function loadRoutes(): RouteTable {
  if (cached) return cached;
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(DESCRIPTORS_FILE)));
  const ext = registry.getExtension('google.api.http');
  if (!ext) throw new Error(`${DESCRIPTORS_FILE} lacks google/api/annotations.proto: regenerate it (app/grpc/build-descriptors.ts)`);
  const routes: Route[] = [];
  const files = [...registry.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const file of files) {
    for (const service of file.services) {
      for (const method of service.methods) {
        const opts = method.proto.options;
        if (!opts || !hasExtension(opts, ext)) continue;
        const rule = getExtension(opts, ext) as unknown as HttpRuleLike;
        for (const r of [rule, ...rule.additionalBindings]) {
          const { case: verb, value } = r.pattern;
          if (verb === undefined || verb === 'custom' || typeof value !== 'string') continue;
          routes.push({
            verb: verb.toUpperCase(), template: value, segments: parseTemplate(value), body: r.body,
            grpcPath: `/${service.typeName}/${method.name}`, method, service, input: method.input, output: method.output,
          });
        }
      }
    }
  }
  // More literal segments first, so '/txs/block/{height}' wins over '/txs/{hash}' style overlaps.
  const literals = (r: Route): number => r.segments.filter((s) => 'literal' in s).length;
  routes.sort((a, b) => literals(b) - literals(a) || b.segments.length - a.segments.length);
  cached = { registry, routes };
  return cached;
}
