import type { DbOrTx, Engine } from '../../db/database.js';
import { lockForUpdate } from '../../db/database.js';
import { prepare, run } from '../../db/prepared.js';
import type { InvoiceAttachmentsTable, InvoiceLinesTable, InvoicesTable } from '../../db/schema.js';
import type { AttachmentMeta, Invoice, InvoiceLine, InvoiceStatus } from './domain/model.js';
import type { InvoiceListFilter } from './list-filter.js';
import { listInvoiceRows, type ListRowsOptions } from './list-store.js';
import type { TaxMode } from './domain/totals.js';
import type { RoundingMode } from '../../shared/money.js';
import { plainTextHeaderFieldNames, plainTextHeaderOf } from '../../shared/invoice-fields.js';

/** SQL only: rows in, rows out. No rules live here. */

const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** PostgreSQL NUMERIC may come back as "10.5000" for a value stored as "10.5"; text keeps it. */
const decimalText = (value: string | number) => String(value);

/** The invoice columns an Invoice is made of (rowToInvoice). */
const invoiceColumns = [
  'id', 'guid', 'serial', 'number', ...plainTextHeaderFieldNames, 'status', 'currency', 'exchange_rate', 'issue_date', 'due_date',
  'payment_terms', 'memo', 'internal_note', 'metadata', 'custom_fields', 'external_refs', 'customer_id', 'bill_to', 'tax_mode',
  'rounding_mode', 'subtotal', 'discount_total', 'tax_total', 'total', 'tax_breakdown', 'amount_paid', 'amount_credited', 'balance',
  'version', 'created_at', 'updated_at', 'finalized_at', 'voided_at', 'revision_of', 'revised_by',
] as const satisfies readonly (keyof InvoicesTable)[];
type InvoiceRow = Pick<InvoicesTable, (typeof invoiceColumns)[number]>;

/** The line columns an InvoiceLine is made of (rowToLine); `decimal` ones are NUMERIC in PostgreSQL. */
const lineColumns = [
  { name: 'id' }, { name: 'guid' }, { name: 'position' }, { name: 'parent_line_id' }, { name: 'description' },
  { name: 'quantity', decimal: true }, { name: 'unit' }, { name: 'unit_price', decimal: true }, { name: 'discount_type' },
  { name: 'discount_value', decimal: true }, { name: 'tax_rate', decimal: true }, { name: 'tax_code' }, { name: 'account_code' },
  { name: 'item_code' }, { name: 'tracking' }, { name: 'amount_before_discount', decimal: true }, { name: 'discount_amount', decimal: true },
  { name: 'net_amount', decimal: true }, { name: 'tax_amount', decimal: true }, { name: 'gross_amount', decimal: true },
] as const satisfies readonly { name: keyof InvoiceLinesTable; decimal?: true }[];
type LineRow = Pick<InvoiceLinesTable, (typeof lineColumns)[number]['name']>;

export function rowToInvoice(row: InvoiceRow, lineRows: LineRow[], attachmentRows: AttachmentRow[] = []): Invoice {
  return {
    id: row.id,
    guid: row.guid ?? '',
    serial: Number(row.serial),
    object: 'invoice',
    number: row.number,
    ...plainTextHeaderOf(row),
    status: row.status as InvoiceStatus,
    currency: row.currency,
    exchange_rate: row.exchange_rate === null ? null : decimalText(row.exchange_rate),
    issue_date: row.issue_date,
    due_date: row.due_date,
    payment_terms: parseJson(row.payment_terms),
    memo: row.memo,
    internal_note: row.internal_note,
    metadata: parseJson(row.metadata) ?? {},
    custom_fields: parseJson(row.custom_fields) ?? {},
    external_refs: parseJson(row.external_refs) ?? {},
    customer_id: row.customer_id,
    bill_to: parseJson(row.bill_to),
    tax_mode: row.tax_mode as TaxMode,
    rounding_mode: row.rounding_mode as RoundingMode,
    lines: lineRows.map(rowToLine),
    attachments: attachmentRows.map(rowToAttachment),
    subtotal: decimalText(row.subtotal),
    discount_total: decimalText(row.discount_total),
    tax_total: decimalText(row.tax_total),
    total: decimalText(row.total),
    tax_breakdown: parseJson(row.tax_breakdown) ?? [],
    amount_paid: decimalText(row.amount_paid),
    amount_credited: decimalText(row.amount_credited),
    balance: decimalText(row.balance),
    version: row.version,
    created_at: row.created_at,
    updated_at: row.updated_at,
    finalized_at: row.finalized_at,
    voided_at: row.voided_at,
    revision_of: row.revision_of ?? null,
    revised_by: row.revised_by ?? null,
  };
}

const attachmentColumns = ['id', 'filename', 'content_type', 'size_bytes', 'sha256', 'created_at'] as const;

type AttachmentRow = Pick<InvoiceAttachmentsTable, (typeof attachmentColumns)[number]>;

function rowToAttachment(row: AttachmentRow): AttachmentMeta {
  return {
    id: row.id,
    filename: row.filename,
    content_type: row.content_type,
    size_bytes: Number(row.size_bytes),
    sha256: row.sha256,
    created_at: row.created_at,
  };
}

/** Attachments of some invoices, oldest first, grouped by invoice id. */
async function attachmentsByInvoice(db: DbOrTx, tenantId: string, invoiceIds: string[]): Promise<Map<string, InvoiceAttachmentsTable[]>> {
  const byInvoice = new Map<string, InvoiceAttachmentsTable[]>();
  if (invoiceIds.length === 0) return byInvoice;
  const rows = await db
    .selectFrom('invoice_attachments')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('invoice_id', 'in', invoiceIds)
    .orderBy('invoice_id')
    .orderBy('id')
    .execute();
  for (const row of rows) byInvoice.set(row.invoice_id, [...(byInvoice.get(row.invoice_id) ?? []), row]);
  return byInvoice;
}

function rowToLine(row: LineRow): InvoiceLine {
  return {
    id: row.id,
    guid: row.guid ?? '',
    position: row.position,
    parent_line_id: row.parent_line_id,
    description: row.description,
    quantity: decimalText(row.quantity),
    unit: row.unit,
    unit_price: decimalText(row.unit_price),
    discount: row.discount_type === null ? null : { type: row.discount_type as 'percent' | 'amount', value: decimalText(row.discount_value ?? '0') },
    tax_rate: row.tax_rate === null ? null : decimalText(row.tax_rate),
    tax_code: row.tax_code,
    account_code: row.account_code,
    item_code: row.item_code,
    tracking: parseJson(row.tracking),
    amount_before_discount: decimalText(row.amount_before_discount),
    discount_amount: decimalText(row.discount_amount),
    net_amount: decimalText(row.net_amount),
    tax_amount: decimalText(row.tax_amount),
    gross_amount: decimalText(row.gross_amount),
  };
}

export function invoiceToRow(tenantId: string, invoice: Invoice): InvoicesTable {
  return {
    tenant_id: tenantId,
    id: invoice.id,
    number: invoice.number,
    ...plainTextHeaderOf(invoice),
    status: invoice.status,
    currency: invoice.currency,
    exchange_rate: invoice.exchange_rate,
    issue_date: invoice.issue_date,
    due_date: invoice.due_date,
    payment_terms: invoice.payment_terms === null ? null : JSON.stringify(invoice.payment_terms),
    memo: invoice.memo,
    internal_note: invoice.internal_note,
    metadata: JSON.stringify(invoice.metadata),
    custom_fields: JSON.stringify(invoice.custom_fields),
    external_refs: JSON.stringify(invoice.external_refs),
    customer_id: invoice.customer_id,
    bill_to: invoice.bill_to === null ? null : JSON.stringify(invoice.bill_to),
    tax_mode: invoice.tax_mode,
    rounding_mode: invoice.rounding_mode,
    subtotal: invoice.subtotal,
    discount_total: invoice.discount_total,
    tax_total: invoice.tax_total,
    total: invoice.total,
    tax_breakdown: JSON.stringify(invoice.tax_breakdown),
    amount_paid: invoice.amount_paid,
    amount_credited: invoice.amount_credited,
    balance: invoice.balance,
    line_count: invoice.lines.length,
    version: invoice.version,
    created_at: invoice.created_at,
    updated_at: invoice.updated_at,
    finalized_at: invoice.finalized_at,
    voided_at: invoice.voided_at,
    revision_of: invoice.revision_of,
    revised_by: invoice.revised_by,
    guid: invoice.guid,
    serial: invoice.serial,
  };
}

export function lineToRow(tenantId: string, invoiceId: string, line: InvoiceLine): InvoiceLinesTable {
  return {
    tenant_id: tenantId,
    invoice_id: invoiceId,
    id: line.id,
    position: line.position,
    parent_line_id: line.parent_line_id,
    description: line.description,
    quantity: line.quantity,
    unit: line.unit,
    unit_price: line.unit_price,
    discount_type: line.discount?.type ?? null,
    discount_value: line.discount?.value ?? null,
    tax_rate: line.tax_rate,
    tax_code: line.tax_code,
    account_code: line.account_code,
    item_code: line.item_code,
    tracking: line.tracking === null ? null : JSON.stringify(line.tracking),
    amount_before_discount: line.amount_before_discount,
    discount_amount: line.discount_amount,
    net_amount: line.net_amount,
    tax_amount: line.tax_amount,
    gross_amount: line.gross_amount,
    guid: line.guid,
  };
}

/**
 * GET's read: the invoice row with its lines and attachments as JSON arrays, one statement, one
 * round trip, declared once (a named prepared statement on PostgreSQL, a cached one on SQLite).
 * The JSON carries exactly what separate reads would: PostgreSQL NUMERICs as text (a JSON number
 * would turn "10.50" into 10.5), SQLite's TEXT amounts as strings; lines by position, attachments
 * by id (sorted again in JS, as attachmentsByInvoice's callers see them).
 */
const findInvoiceStatement = (() => {
  const quote = (name: string) => `"${name}"`;
  const pairs = (alias: string, columns: readonly { name: string; decimal?: boolean }[], engine: Engine) =>
    columns.map(({ name, decimal }) => `'${name}', ${alias}.${quote(name)}${decimal && engine === 'postgres' ? '::text' : ''}`).join(', ');
  const text = (engine: Engine) => {
    const [param1, param2] = engine === 'postgres' ? ['$1', '$2'] : ['?', '?'];
    const aggregate = (object: string, order: string) =>
      engine === 'postgres' ? `json_agg(json_build_object(${object}) ORDER BY ${order})::text` : `json_group_array(json_object(${object}) ORDER BY ${order})`;
    const attachments = attachmentColumns.map((name) => ({ name }));
    return [
      `SELECT ${invoiceColumns.map((column) => `i.${quote(column)}`).join(', ')},`,
      `(SELECT ${aggregate(pairs('l', lineColumns, engine), 'l."position"')} FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id) AS lines_json,`,
      `(SELECT ${aggregate(pairs('a', attachments, engine), 'a.id')} FROM invoice_attachments a WHERE a.tenant_id = i.tenant_id AND a.invoice_id = i.id) AS attachments_json`,
      `FROM invoices i WHERE i.tenant_id = ${param1} AND i.id = ${param2}`,
    ].join(' ');
  };
  return { postgres: prepare('folio_find_invoice', text('postgres')), sqlite: prepare('folio_find_invoice_sqlite', text('sqlite')) };
})();
type FoundInvoiceRow = InvoiceRow & { lines_json: string | null; attachments_json: string | null };

/** The invoice's current version alone: the probe in front of GET's cache of rendered answers (read-cache.ts). */
const invoiceVersionStatement = {
  postgres: prepare('folio_invoice_version', 'SELECT version FROM invoices WHERE tenant_id = $1 AND id = $2'),
  sqlite: prepare('folio_invoice_version_sqlite', 'SELECT version FROM invoices WHERE tenant_id = ? AND id = ?'),
};

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export const invoiceStore = {
  async find(db: DbOrTx, engine: Engine, tenantId: string, id: string, options: { lock?: boolean } = {}): Promise<Invoice | undefined> {
    const base = db.selectFrom('invoices').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id);
    let row: InvoicesTable | undefined;
    let attachments: InvoiceAttachmentsTable[];
    if (options.lock) {
      // Lock first, then read the dependent tables in statements that start after the lock is
      // granted. In one `SELECT …, (subquery) … FOR UPDATE` PostgreSQL re-reads the locked row
      // after waiting but the subquery keeps the snapshot from before the wait (READ COMMITTED):
      // a queued writer would work from the attachment list the previous writer replaced.
      row = await lockForUpdate(engine, base).executeTakeFirst();
      if (!row) return undefined;
      attachments = (await attachmentsByInvoice(db, tenantId, [id])).get(id) ?? [];
    } else {
      const [found] = (await run<FoundInvoiceRow>(db, findInvoiceStatement[engine], [tenantId, id])).rows;
      if (!found) return undefined;
      const { lines_json: linesText, attachments_json: attachmentsText, ...invoiceRow } = found;
      return rowToInvoice(invoiceRow, parseJson<LineRow[]>(linesText) ?? [], (parseJson<AttachmentRow[]>(attachmentsText) ?? []).sort(byId));
    }
    const lines = await db
      .selectFrom('invoice_lines')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('invoice_id', '=', id)
      .orderBy('position')
      .execute();
    return rowToInvoice(row, lines, attachments);
  },

  /** The version the database holds now, or undefined when there is no such invoice. */
  async currentVersion(db: DbOrTx, engine: Engine, tenantId: string, id: string): Promise<number | undefined> {
    const [found] = (await run<{ version: number }>(db, invoiceVersionStatement[engine], [tenantId, id])).rows;
    return found === undefined ? undefined : Number(found.version);
  },

  /** A page of invoices, whole (lines and attachments), in the filter's order. */
  async list(db: DbOrTx, engine: Engine, tenantId: string, filter: InvoiceListFilter, options: ListRowsOptions): Promise<{ invoice: Invoice; row: InvoicesTable }[]> {
    const rows = await listInvoiceRows(db, engine, tenantId, filter, options);
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.id);
    const lines = await db
      .selectFrom('invoice_lines')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('invoice_id', 'in', ids)
      .orderBy('invoice_id')
      .orderBy('position')
      .execute();
    const byInvoice = new Map<string, InvoiceLinesTable[]>();
    for (const line of lines) {
      const list = byInvoice.get(line.invoice_id) ?? [];
      list.push(line);
      byInvoice.set(line.invoice_id, list);
    }
    const attachments = await attachmentsByInvoice(db, tenantId, ids);
    return rows.map((row) => ({ row, invoice: rowToInvoice(row, byInvoice.get(row.id) ?? [], attachments.get(row.id)) }));
  },

  async delete(db: DbOrTx, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('invoice_attachments').where('tenant_id', '=', tenantId).where('invoice_id', '=', id).execute();
    await db.deleteFrom('invoice_lines').where('tenant_id', '=', tenantId).where('invoice_id', '=', id).execute();
    await db.deleteFrom('invoices').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  /**
   * The ids of the tenant's invoices whose identifier column holds `value` (at most `limit`):
   * guid and serial are unique, number is unique when set, a reference may be shared.
   */
  async idsBy(db: DbOrTx, tenantId: string, column: 'id' | 'guid' | 'serial' | 'number' | 'reference', value: string | number, limit = 2): Promise<string[]> {
    const rows = await db
      .selectFrom('invoices')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where(column, '=', value as never)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  },

  async numberTaken(db: DbOrTx, tenantId: string, number: string, exceptId: string): Promise<boolean> {
    const row = await db
      .selectFrom('invoices')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('number', '=', number)
      .where('id', '<>', exceptId)
      .executeTakeFirst();
    return row !== undefined;
  },
};
