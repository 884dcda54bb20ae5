import { Type, type Static } from '@sinclair/typebox';
import { DecimalInput, IdString, NullableText } from '../../core/schema-helpers.js';
import { InvoiceListQuery, InvoiceWriteSchema, LineOperationSchema } from '../invoices/schemas.js';

/** Most invoices a job may name one by one (a filter has no such limit: it is matched page by page). */
export const maxExplicitInvoices = 10_000;
export const maxReferences = 1_000;

/** The list filters, by the same names as GET /v1/invoices' query (paging and field selection excluded). */
export const JobFilterSchema = Type.Omit(InvoiceListQuery, ['limit', 'cursor', 'fields', 'sort'], {
  additionalProperties: false,
  description: 'The list filters of GET /v1/invoices, by the same names; {} matches every invoice of the tenant.',
});

const LineSelectorSchema = Type.Object(
  {
    tax_rate: Type.Optional(Type.Union([DecimalInput, Type.Null()])),
    tax_code: Type.Optional(NullableText(32)),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    description_contains: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    item_code: Type.Optional(NullableText(64)),
    account_code: Type.Optional(NullableText(64)),
  },
  { additionalProperties: false, minProperties: 1, description: 'Lines matching every given criterion (decimals compare by value).' },
);

const lineSetFields = Type.Omit(LineOperationSchema, ['op', 'id', 'position']);

const SelectorOperationSchema = Type.Object(
  {
    op: Type.Union([Type.Literal('update'), Type.Literal('remove')]),
    match: LineSelectorSchema,
    set: Type.Optional(Type.Object(lineSetFields.properties, { additionalProperties: false, minProperties: 1 })),
  },
  { additionalProperties: false, description: 'Every line matching `match` is updated with `set`, or removed.' },
);

/** Header fields that are one invoice's own (number, reference) or replace all lines make no sense in bulk. */
const changeHeader = Type.Omit(InvoiceWriteSchema, ['number', 'reference', 'lines', 'line_operations', 'reason', 'subtotal', 'discount_total', 'tax_total', 'total']);

export const JobChangeSchema = Type.Object(
  {
    ...changeHeader.properties,
    line_operations: Type.Optional(Type.Array(Type.Union([SelectorOperationSchema, LineOperationSchema]), { maxItems: 100 })),
  },
  { additionalProperties: false, minProperties: 1, description: 'The PATCH write body, with line operations that may select lines by `match`.' },
);

export const CreateJobSchema = Type.Object(
  {
    filter: Type.Optional(JobFilterSchema),
    invoice_ids: Type.Optional(Type.Array(IdString, { minItems: 1, maxItems: maxExplicitInvoices })),
    references: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 140 }), { minItems: 1, maxItems: maxReferences })),
    change: JobChangeSchema,
    reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why; kept in every changed invoice’s history.' }),
    dry_run: Type.Optional(Type.Boolean({ description: 'Process every invoice as a dry run: counts, refusals and the amount difference, nothing written.' })),
  },
  { additionalProperties: false },
);
export type CreateJobBody = Static<typeof CreateJobSchema>;

const Counts = Type.Object({
  matched: Type.Integer(),
  changed: Type.Integer(),
  unchanged: Type.Integer(),
  refused: Type.Integer(),
  failed: Type.Integer(),
  cancelled: Type.Integer(),
});

export const JobSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('invoice_job'),
    state: Type.String({ enum: ['enumerating', 'running', 'completed', 'cancelled'] }),
    dry_run: Type.Boolean(),
    reason: Type.String(),
    counts: Counts,
    progress: Type.Object({
      processed: Type.Integer(),
      pending: Type.Integer(),
      percent: Type.Number(),
      rate_per_second: Type.Union([Type.Number(), Type.Null()]),
      eta_seconds: Type.Union([Type.Number(), Type.Null()]),
    }),
    matching_complete: Type.Boolean(),
    amount_difference: Type.String({ description: 'Sum of (new total − old total) over the changed invoices (would-change on a dry run).' }),
    refusals_by_rule: Type.Array(Type.Object({ rule: Type.String(), count: Type.Integer() })),
    created_at: Type.String(),
    started_at: Type.Union([Type.String(), Type.Null()]),
    finished_at: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true },
);

export const JobIdParams = Type.Object({ id: IdString });

export const JobItemsQuery = Type.Object(
  {
    outcome: Type.Optional(Type.Union(['pending', 'changed', 'unchanged', 'refused', 'failed', 'cancelled'].map((value) => Type.Literal(value)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(IdString),
  },
  { additionalProperties: false },
);

/** One page of a job's per-invoice results (GET /v1/invoice-jobs/{id}/items). */
export const JobItemsPageSchema = Type.Object(
  {
    object: Type.Literal('list'),
    data: Type.Array(Type.Object({}, { additionalProperties: true, description: 'One invoice of the job: its id, outcome (changed, unchanged, refused, failed, cancelled, pending), rule and detail when refused, versions before/after.' })),
    has_more: Type.Boolean(),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true },
);
