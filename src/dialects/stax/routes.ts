import type { App } from '../../core/app.js';
import type { InvoiceService } from '../../modules/invoices/service.js';
import { changeReason, dialectContext, installDialectErrors, replayInvoiceAnswer } from '../common.js';
import { StaxIdParams, StaxInvoice, StaxInvoiceWrite } from './schemas.js';
import { invoiceToStax, staxError, staxToWrite } from './translate.js';

const tags = ['dialect: Stax'];

/** Stax Pay under /compat/stax: `Authorization: Bearer <Folio API key>`; ids are the invoice guid (the native id works too). */
export async function staxRoutes(app: App, { invoices }: { invoices: InvoiceService }) {
  installDialectErrors(app, staxError);

  app.get('/invoice/:id', {
    config: { scope: 'invoices:read' },
    schema: { operationId: 'staxGetInvoice', tags, summary: 'Stax: get an invoice', params: StaxIdParams, response: { 200: StaxInvoice } },
  }, async (request) => invoiceToStax(await invoices.get(dialectContext(request), request.params.id)));

  app.post('/invoice', {
    config: { scope: 'invoices:write', replayCommitted: replayInvoiceAnswer((invoice, _request, reply) => reply.status(201).send(invoiceToStax(invoice))) },
    schema: { operationId: 'staxCreateInvoice', tags, summary: 'Stax: create an invoice (a Folio draft); 201 Created, as Stax answers', body: StaxInvoiceWrite, response: { 201: StaxInvoice } },
  }, async (request, reply) => {
    const command = staxToWrite(request.body, null);
    const result = await invoices.create(dialectContext(request), command.body, { clientTotals: command.options.clientTotals, reason: changeReason(request) });
    return reply.status(201).send(invoiceToStax(result.invoice));
  });

  app.put('/invoice/:id', {
    config: { scope: 'invoices:write', replayCommitted: replayInvoiceAnswer((invoice, _request, reply) => reply.send(invoiceToStax(invoice))) },
    schema: { operationId: 'staxUpdateInvoice', tags, summary: 'Stax: update an invoice (items, taxes, memo, reference, meta, files); a fully paid invoice answers 422', params: StaxIdParams, body: StaxInvoiceWrite, response: { 200: StaxInvoice } },
  }, async (request) => {
    const ctx = dialectContext(request);
    const current = await invoices.get(ctx, request.params.id);
    const command = staxToWrite(request.body, current);
    const result = await invoices.update(ctx, current.id, command.body, 'patch', { ...command.options, reason: changeReason(request) });
    return invoiceToStax(result.invoice);
  });
}
