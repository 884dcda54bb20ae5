/**
 * The raw SQLite side of bench:issue18, in its own process (as the Folio server is): the minimal
 * durable transaction for the benchmark's change through better-sqlite3 prepared statements on the
 * same file and settings as Folio (WAL, synchronous=FULL, BEGIN IMMEDIATE). SQLite has no
 * data-modifying CTEs, so the "one write statement" is one prepared statement per table, all in
 * the same transaction: BEGIN IMMEDIATE; read the invoice's version; update the changed lines;
 * update the header (memo, totals, version + 1); insert the audit row and the outbox event; COMMIT.
 * Started with fork(); each message { file, tenantId, tag, count, linesPerInvoice, linesToChange,
 * durationSec } runs one slice and answers its figures, including this process's CPU time.
 */
import SqliteDatabase from 'better-sqlite3';
import { invoiceIdFor, lineIdFor } from './seed.js';

export interface RawSqliteSlice {
  file: string;
  tenantId: string;
  tag: string;
  count: number;
  linesPerInvoice: number;
  linesToChange: number;
  durationSec: number;
}

export interface RawSqliteResult {
  transactions: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuMs: number;
}

const round = (value: number, places = 2) => Math.round(value * 10 ** places) / 10 ** places;
let open: { file: string; run: (slice: RawSqliteSlice) => RawSqliteResult } | undefined;

function prepare(file: string) {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const readVersion = db.prepare('SELECT version FROM invoices WHERE tenant_id = ? AND id = ?');
  // Folio stores SQLite decimals as text; the raw side computes with floats (a stand-in: Folio uses exact decimals).
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
  let sequence = 0;
  // evt_ + 26 characters: r, this process in 5, the sequence in 20.
  const eventIdPrefix = `evt_r${process.pid.toString(36).padStart(5, '0').slice(-5)}`;
  const run = (slice: RawSqliteSlice): RawSqliteResult => {
    const cpuAtStart = process.cpuUsage();
    const latenciesMs: number[] = [];
    const endAt = performance.now() + slice.durationSec * 1000;
    const part = Math.floor(slice.linesPerInvoice / slice.linesToChange);
    while (performance.now() < endAt) {
      const started = performance.now();
      sequence += 1;
      const n = 1 + Math.floor(Math.random() * slice.count);
      const id = invoiceIdFor(slice.tag, n);
      begin.run();
      try {
        const { version } = readVersion.get(slice.tenantId, id) as { version: number };
        const changes: unknown[] = [];
        for (let i = 0; i < slice.linesToChange; i++) {
          const position = i * part + 1 + Math.floor(Math.random() * part);
          const quantity = 1 + Math.floor(Math.random() * 999);
          const lineId = lineIdFor(slice.tag, n, position);
          updateLine.run({ q: quantity, tenant: slice.tenantId, invoice: id, line: lineId });
          changes.push({ path: `/lines/${lineId}/quantity`, from: '1', to: String(quantity) });
        }
        const now = new Date().toISOString();
        updateHeader.run({ memo: `raw ${sequence}`, now, tenant: slice.tenantId, invoice: id });
        insertAudit.run(slice.tenantId, id, version + 1, 'update', 'key_raw', 'req_raw', null, JSON.stringify(changes), now);
        insertEvent.run(slice.tenantId, eventIdPrefix + String(sequence).padStart(20, '0'), 'invoice.updated', 'invoice', id, version + 1, JSON.stringify({ changes }), now);
        commit.run();
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
      latenciesMs.push(performance.now() - started);
    }
    const cpu = process.cpuUsage(cpuAtStart);
    latenciesMs.sort((a, b) => a - b);
    const percentile = (p: number) => round(latenciesMs[Math.min(latenciesMs.length - 1, Math.floor((p / 100) * latenciesMs.length))], 2);
    return { transactions: latenciesMs.length, perSec: round(latenciesMs.length / slice.durationSec, 1), p50Ms: percentile(50), p99Ms: percentile(99), cpuMs: round((cpu.user + cpu.system) / 1000, 1) };
  };
  return { file, run };
}

process.on('message', (slice: RawSqliteSlice) => {
  try {
    if (open?.file !== slice.file) open = prepare(slice.file);
    process.send!({ ok: true, result: open.run(slice) });
  } catch (error) {
    process.send!({ ok: false, error: String((error as Error).stack ?? error) });
  }
});
