import { Type, type Static } from '@sinclair/typebox';
import { DecimalInput, Nullable } from '../../core/schema-helpers.js';

/** The unified accounting API's invoice, in its own camelCase names (seed 001; docs/dialects/unified.md). */

/** The seed's ISO 4217 list, verbatim. */
export const unifiedCurrencies = (
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWL'
).split(' ');

/** A date as the seed's request sends it (YYYY-MM-DD), or as its response prints it (epoch milliseconds), for GET → PUT round trips. */
const UnifiedDate = Type.Union([Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), Type.Integer({ minimum: 0, maximum: 32503680000000 })]);

export const UnifiedLineItemWrite = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 64, description: 'A line of this invoice (as the response shows it): updated in place. Lines without id are added.' })),
    description: Type.String({ maxLength: 2000 }),
    unitPrice: Type.Optional(DecimalInput),
    quantity: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
    totalAmount: DecimalInput,
    accountingItemId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    accountId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  },
  { additionalProperties: false },
);

export const UnifiedInvoiceWrite = Type.Object(
  {
    customerId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    lineItems: Type.Array(UnifiedLineItemWrite, { maxItems: 1000, description: 'The whole line set: lines not listed are removed.' }),
    invoiceNumber: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    issueDate: Type.Optional(Nullable(UnifiedDate)),
    dueDate: Type.Optional(Nullable(UnifiedDate)),
    memo: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
    currency: Type.Optional(Type.String({ enum: unifiedCurrencies })),
    exchangeRate: Type.Optional(Nullable(DecimalInput)),
    totalAmount: Type.Optional(DecimalInput),
    balance: Type.Optional(DecimalInput),
    remoteFields: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
  },
  { additionalProperties: false },
);
export type UnifiedInvoiceWrite = Static<typeof UnifiedInvoiceWrite>;

export const UnifiedQuery = Type.Object({ credentialId: Type.String({ minLength: 1, maxLength: 64 }) });
export const UnifiedIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const UnifiedLineItem = Type.Object(
  {
    id: Type.String(),
    remoteId: Type.String(),
    description: Nullable(Type.String()),
    unitPrice: Type.Number(),
    quantity: Type.Number(),
    totalAmount: Type.Number(),
    currency: Type.String(),
    exchangeRate: Nullable(Type.Number()),
    accountingItemId: Nullable(Type.String()),
    accountId: Nullable(Type.String()),
    trackingCategoryId: Nullable(Type.String()),
    trackingCategoryIds: Type.Array(Type.String()),
    companyId: Nullable(Type.String()),
  },
  { additionalProperties: true },
);

export const UnifiedInvoiceResponse = Type.Object({
  invoice: Type.Object(
    {
      id: Type.String(),
      remoteId: Type.String(),
      customerId: Nullable(Type.String()),
      invoiceNumber: Nullable(Type.String()),
      issueDate: Nullable(Type.Integer()),
      dueDate: Nullable(Type.Integer()),
      paidOnDate: Nullable(Type.Integer()),
      memo: Nullable(Type.String()),
      companyId: Nullable(Type.String()),
      currency: Type.String(),
      exchangeRate: Nullable(Type.Number()),
      totalDiscount: Type.String(),
      subTotal: Type.String(),
      invoiceStatus: Type.String({ enum: ['DRAFT', 'SUBMITTED', 'PARTIALLY_PAID', 'PAID', 'VOID'] }),
      totalTaxAmount: Type.String(),
      totalAmount: Type.Number(),
      balance: Type.Number(),
      trackingCategories: Type.Array(Type.Unknown()),
      lineItems: Type.Array(UnifiedLineItem),
      purchaseOrders: Type.Array(Type.Unknown()),
      remoteFields: Type.Record(Type.String(), Type.Unknown()),
      remoteCreatedAt: Type.String(),
      remoteUpdatedAt: Type.String(),
      remoteDeleted: Type.Boolean(),
      createdAt: Type.String(),
      updatedAt: Type.String(),
    },
    { additionalProperties: true },
  ),
});
