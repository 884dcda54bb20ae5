import { Dec, currencyMinorUnits, roundToPlaces } from '../../shared/money.js';
import type { SourceDocument, SourceLine } from './source.js';

/**
 * Folio's figures mapped onto EN 16931's model (docs/documents.md, "Rounding").
 *
 * Folio rounds tax per line; EN 16931 states VAT per category (BT-117 = BT-116 × rate). The
 * mapping keeps every line's net amount, computes each category's VAT from its taxable amount,
 * and puts the difference to Folio's total in the payable rounding amount (BT-114), so the
 * amount due is Folio's to the cent and every sum rule (BR-CO-10/13/14/15/16, BR-S-08) holds
 * by construction. EN 16931 allows at most 2 decimals on amounts (BR-DEC-*): 3-decimal
 * currencies (BHD, KWD…) are rounded to 2 with the invoice's rounding mode and the same
 * rounding amount absorbs the difference.
 */
export type VatCategoryCode = 'S' | 'Z';

export interface EnLine {
  /** 1-based position, BT-126. */
  id: string;
  name: string;
  description: string | null;
  quantity: Dec;
  unitCode: string;
  /** BT-146, net of VAT, exact (no decimal limit applies to prices). */
  netPrice: Dec;
  /** BT-131. */
  netAmount: Dec;
  /** Positive: a line allowance (BT-136, e.g. a discount); negative: a line charge (BT-141). */
  allowanceAmount: Dec;
  /** quantity × net price rounded to 2 decimals, the allowance's base amount (BT-137). */
  baseAmount: Dec;
  category: VatCategoryCode;
  rate: Dec;
  itemCode: string | null;
}

export interface EnCategory {
  category: VatCategoryCode;
  rate: Dec;
  taxableAmount: Dec;
  taxAmount: Dec;
}

export interface EnDocument {
  /** Decimal places of every amount: the currency's minor unit, at most 2. */
  amountPlaces: number;
  lines: EnLine[];
  categories: EnCategory[];
  lineExtensionAmount: Dec;
  taxExclusiveAmount: Dec;
  taxAmount: Dec;
  taxInclusiveAmount: Dec;
  prepaidAmount: Dec;
  roundingAmount: Dec;
  payableAmount: Dec;
}

const HUNDRED = new Dec(100);

/** UN/ECE Recommendation 20 codes for the units people type; anything else is "one" (C62). */
const unitCodes: Record<string, string> = {
  h: 'HUR', hr: 'HUR', hrs: 'HUR', hour: 'HUR', hours: 'HUR', tunti: 'HUR', t: 'HUR',
  d: 'DAY', day: 'DAY', days: 'DAY', pv: 'DAY',
  min: 'MIN', minute: 'MIN', minutes: 'MIN',
  month: 'MON', months: 'MON', kk: 'MON',
  kg: 'KGM', g: 'GRM', m: 'MTR', km: 'KMT', cm: 'CMT', l: 'LTR', m2: 'MTK', m3: 'MTQ',
  pcs: 'H87', pc: 'H87', piece: 'H87', pieces: 'H87', kpl: 'H87', ea: 'EA', each: 'EA',
};

export function unitCodeFor(unit: string | null): string {
  if (!unit) return 'C62';
  const trimmed = unit.trim();
  if (/^[A-Z0-9]{2,3}$/.test(trimmed)) return trimmed; // already a code
  return unitCodes[trimmed.toLowerCase().replace(/\.$/, '')] ?? 'C62';
}

function enLine(line: SourceLine, index: number, source: SourceDocument, round: (value: Dec) => Dec): EnLine {
  const rate = new Dec(line.taxRate ?? 0);
  const unitPrice = new Dec(line.unitPrice);
  // Inclusive prices contain the tax; the standard's price is net (exact: rate is ≤ 4 decimals).
  const signedPrice = source.taxMode === 'inclusive' ? unitPrice.times(HUNDRED).div(HUNDRED.plus(rate)).toDecimalPlaces(10) : unitPrice;
  // BR-27: a price is never negative, so a negative price moves its sign to the quantity.
  const netPrice = signedPrice.abs();
  const quantity = signedPrice.isNegative() ? new Dec(line.quantity).neg() : new Dec(line.quantity);
  const netAmount = round(new Dec(line.netAmount));
  // To 2 decimals whatever the currency (BR-DEC allows 2), so net = quantity × price − allowance
  // holds within half a cent (PEPPOL-EN16931-R120) even for JPY with a fractional quantity.
  const baseAmount = roundToPlaces(quantity.times(netPrice), 2, source.roundingMode);
  return {
    id: String(index + 1),
    name: (line.description ?? '').split('\n')[0]!.slice(0, 200) || 'Item',
    description: line.description,
    quantity,
    unitCode: unitCodeFor(line.unit),
    netPrice,
    netAmount,
    allowanceAmount: baseAmount.minus(netAmount),
    baseAmount,
    category: rate.isZero() ? 'Z' : 'S',
    rate,
    itemCode: line.itemCode,
  };
}

export function toEn16931(source: SourceDocument): EnDocument {
  const amountPlaces = Math.min(currencyMinorUnits(source.currency), 2);
  const round = (value: Dec) => roundToPlaces(value, amountPlaces, source.roundingMode);
  const lines = source.lines.map((line, index) => enLine(line, index, source, round));

  const byCategory = new Map<string, EnCategory>();
  for (const line of lines) {
    const key = `${line.category}:${line.rate.toFixed()}`;
    const entry = byCategory.get(key) ?? { category: line.category, rate: line.rate, taxableAmount: new Dec(0), taxAmount: new Dec(0) };
    entry.taxableAmount = entry.taxableAmount.plus(line.netAmount);
    byCategory.set(key, entry);
  }
  const categories = [...byCategory.values()].sort((a, b) => a.rate.comparedTo(b.rate));
  // BR-CO-17 says "rounded half up", whatever the invoice's own rounding mode; a difference to
  // Folio's per-line figures goes to the rounding amount below, like every other.
  for (const entry of categories) entry.taxAmount = roundToPlaces(entry.taxableAmount.times(entry.rate).div(HUNDRED), amountPlaces, 'half_up');

  const sum = (values: Dec[]) => values.reduce((acc, value) => acc.plus(value), new Dec(0));
  const lineExtensionAmount = sum(lines.map((line) => line.netAmount));
  const taxAmount = sum(categories.map((entry) => entry.taxAmount));
  const taxInclusiveAmount = lineExtensionAmount.plus(taxAmount);
  const prepaidAmount = round(new Dec(source.amountPaid).plus(source.amountCredited));
  const payableAmount = round(new Dec(source.total)).minus(prepaidAmount);
  return {
    amountPlaces,
    lines,
    categories,
    lineExtensionAmount,
    taxExclusiveAmount: lineExtensionAmount,
    taxAmount,
    taxInclusiveAmount,
    prepaidAmount,
    roundingAmount: payableAmount.plus(prepaidAmount).minus(taxInclusiveAmount),
    payableAmount,
  };
}

/** Amount text for EN 16931 documents: exactly `places` decimals. */
export const enAmount = (value: Dec, places: number): string => (value.isZero() ? new Dec(0) : value).toFixed(places);
