import { sql, type Kysely, type Migration } from 'kysely';

/**
 * A migration is plain DDL, one text per engine. Both texts describe the same logical schema
 * (src/db/schema.ts); they differ only in physical types (NUMERIC vs TEXT for amounts,
 * identity vs AUTOINCREMENT), which test/reliability/schema-parity.test.ts pins down.
 */
export interface SqlMigration {
  sqlite: string;
  postgres: string;
}

export type MigrationEngine = keyof SqlMigration;

/**
 * Statements are separated by a semicolon at a line end, so a one-line trigger body
 * (`BEGIN SELECT RAISE(...); END;`) stays one statement. No procedural bodies over several lines.
 */
export function splitStatements(script: string): string[] {
  return script
    .split(/;\s*\n/)
    .map((statement) => statement.trim().replace(/;$/, ''))
    .filter((statement) => statement.length > 0);
}

/** Kysely's form of one engine's text: forward-only, so no `down`. */
export function toKyselyMigration(script: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      for (const statement of splitStatements(script)) await sql.raw(statement).execute(db);
    },
  };
}
