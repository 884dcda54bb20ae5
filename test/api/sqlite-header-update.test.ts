import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { sqliteIndexedInvoiceColumns } from '../../src/modules/invoices/write-store.js';
import { engine, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

// SQLite rewrites every index whose columns an UPDATE names in its SET list, whatever the values, so
// the kernel's header UPDATE names an indexed column only when the version changed it
// (src/modules/invoices/write-store.ts, `sqliteUpdateHeader`).

/** The SQL of every better-sqlite3 statement run while `work` runs (the whole process). */
async function traceStatements(work: () => Promise<unknown>): Promise<string[]> {
  const probe = new SqliteDatabase(':memory:');
  const statementPrototype = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  const traced: string[] = [];
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = statementPrototype[method];
    originals.set(method, original);
    statementPrototype[method] = function (this: { source: string }, ...args: unknown[]) {
      traced.push(this.source);
      return original.apply(this, args);
    };
  }
  try {
    await work();
    return traced;
  } finally {
    for (const [method, original] of originals) statementPrototype[method] = original;
  }
}

/** The columns the header UPDATE (the kernel's, on `invoices` with an old-version check) SETs. */
function headerUpdateSets(statements: string[]): string[] {
  const updates = statements.filter((text) => /^UPDATE invoices SET/.test(text) && text.includes('version = ?'));
  assert.equal(updates.length, 1, `one header UPDATE, got: ${updates.join('\n')}`);
  const setList = updates[0].slice('UPDATE invoices SET '.length, updates[0].indexOf(" WHERE "));
  return [...setList.matchAll(/(?:^|, )(\w+) = /g)].map((match) => match[1]);
}

describe('SQLite header UPDATE names only the indexed columns a version changed', { skip: engine !== 'sqlite' }, () => {
  let t: TestApp;
  let client: Client;
  before(async () => {
    t = await startTestApp();
    client = t.client(await t.key('sqlite-header-update'));
  });
  after(async () => t?.close());

  test('the list of indexed columns is the migrated schema’s', async () => {
    const indexes = await sql<{ name: string; sql: string | null }>`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'invoices'`.execute(t.database.db);
    const columns = (await sql<{ name: string }>`SELECT name FROM pragma_table_info('invoices')`.execute(t.database.db)).rows.map((row) => row.name);
    const indexed = new Set<string>();
    for (const index of indexes.rows) {
      const keyColumns = await sql<{ name: string | null }>`SELECT name FROM pragma_index_xinfo(${index.name})`.execute(t.database.db);
      for (const row of keyColumns.rows) if (row.name) indexed.add(row.name);
      // Expressions and partial indexes' WHERE name their columns only in the index's text.
      for (const column of columns) if (index.sql && new RegExp(`\\b${column}\\b`).test(index.sql)) indexed.add(column);
    }
    for (const key of ['tenant_id', 'id']) indexed.delete(key);
    assert.deepEqual([...sqliteIndexedInvoiceColumns].sort(), [...indexed].sort());
  });

  test('a PATCH of lines and the memo SETs updated_at and total but no other indexed column; later changes of indexed columns are found by their index', async () => {
    const created = expectStatus(
      await client.post('/v1/invoices', { currency: 'EUR', reference: 'HDR-1', due_date: '2026-12-31', lines: [{ description: 'Work', quantity: '1', unit_price: '10' }] }),
      201,
    );
    const lineId = created.lines[0].id;
    let etag = '';
    const statements = await traceStatements(async () => {
      const reply = await client.patch(`/v1/invoices/${created.id}`, { memo: 'changed', lines: [{ id: lineId, quantity: '3' }] }, { 'if-match': `"${created.version}"` });
      expectStatus(reply, 200);
      etag = String(reply.headers.etag);
    });
    const sets = headerUpdateSets(statements);
    const indexedSet = sets.filter((column) => (sqliteIndexedInvoiceColumns as readonly string[]).includes(column));
    assert.deepEqual(indexedSet.sort(), ['total', 'updated_at']);
    assert.ok(sets.includes('memo'), 'unindexed columns stay in the SET list');
    const lineUpdates = statements.filter((text) => text.startsWith('UPDATE invoice_lines'));
    assert.equal(lineUpdates.length, 1, 'one UPDATE for the one changed line');
    assert.match(lineUpdates[0], /WHERE tenant_id = \? AND invoice_id = \? AND id = \?$/, 'by primary key');

    // An indexed column that changes is SET, and its index finds the invoice under the new value only.
    const renamed = await traceStatements(async () => expectStatus(await client.patch(`/v1/invoices/${created.id}`, { reference: 'HDR-2', due_date: null }, { 'if-match': etag }), 200));
    assert.deepEqual(headerUpdateSets(renamed).filter((column) => (sqliteIndexedInvoiceColumns as readonly string[]).includes(column)).sort(), ['due_date', 'reference', 'updated_at']);
    assert.deepEqual(expectStatus(await client.get('/v1/invoices?reference=HDR-1'), 200).data, []);
    const found = expectStatus(await client.get('/v1/invoices?reference=HDR-2'), 200).data;
    assert.deepEqual(found.map((invoice: { id: string }) => invoice.id), [created.id]);
    assert.equal(found[0].due_date, null);
    assert.equal(found[0].memo, 'changed');
    assert.equal(found[0].total, '30.00');
    const integrity = await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(t.database.db);
    assert.deepEqual(integrity.rows, [{ integrity_check: 'ok' }]);
  });
});
