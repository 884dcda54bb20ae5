// Exact decimal money helpers. Amounts are never JS floats: everything goes through Dec.
import { Decimal } from 'decimal.js'; // named: under NodeNext the default import is typed as the CJS module object
import cc from 'currency-codes';

// 80 significant digits keeps every product of validated inputs (≤ 25 digits each) exact,
// and the wide exponent range means toString() never switches to exponent notation.
export const Dec = Decimal.clone({ precision: 80, toExpNeg: -100, toExpPos: 100 });
export type Dec = Decimal;

export type RoundingMode = 'half_up' | 'half_even' | 'half_down' | 'up' | 'down';

const DECIMAL_ROUNDING: Record<RoundingMode, Decimal.Rounding> = {
  half_up: Decimal.ROUND_HALF_UP, // ties away from zero
  half_even: Decimal.ROUND_HALF_EVEN,
  half_down: Decimal.ROUND_HALF_DOWN, // ties toward zero
  up: Decimal.ROUND_UP, // away from zero
  down: Decimal.ROUND_DOWN, // toward zero
};

// ISO 4217 gives these codes (metals, SDR, bond units, test/no-currency codes) a minor unit of
// "N.A." — there is no minor unit, not zero of them. currency-codes@2 collapses "N.A." to
// `digits: 0`, which would silently make XAU behave like JPY, so we refuse them instead.
// test/unit/totals.test.ts checks this list against the package's bundled ISO XML.
export const NO_MINOR_UNIT_CODES: ReadonlySet<string> = new Set([
  'XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XPD', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX',
]);

// currency-codes looks a code up by a linear search over every currency; amounts are formatted
// many times per request (each line of a 1,000-line invoice), so answers are memoised per code.
// Only valid codes are cached, so the map is bounded by the ISO 4217 list.
const minorUnitsByCode = new Map<string, number>();

function lookUpMinorUnits(code: string): number | undefined {
  const cached = minorUnitsByCode.get(code);
  if (cached !== undefined) return cached;
  // The package lookup is case-insensitive; the API is not.
  if (!/^[A-Z]{3}$/.test(code) || NO_MINOR_UNIT_CODES.has(code)) return undefined;
  const digits = cc.code(code)?.digits;
  if (digits !== undefined) minorUnitsByCode.set(code, digits);
  return digits;
}

/** True for an upper-case ISO 4217 code that has a defined minor unit (i.e. usable on an invoice). */
export function isCurrencyCode(code: string): boolean {
  return lookUpMinorUnits(code) !== undefined;
}

export function currencyMinorUnits(code: string): number {
  const digits = lookUpMinorUnits(code);
  if (digits === undefined) throw new RangeError(`Unknown or unsupported currency code: ${code}`);
  return digits;
}

/** Never returns negative zero, so "-0.00" cannot leak into output or comparisons. */
export function roundToPlaces(value: Dec, places: number, mode: RoundingMode): Dec {
  const r = new Dec(value).toDecimalPlaces(places, DECIMAL_ROUNDING[mode]);
  return r.isZero() ? new Dec(0) : r;
}

/** THE rounding function for money: every amount that reaches a client passes through here. */
export function roundToCurrency(value: Dec, currency: string, mode: RoundingMode): Dec {
  return roundToPlaces(value, currencyMinorUnits(currency), mode);
}

/**
 * Fixed notation with exactly the currency's minor units ("1234.50", "-3.000", "100" for JPY).
 * Throws if the value has more decimals than the currency allows: rounding belongs to
 * roundToCurrency, and a second, silent rounding here would hide bugs.
 */
export function formatAmount(value: Dec, currency: string): string {
  const places = currencyMinorUnits(currency);
  if (value.decimalPlaces() > places) {
    throw new RangeError(`${formatDecimal(value)} has more than ${places} decimals for ${currency}`);
  }
  return (value.isZero() ? new Dec(0) : value).toFixed(places);
}

/** Plain notation without superfluous trailing zeros ("1.5", "2", "0.0001"). */
export function formatDecimal(value: Dec): string {
  // toFixed() without places never uses exponent notation; Decimal stores no trailing zeros.
  return (value.isZero() ? new Dec(0) : value).toFixed();
}

const DECIMAL_INPUT = /^[+-]?\d+(\.\d+)?(?:[eE]([+-]?\d+))?$/;
const MAX_EXPONENT = 100;

/** Reads a client-supplied decimal exactly, or explains why it cannot. */
export function parseDecimalInput(
  input: string | number,
  limits: { maxIntegerDigits?: number; maxFractionDigits?: number } = {},
): Dec | { error: string } {
  const { maxIntegerDigits = 15, maxFractionDigits = 10 } = limits;
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { error: 'must be a finite number' };
    text = String(input); // shortest round-trip form, e.g. 0.1 -> "0.1", 1e21 -> "1e+21"
  } else if (typeof input === 'string') {
    text = input;
  } else {
    return { error: 'must be a decimal number' };
  }
  const m = DECIMAL_INPUT.exec(text);
  if (!m) return { error: 'must be a decimal number such as "12.50"' };
  // Refuse huge exponents before Decimal has to materialise them.
  if (m[2] !== undefined && Math.abs(Number(m[2])) > MAX_EXPONENT) {
    return { error: `exponent must be between -${MAX_EXPONENT} and ${MAX_EXPONENT}` };
  }
  const value = new Dec(text);
  const integerDigits = value.isZero() || value.e < 0 ? 0 : value.e + 1;
  if (integerDigits > maxIntegerDigits) {
    return { error: `must have at most ${maxIntegerDigits} digits before the decimal point` };
  }
  // decimalPlaces() ignores trailing zeros, so "1.5000000000000" is accepted.
  if (value.decimalPlaces() > maxFractionDigits) {
    return { error: `must have at most ${maxFractionDigits} digits after the decimal point` };
  }
  return value.isZero() ? new Dec(0) : value;
}
