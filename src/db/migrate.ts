import { Migrator, sql, type Kysely } from 'kysely';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

type Engine = 'sqlite' | 'postgres';

/** Kysely's own bookkeeping tables (its defaults). */
export const kyselyMigrationTable = 'kysely_migration';
const kyselyLockTable = 'kysely_migration_lock';
/** The hand-made runner of release 0.1 recorded applied migrations here; kept, never written again. */
export const legacyMigrationTable = 'schema_migrations';
/** Serialises the adoption step between processes starting at once (the value of release 0.1's lock). */
const adoptionLockId = 727274;

/**
 * Brings the schema up to date at start. PostgreSQL: Kysely's Migrator holds a session advisory
 * lock and runs all pending migrations in one transaction, so concurrent starts are safe.
 * SQLite: the dialect declares transactional DDL (database.ts), so the Migrator runs them in one
 * BEGIN IMMEDIATE transaction, which also serialises processes sharing the file.
 */
export async function migrateToLatest(db: Kysely<Database>, engine: Engine): Promise<void> {
  await adoptLegacyMigrations(db, engine);
  const { error, results } = await new Migrator({ db, provider: migrationProvider(engine) }).migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '(setup)'} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * A database made by release 0.1 lists its applied migrations in `schema_migrations`. Copy them
 * (name, applied_at) into Kysely's table in one transaction before the Migrator first looks,
 * so nothing is run twice. Done only while Kysely's tables do not exist yet.
 */
async function adoptLegacyMigrations(db: Kysely<Database>, engine: Engine): Promise<void> {
  await db.transaction().execute(async (tx) => {
    if (engine === 'postgres') await sql`SELECT pg_advisory_xact_lock(${adoptionLockId})`.execute(tx);
    const existing = new Set(await tableNames(tx, engine, [legacyMigrationTable, kyselyMigrationTable, kyselyLockTable]));
    if (!existing.has(legacyMigrationTable) || existing.has(kyselyMigrationTable) || existing.has(kyselyLockTable)) return;
    // The same shape the Migrator creates itself.
    await tx.schema
      .createTable(kyselyMigrationTable)
      .addColumn('name', 'varchar(255)', (column) => column.notNull().primaryKey())
      .addColumn('timestamp', 'varchar(255)', (column) => column.notNull())
      .execute();
    await sql`INSERT INTO ${sql.table(kyselyMigrationTable)} (name, timestamp) SELECT name, applied_at FROM ${sql.table(legacyMigrationTable)}`.execute(tx);
  });
}

async function tableNames(db: Kysely<Database>, engine: Engine, names: string[]): Promise<string[]> {
  const query =
    engine === 'postgres'
      ? sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN (${sql.join(names)})`
      : sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${sql.join(names)})`;
  return (await query.execute(db)).rows.map((row) => row.name);
}
