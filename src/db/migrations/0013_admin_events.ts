import type { SqlMigration } from './sql-migration.js';

/**
 * 0013_admin_events: the audit trail of a tenant's administration — settings changed, API keys
 * created and revoked, webhook endpoints added, changed and removed — with who did it (a user id
 * from the web app or an API key id), the request, when, and the change as `{path, from, to}`.
 * Invoices keep their own trail (audit_events). Append-only like audit_events: the database
 * refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL).
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
/** `seq` orders the trail: ids begin with their millisecond, and events of one millisecond would tie. */
const columns = `
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL UNIQUE,
  action TEXT NOT NULL,
  subject_id TEXT,
  actor_key_id TEXT,
  request_id TEXT,
  changes TEXT NOT NULL,
  created_at TEXT NOT NULL
`;
const index = 'CREATE INDEX admin_events_by_tenant ON admin_events (tenant_id, seq);';

export default {
  sqlite: `CREATE TABLE admin_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,${columns});
${index}
CREATE TRIGGER admin_events_no_update BEFORE UPDATE ON admin_events BEGIN SELECT RAISE(ABORT, 'admin_events is append-only'); END;
CREATE TRIGGER admin_events_no_delete BEFORE DELETE ON admin_events BEGIN SELECT RAISE(ABORT, 'admin_events is append-only'); END;
`,
  postgres: `CREATE TABLE admin_events (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,${columns});
${index}
CREATE FUNCTION admin_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'admin_events is append-only' USING ERRCODE = 'insufficient_privilege'; END $$;
CREATE TRIGGER admin_events_no_update BEFORE UPDATE OR DELETE ON admin_events FOR EACH ROW EXECUTE FUNCTION admin_events_append_only();
CREATE TRIGGER admin_events_no_truncate BEFORE TRUNCATE ON admin_events FOR EACH STATEMENT EXECUTE FUNCTION admin_events_append_only();
`,
} satisfies SqlMigration;
