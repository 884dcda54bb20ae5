import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { Type, type TSchema } from '@sinclair/typebox';
import { FieldErrorSchema, Nullable, ProblemSchema } from '../core/schema-helpers.js';
import { CreditNoteCreateSchema, CreditNoteSchema } from '../modules/credit-notes/schemas.js';
import { CustomerCreateSchema, CustomerPatchSchema, CustomerSchema } from '../modules/customers/schemas.js';
import { EventSchema } from '../modules/events/routes.js';
import { HistoryEntrySchema } from '../modules/history/routes.js';
import { EditabilitySchema } from '../modules/invoices/lifecycle-routes.js';
import { AttachmentOutput, BillToSchema, InvoiceSchema, InvoiceWriteSchema, LineInputSchema, LineOperationSchema, LineOutput } from '../modules/invoices/schemas.js';
import { PaymentCreateSchema, PaymentSchema, RefundSchema } from '../modules/payments/schemas.js';
import { SettingsPatchSchema, SettingsSchema } from '../modules/tenants/settings.js';
import { EndpointCreate, EndpointSchema } from '../modules/webhooks/routes.js';
import { problemTypes } from '../shared/errors.js';

/**
 * The OpenAPI 3.1 document, made for code generators: an operationId on every operation (set on
 * the route: `schema.operationId`), named component schemas referenced with $ref, the problem
 * responses of every operation, examples, the upload's multipart body, servers, tags.
 *
 * Only the document is shaped here: `transform` gets a copy of each route's schema for the
 * document alone, so validation and serialization stay exactly as the routes declare them.
 * Named schemas are found by identity (the TypeBox object a route uses) and lifted into
 * components.schemas; a route that reuses `InvoiceSchema` gets `$ref: Invoice`.
 */

const Page = (name: string, item: TSchema) =>
  Type.Object(
    { object: Type.Literal('list'), data: Type.Array(item), has_more: Type.Boolean(), next_cursor: Nullable(Type.String({ description: 'Pass as ?cursor= for the next page.' })) },
    { title: name },
  );

/** Component name → the schema object routes use. */
const namedSchemas: Record<string, TSchema> = {
  Invoice: InvoiceSchema,
  InvoiceLine: LineOutput,
  InvoiceWrite: InvoiceWriteSchema,
  InvoiceLineInput: LineInputSchema,
  InvoiceLineOperation: LineOperationSchema,
  BillTo: BillToSchema,
  Attachment: AttachmentOutput,
  Editability: EditabilitySchema,
  HistoryEntry: HistoryEntrySchema,
  Problem: ProblemSchema,
  ProblemFieldError: FieldErrorSchema,
  Customer: CustomerSchema,
  CustomerCreate: CustomerCreateSchema,
  CustomerUpdate: CustomerPatchSchema,
  Payment: PaymentSchema,
  PaymentCreate: PaymentCreateSchema,
  Refund: RefundSchema,
  CreditNote: CreditNoteSchema,
  CreditNoteCreate: CreditNoteCreateSchema,
  Event: EventSchema,
  WebhookEndpoint: EndpointSchema,
  WebhookEndpointCreate: EndpointCreate,
  TenantSettings: SettingsSchema,
  TenantSettingsUpdate: SettingsPatchSchema,
};
const nameOf = new Map<unknown, string>(Object.entries(namedSchemas).map(([name, schema]) => [schema, name]));

const noContent = (description: string) => Type.Null({ description });

/** Success answers of routes that declare none (their handlers send freely); for the document only. */
const documentedResponses: Record<string, Record<number, unknown>> = {
  listInvoices: { 200: Page('InvoiceList', InvoiceSchema) },
  listCustomers: { 200: Page('CustomerList', CustomerSchema) },
  listPayments: { 200: Page('PaymentList', PaymentSchema) },
  listCreditNotes: { 200: Page('CreditNoteList', CreditNoteSchema) },
  listWebhookEndpoints: { 200: Page('WebhookEndpointList', EndpointSchema) },
  listWebhookDeliveries: { 200: Page('WebhookDeliveryList', Type.Object({ id: Type.String(), status: Type.String(), attempts: Type.Integer() }, { additionalProperties: true })) },
  deleteInvoice: { 204: noContent('Deleted (the audit trail stays).') },
  deleteAttachment: { 204: noContent('Removed; the ETag header holds the new invoice version.') },
  deleteWebhookEndpoint: { 204: noContent('Removed, with its queue and delivery log.') },
  downloadAttachment: {
    200: {
      description: "The file's bytes, served with its sniffed content type.",
      content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
    },
  },
};
for (const responses of Object.values(documentedResponses)) {
  for (const schema of Object.values(responses) as TSchema[]) if (typeof schema.title === 'string') nameOf.set(schema, schema.title);
}

const componentNames = new Set(nameOf.values());

/** A deep copy for the document, each named schema marked with its name (a `title`), lifted later. */
function markNamed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(markNamed);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string | symbol, unknown> = {};
  for (const key of Reflect.ownKeys(value)) copy[key] = markNamed((value as Record<string | symbol, unknown>)[key]);
  const name = nameOf.get(value);
  if (name) copy.title = name;
  return copy;
}

const problemContent = (example?: unknown) => ({
  'application/problem+json': { schema: markNamed(ProblemSchema), ...(example ? { example } : {}) },
});

const preconditionFailedExample = {
  type: '/problems/precondition-failed',
  title: problemTypes['precondition-failed'].title,
  status: 412,
  detail: 'If-Match "3" does not match the current version "4"; nothing was changed.',
  instance: '/v1/invoices/inv_01hy8v7k3m2n4p5q6r7s8t9v0w',
  current_version: 4,
};

const validationExample = {
  type: '/problems/validation-error',
  title: problemTypes['validation-error'].title,
  status: 400,
  detail: 'One or more fields are invalid.',
  instance: '/v1/invoices',
  errors: [{ pointer: '/lins', detail: 'unknown field; did you mean `lines`?' }],
};

type RouteSchema = Record<string, unknown> & { operationId?: string; body?: unknown; headers?: unknown; response?: Record<string, unknown>; consumes?: string[] };

/** The problem answers, one shared response component each (components.responses). */
const problemAnswers: Record<number, { name: string; description: string; example?: unknown; headers?: Record<string, unknown> }> = {
  400: { name: 'BadRequest', description: 'The request is invalid: `errors[]` holds a JSON pointer per invalid field (validation-error, malformed-request).', example: validationExample },
  401: { name: 'Unauthorized', description: 'No valid API key (unauthorized).' },
  403: { name: 'Forbidden', description: 'The API key lacks the scope this operation needs (forbidden).' },
  404: { name: 'NotFound', description: 'No such resource in this tenant (not-found).' },
  409: { name: 'Conflict', description: 'A concurrent request got in the way (a unique value taken, the Idempotency-Key in flight); nothing was written (conflict).' },
  412: { name: 'PreconditionFailed', description: 'If-Match names another version than the current one (`current_version`); re-read, re-apply, resend (precondition-failed).', example: preconditionFailedExample },
  413: { name: 'PayloadTooLarge', description: 'The body or file is larger than the limit (payload-too-large).' },
  415: {
    name: 'UnsupportedMediaType',
    description: 'The Content-Type is not one this operation accepts; `detail`, `accepted_media_types` and the `Accept` header list the accepted ones (`Accept-Post` / `Accept-Patch` too on POST / PATCH) (unsupported-media-type).',
    headers: { Accept: { type: 'string', description: 'The media types this operation accepts as a body, comma-separated.' } },
  },
  422: { name: 'BusinessRuleViolation', description: 'The change breaks a business rule; `type` names the rule (e.g. /problems/paid-invoice-financial-fields); nothing was written.' },
  429: { name: 'RateLimited', description: 'Too many requests; retry after `Retry-After` seconds (rate-limited).' },
  500: { name: 'InternalError', description: 'An unexpected error; nothing internal is disclosed (internal-error).' },
  503: { name: 'ServiceUnavailable', description: 'The database is not answering; retry after `Retry-After` (service-unavailable).' },
};

/** The problem statuses an operation can answer, from what it declares (path id, body, If-Match). */
function problemStatuses(method: string, url: string, schema: RouteSchema): number[] {
  const write = method !== 'GET';
  const statuses = [400, 401, 403, 429, 500, 503];
  if (url.includes('{')) statuses.push(404);
  if (write) statuses.push(409, 422);
  if (write && (schema.body !== undefined || schema.consumes)) statuses.push(413, 415);
  if (JSON.stringify(schema.headers ?? {}).includes('if-match')) statuses.push(412);
  return statuses;
}

function problemResponses(method: string, url: string, schema: RouteSchema): Record<string, unknown> {
  return Object.fromEntries(
    problemStatuses(method, url, schema).map((status) => {
      const { description, example, headers } = problemAnswers[status];
      return [status, { description, ...(headers ? { headers } : {}), content: problemContent(example) }];
    }),
  );
}

/** Points every problem answer at its shared response component. */
function shareProblemResponses(document: Json): void {
  const components = document.components as Json;
  components.responses ??= {};
  const shared = components.responses as Record<string, unknown>;
  for (const pathItem of Object.values(document.paths as Record<string, Record<string, Json>>)) {
    for (const operation of Object.values(pathItem)) {
      const responses = (operation.responses ?? {}) as Record<string, unknown>;
      for (const [status, response] of Object.entries(responses)) {
        const answer = problemAnswers[Number(status)];
        if (!answer || (response as Json).description !== answer.description) continue;
        shared[answer.name] = response;
        responses[status] = { $ref: `#/components/responses/${answer.name}` };
      }
    }
  }
}

const uploadBody = {
  description: 'One file part named `file`; its type is sniffed from the bytes.',
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['file'],
        properties: { file: { type: 'string', format: 'binary', description: 'The file (PDF, PNG, JPEG, XML, …).' } },
      },
    },
  },
};

/** Per route, for the document only: names marked, problem responses added, documented bodies. */
function documentRoute({ schema, url, route }: { schema: unknown; url: string; route: { method: string | string[] } }) {
  if (!schema) return { schema: schema as never, url };
  const method = (Array.isArray(route.method) ? route.method[0] : route.method).toUpperCase();
  const copy = markNamed(schema) as RouteSchema;
  const openApiUrl = url.replace(/:([A-Za-z_]+)/g, '{$1}');
  const response: Record<string, unknown> = { ...(copy.response ?? {}) };
  const documented = copy.operationId ? documentedResponses[copy.operationId] : undefined;
  for (const [status, answer] of Object.entries(documented ?? {})) response[status] ??= markNamed(answer);
  if (!copy.hide) Object.assign(response, { ...problemResponses(method, openApiUrl, copy), ...filterExisting(response) });
  copy.response = response;
  if (copy.operationId === 'uploadAttachment') copy.body = uploadBody;
  return { schema: copy as never, url };
}

const filterExisting = (response: Record<string, unknown>) => Object.fromEntries(Object.entries(response).filter(([status]) => Number(status) < 400));

type Json = Record<string, unknown>;

/** Moves every named (titled) schema into components.schemas and points its uses at it. */
function liftNamedSchemas(document: Json): void {
  const container = document.components as Json;
  container.schemas ??= {};
  const components = container.schemas as Record<string, unknown>;
  const seen = new Map<string, string>();
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (value === null || typeof value !== 'object') return value;
    const node = value as Json;
    const lifted: Json = {};
    for (const [key, child] of Object.entries(node)) lifted[key] = key === 'example' || key === 'examples' ? child : visit(child);
    const name = typeof node.title === 'string' && componentNames.has(node.title) ? node.title : undefined;
    if (!name) return lifted;
    const text = JSON.stringify(lifted);
    const before = seen.get(name);
    if (before !== undefined && before !== text) throw new Error(`OpenAPI: two different schemas are named ${name}`);
    seen.set(name, text);
    components[name] = lifted;
    return { $ref: `#/components/schemas/${name}` };
  };
  document.paths = visit(document.paths);
}

const exampleInvoice = {
  id: 'inv_01hy8v7k3m2n4p5q6r7s8t9v0w',
  object: 'invoice',
  guid: '3f1c2a9e-6d4b-4c8a-9f1e-2b7d5a6c8e01',
  serial: 42,
  number: null,
  reference: null,
  purchase_order: 'PO-7781',
  status: 'draft',
  currency: 'EUR',
  exchange_rate: null,
  issue_date: null,
  due_date: '2026-12-31',
  payment_terms: { net_days: 30 },
  memo: 'Thank you for your business.',
  internal_note: null,
  metadata: { crm_id: '88213' },
  custom_fields: {},
  external_refs: {},
  customer_id: null,
  bill_to: { name: 'Acme GmbH', email: 'ap@acme.example' },
  tax_mode: 'exclusive',
  rounding_mode: 'half_up',
  lines: [
    {
      id: 'lin_01hy8v7k3m2n4p5q6r7s8t9v0x',
      guid: '9a7e4b2c-1d3f-4e5a-8b6c-7d9e0f1a2b03',
      position: 1,
      parent_line_id: null,
      description: 'Consulting',
      quantity: '3',
      unit: 'h',
      unit_price: '100.00',
      discount: null,
      tax_rate: '20',
      tax_code: null,
      account_code: null,
      item_code: null,
      tracking: null,
      amount_before_discount: '300.00',
      discount_amount: '0.00',
      net_amount: '300.00',
      tax_amount: '60.00',
      gross_amount: '360.00',
    },
  ],
  attachments: [],
  subtotal: '300.00',
  discount_total: '0.00',
  tax_total: '60.00',
  total: '360.00',
  tax_breakdown: [{ tax_rate: '20', taxable_amount: '300.00', tax_amount: '60.00' }],
  amount_paid: '0.00',
  amount_credited: '0.00',
  balance: '360.00',
  payment_status: 'unpaid',
  version: 1,
  created_at: '2026-11-30T09:00:00.000Z',
  updated_at: '2026-11-30T09:00:00.000Z',
  finalized_at: null,
  voided_at: null,
  revision_of: null,
  revised_by: null,
};

const requestExamples: Record<string, unknown> = {
  createInvoice: {
    currency: 'EUR',
    purchase_order: 'PO-7781',
    due_date: '2026-12-31',
    bill_to: { name: 'Acme GmbH', email: 'ap@acme.example' },
    lines: [{ description: 'Consulting', quantity: '3', unit: 'h', unit_price: '100.00', tax_rate: '20' }],
  },
  updateInvoice: { memo: 'Net 30, as agreed', line_operations: [{ op: 'update', id: 'lin_01hy8v7k3m2n4p5q6r7s8t9v0x', quantity: '4' }] },
  createCustomer: { name: 'Acme GmbH', email: 'ap@acme.example' },
  createPayment: { amount: '360.00', date: '2026-12-15', method: 'bank_transfer' },
};

/** Examples on operations and components, after the schemas are lifted. */
function addExamples(document: Json): void {
  const schemas = (document.components as Json).schemas as Record<string, Json>;
  if (schemas.Invoice) schemas.Invoice.examples = [exampleInvoice];
  for (const pathItem of Object.values(document.paths as Record<string, Record<string, Json>>)) {
    for (const operation of Object.values(pathItem)) {
      // A route that answers a shape only its dialect documents (Midnight's InvoiceSelect: JSON or XML by Accept).
      operation.responses ??= {};
      const responses = operation.responses as Record<string, unknown>;
      if (!Object.keys(responses).some((status) => status.startsWith('2'))) {
        responses['200'] = { description: "The resource, in the shape its system's documentation gives (see docs/dialects/)." };
      }
      const example = requestExamples[operation.operationId as string];
      const body = (operation.requestBody as { content?: Record<string, Json> } | undefined)?.content?.['application/json'];
      if (example && body) body.example = example;
      for (const [status, response] of Object.entries((operation.responses ?? {}) as Record<string, { content?: Record<string, Json> }>)) {
        const json = response.content?.['application/json'];
        if (json && Number(status) < 300 && (json.schema as Json | undefined)?.$ref === '#/components/schemas/Invoice') json.example = exampleInvoice;
      }
    }
  }
}

const tags = [
  { name: 'invoices', description: 'Create, read, list and change invoices; every change is a new version (ETag / If-Match).' },
  { name: 'payments', description: 'Payments and refunds; they drive amount_paid, balance and the paid state.' },
  { name: 'credit-notes', description: 'Credit notes against finalized invoices.' },
  { name: 'attachments', description: 'Files attached to an invoice (content-addressed, type sniffed).' },
  { name: 'history', description: 'Every version of an invoice and what changed.' },
  { name: 'customers', description: 'Customers; an invoice keeps a snapshot of its bill-to party.' },
  { name: 'events', description: 'The ordered feed of events (transactional outbox).' },
  { name: 'webhooks', description: 'Webhook endpoints and their delivery log.' },
  { name: 'tenant', description: 'Tenant settings (admin scope).' },
];

export function openApiOptions(): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Folio',
        version: '0.1.0',
        description:
          'Invoice system of record: invoices you can change safely after the fact. Errors are RFC 9457 problem+json. Every write answers with `ETag: "<version>"`; send it back as `If-Match` (a stale one is a 412). Send `Idempotency-Key` to retry writes safely.',
      },
      // Relative: the server that serves this document (a local `npm start` listens on PORT, 3000 by default).
      servers: [{ url: '/', description: 'This Folio server' }],
      tags,
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer <key>` (create one with `npm run folio -- keys create`).' } },
      },
      security: [{ bearer: [] }],
    },
    // Routes without a tag are not API (the web app's pages and assets); every API route has one.
    hideUntagged: true,
    transform: documentRoute as never,
    transformObject: (documentObject) => {
      const document = structuredClone((documentObject as { openapiObject: Json }).openapiObject);
      liftNamedSchemas(document);
      addExamples(document);
      shareProblemResponses(document);
      return document;
    },
  };
}
