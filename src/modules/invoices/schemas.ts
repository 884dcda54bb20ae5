import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  BusinessDate,
  DecimalInput,
  DecimalOutput,
  IdString,
  ListQuery,
  Nullable,
  NullableText,
  StringMap,
  StringMapPatch,
  Timestamp,
} from '../../core/schema-helpers.js';
import { plainTextHeaderFieldNames, plainTextHeaderFields, type PlainTextHeaderField } from '../../shared/invoice-fields.js';
import type { BillTo } from './domain/model.js';
import { metadataLimits } from './domain/metadata.js';
import type { Assert, Fits, InvoiceWriteCommand, LineOperationCommand, LineWriteCommand } from './domain/write-command.js';
import { FieldsQuery } from '../../core/representation.js';

/** Hard ceiling for one request's lines; the tenant-independent limit FOLIO_MAX_LINES may be lower. */
export const maxLinesInRequest = 1000;

const externalRefLimits = { maxKeys: 20, maxKeyLength: 40, maxValueLength: 200 };
const trackingLimits = { maxKeys: 10, maxKeyLength: 40, maxValueLength: 100 };

const Discount = Type.Object(
  {
    type: Type.Union([Type.Literal('percent'), Type.Literal('amount')]),
    value: DecimalInput,
  },
  { additionalProperties: false, description: 'percent: 0–100 of the line amount; amount: currency amount off the line.' },
);

export const AddressSchema = Type.Object(
  {
    line1: Type.Optional(NullableText(200)),
    line2: Type.Optional(NullableText(200)),
    city: Type.Optional(NullableText(100)),
    region: Type.Optional(NullableText(100)),
    postal_code: Type.Optional(NullableText(20)),
    country: Type.Optional(Nullable(Type.String({ pattern: '^[A-Z]{2}$' }))),
  },
  { additionalProperties: false },
);

export const BillToSchema = Type.Object(
  {
    name: Type.Optional(NullableText(200)),
    email: Type.Optional(NullableText(254)),
    phone: Type.Optional(NullableText(50)),
    tax_id: Type.Optional(NullableText(50)),
    address: Type.Optional(Nullable(AddressSchema)),
    language: Type.Optional(NullableText(35)),
  },
  { additionalProperties: false },
);

const CustomFieldValue = Type.Union([
  Type.Object({ type: Type.Literal('string'), value: Type.String({ maxLength: 500 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('number'), value: DecimalInput }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('date'), value: BusinessDate }, { additionalProperties: false }),
]);

const CustomFieldsPatch = Type.Record(Type.String(), Nullable(CustomFieldValue), {
  maxProperties: 50,
  propertyNames: { minLength: 1, maxLength: 40 },
});

/** Client-sent figures are optional cross-checks: a mismatch is a 422, never trusted. */
const lineCheckFields = {
  net_amount: Type.Optional(DecimalInput),
  tax_amount: Type.Optional(DecimalInput),
  gross_amount: Type.Optional(DecimalInput),
  total_amount: Type.Optional(DecimalInput),
};

const lineWriteFields = {
  parent_line_id: Type.Optional(Nullable(IdString)),
  ref: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A name for this line within this request only, so another line of the same request can name it as parent_ref.' })),
  parent_ref: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Groups this line under the line of this request whose ref it names (a parent added in the same request has no id yet).' })),
  description: Type.Optional(NullableText(2000)),
  quantity: Type.Optional(DecimalInput),
  unit: Type.Optional(NullableText(32)),
  unit_price: Type.Optional(DecimalInput),
  discount: Type.Optional(Nullable(Discount)),
  tax_rate: Type.Optional(Nullable(DecimalInput)),
  tax_code: Type.Optional(NullableText(32)),
  account_code: Type.Optional(NullableText(64)),
  item_code: Type.Optional(NullableText(64)),
  tracking: Type.Optional(Nullable(StringMap(trackingLimits))),
  ...lineCheckFields,
};

export const LineInputSchema = Type.Object(
  { id: Type.Optional(IdString), ...lineWriteFields },
  { additionalProperties: false, description: 'A line: with id it updates that line, without id it is added.' },
);
export type LineInput = Static<typeof LineInputSchema>;

export const LineOperationSchema = Type.Object(
  {
    op: Type.Union([Type.Literal('add'), Type.Literal('update'), Type.Literal('remove')]),
    id: Type.Optional(IdString),
    position: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: '1-based place in the line list.' })),
    ...lineWriteFields,
  },
  { additionalProperties: false, description: 'add (no id), update (id + fields), remove (id).' },
);
export type LineOperation = Static<typeof LineOperationSchema>;

/** One schema per plain text header field (src/shared/invoice-fields.ts), in the table's order. */
function eachPlainTextField<Schema extends TSchema>(schemaOf: (field: PlainTextHeaderField) => Schema): Record<PlainTextHeaderField, Schema> {
  return Object.fromEntries(plainTextHeaderFieldNames.map((field) => [field, schemaOf(field)])) as Record<PlainTextHeaderField, Schema>;
}

const invoiceWriteFields = {
  number: Type.Optional(NullableText(64)),
  ...eachPlainTextField((field) => Type.Optional(NullableText(plainTextHeaderFields[field].maxLength))),
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' })),
  exchange_rate: Type.Optional(Nullable(DecimalInput)),
  issue_date: Type.Optional(Nullable(BusinessDate)),
  due_date: Type.Optional(Nullable(BusinessDate)),
  payment_terms: Type.Optional(
    Nullable(Type.Object({ net_days: Type.Integer({ minimum: 0, maximum: 3650 }) }, { additionalProperties: false })),
  ),
  memo: Type.Optional(NullableText(5000)),
  internal_note: Type.Optional(NullableText(5000)),
  metadata: Type.Optional(
    Nullable(
      Type.Record(Type.String(), Type.Unknown(), {
        maxProperties: metadataLimits.maxKeys,
        propertyNames: { minLength: 1, maxLength: metadataLimits.maxKeyLength },
        description: `Any JSON per key (objects and arrays too). PATCH merges top-level keys (null removes a key; a value replaces the key's whole value); PUT replaces the map. At most ${metadataLimits.maxKeys} keys, ${metadataLimits.maxDepth} levels, ${metadataLimits.maxBytes} bytes as JSON; null members inside values are dropped.`,
      }),
    ),
  ),
  custom_fields: Type.Optional(Nullable(CustomFieldsPatch)),
  external_refs: Type.Optional(Nullable(StringMapPatch(externalRefLimits))),
  customer_id: Type.Optional(Nullable(IdString)),
  bill_to: Type.Optional(Nullable(BillToSchema)),
  tax_mode: Type.Optional(Type.Union([Type.Literal('exclusive'), Type.Literal('inclusive')])),
  rounding_mode: Type.Optional(
    Type.Union([Type.Literal('half_up'), Type.Literal('half_even'), Type.Literal('half_down'), Type.Literal('up'), Type.Literal('down')]),
  ),
  lines: Type.Optional(Type.Array(LineInputSchema, { maxItems: maxLinesInRequest })),
  line_operations: Type.Optional(Type.Array(LineOperationSchema, { maxItems: maxLinesInRequest })),
  subtotal: Type.Optional(DecimalInput),
  discount_total: Type.Optional(DecimalInput),
  tax_total: Type.Optional(DecimalInput),
  total: Type.Optional(DecimalInput),
  reason: Type.Optional(Type.String({ maxLength: 500, description: 'Why this change was made; kept in the history.' })),
};

export const InvoiceWriteSchema = Type.Object(invoiceWriteFields, { additionalProperties: false});
export type InvoiceWrite = Static<typeof InvoiceWriteSchema>;

// The request body is the domain's write command, field for field: a field added to one and not
// the other, or a type that no longer fits, is a compile error here (domain/write-command.ts).
export type InvoiceWriteFitsCommand = Assert<Fits<InvoiceWrite, InvoiceWriteCommand>>;
export type LineInputFitsCommand = Assert<Fits<LineInput, LineWriteCommand>>;
export type LineOperationFitsCommand = Assert<Fits<LineOperation, LineOperationCommand>>;

export const LineOutput = Type.Object({
  id: Type.String(),
  guid: Type.String({ format: 'uuid', description: 'Stable UUID of the line.' }),
  position: Type.Integer(),
  parent_line_id: Nullable(Type.String()),
  description: Nullable(Type.String()),
  quantity: DecimalOutput,
  unit: Nullable(Type.String()),
  unit_price: DecimalOutput,
  discount: Nullable(Type.Object({ type: Type.String(), value: DecimalOutput })),
  tax_rate: Nullable(DecimalOutput),
  tax_code: Nullable(Type.String()),
  account_code: Nullable(Type.String()),
  item_code: Nullable(Type.String()),
  tracking: Nullable(Type.Record(Type.String(), Type.String())),
  amount_before_discount: DecimalOutput,
  discount_amount: DecimalOutput,
  net_amount: DecimalOutput,
  tax_amount: DecimalOutput,
  gross_amount: DecimalOutput,
});

export const AttachmentOutput = Type.Object({
  id: Type.String(),
  filename: Type.String(),
  content_type: Type.String({ description: 'Decided by sniffing the bytes, not by the client header or file name.' }),
  size_bytes: Type.Integer(),
  sha256: Type.String(),
  created_at: Timestamp,
});

export const InvoiceSchema = Type.Object(
  {
    id: Type.String(),
    guid: Type.String({ format: 'uuid', description: 'Stable UUID; GET/PATCH/PUT /v1/invoices/{guid} work too.' }),
    serial: Type.Integer({ minimum: 1, description: 'Per-tenant integer 1, 2, 3… in creation order.' }),
    object: Type.Literal('invoice'),
    number: Nullable(Type.String()),
    ...eachPlainTextField(() => Nullable(Type.String())),
    status: Type.String({ enum: ['draft', 'open', 'paid', 'void'] }),
    currency: Type.String(),
    exchange_rate: Nullable(DecimalOutput),
    issue_date: Nullable(Type.String()),
    due_date: Nullable(Type.String()),
    payment_terms: Nullable(Type.Object({ net_days: Type.Integer() })),
    memo: Nullable(Type.String()),
    internal_note: Nullable(Type.String()),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    custom_fields: Type.Record(Type.String(), Type.Object({ type: Type.String(), value: Type.String() })),
    external_refs: Type.Record(Type.String(), Type.String()),
    customer_id: Nullable(Type.String()),
    bill_to: Nullable(Type.Unsafe<BillTo>({ type: 'object', additionalProperties: true })),
    tax_mode: Type.String(),
    rounding_mode: Type.String(),
    lines: Type.Array(LineOutput),
    attachments: Type.Array(AttachmentOutput),
    subtotal: DecimalOutput,
    discount_total: DecimalOutput,
    tax_total: DecimalOutput,
    total: DecimalOutput,
    tax_breakdown: Type.Array(Type.Object({ tax_rate: DecimalOutput, taxable_amount: DecimalOutput, tax_amount: DecimalOutput })),
    amount_paid: DecimalOutput,
    amount_credited: DecimalOutput,
    balance: DecimalOutput,
    payment_status: Type.Optional(Type.String()),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
    finalized_at: Nullable(Timestamp),
    voided_at: Nullable(Timestamp),
    revision_of: Type.Optional(Nullable(Type.String())),
    revised_by: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: true },
);

const statusNames = 'draft|open|paid|void';
const paymentStatusNames = 'unpaid|partially_paid|paid|overdue';
const sortNames = 'created|number|issue_date|due_date|total|updated_at';
const commaSeparated = (names: string, description: string, example: string) =>
  Type.String({ pattern: `^(${names})(,(${names}))*$`, maxLength: 100, description, examples: [example] });
const DateQuery = (description: string) => Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description, examples: ['2026-01-31'] });
const DecimalQuery = (description: string) =>
  Type.String({ pattern: '^[+-]?\\d{1,30}(\\.\\d{1,30})?$', description, examples: ['1000.00'] });

/** GET /v1/invoices: the query names of the public filter (list-filter.ts turns them into an InvoiceListFilter). */
export const InvoiceListQuery = Type.Object(
  {
    ...ListQuery,
    status: Type.Optional(commaSeparated(statusNames, 'Lifecycle status; several comma-separated match any.', 'open,paid')),
    payment_status: Type.Optional(
      commaSeparated(paymentStatusNames, 'Derived payment status; overdue = open, unpaid balance, due date before today. Several comma-separated match any.', 'overdue'),
    ),
    customer_id: Type.Optional(IdString),
    number: Type.Optional(Type.String({ maxLength: 64, description: 'Exact invoice number.' })),
    number_prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Invoice numbers starting with this text (case-sensitive).', examples: ['INV-2026'] })),
    reference: Type.Optional(Type.String({ maxLength: 140 })),
    guid: Type.Optional(Type.String({ format: 'uuid', description: 'Exact invoice guid.' })),
    serial: Type.Optional(Type.Integer({ minimum: 1, description: 'Exact per-tenant serial.' })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code.' })),
    issue_date_from: Type.Optional(DateQuery('Issue date on or after (inclusive).')),
    issue_date_to: Type.Optional(DateQuery('Issue date on or before (inclusive).')),
    due_date_from: Type.Optional(DateQuery('Due date on or after (inclusive).')),
    due_date_to: Type.Optional(DateQuery('Due date on or before (inclusive).')),
    updated_since: Type.Optional(Type.String({ format: 'date-time', description: 'Changed at or after this RFC 3339 time.' })),
    total_min: Type.Optional(DecimalQuery('Total at least (inclusive; exact decimal).')),
    total_max: Type.Optional(DecimalQuery('Total at most (inclusive; exact decimal).')),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Case-insensitive text in the memo, a line description or the bill-to (customer) name; 3 to 100 characters.' }),
    ),
    sort: Type.Optional(
      Type.String({
        pattern: `^-?(${sortNames})$`,
        description: 'Order: number, issue_date, due_date, total, updated_at (or created, the default); a leading "-" sorts descending. Default: -created (newest first). Invoices without the sort value come last.',
        examples: ['-total'],
      }),
    ),
    ...FieldsQuery,
  },
  { additionalProperties: false },
);
export type InvoiceListQuery = Static<typeof InvoiceListQuery>;

export const InvoiceIdParams = Type.Object({ id: IdString });

/** GET /v1/invoices/lookup: exactly one identifier. */
export const InvoiceLookupQuery = Type.Object(
  {
    id: Type.Optional(IdString),
    guid: Type.Optional(Type.String({ maxLength: 64 })),
    serial: Type.Optional(Type.String({ maxLength: 16 })),
    number: Type.Optional(Type.String({ maxLength: 64 })),
    reference: Type.Optional(Type.String({ maxLength: 140 })),
    ...FieldsQuery,
  },
  { additionalProperties: false },
);
