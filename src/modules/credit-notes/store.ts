import type { DbOrTx } from '../../db/database.js';
import type { CreditNotesTable } from '../../db/schema.js';
import type { CreditNote } from './domain.js';

/** SQL only. Credit notes are immutable once written: insert and reads. */
function rowToCreditNote(row: CreditNotesTable): CreditNote {
  return {
    id: row.id,
    object: 'credit_note',
    number: row.number,
    invoice_id: row.invoice_id,
    revision_id: row.revision_id,
    reason: row.reason,
    currency: row.currency,
    lines: JSON.parse(row.lines),
    subtotal: String(row.subtotal),
    tax_total: String(row.tax_total),
    total: String(row.total),
    issue_date: row.issue_date,
    created_at: row.created_at,
  };
}

export const creditNoteStore = {
  async insert(db: DbOrTx, tenantId: string, note: CreditNote): Promise<void> {
    await db
      .insertInto('credit_notes')
      .values({
        tenant_id: tenantId,
        id: note.id,
        number: note.number,
        invoice_id: note.invoice_id,
        revision_id: note.revision_id,
        reason: note.reason,
        currency: note.currency,
        lines: JSON.stringify(note.lines),
        subtotal: note.subtotal,
        tax_total: note.tax_total,
        total: note.total,
        issue_date: note.issue_date,
        created_at: note.created_at,
      })
      .execute();
  },

  async find(db: DbOrTx, tenantId: string, id: string): Promise<CreditNote | undefined> {
    const row = await db.selectFrom('credit_notes').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? rowToCreditNote(row) : undefined;
  },

  async list(db: DbOrTx, tenantId: string, filter: { invoiceId?: string; beforeId?: string; limit: number }): Promise<CreditNote[]> {
    let query = db.selectFrom('credit_notes').selectAll().where('tenant_id', '=', tenantId);
    if (filter.invoiceId) query = query.where('invoice_id', '=', filter.invoiceId);
    if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
    const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(rowToCreditNote);
  },
};
