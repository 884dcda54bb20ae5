import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { requestContext, type Credential, type RequestContext } from '../../core/request-context.js';
import type { Db } from '../../db/database.js';
import type { ConnectionService } from '../../modules/connections/service.js';
import type { InvoiceService } from '../../modules/invoices/service.js';
import { decodeUtf8Body, parseJsonBody } from '../../http/json-body.js';
import { XMLBuilder } from 'fast-xml-parser';
import { AppError } from '../../shared/errors.js';
import type { Invoice } from '../../modules/invoices/domain/model.js';
import { changeReason, installDialectErrors, replayInvoiceAnswer, type DialectErrorReply } from '../common.js';
import { assertValidWrite } from '../dialect-kit.js';
import type { FieldPaths } from '../field-paths.js';
import { MidnightErrorResponse, MidnightInvoiceUpdateRequest, MidnightStringResponse } from './schemas.js';
import { midnightRefusal, toInsertCommand, toMidnightError, toMidnightInvoice, toWriteCommand } from './translate.js';

/**
 * PRC / Midnight, mounted at /compat/midnight (docs/dialects/midnight.md):
 *   POST v1/Generic/InvoiceUpdate   update by Guid; JSON or XML body; answers a bare string
 *   POST v1/Generic/InvoiceInsert   create a draft from the same body; answers the new invoice's Guid
 *   GET  v1/Generic/InvoiceSelect   read by Guid (?Guid=…), in InvoiceUpdateRequest's shape
 * Auth: `Authorization` carries the API key (`Bearer <key>` or bare), `MISKEY` a connection id of the tenant.
 */
const tags = ['dialect: PRC / Midnight'];
const jsonMediaTypes = ['application/json', 'text/json'];
const xmlMediaTypes = ['application/xml', 'text/xml'];
const allMediaTypes = [...jsonMediaTypes, ...xmlMediaTypes];

const MidnightHeaders = Type.Object({
  authorization: Type.Optional(Type.String({ maxLength: 200, description: 'The API key: `Bearer <key>` or the bare key.' })),
  miskey: Type.Optional(Type.String({ maxLength: 100, description: 'MIS Key: the id of one of the tenant\'s connections (POST /v1/connections).' })),
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

/** Midnight answers in the request's format: XML when the body (or Accept, when it names one of them) is XML. */
function answersInXml(request: FastifyRequest): boolean {
  const accept = String(request.headers.accept ?? '').toLowerCase();
  const acceptsXml = /(application|text)\/xml/.test(accept);
  const acceptsJson = /(application|text)\/json/.test(accept);
  if (acceptsXml !== acceptsJson) return acceptsXml;
  const contentType = String(request.headers['content-type'] ?? '').toLowerCase();
  return xmlMediaTypes.some((type) => contentType.startsWith(type));
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// XmlSerializer style, as Midnight's samples show it: null members are left out, a list is the
// member's element holding one element per item, named by the item's type.
const xmlBuilder = new XMLBuilder({ format: false, suppressEmptyNode: false, processEntities: true });
const xmlItemNames: Record<string, string> = { InvoiceLine: 'InvoiceLineSelectResponse', InvoiceLineItem: 'InvoiceLineItemSelectResponse' };

function xmlNode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(xmlNode);
  if (value === null || typeof value !== 'object') return value;
  const node: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
    if (member === null || member === undefined) continue;
    node[key] = Array.isArray(member) ? { [xmlItemNames[key] ?? 'item']: member.map(xmlNode) } : xmlNode(member);
  }
  return node;
}

function midnightXml(rootName: string, value: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="utf-8"?>${xmlBuilder.build({ [rootName]: xmlNode(value) })}`;
}

/** A bare string answer: JSON `"…"` or XML `<string>…</string>`. */
function sendString(request: FastifyRequest, reply: FastifyReply, value: string, status = 200) {
  if (answersInXml(request)) {
    return reply.status(status).type('application/xml; charset=utf-8').send(`<?xml version="1.0" encoding="utf-8"?><string>${escapeXml(value)}</string>`);
  }
  return reply.status(status).type('application/json; charset=utf-8').send(JSON.stringify(value));
}

/** A refusal in Midnight's shape and the request's format (the core problem's pointers renamed to Midnight's fields). */
function renderMidnightError(problem: AppError, request: FastifyRequest): DialectErrorReply {
  const { status, body } = toMidnightError(problem, pathsOf.get(request));
  if (answersInXml(request)) return { status, body: midnightXml('Error', { Message: body.Message }), contentType: 'application/xml; charset=utf-8' };
  return { status, body };
}

/** Translation context of the request being answered, so a core problem can name Midnight's fields. */
const pathsOf = new WeakMap<FastifyRequest, FieldPaths>();

/** `Authorization: Bearer <key>` or the bare key, as Midnight clients send it. */
export function midnightCredential(request: FastifyRequest): Credential | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const value = header.trim();
  const key = /^Bearer\s+(\S+)$/i.exec(value)?.[1] ?? (/^\S+$/.test(value) ? value : undefined);
  return key ? { apiKey: key } : null;
}

export interface MidnightDeps {
  invoices: InvoiceService;
  connections: ConnectionService;
  db: Db;
}

export async function midnightRoutes(app: App, { invoices, connections }: MidnightDeps) {

  // .NET clients send JSON as text/json too; same strict reader as application/json.
  app.addContentTypeParser('text/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(decodeUtf8Body(body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  installDialectErrors(app, renderMidnightError);

  /** The core authenticates the key (route config); MISKEY must then name a connection of the key's tenant. */
  const access = (scope: 'invoices:read' | 'invoices:write') => ({ scope, credential: midnightCredential });
  // Both writes answer the invoice's Guid, in the request's format.
  const replayCommitted = replayInvoiceAnswer((invoice, request, reply) => sendString(request, reply, invoice.guid));
  const requireMisKey = async (request: FastifyRequest) => {
    const misKey = request.headers.miskey;
    if (typeof misKey !== 'string' || misKey.trim() === '') {
      throw new AppError('unauthorized', 'Send MISKEY: the id of one of your connections (POST /v1/connections).');
    }
    try {
      await connections.require(requestContext(request), misKey.trim());
    } catch (error) {
      // Unknown or another tenant's connection: the credentials are wrong, not the resource missing.
      if (error instanceof AppError && error.problemType === 'not-found') throw new AppError('unauthorized', 'The MISKEY is not a connection of this account.');
      throw error;
    }
  };

  async function findByGuid(ctx: RequestContext, guid: string | null | undefined): Promise<Invoice> {
    if (!guid) throw midnightRefusal('validation-error', 'The Guid field is required.', 'Guid');
    try {
      return await invoices.get(ctx, guid.trim());
    } catch (error) {
      if (error instanceof AppError && error.problemType === 'not-found') throw new AppError('not-found', `No invoice with Guid '${guid}' was found.`);
      throw error;
    }
  }

  app.post('/v1/Generic/InvoiceUpdate', {
    onRequest: requireMisKey,
    config: { ...access('invoices:write'), replayCommitted, representation: { schema: MidnightInvoiceUpdateRequest, xmlRoot: 'InvoiceUpdateRequest' } },
    schema: { operationId: 'midnightInvoiceUpdate', 
      tags,
      summary: 'PRC / Midnight: update an invoice by Guid (JSON or XML); answers a bare string',
      headers: MidnightHeaders,
      body: MidnightInvoiceUpdateRequest,
      consumes: allMediaTypes,
      produces: allMediaTypes,
      response: { 200: MidnightStringResponse, '4xx': MidnightErrorResponse },
    },
  }, async (request, reply) => {
    const ctx = requestContext(request);
    const reason = changeReason(request);
    // Lines are matched against the invoice as read; If-Match makes a concurrent change a retry, never a lost update.
    for (let attempt = 1; ; attempt++) {
      const current = await findByGuid(ctx, request.body.Guid);
      const { write, clientTotals, paths } = toWriteCommand(request.body, current);
      pathsOf.set(request, paths);
      try {
        await invoices.update(ctx, current.id, assertValidWrite(write), 'patch', { ifMatch: [current.version], reason, clientTotals });
        return sendString(request, reply, current.guid);
      } catch (error) {
        const raced = error instanceof AppError && error.problemType === 'precondition-failed';
        if (!raced || attempt >= 3) throw error;
      }
    }
  });

  app.post('/v1/Generic/InvoiceInsert', {
    onRequest: requireMisKey,
    config: { ...access('invoices:write'), replayCommitted, representation: { schema: MidnightInvoiceUpdateRequest, xmlRoot: 'InvoiceUpdateRequest' } },
    schema: { operationId: 'midnightInvoiceInsert', 
      tags,
      summary: 'PRC / Midnight: create a draft invoice from an InvoiceUpdateRequest body (JSON or XML); answers its Guid',
      headers: MidnightHeaders,
      body: MidnightInvoiceUpdateRequest,
      consumes: allMediaTypes,
      produces: allMediaTypes,
      response: { 200: MidnightStringResponse, '4xx': MidnightErrorResponse },
    },
  }, async (request, reply) => {
    const { write, clientTotals, paths } = toInsertCommand(request.body);
    pathsOf.set(request, paths);
    const result = await invoices.create(requestContext(request), assertValidWrite(write), { reason: changeReason(request), clientTotals });
    return sendString(request, reply, result.invoice.guid);
  });

  app.get('/v1/Generic/InvoiceSelect', {
    onRequest: requireMisKey,
    config: access('invoices:read'),
    schema: { operationId: 'midnightInvoiceSelect', 
      tags,
      summary: 'PRC / Midnight: read an invoice by Guid, in the InvoiceUpdateRequest shape (JSON or XML by Accept)',
      headers: MidnightHeaders,
      querystring: Type.Object({ Guid: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
      produces: allMediaTypes,
    },
  }, async (request, reply) => {
    const invoice = toMidnightInvoice(await findByGuid(requestContext(request), request.query.Guid));
    if (answersInXml(request)) return reply.type('application/xml; charset=utf-8').send(midnightXml('InvoiceUpdateRequest', invoice));
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(invoice));
  });
}
