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
 * The audit trail is append-only: events are inserted by the write kernel's write statement
 * (src/modules/invoices/write-store.ts) and read here; no code path updates or deletes an audit
 * row (database triggers refuse it).
 */
export const auditStore = {
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

  /** When each version was written (the audit event's time), oldest first: no change lists parsed. */
  async versionTimes(db: DbOrTx, tenantId: string, invoiceId: string, onlyVersion?: number): Promise<{ version: number; createdAt: string }[]> {
    let query = db.selectFrom('audit_events').select(['version', 'created_at']).where('tenant_id', '=', tenantId).where('invoice_id', '=', invoiceId);
    if (onlyVersion !== undefined) query = query.where('version', '=', onlyVersion);
    const rows = await query.orderBy('version').execute();
    return rows.map((row) => ({ version: row.version, createdAt: row.created_at }));
  },
};
