import type { Static } from '@sinclair/typebox';
import { requestContext, type App, type AppDeps } from '../../http/app.js';
import { decodeCursor, toPage } from '../../http/request-context.js';
import { notFound } from '../../shared/errors.js';
import { CreditNoteListQuery, CreditNoteParams, CreditNoteSchema } from './schemas.js';
import { creditNoteStore } from './store.js';

const tags = ['credit-notes'];

/** Credit notes are created by POST /v1/invoices/{id}/revise; here they are read. */
export async function creditNoteRoutes(app: App, { database }: AppDeps) {
  app.get('/credit-notes', {
    config: { scope: 'invoices:read' },
    schema: { tags, summary: 'List credit notes, newest first; filter by invoice_id', querystring: CreditNoteListQuery },
  }, async (request) => {
    const query = request.query as Static<typeof CreditNoteListQuery>;
    const limit = query.limit ?? 20;
    const rows = await creditNoteStore.list(database.db, requestContext(request).auth.tenantId, {
      invoiceId: query.invoice_id,
      beforeId: decodeCursor(query.cursor),
      limit: limit + 1,
    });
    return toPage(rows, limit);
  });

  app.get('/credit-notes/:id', {
    config: { scope: 'invoices:read' },
    schema: { tags, summary: 'Get a credit note', params: CreditNoteParams, response: { 200: CreditNoteSchema } },
  }, async (request) => {
    const note = await creditNoteStore.find(database.db, requestContext(request).auth.tenantId, request.params.id);
    if (!note) throw notFound('credit note', request.params.id);
    return note;
  });
}
