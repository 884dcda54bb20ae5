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
 * (`BEGIN SELECT RAISE(...); END;`) stays one statement. A dollar-quoted body (`$$ … $$` or
 * `$tag$ … $tag$`, a PL/pgSQL function's) is kept whole, whatever semicolons it holds.
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  const boundary = /;\s*\n|\$(?:[A-Za-z_]\w*)?\$/g;
  let start = 0;
  for (let match = boundary.exec(script); match !== null; match = boundary.exec(script)) {
    if (match[0].startsWith('$')) {
      const close = script.indexOf(match[0], match.index + match[0].length);
      if (close < 0) throw new Error(`unterminated dollar quote ${match[0]} in a migration`);
      boundary.lastIndex = close + match[0].length;
      continue;
    }
    statements.push(script.slice(start, match.index));
    start = match.index + match[0].length;
  }
  statements.push(script.slice(start));
  return statements.map((statement) => statement.trim().replace(/;$/, '')).filter((statement) => statement.length > 0);
}

/** Kysely's form of one engine's text: forward-only, so no `down`. */
export function toKyselyMigration(script: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      for (const statement of splitStatements(script)) await sql.raw(statement).execute(db);
    },
  };
}
