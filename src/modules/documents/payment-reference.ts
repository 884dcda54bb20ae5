/**
 * Payment references a Finnish bank recognises (used by Finvoice and shown on the PDF):
 * the national reference (viitenumero: digits, check digit by weights 7-3-1) and the
 * international RF creditor reference (ISO 11649: "RF", two check digits by mod 97).
 */
export interface PaymentReference {
  value: string;
  /** Finvoice's EpiRemittanceInfoIdentifier scheme: SPY = Finnish reference, ISO = RF reference. */
  scheme: 'SPY' | 'ISO';
}

/** The check digit of a Finnish reference's base part (3–19 digits). */
export function finnishCheckDigit(base: string): number {
  const weights = [7, 3, 1];
  let sum = 0;
  for (let i = 0; i < base.length; i++) {
    sum += Number(base[base.length - 1 - i]) * weights[i % 3]!;
  }
  return (10 - (sum % 10)) % 10;
}

export function isValidFinnishReference(reference: string): boolean {
  const compact = reference.replace(/\s+/g, '');
  if (!/^\d{4,20}$/.test(compact)) return false;
  return finnishCheckDigit(compact.slice(0, -1)) === Number(compact.slice(-1));
}

/** ISO 7064 mod 97-10 over an alphanumeric string (letters count as 10..35). */
function mod97(text: string): number {
  let remainder = 0;
  for (const char of text) {
    const digits = /\d/.test(char) ? char : String(char.charCodeAt(0) - 55);
    for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder;
}

export function isValidRfReference(reference: string): boolean {
  const compact = reference.replace(/\s+/g, '').toUpperCase();
  if (!/^RF\d{2}[0-9A-Z]{1,21}$/.test(compact)) return false;
  return mod97(compact.slice(4) + compact.slice(0, 4)) === 1;
}

/** An IBAN's check digits (ISO 13616: country and check digits moved to the end, mod 97 = 1). */
export function isValidIban(iban: string): boolean {
  const compact = iban.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[0-9A-Z]{11,30}$/.test(compact)) return false;
  return mod97(compact.slice(4) + compact.slice(0, 4)) === 1;
}

export function rfReferenceFor(body: string): string {
  const check = 98 - mod97(`${body}RF00`);
  return `RF${String(check).padStart(2, '0')}${body}`;
}

/**
 * The payment reference of an invoice, derived in this order (docs/documents.md):
 *  1. its `reference`, when that already is a valid Finnish or RF reference;
 *  2. a Finnish reference built from the digits of its number (leading zeros dropped,
 *     padded to the 3-digit minimum with a leading 1, check digit appended);
 *  3. an RF reference built from the letters and digits of `reference`, number or id (first 21).
 */
export function paymentReferenceFor(invoice: { reference: string | null; number: string | null; id: string }): PaymentReference {
  const given = invoice.reference?.replace(/\s+/g, '') ?? '';
  if (given && isValidFinnishReference(given)) return { value: given, scheme: 'SPY' };
  if (given && isValidRfReference(given)) return { value: given.toUpperCase(), scheme: 'ISO' };

  const numberDigits = (invoice.number ?? '').replace(/\D/g, '').replace(/^0+/, '');
  if (numberDigits.length > 0 && numberDigits.length <= 19) {
    const base = numberDigits.length >= 3 ? numberDigits : `1${numberDigits.padStart(2, '0')}`;
    return { value: `${base}${finnishCheckDigit(base)}`, scheme: 'SPY' };
  }
  const source = [invoice.reference, invoice.number, invoice.id].find((text) => text && /[0-9A-Za-z]/.test(text)) ?? invoice.id;
  const body = source.toUpperCase().replace(/[^0-9A-Z]/g, '').slice(0, 21);
  return { value: rfReferenceFor(body), scheme: 'ISO' };
}
