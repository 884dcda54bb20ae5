import { Type } from '@sinclair/typebox';
import type { App } from '../../core/app.js';
import { requestContext } from '../../core/request-context.js';
import { InvoiceIdParams } from '../invoices/schemas.js';
import type { InvoiceService } from '../invoices/service.js';
import type { HistoryService } from './service.js';

const tags = ['history'];

const ChangeSchema = Type.Object({ path: Type.String(), from: Type.Unknown(), to: Type.Unknown() });

export const HistoryEntrySchema = Type.Object({
  version: Type.Integer(),
  action: Type.String({ description: 'create, update, finalize, … (what made this version)' }),
  actor_key_id: Type.Union([Type.String(), Type.Null()], { description: 'The API key that made the change.' }),
  request_id: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'From X-Change-Reason or the body `reason`.' }),
  created_at: Type.String(),
  changes: Type.Array(ChangeSchema, {
    description: 'JSON-pointer diff from the previous version; version 1 is one change at path "" holding the whole document.',
  }),
});

const HistoryQuery = Type.Object({
  after_version: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

export async function historyRoutes(app: App, { invoices, history }: { invoices: InvoiceService; history: HistoryService }) {
  app.get('/invoices/:id/history', {
    config: { scope: 'invoices:read' },
    schema: {
      tags,
      summary: 'Every version of an invoice, oldest first: action, actor, request id, time, reason and diff',
      params: InvoiceIdParams,
      querystring: HistoryQuery,
      response: {
        200: Type.Object({
          object: Type.Literal('list'),
          invoice_id: Type.String(),
          data: Type.Array(HistoryEntrySchema),
          has_more: Type.Boolean(),
          next_after_version: Type.Union([Type.Integer(), Type.Null()]),
        }),
      },
    },
  }, async (request) => {
    const ctx = requestContext(request);
    const invoice = await invoices.get(ctx, request.params.id);
    return history.history(ctx, invoice, { afterVersion: request.query.after_version, limit: request.query.limit ?? 100 });
  });
}
