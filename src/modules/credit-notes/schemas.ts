import { Type } from '@sinclair/typebox';
import { DecimalOutput, IdString, ListQuery, Nullable, Timestamp } from '../../http/schema-helpers.js';

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
