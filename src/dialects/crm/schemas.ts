import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DecimalInput } from '../../core/schema-helpers.js';

/**
 * CRM.COM `invoices/update` (seed 004) in CRM.COM's own field names. JSON bodies, `token` in the
 * body; amounts may be JSON numbers or decimal strings (read exactly either way).
 */
const optional = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
/** CRM.COM dates: `2024-05-31` or `2024-05-31T00:00:00` (the date part is kept). */
export const CrmDate = Type.String({ maxLength: 40, pattern: '^\\d{4}-\\d{2}-\\d{2}([T ][0-9:.]+(Z|[+-]\\d{2}:?\\d{2})?)?$' });
const identifierValue = Type.String({ minLength: 1, maxLength: 140 });

export const udfStringFields = ['udf_string_1', 'udf_string_2', 'udf_string_3', 'udf_string_4', 'udf_string_5', 'udf_string_6', 'udf_string_7', 'udf_string_8'] as const;
export const udfFloatFields = ['udf_float_1', 'udf_float_2', 'udf_float_3', 'udf_float_4'] as const;
export const udfDateFields = ['udf_date_1', 'udf_date_2', 'udf_date_3', 'udf_date_4'] as const;

/** One schema for each of the named fields (Object.fromEntries forgets the names; they are given back here). */
const eachField = <Name extends string>(names: readonly Name[], schema: () => TSchema) => Object.fromEntries(names.map((name) => [name, schema()])) as Record<Name, TSchema>;

const udfProperties = {
  ...eachField(udfStringFields, () => optional(Type.String({ maxLength: 500 }))),
  ...eachField(udfFloatFields, () => optional(DecimalInput)),
  ...eachField(udfDateFields, () => optional(CrmDate)),
};

/** `invoice_identifier`: exactly one of id | number | reference_number (checked by the dialect, with a clear error). */
export const CrmInvoiceIdentifier = Type.Object(
  {
    id: Type.Optional(identifierValue),
    number: Type.Optional(identifierValue),
    reference_number: Type.Optional(identifierValue),
  },
  { additionalProperties: false, description: 'Exactly one of id (the Folio invoice id), number, reference_number.' },
);
export type CrmInvoiceIdentifier = Static<typeof CrmInvoiceIdentifier>;

const CrmNamedIdentifier = Type.Object(
  { id: Type.Optional(identifierValue), code: Type.Optional(identifierValue), name: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })), alternative_code: Type.Optional(identifierValue) },
  { additionalProperties: false },
);

export const CrmInvoiceItem = Type.Object(
  {
    action: Type.Union(['add', 'update', 'remove', 'ADD', 'UPDATE', 'REMOVE'].map((action) => Type.Literal(action)), { description: 'add, update or remove (CRM.COM documents ADD/UPDATE/REMOVE; both cases accepted).' }),
    invoice_item_identifier: Type.Optional(Type.Object({ id: identifierValue }, { additionalProperties: false, description: 'id: the Folio line id (update, remove).' })),
    product_identifier: Type.Optional(Type.Object(
      { id: Type.Optional(identifierValue), code: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), name: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) },
      { additionalProperties: false, description: 'Kept on the line: code → item_code, name → description.' },
    )),
    quantity: optional(DecimalInput),
    cost: optional(DecimalInput),
    sub_total: optional(DecimalInput),
    discount_percentage: optional(DecimalInput),
    discount_amount: optional(DecimalInput),
  },
  { additionalProperties: false },
);
export type CrmInvoiceItem = Static<typeof CrmInvoiceItem>;

export const maxCrmItems = 1000;

export const CrmInvoiceUpdateRequest = Type.Object(
  {
    token: Type.Optional(Type.String({ maxLength: 200, description: 'A Folio API key of the tenant (CRM.COM\'s login token).' })),
    invoice_identifier: CrmInvoiceIdentifier,
    due_on: optional(CrmDate),
    notes: optional(Type.String({ maxLength: 5000 })),
    back_office_code: optional(Type.String({ maxLength: 200 })),
    intended_currency_identifier: Type.Optional(Type.Object({ code: Type.Optional(Type.String({ maxLength: 3 })), id: Type.Optional(identifierValue) }, { additionalProperties: false })),
    accounts_receivable_identifier: Type.Optional(CrmNamedIdentifier),
    type_identifier: Type.Optional(CrmNamedIdentifier),
    category_identifier: Type.Optional(CrmNamedIdentifier),
    member_accounts_receivable_identifier: Type.Optional(CrmNamedIdentifier),
    ...udfProperties,
    invoice_item_set: Type.Optional(Type.Array(CrmInvoiceItem, { maxItems: maxCrmItems })),
    fields_set: Type.Optional(Type.String({ maxLength: 2000, description: 'Comma-separated response fields, e.g. "id,notes"; all when absent.' })),
  },
  { additionalProperties: false },
);
export type CrmInvoiceUpdateRequest = Static<typeof CrmInvoiceUpdateRequest>;

/** invoices/create: the update's fields without invoice_identifier; items may only be added. */
export const CrmInvoiceCreateRequest = Type.Omit(CrmInvoiceUpdateRequest, ['invoice_identifier'], { additionalProperties: false });
export type CrmInvoiceCreateRequest = Static<typeof CrmInvoiceCreateRequest>;

/** GET invoices/show: CRM.COM writes the identifier as `invoice_identifier=number=INV-1` (or id=…, reference_number=…). */
export const CrmShowQuery = Type.Object(
  {
    token: Type.Optional(Type.String({ maxLength: 200 })),
    invoice_identifier: Type.String({ minLength: 3, maxLength: 200, description: 'id=…, number=… or reference_number=…' }),
    fields_set: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

const CrmStatus = Type.Object({ code: Type.String(), message: Type.String(), description: Type.String() });

/** CRM.COM's envelope: `status` says how it went, `data` holds the invoice (null on a refusal). */
export const CrmResponse = Type.Object({ status: CrmStatus, data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]) });
