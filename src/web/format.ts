/// <reference lib="es2023.intl" />
import { currencyMinorUnits } from '../shared/money.js';

/**
 * Locale-aware formatting for pages. Amounts stay decimal strings all the way: Intl formats
 * a string exactly (no float), with the currency's ISO 4217 minor units.
 */
export interface Formatter {
  locale: string;
  money(amount: string | null | undefined, currency: string): string;
  number(value: string | null | undefined): string;
  date(value: string | null | undefined): string;
  dateTime(value: string | null | undefined): string;
}

const formatterCache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => T): T {
  let formatter = formatterCache.get(key) as T | undefined;
  if (!formatter) {
    formatter = make();
    if (formatterCache.size > 500) formatterCache.clear();
    formatterCache.set(key, formatter);
  }
  return formatter;
}

/** The first supported locale of an Accept-Language header; English otherwise. */
export function localeFrom(acceptLanguage: string | undefined): string {
  for (const part of (acceptLanguage ?? '').split(',').slice(0, 10)) {
    const tag = part.split(';')[0].trim();
    if (!tag || tag === '*' || tag.length > 35) continue;
    try {
      const [canonical] = Intl.getCanonicalLocales(tag);
      if (canonical && Intl.NumberFormat.supportedLocalesOf([canonical]).length > 0) return canonical;
    } catch {
      // not a well-formed language tag: try the next one
    }
  }
  return 'en';
}

/** Intl formats a decimal string exactly (ES2023: no rounding through a binary double). */
const exact = (value: string) => value as Intl.StringNumericLiteral;

export function createFormatter(locale: string): Formatter {
  const money = (amount: string | null | undefined, currency: string) => {
    if (amount === null || amount === undefined || amount === '') return '';
    const places = currencyMinorUnits(currency);
    const format = cached(`m:${locale}:${currency}`, () =>
      new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: places, maximumFractionDigits: places }),
    ) as Intl.NumberFormat;
    return format.format(exact(amount));
  };
  const number = (value: string | null | undefined) => {
    if (value === null || value === undefined || value === '') return '';
    const format = cached(`n:${locale}`, () => new Intl.NumberFormat(locale, { maximumFractionDigits: 20 })) as Intl.NumberFormat;
    return format.format(exact(value));
  };
  const date = (value: string | null | undefined) => {
    if (!value) return '';
    const format = cached(`d:${locale}`, () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' })) as Intl.DateTimeFormat;
    return format.format(new Date(`${value.slice(0, 10)}T00:00:00Z`));
  };
  const dateTime = (value: string | null | undefined) => {
    if (!value) return '';
    const format = cached(`t:${locale}`, () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })) as Intl.DateTimeFormat;
    return `${format.format(new Date(value))} UTC`;
  };
  return { locale, money, number, date, dateTime };
}
