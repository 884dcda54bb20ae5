import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { toAppError } from '../../src/http/errors.js';
import { createTestDatabase, engine, postgresAdminUrl, type TestDatabase } from '../helpers/harness.js';

/**
 * A PostgreSQL connection that dies while checked out of the pool (here: terminated by the
 * server in the middle of a transaction) must not crash the process with an unhandled
 * 'error' event; the failing query maps to a 503, and the pool serves the next query.
 * (The long profile also kills a whole PostgreSQL server: database-outage.test.ts.)
 */
describe('database connection loss', { skip: engine === 'postgres' ? false : 'PostgreSQL only' }, () => {
  let testDb: TestDatabase;
  let database: DatabaseHandle;
  let admin: pg.Client;
  let reportErrorSeen: (error: Error) => void;
  const errorSeen = new Promise<Error>((resolve) => (reportErrorSeen = resolve));

  before(async () => {
    testDb = await createTestDatabase();
    database = await openDatabase({ dataDir: testDb.dataDir, databaseUrl: testDb.databaseUrl, poolSize: 2, onPoolError: (error) => reportErrorSeen(error) });
    admin = new pg.Client({ connectionString: postgresAdminUrl });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await database.close();
    await testDb.drop();
  });

  test('a connection terminated inside a transaction: reported, 503 for that work, next query fine', { timeout: 30_000 }, async () => {
    let failure: unknown;
    try {
      await database.db.transaction().execute(async (tx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(tx);
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        await errorSeen; // the client emitted 'error' while checked out and idle: it must be listened to
        await sql`SELECT 1`.execute(tx);
      });
    } catch (error) {
      failure = error;
    }
    assert.ok(failure, 'the transaction failed');
    assert.equal(toAppError(failure).appError.status, 503, String(failure));
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(database.db);
    assert.equal(rows[0].one, 1);
  });
});
