import type { SqlMigration } from './sql-migration.js';

/**
 * 0008_document_seller: the seller details printed on documents (a JSON object, see
 * src/modules/documents/seller.ts) and the logo's blob, one row per tenant; and the cache of
 * rendered documents (key → blob in the blob store). Same text on both engines.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
const sql = `
CREATE TABLE document_sellers (
  tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants(id),
  seller TEXT NOT NULL,
  logo_sha256 TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX document_sellers_by_logo ON document_sellers (logo_sha256);
CREATE TABLE document_cache (
  tenant_id TEXT NOT NULL,
  document_key TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, document_key)
);
`;

export default { sqlite: sql, postgres: sql } satisfies SqlMigration;
