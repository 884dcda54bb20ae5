import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { countSocketWrites } from '../helpers/socket-writes.js';
import path from 'node:path';
import { openDatabase, type DatabaseHandle, type Tx } from '../../src/db/database.js';
import { prepare, run, runAndCommit } from '../../src/db/prepared.js';
import { transaction } from '../../src/db/transaction.js';
import { createTestDatabase, engine, type TestDatabase } from '../helpers/harness.js';

// The write kernel's transaction (src/db/transaction.ts): one connection from BEGIN to COMMIT,
// shared by Kysely queries and prepared statements run directly on the driver.

let testDb: TestDatabase;
let database: DatabaseHandle;

const placeholder = (n: number) => (engine === 'postgres' ? `$${n}` : '?');
const insertProbe = prepare('test_kernel_tx_insert', `INSERT INTO kernel_tx_probe (id, n) VALUES (${placeholder(1)}, ${placeholder(2)})`);
const countProbe = prepare('test_kernel_tx_count', `SELECT count(*) AS n FROM kernel_tx_probe WHERE id = ${placeholder(1)}`);
const connectionId = prepare('test_kernel_tx_backend', engine === 'postgres' ? 'SELECT pg_backend_pid() AS pid, txid_current() AS txid' : 'SELECT 1 AS pid, 1 AS txid');

const count = async (db: Tx | DatabaseHandle['db'], id: string) => Number((await run<{ n: number | string }>(db, countProbe, [id])).rows[0].n);
const rollsBack = new Error('roll back');

before(async () => {
  testDb = await createTestDatabase();
  database = await openDatabase({ dataDir: testDb.dataDir, databaseUrl: testDb.databaseUrl, poolSize: 2 });
  await sql`CREATE TABLE kernel_tx_probe (id TEXT PRIMARY KEY, n INTEGER NOT NULL)`.execute(database.db);
});
after(async () => {
  await database.close();
  await testDb.drop();
});

test('Kysely queries and prepared statements in the transaction share it: both see each other, and both commit', async () => {
  await transaction(database.db, async (tx) => {
    await run(tx, insertProbe, ['commit-a', 1]);
    await tx.insertInto('kernel_tx_probe' as never).values({ id: 'commit-b', n: 2 } as never).execute();
    assert.equal(await count(tx, 'commit-b'), 1, 'a prepared statement sees the Kysely insert');
    const viaKysely = await tx.selectFrom('kernel_tx_probe' as never).select(sql<number>`count(*)`.as('n')).where(sql.ref('id'), '=', 'commit-a').executeTakeFirstOrThrow();
    assert.equal(Number(viaKysely.n), 1, 'Kysely sees the prepared insert');
  });
  assert.equal(await count(database.db, 'commit-a'), 1);
  assert.equal(await count(database.db, 'commit-b'), 1);
});

test('a throw rolls back what both wrote, and the error comes out unchanged', async () => {
  await assert.rejects(
    transaction(database.db, async (tx) => {
      await run(tx, insertProbe, ['rollback-a', 1]);
      await tx.insertInto('kernel_tx_probe' as never).values({ id: 'rollback-b', n: 2 } as never).execute();
      throw rollsBack;
    }),
    (error) => error === rollsBack,
  );
  assert.equal(await count(database.db, 'rollback-a'), 0);
  assert.equal(await count(database.db, 'rollback-b'), 0);
});

test('one connection and one transaction for both kinds of query', { skip: engine !== 'postgres' }, async () => {
  await transaction(database.db, async (tx) => {
    const prepared = (await run<{ pid: number; txid: string }>(tx, connectionId, [])).rows[0];
    const viaKysely = (await sql<{ pid: number; txid: string }>`SELECT pg_backend_pid() AS pid, txid_current() AS txid`.execute(tx)).rows[0];
    assert.deepEqual(viaKysely, prepared);
  });
});

test('the handle refuses every query once the transaction has ended', async () => {
  let kept: Tx | undefined;
  await transaction(database.db, async (tx) => {
    kept = tx;
  });
  await assert.rejects(run(kept!, countProbe, ['x']), /already committed or rolled back/);
  await assert.rejects(kept!.selectFrom('kernel_tx_probe' as never).selectAll().execute(), /already committed or rolled back/);
});

test('a query outside never sees the transaction before it commits (SQLite: it waits for the one connection)', async () => {
  let outside: Promise<number> | undefined;
  await assert.rejects(
    transaction(database.db, async (tx) => {
      await run(tx, insertProbe, ['uncommitted', 1]);
      outside = count(database.db, 'uncommitted');
      await new Promise((resolve) => setTimeout(resolve, 30));
      throw rollsBack;
    }),
    (error) => error === rollsBack,
  );
  assert.equal(await outside, 0);
});

test('connections go back to the pool after failed transactions (more failures than the pool holds)', async () => {
  for (let attempt = 0; attempt < 5; attempt++) {
    await assert.rejects(transaction(database.db, async () => Promise.reject(rollsBack)), (error) => error === rollsBack);
    await assert.rejects(
      transaction(database.db, (tx) => run(tx, insertProbe, ['commit-a', 9])),
      (error: { code?: string }) => error.code === '23505' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY',
    );
  }
  await transaction(database.db, (tx) => run(tx, insertProbe, ['after-failures', 1]));
  assert.equal(await count(database.db, 'after-failures'), 1);
});

test('SQLite: the transaction holds the write lock from its start (BEGIN IMMEDIATE)', { skip: engine !== 'sqlite' }, async () => {
  const other = new SqliteDatabase(path.join(testDb.dataDir, 'folio.sqlite'));
  other.pragma('busy_timeout = 0');
  try {
    await transaction(database.db, async (tx) => {
      // Nothing written yet: only BEGIN IMMEDIATE can have taken the lock.
      await count(tx, 'none');
      assert.throws(() => other.exec('BEGIN IMMEDIATE'), (error: { code?: string }) => error.code === 'SQLITE_BUSY');
    });
    other.exec('BEGIN IMMEDIATE');
    other.exec('ROLLBACK');
  } finally {
    other.close();
  }
});

test('PostgreSQL: BEGIN goes out with a first SELECT in one write; before a first write statement it is answered first', { skip: engine !== 'postgres' }, async () => {
  assert.equal(await countSocketWrites(() => transaction(database.db, (tx) => count(tx, 'none'))), 2, 'BEGIN + SELECT, COMMIT');
  assert.equal(await countSocketWrites(() => transaction(database.db, (tx) => run(tx, insertProbe, ['pipelined-write', 1]))), 3, 'BEGIN, INSERT, COMMIT');
  assert.equal(await countSocketWrites(() => transaction(database.db, async () => 'nothing sent')), 0, 'a transaction without statements sends nothing');
  // A failing first SELECT: BEGIN was sent with it, so the transaction is rolled back and the client reused.
  const failing = prepare('test_kernel_tx_fails', 'SELECT 1 / (SELECT count(*) FROM kernel_tx_probe WHERE id = $1) AS n');
  for (let attempt = 0; attempt < 3; attempt++) await assert.rejects(transaction(database.db, (tx) => run(tx, failing, ['none'])), /division by zero/);
  assert.equal(await count(database.db, 'pipelined-write'), 1);
});

test('the last statement takes COMMIT with it: committed, and the transaction refuses anything after it', async () => {
  let refused: unknown;
  await transaction(database.db, async (tx) => {
    await run(tx, insertProbe, ['last-a', 1]);
    await runAndCommit(tx, insertProbe, ['last-b', 2]);
    // Committed already on PostgreSQL (the kernel's caller promised nothing follows); SQLite commits at the end.
    if (engine === 'postgres') assert.equal(await count(database.db, 'last-b'), 1, 'visible outside before the work returned');
    refused = await run(tx, insertProbe, ['after-last', 3]).then(() => undefined, (error: unknown) => error);
  });
  assert.equal(await count(database.db, 'last-a'), 1);
  assert.equal(await count(database.db, 'last-b'), 1);
  if (engine === 'postgres') {
    assert.match(String(refused), /already committed/, 'a statement after the last one is refused');
    assert.equal(await count(database.db, 'after-last'), 0);
  }
});

test('PostgreSQL: the last statement and COMMIT share one write; when it fails nothing of the transaction commits', { skip: engine !== 'postgres' }, async () => {
  const writes = await countSocketWrites(() =>
    transaction(database.db, async (tx) => {
      await count(tx, 'none');
      await runAndCommit(tx, insertProbe, ['one-write', 1]);
    }),
  );
  assert.equal(writes, 2, 'BEGIN + SELECT, then INSERT + COMMIT');
  assert.equal(await count(database.db, 'one-write'), 1);
  // The failing last statement: PostgreSQL aborts the transaction and answers the COMMIT behind it as a ROLLBACK.
  const failing = prepare('test_kernel_tx_last_fails', 'SELECT 2 / (SELECT count(*) FROM kernel_tx_probe WHERE id = $1) AS n');
  for (let attempt = 0; attempt < 3; attempt++) {
    await assert.rejects(
      transaction(database.db, async (tx) => {
        await run(tx, insertProbe, [`before-failed-last-${attempt}`, 1]);
        await runAndCommit(tx, failing, ['none']);
      }),
      /division by zero/,
    );
    assert.equal(await count(database.db, `before-failed-last-${attempt}`), 0, 'the earlier insert did not commit');
  }
  // A last statement pg cannot even send (a parameter it cannot serialize): COMMIT must not follow it.
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  await assert.rejects(
    transaction(database.db, async (tx) => {
      await run(tx, insertProbe, ['before-unsendable-last', 1]);
      await runAndCommit(tx, insertProbe, ['unsendable', circular]);
    }),
    /circular/i,
  );
  assert.equal(await count(database.db, 'before-unsendable-last'), 0, 'rolled back, not committed without its last statement');
  // The clients went back to the pool idle (pool of 2, three failures): the next transaction works.
  await transaction(database.db, (tx) => runAndCommit(tx, insertProbe, ['after-failed-last', 1]));
  assert.equal(await count(database.db, 'after-failed-last'), 1);
});
