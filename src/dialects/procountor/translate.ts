import type { AppError } from '../../shared/errors.js';
import type { BillTo, Invoice } from '../../modules/invoices/domain/model.js';
import type { ClientTotalCheck } from '../../modules/invoices/domain/client-totals.js';
import type { LineInput } from '../../modules/invoices/schemas.js';
import { asNumber, type CoreWriteCommand, type DialectErrorReply } from '../common.js';
import type { ProcountorInvoiceWrite } from './schemas.js';

/**
 * Procountor ⇄ Folio, pure (docs/dialects/procountor.md). `invoiceRows` are the full row set,
 * matched to the invoice's lines by position (row 1 updates line 1…, extra rows are added, missing
 * ones removed). Only unfinished (draft) invoices change, except `notes`, editable in any state.
 * PUT never changes the status.
 */
export const procountorEditableStatuses = ['draft'] as const;
/**
 * Changes to these fields pass on finalized invoices: notes (the internal note), and the invoice's
 * documents (the seed: "proof of service might be required after an invoice has been issued").
 * The tenant's edit policy still applies (both stay editable until the invoice is void).
 */
export const procountorAnyStateFields = ['internal_note', 'attachments'] as const;

/**
 * The counterparty as a bill_to patch. A GET document carries nulls for everything unset; those are
 * left out unless they clear a value the invoice has, so a PUT-back stores exactly what was there.
 */
function billToOf(counterParty: ProcountorInvoiceWrite['counterParty'], current: BillTo | null): BillTo | null | undefined {
  if (counterParty === undefined) return undefined;
  if (counterParty === null) return null;
  const billTo: BillTo = {};
  const set = <K extends keyof BillTo>(key: K, value: BillTo[K] | undefined) => {
    if (value === undefined || (value === null && (current?.[key] ?? null) === null)) return;
    billTo[key] = value;
  };
  set('tax_id', counterParty.identifier);
  set('email', counterParty.email);
  set('phone', counterParty.phone);
  const address = counterParty.counterPartyAddress;
  if (address === null) set('address', null);
  else if (address) {
    set('name', address.name);
    const fields = {
      line1: address.street,
      line2: address.specifier,
      postal_code: address.zip,
      city: address.city,
      country: address.country ? address.country.toUpperCase() : address.country,
    };
    // The address is replaced whole: unset members are simply absent.
    billTo.address = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== null));
  }
  return billTo;
}

export function procountorToWrite(request: ProcountorInvoiceWrite, current: Invoice | null): CoreWriteCommand {
  const body: CoreWriteCommand['body'] = {};
  const clientTotals: ClientTotalCheck[] = [];
  const set = <K extends keyof CoreWriteCommand['body']>(key: K, value: CoreWriteCommand['body'][K] | undefined) => {
    if (value !== undefined) body[key] = value;
  };
  set('number', request.invoiceNumber === '' ? null : request.invoiceNumber);
  set('issue_date', request.date);
  set('purchase_order', request.orderReference);
  set('memo', request.additionalInformation);
  set('internal_note', request.notes);
  set('bill_to', billToOf(request.counterParty, current?.bill_to ?? null));
  const payment = request.paymentInfo;
  if (payment) {
    set('due_date', payment.dueDate);
    set('reference', payment.bankReferenceCode);
    set('currency', payment.currency);
    set('exchange_rate', payment.currencyRate);
    if (payment.paymentTermDays !== undefined) body.payment_terms = payment.paymentTermDays === null ? null : { net_days: payment.paymentTermDays };
  }
  if (request.totalAmount !== undefined) clientTotals.push({ pointer: '/totalAmount', sent: request.totalAmount, figure: 'total' });
  if (request.vatAmount !== undefined) clientTotals.push({ pointer: '/vatAmount', sent: request.vatAmount, figure: 'tax_total' });
  if (request.invoiceRows) {
    body.lines = request.invoiceRows.map((row, index): LineInput => {
      const existing = current?.lines[index];
      const line: LineInput = existing ? { id: existing.id } : {};
      if (row.product !== undefined) line.description = row.product;
      if (row.productCode !== undefined) line.item_code = row.productCode;
      if (row.unit !== undefined) line.unit = row.unit;
      line.quantity = row.quantity;
      line.unit_price = row.unitPrice;
      if (row.vatPercent !== undefined) line.tax_rate = row.vatPercent;
      if (row.discountPercent !== undefined) {
        line.discount = row.discountPercent === null || Number(row.discountPercent) === 0 ? null : { type: 'percent', value: row.discountPercent };
      }
      if (row.totalAmount !== undefined) clientTotals.push({ pointer: `/invoiceRows/${index}/totalAmount`, sent: row.totalAmount, line: index, figure: 'gross_amount' });
      return line;
    });
  }
  return {
    body,
    options: {
      requireStatus: procountorEditableStatuses,
      requireStatusExempt: procountorAnyStateFields,
      clientTotals,
      ...(request.attachments ? { keepAttachments: { ids: request.attachments.map((attachment) => attachment.id), pointer: '/attachments' } } : {}),
    },
  };
}

function procountorStatus(invoice: Invoice): string {
  if (invoice.status === 'draft') return 'UNFINISHED';
  if (invoice.status === 'paid') return 'PAID';
  if (invoice.status === 'void') return 'INVALIDATED';
  return Number(invoice.amount_paid) > 0 ? 'PARTLY_PAID' : 'SENT';
}

/** Procountor's `version`: the moment of the invoice's current version (it changes with every version). */
export const procountorVersion = (invoice: Invoice) => invoice.updated_at;

export function invoiceToProcountor(invoice: Invoice) {
  const billTo = invoice.bill_to;
  const address = billTo?.address;
  return {
    id: invoice.serial,
    type: 'SALES_INVOICE',
    status: procountorStatus(invoice),
    invoiceNumber: invoice.number,
    version: procountorVersion(invoice),
    date: invoice.issue_date,
    counterParty: billTo
      ? {
          identifier: billTo.tax_id ?? null,
          email: billTo.email ?? null,
          phone: billTo.phone ?? null,
          counterPartyAddress: {
            name: billTo.name ?? null,
            specifier: address?.line2 ?? null,
            street: address?.line1 ?? null,
            zip: address?.postal_code ?? null,
            city: address?.city ?? null,
            country: address?.country ?? null,
          },
        }
      : null,
    paymentInfo: {
      paymentMethod: 'BANK_TRANSFER',
      currency: invoice.currency,
      currencyRate: asNumber(invoice.exchange_rate),
      dueDate: invoice.due_date,
      paymentTermDays: invoice.payment_terms?.net_days ?? null,
      bankReferenceCode: invoice.reference,
    },
    orderReference: invoice.purchase_order,
    invoiceRows: invoice.lines.map((line) => ({
      product: line.description,
      productCode: line.item_code,
      quantity: asNumber(line.quantity) as number,
      unit: line.unit,
      unitPrice: asNumber(line.unit_price) as number,
      // An amount discount has no Procountor field: left out, so a PUT of this document keeps it.
      ...(line.discount?.type === 'amount' ? {} : { discountPercent: line.discount ? asNumber(line.discount.value) : 0 }),
      vatPercent: asNumber(line.tax_rate) ?? 0,
      totalAmount: asNumber(line.gross_amount) as number,
    })),
    additionalInformation: invoice.memo,
    notes: invoice.internal_note,
    attachments: invoice.attachments.map((attachment) => ({ id: attachment.id, name: attachment.filename, mimeType: attachment.content_type })),
    totalAmount: asNumber(invoice.total) as number,
    vatAmount: asNumber(invoice.tax_total) as number,
  };
}

const rowFields: Record<string, string> = { description: 'product', item_code: 'productCode', quantity: 'quantity', unit: 'unit', unit_price: 'unitPrice', discount: 'discountPercent', tax_rate: 'vatPercent' };
const headerFields: Record<string, string> = {
  '/number': '/invoiceNumber',
  '/issue_date': '/date',
  '/due_date': '/paymentInfo/dueDate',
  '/payment_terms': '/paymentInfo/paymentTermDays',
  '/reference': '/paymentInfo/bankReferenceCode',
  '/currency': '/paymentInfo/currency',
  '/exchange_rate': '/paymentInfo/currencyRate',
  '/purchase_order': '/orderReference',
  '/memo': '/additionalInformation',
  '/internal_note': '/notes',
  '/bill_to': '/counterParty',
  '/lines': '/invoiceRows',
  '/total': '/totalAmount',
  '/tax_total': '/vatAmount',
};

/** Native pointer → Procountor's field path ("invoiceRows[0].quantity"). */
export function procountorField(pointer: string): string {
  const row = /^\/lines\/(\d+)(?:\/(\w+))?/.exec(pointer);
  let path = row ? `/invoiceRows/${row[1]}${row[2] ? `/${rowFields[row[2]] ?? row[2]}` : ''}` : (headerFields[pointer] ?? pointer);
  if (!row && pointer.startsWith('/bill_to/')) path = `/counterParty${pointer.slice('/bill_to'.length)}`;
  return path
    .replace(/^\//, '')
    .split('/')
    .map((segment, index) => (/^\d+$/.test(segment) ? `[${segment}]` : `${index === 0 ? '' : '.'}${segment}`))
    .join('');
}

/**
 * A core problem → Procountor's `{ "errors": [{ "status", "field", "message" }] }`. Refused edits
 * and total mismatches are 400 (as Procountor validates), a stale `version` is 409.
 */
export function procountorError(problem: AppError): DialectErrorReply {
  const status = problem.status === 422 ? 400 : problem.status === 412 ? 409 : problem.status === 428 ? 400 : problem.status;
  const fieldErrors = problem.errors ?? [];
  const errors =
    fieldErrors.length > 0
      ? fieldErrors.map((error) => ({ status, field: procountorField(error.pointer), message: `${error.detail}` }))
      : [{ status, message: problem.message }];
  return { status, body: { errors } };
}

/** OAuth token endpoint errors (RFC 6749 §5.2). */
export const oauthError = (status: number, error: string, description: string): DialectErrorReply => ({ status, body: { error, error_description: description } });
