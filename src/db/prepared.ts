import pg from 'pg';
import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Prepared statements for the hot paths (the write kernel, GET of one invoice), beside Kysely,
 * which stays for the rest.
 *
 * A `PreparedStatement` is SQL text built once at module load. It runs in the Kysely transaction
 * or database it is given (`run`), so it shares that transaction's connection; in the write
 * kernel's transaction (src/db/transaction.ts) it goes to that connection's driver directly. And:
 * - on PostgreSQL, the pool's client class (`NamedStatementClient`, given to pg.Pool in
 *   database.ts) sends a registered text as a *named* prepared statement (`{ name, text, values }`):
 *   the server parses and plans it once per connection instead of once per call (the kernel's
 *   transaction sends `{ name, text, values }` itself);
 * - on SQLite, every query prepares through `withStatementCache` (src/db/database.ts), keyed
 *   by the same text, so the better-sqlite3 statement is prepared once per process.
 * Nothing is built per request: the caller only supplies the parameter values.
 *
 * List columns explicitly (no `*`): a prepared statement whose result columns change under it
 * (a migration run by another process) fails with "cached plan must not change result type".
 */
export interface PreparedStatement {
  readonly name: string;
  readonly sql: string;
  /** A plain SELECT (row locks aside, it changes nothing): the kernel's transaction may send BEGIN with it. */
  readonly selectOnly: boolean;
}

/** SQL text → statement name, for every statement registered (PostgreSQL names are per connection). */
const namesByText = new Map<string, string>();
const names = new Set<string>();

/** Registers a statement of a hot path; `name` must be unique in the process. */
export function prepare(name: string, sql: string): PreparedStatement {
  // pg refuses one name for two texts on a connection; one text under two names would be prepared twice.
  if (names.has(name) || namesByText.has(sql)) throw new Error(`prepared statement ${name} is registered twice`);
  names.add(name);
  namesByText.set(sql, name);
  return { name, sql, selectOnly: /^\s*select\b/i.test(sql) };
}

export interface StatementResult<Row> {
  rows: Row[];
  numAffectedRows?: bigint;
}

/**
 * A transaction that runs prepared statements on its connection directly (the write kernel's,
 * src/db/transaction.ts) has a method under this key; `run` uses it instead of Kysely's executor.
 */
export const runsPreparedStatements = Symbol('runsPreparedStatements');

/** Its companion for a transaction's last statement: COMMIT may go out with it (PostgreSQL, one round trip). */
export const commitsWithStatement = Symbol('commitsWithStatement');

interface DirectRunner {
  [runsPreparedStatements]?: <Row>(statement: PreparedStatement, parameters: readonly unknown[]) => Promise<StatementResult<Row>>;
  [commitsWithStatement]?: <Row>(statement: PreparedStatement, parameters: readonly unknown[]) => Promise<StatementResult<Row>>;
}

/**
 * A family of statements that differ only in which optional parts they hold, `bits` of them: variant
 * `v` (a bitmask, 0 ≤ v < 2^bits) is built and registered on its first use as `${name}_${v}`, and
 * every later call returns that one. The names are the same in every process and there are at most
 * 2^bits of them, so a connection prepares each variant it meets once. `build` returns the text and
 * whatever else the caller needs beside it (how to bind the variant's parameters).
 */
export function prepareVariants<Extra extends object>(name: string, bits: number, build: (variant: number) => Extra & { sql: string }): (variant: number) => PreparedStatement & Extra {
  const variants = new Map<number, PreparedStatement & Extra>();
  return (variant) => {
    let statement = variants.get(variant);
    if (statement === undefined) {
      if (!Number.isInteger(variant) || variant < 0 || variant >= 2 ** bits) throw new Error(`${name}: variant ${variant} is outside 0..${2 ** bits - 1}`);
      const built = build(variant);
      statement = { ...built, ...prepare(`${name}_${variant}`, built.sql) };
      variants.set(variant, statement);
    }
    return statement;
  };
}

/** Runs a prepared statement in `db` (usually the kernel's transaction) and returns its rows. */
export function run<Row>(db: Kysely<Database>, statement: PreparedStatement, parameters: readonly unknown[]): Promise<StatementResult<Row>> {
  const direct = (db as DirectRunner)[runsPreparedStatements];
  if (direct) return direct.call(db, statement, parameters) as Promise<StatementResult<Row>>;
  return db.executeQuery<Row>(CompiledQuery.raw(statement.sql, [...parameters]));
}

/**
 * Runs the last statement of the kernel's transaction: on PostgreSQL COMMIT goes out in the same
 * write (src/db/transaction.ts), and the transaction refuses anything after it. Elsewhere (SQLite,
 * or a transaction that is not the kernel's) it is `run`, and COMMIT comes at the end as usual.
 * The statement must check its own outcome (raise) if a result could call for a rollback.
 */
export function runAndCommit<Row>(db: Kysely<Database>, statement: PreparedStatement, parameters: readonly unknown[]): Promise<StatementResult<Row>> {
  const direct = (db as DirectRunner)[commitsWithStatement];
  if (direct) return direct.call(db, statement, parameters) as Promise<StatementResult<Row>>;
  return run<Row>(db, statement, parameters);
}

/**
 * pg's client, naming the registered statements. Kysely's PostgreSQL driver calls
 * `client.query(text, values)`; for a registered text this becomes `client.query({ name, text, values })`.
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
