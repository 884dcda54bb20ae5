import type pg from 'pg';
import { CompiledQuery, type Kysely, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Database } from './schema.js';

/**
 * Prepared statements for the hot path (the write kernel), beside Kysely, which stays for the rest.
 *
 * A `PreparedStatement` is SQL text built once at module load. It runs through the Kysely
 * transaction it is given (`run`), so it shares that transaction's connection, and:
 * - on PostgreSQL, the pool's clients (`namedStatementPool`) send a registered text as a *named*
 *   prepared statement (`{ name, text, values }`): the server parses and plans it once per
 *   connection instead of once per call;
 * - on SQLite, Kysely's driver prepares through `withStatementCache` (src/db/database.ts), keyed
 *   by the same text, so the better-sqlite3 statement is prepared once per process.
 * Nothing is built per request: the caller only supplies the parameter values.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly sql: string;
}

/** SQL text → statement name, for every statement registered (PostgreSQL names are per connection). */
const namesByText = new Map<string, string>();
const names = new Set<string>();

/** Registers a statement of the hot path; `name` must be unique in the process. */
export function prepare(name: string, sql: string): PreparedStatement {
  // pg refuses one name for two texts on a connection; one text under two names would be prepared twice.
  if (names.has(name) || namesByText.has(sql)) throw new Error(`prepared statement ${name} is registered twice`);
  names.add(name);
  namesByText.set(sql, name);
  return { name, sql };
}

/** Runs a prepared statement in `db` (usually the kernel's transaction) and returns its rows. */
export async function run<Row>(db: Kysely<Database>, statement: PreparedStatement, parameters: readonly unknown[]): Promise<{ rows: Row[]; numAffectedRows?: bigint }> {
  return db.executeQuery<Row>(CompiledQuery.raw(statement.sql, [...parameters]));
}

/**
 * Wraps a pg pool for Kysely's PostgresDialect so that its clients send registered statements by
 * name (every other query, Kysely's own included, goes out unchanged). One wrapper per client, so
 * Kysely keeps one connection object per pooled client.
 */
export function namedStatementPool(pool: pg.Pool): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let wrapper = wrappers.get(client);
    if (!wrapper) {
      wrapper = {
        query: ((textOrCursor: unknown, values?: unknown[]) => {
          if (typeof textOrCursor !== 'string') return client.query(textOrCursor as pg.Submittable);
          const name = namesByText.get(textOrCursor);
          return name === undefined ? client.query(textOrCursor, values) : client.query({ name, text: textOrCursor, values });
        }) as unknown as PostgresPoolClient['query'],
        release: () => client.release(),
      };
      wrappers.set(client, wrapper);
    }
    return wrapper;
  };
  return {
    connect: async () => wrap(await pool.connect()),
    end: () => pool.end(),
  };
}
