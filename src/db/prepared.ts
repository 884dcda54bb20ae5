import pg from 'pg';
import { CompiledQuery } from 'kysely';
import type { DbOrTx, Engine } from './database.js';

/**
 * Hot-path statements whose SQL is written once, per engine, and reused verbatim.
 *
 * PostgreSQL: each is sent as a named prepared statement (pg's `{ name, text, values }`), so the
 * server parses and plans it once per connection instead of on every call. The names are reached
 * through the pool's client class (NamedStatementClient, given to pg.Pool in database.ts): it
 * recognises a registered text and names it. Any query path therefore works — a plain
 * `db.executeQuery`, inside a Kysely transaction, on whichever pooled connection — and nothing
 * reaches around Kysely for the connection.
 * SQLite: the same text every time hits the driver's statement cache (withStatementCache), so no
 * query is built or prepared per call.
 *
 * List columns explicitly (no `*`): a prepared statement whose result columns change under it
 * (a migration run by another process) fails with "cached plan must not change result type".
 */
export interface PreparedStatement<Row> {
  readonly name: string;
  readonly text: Readonly<Record<Engine, string>>;
  /** Only for typing the rows. */
  readonly rowType?: Row;
}

// PostgreSQL text → statement name. One name per text and one text per name, process-wide:
// pg refuses a name that a connection already prepared with another text.
const namesByText = new Map<string, string>();
const textsByName = new Map<string, string>();

/** Declares a statement (at module load); `name` must be unique in the process. */
export function preparedStatement<Row>(name: string, text: Record<Engine, string>): PreparedStatement<Row> {
  const known = textsByName.get(name);
  if (known !== undefined && known !== text.postgres) throw new Error(`prepared statement ${name} is already declared with another text`);
  if (namesByText.has(text.postgres) && namesByText.get(text.postgres) !== name) throw new Error(`prepared statement ${name} has the text of ${namesByText.get(text.postgres)}`);
  namesByText.set(text.postgres, name);
  textsByName.set(name, text.postgres);
  return { name, text: { ...text } };
}

/** Runs a declared statement with positional parameters ($1… on PostgreSQL, ? on SQLite). */
export async function runPrepared<Row>(db: DbOrTx, engine: Engine, statement: PreparedStatement<Row>, parameters: readonly unknown[]): Promise<Row[]> {
  const result = await db.executeQuery<Row>(CompiledQuery.raw(statement.text[engine], [...parameters]));
  return result.rows;
}

/**
 * pg's client, naming the declared statements. Kysely's PostgreSQL driver calls
 * `client.query(text, values)`; for a declared text this becomes `client.query({ name, text, values })`.
 * Everything else (other queries, cursors, config objects) passes through unchanged.
 */
export class NamedStatementClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query() has many overloads; this one forwards them all.
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config === 'string' && (values === undefined || Array.isArray(values))) {
      const name = namesByText.get(config);
      if (name !== undefined) return super.query({ name, text: config, values }, callback);
    }
    return super.query(config, values, callback);
  }
}
