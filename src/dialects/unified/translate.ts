import type { AppError } from '../../shared/errors.js';
import type { Invoice, InvoiceLine } from '../../modules/invoices/domain/model.js';
import type { ClientTotalCheck } from '../../modules/invoices/domain/client-totals.js';
import type { LineInput } from '../../modules/invoices/schemas.js';
import { asNumber, dotted, renamePointers, type CoreWriteCommand, type DialectErrorReply } from '../common.js';
import type { UnifiedInvoiceWrite } from './schemas.js';

/**
 * The unified accounting API ⇄ Folio, pure (docs/dialects/unified.md). A PUT changes the header
 * fields it sends and replaces the whole line set with `lineItems`; a line's `totalAmount` is its
 * net amount (unitPrice × quantity after discount), the invoice's `totalAmount` includes tax.
 */

const dayMs = 86_400_000;

/** YYYY-MM-DD as sent, or epoch milliseconds (as this dialect answers) → YYYY-MM-DD (UTC). */
function toBusinessDate(value: string | number | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  return typeof value === 'number' ? new Date(Math.floor(value / dayMs) * dayMs).toISOString().slice(0, 10) : value;
}

const toEpochMs = (date: string | null) => (date === null ? null : Date.parse(`${date}T00:00:00Z`));

export function unifiedToWrite(request: UnifiedInvoiceWrite, current: Invoice | null): CoreWriteCommand {
  const body: CoreWriteCommand['body'] = {};
  const clientTotals: ClientTotalCheck[] = [];
  if (request.customerId !== undefined) body.customer_id = request.customerId;
  if (request.invoiceNumber !== undefined) body.number = request.invoiceNumber;
  if (request.issueDate !== undefined) body.issue_date = toBusinessDate(request.issueDate);
  if (request.dueDate !== undefined) body.due_date = toBusinessDate(request.dueDate);
  if (request.memo !== undefined) body.memo = request.memo;
  if (request.currency !== undefined) body.currency = request.currency;
  if (request.exchangeRate !== undefined) body.exchange_rate = request.exchangeRate;
  if (request.remoteFields !== undefined) body.metadata = request.remoteFields;
  if (request.totalAmount !== undefined) clientTotals.push({ pointer: '/totalAmount', sent: request.totalAmount, figure: 'total' });
  if (request.balance !== undefined) clientTotals.push({ pointer: '/balance', sent: request.balance, figure: 'balance' });

  const byGuid = new Map<string, InvoiceLine>((current?.lines ?? []).map((line) => [line.guid, line]));
  body.lines = request.lineItems.map((item, index): LineInput => {
    clientTotals.push({ pointer: `/lineItems/${index}/totalAmount`, sent: item.totalAmount, line: index, figure: 'net_amount' });
    const line: LineInput = { description: item.description };
    if (item.id !== undefined) line.id = byGuid.get(item.id.toLowerCase())?.id ?? item.id;
    if (item.unitPrice !== undefined) line.unit_price = item.unitPrice;
    else if (item.id === undefined) line.unit_price = '0';
    if (item.quantity !== undefined) line.quantity = item.quantity;
    if (item.accountingItemId !== undefined) line.item_code = item.accountingItemId;
    if (item.accountId !== undefined) line.account_code = item.accountId;
    return line;
  });
  return { body, options: { clientTotals, replaceMetadata: true } };
}

function unifiedStatus(invoice: Invoice): string {
  if (invoice.status === 'draft') return 'DRAFT';
  if (invoice.status === 'paid') return 'PAID';
  if (invoice.status === 'void') return 'VOID';
  return Number(invoice.amount_paid) > 0 ? 'PARTIALLY_PAID' : 'SUBMITTED';
}

/** The invoice in the seed's response schema. */
export function invoiceToUnified(invoice: Invoice) {
  const exchangeRate = asNumber(invoice.exchange_rate);
  return {
    invoice: {
      id: invoice.id,
      remoteId: invoice.id,
      customerId: invoice.customer_id,
      invoiceNumber: invoice.number,
      issueDate: toEpochMs(invoice.issue_date),
      dueDate: toEpochMs(invoice.due_date),
      paidOnDate: invoice.status === 'paid' ? Date.parse(invoice.updated_at) : null,
      memo: invoice.memo,
      companyId: null,
      currency: invoice.currency,
      exchangeRate,
      totalDiscount: invoice.discount_total,
      subTotal: invoice.subtotal,
      invoiceStatus: unifiedStatus(invoice),
      totalTaxAmount: invoice.tax_total,
      totalAmount: asNumber(invoice.total) as number,
      balance: asNumber(invoice.balance) as number,
      trackingCategories: [],
      lineItems: invoice.lines.map((line) => ({
        id: line.id,
        remoteId: line.guid,
        description: line.description,
        unitPrice: asNumber(line.unit_price) as number,
        quantity: asNumber(line.quantity) as number,
        totalAmount: asNumber(line.net_amount) as number,
        currency: invoice.currency,
        exchangeRate,
        accountingItemId: line.item_code,
        accountId: line.account_code,
        trackingCategoryId: null,
        trackingCategoryIds: [],
        companyId: null,
      })),
      purchaseOrders: invoice.purchase_order ? [invoice.purchase_order] : [],
      remoteFields: invoice.metadata,
      remoteCreatedAt: invoice.created_at,
      remoteUpdatedAt: invoice.updated_at,
      remoteDeleted: invoice.status === 'void',
      createdAt: invoice.created_at,
      updatedAt: invoice.updated_at,
    },
  };
}

const lineFieldNames: Record<string, string> = { description: 'description', unit_price: 'unitPrice', quantity: 'quantity', item_code: 'accountingItemId', account_code: 'accountId', id: 'id' };
const headerFieldNames: Record<string, string> = {
  '/customer_id': '/customerId',
  '/number': '/invoiceNumber',
  '/issue_date': '/issueDate',
  '/due_date': '/dueDate',
  '/exchange_rate': '/exchangeRate',
  '/lines': '/lineItems',
  '/total': '/totalAmount',
};

/** Native pointer → the unified API's field path. */
export function unifiedPointer(pointer: string): string {
  const line = /^\/lines\/(\d+)(?:\/(\w+))?/.exec(pointer);
  if (line) return `/lineItems/${line[1]}${line[2] ? `/${lineFieldNames[line[2]] ?? line[2]}` : ''}`;
  if (pointer.startsWith('/metadata')) return `/remoteFields${pointer.slice('/metadata'.length)}`;
  return headerFieldNames[pointer] ?? pointer;
}

/**
 * A core problem → `{ "statusCode", "error", "message", "errors": [{ "field", "message" }] }` with
 * the core's status (400 bad fields, 401, 403, 404, 409, 412, 422 rules and total mismatches).
 */
export function unifiedError(problem: AppError): DialectErrorReply {
  const errors = renamePointers(problem.errors, unifiedPointer).map((error) => ({ field: dotted(error.pointer), message: error.detail, ...(error.expected ? { expected: error.expected } : {}) }));
  return {
    status: problem.status,
    body: { statusCode: problem.status, error: problem.problemType, message: problem.message, ...(errors.length > 0 ? { errors } : {}) },
  };
}
