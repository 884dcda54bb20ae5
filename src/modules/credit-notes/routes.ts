import type { Static } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { IfMatchHeaders } from '../../core/schema-helpers.js';
import { etagFor, requestContext } from '../../core/request-context.js';
import { InvoiceSchema } from '../invoices/schemas.js';
import { presentInvoice, writeOptions } from '../invoices/write-answer.js';
import { Type } from '@sinclair/typebox';
import { CreditNoteCreateSchema, CreditNoteListQuery, CreditNoteParams, CreditNoteSchema } from './schemas.js';
import type { CreditNoteService } from './service.js';

const tags = ['credit-notes'];

/** Credit notes: issued here (partial credits) or by POST /v1/invoices/{id}/revise (full credit). */
export async function creditNoteRoutes(app: App, { creditNotes }: { creditNotes: CreditNoteService }) {
  app.post('/credit-notes', {
    config: { scope: 'invoices:write' },
    schema: {
      tags,
      operationId: 'createCreditNote', summary: "Issue a credit note against a finalized invoice; it reduces the invoice's balance. If-Match applies to the invoice.",
      headers: IfMatchHeaders,
      body: CreditNoteCreateSchema,
      response: { 201: Type.Intersect([CreditNoteSchema, Type.Object({ invoice: InvoiceSchema })]) },
    },
  }, async (request, reply) => {
    const result = await creditNotes.create(requestContext(request), request.body, { ...writeOptions(request), dryRun: false });
    reply.header('location', `/v1/credit-notes/${result.creditNote.id}`);
    reply.header('etag', etagFor(result.invoice.version));
    return reply.status(201).send({ ...result.creditNote, invoice: presentInvoice(result.invoice, request.server.clock.today()) });
  });

  app.get('/credit-notes', {
    config: { scope: 'invoices:read' },
    schema: { tags, operationId: 'listCreditNotes', summary: 'List credit notes, newest first; filter by invoice_id', querystring: CreditNoteListQuery },
  }, async (request) => {
    const query = request.query as Static<typeof CreditNoteListQuery>;
    return creditNotes.list(requestContext(request), { invoiceId: query.invoice_id, cursor: query.cursor, limit: query.limit });
  });

  app.get('/credit-notes/:id', {
    config: { scope: 'invoices:read' },
    schema: { tags, operationId: 'getCreditNote', summary: 'Get a credit note', params: CreditNoteParams, response: { 200: CreditNoteSchema } },
  }, async (request) => {
    return creditNotes.get(requestContext(request), request.params.id);
  });
}
