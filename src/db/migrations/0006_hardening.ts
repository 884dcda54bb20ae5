import type { SqlMigration } from './sql-migration.js';

/**
 * 0006_hardening (issue 13): the request rate limit's token buckets, one row per API key, shared
 * by every API process on PostgreSQL (src/http/rate-limit.ts). Tokens are kept in thousandths so
 * that both engines store integers. SQLite (one process) keeps its buckets in memory and leaves
 * the table empty; it exists there too so that both engines have the same schema.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
const bucketsTable = (bigint: string) => `
CREATE TABLE rate_limit_buckets (
  key TEXT PRIMARY KEY,
  token_thousandths ${bigint} NOT NULL,
  updated_at_ms ${bigint} NOT NULL,
  allowed INTEGER NOT NULL
);
`;

export default {
  sqlite: bucketsTable('INTEGER'),
  postgres: bucketsTable('BIGINT'),
} satisfies SqlMigration;
