import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import type { Invoice } from '../../src/modules/invoices/domain/model.js';
import { WriteBaseCache } from '../../src/modules/invoices/write-base-cache.js';
import type { TenantWriteFacts } from '../../src/modules/invoices/write-store.js';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { describeAll, installDriverTrace, isBegin, isCommit, trace } from '../helpers/driver-trace.js';
import { Client, createTestDatabase, engine, expectProblem, expectStatus, startAppInstance, type TestDatabase } from '../helpers/harness.js';
import { countSocketWrites } from '../helpers/socket-writes.js';

/**
 * PATCH and PUT without the lock and read (src/modules/invoices/write-base-cache.ts, `optimistic` in
 * versioning.ts): a process that wrote or read an invoice keeps it, and its next write of that
 * invoice is guarded by the version and the tenant's facts instead (on PostgreSQL one statement, one
 * round trip); when either moved, the locked path decides. Two app instances on one database stand for two processes:
 * `fast` keeps bases (the default), `other` keeps none (FOLIO_WRITE_BASE_CACHE_LINES=0) and is
 * the other process that changes things behind `fast`'s back.
 */
let testDb: TestDatabase;
const instances: { close(): Promise<void> }[] = [];
let fast: Client;
let other: Client;
let otherAdmin: Client;
let check: DatabaseHandle;
let tenantId: string;
let uninstallTrace: () => void = () => {};

async function instance(env: Record<string, string>, key: string): Promise<Client> {
  const started = await startAppInstance(testDb, env);
  instances.push(started);
  return new Client(started.app, key);
}

const invoiceRows = async (id: string) => ({
  versions: (await check.db.selectFrom('audit_events').select('version').where('tenant_id', '=', tenantId).where('invoice_id', '=', id).orderBy('version').execute()).map((row) => row.version),
  events: (await check.db.selectFrom('events').select('resource_version').where('tenant_id', '=', tenantId).where('resource_id', '=', id).orderBy('resource_version').execute()).map((row) => row.resource_version),
});

/** A draft of 3 lines, created through `fast` (so `fast` holds it as a base). */
async function draft(memo = 'start') {
  const lines = [1, 2, 3].map((index) => ({ description: `Line ${index}`, quantity: '1', unit_price: `${index}0` }));
  return expectStatus(await fast.post('/v1/invoices', { currency: 'EUR', memo, lines }), 201);
}

/** The locked path's lock and read: on PostgreSQL the lock-read function, on SQLite the invoice row by key and the lines' JSON. */
const lockOrRead = (text: string) => /folio_invoice_lock_read|FROM invoices WHERE tenant_id = \? AND id = \?$|json_group_array\(json_object/.test(text.trim());

describe(`writes without the lock round trip (${engine})`, () => {
  before(async () => {
    testDb = await createTestDatabase();
    check = await openDatabase({ dataDir: testDb.dataDir, databaseUrl: testDb.databaseUrl, poolSize: 2 });
    const writerKey = await createApiKey(check.db, { tenantName: 'write-bases', scopes: ['invoices:read', 'invoices:write'] });
    const adminKey = await createApiKey(check.db, { tenantName: 'write-bases', scopes: ['admin', 'invoices:read', 'invoices:write'] });
    tenantId = writerKey.tenantId;
    fast = await instance({}, writerKey.key);
    other = await instance({ FOLIO_WRITE_BASE_CACHE_LINES: '0', FOLIO_WEBHOOKS_ALLOW_PRIVATE: 'true' }, writerKey.key);
    otherAdmin = new Client(other.app, adminKey.key);
    uninstallTrace = installDriverTrace();
  });
  after(async () => {
    uninstallTrace();
    for (const started of instances) await started.close();
    await check?.close();
    await testDb?.drop();
  });

  test('a PATCH of an invoice the process holds: one statement alone (no BEGIN, no COMMIT) in one write to PostgreSQL; no lock or read on SQLite', async (context) => {
    let invoice = await draft();
    const patch = (round: number) =>
      fast.patch(`/v1/invoices/${invoice.id}`, { memo: `round ${round}`, line_operations: [{ op: 'update', id: invoice.lines[0].id, quantity: String(round + 1) }] }, { 'if-match': `"${invoice.version}"` });
    invoice = expectStatus(await patch(1), 200); // warm: the key lookup cached, the statement prepared
    const port = Number(new URL(testDb.databaseUrl ?? 'postgres://127.0.0.1:5432').port || 5432);
    let statements: Awaited<ReturnType<typeof trace>> = [];
    const writes = await countSocketWrites(async () => {
      statements = await trace(async () => {
        invoice = expectStatus(await patch(2), 200);
      });
    }, (socket) => socket.remotePort === port);
    context.diagnostic(describeAll(statements));
    assert.ok(!statements.some((statement) => lockOrRead(statement.text)), `no lock, no read:\n${describeAll(statements)}`);
    if (engine === 'postgres') {
      assert.equal(statements.length, 1, `one statement:\n${describeAll(statements)}`);
      assert.match(statements[0].text, /^\s*WITH header AS \(UPDATE invoices/);
      assert.ok(statements[0].name, 'a named prepared statement');
      assert.ok(!statements.some((statement) => isBegin(statement.text) || isCommit(statement.text)));
      assert.equal(writes, 1, 'one write to the server');
    } else {
      // In the write transaction: the tenant's facts checked, then the guarded header UPDATE.
      assert.ok(statements.some((statement) => /^UPDATE invoices SET .* AND version = \?$/.test(statement.text.trim())), describeAll(statements));
    }
    // What it wrote is what the database holds: the answer equals a read by the other process, and
    // the version has its audit and outbox rows.
    assert.equal(invoice.version, 3);
    assert.equal(invoice.lines[0].quantity, '3');
    assert.equal(invoice.lines[0].net_amount, '30.00');
    assert.equal(invoice.total, '80.00');
    assert.deepEqual(expectStatus(await other.get(`/v1/invoices/${invoice.id}`), 200), invoice);
    assert.deepEqual(await invoiceRows(invoice.id), { versions: [1, 2, 3], events: [1, 2, 3] });
  });

  test('with an Idempotency-Key new to the request: the key is inserted by the same write (PostgreSQL: the key read, then the write alone); a retry replays', async (context) => {
    let invoice = await draft();
    const path = `/v1/invoices/${invoice.id}`;
    invoice = expectStatus(await fast.patch(path, { memo: 'warm' }, { 'idempotency-key': `warm-${invoice.id}` }), 200);
    const key = `held-${invoice.id}`;
    let answer: { version: number } = invoice;
    const statements = await trace(async () => {
      answer = expectStatus(await fast.patch(path, { memo: 'once' }, { 'idempotency-key': key }), 200);
    });
    context.diagnostic(describeAll(statements));
    assert.ok(!statements.some((statement) => lockOrRead(statement.text)), `no lock, no read:\n${describeAll(statements)}`);
    if (engine === 'postgres') {
      assert.equal(statements.length, 2, `the key's read, then the write:\n${describeAll(statements)}`);
      assert.match(statements[1].text, /INSERT INTO idempotency_keys/);
    }
    const row = await check.db.selectFrom('idempotency_keys').selectAll().where('tenant_id', '=', tenantId).where('key', '=', key).executeTakeFirstOrThrow();
    assert.equal(row.state, 'committed');
    assert.equal(row.committed_resource, `invoice/${invoice.id}/${answer.version}`);
    const retry = await other.patch(path, { memo: 'once' }, { 'idempotency-key': key });
    assert.equal(retry.status, 200);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(retry.body.version, answer.version);
    assert.deepEqual((await invoiceRows(invoice.id)).versions, [1, 2, 3], 'changed once');
  });

  test('after another process wrote, the PATCH applies to the current invoice (no lost update) or is a 412, and the stale attempt wrote nothing', async () => {
    const invoice = await draft();
    const path = `/v1/invoices/${invoice.id}`;
    // `fast` holds version 1; the other process changes a line and the memo (version 2).
    const elsewhere = expectStatus(await other.patch(path, { memo: 'elsewhere', line_operations: [{ op: 'update', id: invoice.lines[1].id, quantity: '7' }] }), 200);
    assert.equal(elsewhere.version, 2);
    // No If-Match: applied on top of version 2, the other process's change kept.
    const statements = await trace(async () => {
      const mine = expectStatus(await fast.patch(path, { line_operations: [{ op: 'update', id: invoice.lines[2].id, quantity: '5' }] }), 200);
      assert.equal(mine.version, 3);
      assert.equal(mine.memo, 'elsewhere');
      assert.deepEqual(mine.lines.map((line: { quantity: string }) => line.quantity), ['1', '7', '5']);
      assert.equal(mine.total, '300.00');
    });
    assert.ok(statements.some((statement) => lockOrRead(statement.text)), `the locked path decided:\n${describeAll(statements)}`);
    // A stale If-Match: 412 naming the current version, whatever `fast` held.
    expectStatus(await other.patch(path, { memo: 'again elsewhere' }), 200); // version 4, `fast` holds 3
    const refused = expectProblem(await fast.patch(path, { memo: 'mine' }, { 'if-match': '"3"' }), 412, 'precondition-failed');
    assert.equal(refused.current_version, 4);
    // The current If-Match: written on version 4.
    assert.equal(expectStatus(await fast.patch(path, { memo: 'mine' }, { 'if-match': '"4"' }), 200).version, 5);
    const read = expectStatus(await other.get(path), 200);
    assert.equal(read.memo, 'mine');
    assert.deepEqual(read.lines.map((line: { quantity: string }) => line.quantity), ['1', '7', '5']);
    assert.deepEqual(await invoiceRows(invoice.id), { versions: [1, 2, 3, 4, 5], events: [1, 2, 3, 4, 5] }, 'no version written twice, none missing');
  });

  test("the tenant's facts are the current ones: a webhook endpoint and an edit policy set through another process apply to the next write", async () => {
    const invoice = await draft();
    const path = `/v1/invoices/${invoice.id}`;
    expectStatus(await fast.patch(path, { memo: 'held with no endpoints' }), 200);
    const endpoint = expectStatus(await otherAdmin.post('/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/folio', events: ['invoice.updated'] }), 201);
    const changed = expectStatus(await fast.patch(path, { memo: 'after the endpoint' }), 200);
    const deliveries = await sql<{ endpoint_id: string }>`SELECT d.endpoint_id FROM webhook_deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
      WHERE e.tenant_id = ${tenantId} AND e.resource_id = ${invoice.id} AND e.resource_version = ${changed.version}`.execute(check.db);
    assert.deepEqual(deliveries.rows.map((row) => row.endpoint_id), [endpoint.id], 'the new endpoint gets the event');

    // An open invoice: which fields the default policy lets a PATCH change that draft_only does not.
    const open = expectStatus(await fast.post(`${path}/finalize`), 200);
    const editable = (await other.get(`${path}/editability`)).body.fields as Record<string, { editable: boolean }>;
    expectStatus(await otherAdmin.patch('/v1/tenant/settings', { edit_policy: 'draft_only' }), 200);
    try {
      const refusedNow = (await other.get(`${path}/editability`)).body.fields as Record<string, { editable: boolean; rule?: string }>;
      const field = Object.keys(editable).find((name) => name === 'memo' && editable[name].editable && !refusedNow[name].editable);
      assert.ok(field, 'memo is editable on an open invoice under until_paid only');
      const refused = await fast.patch(path, { memo: 'not under draft_only' });
      assert.equal(refused.status, 422, refused.text);
      assert.equal(refused.body.type, `/problems/${refusedNow.memo.rule}`);
      assert.equal(expectStatus(await other.get(path), 200).version, open.version, 'nothing written');
    } finally {
      expectStatus(await otherAdmin.patch('/v1/tenant/settings', { edit_policy: 'until_paid' }), 200);
    }
  });

  test('a refusal is decided on the current invoice, not on the held copy', async () => {
    const invoice = await draft();
    const path = `/v1/invoices/${invoice.id}`;
    // `fast` holds the draft; the other process finalizes and voids it.
    expectStatus(await other.post(`${path}/finalize`), 200);
    expectStatus(await other.post(`${path}/void`), 200);
    expectProblem(await fast.patch(path, { memo: 'too late' }), 422, 'void-is-final');
    // And a PATCH that changes nothing on the held copy answers the current invoice.
    const current = expectStatus(await fast.patch(path, {}), 200);
    assert.equal(current.status, 'void');
  });
});

describe('the write-base cache', () => {
  const facts: TenantWriteFacts = { editPolicy: 'until_paid', webhookEndpoints: [], read: { editPolicy: 'until_paid', endpoints: null } };
  const invoiceOf = (id: string, version: number, lines: number) => ({ id, version, lines: Array.from({ length: lines }, (_, index) => ({ id: `lin_${index}` })) }) as unknown as Invoice;

  test('bounded by lines, least recently used out first; a large invoice is not kept; an older version never replaces a newer', () => {
    const cache = new WriteBaseCache(100);
    for (const id of ['a', 'b', 'c', 'd']) cache.set('t', invoiceOf(id, 1, 9), facts); // 10 each (lines + 1)
    assert.deepEqual(cache.stats(), { entries: 4, lines: 40, maxLines: 100 });
    assert.equal(cache.get('t', 'a')?.invoice.version, 1); // now the most recently used
    for (const id of ['e', 'f', 'g', 'h', 'i', 'j', 'k']) cache.set('t', invoiceOf(id, 1, 9), facts);
    assert.deepEqual(cache.stats(), { entries: 10, lines: 100, maxLines: 100 });
    assert.equal(cache.get('t', 'b'), undefined, 'the least recently used went first');
    assert.ok(cache.get('t', 'a'));
    cache.set('t', invoiceOf('big', 1, 10), facts); // 11 > a tenth of 100
    assert.equal(cache.get('t', 'big'), undefined);
    cache.set('t', invoiceOf('a', 3, 9), facts);
    cache.set('t', invoiceOf('a', 2, 9), facts);
    assert.equal(cache.get('t', 'a')?.invoice.version, 3);
    assert.equal(cache.get('other-tenant', 'a'), undefined, 'per tenant');
  });

  test('entries are frozen: a later change of the object throws instead of corrupting the next write', () => {
    const cache = new WriteBaseCache(100);
    const invoice = invoiceOf('a', 1, 2);
    cache.set('t', invoice, facts);
    assert.throws(() => {
      (invoice as { version: number }).version = 2;
    }, TypeError);
    assert.throws(() => {
      (invoice.lines[0] as { id: string }).id = 'changed';
    }, TypeError);
  });
});
