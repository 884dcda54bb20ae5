import type { SqlMigration } from './sql-migration.js';

/**
 * 0001_core: Tenants, API keys, customers, invoices and their lines, the audit trail and the event outbox.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
export default {
  sqlite: `
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
  postgres: `
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
} satisfies SqlMigration;
