import type { FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import type { ConnectionService } from '../../modules/connections/service.js';
import type { InvoiceService } from '../../modules/invoices/service.js';
import { changeReason, dialectContext, installDialectErrors, replayInvoiceAnswer } from '../common.js';
import { UnifiedIdParams, UnifiedInvoiceResponse, UnifiedInvoiceWrite, UnifiedQuery } from './schemas.js';
import { invoiceToUnified, unifiedError, unifiedToWrite } from './translate.js';

const tags = ['dialect: Unified accounting API'];

/**
 * The unified accounting API under /compat/unified: `Authorization: bearer <Folio API key>`, and
 * `?credentialId=` naming one of the tenant's connections (POST /v1/connections); unknown → 404.
 */
export async function unifiedRoutes(app: App, { invoices, connections }: { invoices: InvoiceService; connections: ConnectionService }) {
  installDialectErrors(app, unifiedError);
  const replayCommitted = replayInvoiceAnswer((invoice, _request, reply) => reply.send(invoiceToUnified(invoice)));

  async function contextWithCredential(request: FastifyRequest) {
    const ctx = dialectContext(request);
    await connections.require(ctx, (request.query as { credentialId: string }).credentialId);
    return ctx;
  }

  app.get('/accounting/invoices/:id', {
    config: { scope: 'invoices:read' },
    schema: { operationId: 'unifiedGetInvoice', tags, summary: 'Unified: get an invoice', params: UnifiedIdParams, querystring: UnifiedQuery, response: { 200: UnifiedInvoiceResponse } },
  }, async (request) => invoiceToUnified(await invoices.get(await contextWithCredential(request), request.params.id)));

  app.post('/accounting/invoices', {
    config: { scope: 'invoices:write', replayCommitted },
    schema: { operationId: 'unifiedCreateInvoice', tags, summary: 'Unified: create an invoice (a Folio draft)', querystring: UnifiedQuery, body: UnifiedInvoiceWrite, response: { 200: UnifiedInvoiceResponse } },
  }, async (request) => {
    const ctx = await contextWithCredential(request);
    const command = unifiedToWrite(request.body, null);
    const result = await invoices.create(ctx, command.body, { clientTotals: command.options.clientTotals, reason: changeReason(request) });
    return invoiceToUnified(result.invoice);
  });

  app.put('/accounting/invoices/:id', {
    config: { scope: 'invoices:write', replayCommitted },
    schema: { operationId: 'unifiedUpdateInvoice', tags, summary: 'Unified: update an invoice; lineItems replace the whole line set', params: UnifiedIdParams, querystring: UnifiedQuery, body: UnifiedInvoiceWrite, response: { 200: UnifiedInvoiceResponse } },
  }, async (request) => {
    const ctx = await contextWithCredential(request);
    const current = await invoices.get(ctx, request.params.id);
    const command = unifiedToWrite(request.body, current);
    const result = await invoices.update(ctx, current.id, command.body, 'patch', { ...command.options, reason: changeReason(request) });
    return invoiceToUnified(result.invoice);
  });
}
