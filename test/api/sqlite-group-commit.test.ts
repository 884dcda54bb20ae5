import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle, type Tx } from '../../src/db/database.js';
import { prepare, run } from '../../src/db/prepared.js';
import { groupCommitBounds, transaction } from '../../src/db/transaction.js';
import { installDriverTrace, trace as traceDrivers } from '../helpers/driver-trace.js';
import { createTestDatabase, engine, expectStatus, startTestApp, type TestDatabase } from '../helpers/harness.js';

// Group commit of the write kernel's transactions on SQLite (src/db/transaction.ts): kernel
// transactions that wait for the connection while one runs share its SQLite transaction, each in
// a savepoint, and one COMMIT; everyone else gets the connection only after that COMMIT.

let testDb: TestDatabase;
let database: DatabaseHandle;
/** A second connection to the same file: what it reads is committed (and, with synchronous=FULL, fsynced). */
let observer: SqliteDatabase.Database;

const insertProbe = prepare('test_group_commit_insert', 'INSERT INTO group_commit_probe (id) VALUES (?)');
const committedIds = () => (observer.prepare('SELECT id FROM group_commit_probe ORDER BY id').all() as { id: string }[]).map((row) => row.id);
const insert = (tx: Tx, id: string) => run(tx, insertProbe, [id]);
const write = (id: string) =>
  transaction(database.db, async (tx) => {
    await insert(tx, id);
    return id;
  });

/** The SQL of every statement run, lower case, in order (the whole process: the test's observer included). */
const trace = async (work: () => Promise<unknown>) => (await traceDrivers(work)).map((statement) => statement.text.toLowerCase());
const commits = (statements: string[]) => statements.filter((text) => text === 'commit').length;
const begins = (statements: string[]) => statements.filter((text) => text === 'begin immediate').length;
const settledAll = (promises: Promise<unknown>[]) => Promise.allSettled(promises);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

let uninstallTrace: () => void = () => {};
before(() => {
  if (engine === 'sqlite') uninstallTrace = installDriverTrace();
});
after(() => uninstallTrace());

describe('SQLite group commit of the write kernel', { skip: engine !== 'sqlite' }, () => {
  before(async () => {
    testDb = await createTestDatabase();
    database = await openDatabase({ dataDir: testDb.dataDir });
    await sql`CREATE TABLE group_commit_probe (id TEXT PRIMARY KEY)`.execute(database.db);
    await sql`CREATE TABLE group_commit_parent (id TEXT PRIMARY KEY)`.execute(database.db);
    // Checked at COMMIT: the one way a COMMIT of a healthy connection fails.
    await sql`CREATE TABLE group_commit_child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES group_commit_parent (id) DEFERRABLE INITIALLY DEFERRED)`.execute(database.db);
    observer = new SqliteDatabase(path.join(testDb.dataDir, 'folio.sqlite'), { readonly: true });
  });
  after(async () => {
    groupCommitBounds.ageMs = ageMs;
    observer?.close();
    await database?.close();
    await testDb?.drop();
  });
  const ageMs = groupCommitBounds.ageMs;
  beforeEach(async () => {
    await sql`DELETE FROM group_commit_probe`.execute(database.db);
    // No batch ends for its age here (a slow machine must not change the counts), but in the test of the bound.
    groupCommitBounds.ageMs = Number.POSITIVE_INFINITY;
  });

  test('concurrent kernel transactions share one COMMIT, and each is durable when its promise resolves', async () => {
    const ids = Array.from({ length: 8 }, (_, index) => `batch-${index}`);
    const seenAtResolution = new Map<string, string[]>();
    const statements = await trace(() => Promise.all(ids.map((id) => write(id).then((value) => seenAtResolution.set(value, committedIds())))));
    assert.equal(begins(statements), 1, 'one BEGIN IMMEDIATE');
    assert.equal(commits(statements), 1, 'one COMMIT for 8 transactions');
    assert.equal(statements.filter((text) => text === 'savepoint folio_member').length, 7, 'every member but the first in its own savepoint');
    for (const id of ids) assert.ok(seenAtResolution.get(id)?.includes(id), `${id} is committed (another connection reads it) when its promise resolves`);
    assert.deepEqual(committedIds(), ids);
  });

  test('a member that throws in the middle of a batch leaves no trace; the others commit', async () => {
    const fails = new Error('member fails');
    const statements = await trace(async () => {
      const results = await settledAll([
        write('keep-1'),
        transaction(database.db, async (tx) => {
          await insert(tx, 'gone-1');
          await tx.insertInto('group_commit_probe' as never).values({ id: 'gone-2' } as never).execute();
          throw fails;
        }),
        write('keep-2'),
      ]);
      assert.deepEqual(
        results.map((result) => result.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal((results[1] as PromiseRejectedResult).reason, fails, 'the member gets its own error');
    });
    assert.equal(commits(statements), 1, 'still one batch');
    assert.ok(statements.includes('rollback to folio_member'), "the failing member's savepoint is rolled back");
    assert.ok(!statements.includes('rollback'), 'not the transaction');
    assert.deepEqual(committedIds(), ['keep-1', 'keep-2']);
  });

  test('a Kysely read queued between kernel transactions runs after their COMMIT and sees exactly what is committed', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let read: { rows: string[]; committed: string[] } | undefined;
    const statements = await trace(async () => {
      const first = transaction(database.db, async (tx) => {
        await insert(tx, 'a');
        await gate; // holds the connection until the others queued: b, then the read, then c
        return 'a';
      });
      const second = write('b');
      const reading = (async () => {
        const rows = await database.db.selectFrom('group_commit_probe' as never).select(sql<string>`id`.as('id')).orderBy(sql`id`).execute();
        // Still synchronous with the read's statement: nothing ran on the connection in between.
        read = { rows: rows.map((row) => (row as { id: string }).id), committed: committedIds() };
      })();
      for (let turn = 0; turn < 3; turn++) await nextTurn(); // the read reaches the lock's queue
      const third = write('c');
      open();
      await Promise.all([first, second, reading, third]);
    });
    // Without the commit before handing the connection over, the read would see a and b uncommitted.
    assert.deepEqual(read, { rows: ['a', 'b'], committed: ['a', 'b'] });
    const readAt = statements.findIndex((text) => text.includes('from "group_commit_probe"'));
    assert.ok(readAt > 0 && statements.slice(0, readAt).includes('commit'), 'the read comes after a COMMIT');
    assert.equal(commits(statements), 2, 'a + b, then c (behind the read) in a batch of its own');
    assert.deepEqual(committedIds(), ['a', 'b', 'c']);
  });

  test('a failing COMMIT rejects every member of the batch, and the connection carries on', async () => {
    const results = await settledAll([
      write('fk-1'),
      transaction(database.db, async (tx) => {
        // A deferred foreign key: the statement succeeds, the COMMIT fails.
        await tx.insertInto('group_commit_child' as never).values({ id: 'orphan', parent_id: 'missing' } as never).execute();
      }),
      write('fk-2'),
    ]);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.match(String((result as PromiseRejectedResult).reason), /FOREIGN KEY constraint failed/);
    }
    assert.deepEqual(committedIds(), []);
    assert.equal(await write('after'), 'after', 'the next transaction begins afresh');
    assert.deepEqual(committedIds(), ['after']);
  });

  /** Runs `work` with the database file limited to a few more pages than it has: a big write fails with SQLITE_FULL, and SQLite rolls back the transaction. */
  async function nearlyFull(work: () => Promise<void>) {
    const pages = Number((await sql<{ page_count: number }>`PRAGMA page_count`.execute(database.db)).rows[0].page_count);
    await sql.raw(`PRAGMA max_page_count = ${pages + 4}`).execute(database.db);
    try {
      await work();
    } finally {
      await sql.raw('PRAGMA max_page_count = 1073741823').execute(database.db);
    }
  }
  const fillUp = async (tx: Tx) => {
    for (let row = 0; row < 100; row++) await insert(tx, `big-${row}-${'x'.repeat(3000)}`);
  };

  test('when SQLite rolls the whole transaction back (SQLITE_FULL), every member of the batch is rejected', async () => {
    await nearlyFull(async () => {
      const batch = [
        write('full-1'),
        transaction(database.db, fillUp),
      ];
      const later = write('full-after'); // queued behind the failing member: begins a transaction of its own
      const results = await settledAll(batch);
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        assert.equal(((result as PromiseRejectedResult).reason as { code?: string }).code, 'SQLITE_FULL');
      }
      assert.equal(await later, 'full-after');
      assert.deepEqual(committedIds(), ['full-after'], 'full-1 was rolled back with the batch');
    });
  });

  test('a transaction that swallows the error of its rolled-back SQLite transaction is rejected, and the next begins afresh', async () => {
    await nearlyFull(async () => {
      const swallows = transaction(database.db, async (tx) => {
        await insert(tx, 'swallowed-1');
        await fillUp(tx).catch(() => undefined);
        return 'returns as if nothing happened';
      });
      // Handed the lost batch, its savepoint would begin a new transaction, and its COMMIT would answer the first as committed.
      const next = write('swallowed-2');
      await assert.rejects(swallows, /rolled the transaction back/);
      assert.equal(await next, 'swallowed-2');
      assert.deepEqual(committedIds(), ['swallowed-2']);
    });
  });

  test('a transaction that arrives in a later turn of the event loop joins (as a request read from its socket does)', async () => {
    const statements = await trace(async () => {
      // Queued before the first transaction starts: it runs while the first one lets the event loop turn before COMMIT.
      const later = new Promise<string>((resolve, reject) => setImmediate(() => write('turn-2').then(resolve, reject)));
      await Promise.all([write('turn-1'), later]);
    });
    assert.equal(commits(statements), 1);
    assert.deepEqual(committedIds(), ['turn-1', 'turn-2']);
  });

  test('without contention: BEGIN IMMEDIATE, the statements, COMMIT, per transaction', async () => {
    const statements = await trace(async () => {
      for (const id of ['alone-1', 'alone-2', 'alone-3']) {
        await write(id);
        assert.ok(committedIds().includes(id));
      }
    });
    const mine = statements.filter((text) => !text.startsWith('select id from group_commit_probe'));
    const one = ['begin immediate', 'insert into group_commit_probe (id) values (?)', 'commit'];
    assert.deepEqual(mine, [...one, ...one, ...one]);
  });

  test('a batch takes at most groupCommitBounds.members members, and none once its first finished ageMs ago', async () => {
    const many = Array.from({ length: groupCommitBounds.members + 3 }, (_, index) => `m-${String(index).padStart(2, '0')}`);
    const bounded = await trace(() => Promise.all(many.map(write)));
    assert.equal(commits(bounded), 2, `${groupCommitBounds.members} in the first batch, 3 in the next`);
    groupCommitBounds.ageMs = 0;
    const aged = await trace(() => Promise.all(['age-1', 'age-2', 'age-3'].map(write)));
    assert.equal(commits(aged), 3, 'a batch already too old takes nobody');
    assert.equal(committedIds().length, many.length + 3);
  });
});

describe('SQLite group commit under the write kernel: concurrent PATCHes, a dry run and a stale If-Match', { skip: engine !== 'sqlite' }, () => {
  test('each answer comes after its COMMIT; the dry run and the 412 leave no trace; the batch commits once', async () => {
    const testApp = await startTestApp();
    const reader = new SqliteDatabase(path.join(testApp.testDb.dataDir, 'folio.sqlite'), { readonly: true });
    const ageMs = groupCommitBounds.ageMs;
    groupCommitBounds.ageMs = Number.POSITIVE_INFINITY;
    try {
      const api = testApp.client(await testApp.key('group-commit'));
      const versionOf = (id: string) => (reader.prepare('SELECT version, memo FROM invoices WHERE id = ?').get(id) as { version: number; memo: string | null });
      const invoices = [];
      for (let n = 0; n < 6; n++) invoices.push(expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Line', quantity: '1', unit_price: '10' }] }), 201));
      const [dry, stale, ...written] = invoices;
      const seen = new Map<string, { version: number; memo: string | null }>();
      const patch = (invoice: { id: string; version: number }, query = '', ifMatch = invoice.version) =>
        api.patch(`/v1/invoices/${invoice.id}${query}`, { memo: `memo of ${invoice.id}` }, { 'if-match': `"${ifMatch}"` }).then((reply) => {
          seen.set(invoice.id, versionOf(invoice.id));
          return reply;
        });
      const statements = await trace(async () => {
        const replies = await Promise.all([...written.slice(0, 2).map((invoice) => patch(invoice)), patch(dry, '?dry_run=true'), patch(stale, '', stale.version + 5), ...written.slice(2).map((invoice) => patch(invoice))]);
        assert.deepEqual(
          replies.map((reply) => reply.status),
          [200, 200, 200, 412, 200, 200],
        );
      });
      assert.equal(commits(statements), 1, 'one COMMIT for the six PATCHes');
      assert.equal(statements.filter((text) => text === 'rollback to folio_member').length, 2, 'the dry run and the 412 undo their own savepoints');
      for (const invoice of written) assert.deepEqual(seen.get(invoice.id), { version: invoice.version + 1, memo: `memo of ${invoice.id}` }, 'committed when answered');
      for (const invoice of [dry, stale]) assert.deepEqual(versionOf(invoice.id), { version: invoice.version, memo: null }, 'nothing written');
    } finally {
      groupCommitBounds.ageMs = ageMs;
      reader.close();
      await testApp.close();
    }
  });
});
