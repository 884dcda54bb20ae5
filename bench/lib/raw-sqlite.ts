/**
 * The raw SQLite transaction of bench:issue18, shared by its two raw sides (the in-process writer loop,
 * bench/lib/raw-sqlite-worker.ts, and the bare HTTP server, bench/lib/raw-http-server.ts): better-sqlite3
 * prepared statements on the file, same settings as Folio (WAL, synchronous=FULL, BEGIN IMMEDIATE).
 * SQLite has no data-modifying CTEs, so the "one write statement" is one prepared statement per table,
 * all in one transaction: read the invoice's version; update the changed lines (amounts recomputed in
 * SQL); update the header (memo, totals from the lines, version + 1); insert the audit row and the outbox event.
 */
import SqliteDatabase from 'better-sqlite3';

export interface RawLineChange {
  id: string;
  quantity: string | number;
}

export function openRawSqlite(file: string) {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const readVersion = db.prepare('SELECT version FROM invoices WHERE tenant_id = ? AND id = ?');
  const updateLine = db.prepare(
    `UPDATE invoice_lines SET quantity = @q, amount_before_discount = printf('%.2f', @q * unit_price), net_amount = printf('%.2f', @q * unit_price),
       tax_amount = printf('%.2f', @q * unit_price * coalesce(tax_rate, 0) / 100),
       gross_amount = printf('%.2f', @q * unit_price * (1 + coalesce(tax_rate, 0) / 100))
     WHERE tenant_id = @tenant AND invoice_id = @invoice AND id = @line`,
  );
  const updateHeader = db.prepare(
    `UPDATE invoices SET memo = @memo, version = version + 1, updated_at = @now,
       (subtotal, tax_total, total) = (SELECT printf('%.2f', sum(net_amount)), printf('%.2f', sum(tax_amount)), printf('%.2f', sum(gross_amount)) FROM invoice_lines WHERE tenant_id = @tenant AND invoice_id = @invoice)
     WHERE tenant_id = @tenant AND id = @invoice`,
  );
  const insertAudit = db.prepare('INSERT INTO audit_events (tenant_id, invoice_id, version, action, actor_key_id, request_id, reason, changes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insertEvent = db.prepare('INSERT INTO events (tenant_id, id, type, resource_type, resource_id, resource_version, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');

  /** One durable change of `lines` and the memo; the new version, or undefined for an unknown invoice. */
  function update(tenantId: string, invoiceId: string, lines: RawLineChange[], memo: string | null, eventId: string): number | undefined {
    begin.run();
    try {
      const row = readVersion.get(tenantId, invoiceId) as { version: number } | undefined;
      if (!row) {
        db.exec('ROLLBACK');
        return undefined;
      }
      const changes: unknown[] = [];
      for (const line of lines) {
        updateLine.run({ q: line.quantity, tenant: tenantId, invoice: invoiceId, line: line.id });
        changes.push({ path: `/lines/${line.id}/quantity`, to: String(line.quantity) });
      }
      const now = new Date().toISOString();
      updateHeader.run({ memo, now, tenant: tenantId, invoice: invoiceId });
      const version = row.version + 1;
      insertAudit.run(tenantId, invoiceId, version, 'update', 'key_raw', 'req_raw', null, JSON.stringify(changes), now);
      insertEvent.run(tenantId, eventId, 'invoice.updated', 'invoice', invoiceId, version, JSON.stringify({ changes }), now);
      commit.run();
      return version;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
  return { update, close: () => db.close() };
}
