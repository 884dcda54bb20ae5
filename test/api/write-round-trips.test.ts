import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { engine, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { multipartBody, pdfBytes } from '../helpers/multipart.js';
import { countSocketWrites } from '../helpers/socket-writes.js';
import { describeAll, installDriverTrace, isBegin, isCommit, trace, type Traced } from '../helpers/driver-trace.js';

/**
 * Counts what a PATCH sends to the database by tracing the drivers themselves, below Kysely:
 * every `pg.Client#query` (one round trip each: BEGIN and COMMIT included) and every run of a
 * better-sqlite3 statement (cached or not) or `exec`. The write path's budget (issue 18) on
 * PostgreSQL is 4 round trips: BEGIN, lock the invoice and then read what the rules need (one call
 * of `folio_invoice_lock_read`, migration 0015), one write statement, COMMIT; and since BEGIN goes out
 * in the same socket write as the lock-read, and COMMIT in the same write as the write statement (src/db/transaction.ts), 2 writes to the server, counted below.
 * That is the locked path, which every write takes when its process holds no base for the invoice:
 * these tests turn the write-base cache off; test/api/write-base-cache.test.ts tests the one-statement path.
 */
const transactions = (statements: Traced[]) => statements.filter((statement) => isBegin(statement.text)).length;

/** The statements from the write's BEGIN to its COMMIT (the last transaction of the request that wrote). */
function writeTransaction(statements: Traced[]): Traced[] {
  const writeIndex = statements.findIndex((statement) => /\b(update|insert)\b/i.test(statement.text) && /invoices|invoice_lines/i.test(statement.text));
  assert.ok(writeIndex >= 0, `no invoice write among: ${statements.map((statement) => statement.text.slice(0, 60)).join(' | ')}`);
  let begin = writeIndex;
  while (begin > 0 && !isBegin(statements[begin].text)) begin--;
  let end = writeIndex;
  while (end < statements.length - 1 && !isCommit(statements[end].text)) end++;
  return statements.slice(begin, end + 1);
}


let t: TestApp;
let api: Client;
let uninstall: (() => void)[] = [];

before(async () => {
  // No background workers: every statement traced during a request is the request's own.
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off', FOLIO_JOB_WORKER: 'off', FOLIO_WRITE_BASE_CACHE_LINES: '0' });
  api = t.client(await t.key('round-trips'));
  uninstall = [installDriverTrace()];
});
after(async () => {
  for (const undo of uninstall) undo();
  await t.close();
});

async function draftWithLines() {
  const lines = Array.from({ length: 10 }, (_, index) => ({ description: `Line ${index}`, quantity: '1', unit_price: `${10 + index}` }));
  return expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines }), 201);
}

/** The bench's PATCH: the memo and 3 of 10 lines, with If-Match. */
function benchPatch(invoice: { id: string; version: number; lines: { id: string }[] }, round: number, headers: Record<string, string> = {}) {
  const lineOperations = invoice.lines.slice(0, 3).map((line, index) => ({ op: 'update', id: line.id, quantity: String(round + index + 2) }));
  return api.patch(`/v1/invoices/${invoice.id}`, { memo: `round ${round}`, line_operations: lineOperations }, { 'if-match': `"${invoice.version}"`, ...headers });
}

/** The socket writes to the PostgreSQL server during `work` (BEGIN pipelined with the lock-read shares one). */
function postgresSocketWrites(work: () => Promise<unknown>): Promise<number> {
  const port = Number(new URL(process.env.DATABASE_URL ?? 'postgres://127.0.0.1:5432').port || 5432);
  return countSocketWrites(work, (socket) => socket.remotePort === port);
}

describe(`round trips of a PATCH (${engine})`, () => {
  test('a PATCH on PostgreSQL sends 2 writes to the server: BEGIN with the lock-read, the write statement with COMMIT', { skip: engine !== 'postgres' }, async () => {
    let invoice = await draftWithLines();
    invoice = expectStatus(await benchPatch(invoice, 1), 200); // warm: key lookup cached, statements prepared
    let current = invoice;
    const writes = await postgresSocketWrites(async () => {
      current = expectStatus(await benchPatch(invoice, 2), 200);
    });
    assert.equal(current.version, invoice.version + 1);
    assert.equal(writes, 2, 'BEGIN + lock-read in one write, then the write statement + COMMIT in one');
  });

  test('a PATCH (memo + 3 of 10 lines, If-Match) is 4 round trips on PostgreSQL, named prepared statements', async (context) => {
    let invoice = await draftWithLines();
    invoice = expectStatus(await benchPatch(invoice, 1), 200); // warm: key lookup cached, statements prepared
    let current = invoice;
    const statements = await trace(async () => {
      current = expectStatus(await benchPatch(invoice, 2), 200);
    });
    assert.equal(current.version, invoice.version + 1);
    const write = writeTransaction(statements);
    context.diagnostic(`${engine}: ${statements.length} statements in the request, ${write.length} in the write transaction:\n${describeAll(statements)}`);
    assert.equal(transactions(statements), 1, 'one transaction per PATCH');
    if (engine === 'postgres') {
      assert.ok(write.length <= 4, `at most 4 round trips for the write, got ${write.length}:\n${describeAll(write)}`);
      const unnamed = write.filter((statement) => !statement.name && !isBegin(statement.text) && !isCommit(statement.text));
      assert.deepEqual(unnamed, [], 'every statement of the write path is a named prepared statement');
    } else {
      // SQLite runs in process: the same logical steps, one cached statement each, but the changed
      // lines: one UPDATE each by primary key (in process that is cheaper than one joined with json_each).
      const lineUpdates = write.filter((statement) => /^UPDATE invoice_lines SET/.test(statement.text)).length;
      assert.equal(lineUpdates, 3, 'one UPDATE per changed line');
      assert.ok(write.length - lineUpdates <= 7, `at most 7 statements besides the line UPDATEs on SQLite, got ${write.length}:\n${describeAll(write)}`);
    }
  });

  test('a PATCH with an Idempotency-Key: claim, change and answer', async (context) => {
    let invoice = await draftWithLines();
    invoice = expectStatus(await benchPatch(invoice, 1, { 'idempotency-key': `warm-${invoice.id}` }), 200);
    const statements = await trace(async () => {
      expectStatus(await benchPatch(invoice, 2, { 'idempotency-key': `key-${invoice.id}` }), 200);
    });
    context.diagnostic(`${engine} with Idempotency-Key: ${statements.length} statements, ${transactions(statements)} transactions:\n${describeAll(statements)}`);
    const write = writeTransaction(statements);
    if (engine === 'postgres') {
      assert.ok(write.length <= 4, `at most 4 round trips for the write, got ${write.length}:\n${describeAll(write)}`);
      assert.deepEqual(statements.filter((statement) => !statement.name && !isBegin(statement.text) && !isCommit(statement.text)).map((statement) => statement.text), [], 'all named');
    }
    // One commit per request (three before: claim, change, answer): the key is looked up with one read,
    // then inserted by the change's own write statement; nothing is written after it.
    assert.equal(transactions(statements), 1, `one transaction:\n${describeAll(statements)}`);
    const outside = statements.filter((statement) => !write.includes(statement));
    assert.equal(outside.length, 1, `one read of the key besides the write, got:\n${describeAll(outside)}`);
    assert.match(outside[0].text, /^\s*select\b/i);
    const row = await t.database.db.selectFrom('idempotency_keys').selectAll().where('key', '=', `key-${invoice.id}`).executeTakeFirstOrThrow();
    assert.equal(row.state, 'committed');
    assert.equal(row.committed_resource, `invoice/${invoice.id}/${invoice.version + 1}`);
  });

  test('the write statement holds only the parts that have rows', { skip: engine !== 'postgres' }, async () => {
    // A data-modifying CTE costs PostgreSQL an executor node even when it writes nothing.
    const writeStatement = async (work: () => Promise<unknown>) => {
      const write = writeTransaction(await trace(work)).find((statement) => /^\s*with\b/i.test(statement.text));
      assert.ok(write?.name, 'a named write statement');
      return write;
    };
    const invoice = await draftWithLines();
    let current = invoice;
    const memoOnly = await writeStatement(async () => {
      current = expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'memo only' }), 200);
    });
    assert.doesNotMatch(memoOnly.text, /invoice_lines|invoice_attachments|webhook_deliveries|idempotency_keys/);
    const threeLines = await writeStatement(async () => {
      current = expectStatus(await benchPatch(current, 3), 200);
    });
    assert.match(threeLines.text, /UPDATE invoice_lines/);
    assert.doesNotMatch(threeLines.text, /DELETE FROM invoice_lines|INSERT INTO invoice_lines|invoice_attachments|webhook_deliveries|idempotency_keys/);
    const removed = current.lines[9].id;
    const addAndRemove = await writeStatement(async () => {
      current = expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { line_operations: [{ op: 'remove', id: removed }, { op: 'add', description: 'New', quantity: '2', unit_price: '7' }] }), 200);
    });
    assert.match(addAndRemove.text, /DELETE FROM invoice_lines/);
    assert.match(addAndRemove.text, /INSERT INTO invoice_lines/);
    assert.deepEqual(new Set([memoOnly.name, threeLines.name, addAndRemove.name]).size, 3, 'one named statement per set of parts');
    // What each variant wrote is what a read returns.
    const read = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(read.version, invoice.version + 3);
    assert.equal(read.memo, 'round 3');
    assert.deepEqual(read.lines, current.lines);
    assert.ok(!read.lines.some((line: { id: string }) => line.id === removed));
    assert.equal(read.lines.at(-1).description, 'New');
  });

  test('the lock-read function returns every column of the invoice\'s lines and attachments, as stored', { skip: engine !== 'postgres' }, async () => {
    // Its JSON lists the columns by name (migration 0015): a column added to either table needs a
    // migration that replaces the function, or the write path would drop that column's value.
    const invoice = await draftWithLines();
    const { headers, payload } = multipartBody({ filename: 'a.pdf', contentType: 'application/pdf', bytes: pdfBytes });
    const uploaded = await t.app.inject({ method: 'POST', url: `/v1/invoices/${invoice.id}/attachments`, headers: { authorization: `Bearer ${api.key}`, ...headers }, payload });
    assert.equal(uploaded.statusCode, 201, uploaded.body);
    const db = t.database.db;
    const { tenant_id: tenantId } = await db.selectFrom('invoices').select('tenant_id').where('id', '=', invoice.id).executeTakeFirstOrThrow();
    const read = (await sql<{ lines_json: string; attachments_json: string }>`SELECT lines_json, attachments_json FROM folio_invoice_lock_read(${tenantId}, ${invoice.id})`.execute(db)).rows[0];
    for (const [table, json, order] of [['invoice_lines', read.lines_json, 'position'], ['invoice_attachments', read.attachments_json, 'id']] as const) {
      const columns = await sql<{ name: string }>`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table}`.execute(db);
      const stored = (await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} WHERE invoice_id = ${invoice.id} ORDER BY ${sql.ref(order)}`.execute(db)).rows;
      const returned = JSON.parse(json) as Record<string, unknown>[];
      assert.ok(stored.length > 0);
      assert.deepEqual(Object.keys(returned[0]).sort(), columns.rows.map((column) => column.name).sort(), table);
      // Same values (NUMERIC as text, so no digit lost; bigint arrives as a number in JSON, text from pg).
      const asText = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value === null ? null : String(value)]));
      assert.deepEqual(returned.map(asText), stored.map(asText), table);
    }
  });

  test('a PATCH that changes nothing writes nothing', async () => {
    const invoice = await draftWithLines();
    const statements = await trace(async () => {
      expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: invoice.memo }), 200);
    });
    assert.equal(statements.filter((statement) => /^\s*(update|insert|with)\b/i.test(statement.text)).length, 0, describeAll(statements));
  });
});
