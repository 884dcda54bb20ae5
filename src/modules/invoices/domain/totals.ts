// Pure invoice totals engine. Tax is computed and rounded per line, so every printed figure
// (line, breakdown row, invoice total) is a sum of rounded figures and always adds up.
import { Dec, currencyMinorUnits, roundToPlaces, type RoundingMode } from '../../../shared/money.js';

export type TaxMode = 'exclusive' | 'inclusive';
export type Discount = { type: 'percent'; value: Dec } | { type: 'amount'; value: Dec };

export interface TotalsLineInput {
  id: string;
  quantity: Dec;
  unitPrice: Dec;
  discount: Discount | null;
  taxRate: Dec | null; // percent, e.g. 20 = 20 %
}

export interface TotalsInput {
  currency: string;
  taxMode: TaxMode;
  roundingMode: RoundingMode;
  lines: TotalsLineInput[];
}

export interface LineAmounts {
  id: string;
  amountBeforeDiscount: Dec;
  discountAmount: Dec;
  netAmount: Dec;
  taxAmount: Dec;
  grossAmount: Dec;
}

export interface TaxBreakdownRow {
  rate: Dec;
  taxableAmount: Dec;
  taxAmount: Dec;
}

export interface InvoiceTotals {
  lines: LineAmounts[];
  subtotal: Dec;
  discountTotal: Dec;
  taxTotal: Dec;
  total: Dec;
  taxBreakdown: TaxBreakdownRow[];
}

const ZERO = new Dec(0);
const HUNDRED = new Dec(100);

export function computeTotals(input: TotalsInput): InvoiceTotals {
  const places = currencyMinorUnits(input.currency); // throws for unknown currencies
  const round = (x: Dec): Dec => roundToPlaces(x, places, input.roundingMode);

  const lines = input.lines.map((line): LineAmounts => {
    // Re-wrap in Dec so arithmetic runs at 80 digits even if a caller passed a plain Decimal.
    const base = new Dec(line.quantity).times(line.unitPrice);
    const rate = line.taxRate === null ? ZERO : new Dec(line.taxRate);
    const amountBeforeDiscount = round(base);
    const discounted = round(base.minus(discountExact(base, line.discount)));

    if (input.taxMode === 'exclusive') {
      const netAmount = discounted;
      const taxAmount = round(netAmount.times(rate).div(HUNDRED));
      return {
        id: line.id,
        amountBeforeDiscount,
        discountAmount: amountBeforeDiscount.minus(netAmount),
        netAmount,
        taxAmount,
        grossAmount: netAmount.plus(taxAmount),
      };
    }
    // Inclusive: the price already contains the tax; extract it from the rounded gross.
    const grossAmount = discounted;
    const taxAmount = round(grossAmount.times(rate).div(HUNDRED.plus(rate)));
    return {
      id: line.id,
      amountBeforeDiscount,
      discountAmount: amountBeforeDiscount.minus(grossAmount),
      netAmount: grossAmount.minus(taxAmount),
      taxAmount,
      grossAmount,
    };
  });

  const sum = (pick: (l: LineAmounts) => Dec): Dec => lines.reduce((acc, l) => acc.plus(pick(l)), ZERO);
  const subtotal = sum((l) => l.netAmount);
  const taxTotal = sum((l) => l.taxAmount);

  return {
    lines,
    subtotal,
    discountTotal: sum((l) => l.discountAmount),
    taxTotal,
    total: subtotal.plus(taxTotal),
    taxBreakdown: breakdown(input.lines, lines),
  };
}

/**
 * Unrounded discount for a line. An amount discount is a magnitude that reduces the line in
 * the line's own direction, so on a credit line (negative base) it is applied as negative.
 */
function discountExact(base: Dec, discount: Discount | null): Dec {
  if (discount === null) return ZERO;
  if (discount.type === 'percent') return base.times(discount.value).div(HUNDRED);
  return base.lt(0) ? new Dec(discount.value).neg() : new Dec(discount.value);
}

/** Groups the rounded line figures by tax rate (null rate counts as 0), ascending by rate. */
function breakdown(inputs: TotalsLineInput[], amounts: LineAmounts[]): TaxBreakdownRow[] {
  const rows = new Map<string, TaxBreakdownRow>();
  inputs.forEach((line, i) => {
    const rate = line.taxRate === null ? ZERO : new Dec(line.taxRate);
    const key = rate.toFixed(); // "20" and "20.0" are the same rate
    const row = rows.get(key) ?? { rate, taxableAmount: ZERO, taxAmount: ZERO };
    row.taxableAmount = row.taxableAmount.plus(amounts[i]!.netAmount);
    row.taxAmount = row.taxAmount.plus(amounts[i]!.taxAmount);
    rows.set(key, row);
  });
  return [...rows.values()].sort((a, b) => a.rate.comparedTo(b.rate));
}
