import { sql } from 'kysely';
import type { DbOrTx, Engine } from '../../db/database.js';
import { lockForUpdate } from '../../db/database.js';
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

export function rowToInvoice(row: InvoicesTable, lineRows: InvoiceLinesTable[], attachmentRows: InvoiceAttachmentsTable[] = []): Invoice {
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

/** The invoice's attachment rows as a JSON array (text; null or "[]" when none), for the invoice row's select. */
function attachmentsJson(engine: Engine) {
  const pairs = sql.join(attachmentColumns.map((column) => sql`${sql.lit(column)}, a.${sql.ref(column)}`));
  return engine === 'postgres'
    ? sql<string | null>`(select json_agg(json_build_object(${pairs}) order by a.id)::text from invoice_attachments a where a.tenant_id = invoices.tenant_id and a.invoice_id = invoices.id)`
    : sql<string | null>`(select json_group_array(json_object(${pairs})) from invoice_attachments a where a.tenant_id = invoices.tenant_id and a.invoice_id = invoices.id)`;
}

function rowToAttachment(row: InvoiceAttachmentsTable): AttachmentMeta {
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

function rowToLine(row: InvoiceLinesTable): InvoiceLine {
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
      // Unlocked: the attachments come with the invoice row (a JSON array from a subquery), one round trip fewer.
      const found = await base.select(attachmentsJson(engine).as('attachments_json')).executeTakeFirst();
      if (!found) return undefined;
      const { attachments_json: attachmentsText, ...invoiceRow } = found;
      row = invoiceRow;
      attachments = (parseJson<InvoiceAttachmentsTable[]>(attachmentsText) ?? []).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
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
