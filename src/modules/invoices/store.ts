import { PostgresAdapter, sql } from 'kysely';
import type { DbOrTx, Engine } from '../../db/database.js';
import { lockForUpdate } from '../../db/database.js';
import { preparedStatement, runPrepared } from '../../db/prepared.js';
import type { InvoiceAttachmentsTable, InvoiceLinesTable, InvoicesTable } from '../../db/schema.js';
import type { AttachmentMeta, Invoice, InvoiceLine, InvoiceStatus } from './domain/model.js';
import type { InvoiceListFilter } from './list-filter.js';
import { listInvoiceRows, type ListRowsOptions } from './list-store.js';
import type { TaxMode } from './domain/totals.js';
import type { RoundingMode } from '../../shared/money.js';

/** SQL only: rows in, rows out. No rules live here. */

const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** PostgreSQL NUMERIC may come back as "10.5000" for a value stored as "10.5"; text keeps it. */
const decimalText = (value: string | number) => String(value);

/** The invoice columns an Invoice is made of (rowToInvoice). */
const invoiceColumns = [
  'id', 'guid', 'serial', 'number', 'reference', 'purchase_order', 'status', 'currency', 'exchange_rate', 'issue_date', 'due_date',
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
    reference: row.reference,
    purchase_order: row.purchase_order,
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

function attachmentToRow(tenantId: string, invoiceId: string, attachment: AttachmentMeta): InvoiceAttachmentsTable {
  return { tenant_id: tenantId, invoice_id: invoiceId, ...attachment };
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

/** Inserts added and deletes removed attachment rows (attachments are never edited in place). */
async function syncAttachments(db: DbOrTx, tenantId: string, before: AttachmentMeta[], after: Invoice): Promise<void> {
  const beforeIds = new Set(before.map((attachment) => attachment.id));
  const afterIds = new Set(after.attachments.map((attachment) => attachment.id));
  const removed = before.filter((attachment) => !afterIds.has(attachment.id)).map((attachment) => attachment.id);
  if (removed.length > 0) {
    await db
      .deleteFrom('invoice_attachments')
      .where('tenant_id', '=', tenantId)
      .where('invoice_id', '=', after.id)
      .where('id', 'in', removed)
      .execute();
  }
  const added = after.attachments.filter((attachment) => !beforeIds.has(attachment.id));
  if (added.length > 0) {
    await db.insertInto('invoice_attachments').values(added.map((attachment) => attachmentToRow(tenantId, after.id, attachment))).execute();
  }
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
    reference: invoice.reference,
    purchase_order: invoice.purchase_order,
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

function lineToRow(tenantId: string, invoiceId: string, line: InvoiceLine): InvoiceLinesTable {
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
  return preparedStatement<InvoiceRow & { lines_json: string | null; attachments_json: string | null }>('folio_find_invoice', {
    postgres: text('postgres'),
    sqlite: text('sqlite'),
  });
})();

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
      const [found] = await runPrepared(db, engine, findInvoiceStatement, [tenantId, id]);
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

  async insert(db: DbOrTx, tenantId: string, invoice: Invoice): Promise<void> {
    await db.insertInto('invoices').values(invoiceToRow(tenantId, invoice)).execute();
    await insertLines(db, tenantId, invoice.id, invoice.lines);
    await syncAttachments(db, tenantId, [], invoice);
  },

  /**
   * Writes a new version. Only lines that differ are touched, so changing one line of a
   * 1,000-line invoice is one line UPDATE, not a rewrite. The version guard makes a lost
   * update impossible even if a caller forgot to lock.
   */
  async update(db: DbOrTx, tenantId: string, before: Invoice, after: Invoice): Promise<void> {
    const { tenant_id: _t, id: _i, created_at: _c, ...header } = invoiceToRow(tenantId, after);
    const result = await db
      .updateTable('invoices')
      .set(header)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', after.id)
      .where('version', '=', before.version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new Error(`invoice ${after.id} changed under a held lock`);

    const beforeLines = new Map(before.lines.map((line) => [line.id, line]));
    const afterIds = new Set(after.lines.map((line) => line.id));
    const removed = before.lines.filter((line) => !afterIds.has(line.id)).map((line) => line.id);
    if (removed.length > 0) {
      await db
        .deleteFrom('invoice_lines')
        .where('tenant_id', '=', tenantId)
        .where('invoice_id', '=', after.id)
        .where('id', 'in', removed)
        .execute();
    }
    const added: InvoiceLine[] = [];
    const changed: InvoiceLine[] = [];
    for (const line of after.lines) {
      const previous = beforeLines.get(line.id);
      if (!previous) added.push(line);
      // A write keeps untouched lines as the same objects: skipped without being compared.
      else if (previous !== line && JSON.stringify(previous) !== JSON.stringify(line)) changed.push(line);
    }
    await updateLines(db, tenantId, after.id, changed);
    await insertLines(db, tenantId, after.id, added);
    await syncAttachments(db, tenantId, before.attachments, after);
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

/** Line columns an update rewrites, with their PostgreSQL types (for the VALUES list). */
const updatableLineColumns = {
  position: 'integer',
  parent_line_id: 'text',
  description: 'text',
  quantity: 'numeric',
  unit: 'text',
  unit_price: 'numeric',
  discount_type: 'text',
  discount_value: 'numeric',
  tax_rate: 'numeric',
  tax_code: 'text',
  account_code: 'text',
  item_code: 'text',
  tracking: 'text',
  amount_before_discount: 'numeric',
  discount_amount: 'numeric',
  net_amount: 'numeric',
  tax_amount: 'numeric',
  gross_amount: 'numeric',
} as const satisfies Partial<Record<keyof InvoiceLinesTable, string>>;
type UpdatableLineColumn = keyof typeof updatableLineColumns;
const updatableLineColumnNames = Object.keys(updatableLineColumns) as UpdatableLineColumn[];

/**
 * Rewrites changed lines. PostgreSQL: one `UPDATE … FROM (VALUES …)` per 500 lines (one round
 * trip instead of one per line). SQLite runs in process (no round trip): one UPDATE per line.
 */
async function updateLines(db: DbOrTx, tenantId: string, invoiceId: string, lines: InvoiceLine[]): Promise<void> {
  if (lines.length === 0) return;
  const rows = lines.map((line) => lineToRow(tenantId, invoiceId, line));
  if (!(db.getExecutor().adapter instanceof PostgresAdapter) || rows.length === 1) {
    for (const row of rows) {
      const { tenant_id: _lt, invoice_id: _li, id: _lid, ...fields } = row;
      await db
        .updateTable('invoice_lines')
        .set(fields)
        .where('tenant_id', '=', tenantId)
        .where('invoice_id', '=', invoiceId)
        .where('id', '=', row.id)
        .execute();
    }
    return;
  }
  const chunkSize = 500; // 19 parameters a line: under PostgreSQL's 65,535
  for (let start = 0; start < rows.length; start += chunkSize) {
    const values = rows.slice(start, start + chunkSize).map(
      (row) =>
        sql`(${sql.join([
          sql`${row.id}::text`,
          ...updatableLineColumnNames.map((column) => sql`${row[column]}::${sql.raw(updatableLineColumns[column])}`),
        ])})`,
    );
    await sql`update invoice_lines as l set ${sql.join(
      updatableLineColumnNames.map((column) => sql`${sql.ref(column)} = v.${sql.ref(column)}`),
    )} from (values ${sql.join(values)}) as v (${sql.join([sql.ref('id'), ...updatableLineColumnNames.map((column) => sql.ref(column))])})
      where l.tenant_id = ${tenantId} and l.invoice_id = ${invoiceId} and l.id = v.id`.execute(db);
  }
}

async function insertLines(db: DbOrTx, tenantId: string, invoiceId: string, lines: InvoiceLine[]): Promise<void> {
  // Chunked so that a 1,000-line invoice stays under every engine's bound-parameter limit.
  const chunkSize = 200;
  for (let start = 0; start < lines.length; start += chunkSize) {
    const rows = lines.slice(start, start + chunkSize).map((line) => lineToRow(tenantId, invoiceId, line));
    await db.insertInto('invoice_lines').values(rows).execute();
  }
}
