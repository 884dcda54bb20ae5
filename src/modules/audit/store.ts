import type { DbOrTx } from '../../db/database.js';
import type { Change } from '../invoices/domain/diff.js';

export interface AuditEvent {
  invoiceId: string;
  version: number;
  action: string;
  actorKeyId: string | null;
  requestId: string | null;
  reason: string | null;
  changes: Change[];
  createdAt: string;
}

/**
 * The audit trail is append-only: this store has an insert and reads, and no code path
 * updates or deletes an audit row (a test greps the source tree to keep it that way).
 */
export const auditStore = {
  async append(db: DbOrTx, tenantId: string, event: AuditEvent): Promise<void> {
    await db
      .insertInto('audit_events')
      .values({
        tenant_id: tenantId,
        invoice_id: event.invoiceId,
        version: event.version,
        action: event.action,
        actor_key_id: event.actorKeyId,
        request_id: event.requestId,
        reason: event.reason,
        changes: JSON.stringify(event.changes),
        created_at: event.createdAt,
      })
      .execute();
  },

  async listForInvoice(db: DbOrTx, tenantId: string, invoiceId: string, upToVersion?: number): Promise<AuditEvent[]> {
    let query = db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('invoice_id', '=', invoiceId);
    if (upToVersion !== undefined) query = query.where('version', '<=', upToVersion);
    const rows = await query.orderBy('version').execute();
    return rows.map((row) => ({
      invoiceId: row.invoice_id,
      version: row.version,
      action: row.action,
      actorKeyId: row.actor_key_id,
      requestId: row.request_id,
      reason: row.reason,
      changes: JSON.parse(row.changes) as Change[],
      createdAt: row.created_at,
    }));
  },
};
