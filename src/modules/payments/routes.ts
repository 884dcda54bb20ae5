import type { App } from '../../core/app.js';
import { etagFor, requestContext } from '../../core/request-context.js';
import { IfMatchHeaders } from '../../core/schema-helpers.js';
import { InvoiceIdParams } from '../invoices/schemas.js';
import { presentInvoice, writeOptions } from '../invoices/write-answer.js';
import type { PaymentResult, PaymentService } from './service.js';
import { PaymentCreateSchema, PaymentParams, PaymentSchema, PaymentWithInvoiceSchema, RefundSchema } from './schemas.js';

const tags = ['payments'];
const present = (result: PaymentResult, today: string) => ({ ...result.payment, invoice: presentInvoice(result.invoice, today) });

export async function paymentRoutes(app: App, { payments }: { payments: PaymentService }) {

  app.post('/invoices/:id/payments', {
    config: { scope: 'invoices:write' },
    schema: {
      tags,
      operationId: 'createPayment', summary: 'Record a payment; a payment that covers the balance makes the invoice paid. More than the balance is a 422 (overpayment).',
      params: InvoiceIdParams,
      headers: IfMatchHeaders,
      body: PaymentCreateSchema,
      response: { 201: PaymentWithInvoiceSchema },
    },
  }, async (request, reply) => {
    const result = await payments.create(requestContext(request), request.params.id, request.body, { ...writeOptions(request), dryRun: false });
    reply.header('etag', etagFor(result.invoice.version));
    return reply.status(201).send(present(result, request.server.clock.today()));
  });

  app.get('/invoices/:id/payments', {
    config: { scope: 'invoices:read' },
    schema: { tags, operationId: 'listPayments', summary: "List an invoice's payments, oldest first", params: InvoiceIdParams },
  }, async (request) => {
    const data = await payments.list(requestContext(request), request.params.id);
    return { object: 'list', data, has_more: false, next_cursor: null };
  });

  app.post('/invoices/:id/payments/:paymentId/refund', {
    config: { scope: 'invoices:write' },
    // The body is optional: no body refunds the whole payment.
    preValidation: async (request) => {
      if (request.body === undefined || request.body === null) request.body = {};
    },
    schema: {
      tags,
      operationId: 'refundPayment', summary: 'Refund (reverse) a payment, in full or in part; a paid invoice whose balance reopens is open again.',
      params: PaymentParams,
      headers: IfMatchHeaders,
      body: RefundSchema,
      response: { 200: PaymentWithInvoiceSchema },
    },
  }, async (request, reply) => {
    const result = await payments.refund(requestContext(request), request.params.id, request.params.paymentId, request.body, { ...writeOptions(request), dryRun: false });
    reply.header('etag', etagFor(result.invoice.version));
    return present(result, request.server.clock.today());
  });
}

export { PaymentSchema };
