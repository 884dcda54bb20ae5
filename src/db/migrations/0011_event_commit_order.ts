import type { SqlMigration } from './sql-migration.js';

/**
 * 0011_event_commit_order: PostgreSQL stores, with every event, the id of the transaction that
 * wrote it (`xact_id`, xid8, a column DEFAULT so no writer can forget it). The feed then returns
 * only events of transactions that are certainly finished (xact_id below the reader's snapshot
 * xmin) in (xact_id, seq) order, instead of serialising a tenant's writers on an advisory lock
 * (src/modules/events/feed.ts). Events written before this migration get xact_id 0: they were
 * already in commit order by seq, and 0 sorts them before every later one.
 * SQLite has no such column: its writers are serialised, so seq order is commit order.
 * Released: never edit this text (its checksum is in checksums.json); add a new migration instead.
 */
export default {
  sqlite: '',
  postgres: `
ALTER TABLE events ADD COLUMN xact_id xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN xact_id SET DEFAULT pg_current_xact_id();
CREATE INDEX events_by_tenant_commit ON events (tenant_id, xact_id, seq);
`,
} satisfies SqlMigration;
