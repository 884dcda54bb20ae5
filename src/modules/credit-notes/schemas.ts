import { Type, type Static } from '@sinclair/typebox';
import { DecimalInput, DecimalOutput, IdString, ListQuery, Nullable, NullableText, Timestamp } from '../../core/schema-helpers.js';

export const CreditNoteSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('credit_note'),
  number: Type.String(),
  invoice_id: Type.String(),
  revision_id: Nullable(Type.String()),
  reason: Type.String(),
  currency: Type.String(),
  lines: Type.Array(
    Type.Object({
      description: Nullable(Type.String()),
      quantity: DecimalOutput,
      unit: Nullable(Type.String()),
      unit_price: DecimalOutput,
      tax_rate: Nullable(DecimalOutput),
      net_amount: DecimalOutput,
      tax_amount: DecimalOutput,
      gross_amount: DecimalOutput,
    }),
  ),
  subtotal: DecimalOutput,
  tax_total: DecimalOutput,
  total: DecimalOutput,
  issue_date: Type.String(),
  created_at: Timestamp,
});

export const CreditNoteListQuery = Type.Object({ ...ListQuery, invoice_id: Type.Optional(IdString) }, { additionalProperties: false });
export const CreditNoteParams = Type.Object({ id: IdString });

export const CreditNoteCreateSchema = Type.Object(
  {
    invoice_id: IdString,
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    lines: Type.Array(
      Type.Object(
        {
          description: Type.Optional(NullableText(2000)),
          quantity: DecimalInput,
          unit: Type.Optional(NullableText(32)),
          unit_price: DecimalInput,
          tax_rate: Type.Optional(Nullable(DecimalInput)),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 200 },
    ),
  },
  { additionalProperties: false, description: 'A partial credit against a finalized invoice; amounts are positive and reduce its balance.' },
);
export type CreditNoteCreate = Static<typeof CreditNoteCreateSchema>;
