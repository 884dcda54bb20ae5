import { currencyMinorUnits } from '../../shared/money.js';

const groupThousands = (integer: string) => integer.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function splitDecimal(value: string) {
  const negative = value.startsWith('-');
  const [integer = '0', fraction = ''] = value.replace(/^[-+]/, '').split('.');
  return { sign: negative ? '-' : '', integer: groupThousands(integer), fraction };
}

/**
 * An amount as printed on the PDF: thousands grouped with commas, exactly the currency's minor
 * units, then the code ("1,234.50 EUR", "1,235 JPY", "12.345 BHD"). Written out rather than
 * left to Intl so the bytes do not change with the ICU data of the Node version.
 */
export function formatMoney(amount: string, currency: string): string {
  const places = currencyMinorUnits(currency);
  const { sign, integer, fraction } = splitDecimal(amount);
  const decimals = places > 0 ? `.${fraction.padEnd(places, '0').slice(0, places)}` : '';
  return `${sign}${integer}${decimals} ${currency}`;
}

/** A decimal (quantity, unit price, rate) with grouped integer digits and its own decimals. */
export function formatNumber(value: string): string {
  const { sign, integer, fraction } = splitDecimal(value);
  return `${sign}${integer}${fraction ? `.${fraction}` : ''}`;
}
