import { AppError, editNotAllowed, validationError, type FieldError } from '../../shared/errors.js';
import { Dec, formatAmount, formatDecimal, parseDecimalInput, type RoundingMode } from '../../shared/money.js';
import type { Invoice } from '../invoices/domain/model.js';
import { computeTotals } from '../invoices/domain/totals.js';

/** A credit note: a document that reduces what is owed on one invoice. Amounts are positive. */
export interface CreditNoteLine {
  description: string | null;
  quantity: string;
  unit: string | null;
  unit_price: string;
  tax_rate: string | null;
  net_amount: string;
  tax_amount: string;
  gross_amount: string;
}

export interface CreditNote {
  id: string;
  object: 'credit_note';
  number: string;
  invoice_id: string;
  /** The draft that replaces the credited invoice, when the credit note came from a revision. */
  revision_id: string | null;
  reason: string;
  currency: string;
  lines: CreditNoteLine[];
  subtotal: string;
  tax_total: string;
  total: string;
  issue_date: string;
  created_at: string;
}

/** The credit note that cancels an invoice in full: its lines and totals mirror the invoice's. */
export function fullCreditFor(
  invoice: Invoice,
  input: { id: string; number: string; reason: string; revisionId: string | null; issueDate: string; now: string },
): CreditNote {
  return {
    id: input.id,
    object: 'credit_note',
    number: input.number,
    invoice_id: invoice.id,
    revision_id: input.revisionId,
    reason: input.reason,
    currency: invoice.currency,
    lines: invoice.lines.map((line) => ({
      description: line.description,
      quantity: line.quantity,
      unit: line.unit,
      unit_price: line.unit_price,
      tax_rate: line.tax_rate,
      net_amount: line.net_amount,
      tax_amount: line.tax_amount,
      gross_amount: line.gross_amount,
    })),
    subtotal: invoice.subtotal,
    tax_total: invoice.tax_total,
    total: invoice.total,
    issue_date: input.issueDate,
    created_at: input.now,
  };
}

export interface CreditLineInput {
  description?: string | null;
  quantity: string | number;
  unit?: string | null;
  unit_price: string | number;
  tax_rate?: string | number | null;
}

/**
 * A partial credit: lines priced like invoice lines (the invoice's currency, tax mode and
 * rounding), positive amounts, and a total that fits in what is left to credit.
 */
export function partialCreditFor(
  invoice: Invoice,
  lines: CreditLineInput[],
  input: { id: string; number: string; reason: string; issueDate: string; now: string },
): CreditNote {
  const errors: FieldError[] = [];
  const read = (value: string | number, pointer: string, limits: { maxIntegerDigits: number; maxFractionDigits: number }) => {
    const parsed = parseDecimalInput(value, limits);
    if ('error' in parsed) errors.push({ pointer, detail: parsed.error });
    else if (parsed.isNegative()) errors.push({ pointer, detail: 'must not be negative' });
    else return parsed;
    return new Dec(0);
  };
  const parsed = lines.map((line, index) => ({
    line,
    quantity: read(line.quantity, `/lines/${index}/quantity`, { maxIntegerDigits: 12, maxFractionDigits: 6 }),
    unitPrice: read(line.unit_price, `/lines/${index}/unit_price`, { maxIntegerDigits: 13, maxFractionDigits: 10 }),
    taxRate: line.tax_rate === undefined || line.tax_rate === null ? null : read(line.tax_rate, `/lines/${index}/tax_rate`, { maxIntegerDigits: 3, maxFractionDigits: 4 }),
  }));
  if (errors.length > 0) throw validationError(errors);
  const totals = computeTotals({
    currency: invoice.currency,
    taxMode: invoice.tax_mode,
    roundingMode: invoice.rounding_mode as RoundingMode,
    lines: parsed.map((entry, index) => ({ id: String(index), quantity: entry.quantity, unitPrice: entry.unitPrice, discount: null, taxRate: entry.taxRate })),
  });
  const money = (value: Dec) => formatAmount(value, invoice.currency);
  if (totals.total.lte(0)) {
    throw new AppError('validation-error', 'A credit note must credit more than 0.', { errors: [{ pointer: '/lines', detail: 'lines sum to 0' }] });
  }
  const creditable = new Dec(invoice.total).minus(invoice.amount_credited);
  if (totals.total.gt(creditable)) {
    throw editNotAllowed('credit-exceeds-invoice', `The credit of ${money(totals.total)} exceeds the ${money(creditable)} left to credit on invoice ${invoice.id}.`, [
      { pointer: '/lines', detail: `credit at most ${money(creditable)}` },
    ]);
  }
  return {
    id: input.id,
    object: 'credit_note',
    number: input.number,
    invoice_id: invoice.id,
    revision_id: null,
    reason: input.reason,
    currency: invoice.currency,
    lines: parsed.map((entry, index) => ({
      description: entry.line.description ?? null,
      quantity: formatDecimal(entry.quantity),
      unit: entry.line.unit ?? null,
      unit_price: formatDecimal(entry.unitPrice),
      tax_rate: entry.taxRate === null ? null : formatDecimal(entry.taxRate),
      net_amount: money(totals.lines[index].netAmount),
      tax_amount: money(totals.lines[index].taxAmount),
      gross_amount: money(totals.lines[index].grossAmount),
    })),
    subtotal: money(totals.subtotal),
    tax_total: money(totals.taxTotal),
    total: money(totals.total),
    issue_date: input.issueDate,
    created_at: input.now,
  };
}
