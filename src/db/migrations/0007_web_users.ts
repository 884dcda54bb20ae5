import type { SqlMigration } from './sql-migration.js';

/**
 * 0007_web_users: people who sign in to the web app (per tenant, one role each), their sessions
 * (only a hash of the cookie token is stored) and recent failed sign-ins (lock-out). The same text
 * on both engines.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
const webUsers = `
CREATE TABLE users (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  id TEXT NOT NULL,
  email TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled_at TEXT,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_email_unique ON users (tenant_id, email);
CREATE TABLE web_sessions (
  tenant_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, token_hash)
);
CREATE INDEX web_sessions_by_user ON web_sessions (tenant_id, user_id);
CREATE TABLE login_failures (
  tenant_id TEXT NOT NULL,
  email TEXT NOT NULL,
  failed_at TEXT NOT NULL
);
CREATE INDEX login_failures_by_email ON login_failures (tenant_id, email, failed_at);
`;

export default { sqlite: webUsers, postgres: webUsers } satisfies SqlMigration;
