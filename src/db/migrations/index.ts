import type { MigrationProvider } from 'kysely';
import { toKyselyMigration, type MigrationEngine, type SqlMigration } from './sql-migration.js';
import core from './0001_core.js';
import lifecycle from './0002_lifecycle.js';
import historyWebhooks from './0003_history_webhooks.js';
import attachments from './0004_attachments.js';
import dialectIdentifiers from './0005_dialect_identifiers.js';
import hardening from './0006_hardening.js';
import webUsers from './0007_web_users.js';
import documentSeller from './0008_document_seller.js';
import invoiceJobs from './0009_invoice_jobs.js';
import listIndexes from './0010_list_indexes.js';
import eventCommitOrder from './0011_event_commit_order.js';
import documentSellerHistory from './0012_document_seller_history.js';
import adminEvents from './0013_admin_events.js';
import rateLimitUnlogged from './0014_rate_limit_unlogged.js';
import invoiceLockRead from './0015_invoice_lock_read.js';
import writeAssertion from './0016_write_assertion.js';

/**
 * Every migration, in the order they run (Kysely's Migrator sorts by name; it refuses to start
 * when a name sorts before one already applied).
 *
 * A released migration is never edited; add a new file; update checksums only when adding:
 *   1. copy the newest file to NNNN_what.ts (next number), write its SQL for both engines;
 *   2. import and list it below;
 *   3. add its schema to src/db/schema.ts;
 *   4. add its checksums to checksums.json (the checksum test prints the line it expects);
 *   5. run test/unit/migration-checksums.test.ts and test/reliability/schema-parity.test.ts.
 * Imported statically (no directory scan), so the compiled `dist/` carries them.
 */
export const migrations: Record<string, SqlMigration> = {
  '0001_core': core,
  '0002_lifecycle': lifecycle,
  '0003_history_webhooks': historyWebhooks,
  '0004_attachments': attachments,
  '0005_dialect_identifiers': dialectIdentifiers,
  '0006_hardening': hardening,
  '0007_web_users': webUsers,
  '0008_document_seller': documentSeller,
  '0009_invoice_jobs': invoiceJobs,
  '0010_list_indexes': listIndexes,
  '0011_event_commit_order': eventCommitOrder,
  '0012_document_seller_history': documentSellerHistory,
  '0013_admin_events': adminEvents,
  '0014_rate_limit_unlogged': rateLimitUnlogged,
  '0015_invoice_lock_read': invoiceLockRead,
  '0016_write_assertion': writeAssertion,
};

export function migrationProvider(engine: MigrationEngine): MigrationProvider {
  return {
    getMigrations: async () =>
      Object.fromEntries(Object.entries(migrations).map(([name, migration]) => [name, toKyselyMigration(migration[engine])])),
  };
}
