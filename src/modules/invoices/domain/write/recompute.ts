import { AppError, type FieldError } from '../../../../shared/errors.js';
import { Dec, formatAmount, formatDecimal, parseDecimalInput, type RoundingMode } from '../../../../shared/money.js';
import type { Invoice, InvoiceLine } from '../model.js';
import { computeTotals, type InvoiceTotals, type LineAmounts, type TaxBreakdownRow, type TotalsLineInput } from '../totals.js';
import type { InvoiceWriteCommand } from '../write-command.js';
import { priceLimits } from './field-errors.js';
import type { LineDraft } from './lines.js';

/** The invoice-level figures a client may send to be cross-checked. */
export type InvoiceChecks = Pick<InvoiceWriteCommand, 'subtotal' | 'discount_total' | 'tax_total' | 'total'>;

/**
 * Runs the totals engine over the final lines and checks any figures the client sent. With
 * `base` (the current invoice, same currency, tax mode and rounding mode), only the lines this
 * write touched are computed: untouched lines keep their stored amounts, and the invoice figures
 * are the stored ones minus the old amounts of touched lines plus their new ones — the same sums
 * as a full recompute (test/unit/totals-incremental.test.ts checks it over random edits).
 */
export function recomputeInvoice(next: Invoice, drafts: LineDraft[], input: InvoiceChecks, base: Invoice | null): Invoice {
  const currency = next.currency;
  const computed = drafts.filter((draft) => !(base && draft.untouched));
  const engine = computeTotals({
    currency,
    taxMode: next.tax_mode,
    roundingMode: next.rounding_mode as RoundingMode,
    lines: computed.map(({ line }): TotalsLineInput => ({
      id: line.id,
      quantity: new Dec(line.quantity),
      unitPrice: new Dec(line.unit_price),
      discount: line.discount ? { type: line.discount.type, value: new Dec(line.discount.value) } : null,
      taxRate: line.tax_rate === null ? null : new Dec(line.tax_rate),
    })),
  });
  const amountsOf = new Map<LineDraft, LineAmounts>(computed.map((draft, index) => [draft, engine.lines[index]]));
  const totals = base ? adjustTotals(base, drafts, amountsOf) : engine;
  const money = (value: Dec) => formatAmount(value, currency);
  const mismatches: FieldError[] = [];
  const check = (sent: string | number | undefined, computed: Dec, pointer: string) => {
    if (sent === undefined) return;
    const parsed = parseDecimalInput(sent, priceLimits);
    if ('error' in parsed || !parsed.eq(computed)) {
      mismatches.push({ pointer, detail: `server computes ${money(computed)}`, expected: money(computed) });
    }
  };

  const lines = drafts.map((draft, index): InvoiceLine => {
    const amounts = amountsOf.get(draft);
    if (!amounts) {
      // Untouched (incremental path): same object unless the line moved.
      return draft.line.position === index + 1 ? draft.line : { ...draft.line, position: index + 1 };
    }
    if (draft.pointer) {
      check(draft.checks.net_amount, amounts.netAmount, `${draft.pointer}/net_amount`);
      check(draft.checks.tax_amount, amounts.taxAmount, `${draft.pointer}/tax_amount`);
      check(draft.checks.gross_amount, amounts.grossAmount, `${draft.pointer}/gross_amount`);
      check(draft.checks.total_amount, amounts.grossAmount, `${draft.pointer}/total_amount`);
    }
    return {
      ...draft.line,
      position: index + 1,
      amount_before_discount: money(amounts.amountBeforeDiscount),
      discount_amount: money(amounts.discountAmount),
      net_amount: money(amounts.netAmount),
      tax_amount: money(amounts.taxAmount),
      gross_amount: money(amounts.grossAmount),
    };
  });
  check(input.subtotal, totals.subtotal, '/subtotal');
  check(input.discount_total, totals.discountTotal, '/discount_total');
  check(input.tax_total, totals.taxTotal, '/tax_total');
  check(input.total, totals.total, '/total');
  if (mismatches.length > 0) {
    const first = mismatches[0];
    throw new AppError('total-mismatch', `${first.pointer} differs: ${first.detail}.`, { errors: mismatches });
  }
  if (totals.total.isNegative()) {
    throw new AppError('non-negative-total', `The invoice total would be ${money(totals.total)}; an invoice total cannot be negative (issue a credit note instead).`, {
      errors: [{ pointer: '/lines', detail: 'lines sum to a negative total' }],
    });
  }

  const paid = new Dec(next.amount_paid).plus(next.amount_credited);
  return {
    ...next,
    lines,
    subtotal: money(totals.subtotal),
    discount_total: money(totals.discountTotal),
    tax_total: money(totals.taxTotal),
    total: money(totals.total),
    tax_breakdown: totals.taxBreakdown.map((row) => ({
      tax_rate: formatDecimal(row.rate),
      taxable_amount: money(row.taxableAmount),
      tax_amount: money(row.taxAmount),
    })),
    amount_paid: money(new Dec(next.amount_paid)),
    amount_credited: money(new Dec(next.amount_credited)),
    balance: money(totals.total.minus(paid)),
  };
}

type Figures = Pick<InvoiceTotals, 'subtotal' | 'discountTotal' | 'taxTotal' | 'total' | 'taxBreakdown'>;

/**
 * The invoice figures after a write, from the stored ones: minus the stored amounts of every
 * current line that is not kept untouched, plus the new amounts of the lines that were computed.
 * Breakdown rows follow the rates the final lines use (a rate no line uses any more disappears).
 */
function adjustTotals(base: Invoice, drafts: LineDraft[], amountsOf: Map<LineDraft, LineAmounts>): Figures {
  const kept = new Set<InvoiceLine>();
  for (const draft of drafts) if (draft.untouched) kept.add(draft.line);
  let subtotal = new Dec(base.subtotal);
  let discountTotal = new Dec(base.discount_total);
  let taxTotal = new Dec(base.tax_total);
  const rows = new Map<string, TaxBreakdownRow>();
  for (const row of base.tax_breakdown) {
    const rate = new Dec(row.tax_rate);
    rows.set(rate.toFixed(), { rate, taxableAmount: new Dec(row.taxable_amount), taxAmount: new Dec(row.tax_amount) });
  }
  const rowFor = (taxRate: string | null): TaxBreakdownRow => {
    const rate = taxRate === null ? new Dec(0) : new Dec(taxRate);
    const key = rate.toFixed();
    let row = rows.get(key);
    if (!row) {
      row = { rate, taxableAmount: new Dec(0), taxAmount: new Dec(0) };
      rows.set(key, row);
    }
    return row;
  };
  for (const line of base.lines) {
    if (kept.has(line)) continue;
    const net = new Dec(line.net_amount);
    const tax = new Dec(line.tax_amount);
    subtotal = subtotal.minus(net);
    discountTotal = discountTotal.minus(line.discount_amount);
    taxTotal = taxTotal.minus(tax);
    const row = rowFor(line.tax_rate);
    row.taxableAmount = row.taxableAmount.minus(net);
    row.taxAmount = row.taxAmount.minus(tax);
  }
  for (const draft of drafts) {
    const amounts = amountsOf.get(draft);
    if (!amounts) continue;
    subtotal = subtotal.plus(amounts.netAmount);
    discountTotal = discountTotal.plus(amounts.discountAmount);
    taxTotal = taxTotal.plus(amounts.taxAmount);
    const row = rowFor(draft.line.tax_rate);
    row.taxableAmount = row.taxableAmount.plus(amounts.netAmount);
    row.taxAmount = row.taxAmount.plus(amounts.taxAmount);
  }
  // Rows of the rates the final lines use; the key of a rate string is memoised (few distinct rates).
  const keyOf = new Map<string | null, string>();
  const used = new Set<string>();
  for (const { line } of drafts) {
    let key = keyOf.get(line.tax_rate);
    if (key === undefined) {
      key = (line.tax_rate === null ? new Dec(0) : new Dec(line.tax_rate)).toFixed();
      keyOf.set(line.tax_rate, key);
    }
    used.add(key);
  }
  const taxBreakdown = [...rows.entries()]
    .filter(([key]) => used.has(key))
    .map(([, row]) => row)
    .sort((a, b) => a.rate.comparedTo(b.rate));
  return { subtotal, discountTotal, taxTotal, total: subtotal.plus(taxTotal), taxBreakdown };
}
