import type { SqlMigration } from './sql-migration.js';

/**
 * 0005_dialect_identifiers: a stable UUID (`guid`) per invoice and line, a per-tenant integer
 * `serial` per invoice (both backfilled: serials in creation order, the tenant's serial counter set
 * after them), connections (credential ids the dialects name) and short-lived dialect access tokens.
 * SQLite has no UUID function: the backfill builds version-4 UUIDs from randomblob().
 */
export default {
  sqlite: `
ALTER TABLE invoices ADD COLUMN guid TEXT;
ALTER TABLE invoices ADD COLUMN serial INTEGER;
ALTER TABLE invoice_lines ADD COLUMN guid TEXT;
UPDATE invoices SET guid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) WHERE guid IS NULL;
UPDATE invoice_lines SET guid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) WHERE guid IS NULL;
UPDATE invoices SET serial = ranked.n FROM (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id ORDER BY created_at, id) AS n FROM invoices) AS ranked WHERE ranked.tenant_id = invoices.tenant_id AND ranked.id = invoices.id;
INSERT INTO number_sequences (tenant_id, name, last_value) SELECT tenant_id, 'invoice_serial', MAX(serial) FROM invoices GROUP BY tenant_id;
CREATE UNIQUE INDEX invoices_guid_unique ON invoices (tenant_id, guid);
CREATE UNIQUE INDEX invoices_serial_unique ON invoices (tenant_id, serial);
CREATE TABLE connections (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
`,
  postgres: `
ALTER TABLE invoices ADD COLUMN guid TEXT;
ALTER TABLE invoices ADD COLUMN serial INTEGER;
ALTER TABLE invoice_lines ADD COLUMN guid TEXT;
UPDATE invoices SET guid = gen_random_uuid()::text WHERE guid IS NULL;
UPDATE invoice_lines SET guid = gen_random_uuid()::text WHERE guid IS NULL;
UPDATE invoices SET serial = ranked.n FROM (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id ORDER BY created_at, id) AS n FROM invoices) AS ranked WHERE ranked.tenant_id = invoices.tenant_id AND ranked.id = invoices.id;
INSERT INTO number_sequences (tenant_id, name, last_value) SELECT tenant_id, 'invoice_serial', MAX(serial) FROM invoices GROUP BY tenant_id;
CREATE UNIQUE INDEX invoices_guid_unique ON invoices (tenant_id, guid);
CREATE UNIQUE INDEX invoices_serial_unique ON invoices (tenant_id, serial);
CREATE TABLE connections (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
`,
} satisfies SqlMigration;
