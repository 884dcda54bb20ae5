import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/app.js';
import type { RequestContext } from '../../core/request-context.js';
import type { Editability } from '../../modules/invoices/domain/editability.js';
import type { Invoice } from '../../modules/invoices/domain/model.js';
import { AppError } from '../../shared/errors.js';
import { timelineOf } from '../history-words.js';
import {
  applyFormOperation,
  apiFieldOfHeader,
  blankLine,
  formOf,
  headerFormFields,
  lineFormFields,
  parseInvoiceForm,
  reapplyEdits,
  writeOfForm,
  type InvoiceForm,
} from '../invoice-form.js';
import { actorNamer, contextOf, renderPage, type WebDeps } from '../context.js';

type Body = Record<string, string | string[] | undefined>;

/** What the live totals show: the server's dry run of the form, or why it cannot be computed. */
interface Preview {
  invoice?: Invoice;
  error?: string;
  errors?: { pointer: string; detail: string }[];
}

const problemOf = (error: unknown): Preview => {
  if (!(error instanceof AppError)) throw error;
  return { error: error.message, errors: error.errors ?? [] };
};

/**
 * The invoice editor: header fields and a line editor. Totals are never computed here: every
 * preview is the invoice service's own update (or create) as a dry run, so page and API agree.
 * Saving sends the version the edit started from; a newer version shows a conflict page.
 */
export async function invoiceEditorRoutes(app: App, deps: WebDeps) {
  const { services, web } = deps;

  async function preview(ctx: RequestContext, current: Invoice | null, form: InvoiceForm, editability?: Editability): Promise<Preview> {
    const id = current?.id ?? null;
    try {
      const write = writeOfForm(form, editability, current ?? undefined);
      const result = id === null
        ? await services.invoices.create(ctx, write, { dryRun: true })
        : await services.invoices.update(ctx, id, write, 'patch', { dryRun: true });
      return { invoice: result.invoice };
    } catch (error) {
      return problemOf(error);
    }
  }

  async function renderEditor(request: FastifyRequest, reply: FastifyReply, options: {
    invoice: Invoice | null;
    form: InvoiceForm;
    editability?: Editability;
    notice?: string;
    error?: string;
    status?: number;
  }) {
    const ctx = contextOf(request);
    const id = options.invoice?.id ?? null;
    const [customers, livePreview] = await Promise.all([
      services.customers.list(ctx, { limit: 100 }),
      preview(ctx, options.invoice, options.form, options.editability),
    ]);
    const fieldState = Object.fromEntries(headerFormFields.map((field) => [field, options.editability?.fields[apiFieldOfHeader(field)] ?? { editable: true }]));
    return renderPage(request, reply, 'editor', {
      title: id ? `Edit invoice ${options.invoice?.number ?? '(draft)'}` : 'New invoice',
      invoice: options.invoice,
      form: options.form,
      fieldState,
      linesState: options.editability?.fields.lines ?? { editable: true },
      customers: customers.data,
      preview: livePreview,
      action: id ? `/invoices/${id}/edit` : '/invoices/new',
      notice: options.notice,
      error: options.error,
    }, options.status ?? 200);
  }

  // ---------- new invoice ----------

  app.get('/invoices/new', { config: { webScope: 'invoices:write' } }, async (request, reply) => {
    const settings = await web.tenantAdmin.settings(contextOf(request));
    const form: InvoiceForm = { header: { ...Object.fromEntries(headerFormFields.map((field) => [field, ''])), currency: settings.base_currency } as InvoiceForm['header'], lines: [blankLine()], version: '0', reason: '' };
    return renderEditor(request, reply, { invoice: null, form });
  });

  app.post('/invoices/new', { config: { webScope: 'invoices:write' } }, async (request, reply) => {
    const body = request.body as Body;
    const form = parseInvoiceForm(body);
    const operation = typeof body.op === 'string' ? body.op : 'save';
    if (operation !== 'save') return renderEditor(request, reply, { invoice: null, form: applyFormOperation(form, operation) });
    try {
      const created = await services.invoices.create(contextOf(request), writeOfForm(form), { reason: form.reason || null });
      return reply.redirect(`/invoices/${created.invoice.id}?notice=created`, 303);
    } catch (error) {
      return renderEditor(request, reply, { invoice: null, form, error: problemOf(error).error, status: 422 });
    }
  });

  app.post('/invoices/new/preview', { config: { webScope: 'invoices:write' } }, async (request, reply) => {
    const form = parseInvoiceForm(request.body as Body);
    return renderPage(request, reply, 'live-totals', { preview: await preview(contextOf(request), null, form), currency: form.header.currency, form });
  });

  // ---------- edit ----------

  app.get('/invoices/:id/edit', { config: { webScope: 'invoices:write' } }, async (request, reply) => {
    const ctx = contextOf(request);
    const { id } = request.params as { id: string };
    const invoice = await services.invoices.get(ctx, id);
    const editability = await services.lifecycle.editability(ctx, id);
    return renderEditor(request, reply, { invoice, form: formOf(invoice), editability });
  });

  app.post('/invoices/:id/edit', { config: { webScope: 'invoices:write' } }, async (request, reply) => {
    const ctx = contextOf(request);
    const { id } = request.params as { id: string };
    const body = request.body as Body;
    const form = parseInvoiceForm(body);
    const operation = typeof body.op === 'string' ? body.op : 'save';
    const invoice = await services.invoices.get(ctx, id);
    const editability = await services.lifecycle.editability(ctx, id);

    if (operation === 'reapply') {
      const base = await services.history.atVersion(ctx, invoice, Number(form.version));
      const { form: merged, dropped } = reapplyEdits(formOf(base), form, formOf(invoice));
      const notice = `Your edits are re-applied on top of version ${invoice.version}. Check the result and save again.${dropped.length ? ` Not kept: ${dropped.join('; ')}.` : ''}`;
      return renderEditor(request, reply, { invoice, form: merged, editability, notice });
    }
    if (operation !== 'save') return renderEditor(request, reply, { invoice, form: applyFormOperation(form, operation), editability });

    const startedFrom = Number(form.version);
    if (!Number.isInteger(startedFrom) || startedFrom < 1) throw new AppError('validation-error', 'The form lacks the version it was opened at; reload the page.');
    try {
      // Operations relative to the loaded invoice only when it is the version the edit began at
      // (any other version is refused by If-Match anyway); else the full line set.
      const write = writeOfForm(form, editability, invoice.version === startedFrom ? invoice : undefined);
      const result = await services.invoices.update(ctx, id, write, 'patch', { ifMatch: [startedFrom], reason: form.reason || null });
      return reply.redirect(`/invoices/${id}?notice=${result.written ? 'saved' : 'unchanged'}`, 303);
    } catch (error) {
      if (error instanceof AppError && error.problemType === 'precondition-failed') {
        return renderConflict(request, reply, ctx, invoice, form, startedFrom);
      }
      return renderEditor(request, reply, { invoice, form, editability, error: problemOf(error).error, status: 422 });
    }
  });

  app.post('/invoices/:id/edit/preview', { config: { webScope: 'invoices:write' } }, async (request, reply) => {
    const ctx = contextOf(request);
    const { id } = request.params as { id: string };
    const form = parseInvoiceForm(request.body as Body);
    const [current, editability] = await Promise.all([services.invoices.get(ctx, id), services.lifecycle.editability(ctx, id)]);
    return renderPage(request, reply, 'live-totals', { preview: await preview(ctx, current, form, editability), currency: form.header.currency, form });
  });

  /** Someone saved since this edit began: show what they changed, offer to re-apply ours on top. */
  async function renderConflict(request: FastifyRequest, reply: FastifyReply, ctx: RequestContext, current: Invoice, mine: InvoiceForm, startedFrom: number) {
    const history = await services.history.history(ctx, current, { afterVersion: 0, limit: 1000 });
    const actorName = await actorNamer(web, ctx.auth.tenantId, history.data.map((entry) => entry.actor_key_id));
    const timeline = timelineOf(history.data, actorName).filter((entry) => entry.version > startedFrom);
    const hidden: [string, string][] = [
      ...headerFormFields.map((field): [string, string] => [field, mine.header[field]]),
      ...mine.lines.flatMap((line) => lineFormFields.map((field): [string, string] => [`line_${field}`, line[field]])),
      ['version', String(startedFrom)],
      ['reason', mine.reason],
    ];
    return renderPage(request, reply, 'conflict', { title: 'Someone else saved this invoice', invoice: current, startedFrom, timeline, hidden }, 409);
  }
}
