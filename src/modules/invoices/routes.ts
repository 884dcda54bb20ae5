import { Type } from '@sinclair/typebox';
import { requestContext, type App, type AppDeps } from '../../http/app.js';
import { etagFor, parseIfMatch, type WriteOptions } from '../../http/request-context.js';
import { IfMatchHeaders } from '../../http/schema-helpers.js';
import { todayDate } from '../../shared/time.js';
import type { Invoice, InvoiceStatus } from './domain/model.js';
import { derivePaymentStatus } from './domain/payment-status.js';
import { InvoiceIdParams, InvoiceListQuery, InvoiceLookupQuery, InvoiceSchema, InvoiceWriteSchema } from './schemas.js';
import { exactlyOneKey } from './domain/lookup.js';
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

/** If-Match and friends, plus `Prefer: return=minimal` (answer 204 with the ETag, no body). */
export const InvoiceWriteHeaders = Type.Object({
  ...IfMatchHeaders.properties,
  prefer: Type.Optional(Type.String({ maxLength: 200, description: 'RFC 7240. `return=minimal`: answer 204 with the ETag and `Preference-Applied: return=minimal`, no body.' })),
});

/** The 204 a write answers under `Prefer: return=minimal`. */
export const MinimalReturnResponse = Type.Null({ description: 'Written; the new version is in the ETag (Prefer: return=minimal).' });

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

/** `?require_status=draft,open` (validated by the route schema) as the update's state precondition. */
function requiredStatus(request: FastifyRequest): InvoiceStatus[] | undefined {
  const raw = (request.query as { require_status?: string } | undefined)?.require_status;
  return raw === undefined ? undefined : (raw.split(',') as InvoiceStatus[]);
}

/** True when a `Prefer` header (RFC 7240) asks for `return=minimal`. */
export function prefersMinimalReturn(prefer: string | string[] | undefined): boolean {
  const values = Array.isArray(prefer) ? prefer : prefer === undefined ? [] : [prefer];
  return values.some((value) =>
    value.split(',').some((preference) => {
      const [name, token] = (preference.split(';')[0] ?? '').split('=').map((part) => part.trim().toLowerCase());
      return name === 'return' && token?.replace(/^"(.*)"$/, '$1') === 'minimal';
    }),
  );
}

/**
 * Every invoice write answers the same way: the invoice, its ETag, and for dry runs the diff.
 * An update or transition (200) sent with `Prefer: return=minimal` answers 204 with the ETag
 * and `Preference-Applied: return=minimal`, no body (a dry run always answers with its body).
 */
export function sendWriteResult(reply: FastifyReply, result: WriteResult, options: WriteOptions, status = 200) {
  if (status === 200 && !options.dryRun && prefersMinimalReturn(reply.request.headers.prefer)) {
    reply.header('etag', etagFor(result.invoice.version));
    reply.header('preference-applied', 'return=minimal');
    return reply.status(204).send();
  }
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
  const writeSchema = (summary: string, headers: typeof InvoiceWriteHeaders | typeof IfMatchHeaders = InvoiceWriteHeaders) => ({
    tags,
    summary,
    headers,
    body: InvoiceWriteSchema,
    querystring: WriteQuery,
    ...xmlContentTypes,
  });

  app.post('/invoices', {
    config: { scope: 'invoices:write', representation: invoiceRepresentation },
    schema: { ...writeSchema('Create a draft invoice', IfMatchHeaders), response: { 201: InvoiceSchema } },
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

  app.get('/invoices/lookup', {
    config: { scope: 'invoices:read', representation: invoiceRepresentation },
    schema: { tags, summary: 'Find one invoice by exactly one of id, guid, serial, number or reference', querystring: InvoiceLookupQuery, response: { 200: InvoiceSchema }, produces: xmlContentTypes.produces },
  }, async (request, reply) => {
    const { fields: _fields, ...candidates } = request.query;
    const invoice = await invoices.resolve(requestContext(request), exactlyOneKey(candidates, (kind) => `/query/${kind}`));
    reply.header('etag', etagFor(invoice.version));
    return presentInvoice(invoice);
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
      response: { 200: InvoiceSchema, 204: MinimalReturnResponse },
    },
  }, async (request, reply) => {
    const options = writeOptions(request);
    const result = await invoices.update(requestContext(request), request.params.id, request.body, 'patch', { ...options, requireStatus: requiredStatus(request) });
    return sendWriteResult(reply, result, options);
  });

  app.put('/invoices/:id', {
    config: { scope: 'invoices:write', representation: invoiceRepresentation },
    schema: {
      ...writeSchema('Replace the editable representation of an invoice: absent fields are reset'),
      params: InvoiceIdParams,
      response: { 200: InvoiceSchema, 204: MinimalReturnResponse },
    },
  }, async (request, reply) => {
    const options = writeOptions(request);
    const result = await invoices.update(requestContext(request), request.params.id, request.body, 'put', { ...options, requireStatus: requiredStatus(request) });
    return sendWriteResult(reply, result, options);
  });
}
