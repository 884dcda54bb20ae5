import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DecimalInput } from '../../core/schema-helpers.js';

/**
 * PRC / Midnight `InvoiceUpdateRequest` in Midnight's own field names (seed 002). Every member
 * is optional and may be null: a .NET client serializes properties it did not set as null,
 * so null means "unchanged", like absent (docs/dialects/midnight.md).
 * XML bodies are read against this schema: `<InvoiceLine>` holds `<InvoiceLineSelectResponse>`
 * elements and `<InvoiceLineItem>` holds `<InvoiceLineItemSelectResponse>` elements.
 */
const orNull = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
const text = (maxLength = 500) => orNull(Type.String({ maxLength }));
const integer = () => orNull(Type.Integer({ minimum: -2147483648, maximum: 2147483647 }));
const money = () => orNull(DecimalInput);
const flag = () => orNull(Type.Boolean());
/** A .NET DateTime as JSON/XML writes it: `2024-04-29T12:35:06.5639005-04:00` (or a bare date). */
const dateTime = () => orNull(Type.String({ maxLength: 40, pattern: '^\\d{4}-\\d{2}-\\d{2}([T ][0-9:.]+(Z|[+-]\\d{2}:?\\d{2})?)?$' }));
const guid = () => orNull(Type.String({ maxLength: 64 }));

export const maxMidnightLines = 500;
export const maxMidnightItemsPerLine = 200;

export const MidnightInvoiceLineItem = Type.Object(
  {
    InvoiceLineItemID: integer(),
    InvoiceID: integer(),
    InvoiceLineID: integer(),
    OrderID: integer(),
    OrderVersionID: integer(),
    OrderVersionDetailID: integer(),
    ServiceID: integer(),
    InvoiceLineDetailType: text(),
    Quantity: money(),
    Amount: money(),
    Tax: money(),
    AccountingGLID: text(64),
    PaymentAccountID: integer(),
    OrderVersionPostageID: integer(),
    AmountApplied: money(),
    DisplayItem: flag(),
    PreviouslyInvoiced: money(),
    PreviouslyInvoicedBalance: money(),
    InitialTotal: money(),
  },
  { additionalProperties: false, description: 'InvoiceLineItemSelectResponse: a child line of its InvoiceLine.' },
);
export type MidnightInvoiceLineItem = Static<typeof MidnightInvoiceLineItem>;

export const MidnightInvoiceLine = Type.Object(
  {
    InvoiceLineID: integer(),
    InvoiceID: integer(),
    ParentInvoiceLineID: integer(),
    OrderID: integer(),
    InvoiceLineType: text(),
    Title: text(2000),
    Priority: integer(),
    Quantity: money(),
    Rate: money(),
    AmountBilled: money(),
    PreviouslyInvoiced: money(),
    PreviouslyInvoicedBalance: money(),
    InitialTotal: money(),
    Note: text(2000),
    bNoteVisible: flag(),
    DisplayItem: flag(),
    LineSubTotal: money(),
    Tax: money(),
    ItemId: integer(),
    ItemType: text(),
    LineType: text(),
    TempInvoiceLineID: integer(),
    InvoiceLineGuid: guid(),
    ParentInvoiceLineGuid: guid(),
    InvoiceLineItem: orNull(Type.Array(MidnightInvoiceLineItem, { maxItems: maxMidnightItemsPerLine })),
    ParentObjectType: text(),
    ParentObjectID: integer(),
  },
  { additionalProperties: false, description: 'InvoiceLineSelectResponse: a parent line; its InvoiceLineItems are its child lines.' },
);
export type MidnightInvoiceLine = Static<typeof MidnightInvoiceLine>;

const invoiceFields = {
  Guid: guid(),
  InvoiceID: integer(),
  InvoiceNumber: text(64),
  InvoiceNumberExt: text(),
  CustomerId: integer(),
  UserName: text(),
  InvoiceDate: dateTime(),
  InvoiceDueDate: dateTime(),
  TermsCode: text(),
  SubTotalBilledAmount: money(),
  InvoiceTaxAmount: money(),
  TotalBilledAmount: money(),
  PaymentDueAmount: money(),
  PaymentBilledDateTime: dateTime(),
  AddressLine1: text(200),
  AddressLine2: text(200),
  AddressLine3: text(200),
  City: text(100),
  StateCode: text(100),
  ZipCode: text(20),
  Phone: text(50),
  Extension: text(20),
  EmailAddress: text(254),
  ContactID: integer(),
  InvoiceNote: text(5000),
  SourceModule: text(),
  InvoiceTitle: text(),
  Note: text(5000),
  DisplayItem: flag(),
  InvoiceStatus: text(),
  InvoiceLine: orNull(Type.Array(MidnightInvoiceLine, { maxItems: maxMidnightLines })),
  PurchaseOrderNumber: text(140),
  ItemDisplaySetting: text(),
};

export const MidnightInvoiceUpdateRequest = Type.Object(invoiceFields, {
  additionalProperties: false,
  description: 'PRC / Midnight InvoiceUpdateRequest (JSON, or XML with the document element <InvoiceUpdateRequest>).',
});
export type MidnightInvoiceUpdateRequest = Static<typeof MidnightInvoiceUpdateRequest>;

/** The answer of every Midnight write: a bare string (JSON `"…"` or XML `<string>…</string>`). */
export const MidnightStringResponse = Type.String({ description: 'A bare string: JSON "…" or XML <string>…</string>, following the request format.' });

/** Midnight's error body (ASP.NET Web API's HttpError): JSON `{"Message": …}` or XML `<Error><Message>…</Message></Error>`. */
export const MidnightErrorResponse = Type.Object({
  Message: Type.String(),
  ModelState: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
});
