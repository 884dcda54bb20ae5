import type { SqlMigration } from './sql-migration.js';

/**
 * 0014_rate_limit_unlogged: on PostgreSQL the per-key rate-limit buckets (0006_hardening) are taken
 * with one UPSERT per authenticated request. As an ordinary table each of those commits waited for a
 * WAL flush to disk; UNLOGGED writes no WAL, so the commit does not wait (bench:rate-limit). What is
 * lost in a crash is only the buckets' fill level: PostgreSQL empties an unlogged table after a crash
 * and every key starts again with a full bucket, which is harmless for a rate limit. (Unlogged tables
 * are not replicated to standbys either; a promoted standby starts with full buckets too.)
 * SQLite keeps its buckets in the process's memory and has no such table to change.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
export default {
  sqlite: '',
  postgres: `
ALTER TABLE rate_limit_buckets SET UNLOGGED;
`,
} satisfies SqlMigration;
