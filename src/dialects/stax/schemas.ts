import { Type, type Static } from '@sinclair/typebox';
import { DecimalInput, Nullable } from '../../core/schema-helpers.js';

/**
 * Stax Pay's invoice, in Stax's own field names (docs/dialects/stax.md). Items, subtotal, tax,
 * memo and reference live inside `meta`, as in Stax; every other `meta` key is kept verbatim as
 * the invoice's metadata.
 */
export const StaxLineItem = Type.Object(
  {
    id: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'The line (its UUID or native id); unknown ids add a line.' }))),
    item: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    details: Type.Optional(Nullable(Type.String({ maxLength: 1400 }))),
    quantity: Type.Optional(DecimalInput),
    price: Type.Optional(DecimalInput),
    tax_rate: Type.Optional(Nullable(DecimalInput)),
  },
  { additionalProperties: true, description: 'Stax line item. tax_rate (percent) is a Folio extension: Stax sends only the tax amount.' },
);

export const StaxMeta = Type.Object(
  {
    lineItems: Type.Optional(Type.Array(StaxLineItem, { maxItems: 1000 })),
    subtotal: Type.Optional(DecimalInput),
    tax: Type.Optional(DecimalInput),
    memo: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
    reference: Type.Optional(Nullable(Type.String({ maxLength: 140 }))),
  },
  { additionalProperties: true, maxProperties: 60, description: 'Any other keys are kept verbatim (nested JSON, bounded: docs/api.md).' },
);

export const StaxFileRef = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: true });

export const StaxInvoiceWrite = Type.Object(
  {
    customer_id: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    total: Type.Optional(DecimalInput),
    meta: Type.Optional(StaxMeta),
    files: Type.Optional(Type.Array(StaxFileRef, { maxItems: 100 })),
    url: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    send_now: Type.Optional(Type.Boolean()),
    is_partial_payment_enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type StaxInvoiceWrite = Static<typeof StaxInvoiceWrite>;

export const StaxIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const StaxInvoice = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    customer_id: Nullable(Type.String()),
    total: Type.Number(),
    meta: Type.Record(Type.String(), Type.Unknown()),
    status: Type.String({ enum: ['DRAFT', 'SENT', 'PARTIALLY APPLIED', 'PAID', 'DELETED'] }),
    balance_due: Type.Number(),
    total_paid: Type.Number(),
    files: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { additionalProperties: true },
);
