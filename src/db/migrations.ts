/**
 * Forward-only migrations, one list per dialect, applied in order at start.
 * A migration, once released, is never edited: add a new one instead.
 * Both lists describe the same logical schema (src/db/schema.ts); they differ only
 * in physical types (NUMERIC vs TEXT for amounts, identity vs AUTOINCREMENT).
 */
export interface Migration {
  name: string;
  sql: string;
}

/**
 * 0002_lifecycle: number sequences, payments, credit notes, revision links, number prefix.
 * One text for both engines; only the physical type of amounts differs.
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

/**
 * 0005_dialect_identifiers: a stable UUID (`guid`) per invoice and line, a per-tenant integer
 * `serial` per invoice (both backfilled: serials in creation order), the tenant's serial counter,
 * connections (credential ids the dialects name) and short-lived dialect access tokens.
 */
function dialectIdentifiersSql(uuidExpression: string): string {
  return `
ALTER TABLE invoices ADD COLUMN guid TEXT;
ALTER TABLE invoices ADD COLUMN serial INTEGER;
ALTER TABLE invoice_lines ADD COLUMN guid TEXT;
UPDATE invoices SET guid = ${uuidExpression} WHERE guid IS NULL;
UPDATE invoice_lines SET guid = ${uuidExpression} WHERE guid IS NULL;
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
`;
}

/** A random (version 4) UUID in SQLite, which has no UUID function. */
const sqliteUuid =
  "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";

export const sqliteMigrations: Migration[] = [
  {
    name: '0001_core',
    sql: `
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  base_currency TEXT NOT NULL,
  edit_policy TEXT NOT NULL DEFAULT 'until_paid',
  created_at TEXT NOT NULL
);
CREATE TABLE api_keys (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE customers (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT,
  phone TEXT,
  tax_id TEXT,
  address TEXT,
  language TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX customers_by_updated ON customers (tenant_id, updated_at);
CREATE TABLE invoices (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  number TEXT,
  reference TEXT,
  purchase_order TEXT,
  status TEXT NOT NULL,
  currency TEXT NOT NULL,
  exchange_rate TEXT,
  issue_date TEXT,
  due_date TEXT,
  payment_terms TEXT,
  memo TEXT,
  internal_note TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  custom_fields TEXT NOT NULL DEFAULT '{}',
  external_refs TEXT NOT NULL DEFAULT '{}',
  customer_id TEXT,
  bill_to TEXT,
  tax_mode TEXT NOT NULL,
  rounding_mode TEXT NOT NULL,
  subtotal TEXT NOT NULL,
  discount_total TEXT NOT NULL,
  tax_total TEXT NOT NULL,
  total TEXT NOT NULL,
  tax_breakdown TEXT NOT NULL DEFAULT '[]',
  amount_paid TEXT NOT NULL,
  amount_credited TEXT NOT NULL,
  balance TEXT NOT NULL,
  line_count INTEGER NOT NULL,
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finalized_at TEXT,
  voided_at TEXT,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX invoices_number_unique ON invoices (tenant_id, number) WHERE number IS NOT NULL;
CREATE INDEX invoices_by_reference ON invoices (tenant_id, reference);
CREATE INDEX invoices_by_customer ON invoices (tenant_id, customer_id);
CREATE INDEX invoices_by_status ON invoices (tenant_id, status, id);
CREATE INDEX invoices_by_updated ON invoices (tenant_id, updated_at);
CREATE TABLE invoice_lines (
  tenant_id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  id TEXT NOT NULL,
  position INTEGER NOT NULL,
  parent_line_id TEXT,
  description TEXT,
  quantity TEXT NOT NULL,
  unit TEXT,
  unit_price TEXT NOT NULL,
  discount_type TEXT,
  discount_value TEXT,
  tax_rate TEXT,
  tax_code TEXT,
  account_code TEXT,
  item_code TEXT,
  tracking TEXT,
  amount_before_discount TEXT NOT NULL,
  discount_amount TEXT NOT NULL,
  net_amount TEXT NOT NULL,
  tax_amount TEXT NOT NULL,
  gross_amount TEXT NOT NULL,
  PRIMARY KEY (tenant_id, invoice_id, id),
  FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE
);
CREATE TABLE audit_events (
  tenant_id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  action TEXT NOT NULL,
  actor_key_id TEXT,
  request_id TEXT,
  reason TEXT,
  changes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, invoice_id, version)
);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  resource_version INTEGER,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX events_by_tenant ON events (tenant_id, seq);
`,
  },
  { name: '0002_lifecycle', sql: lifecycleSql('TEXT') },
  {
    name: '0003_history_webhooks',
    sql: `
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TABLE idempotency_keys (
  tenant_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  state TEXT NOT NULL,
  claim_token TEXT NOT NULL,
  locked_until TEXT NOT NULL,
  committed_resource TEXT,
  response_status INTEGER,
  response_headers TEXT,
  response_body TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
CREATE TABLE webhook_endpoints (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  url TEXT NOT NULL,
  description TEXT,
  event_types TEXT NOT NULL,
  secret TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE webhook_deliveries (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at TEXT NOT NULL,
  last_status_code INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);
CREATE TABLE webhook_attempts (
  tenant_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, delivery_id, attempt)
);
`,
  },
  {
    name: '0004_attachments',
    sql: `
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
  },
  { name: '0005_dialect_identifiers', sql: dialectIdentifiersSql(sqliteUuid) },
];

export const postgresMigrations: Migration[] = [
  {
    name: '0001_core',
    sql: `
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  base_currency TEXT NOT NULL,
  edit_policy TEXT NOT NULL DEFAULT 'until_paid',
  created_at TEXT NOT NULL
);
CREATE TABLE api_keys (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE customers (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT,
  phone TEXT,
  tax_id TEXT,
  address TEXT,
  language TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX customers_by_updated ON customers (tenant_id, updated_at);
CREATE TABLE invoices (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  number TEXT,
  reference TEXT,
  purchase_order TEXT,
  status TEXT NOT NULL,
  currency TEXT NOT NULL,
  exchange_rate NUMERIC,
  issue_date TEXT,
  due_date TEXT,
  payment_terms TEXT,
  memo TEXT,
  internal_note TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  custom_fields TEXT NOT NULL DEFAULT '{}',
  external_refs TEXT NOT NULL DEFAULT '{}',
  customer_id TEXT,
  bill_to TEXT,
  tax_mode TEXT NOT NULL,
  rounding_mode TEXT NOT NULL,
  subtotal NUMERIC NOT NULL,
  discount_total NUMERIC NOT NULL,
  tax_total NUMERIC NOT NULL,
  total NUMERIC NOT NULL,
  tax_breakdown TEXT NOT NULL DEFAULT '[]',
  amount_paid NUMERIC NOT NULL,
  amount_credited NUMERIC NOT NULL,
  balance NUMERIC NOT NULL,
  line_count INTEGER NOT NULL,
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finalized_at TEXT,
  voided_at TEXT,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX invoices_number_unique ON invoices (tenant_id, number) WHERE number IS NOT NULL;
CREATE INDEX invoices_by_reference ON invoices (tenant_id, reference);
CREATE INDEX invoices_by_customer ON invoices (tenant_id, customer_id);
CREATE INDEX invoices_by_status ON invoices (tenant_id, status, id);
CREATE INDEX invoices_by_updated ON invoices (tenant_id, updated_at);
CREATE TABLE invoice_lines (
  tenant_id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  id TEXT NOT NULL,
  position INTEGER NOT NULL,
  parent_line_id TEXT,
  description TEXT,
  quantity NUMERIC NOT NULL,
  unit TEXT,
  unit_price NUMERIC NOT NULL,
  discount_type TEXT,
  discount_value NUMERIC,
  tax_rate NUMERIC,
  tax_code TEXT,
  account_code TEXT,
  item_code TEXT,
  tracking TEXT,
  amount_before_discount NUMERIC NOT NULL,
  discount_amount NUMERIC NOT NULL,
  net_amount NUMERIC NOT NULL,
  tax_amount NUMERIC NOT NULL,
  gross_amount NUMERIC NOT NULL,
  PRIMARY KEY (tenant_id, invoice_id, id),
  FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE
);
CREATE TABLE audit_events (
  tenant_id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  action TEXT NOT NULL,
  actor_key_id TEXT,
  request_id TEXT,
  reason TEXT,
  changes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, invoice_id, version)
);
CREATE TABLE events (
  tenant_id TEXT NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  resource_version INTEGER,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
`,
  },
  { name: '0002_lifecycle', sql: lifecycleSql('NUMERIC') },
  {
    name: '0003_history_webhooks',
    sql: `
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege'; END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
CREATE TABLE idempotency_keys (
  tenant_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  state TEXT NOT NULL,
  claim_token TEXT NOT NULL,
  locked_until TEXT NOT NULL,
  committed_resource TEXT,
  response_status INTEGER,
  response_headers TEXT,
  response_body TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
CREATE TABLE webhook_endpoints (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  url TEXT NOT NULL,
  description TEXT,
  event_types TEXT NOT NULL,
  secret TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE webhook_deliveries (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at TEXT NOT NULL,
  last_status_code INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);
CREATE TABLE webhook_attempts (
  tenant_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, delivery_id, attempt)
);
`,
  },
  {
    name: '0004_attachments',
    sql: `
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
  },
  { name: '0005_dialect_identifiers', sql: dialectIdentifiersSql('gen_random_uuid()::text') },
];
