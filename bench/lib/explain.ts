/**
 * EXPLAIN (ANALYZE, BUFFERS) of the queries one invoice update runs on PostgreSQL. The
 * queries are built with Kysely exactly as src/modules/invoices/store.ts, audit/store.ts and
 * events/store.ts build them; the writes run inside a transaction that is rolled back.
 */
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import type { Database } from '../../src/db/schema.js';

export interface ExplainedQuery {
  name: string;
  sql: string;
  plan: string;
  /** A sequential scan of invoices or invoice_lines: the query's cost grows with the table. */
  fullScan: boolean;
}

export async function explainUpdateQueries(databaseUrl: string, tenantId: string, invoiceId: string, lineId: string): Promise<ExplainedQuery[]> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  // Only used to compile queries to SQL, as the app does.
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const now = new Date().toISOString();
  const queries: { name: string; query: CompiledQuery }[] = [
    {
      name: 'lock and read the invoice (invoiceStore.find, lock)',
      query: db.selectFrom('invoices').selectAll().where('tenant_id', '=', tenantId).where('id', '=', invoiceId).forUpdate().compile(),
    },
    {
      name: 'read its lines (invoiceStore.find)',
      query: db.selectFrom('invoice_lines').selectAll().where('tenant_id', '=', tenantId).where('invoice_id', '=', invoiceId).orderBy('position').compile(),
    },
    {
      name: 'update one changed line (invoiceStore.update)',
      query: db
        .updateTable('invoice_lines')
        .set({ quantity: '7', net_amount: '70.00', tax_amount: '14.00', gross_amount: '84.00', amount_before_discount: '70.00' })
        .where('tenant_id', '=', tenantId)
        .where('invoice_id', '=', invoiceId)
        .where('id', '=', lineId)
        .compile(),
    },
    {
      name: 'update header, totals, version (invoiceStore.update)',
      query: db
        .updateTable('invoices')
        .set({ memo: 'explain', total: '1.00', version: 2, updated_at: now })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', invoiceId)
        .where('version', '=', 1)
        .compile(),
    },
    {
      name: 'insert the audit event (auditStore.append)',
      query: db
        .insertInto('audit_events')
        .values({ tenant_id: tenantId, invoice_id: invoiceId, version: 999_999, action: 'update', actor_key_id: null, request_id: null, reason: null, changes: '[]', created_at: now })
        .compile(),
    },
    {
      name: 'insert the outbox event (eventStore.append)',
      query: db
        .insertInto('events')
        .values({ tenant_id: tenantId, id: 'evt_explain0000000000000000000', type: 'invoice.updated', resource_type: 'invoice', resource_id: invoiceId, resource_version: 2, data: '{}', created_at: now })
        .compile(),
    },
  ];
  const client = await pool.connect();
  const explained: ExplainedQuery[] = [];
  try {
    await client.query('BEGIN');
    for (const { name, query } of queries) {
      const result = await client.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${query.sql}`, query.parameters as unknown[]);
      const plan = result.rows.map((row) => row['QUERY PLAN']).join('\n');
      explained.push({ name, sql: query.sql.replace(/\$\d+/g, '?').slice(0, 400), plan, fullScan: /Seq Scan on (invoices|invoice_lines)\b/.test(plan) });
    }
  } finally {
    await client.query('ROLLBACK');
    client.release();
    // Kysely only compiled (its driver never took the pool), so the pool is ended here.
    await db.destroy();
    await pool.end();
  }
  return explained;
}
