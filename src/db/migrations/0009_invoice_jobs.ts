import type { SqlMigration } from './sql-migration.js';

/**
 * 0009_invoice_jobs: bulk changes as durable jobs (docs/bulk-jobs.md). A job row holds the
 * request, its state and running counts; one item row per matched invoice holds that invoice's
 * outcome. Items are claimed by lease (`lease_until`), like webhook deliveries.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
export default {
  sqlite: `
CREATE TABLE invoice_jobs (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  state TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  request TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor_key_id TEXT,
  enumeration_cursor TEXT,
  enumeration_lease_until TEXT NOT NULL,
  matched INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  unchanged INTEGER NOT NULL,
  refused INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  cancelled INTEGER NOT NULL,
  amount_difference TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX invoice_jobs_by_state ON invoice_jobs (state, enumeration_lease_until);
CREATE TABLE invoice_job_items (
  tenant_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  state TEXT NOT NULL,
  lease_until TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  outcome TEXT,
  rule TEXT,
  detail TEXT,
  version INTEGER,
  amount_difference TEXT,
  finished_at TEXT,
  PRIMARY KEY (tenant_id, job_id, invoice_id),
  FOREIGN KEY (tenant_id, job_id) REFERENCES invoice_jobs (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX invoice_job_items_due ON invoice_job_items (state, lease_until);
CREATE INDEX invoice_job_items_by_outcome ON invoice_job_items (tenant_id, job_id, state, outcome, invoice_id);
`,
  postgres: `
CREATE TABLE invoice_jobs (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  state TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  request TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor_key_id TEXT,
  enumeration_cursor TEXT,
  enumeration_lease_until TEXT NOT NULL,
  matched INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  unchanged INTEGER NOT NULL,
  refused INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  cancelled INTEGER NOT NULL,
  amount_difference NUMERIC NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX invoice_jobs_by_state ON invoice_jobs (state, enumeration_lease_until);
CREATE TABLE invoice_job_items (
  tenant_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  invoice_id TEXT NOT NULL,
  state TEXT NOT NULL,
  lease_until TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  outcome TEXT,
  rule TEXT,
  detail TEXT,
  version INTEGER,
  amount_difference NUMERIC,
  finished_at TEXT,
  PRIMARY KEY (tenant_id, job_id, invoice_id),
  FOREIGN KEY (tenant_id, job_id) REFERENCES invoice_jobs (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX invoice_job_items_due ON invoice_job_items (state, lease_until);
CREATE INDEX invoice_job_items_by_outcome ON invoice_job_items (tenant_id, job_id, state, outcome, invoice_id);
`,
} satisfies SqlMigration;
