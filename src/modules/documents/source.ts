import { Dec, formatAmount, formatDecimal, type RoundingMode } from '../../shared/money.js';
import type { CreditNote } from '../credit-notes/domain.js';
import type { BillTo, Invoice } from '../invoices/domain/model.js';
import type { TaxMode } from '../invoices/domain/totals.js';

/**
 * The one shape every renderer reads: an invoice at a version, or a credit note with the
 * invoice it credits. Only fields that are part of the version go in (no render time, no
 * updated_at), so the same version renders to the same bytes.
 */
export interface SourceLine {
  description: string | null;
  quantity: string;
  unit: string | null;
  /** As entered: net of tax when taxMode is exclusive, tax included when inclusive. */
  unitPrice: string;
  /** Percent, e.g. "24"; null when the line has no tax. */
  taxRate: string | null;
  /** Discount as written on the invoice line ("10 %", or an amount), for the PDF. */
  discountLabel: string | null;
  discountAmount: string;
  netAmount: string;
  taxAmount: string;
  grossAmount: string;
  itemCode: string | null;
}

export interface SourceDocument {
  kind: 'invoice' | 'credit_note';
  id: string;
  number: string | null;
  status: Invoice['status'] | 'issued';
  version: number | null;
  currency: string;
  taxMode: TaxMode;
  roundingMode: RoundingMode;
  issueDate: string;
  dueDate: string | null;
  netDays: number | null;
  reference: string | null;
  purchaseOrder: string | null;
  memo: string | null;
  billTo: BillTo | null;
  lines: SourceLine[];
  subtotal: string;
  discountTotal: string;
  taxTotal: string;
  total: string;
  taxBreakdown: Invoice['tax_breakdown'];
  amountPaid: string;
  amountCredited: string;
  /** What is left to pay according to this version (total − paid − credited); a credit note's total. */
  amountDue: string;
  /** The credited invoice (BG-3), for credit notes. */
  precedingInvoice: { id: string; number: string | null; issueDate: string | null } | null;
  creditReason: string | null;
}

function discountLabel(line: Invoice['lines'][number]): string | null {
  if (!line.discount) return null;
  return line.discount.type === 'percent' ? `${line.discount.value} %` : line.discount.value;
}

export function invoiceSource(invoice: Invoice): SourceDocument {
  return {
    kind: 'invoice',
    id: invoice.id,
    number: invoice.number,
    status: invoice.status,
    version: invoice.version,
    currency: invoice.currency,
    taxMode: invoice.tax_mode,
    roundingMode: invoice.rounding_mode,
    // A draft has no issue date yet; its creation date stands in (fixed for every version).
    issueDate: invoice.issue_date ?? invoice.created_at.slice(0, 10),
    dueDate: invoice.due_date,
    netDays: invoice.payment_terms?.net_days ?? null,
    reference: invoice.reference,
    purchaseOrder: invoice.purchase_order,
    memo: invoice.memo,
    billTo: invoice.bill_to,
    lines: invoice.lines.map((line) => ({
      description: line.description,
      quantity: line.quantity,
      unit: line.unit,
      unitPrice: line.unit_price,
      taxRate: line.tax_rate,
      discountLabel: discountLabel(line),
      discountAmount: line.discount_amount,
      netAmount: line.net_amount,
      taxAmount: line.tax_amount,
      grossAmount: line.gross_amount,
      itemCode: line.item_code,
    })),
    subtotal: invoice.subtotal,
    discountTotal: invoice.discount_total,
    taxTotal: invoice.tax_total,
    total: invoice.total,
    taxBreakdown: invoice.tax_breakdown,
    amountPaid: invoice.amount_paid,
    amountCredited: invoice.amount_credited,
    amountDue: invoice.balance,
    precedingInvoice: null,
    creditReason: null,
  };
}

/** A credit note, with the buyer, tax mode and rounding of the invoice it credits. */
export function creditNoteSource(note: CreditNote, credited: Invoice): SourceDocument {
  const zero = formatAmount(new Dec(0), note.currency);
  return {
    kind: 'credit_note',
    id: note.id,
    number: note.number,
    status: 'issued',
    version: null,
    currency: note.currency,
    taxMode: credited.tax_mode,
    roundingMode: credited.rounding_mode,
    issueDate: note.issue_date,
    dueDate: null,
    netDays: null,
    reference: credited.reference,
    purchaseOrder: credited.purchase_order,
    memo: null,
    billTo: credited.bill_to,
    lines: note.lines.map((line) => ({
      description: line.description,
      quantity: line.quantity,
      unit: line.unit,
      unitPrice: line.unit_price,
      taxRate: line.tax_rate,
      discountLabel: null,
      discountAmount: zero,
      netAmount: line.net_amount,
      taxAmount: line.tax_amount,
      grossAmount: line.gross_amount,
      itemCode: null,
    })),
    subtotal: note.subtotal,
    discountTotal: zero,
    taxTotal: note.tax_total,
    total: note.total,
    taxBreakdown: breakdownOf(note.lines, note.currency),
    amountPaid: zero,
    amountCredited: zero,
    amountDue: note.total,
    precedingInvoice: { id: credited.id, number: credited.number, issueDate: credited.issue_date },
    creditReason: note.reason,
  };
}

/** Groups rounded line figures by tax rate (none counts as 0), ascending, like the invoice's breakdown. */
function breakdownOf(lines: CreditNote['lines'], currency: string): Invoice['tax_breakdown'] {
  const rows = new Map<string, { rate: Dec; taxable: Dec; tax: Dec }>();
  for (const line of lines) {
    const rate = new Dec(line.tax_rate ?? 0);
    const key = formatDecimal(rate);
    const row = rows.get(key) ?? { rate, taxable: new Dec(0), tax: new Dec(0) };
    row.taxable = row.taxable.plus(line.net_amount);
    row.tax = row.tax.plus(line.tax_amount);
    rows.set(key, row);
  }
  return [...rows.values()]
    .sort((a, b) => a.rate.comparedTo(b.rate))
    .map((row) => ({ tax_rate: formatDecimal(row.rate), taxable_amount: formatAmount(row.taxable, currency), tax_amount: formatAmount(row.tax, currency) }));
}
