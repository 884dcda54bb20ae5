import type { AppError } from '../../shared/errors.js';
import type { Invoice, InvoiceLine } from '../../modules/invoices/domain/model.js';
import type { ClientTotalCheck } from '../../modules/invoices/domain/client-totals.js';
import type { LineInput } from '../../modules/invoices/schemas.js';
import { Dec } from '../../shared/money.js';
import { asNumber, dotted, renamePointers, sentDecimal, taxRateFromAmount, type CoreWriteCommand, type DialectErrorReply } from '../common.js';
import type { StaxInvoiceWrite } from './schemas.js';

/**
 * Stax Pay ⇄ Folio, pure (docs/dialects/stax.md has the table). A Stax line's `item` and
 * `details` are the first line and the rest of the Folio line description.
 */

/** `meta` keys that are Folio fields; the other keys are the invoice's metadata, verbatim. */
const mappedMetaKeys = new Set(['lineItems', 'subtotal', 'tax', 'memo', 'reference']);

/** Stax accepts edits until an invoice is fully paid (void invoices are Stax's deleted ones). */
export const staxEditableStatuses = ['draft', 'open'] as const;

function splitDescription(description: string | null): { item: string | null; details: string | null } {
  if (description === null) return { item: null, details: null };
  const at = description.indexOf('\n');
  return at < 0 ? { item: description, details: null } : { item: description.slice(0, at), details: description.slice(at + 1) };
}

function joinDescription(item: string | null, details: string | null): string | null {
  const parts = [item, details].filter((part): part is string => part !== null && part !== '');
  return parts.length === 0 ? null : parts.join('\n');
}

/** A Stax request → the core write: lines (full set when lineItems is sent), memo, reference, metadata (replaced), files, checks. */
export function staxToWrite(request: StaxInvoiceWrite, current: Invoice | null): CoreWriteCommand {
  const body: CoreWriteCommand['body'] = {};
  const clientTotals: ClientTotalCheck[] = [];
  if (request.customer_id !== undefined) body.customer_id = request.customer_id;
  if (request.total !== undefined) clientTotals.push({ pointer: '/total', sent: request.total, figure: 'total' });
  const meta = request.meta;
  let replaceMetadata = false;
  if (meta) {
    if ('memo' in meta) body.memo = meta.memo ?? null;
    if ('reference' in meta) body.reference = meta.reference ?? null;
    if (meta.subtotal !== undefined) clientTotals.push({ pointer: '/meta/subtotal', sent: meta.subtotal, figure: 'subtotal' });
    if (meta.tax !== undefined) clientTotals.push({ pointer: '/meta/tax', sent: meta.tax, figure: 'tax_total' });
    body.metadata = Object.fromEntries(Object.entries(meta).filter(([key]) => !mappedMetaKeys.has(key)));
    replaceMetadata = true;
    if (meta.lineItems) {
      const byKey = new Map<string, InvoiceLine>();
      for (const line of current?.lines ?? []) {
        byKey.set(line.id, line);
        byKey.set(line.guid, line);
      }
      body.lines = meta.lineItems.map((entry): LineInput => {
        const existing = entry.id ? byKey.get(entry.id.toLowerCase()) ?? byKey.get(entry.id) : undefined;
        const was = splitDescription(existing?.description ?? null);
        const line: LineInput = existing ? { id: existing.id } : {};
        if (entry.item !== undefined || entry.details !== undefined || !existing) {
          line.description = joinDescription(entry.item !== undefined ? entry.item : was.item, entry.details !== undefined ? entry.details : was.details);
        }
        if (entry.quantity !== undefined) line.quantity = entry.quantity;
        if (entry.price !== undefined) line.unit_price = entry.price;
        if (entry.tax_rate !== undefined) line.tax_rate = entry.tax_rate;
        return line;
      });
    }
    applyInvoiceTax(body, meta, current);
  }
  return {
    body,
    options: {
      requireStatus: staxEditableStatuses,
      clientTotals,
      replaceMetadata,
      ...(request.files ? { keepAttachments: { ids: request.files.map((file) => file.id), pointer: '/files' } } : {}),
    },
  };
}

/**
 * Stax sends tax as one invoice amount (`meta.tax`; its line items carry only id, item, details,
 * quantity and price). Unless the request gives per-line `tax_rate`s (a Folio extension), a sent
 * tax that differs from what the lines give becomes one rate on every line, derived as
 * tax / subtotal (the sent `meta.subtotal`, else Σ quantity × price), rounded to 4 decimals; the
 * sent tax and subtotal are then checked against the server's figures as always.
 */
function applyInvoiceTax(body: CoreWriteCommand['body'], meta: NonNullable<StaxInvoiceWrite['meta']>, current: Invoice | null) {
  if (meta.tax === undefined) return;
  if (meta.lineItems?.some((entry) => entry.tax_rate !== undefined)) return;
  const sentTax = sentDecimal(meta.tax);
  const lines: LineInput[] | undefined = body.lines ?? current?.lines.map((line) => ({ id: line.id }));
  if (!lines || lines.length === 0 || !sentTax) return;
  // Lines not sent keep their rates when the tax already agrees (a memo-only PUT with the tax as read).
  if (!body.lines && current && sentTax.eq(new Dec(current.tax_total))) return;
  const byId = new Map((current?.lines ?? []).map((line) => [line.id, line]));
  const net = (line: LineInput) => {
    const existing = line.id ? byId.get(line.id) : undefined;
    const quantity = sentDecimal(line.quantity ?? existing?.quantity ?? '1');
    const price = sentDecimal(line.unit_price ?? existing?.unit_price ?? '0');
    return quantity && price ? quantity.times(price) : null;
  };
  const nets = lines.map(net);
  const subtotal = meta.subtotal !== undefined ? sentDecimal(meta.subtotal) : nets.every((value) => value !== null) ? nets.reduce((sum: Dec, value) => sum.plus(value as Dec), new Dec(0)) : null;
  const rate = taxRateFromAmount(meta.tax, subtotal);
  if (rate === undefined) return;
  body.lines = lines.map((line) => ({ ...line, tax_rate: rate }));
}

function staxStatus(invoice: Invoice): string {
  if (invoice.status === 'draft') return 'DRAFT';
  if (invoice.status === 'paid') return 'PAID';
  if (invoice.status === 'void') return 'DELETED';
  return Number(invoice.amount_paid) > 0 ? 'PARTIALLY APPLIED' : 'SENT';
}

/** Stax prints timestamps as "2017-05-08 21:23:29" (UTC). */
const staxTime = (iso: string | null) => (iso === null ? null : iso.slice(0, 19).replace('T', ' '));

/** The invoice in Stax's shape. */
export function invoiceToStax(invoice: Invoice) {
  const lineItems = invoice.lines.map((line) => ({
    id: line.guid,
    ...splitDescription(line.description),
    quantity: asNumber(line.quantity),
    price: asNumber(line.unit_price),
    tax_rate: asNumber(line.tax_rate),
    total: asNumber(line.gross_amount),
  }));
  return {
    id: invoice.guid,
    customer_id: invoice.customer_id,
    total: asNumber(invoice.total) as number,
    meta: {
      ...invoice.metadata,
      lineItems,
      subtotal: asNumber(invoice.subtotal),
      tax: asNumber(invoice.tax_total),
      memo: invoice.memo,
      reference: invoice.reference,
    },
    status: staxStatus(invoice),
    balance_due: asNumber(invoice.balance) as number,
    total_paid: asNumber(invoice.amount_paid) as number,
    files: invoice.attachments.map((file) => ({ id: file.id, name: file.filename, meta: { filesize: file.size_bytes, mime: file.content_type }, created_at: staxTime(file.created_at) })),
    url: null,
    sent_at: staxTime(invoice.finalized_at),
    paid_at: invoice.status === 'paid' ? staxTime(invoice.updated_at) : null,
    deleted_at: staxTime(invoice.voided_at),
    created_at: staxTime(invoice.created_at) as string,
    updated_at: staxTime(invoice.updated_at) as string,
  };
}

/** Native pointer → Stax field path. */
export function staxPointer(pointer: string): string {
  const line = /^\/lines\/(\d+)(?:\/(\w+))?/.exec(pointer);
  if (line) {
    const field = { description: 'item', unit_price: 'price', quantity: 'quantity', tax_rate: 'tax_rate', id: 'id' }[line[2] ?? ''] ?? line[2];
    return `/meta/lineItems/${line[1]}${field ? `/${field}` : ''}`;
  }
  if (pointer === '/lines') return '/meta/lineItems';
  if (pointer.startsWith('/metadata')) return `/meta${pointer.slice('/metadata'.length)}`;
  const renamed: Record<string, string> = { '/memo': '/meta/memo', '/reference': '/meta/reference', '/subtotal': '/meta/subtotal', '/tax_total': '/meta/tax' };
  return renamed[pointer] ?? pointer;
}

const badRequestTypes = new Set(['validation-error', 'malformed-request', 'total-mismatch', 'invalid-reference', 'unsupported-media-type', 'payload-too-large']);

/**
 * A core problem → Stax's answer: field errors as `{ "meta.lineItems.0.price": ["…"] }`, others
 * as `{ "error": "…" }`; 400 for invalid or unmodifiable fields, 401, 404, 422 for invoices Stax
 * cannot edit (fully paid, deleted) and the other edit rules.
 */
export function staxError(problem: AppError): DialectErrorReply {
  const status = badRequestTypes.has(problem.problemType)
    ? 400
    : problem.problemType === 'forbidden'
      ? 401
      : problem.status;
  const fieldErrors = renamePointers(problem.errors, staxPointer);
  if (fieldErrors.length > 0 && status === 400) {
    // No prototype: a client's field may be called `toString` or `__proto__`.
    const body: Record<string, string[]> = Object.create(null);
    for (const error of fieldErrors) {
      const field = dotted(error.pointer) || 'body';
      body[field] = [...(body[field] ?? []), error.detail];
    }
    return { status, body };
  }
  const paid = problem.problemType === 'status-precondition' && problem.extensions.status_now === 'paid';
  return { status, body: { error: paid ? 'A fully paid invoice cannot be edited.' : problem.message } };
}
