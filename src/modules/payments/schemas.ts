import { Type, type Static } from '@sinclair/typebox';
import { BusinessDate, DecimalInput, DecimalOutput, IdString, Nullable, NullableText, Timestamp } from '../../core/schema-helpers.js';
import { InvoiceSchema } from '../invoices/schemas.js';

export const PaymentCreateSchema = Type.Object(
  {
    amount: DecimalInput,
    date: BusinessDate,
    method: Type.String({ minLength: 1, maxLength: 40, description: 'e.g. bank_transfer, card, cash, check' }),
    reference: Type.Optional(NullableText(140)),
  },
  { additionalProperties: false },
);
export type PaymentCreate = Static<typeof PaymentCreateSchema>;

export const RefundSchema = Type.Object(
  {
    amount: Type.Optional(DecimalInput),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false, description: 'Refund (reverse) a payment, in full when amount is absent.' },
);
export type Refund = Static<typeof RefundSchema>;

export const PaymentSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment'),
  invoice_id: Type.String(),
  amount: DecimalOutput,
  refunded_amount: DecimalOutput,
  net_amount: DecimalOutput,
  currency: Type.String(),
  date: Type.String(),
  method: Type.String(),
  reference: Nullable(Type.String()),
  status: Type.String({ enum: ['succeeded', 'partially_refunded', 'refunded'] }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const PaymentWithInvoiceSchema = Type.Intersect([PaymentSchema, Type.Object({ invoice: InvoiceSchema })]);

export const PaymentParams = Type.Object({ id: IdString, paymentId: IdString });
