import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import SqliteDatabase from 'better-sqlite3';
import { openDatabase } from '../../src/db/database.js';
import { migrations } from '../../src/db/migrations/index.js';
import { splitStatements } from '../../src/db/migrations/sql-migration.js';
import { assertClientTotals } from '../../src/modules/invoices/domain/client-totals.js';
import { createTestDatabase, engine, expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let t: TestApp;
let api: Client;
let other: Client;
let admin: Client;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  api = t.client(await t.key('core-a'));
  admin = t.client(await t.key('core-a', ['admin']));
  other = t.client(await t.key('core-b'));
});
after(() => t.close());

const draftBody = (extra: Record<string, unknown> = {}) => ({ currency: 'EUR', lines: [{ description: 'Work', quantity: 1, unit_price: '10.00' }], ...extra });

describe('identifiers: guid, serial, lookup', () => {
  test('every invoice and line gets a UUID; serials count 1, 2, 3… per tenant; the guid works as a path id', async () => {
    const first = expectStatus(await api.post('/v1/invoices', draftBody()), 201);
    const second = expectStatus(await api.post('/v1/invoices', draftBody()), 201);
    const elsewhere = expectStatus(await other.post('/v1/invoices', draftBody()), 201);
    assert.match(first.guid, uuid);
    assert.match(first.lines[0].guid, uuid);
    assert.notEqual(first.guid, second.guid);
    assert.equal(second.serial, first.serial + 1);
    assert.equal(elsewhere.serial, 1, "another tenant's serials start at 1");
    const byGuid = expectStatus(await api.get(`/v1/invoices/${first.guid}`), 200);
    assert.equal(byGuid.id, first.id);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${first.guid.toUpperCase()}`), 200).id, first.id);
    const patched = expectStatus(await api.patch(`/v1/invoices/${first.guid}`, { memo: 'by guid' }), 200);
    assert.equal(patched.guid, first.guid);
    assert.equal(patched.serial, first.serial);
    expectProblem(await other.get(`/v1/invoices/${first.guid}`), 404, 'not-found');
    // A line keeps its guid across updates; an added line gets a new one.
    const withLine = expectStatus(await api.patch(`/v1/invoices/${first.id}`, { line_operations: [{ op: 'update', id: first.lines[0].id, quantity: 2 }, { op: 'add', unit_price: 1 }] }), 200);
    assert.equal(withLine.lines[0].guid, first.lines[0].guid);
    assert.match(withLine.lines[1].guid, uuid);
    // The list filters by both.
    const listed = expectStatus(await api.get(`/v1/invoices?serial=${second.serial}`), 200).data;
    assert.deepEqual(listed.map((invoice: any) => invoice.id), [second.id]);
    assert.deepEqual(expectStatus(await api.get(`/v1/invoices?guid=${second.guid}`), 200).data.map((invoice: any) => invoice.id), [second.id]);
  });

  test('lookup by exactly one of id, guid, serial, number, reference; else a clear 400; unknown and foreign → 404', async () => {
    const invoice = expectStatus(await api.post('/v1/invoices', draftBody({ number: 'LK-1', reference: 'RF-LOOKUP-1' })), 201);
    for (const query of [`id=${invoice.id}`, `guid=${invoice.guid}`, `serial=${invoice.serial}`, 'number=LK-1', 'reference=RF-LOOKUP-1']) {
      const found = expectStatus(await api.get(`/v1/invoices/lookup?${query}`), 200);
      assert.equal(found.id, invoice.id, query);
    }
    const none = expectProblem(await api.get('/v1/invoices/lookup'), 400, 'validation-error');
    assert.match(none.errors[0].detail, /exactly one of id, guid, serial, number, reference/);
    const two = expectProblem(await api.get(`/v1/invoices/lookup?number=LK-1&serial=${invoice.serial}`), 400, 'validation-error');
    assert.deepEqual(two.errors.map((error: any) => error.pointer), ['/query/serial', '/query/number']);
    expectProblem(await api.get('/v1/invoices/lookup?serial=abc'), 400, 'validation-error');
    expectProblem(await api.get('/v1/invoices/lookup?guid=not-a-uuid'), 400, 'validation-error');
    expectProblem(await api.get('/v1/invoices/lookup?number=NOPE'), 404, 'not-found');
    expectProblem(await other.get('/v1/invoices/lookup?number=LK-1'), 404, 'not-found');
    expectProblem(await other.get(`/v1/invoices/lookup?guid=${invoice.guid}`), 404, 'not-found');
    expectStatus(await api.post('/v1/invoices', draftBody({ reference: 'RF-LOOKUP-1' })), 201);
    expectProblem(await api.get('/v1/invoices/lookup?reference=RF-LOOKUP-1'), 409, 'conflict');
  });

  test('0005 backfills guids and per-tenant serials in creation order, and the serial counter continues after them', async () => {
    const testDb = await createTestDatabase();
    const older = (await import('../../src/modules/invoices/store.js')).invoiceToRow;
    const statements: string[] = [];
    // A database as release 0.1 left it (0001–0004, recorded in schema_migrations, which is adopted at start).
    const before0005 = Object.entries(migrations).filter(([name]) => name < '0005');
    for (const [, migration] of before0005) statements.push(...splitStatements(migration[engine]));
    statements.push('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const [name] of before0005) statements.push(`INSERT INTO schema_migrations VALUES ('${name}', 'x')`);
    statements.push("INSERT INTO tenants (id, name, base_currency, edit_policy, invoice_number_prefix, created_at) VALUES ('ten_a', 'A', 'EUR', 'until_paid', 'INV-', 'x'), ('ten_b', 'B', 'EUR', 'until_paid', 'INV-', 'x')");
    const rows: Array<[string, string, string]> = [['ten_a', 'inv_3', '2026-01-01T00:00:00.000Z'], ['ten_a', 'inv_1', '2026-01-03T00:00:00.000Z'], ['ten_a', 'inv_2', '2026-01-02T00:00:00.000Z'], ['ten_b', 'inv_9', '2026-01-05T00:00:00.000Z']];
    for (const [tenant, id, createdAt] of rows) {
      const { guid: _g, serial: _s, ...row } = older(tenant, { ...(await blankInvoice()), id, created_at: createdAt, updated_at: createdAt });
      const columns = Object.keys(row);
      const values = Object.values(row).map((value) => (value === null ? 'NULL' : typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`));
      statements.push(`INSERT INTO invoices (${columns.join(', ')}) VALUES (${values.join(', ')})`);
    }
    statements.push("INSERT INTO invoice_lines (tenant_id, invoice_id, id, position, quantity, unit_price, amount_before_discount, discount_amount, net_amount, tax_amount, gross_amount) VALUES ('ten_a', 'inv_1', 'lin_1', 1, '1', '1', '1', '0', '1', '0', '1')");
    if (engine === 'postgres') {
      const client = new pg.Client({ connectionString: testDb.databaseUrl });
      await client.connect();
      for (const statement of statements) await client.query(statement);
      await client.end();
    } else {
      const sqlite = new SqliteDatabase(path.join(testDb.dataDir, 'folio.sqlite'));
      for (const statement of statements) sqlite.exec(statement);
      sqlite.close();
    }
    const database = await openDatabase({ dataDir: testDb.dataDir, databaseUrl: testDb.databaseUrl });
    try {
      const invoices = await database.db.selectFrom('invoices').select(['tenant_id', 'id', 'guid', 'serial']).orderBy('tenant_id').orderBy('serial').execute();
      assert.deepEqual(invoices.map((row) => [row.tenant_id, row.id, Number(row.serial)]), [['ten_a', 'inv_3', 1], ['ten_a', 'inv_2', 2], ['ten_a', 'inv_1', 3], ['ten_b', 'inv_9', 1]]);
      assert.ok(invoices.every((row) => uuid.test(row.guid ?? '')));
      assert.equal(new Set(invoices.map((row) => row.guid)).size, 4);
      const line = await database.db.selectFrom('invoice_lines').select('guid').executeTakeFirstOrThrow();
      assert.match(line.guid ?? '', uuid);
      const counters = await database.db.selectFrom('number_sequences').selectAll().where('name', '=', 'invoice_serial').orderBy('tenant_id').execute();
      assert.deepEqual(counters.map((row) => [row.tenant_id, Number(row.last_value)]), [['ten_a', 3], ['ten_b', 1]]);
    } finally {
      await database.close();
      await testDb.drop();
    }
  });
});

async function blankInvoice() {
  const created = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
  const { payment_status: _p, ...invoice } = created;
  return { ...invoice, lines: [] };
}

describe('nested metadata', () => {
  test('any JSON per key, stored and returned exactly; PATCH merges top-level keys; PUT replaces; replay of history is exact', async () => {
    const nested = { qbo: { id: '184', sync: { ok: true, tries: [1, 2.5, 'x', null, { deep: [] }] } }, count: 3, flag: false, ratio: 0.25 };
    const created = expectStatus(await api.post('/v1/invoices', draftBody({ metadata: nested })), 201);
    assert.deepEqual(created.metadata, nested);
    assert.deepEqual(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).metadata, nested);
    const patched = expectStatus(await api.patch(`/v1/invoices/${created.id}`, { metadata: { qbo: { id: '185' }, count: null, added: { a: null, b: 1 } } }), 200);
    assert.deepEqual(patched.metadata, { qbo: { id: '185' }, flag: false, ratio: 0.25, added: { b: 1 } }, 'a key is replaced whole; null removes; null members dropped');
    const put = expectStatus(await api.put(`/v1/invoices/${created.id}`, { currency: 'EUR', metadata: { only: ['this'] } }), 200);
    assert.deepEqual(put.metadata, { only: ['this'] });
    const v2 = expectStatus(await api.get(`/v1/invoices/${created.id}?version=2`), 200);
    assert.deepEqual(v2.metadata, patched.metadata);
    const v1 = expectStatus(await api.get(`/v1/invoices/${created.id}?version=1`), 200);
    assert.deepEqual(v1.metadata, nested);
  });

  test('limits: depth, size, keys; nothing written', async () => {
    const created = expectStatus(await api.post('/v1/invoices', draftBody()), 201);
    let deep: unknown = 1;
    for (let level = 1; level < 8; level++) deep = { a: deep };
    expectStatus(await api.patch(`/v1/invoices/${created.id}`, { metadata: { k: deep } }), 200);
    const tooDeep = expectProblem(await api.patch(`/v1/invoices/${created.id}`, { metadata: { k: { a: deep } } }), 400, 'validation-error');
    assert.match(tooDeep.errors[0].pointer, /^\/metadata\/k\/a\/a/);
    const tooBig = expectProblem(await api.patch(`/v1/invoices/${created.id}`, { metadata: { k: Array.from({ length: 70 }, () => 'x'.repeat(500)) } }), 400, 'validation-error');
    assert.match(tooBig.errors[0].detail, /at most 32768 bytes/);
    expectProblem(await api.patch(`/v1/invoices/${created.id}`, { metadata: { k: { ['n'.repeat(101)]: 1 } } }), 400, 'validation-error');
    assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).version, 2);
  });
});

describe('per-request rules', () => {
  test('?require_status: a state precondition that refuses with the named rule and writes nothing', async () => {
    const created = expectStatus(await api.post('/v1/invoices', draftBody()), 201);
    expectStatus(await api.patch(`/v1/invoices/${created.id}?require_status=draft`, { memo: 'ok' }), 200);
    expectStatus(await api.post(`/v1/invoices/${created.id}/finalize`, {}), 200);
    const refused = expectProblem(await api.patch(`/v1/invoices/${created.id}?require_status=draft`, { internal_note: 'x' }), 422, 'status-precondition');
    assert.equal(refused.rule, 'status-precondition');
    assert.equal(refused.status_now, 'open');
    assert.deepEqual(refused.required_status, ['draft']);
    expectStatus(await api.patch(`/v1/invoices/${created.id}?require_status=draft,open`, { internal_note: 'x' }), 200);
    expectProblem(await api.patch(`/v1/invoices/${created.id}?require_status=done`, { internal_note: 'y' }), 400, 'validation-error');
  });

  test('client totals: the domain check names the caller\'s field and the server figure', () => {
    const invoice = { total: '12.00', subtotal: '10.00', tax_total: '2.00', balance: '12.00', lines: [{ id: 'lin_1', gross_amount: '12.00' }] } as any;
    assert.doesNotThrow(() => assertClientTotals(invoice, [{ pointer: '/totalAmount', sent: 12, figure: 'total' }, { pointer: '/lineItems/0/totalAmount', sent: '12.000', line: 0, figure: 'gross_amount' }]));
    assert.throws(
      () => assertClientTotals(invoice, [{ pointer: '/balance', sent: '11.99', figure: 'balance' }, { pointer: '/lines/x', sent: 'abc', line: 'lin_1', figure: 'gross_amount' }]),
      (error: any) => error.problemType === 'total-mismatch' && error.errors.length === 2 && error.errors[0].pointer === '/balance' && error.errors[0].expected === '12.00',
    );
  });

  test('typed udf_* custom fields: the name fixes the type', async () => {
    const created = expectStatus(await api.post('/v1/invoices', draftBody()), 201);
    const ok = expectStatus(await api.patch(`/v1/invoices/${created.id}`, { custom_fields: { udf_float_1: { type: 'number', value: '12.5' }, udf_date_4: { type: 'date', value: '2026-02-01' }, udf_string_8: { type: 'string', value: 'x' } } }), 200);
    assert.deepEqual(ok.custom_fields.udf_float_1, { type: 'number', value: '12.5' });
    const wrong = expectProblem(await api.patch(`/v1/invoices/${created.id}`, { custom_fields: { udf_float_2: { type: 'string', value: 'abc' } } }), 400, 'validation-error');
    assert.equal(wrong.errors[0].pointer, '/custom_fields/udf_float_2/type');
    expectProblem(await api.patch(`/v1/invoices/${created.id}`, { custom_fields: { udf_date_1: { type: 'number', value: '1' } } }), 400, 'validation-error');
  });
});

describe('connections', () => {
  test('POST/GET/DELETE /v1/connections (admin scope); another tenant sees none of them', async () => {
    const created = expectStatus(await admin.post('/v1/connections', { name: 'Unified client' }), 201);
    assert.match(created.id, /^con_/);
    assert.equal(created.name, 'Unified client');
    expectProblem(await api.post('/v1/connections', { name: 'x' }), 403, 'forbidden');
    expectProblem(await admin.post('/v1/connections', { name: 'x', extra: 1 }), 400, 'validation-error');
    const listed = expectStatus(await admin.get('/v1/connections'), 200);
    assert.ok(listed.data.some((connection: any) => connection.id === created.id));
    const foreignAdmin = t.client(await t.key('core-b', ['admin']));
    assert.deepEqual(expectStatus(await foreignAdmin.get('/v1/connections'), 200).data, []);
    expectProblem(await foreignAdmin.delete(`/v1/connections/${created.id}`), 404, 'not-found');
    assert.equal((await admin.delete(`/v1/connections/${created.id}`)).status, 204);
    expectProblem(await admin.delete(`/v1/connections/${created.id}`), 404, 'not-found');
  });

  test('the CLI creates one', { skip: engine !== 'sqlite' && 'CLI run against the SQLite file only' }, () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'connections', 'create', '--tenant', 'core-a', '--name', 'From CLI'], {
      env: { ...process.env, FOLIO_DATA_DIR: t.config.dataDir, DATABASE_URL: '' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    const id = result.stdout.trim().split('\n').pop();
    assert.match(id ?? '', /^con_/);
  });
});
