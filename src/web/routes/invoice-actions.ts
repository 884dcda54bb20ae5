import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import type { WriteOptions } from '../../core/request-context.js';
import { AppError } from '../../shared/errors.js';
import { assertCsrf, contextOf, type WebDeps } from '../context.js';
import { showInvoice } from './invoices.js';

type Body = Record<string, string | undefined>;

const field = (body: Body, name: string, maxLength = 500) => (typeof body[name] === 'string' ? body[name]!.trim().slice(0, maxLength) : '');

/** The change reason a person gives with an action (kept in the history) and the version they saw. */
function actionOptions(body: Body): WriteOptions {
  const version = Number(body.version);
  return { reason: field(body, 'reason') || null, ...(Number.isInteger(version) && version > 0 ? { ifMatch: [version] } : {}) };
}

/**
 * Invoice actions from the invoice page: each one use case of the services, each form with the
 * version the page showed (a stale page is refused, not applied to a newer invoice).
 */
export async function invoiceActionRoutes(app: App, deps: WebDeps) {
  const { services, web } = deps;
  const write = { config: { webScope: 'invoices:write' as const } };

  /** Runs an action; success goes back to the invoice with a notice, a refusal shows why on the same page. */
  async function act(request: FastifyRequest, reply: FastifyReply, notice: string, work: (id: string, body: Body) => Promise<unknown>) {
    const { id } = request.params as { id: string };
    try {
      const result = await work(id, (request.body ?? {}) as Body);
      // An action that makes another invoice (revise) goes there; the others stay on this one.
      const target = typeof result === 'string' ? result : id;
      return reply.redirect(`/invoices/${target}?notice=${notice}`, 303);
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 404 || error.status === 403) throw error;
      const message = error.problemType === 'precondition-failed' ? 'The invoice changed since this page was loaded; nothing was done. Look at the new version below and try again.' : error.message;
      return showInvoice(request, reply, deps, id, { error: message, status: error.status });
    }
  }

  app.post('/invoices/:id/finalize', write, (request, reply) =>
    act(request, reply, 'finalized', (id, body) => services.lifecycle.finalize(contextOf(request), id, actionOptions(body))));

  app.post('/invoices/:id/void', write, (request, reply) =>
    act(request, reply, 'voided', (id, body) => services.lifecycle.void(contextOf(request), id, actionOptions(body))));

  app.post('/invoices/:id/revise', write, (request, reply) =>
    act(request, reply, 'revised', async (id, body) => (await services.lifecycle.revise(contextOf(request), id, actionOptions(body))).revision.id));

  app.post('/invoices/:id/payments', write, (request, reply) =>
    act(request, reply, 'payment', async (id, body) => {
      await services.payments.create(contextOf(request), id, {
        amount: field(body, 'amount', 40),
        date: field(body, 'date', 10),
        method: field(body, 'method', 40) || 'bank_transfer',
        reference: field(body, 'reference', 140) || null,
      }, actionOptions(body));
    }));

  app.post('/invoices/:id/payments/:paymentId/refund', write, (request, reply) =>
    act(request, reply, 'refund', async (id, body) => {
      const { paymentId } = request.params as { paymentId: string };
      const amount = field(body, 'amount', 40);
      await services.payments.refund(contextOf(request), id, paymentId, { ...(amount ? { amount } : {}), reason: field(body, 'reason') || undefined }, actionOptions(body));
    }));

  app.post('/invoices/:id/credit-notes', write, (request, reply) =>
    act(request, reply, 'credited', async (id, body) => {
      const reason = field(body, 'reason');
      if (!reason) throw new AppError('validation-error', 'Give a reason for the credit note.');
      await services.creditNotes.create(contextOf(request), {
        invoice_id: id,
        reason,
        lines: [{ description: field(body, 'description', 2000) || null, quantity: '1', unit_price: field(body, 'amount', 40), tax_rate: field(body, 'tax_rate', 20) || null }],
      }, actionOptions(body));
    }));

  app.post('/invoices/:id/attachments/:attachmentId/remove', write, (request, reply) =>
    act(request, reply, 'detached', async (id, body) => {
      const { attachmentId } = request.params as { attachmentId: string };
      await web.attachments.remove(contextOf(request), id, attachmentId, actionOptions(body));
    }));

  // Multipart: the form puts _csrf (and the change reason) before the file, so both are read
  // and the token checked before a byte of the file is stored.
  app.post('/invoices/:id/attachments', write, (request, reply) =>
    act(request, reply, 'attached', async (id) => {
      if (!request.isMultipart()) throw new AppError('unsupported-media-type', 'Send the file as multipart/form-data.');
      const fields: Body = {};
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          fields[part.fieldname] = String(part.value).slice(0, 500);
          continue;
        }
        assertCsrf(request, fields._csrf ?? '');
        await web.attachments.add(contextOf(request), id, { filename: part.filename, stream: part.file }, actionOptions(fields));
        return;
      }
      assertCsrf(request, fields._csrf ?? '');
      throw new AppError('validation-error', 'Choose a file to attach.');
    }));
}
