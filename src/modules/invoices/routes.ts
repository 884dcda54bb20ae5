import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import { etagFor, ifNoneMatchHits, requestContext } from '../../core/request-context.js';
import { FieldsQuery, prefersXml, xmlContentTypes } from '../../core/representation.js';
import { IfMatchHeaders } from '../../core/schema-helpers.js';
import { notFound } from '../../shared/errors.js';
import type { HistoryService } from '../history/service.js';
import type { InvoiceStatus } from './domain/model.js';
import { exactlyOneKey } from './domain/lookup.js';
import { invoiceListRepresentation, invoiceRepresentation } from './representation.js';
import { InvoiceIdParams, InvoiceListQuery, InvoiceLookupQuery, InvoiceSchema, InvoiceWriteSchema } from './schemas.js';
import { invoiceListFilterFromQuery } from './list-filter.js';
import type { InvoiceService } from './service.js';
import type { InvoiceReadCache } from './read-cache.js';
import { InvoiceWriteHeaders, MinimalReturnResponse, presentInvoice, sendWriteResult, writeOptions } from './write-answer.js';

const tags = ['invoices'];

const InvoiceVersionQuery = Type.Object(
  { version: Type.Optional(Type.Integer({ minimum: 1, description: 'Return the invoice as it was at this version (replayed from its history).' })) },
  { additionalProperties: true },
);

const WriteQuery = Type.Object(
  {
    dry_run: Type.Optional(Type.Boolean({ description: 'Return the result and the diff, write nothing.' })),
    require_status: Type.Optional(Type.String({
      pattern: '^(draft|open|paid|void)(,(draft|open|paid|void))*$',
      description: 'Change the invoice only if its status is one of these (comma-separated); otherwise 422 status-precondition, nothing written.',
    })),
    ...FieldsQuery,
  },
  { additionalProperties: true },
);

/** `?require_status=draft,open` (validated by the route schema) as the update's state precondition. */
function requiredStatus(request: FastifyRequest): InvoiceStatus[] | undefined {
  const raw = (request.query as { require_status?: string } | undefined)?.require_status;
  return raw === undefined ? undefined : (raw.split(',') as InvoiceStatus[]);
}

export async function invoiceRoutes(app: App, { invoices, history, readCache }: { invoices: InvoiceService; history: HistoryService; readCache?: InvoiceReadCache }) {
  const writeSchema = (operationId: string, summary: string, headers: typeof InvoiceWriteHeaders | typeof IfMatchHeaders = InvoiceWriteHeaders) => ({
    tags,
    operationId,
    summary,
    headers,
    body: InvoiceWriteSchema,
    querystring: WriteQuery,
    ...xmlContentTypes,
  });

  app.post('/invoices', {
    config: { scope: 'invoices:write', representation: invoiceRepresentation },
    schema: { ...writeSchema('createInvoice', 'Create a draft invoice', IfMatchHeaders), response: { 201: InvoiceSchema } },
  }, async (request, reply) => {
    const options = writeOptions(request);
    const result = await invoices.create(requestContext(request), request.body, options);
    if (!options.dryRun) reply.header('location', `/v1/invoices/${result.invoice.id}`);
    return sendWriteResult(reply, result, options, options.dryRun ? 200 : 201);
  });

  app.get('/invoices', {
    config: { scope: 'invoices:read', representation: invoiceListRepresentation },
    schema: { tags, operationId: 'listInvoices', summary: 'List invoices (newest first unless sorted), filtered, cursor-paginated', querystring: InvoiceListQuery, produces: xmlContentTypes.produces },
  }, async (request) => {
    const page = await invoices.list(requestContext(request), invoiceListFilterFromQuery(request.query));
    const today = request.server.clock.today();
    return { ...page, data: page.data.map((invoice) => presentInvoice(invoice, today)) };
  });

  app.get('/invoices/lookup', {
    config: { scope: 'invoices:read', representation: invoiceRepresentation },
    schema: { operationId: 'lookupInvoice', tags, summary: 'Find one invoice by exactly one of id, guid, serial, number or reference', querystring: InvoiceLookupQuery, response: { 200: InvoiceSchema }, produces: xmlContentTypes.produces },
  }, async (request, reply) => {
    const { fields: _fields, ...candidates } = request.query;
    const invoice = await invoices.resolve(requestContext(request), exactlyOneKey(candidates, (kind) => `/query/${kind}`));
    reply.header('etag', etagFor(invoice.version));
    return presentInvoice(invoice, request.server.clock.today());
  });

  app.get('/invoices/:id', {
    config: { scope: 'invoices:read', representation: invoiceRepresentation },
    schema: { tags, operationId: 'getInvoice', summary: 'Get an invoice (or, with ?version=N, the invoice exactly as it was at version N)', params: InvoiceIdParams, querystring: Type.Intersect([InvoiceVersionQuery, Type.Object(FieldsQuery)]), response: { 200: InvoiceSchema }, produces: xmlContentTypes.produces },
  }, async (request, reply) => {
    const ctx = requestContext(request);
    const version = request.query.version;
    // The default representation (JSON, whole, current version) may come from the cache of rendered answers.
    if (readCache && version === undefined && request.fieldSelection === null && !prefersXml(request.headers.accept)) {
      const id = await invoices.resolveId(ctx, request.params.id);
      const today = request.server.clock.today();
      const cached = await readCache.lookup(ctx.auth.tenantId, id, today);
      if (cached?.found === false) throw notFound('invoice', request.params.id);
      let entry = cached?.entry;
      if (!entry) {
        const invoice = await invoices.get(ctx, id);
        // The route's own serializer: the same bytes the uncached path sends.
        entry = { version: invoice.version, today, body: Buffer.from(reply.serializeInput(presentInvoice(invoice, today), '200') as string) };
        readCache.remember(ctx.auth.tenantId, id, entry);
      }
      const etag = etagFor(entry.version);
      reply.header('etag', etag);
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return (reply as FastifyReply).status(304).send();
      // As the representation hooks answer JSON (they do not see a body sent as bytes).
      return (reply as FastifyReply).header('vary', 'Accept').type('application/json; charset=utf-8').send(entry.body);
    }
    const current = await invoices.get(ctx, request.params.id);
    const invoice = version === undefined || version === current.version ? current : await history.atVersion(ctx, current, version);
    const etag = etagFor(invoice.version);
    reply.header('etag', etag);
    if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return (reply as FastifyReply).status(304).send();
    return presentInvoice(invoice, request.server.clock.today());
  });

  app.patch('/invoices/:id', {
    config: { scope: 'invoices:write', representation: invoiceRepresentation, idempotencyInTransaction: true },
    schema: {
      ...writeSchema('updateInvoice', 'Update an invoice: absent fields unchanged, null clears; lines as a full set or as operations'),
      params: InvoiceIdParams,
      response: { 200: InvoiceSchema, 204: MinimalReturnResponse },
    },
  }, async (request, reply) => {
    const options = writeOptions(request);
    const result = await invoices.update(requestContext(request), request.params.id, request.body, 'patch', { ...options, requireStatus: requiredStatus(request) });
    return sendWriteResult(reply, result, options);
  });

  app.put('/invoices/:id', {
    config: { scope: 'invoices:write', representation: invoiceRepresentation, idempotencyInTransaction: true },
    schema: {
      ...writeSchema('replaceInvoice', 'Replace the editable representation of an invoice: absent fields are reset'),
      params: InvoiceIdParams,
      response: { 200: InvoiceSchema, 204: MinimalReturnResponse },
    },
  }, async (request, reply) => {
    const options = writeOptions(request);
    const result = await invoices.update(requestContext(request), request.params.id, request.body, 'put', { ...options, requireStatus: requiredStatus(request) });
    return sendWriteResult(reply, result, options);
  });
}
