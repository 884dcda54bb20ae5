import { Type } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { etagFor, requestContext } from '../../core/request-context.js';
import { FieldsQuery, xmlContentTypes } from '../../core/representation.js';
import { IfMatchHeaders } from '../../core/schema-helpers.js';
import { CreditNoteSchema } from '../credit-notes/schemas.js';
import { invoiceRepresentation } from './representation.js';
import type { LifecycleService } from './lifecycle-service.js';
import { InvoiceIdParams, InvoiceSchema } from './schemas.js';
import { InvoiceWriteHeaders, MinimalReturnResponse, presentInvoice, sendWriteResult, writeOptions } from './write-answer.js';

const tags = ['invoices'];

export const EditabilitySchema = Type.Object(
  {
    invoice_id: Type.String(),
    status: Type.String(),
    version: Type.Integer(),
    edit_policy: Type.String(),
    fields: Type.Record(Type.String(), Type.Object({ editable: Type.Boolean() }, { additionalProperties: true })),
    actions: Type.Record(Type.String(), Type.Object({ allowed: Type.Boolean() }, { additionalProperties: true })),
  },
  { additionalProperties: false },
);

/** finalize, void, delete, revise and editability: the lifecycle over HTTP. */
export async function lifecycleRoutes(app: App, { lifecycle }: { lifecycle: LifecycleService }) {
  // Transitions answer with the invoice: ?fields= and Accept: application/xml apply as on GET.
  const transition = { config: { scope: 'invoices:write' as const, representation: invoiceRepresentation } };
  const transitionQuery = { querystring: Type.Object(FieldsQuery), produces: xmlContentTypes.produces };
  // Transitions ignore ?dry_run (only PATCH/PUT take it).
  const options = (request: Parameters<typeof writeOptions>[0]) => ({ ...writeOptions(request), dryRun: false });

  app.post('/invoices/:id/finalize', {
    ...transition,
    schema: { tags, operationId: 'finalizeInvoice', summary: 'Finalize a draft: status open, number (gapless per tenant, if none was set) and issue date fixed', params: InvoiceIdParams, headers: InvoiceWriteHeaders, ...transitionQuery, response: { 200: InvoiceSchema, 204: MinimalReturnResponse } },
  }, async (request, reply) => {
    const opts = options(request);
    return sendWriteResult(reply, await lifecycle.finalize(requestContext(request), request.params.id, opts), opts);
  });

  app.post('/invoices/:id/void', {
    ...transition,
    schema: { tags, operationId: 'voidInvoice', summary: 'Void an open invoice without payments', params: InvoiceIdParams, headers: InvoiceWriteHeaders, ...transitionQuery, response: { 200: InvoiceSchema, 204: MinimalReturnResponse } },
  }, async (request, reply) => {
    const opts = options(request);
    return sendWriteResult(reply, await lifecycle.void(requestContext(request), request.params.id, opts), opts);
  });

  app.delete('/invoices/:id', {
    ...transition,
    schema: { tags, operationId: 'deleteInvoice', summary: 'Delete a draft (its audit trail stays)', params: InvoiceIdParams, headers: IfMatchHeaders },
  }, async (request, reply) => {
    await lifecycle.delete(requestContext(request), request.params.id, options(request));
    return reply.status(204).send();
  });

  app.post('/invoices/:id/revise', {
    ...transition,
    schema: {
      tags,
      operationId: 'reviseInvoice', summary: 'Revise a finalized invoice: one transaction creates a credit note for it and a new draft copying it (revision_of)',
      params: InvoiceIdParams,
      headers: IfMatchHeaders,
      response: { 201: Type.Object({ credit_note: CreditNoteSchema, revision: InvoiceSchema, original: InvoiceSchema }) },
    },
  }, async (request, reply) => {
    const result = await lifecycle.revise(requestContext(request), request.params.id, options(request));
    reply.header('location', `/v1/invoices/${result.revision.id}`);
    reply.header('etag', etagFor(result.revision.version));
    const today = request.server.clock.today();
    return reply.status(201).send({ credit_note: result.creditNote, revision: presentInvoice(result.revision, today), original: presentInvoice(result.original, today) });
  });

  app.get('/invoices/:id/editability', {
    config: { scope: 'invoices:read' },
    schema: { tags, operationId: 'getInvoiceEditability', summary: 'Which fields may change now, which may not and why, and what to do instead', params: InvoiceIdParams, response: { 200: EditabilitySchema } },
  }, async (request) => lifecycle.editability(requestContext(request), request.params.id));
}
