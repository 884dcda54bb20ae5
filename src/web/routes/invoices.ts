import type { FastifyReply, FastifyRequest } from 'fastify';
import { invoiceListFilterFromQuery } from '../../modules/invoices/list-filter.js';
import type { App } from '../../core/app.js';
import type { RequestContext } from '../../core/request-context.js';
import type { Invoice, InvoiceLine } from '../../modules/invoices/domain/model.js';
import { derivePaymentStatus } from '../../modules/invoices/domain/payment-status.js';
import type { InvoiceListQuery } from '../../modules/invoices/schemas.js';
import { AppError } from '../../shared/errors.js';
import { Dec, formatAmount } from '../../shared/money.js';
import { timelineOf } from '../history-words.js';
import { actorNamer, contextOf, renderPage, type WebDeps } from '../context.js';

const statuses = ['draft', 'open', 'paid', 'void'] as const;
const idPattern = /^[a-z]{2,4}_[0-9a-z]{1,40}$/;
const pageSizes = [20, 50, 100];
/** The list service's refusals of a filter, in the words of the filter form. */
const filterErrors: Record<string, string> = {
  '/query/q': 'Search for at least 3 characters.',
  '/query/issue_date_to': 'The issue date range ends before it starts.',
  '/query/due_date_to': 'The due date range ends before it starts.',
  '/query/cursor': 'That page link belongs to another order; start again from the first page.',
};

/** Lines in reading order: each parent followed by its grouped lines (one level). */
export function groupedLines(lines: InvoiceLine[]): { line: InvoiceLine; depth: number }[] {
  const children = new Map<string, InvoiceLine[]>();
  for (const line of lines) if (line.parent_line_id) children.set(line.parent_line_id, [...(children.get(line.parent_line_id) ?? []), line]);
  const ids = new Set(lines.map((line) => line.id));
  const ordered: { line: InvoiceLine; depth: number }[] = [];
  for (const line of lines) {
    if (line.parent_line_id && ids.has(line.parent_line_id)) continue;
    ordered.push({ line, depth: 0 });
    for (const child of children.get(line.id) ?? []) ordered.push({ line: child, depth: 1 });
  }
  return ordered;
}

/** Sums of the page's invoices per currency (totals of already-rounded amounts, exact decimals). */
function pageTotals(invoices: Invoice[]) {
  const sums = new Map<string, { total: Dec; balance: Dec; count: number }>();
  for (const invoice of invoices) {
    const sum = sums.get(invoice.currency) ?? { total: new Dec(0), balance: new Dec(0), count: 0 };
    sums.set(invoice.currency, { total: sum.total.plus(invoice.total), balance: sum.balance.plus(invoice.balance), count: sum.count + 1 });
  }
  return [...sums].map(([currency, sum]) => ({ currency, count: sum.count, total: formatAmount(sum.total, currency), balance: formatAmount(sum.balance, currency) }));
}

const paymentStatuses = ['unpaid', 'partially_paid', 'paid', 'overdue'] as const;
const dateFilters = ['issue_date_from', 'issue_date_to', 'due_date_from', 'due_date_to'] as const;
/** The list's orders as the API names them ("-" = descending), with words for the page. */
const sorts: [string, string][] = [
  ['-created', 'Newest first'],
  ['created', 'Oldest first'],
  ['number', 'Number (A–Z)'],
  ['-number', 'Number (Z–A)'],
  ['-issue_date', 'Issue date (latest first)'],
  ['issue_date', 'Issue date (earliest first)'],
  ['due_date', 'Due date (soonest first)'],
  ['-due_date', 'Due date (latest first)'],
  ['-total', 'Total (largest first)'],
  ['total', 'Total (smallest first)'],
  ['-updated_at', 'Recently changed'],
];

/**
 * Reads the list filters from the query string, keeping only well-formed values (a malformed one
 * is ignored, as a hand-edited URL would be). Value checks a pattern cannot make (a date range
 * that ends before it starts, a search under 3 characters) are the list service's, shown as an error.
 */
function listFilters(query: Record<string, string | undefined>) {
  const pick = (value: string | undefined, ok: (v: string) => boolean) => (value && ok(value) ? value : undefined);
  const isDate = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v);
  return {
    status: pick(query.status, (v) => (statuses as readonly string[]).includes(v)) as InvoiceListQuery['status'],
    payment_status: pick(query.payment_status, (v) => (paymentStatuses as readonly string[]).includes(v)) as InvoiceListQuery['payment_status'],
    customer_id: pick(query.customer_id, (v) => idPattern.test(v)),
    number: pick(query.number?.trim(), (v) => v.length <= 64),
    q: pick(query.q?.trim(), (v) => v.length <= 100),
    ...Object.fromEntries(dateFilters.map((name) => [name, pick(query[name], isDate)])) as Record<(typeof dateFilters)[number], string | undefined>,
    sort: pick(query.sort, (v) => sorts.some(([value]) => value === v)),
    cursor: pick(query.cursor, (v) => v.length <= 200),
    limit: pageSizes.includes(Number(query.limit)) ? Number(query.limit) : 20,
  };
}

export async function invoicePageData(ctx: RequestContext, deps: WebDeps, invoice: Invoice) {
  const { services, web } = deps;
  const [editability, payments, creditNotes, history] = await Promise.all([
    services.lifecycle.editability(ctx, invoice.id),
    services.payments.list(ctx, invoice.id),
    services.creditNotes.list(ctx, { invoiceId: invoice.id, limit: 100 }),
    services.history.history(ctx, invoice, { limit: 1000 }),
  ]);
  const actorName = await actorNamer(web, ctx.auth.tenantId, history.data.map((entry) => entry.actor_key_id));
  const today = services.kernel.clock.today();
  return {
    invoice,
    /** The app clock's date: the payment form's default date, and what "overdue" is judged by. */
    today,
    paymentStatus: derivePaymentStatus(invoice, today),
    lines: groupedLines(invoice.lines),
    editability,
    payments,
    creditNotes: creditNotes.data,
    timeline: timelineOf(history.data, actorName),
  };
}

/** The invoice page, optionally with an error or notice at the top (used after a refused action). */
export async function showInvoice(request: FastifyRequest, reply: FastifyReply, deps: WebDeps, id: string, extra: { error?: string; notice?: string; status?: number } = {}) {
  const ctx = contextOf(request);
  const invoice = await deps.services.invoices.get(ctx, id);
  const data = await invoicePageData(ctx, deps, invoice);
  return renderPage(request, reply, 'invoice', { title: `Invoice ${invoice.number ?? '(draft)'}`, ...data, error: extra.error, notice: extra.notice }, extra.status ?? 200);
}

const notices: Record<string, string> = {
  created: 'Invoice created.',
  saved: 'Saved: a new version is in the history.',
  unchanged: 'Nothing changed, so no new version was written.',
  finalized: 'Invoice finalized: it has its number and is open for payment.',
  voided: 'Invoice voided.',
  revised: 'A credit note was issued and this new draft corrects the original.',
  payment: 'Payment recorded.',
  refund: 'Refund recorded.',
  credited: 'Credit note issued.',
  attached: 'File attached.',
  detached: 'Attachment removed.',
};

export async function invoicePages(app: App, deps: WebDeps) {
  const { services } = deps;

  app.get('/invoices', { config: { webScope: 'invoices:read' } }, async (request, reply) => {
    const ctx = contextOf(request);
    const filters = listFilters(request.query as Record<string, string | undefined>);
    const customers = await services.customers.list(ctx, { limit: 100 });
    const baseQuery = new URLSearchParams(Object.entries({ ...filters, cursor: undefined }).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    const common = { title: 'Invoices', filters, statuses, paymentStatuses, sorts, sortLabel: sorts.find(([value]) => value === (filters.sort ?? '-created'))?.[1] ?? '', pageSizes, customers: customers.data };
    let page: Awaited<ReturnType<typeof services.invoices.list>>;
    try {
      page = await services.invoices.list(ctx, invoiceListFilterFromQuery(filters as InvoiceListQuery));
    } catch (error) {
      // A filter the list service refuses (range ends before it starts, search too short): say why.
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      return renderPage(request, reply, 'invoices', { ...common, error: filterErrors[error.errors?.[0]?.pointer ?? ''] ?? error.message, invoices: [], totals: [], nextUrl: null, firstUrl: null }, 400);
    }
    const nextUrl = page.next_cursor ? `/invoices?${new URLSearchParams({ ...Object.fromEntries(baseQuery), cursor: page.next_cursor })}` : null;
    return renderPage(request, reply, 'invoices', {
      ...common,
      invoices: page.data.map((invoice) => ({ invoice, paymentStatus: derivePaymentStatus(invoice, services.kernel.clock.today()) })),
      totals: pageTotals(page.data),
      nextUrl,
      firstUrl: filters.cursor ? `/invoices?${baseQuery}` : null,
    });
  });

  app.get('/invoices/:id', { config: { webScope: 'invoices:read' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!idPattern.test(id)) throw new AppError('not-found', 'No such invoice.');
    const notice = notices[(request.query as { notice?: string }).notice ?? ''];
    return showInvoice(request, reply, deps, id, { notice });
  });

  app.get('/invoices/:id/attachments/:attachmentId', { config: { webScope: 'invoices:read' } }, async (request, reply) => {
    const { id, attachmentId } = request.params as { id: string; attachmentId: string };
    const opened = await deps.web.attachments.open(contextOf(request), id, attachmentId);
    const safeName = opened.attachment.filename.replace(/[^\w.\- ]/g, '_');
    return reply
      .type(opened.attachment.content_type)
      .header('content-disposition', `attachment; filename="${safeName}"; filename*=UTF-8''${encodeURIComponent(opened.attachment.filename)}`)
      .send(opened.stream);
  });
}
