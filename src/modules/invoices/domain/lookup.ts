import { AppError } from '../../../shared/errors.js';

/**
 * The ways a client may name one of its invoices: the native id (`inv_…`), the stable UUID
 * (`guid`), the per-tenant integer `serial`, the invoice `number` or the payment `reference`.
 * Lookups are always within the caller's tenant.
 */
export type InvoiceKey = { id: string } | { guid: string } | { serial: number } | { number: string } | { reference: string };
export type InvoiceKeyKind = 'id' | 'guid' | 'serial' | 'number' | 'reference';
export const invoiceKeyKinds: readonly InvoiceKeyKind[] = ['id', 'guid', 'serial', 'number', 'reference'];

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path segment names an invoice by its native id, or by its guid when it has the form of a UUID. */
export function keyFromPathId(value: string): InvoiceKey {
  return uuidPattern.test(value) ? { guid: value.toLowerCase() } : { id: value };
}

export function keyKind(key: InvoiceKey): InvoiceKeyKind {
  return Object.keys(key)[0] as InvoiceKeyKind;
}

export function keyValue(key: InvoiceKey): string | number {
  return Object.values(key)[0] as string | number;
}

export const describeKey = (key: InvoiceKey) => `${keyKind(key)} "${String(keyValue(key))}"`;

/**
 * Exactly one identifier out of the candidates (absent, null and "" do not count), else a
 * 400 naming the ones sent. `pointerOf` places the error in the caller's request shape.
 */
export function exactlyOneKey(
  candidates: Partial<Record<InvoiceKeyKind, string | number | null | undefined>>,
  pointerOf: (kind: InvoiceKeyKind) => string = (kind) => `/${kind}`,
): InvoiceKey {
  const sent = invoiceKeyKinds.filter((kind) => candidates[kind] !== undefined && candidates[kind] !== null && candidates[kind] !== '');
  if (sent.length !== 1) {
    const detail = sent.length === 0 ? `send exactly one of ${invoiceKeyKinds.join(', ')}` : `send exactly one identifier, not ${sent.join(' and ')}`;
    throw new AppError('validation-error', `Name the invoice by exactly one identifier (${invoiceKeyKinds.join(', ')}).`, {
      errors: (sent.length === 0 ? [invoiceKeyKinds[0]] : sent).map((kind) => ({ pointer: pointerOf(kind), detail })),
    });
  }
  const kind = sent[0];
  const value = candidates[kind] as string | number;
  if (kind === 'serial') {
    const serial = typeof value === 'number' ? value : /^\d{1,15}$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(serial) || serial < 1) {
      throw new AppError('validation-error', 'A serial is a positive integer.', { errors: [{ pointer: pointerOf(kind), detail: 'must be a positive integer' }] });
    }
    return { serial };
  }
  const text = String(value);
  if (kind === 'guid') {
    if (!uuidPattern.test(text)) throw new AppError('validation-error', 'A guid is a UUID.', { errors: [{ pointer: pointerOf(kind), detail: 'must be a UUID' }] });
    return { guid: text.toLowerCase() };
  }
  return { [kind]: text } as InvoiceKey;
}
