import type SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import {
  DummyDriver,
  SelectQueryNode,
  SingleConnectionProvider,
  Transaction,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Kysely,
  type QueryResult,
} from 'kysely';
import { commitsWithStatement, runsPreparedStatements, type PreparedStatement, type StatementResult } from './prepared.js';
import type { Database } from './schema.js';

/**
 * The write kernel's transactions (src/modules/invoices/versioning.ts), without Kysely's
 * per-transaction machinery on the hot path.
 *
 * `transaction(db, work)` checks out one connection (a pg client from the pool; on SQLite the one
 * connection, behind the same lock Kysely's queries take), runs BEGIN (SQLite: BEGIN IMMEDIATE),
 * `work`, then COMMIT, or ROLLBACK when `work` or COMMIT throws. `work` gets a real Kysely
 * `Transaction` bound to that connection, so the kernel's non-hot code keeps using Kysely in the
 * same transaction, and prepared statements (`run` in ./prepared.ts) go straight to the driver:
 * no query executor, connection provider or result transformation per statement, and on SQLite
 * no promise per statement inside the driver. After the end, the handle refuses every query.
 * A Kysely instance not opened by openDatabase falls back to `db.transaction()`.
 */

/** A driver connection owned by one transaction (or, for SQLite's shared connection, by the driver). */
abstract class OwnedConnection implements DatabaseConnection {
  #open = true;
  protected assertOpen(): void {
    if (!this.#open) throw new Error('Transaction is already committed or rolled back');
  }
  close(): void {
    this.#open = false;
  }
  abstract executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>>;
  abstract streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>>;
  abstract runPrepared<Row>(statement: PreparedStatement, parameters: readonly unknown[]): Promise<StatementResult<Row>>;
  /** The transaction's last statement; where the engine can, COMMIT goes out with it (else at the end, as usual). */
  runPreparedAndCommit<Row>(statement: PreparedStatement, parameters: readonly unknown[]): Promise<StatementResult<Row>> {
    return this.runPrepared<Row>(statement, parameters);
  }
}

const affectsRows = (command: string) => command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';

/**
 * One pg client for one transaction; the same results as Kysely's PostgreSQL connection.
 *
 * BEGIN is not a round trip of its own when the transaction's first statement is a prepared
 * SELECT (the kernel's lock): both go out in one write, and the statement's answer is awaited with
 * BEGIN's (the pool's clients run in pg's pipeline mode, which sends a query without waiting for
 * the previous one's answer; everything else awaits each query, so nothing else overlaps). pg
 * sends each query with its own Sync, so a statement that could write never goes out before
 * BEGIN's answer: had BEGIN failed, it would have committed on its own. A transaction that sends
 * no statement sends no BEGIN and no COMMIT.
 *
 * COMMIT is not a round trip of its own either when the work says which statement is its last
 * (`runPreparedAndCommit`, the kernel's write): both go out in one write. If that statement fails,
 * PostgreSQL has aborted the transaction and answers the COMMIT behind it as a ROLLBACK, so nothing
 * of it commits; a write that must not commit raises inside the statement itself (migration 0016).
 * After that, the connection refuses every statement: the transaction has ended. A transaction
 * whose last statement is also its first (the kernel's write with no lock, versioning.ts) sends
 * neither BEGIN nor COMMIT: that one statement is a transaction on its own.
 */
class PostgresConnection extends OwnedConnection {
  #state: 'not begun' | 'begun' | 'ended' = 'not begun';
  /**
   * Set when pg failed a statement before sending it (a parameter it cannot serialize). pg then
   * also closes that named statement on the server while still believing it prepared, so every
   * later use of the name on this client would fail: the pool must drop the client.
   */
  discard: Error | undefined;
  constructor(readonly client: pg.PoolClient) {
    super();
  }
  /** BEGIN was sent and the transaction has not ended: it needs its COMMIT or ROLLBACK. */
  get begun(): boolean {
    return this.#state === 'begun';
  }
  protected override assertOpen(): void {
    super.assertOpen();
    if (this.#state === 'ended') throw new Error('Transaction is already committed or rolled back');
  }
  /** Sends `query`, after BEGIN if this is the transaction's first: in the same write if `selectOnly`. */
  async #send<Row extends pg.QueryResultRow>(selectOnly: boolean, query: () => Promise<pg.QueryResult<Row>>): Promise<pg.QueryResult<Row>> {
    this.assertOpen();
    if (this.#state === 'begun') return query();
    this.#state = 'begun';
    if (!selectOnly) {
      await this.client.query('begin');
      return query();
    }
    const stream = this.client.connection.stream;
    stream.cork();
    let begin: Promise<unknown>;
    let statement: Promise<pg.QueryResult<Row>>;
    try {
      begin = this.client.query('begin');
      statement = query();
    } finally {
      stream.uncork();
    }
    // Either failing fails the transaction (a SELECT that ran without BEGIN changed nothing).
    return (await Promise.all([begin, statement]))[1];
  }
  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { command, rowCount, rows } = await this.#send(false, () => this.client.query(compiledQuery.sql, [...compiledQuery.parameters]));
    return { numAffectedRows: affectsRows(command) ? BigInt(rowCount ?? 0) : undefined, rows: (rows ?? []) as R[] };
  }
  // biome-ignore lint/correctness/useYield: no cursor is configured (as for Kysely's PostgreSQL dialect here), so streaming always refuses.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("'cursor' is not present in your postgres dialect config. It's required to make streaming work in postgres.");
  }
  async runPrepared<Row>(statement: PreparedStatement, parameters: readonly unknown[]): Promise<StatementResult<Row>> {
    try {
      return this.#answer<Row>(await this.#send(statement.selectOnly, () => this.#prepared(statement, parameters)));
    } catch (error) {
      if (!(error instanceof pg.DatabaseError)) this.discard ??= error as Error;
      throw error;
    }
  }
  override async runPreparedAndCommit<Row>(statement: PreparedStatement, parameters: readonly unknown[]): Promise<StatementResult<Row>> {
    if (this.#state === 'not begun') {
      // The transaction's only statement: one statement is atomic on its own, so it goes without
      // BEGIN and COMMIT (one round trip); if it fails, nothing of it was written.
      this.assertOpen();
      this.#state = 'ended';
      try {
        return this.#answer<Row>(await this.#prepared(statement, parameters));
      } catch (error) {
        if (!(error instanceof pg.DatabaseError)) this.discard ??= error as Error;
        throw error;
      }
    }
    // Inside a begun transaction: BEGIN's answer is in, so the statement cannot run on its own.
    if (this.#state !== 'begun') return this.runPrepared<Row>(statement, parameters);
    this.assertOpen();
    const stream = this.client.connection.stream;
    stream.cork();
    let written: Promise<pg.QueryResult<pg.QueryResultRow>>;
    let committed: Promise<unknown> | undefined;
    try {
      // pg answers a statement it could not even send (a parameter it cannot serialize) at once,
      // in the callback, and sends nothing of it: COMMIT must not follow, or everything before
      // it would commit without the write. The transaction stays begun, so it is rolled back.
      let answeredAtOnce = false;
      written = new Promise((resolve, reject) => {
        this.client.query({ name: statement.name, text: statement.sql, values: parameters as unknown[] }, (error: Error | undefined, result: pg.QueryResult) => {
          answeredAtOnce = true;
          if (error) reject(error);
          else resolve(result);
        });
      });
      if (!answeredAtOnce) {
        this.#state = 'ended';
        committed = this.client.query('commit');
      }
    } finally {
      stream.uncork();
    }
    if (committed === undefined) {
      this.discard = new Error(`${statement.name} could not be sent`);
      return this.#answer<Row>(await written);
    }
    // Both answers are awaited, so the client is idle again before it goes back to the pool.
    const [write, commit] = await Promise.allSettled([written, committed]);
    if (write.status === 'rejected') throw write.reason; // COMMIT was answered as ROLLBACK
    if (commit.status === 'rejected') throw commit.reason;
    return this.#answer<Row>(write.value);
  }
  #answer<Row>({ command, rowCount, rows }: pg.QueryResult<pg.QueryResultRow>): StatementResult<Row> {
    return { numAffectedRows: affectsRows(command) ? BigInt(rowCount ?? 0) : undefined, rows: rows as Row[] };
  }
  #prepared(statement: PreparedStatement, parameters: readonly unknown[]): Promise<pg.QueryResult<pg.QueryResultRow>> {
    return this.client.query({ name: statement.name, text: statement.sql, values: parameters as unknown[] });
  }
}

/** better-sqlite3 statements prepared once per SQL text (withStatementCache in ./database.ts). */
export interface StatementCache {
  prepare(sql: string): SqliteDatabase.Statement;
}

function runSqlite<Row>(statements: StatementCache, sql: string, parameters: readonly unknown[]): StatementResult<Row> & { insertId?: bigint } {
  const statement = statements.prepare(sql);
  if (statement.reader) return { rows: statement.all(parameters) as Row[] };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}

/** SQLite's one connection; the same results as Kysely's SQLite connection, prepared through the cache. */
export class SqliteConnection extends OwnedConnection {
  constructor(readonly statements: StatementCache) {
    super();
  }
  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      this.assertOpen();
      return Promise.resolve(runSqlite<R>(this.statements, compiledQuery.sql, compiledQuery.parameters));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    this.assertOpen();
    if (!SelectQueryNode.is(compiledQuery.query)) throw new Error('Sqlite driver only supports streaming of select queries');
    for (const row of this.statements.prepare(compiledQuery.sql).iterate(compiledQuery.parameters)) yield { rows: [row as R] };
  }
  runPrepared<Row>(statement: PreparedStatement, parameters: readonly unknown[]): Promise<StatementResult<Row>> {
    try {
      this.assertOpen();
      return Promise.resolve(runSqlite<Row>(this.statements, statement.sql, parameters));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** Who waits for SQLite's connection: the write kernel's transactions may share one SQLite transaction (group commit); nobody else may see one. */
export type LockHolder = 'kernel' | 'other';

/**
 * SQLite's one connection is used by one caller at a time (a transaction holds it from BEGIN to
 * COMMIT): the lock Kysely's driver and the kernel's transactions share. FIFO; an uncontended
 * lock is taken without waiting. Each waiter says who it is, so the kernel can see whether the
 * next holder may join its open transaction.
 */
export class ConnectionLock {
  #held = false;
  readonly #waiting: { holder: LockHolder; resolve: () => void }[] = [];
  tryLock(): boolean {
    if (this.#held) return false;
    this.#held = true;
    return true;
  }
  lock(holder: LockHolder = 'other'): Promise<void> {
    if (this.tryLock()) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ holder, resolve }));
  }
  /** Who gets the lock at the next unlock (undefined: nobody is waiting). */
  get next(): LockHolder | undefined {
    return this.#waiting[0]?.holder;
  }
  unlock(): void {
    const next = this.#waiting.shift();
    // Handed straight to the next waiter (still held), so no one can take it in between.
    if (next) next.resolve();
    else this.#held = false;
  }
}

/** The transaction handed to the kernel's work: a Kysely Transaction on the connection, plus direct prepared statements. */
class KernelTransaction extends Transaction<Database> {
  readonly #connection: OwnedConnection;
  constructor(db: Kysely<Database>, dialect: Dialect, connection: OwnedConnection) {
    super({ config: { dialect }, dialect, driver: new DummyDriver(), executor: db.getExecutor().withConnectionProvider(new SingleConnectionProvider(connection)) });
    this.#connection = connection;
  }
  override startTransaction(): never {
    throw new Error('calling the startTransaction method for a Transaction is not supported');
  }
  [runsPreparedStatements]<Row>(statement: PreparedStatement, parameters: readonly unknown[]): Promise<StatementResult<Row>> {
    return this.#connection.runPrepared<Row>(statement, parameters);
  }
  [commitsWithStatement]<Row>(statement: PreparedStatement, parameters: readonly unknown[]): Promise<StatementResult<Row>> {
    return this.#connection.runPreparedAndCommit<Row>(statement, parameters);
  }
}

type Work<T> = (tx: Transaction<Database>) => Promise<T>;

interface TransactionSource {
  run<T>(work: Work<T>): Promise<T>;
}

const sources = new WeakMap<Kysely<Database>, TransactionSource>();

/** Runs `work` in one transaction on one connection: COMMIT when it returns, ROLLBACK when it (or COMMIT) throws. */
export function transaction<T>(db: Kysely<Database>, work: Work<T>): Promise<T> {
  const source = sources.get(db);
  return source ? source.run(work) : db.transaction().execute(work);
}

export function registerPostgresTransactions(db: Kysely<Database>, dialect: Dialect, pool: pg.Pool): void {
  sources.set(db, {
    async run<T>(work: Work<T>): Promise<T> {
      const client = await pool.connect();
      const connection = new PostgresConnection(client);
      /** Set when ROLLBACK failed: the client's state is unknown, so the pool drops it. */
      let unusable: Error | undefined;
      try {
        const result = await work(new KernelTransaction(db, dialect, connection));
        // Not when COMMIT already went out with the work's last statement (or nothing was sent).
        if (connection.begun) await client.query('commit');
        return result;
      } catch (error) {
        try {
          // Also after a failed BEGIN or COMMIT: outside a transaction ROLLBACK only warns. Not
          // after a COMMIT sent with the last statement: that transaction has ended either way.
          if (connection.begun) await client.query('rollback');
        } catch (rollbackError) {
          unusable = rollbackError as Error;
        }
        throw error;
      } finally {
        connection.close();
        client.release(unusable ?? connection.discard);
      }
    },
  });
}

/**
 * Group commit's bounds: a batch takes no further member once it has this many, or once its first
 * member finished this long ago, so a stream of writers never holds back the first one's answer
 * for longer than about this (plus one member's work and the COMMIT). A member's work is ~0.3 ms
 * and a COMMIT (WAL fsync) 0.3 ms to a few ms: beyond a handful of members the fsync saved per
 * member is small, while each extra member adds its work to everyone's wait.
 */
export const groupCommitBounds = { members: 32, ageMs: 5 };

/** One SQLite transaction shared by kernel transactions, each in its own savepoint but the first. */
interface Batch {
  startedAt: number;
  /** Settles each member's promise once the batch ended: COMMIT succeeded (undefined) or the batch failed. */
  readonly members: ((failure: { error: unknown } | undefined) => void)[];
  /** Why SQLite rolled the whole transaction back on its own (e.g. SQLITE_FULL), if it did. */
  lost?: { error: unknown };
}

type Outcome<T> = { value: T } | { error: unknown };

const nextTurnOfEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The kernel's transactions on SQLite, with group commit: the one connection runs one
 * transaction at a time, and a COMMIT (WAL, synchronous=FULL) is an fsync that blocks the event
 * loop. When a kernel transaction's work is done and the next waiter for the connection is
 * another kernel transaction, the SQLite transaction stays open and the next one runs inside it,
 * in a SAVEPOINT (rolled back alone if its work throws); one COMMIT ends the batch when no kernel
 * transaction waits, or the batch reached its bounds (`groupCommitBounds`). Every member's promise
 * settles only after that COMMIT: nothing is answered before it is durable, nor from a state that
 * was never committed (a member whose work threw is rejected with its error then). If COMMIT
 * fails, or SQLite rolled the transaction back on its own, every member is rejected.
 *
 * Anyone else waiting for the connection (Kysely's queries and transactions) gets it only after
 * the batch committed, so never sees its uncommitted writes. The batch's first member runs in the
 * transaction itself (its savepoint would be the same thing: nothing else is in it yet), so a lone
 * transaction is BEGIN IMMEDIATE, its statements, COMMIT, as without batching.
 *
 * Requests reach the kernel one at a time (on SQLite a request's statements never wait for I/O,
 * so one request runs from its socket's read to its COMMIT without yielding), so a transaction
 * that finds nobody waiting lets the event loop turn once (setImmediate) before its COMMIT:
 * requests already read from their sockets reach the lock and join. Idle, that turn is a few
 * microseconds.
 */
export function registerSqliteTransactions(
  db: Kysely<Database>,
  dialect: Dialect,
  sqlite: SqliteDatabase.Database,
  statements: StatementCache,
  lock: ConnectionLock,
  bounds: { members: number; ageMs: number } = groupCommitBounds,
): void {
  // Prepared once, outside the cache, so no eviction ever re-prepares them.
  const begin = sqlite.prepare('begin immediate');
  const commit = sqlite.prepare('commit');
  const rollback = sqlite.prepare('rollback');
  const savepoint = sqlite.prepare('savepoint folio_member');
  const release = sqlite.prepare('release folio_member');
  const rollbackToSavepoint = sqlite.prepare('rollback to folio_member');
  /** The batch whose transaction is open while the lock passes from one kernel transaction to the next. */
  let open: Batch | undefined;

  const mayGrow = (batch: Batch) => batch.members.length < bounds.members && performance.now() - batch.startedAt < bounds.ageMs;

  /** Runs `work` in the batch's open transaction, in a savepoint: on failure only its own writes are undone. */
  async function runMember<T>(batch: Batch, work: Work<T>, connection: SqliteConnection): Promise<Outcome<T>> {
    try {
      savepoint.run();
      const value = await work(new KernelTransaction(db, dialect, connection));
      release.run();
      return { value };
    } catch (error) {
      if (sqlite.inTransaction) {
        try {
          rollbackToSavepoint.run();
          release.run();
        } catch (rollbackError) {
          batch.lost = { error: rollbackError };
        }
      } else {
        batch.lost = { error };
      }
      return { error };
    }
  }

  /** Ends the batch: COMMIT (or ROLLBACK if it is lost), then settles every member and passes the lock on. */
  function end(batch: Batch): void {
    let failure = batch.lost;
    if (!failure) {
      try {
        commit.run();
      } catch (error) {
        failure = { error };
      }
    }
    try {
      if (sqlite.inTransaction) rollback.run();
    } catch {
      // Every member is rejected already (`failure`); the next BEGIN reports a connection still in a transaction.
    }
    for (const settle of batch.members) settle(failure);
    lock.unlock();
  }

  /** After a member's turn: hand the open transaction to the next kernel transaction, or COMMIT. */
  async function endTurn(batch: Batch): Promise<void> {
    if (!batch.lost && !sqlite.inTransaction) batch.lost = { error: new Error('SQLite rolled the transaction back') };
    if (!batch.lost && mayGrow(batch) && lock.next === undefined) await nextTurnOfEventLoop();
    if (!batch.lost && mayGrow(batch) && lock.next === 'kernel') {
      open = batch;
      lock.unlock();
      return;
    }
    end(batch);
  }

  sources.set(db, {
    async run<T>(work: Work<T>): Promise<T> {
      if (!lock.tryLock()) await lock.lock('kernel');
      const joined = open;
      open = undefined;
      const connection = new SqliteConnection(statements);
      let batch: Batch;
      let outcome: Outcome<T>;
      if (joined) {
        batch = joined;
        outcome = await runMember(batch, work, connection);
        connection.close();
      } else {
        // The first member: BEGIN IMMEDIATE, and on failure ROLLBACK with nothing else in the transaction.
        try {
          begin.run();
          try {
            outcome = { value: await work(new KernelTransaction(db, dialect, connection)) };
          } catch (error) {
            // SQLite may already have rolled back (e.g. SQLITE_FULL), and ROLLBACK would then fail.
            if (sqlite.inTransaction) rollback.run();
            throw error;
          }
        } catch (error) {
          connection.close();
          lock.unlock();
          throw error;
        }
        connection.close();
        batch = { startedAt: performance.now(), members: [] };
      }
      const settled = new Promise<T>((resolve, reject) => {
        batch.members.push((failure) => {
          if (failure) reject(failure.error);
          else if ('error' in outcome) reject(outcome.error);
          else resolve(outcome.value);
        });
      });
      await endTurn(batch);
      return settled;
    },
  });
}
