import type { SqlMigration } from './sql-migration.js';

/**
 * 0010_list_indexes: one index per invoice-list filter and sort (GET /v1/invoices), each ending in
 * id so that keyset pages are range scans (bench/README.md, "Invoice list", shows the plans). The
 * engines differ only where they must: numbers sort byte-wise (COLLATE "C" in PostgreSQL, SQLite's
 * default), totals are NUMERIC in PostgreSQL and TEXT indexed as REAL in SQLite, and PostgreSQL
 * has trigram indexes (pg_trgm, a trusted extension) for the text search `q`.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
function listIndexes(engine: 'sqlite' | 'postgres'): string {
  const postgres = engine === 'postgres';
  const amount = (column: string) => (postgres ? column : `CAST(${column} AS REAL)`);
  return `
${postgres ? 'CREATE EXTENSION IF NOT EXISTS pg_trgm;' : ''}
DROP INDEX invoices_by_customer;
CREATE INDEX invoices_by_customer ON invoices (tenant_id, customer_id, id);
DROP INDEX invoices_by_updated;
CREATE INDEX invoices_by_updated ON invoices (tenant_id, updated_at, id);
CREATE INDEX invoices_by_number ON invoices (tenant_id, ${postgres ? '(number COLLATE "C")' : 'number'}, id);
CREATE INDEX invoices_by_issue_date ON invoices (tenant_id, issue_date, id);
CREATE INDEX invoices_by_due_date ON invoices (tenant_id, due_date, id);
CREATE INDEX invoices_by_status_due_date ON invoices (tenant_id, status, due_date, id);
CREATE INDEX invoices_by_currency ON invoices (tenant_id, currency, id);
CREATE INDEX invoices_by_total ON invoices (tenant_id, ${amount('total')}, id);
CREATE INDEX invoices_partially_settled ON invoices (tenant_id, id) WHERE status <> 'paid' AND (${amount('amount_paid')} > 0 OR ${amount('amount_credited')} > 0);
${
  postgres
    ? `CREATE INDEX invoices_memo_trgm ON invoices USING gin (memo gin_trgm_ops);
CREATE INDEX invoices_bill_to_name_trgm ON invoices USING gin (((bill_to::jsonb) ->> 'name') gin_trgm_ops);
CREATE INDEX invoice_lines_description_trgm ON invoice_lines USING gin (description gin_trgm_ops);`
    : ''
}
`;
}

export default { sqlite: listIndexes('sqlite'), postgres: listIndexes('postgres') } satisfies SqlMigration;
