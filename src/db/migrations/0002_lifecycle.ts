import type { SqlMigration } from './sql-migration.js';

/**
 * 0002_lifecycle: number sequences, payments, credit notes, revision links, number prefix.
 * One text for both engines; only the physical type of amounts differs.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
function lifecycleSql(amountType: 'TEXT' | 'NUMERIC'): string {
  return `
ALTER TABLE tenants ADD COLUMN invoice_number_prefix TEXT NOT NULL DEFAULT 'INV-';
ALTER TABLE invoices ADD COLUMN revision_of TEXT;
ALTER TABLE invoices ADD COLUMN revised_by TEXT;
CREATE TABLE number_sequences (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  last_value INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
CREATE TABLE payments (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  amount ${amountType} NOT NULL,
  refunded_amount ${amountType} NOT NULL,
  currency TEXT NOT NULL,
  payment_date TEXT NOT NULL,
  method TEXT NOT NULL,
  reference TEXT,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX payments_by_invoice ON payments (tenant_id, invoice_id, id);
CREATE TABLE credit_notes (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  number TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  revision_id TEXT,
  reason TEXT NOT NULL,
  currency TEXT NOT NULL,
  lines TEXT NOT NULL,
  subtotal ${amountType} NOT NULL,
  tax_total ${amountType} NOT NULL,
  total ${amountType} NOT NULL,
  issue_date TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX credit_notes_number_unique ON credit_notes (tenant_id, number);
CREATE INDEX credit_notes_by_invoice ON credit_notes (tenant_id, invoice_id);
`;
}

export default {
  sqlite: lifecycleSql('TEXT'),
  postgres: lifecycleSql('NUMERIC'),
} satisfies SqlMigration;
