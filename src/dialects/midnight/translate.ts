import { AppError, type FieldError } from '../../shared/errors.js';
import { sentDecimal, taxRateFromAmount } from '../common.js';
import type { Invoice, InvoiceLine } from '../../modules/invoices/domain/model.js';
import type { InvoiceWrite, LineInput } from '../../modules/invoices/schemas.js';
import type { ClientTotalCheck } from '../../modules/invoices/domain/client-totals.js';
import { FieldPaths } from '../field-paths.js';
import type { MidnightInvoiceLine, MidnightInvoiceLineItem, MidnightInvoiceUpdateRequest } from './schemas.js';

/**
 * PRC / Midnight ⇄ Folio, pure (docs/dialects/midnight.md has the table):
 *  - `toWriteCommand`: an InvoiceUpdateRequest → the core's PATCH write, given the invoice as it
 *    stands (to match lines by guid); `paths` names every core field by the Midnight field it came from;
 *  - `toMidnightInvoice`: an invoice → Midnight's InvoiceUpdateRequest shape (the read);
 *  - `toMidnightError`: a core problem → Midnight's status and error body.
 */

/** Fields Midnight sends that Folio keeps verbatim under `metadata.midnight` (no Folio field of their own). */
export const keptInvoiceFields = [
  'InvoiceNumberExt',
  'CustomerId',
  'UserName',
  'TermsCode',
  'PaymentBilledDateTime',
  'AddressLine3',
  'Extension',
  'ContactID',
  'SourceModule',
  'InvoiceTitle',
  'DisplayItem',
  'InvoiceStatus',
  'ItemDisplaySetting',
] as const;

type KeptValue = string | number | boolean;

export interface MidnightWrite {
  /** The core write (PATCH semantics). */
  write: InvoiceWrite;
  /** Figures with no write field of their own (PaymentDueAmount → balance), checked by the core after the write. */
  clientTotals: ClientTotalCheck[];
  paths: FieldPaths;
}

/** .NET's DateTime.MinValue: what a client sends for a date it never set; read as "not sent". */
const unsetDotNetDate = /^0001-01-01/;

/** `2024-04-29T12:35:06.5639005-04:00` → `2024-04-29`: the calendar date as the client wrote it. */
export function midnightDate(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined || unsetDotNetDate.test(value)) return undefined;
  return value.slice(0, 10);
}

const present = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

/** The tax rate (percent) that turns quantity × unit price into `tax` (Midnight sends a line's tax as an amount). */
function derivedTaxRate(tax: string | number, quantity: string | number, unitPrice: string | number): string | null | undefined {
  const q = sentDecimal(quantity);
  const price = sentDecimal(unitPrice);
  return taxRateFromAmount(tax, q && price ? q.times(price) : null);
}

/** What the translation reads of the invoice being updated: its lines (matched by guid) and what Midnight kept before. */
export type UpdatedInvoice = Pick<Invoice, 'lines' | 'metadata'>;

export function toWriteCommand(request: MidnightInvoiceUpdateRequest, current: UpdatedInvoice): MidnightWrite {
  const paths = new FieldPaths();
  const write: MidnightWrite['write'] = {};
  const put = <K extends keyof MidnightWrite['write']>(key: K, value: MidnightWrite['write'][K] | null | undefined, midnightName: string) => {
    if (value === null || value === undefined) return;
    write[key] = value;
    paths.set(`/${String(key)}`, midnightName);
  };

  put('number', request.InvoiceNumber, 'InvoiceNumber');
  put('issue_date', midnightDate(request.InvoiceDate), 'InvoiceDate');
  put('due_date', midnightDate(request.InvoiceDueDate), 'InvoiceDueDate');
  put('memo', request.InvoiceNote, 'InvoiceNote');
  put('internal_note', request.Note, 'Note');
  put('purchase_order', request.PurchaseOrderNumber, 'PurchaseOrderNumber');
  put('subtotal', request.SubTotalBilledAmount, 'SubTotalBilledAmount');
  put('tax_total', request.InvoiceTaxAmount, 'InvoiceTaxAmount');
  put('total', request.TotalBilledAmount, 'TotalBilledAmount');
  const clientTotals: ClientTotalCheck[] = present(request.PaymentDueAmount) ? [{ pointer: 'PaymentDueAmount', sent: request.PaymentDueAmount, figure: 'balance' }] : [];

  const billTo = billToOf(request, paths);
  if (billTo) write.bill_to = billTo;

  const kept = keptFieldsOf(request, current);
  if (kept) {
    write.metadata = { midnight: kept };
    paths.set('/metadata/midnight', 'InvoiceUpdateRequest');
  }

  if (present(request.InvoiceLine)) write.lines = linesOf(request.InvoiceLine, current, paths);
  return { write, clientTotals, paths };
}

/** InvoiceInsert: the same body creates a draft (a Guid, if sent, is ignored: Folio gives the new invoice its own). */
export function toInsertCommand(request: MidnightInvoiceUpdateRequest): MidnightWrite {
  return toWriteCommand(request, { lines: [], metadata: {} });
}

function billToOf(request: MidnightInvoiceUpdateRequest, paths: FieldPaths): InvoiceWrite['bill_to'] | undefined {
  const address: Record<string, string> = {};
  const addressFields = [
    ['AddressLine1', 'line1'],
    ['AddressLine2', 'line2'],
    ['City', 'city'],
    ['StateCode', 'region'],
    ['ZipCode', 'postal_code'],
  ] as const;
  for (const [midnight, folio] of addressFields) {
    const value = request[midnight];
    if (!present(value)) continue;
    address[folio] = value;
    paths.set(`/bill_to/address/${folio}`, midnight);
  }
  const billTo: Record<string, unknown> = {};
  if (present(request.EmailAddress)) {
    billTo.email = request.EmailAddress;
    paths.set('/bill_to/email', 'EmailAddress');
  }
  if (present(request.Phone)) {
    billTo.phone = request.Phone;
    paths.set('/bill_to/phone', 'Phone');
  }
  if (Object.keys(address).length > 0) billTo.address = address;
  return Object.keys(billTo).length > 0 ? (billTo as InvoiceWrite['bill_to']) : undefined;
}

/** Midnight's fields without a Folio field, merged over what an earlier request kept. */
function keptFieldsOf(request: MidnightInvoiceUpdateRequest, current: UpdatedInvoice): Record<string, KeptValue> | undefined {
  const sent: Record<string, KeptValue> = {};
  for (const name of keptInvoiceFields) {
    const value = request[name];
    if (present(value)) sent[name] = value;
  }
  if (Object.keys(sent).length === 0) return undefined;
  const before = (current.metadata as Record<string, unknown>).midnight;
  const earlier = before !== null && typeof before === 'object' && !Array.isArray(before) ? (before as Record<string, KeptValue>) : {};
  return { ...earlier, ...sent };
}

/**
 * `InvoiceLine` is the invoice's full line set: each InvoiceLine is a parent line and its
 * InvoiceLineItems its child lines. A line whose InvoiceLineGuid is the guid of one of this
 * invoice's parent lines updates it, and its items update that line's children in order
 * (items beyond them are added, children beyond the items removed); any other line is added.
 */
function linesOf(sentLines: MidnightInvoiceLine[], current: UpdatedInvoice, paths: FieldPaths): LineInput[] {
  const parentsByGuid = new Map<string, InvoiceLine>();
  for (const line of current.lines) {
    const guid = line.guid;
    if (line.parent_line_id === null && guid) parentsByGuid.set(guid.toLowerCase(), line);
  }
  const claimed = new Set<string>();
  const entries: LineInput[] = [];
  sentLines.forEach((sent, lineIndex) => {
    const name = `InvoiceLine[${lineIndex}]`;
    const matched = present(sent.InvoiceLineGuid) ? parentsByGuid.get(sent.InvoiceLineGuid.toLowerCase()) : undefined;
    const existing = matched && !claimed.has(matched.id) ? matched : undefined;
    if (existing) claimed.add(existing.id);
    const parentRef = `midnight-line-${lineIndex}`;
    const parent = lineEntry(existing, sent.Quantity, sent.Rate, sent.Tax);
    if (present(sent.Title)) parent.description = sent.Title;
    if (present(sent.ItemId)) parent.item_code = String(sent.ItemId);
    if (present(sent.LineSubTotal)) parent.net_amount = sent.LineSubTotal;
    if (present(sent.AmountBilled)) parent.gross_amount = sent.AmountBilled;
    if (!existing) parent.ref = parentRef;
    recordLinePaths(paths, entries.length, name, { unit_price: 'Rate', description: 'Title', item_code: 'ItemId', net_amount: 'LineSubTotal', gross_amount: 'AmountBilled' });
    entries.push(parent);

    const children = existing ? current.lines.filter((line) => line.parent_line_id === existing.id) : [];
    (sent.InvoiceLineItem ?? []).forEach((item, itemIndex) => {
      const child = itemEntry(children[itemIndex], item);
      if (existing) child.parent_line_id = existing.id;
      else child.parent_ref = parentRef;
      recordLinePaths(paths, entries.length, `${name}.InvoiceLineItem[${itemIndex}]`, { unit_price: 'Amount', account_code: 'AccountingGLID', item_code: 'ServiceID' });
      entries.push(child);
    });
  });
  return entries;
}

function recordLinePaths(paths: FieldPaths, entryIndex: number, name: string, own: Record<string, string>) {
  const at = `/lines/${entryIndex}`;
  paths.set(at, name).set(`${at}/quantity`, `${name}.Quantity`).set(`${at}/tax_rate`, `${name}.Tax`).set(`${at}/tax_amount`, `${name}.Tax`);
  for (const [folio, midnight] of Object.entries(own)) paths.set(`${at}/${folio}`, `${name}.${midnight}`);
}

/** The figures both kinds of line share: quantity, unit price and tax (as a derived rate, checked as an amount). */
function lineEntry(existing: InvoiceLine | undefined, quantity: string | number | null | undefined, unitPrice: string | number | null | undefined, tax: string | number | null | undefined): LineInput {
  const entry: LineInput = existing ? { id: existing.id } : {};
  if (present(quantity)) entry.quantity = quantity;
  if (present(unitPrice)) entry.unit_price = unitPrice;
  else if (!existing) entry.unit_price = '0';
  if (present(tax)) {
    const rate = derivedTaxRate(tax, quantity ?? existing?.quantity ?? '1', unitPrice ?? existing?.unit_price ?? '0');
    if (rate !== undefined) entry.tax_rate = rate;
    entry.tax_amount = tax;
  }
  return entry;
}

function itemEntry(existing: InvoiceLine | undefined, item: MidnightInvoiceLineItem): LineInput {
  const entry = lineEntry(existing, item.Quantity, item.Amount, item.Tax);
  if (present(item.AccountingGLID)) entry.account_code = item.AccountingGLID;
  if (present(item.ServiceID)) entry.item_code = String(item.ServiceID);
  return entry;
}

// ---------- invoice → Midnight ----------

const amount = (value: string | null) => (value === null ? 0 : Number(value));
const dotNetDate = (date: string | null) => (date === null ? null : `${date}T00:00:00`);

/** The invoice in Midnight's InvoiceUpdateRequest shape (what InvoiceSelect answers). */
export function toMidnightInvoice(invoice: Invoice) {
  const kept = ((invoice.metadata as Record<string, unknown>).midnight ?? {}) as Record<string, KeptValue>;
  const address = invoice.bill_to?.address ?? {};
  const parents = invoice.lines.filter((line) => line.parent_line_id === null);
  return {
    Guid: invoice.guid,
    InvoiceID: invoice.serial,
    InvoiceNumber: invoice.number,
    InvoiceNumberExt: kept.InvoiceNumberExt ?? null,
    CustomerId: kept.CustomerId ?? null,
    UserName: kept.UserName ?? null,
    InvoiceDate: dotNetDate(invoice.issue_date),
    InvoiceDueDate: dotNetDate(invoice.due_date),
    TermsCode: kept.TermsCode ?? null,
    SubTotalBilledAmount: amount(invoice.subtotal),
    InvoiceTaxAmount: amount(invoice.tax_total),
    TotalBilledAmount: amount(invoice.total),
    PaymentDueAmount: amount(invoice.balance),
    PaymentBilledDateTime: kept.PaymentBilledDateTime ?? null,
    AddressLine1: address.line1 ?? null,
    AddressLine2: address.line2 ?? null,
    AddressLine3: kept.AddressLine3 ?? null,
    City: address.city ?? null,
    StateCode: address.region ?? null,
    ZipCode: address.postal_code ?? null,
    Phone: invoice.bill_to?.phone ?? null,
    Extension: kept.Extension ?? null,
    EmailAddress: invoice.bill_to?.email ?? null,
    ContactID: kept.ContactID ?? null,
    InvoiceNote: invoice.memo,
    SourceModule: kept.SourceModule ?? null,
    InvoiceTitle: kept.InvoiceTitle ?? null,
    Note: invoice.internal_note,
    DisplayItem: kept.DisplayItem ?? null,
    InvoiceStatus: kept.InvoiceStatus ?? invoice.status,
    InvoiceLine: parents.map((parent) => ({
      InvoiceLineGuid: parent.guid,
      Title: parent.description,
      Quantity: amount(parent.quantity),
      Rate: amount(parent.unit_price),
      LineSubTotal: amount(parent.net_amount),
      Tax: amount(parent.tax_amount),
      AmountBilled: amount(parent.gross_amount),
      ItemId: parent.item_code !== null && /^\d{1,9}$/.test(parent.item_code) ? Number(parent.item_code) : null,
      InvoiceLineItem: invoice.lines
        .filter((line) => line.parent_line_id === parent.id)
        .map((child) => ({
          Quantity: amount(child.quantity),
          Amount: amount(child.unit_price),
          Tax: amount(child.tax_amount),
          AccountingGLID: child.account_code,
          ServiceID: child.item_code !== null && /^\d{1,9}$/.test(child.item_code) ? Number(child.item_code) : null,
        })),
    })),
    PurchaseOrderNumber: invoice.purchase_order,
    ItemDisplaySetting: kept.ItemDisplaySetting ?? null,
  };
}

// ---------- core problem → Midnight ----------

export interface MidnightError {
  status: number;
  body: { Message: string; ModelState?: Record<string, string[]> };
}

/**
 * Midnight speaks ASP.NET Web API: refusals are `{"Message": …}` (plus `ModelState` keyed by the
 * request's field names). Business refusals and total mismatches are 400 Bad Request there
 * (Web API has no 422 convention); authentication 401, unknown invoice 404, the rest keep their status.
 */
export function toMidnightError(error: AppError, paths: FieldPaths = new FieldPaths()): MidnightError {
  const status = error.status === 422 ? 400 : error.status;
  const fieldErrors = paths.rewriteErrors(error.errors);
  const body: MidnightError['body'] = { Message: paths.rewriteText(error.message) };
  if (fieldErrors.length > 0) {
    const modelState: Record<string, string[]> = {};
    for (const fieldError of fieldErrors) {
      const key = `request.${fieldError.field.replace(/^\//, '').replace(/\//g, '.')}`;
      modelState[key] = [...(modelState[key] ?? []), detailOf(fieldError)];
    }
    body.ModelState = modelState;
    if (error.problemType === 'total-mismatch' || error.problemType === 'validation-error') {
      body.Message = `${error.problemType === 'total-mismatch' ? 'A figure differs from the server\'s' : 'The request is invalid'}: ${fieldErrors.map((fieldError) => `${fieldError.field} ${detailOf(fieldError)}`).join('; ')}.`;
    }
  }
  return { status, body };
}

const detailOf = (error: FieldError) => error.detail;

/** A Midnight refusal raised by the dialect itself (missing Guid, unknown connection, …). */
export const midnightRefusal = (type: 'validation-error' | 'unauthorized' | 'not-found', message: string, field?: string) =>
  new AppError(type, message, field ? { errors: [{ pointer: `/${field}`, detail: message }] } : {});
