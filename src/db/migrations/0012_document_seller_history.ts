import type { SqlMigration } from './sql-migration.js';

/**
 * 0012_document_seller_history: every revision of a tenant's seller details, with the time it
 * took effect, so a version of an invoice renders with the seller that was in force when that
 * version was written (docs/documents.md, "Seller details at a version"). document_sellers keeps
 * the current row; this table is append-only history. A tenant's existing seller row becomes
 * revision 1, in force since the beginning (what every document showed before this migration).
 * Same text on both engines.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
const sql = `
CREATE TABLE document_seller_history (
  tenant_id TEXT NOT NULL,
  revision INTEGER NOT NULL,
  valid_from TEXT NOT NULL,
  seller TEXT NOT NULL,
  logo_sha256 TEXT,
  PRIMARY KEY (tenant_id, revision)
);
CREATE INDEX document_seller_history_by_time ON document_seller_history (tenant_id, valid_from);
CREATE INDEX document_seller_history_by_logo ON document_seller_history (logo_sha256);
INSERT INTO document_seller_history (tenant_id, revision, valid_from, seller, logo_sha256)
  SELECT tenant_id, 1, '0000-01-01T00:00:00.000Z', seller, logo_sha256 FROM document_sellers;
`;

export default { sqlite: sql, postgres: sql } satisfies SqlMigration;
