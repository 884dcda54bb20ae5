import { Type, type Static } from '@sinclair/typebox';
import { AddressSchema } from '../invoices/schemas.js';

const Text = (maxLength: number, extra: object = {}) => Type.Union([Type.String({ minLength: 1, maxLength, ...extra }), Type.Null()]);

/** PATCH /v1/tenant/settings `document_seller`: absent = unchanged, null = cleared. */
export const SellerPatchSchema = Type.Object(
  {
    name: Type.Optional(Text(200)),
    address: Type.Optional(Type.Union([AddressSchema, Type.Null()])),
    vat_id: Type.Optional(Text(30, { pattern: '^[A-Z]{2}[0-9A-Za-z+*.]{2,28}$', description: 'VAT id with country prefix, e.g. FI12345678' })),
    business_id: Type.Optional(Text(20, { description: 'Finnish business id (Y-tunnus), e.g. 1234567-8' })),
    ovt: Type.Optional(Text(17, { pattern: '^[0-9A-Za-z]{12,17}$', description: 'Finnish OVT / e-invoice address' })),
    iban: Type.Optional(Text(42, { pattern: '^[A-Z]{2}[0-9]{2}[A-Z0-9 ]{11,36}$' })),
    bic: Type.Optional(Text(11, { pattern: '^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$' })),
    email: Type.Optional(Text(254)),
    phone: Type.Optional(Text(40)),
    logo: Type.Optional(
      Type.Union([
        Type.Object(
          { invoice_id: Type.String({ maxLength: 100 }), attachment_id: Type.String({ maxLength: 100 }) },
          { additionalProperties: false, description: 'A PNG or JPEG already uploaded as an invoice attachment; its bytes are kept for the logo.' },
        ),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: false },
);
export type SellerPatch = Static<typeof SellerPatchSchema>;

const NullableString = Type.Union([Type.String(), Type.Null()]);
export const SellerSchema = Type.Object({
  name: NullableString,
  address: Type.Union([AddressSchema, Type.Null()]),
  vat_id: NullableString,
  business_id: NullableString,
  ovt: NullableString,
  iban: NullableString,
  bic: NullableString,
  email: NullableString,
  phone: NullableString,
  logo_sha256: NullableString,
});

export const documentFormats = ['pdf', 'ubl', 'finvoice'] as const;
export type DocumentFormat = (typeof documentFormats)[number];

const SellerQuery = Type.Optional(
  Type.Union([Type.Literal('as_written'), Type.Literal('current')], {
    description: "as_written (default): the seller details in force when the version was written (a credit note: when it was issued), so a document is reproduced byte for byte after the settings change; current: today's seller details (e.g. a new bank account on a re-sent copy). Drafts always show today's.",
  }),
);

export const InvoiceDocumentQuery = Type.Object({
  format: Type.Optional(Type.Union(documentFormats.map((format) => Type.Literal(format)), { description: 'pdf, ubl (UBL 2.1 / Peppol BIS 3) or finvoice (Finvoice 3.0); without it, chosen by Accept' })),
  version: Type.Optional(Type.Integer({ minimum: 1, description: 'An earlier version of the invoice; the current one without it' })),
  seller: SellerQuery,
});

export const CreditNoteDocumentQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('pdf'), Type.Literal('ubl')], { description: 'pdf or ubl (UBL 2.1 CreditNote); without it, chosen by Accept' })),
  seller: SellerQuery,
});
