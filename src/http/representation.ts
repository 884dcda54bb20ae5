import type { TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { prefersXml, type Representation } from '../core/representation.js';
import { AppError } from '../shared/errors.js';
import { decodeUtf8Body } from './json-body.js';
import { parseXmlBody, toXmlDocument, xmlMediaTypes } from './xml.js';

declare module 'fastify' {
  interface FastifyRequest {
    fieldSelection: FieldTree | null;
  }
}

// ---------- ?fields= ----------

export type FieldTree = Map<string, FieldTree | true>;
const maxFieldPaths = 100;
/** Kept whatever was selected: the resource id, and the dry-run members of a write response. */
const alwaysKept = ['id', 'dry_run', 'changes'];

function unwrap(schema: TSchema): TSchema {
  const branches: TSchema[] = schema.anyOf ?? schema.oneOf ?? [schema];
  const useful = branches.filter((branch) => branch.type !== 'null');
  const structured = useful.find((branch) => branch.type === 'object' || branch.type === 'array');
  let result = structured ?? useful[0] ?? schema;
  while (result.type === 'array' && result.items) result = unwrap(result.items as TSchema);
  return result;
}

/** The member schema of `name` inside `schema`, or null when there is no such member. */
function memberSchema(schema: TSchema, name: string): TSchema | null {
  const target = unwrap(schema);
  if (target.type !== 'object') return null;
  const properties = (target.properties ?? {}) as Record<string, TSchema>;
  if (Object.hasOwn(properties, name)) return properties[name];
  if (target.patternProperties) return Object.values(target.patternProperties as Record<string, TSchema>)[0];
  // An open object described without members (e.g. a free-form snapshot): any member may be named.
  if (!target.properties && target.additionalProperties === true) return target;
  return null;
}

/** Parses and checks `?fields=`; an unknown field is a 400 that names it. */
export function parseFieldSelection(raw: string | undefined, schema: TSchema): FieldTree | null {
  if (raw === undefined) return null;
  const paths = raw.split(',').map((path) => path.trim()).filter((path) => path.length > 0);
  const invalid = (detail: string) => new AppError('validation-error', detail, { errors: [{ pointer: '/query/fields', detail }] });
  if (paths.length === 0) throw invalid('fields is empty: name at least one field, e.g. fields=number,total');
  if (paths.length > maxFieldPaths) throw invalid(`at most ${maxFieldPaths} fields may be named`);
  const tree: FieldTree = new Map();
  for (const path of paths) {
    let node = tree;
    let current: TSchema | null = schema;
    const segments = path.split('.');
    segments.forEach((segment, index) => {
      current = current === null ? null : memberSchema(current, segment);
      if (current === null) throw invalid(`unknown field "${path}"`);
      const last = index === segments.length - 1;
      const existing = node.get(segment);
      if (last) node.set(segment, true);
      else if (existing === true) return; // the whole member is already selected
      else {
        const child: FieldTree = existing ?? new Map();
        node.set(segment, child);
        node = child;
      }
    });
  }
  return tree;
}

export function selectFields(value: unknown, tree: FieldTree): unknown {
  if (Array.isArray(value)) return value.map((item) => selectFields(item, tree));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const key of alwaysKept) if (key in source) result[key] = source[key];
  for (const [key, sub] of tree) {
    if (!(key in source)) continue;
    result[key] = sub === true ? source[key] : selectFields(source[key], sub);
  }
  return result;
}

// ---------- content negotiation ----------

/** A problem document as application/problem+xml (RFC 7807 appendix A namespace). */
export function problemAsXml(problem: Record<string, unknown>): string {
  return toXmlDocument('problem', problem, { xmlns: 'urn:ietf:rfc:7807' });
}

// ---------- hooks ----------

function representationOf(request: FastifyRequest): Representation | undefined {
  return request.routeOptions.config?.representation;
}

/** Installs the XML body parser and the hooks that apply `representation` route configs. */
export function installRepresentations(app: App) {
  app.decorateRequest('fieldSelection', null);

  app.addContentTypeParser(xmlMediaTypes, { parseAs: 'buffer' }, (request, body, done) => {
    const representation = representationOf(request);
    if (!representation) {
      done(new AppError('unsupported-media-type', 'This resource takes JSON bodies only.'), undefined);
      return;
    }
    try {
      // Strict UTF-8 as for JSON: invalid bytes are a 400, never silently replaced.
      done(null, parseXmlBody(decodeUtf8Body(body as Buffer), representation.xmlRoot, request.routeOptions.schema?.body as Record<string, unknown> | undefined));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  // Checked before the handler runs, so a write with an unknown field name changes nothing.
  app.addHook('preHandler', async (request) => {
    const representation = representationOf(request);
    if (!representation) return;
    const query = request.query as { fields?: unknown } | undefined;
    const raw = query?.fields;
    if (raw !== undefined && typeof raw !== 'string') {
      throw new AppError('validation-error', 'fields must be given once, comma-separated.', { errors: [{ pointer: '/query/fields', detail: 'must be a string' }] });
    }
    request.fieldSelection = parseFieldSelection(raw, representation.schema);
  });

  app.addHook('preSerialization', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const representation = representationOf(request);
    if (!representation || reply.statusCode >= 300 || payload === null || typeof payload !== 'object') return payload;
    let body = payload as Record<string, unknown>;
    const selection = request.fieldSelection;
    const isList = representation.listXmlRoot !== undefined && Array.isArray(body.data);
    if (selection) {
      body = isList ? { ...body, data: (body.data as unknown[]).map((item) => selectFields(item, selection)) } : (selectFields(body, selection) as Record<string, unknown>);
      reply.serializer(JSON.stringify); // the route's compiled serializer would insist on the members left out
    }
    if (prefersXml(request.headers.accept)) {
      const root = isList ? (representation.listXmlRoot as string) : representation.xmlRoot;
      // Elements in the response schema's order, as JSON has them (an object's own key order differs
      // between a freshly written invoice and one read back, so a GET and a write would disagree).
      if (!selection) body = JSON.parse(reply.serializeInput(body, String(reply.statusCode)) as string) as Record<string, unknown>;
      reply.type('application/xml; charset=utf-8');
      reply.serializer((value: unknown) => toXmlDocument(root, value));
    }
    reply.header('vary', 'Accept');
    return body;
  });
}
