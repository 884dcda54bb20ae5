import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Decimal } from 'decimal.js';
import {
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type Transaction,
} from 'kysely';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrate.js';
import { NamedStatementClient } from './prepared.js';
import { ConnectionLock, registerPostgresTransactions, registerSqliteTransactions, SqliteConnection } from './transaction.js';

export type Engine = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
export type DbOrTx = Db | Tx;

export interface DatabaseHandle {
  db: Db;
  engine: Engine;
  close(): Promise<void>;
  /** PostgreSQL pool usage (for metrics); undefined for the embedded engine's single connection. */
  poolStats?(): { total: number; idle: number; waiting: number; max: number };
}

/**
 * Kysely's driver for SQLite's one connection, sharing its lock (one caller at a time, a
 * transaction from BEGIN to COMMIT) with the write kernel's transactions (./transaction.ts).
 * Writers take the write lock when the transaction starts (BEGIN IMMEDIATE), so a transaction
 * that reads and then writes can never fail half-way with SQLITE_BUSY when another process (the
 * CLI, a second server) holds the database.
 */
class SqliteConnectionDriver implements Driver {
  constructor(
    private readonly connection: SqliteConnection,
    private readonly lock: ConnectionLock,
    private readonly closeDatabase: () => void,
  ) {}
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    await this.lock.lock();
    return this.connection;
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
  async releaseConnection(): Promise<void> {
    this.lock.unlock();
  }
  async destroy(): Promise<void> {
    this.closeDatabase();
  }
}

/**
 * SQLite's DDL is transactional; saying so makes Kysely's Migrator run all pending migrations in
 * one (BEGIN IMMEDIATE) transaction: all or nothing, and one process at a time.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class SqliteConnectionDialect extends SqliteDialect {
  constructor(private readonly driver: SqliteConnectionDriver) {
    // Kysely's own SQLite driver is never created (createDriver is overridden); its config is unused.
    super({ database: {} as never });
  }
  override createDriver(): Driver {
    return this.driver;
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

// pg returns BIGINT as a string by default; our BIGINTs (event sequence numbers) stay
// far below 2^53, so numbers are exact and easier to use. NUMERIC stays a string.
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/**
 * Kysely's SQLite driver prepares every query anew; preparing was 9% of the server's CPU in the
 * embedded update benchmark (bench/README.md). Statements are cached by SQL text, at most
 * `maxStatements` (oldest dropped first). A statement still being iterated (a stream) is busy,
 * so that caller gets a fresh one. SQLite re-prepares cached statements itself after a schema change.
 */
export function withStatementCache(sqlite: SqliteDatabase.Database, maxStatements = 500) {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(query: string): SqliteDatabase.Statement {
      const cached = statements.get(query);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(query);
      if (!cached) {
        if (statements.size >= maxStatements) statements.delete(statements.keys().next().value!);
        statements.set(query, statement);
      }
      return statement;
    },
  };
}

export interface OpenDatabaseOptions {
  dataDir: string;
  databaseUrl?: string;
  poolSize?: number;
  /** Called with errors of idle pooled connections (the server went away); never throws. */
  onPoolError?: (error: Error) => void;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 20,
      types: pgTypes,
      connectionTimeoutMillis: 5_000,
      // Sends the hot path's declared statements as named prepared statements (src/db/prepared.ts).
      Client: NamedStatementClient,
      // Lets the write kernel send BEGIN with its first statement (src/db/transaction.ts). Every
      // other caller awaits each query before the next, so for them nothing changes.
      pipeline: true,
    });
    // Without a listener an idle client's error (e.g. the server restarting) would crash the process.
    pool.on('error', (error) => options.onPoolError?.(error));
    // A checked-out client (e.g. inside a transaction) whose server goes away emits 'error' on the
    // client itself, where the pool's listener does not reach; the running query still fails and
    // the request is answered 503, so here the error only needs to be reported, not thrown.
    pool.on('connect', (client) => client.on('error', (error) => options.onPoolError?.(error)));
    const dialect = new PostgresDialect({ pool });
    const db = new Kysely<Database>({ dialect });
    registerPostgresTransactions(db, dialect, pool);
    await migrateToLatest(db, 'postgres');
    const max = options.poolSize ?? 20;
    return {
      db,
      engine: 'postgres',
      close: () => db.destroy(),
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max }),
    };
  }

  fs.mkdirSync(options.dataDir, { recursive: true });
  const file = path.join(options.dataDir, 'folio.sqlite');
  const sqlite = new SqliteDatabase(file);
  // WAL + synchronous=FULL: every commit is fsynced before it is acknowledged.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Exact comparison of TEXT amounts (-1, 0, 1); the invoice list uses it where a double could round.
  sqlite.function('decimal_cmp', { deterministic: true }, (a, b) => (a === null || b === null ? null : new Decimal(String(a)).comparedTo(String(b))));
  const statements = withStatementCache(sqlite);
  const lock = new ConnectionLock();
  const dialect = new SqliteConnectionDialect(new SqliteConnectionDriver(new SqliteConnection(statements), lock, statements.close));
  const db = new Kysely<Database>({ dialect });
  registerSqliteTransactions(db, dialect, sqlite, statements, lock);
  await migrateToLatest(db, 'sqlite');
  return { db, engine: 'sqlite', close: () => db.destroy() };
}

/** The engine-specific row lock for "read this row, then change it" inside a transaction. */
export function lockForUpdate<T extends { forUpdate(): T }>(engine: Engine, query: T): T {
  // SQLite has no row locks: BEGIN IMMEDIATE already made this transaction the only writer.
  return engine === 'postgres' ? query.forUpdate() : query;
}
