import type { SqlMigration } from './sql-migration.js';

/**
 * 0004_attachments: Invoice attachments (metadata; the bytes live in the blob store).
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
export default {
  sqlite: `
CREATE TABLE invoice_attachments (
  tenant_id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  id TEXT NOT NULL,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, invoice_id, id),
  FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX invoice_attachments_by_sha256 ON invoice_attachments (sha256);
`,
  postgres: `
CREATE TABLE invoice_attachments (
  tenant_id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  id TEXT NOT NULL,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, invoice_id, id),
  FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX invoice_attachments_by_sha256 ON invoice_attachments (sha256);
`,
} satisfies SqlMigration;
