import { Type } from '@sinclair/typebox';
import { requestContext, type App, type AppDeps } from '../../http/app.js';
import { etagFor, parseIfMatch, type WriteOptions } from '../../http/request-context.js';
import { IfMatchHeaders } from '../../http/schema-helpers.js';
import { todayDate } from '../../shared/time.js';
import type { Invoice } from './domain/model.js';
import { derivePaymentStatus } from './domain/payment-status.js';
import { InvoiceIdParams, InvoiceListQuery, InvoiceSchema, InvoiceWriteSchema } from './schemas.js';
import type { WriteResult } from './service.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FieldsQuery, xmlContentTypes } from '../../http/representation.js';
import { invoiceListRepresentation, invoiceRepresentation } from './representation.js';

const tags = ['invoices'];

/** The response body of an invoice: the stored model plus what is derived on read. */
export function presentInvoice(invoice: Invoice) {
  return { ...invoice, payment_status: derivePaymentStatus(invoice, todayDate()) };
}

const InvoiceVersionQuery = Type.Object(
  { version: Type.Optional(Type.Integer({ minimum: 1, description: 'Return the invoice as it was at this version (replayed from its history).' })) },
  { additionalProperties: true },
);

const WriteQuery = Type.Object(
  { dry_run: Type.Optional(Type.Boolean({ description: 'Return the result and the diff, write nothing.' })), ...FieldsQuery },
  { additionalProperties: true },
);

export function writeOptions(request: FastifyRequest): WriteOptions {
  const headers = request.headers;
  const reason = headers['x-change-reason'];
  const query = request.query as { dry_run?: boolean } | undefined;
  return {
    ifMatch: parseIfMatch(typeof headers['if-match'] === 'string' ? headers['if-match'] : undefined),
    reason: typeof reason === 'string' ? reason : null,
    dryRun: query?.dry_run === true,
  };
}

/** Every invoice write answers the same way: the invoice, its ETag, and for dry runs the diff. */
export function sendWriteResult(reply: FastifyReply, result: WriteResult, options: WriteOptions, status = 200) {
  const body: Record<string, unknown> = presentInvoice(result.invoice);
  if (options.dryRun) {
    reply.header('folio-dry-run', 'true');
    body.dry_run = true;
    body.changes = result.changes;
  } else {
    reply.header('etag', etagFor(result.invoice.version));
  }
  return reply.status(status).send(body);
}

export async function invoiceRoutes(app: App, { services }: AppDeps) {
  const invoices = services.invoices;
  const writeSchema = (summary: string) => ({
    tags,
    summary,
    headers: IfMatchHeaders,
    body: InvoiceWriteSchema,
    querystring: WriteQuery,
    ...xmlContentTypes,
  });

  app.post('/invoices', {
    config: { scope: 'invoices:write', representation: invoiceRepresentation },
    schema: { ...writeSchema('Create a draft invoice'), response: { 201: InvoiceSchema } },
  }, async (request, reply) => {
    const options = writeOptions(request);
    const result = await invoices.create(requestContext(request), request.body, options);
    if (!options.dryRun) reply.header('location', `/v1/invoices/${result.invoice.id}`);
    return sendWriteResult(reply, result, options, options.dryRun ? 200 : 201);
  });

  app.get('/invoices', {
    config: { scope: 'invoices:read', representation: invoiceListRepresentation },
    schema: { tags, summary: 'List invoices, newest first; filter by status, customer, number, reference, updated_since', querystring: InvoiceListQuery, produces: xmlContentTypes.produces },
  }, async (request) => {
    const page = await invoices.list(requestContext(request), request.query);
    return { ...page, data: page.data.map(presentInvoice) };
  });

  app.get('/invoices/:id', {
    config: { scope: 'invoices:read', representation: invoiceRepresentation },
    schema: { tags, summary: 'Get an invoice (or, with ?version=N, the invoice exactly as it was at version N)', params: InvoiceIdParams, querystring: Type.Intersect([InvoiceVersionQuery, Type.Object(FieldsQuery)]), response: { 200: InvoiceSchema }, produces: xmlContentTypes.produces },
  }, async (request, reply) => {
    const ctx = requestContext(request);
    const current = await invoices.get(ctx, request.params.id);
    const version = request.query.version;
    const invoice = version === undefined || version === current.version ? current : await services.history.atVersion(ctx, current, version);
    const etag = etagFor(invoice.version);
    reply.header('etag', etag);
    if (request.headers['if-none-match'] === etag) return (reply as FastifyReply).status(304).send();
    return presentInvoice(invoice);
  });

  app.patch('/invoices/:id', {
    config: { scope: 'invoices:write', representation: invoiceRepresentation },
    schema: {
      ...writeSchema('Update an invoice: absent fields unchanged, null clears; lines as a full set or as operations'),
      params: InvoiceIdParams,
      response: { 200: InvoiceSchema },
    },
  }, async (request, reply) => {
    const options = writeOptions(request);
    const result = await invoices.update(requestContext(request), request.params.id, request.body, 'patch', options);
    return sendWriteResult(reply, result, options);
  });

  app.put('/invoices/:id', {
    config: { scope: 'invoices:write', representation: invoiceRepresentation },
    schema: {
      ...writeSchema('Replace the editable representation of an invoice: absent fields are reset'),
      params: InvoiceIdParams,
      response: { 200: InvoiceSchema },
    },
  }, async (request, reply) => {
    const options = writeOptions(request);
    const result = await invoices.update(requestContext(request), request.params.id, request.body, 'put', options);
    return sendWriteResult(reply, result, options);
  });
}
