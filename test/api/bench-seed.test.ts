import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createBenchTenant, invoiceIdFor, lineIdFor, seedInvoices, type BenchTenant } from '../../bench/lib/seed.js';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

// The benchmarks measure seeded invoices, so seeded rows must be indistinguishable from
// invoices Folio wrote itself: readable, updatable, with their audit and outbox rows.
describe('benchmark seeding', () => {
  let t: TestApp;
  let tenant: BenchTenant;
  let api: Client;

  before(async () => {
    t = await startTestApp();
    tenant = await createBenchTenant(t.database);
    api = t.client(tenant.key);
    await seedInvoices(t.database, { tenant, tag: 'small', from: 1, to: 30, linesPerInvoice: 10, batchSize: 7 });
    await seedInvoices(t.database, { tenant, tag: 'large', from: 1, to: 2, linesPerInvoice: 1000 });
  });
  after(() => t.close());

  it('creates exactly the requested invoices, lines, audit and outbox rows (plus one template per set)', async () => {
    const { db } = t.database;
    const count = async (table: 'invoices' | 'invoice_lines' | 'audit_events' | 'events') =>
      Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow()).n);
    assert.equal(await count('invoices'), 30 + 2 + 2);
    assert.equal(await count('invoice_lines'), 31 * 10 + 3 * 1000);
    assert.equal(await count('audit_events'), 34);
    assert.equal(await count('events'), 34);
  });

  it('a seeded invoice reads back with the deterministic ids and the template totals', async () => {
    const invoice = expectStatus(await api.get(`/v1/invoices/${invoiceIdFor('small', 17)}`), 200);
    assert.equal(invoice.id, invoiceIdFor('small', 17));
    assert.equal(invoice.version, 1);
    assert.equal(invoice.lines.length, 10);
    assert.deepEqual(
      invoice.lines.map((line: { id: string }) => line.id),
      invoice.lines.map((line: { position: number }) => lineIdFor('small', 17, line.position)),
    );
    const other = expectStatus(await api.get(`/v1/invoices/${invoiceIdFor('small', 3)}`), 200);
    assert.equal(invoice.total, other.total);
    assert.notEqual(invoice.total, '0.00');
  });

  it('a seeded invoice takes a PATCH with If-Match like any other, and its history has both versions', async () => {
    const id = invoiceIdFor('small', 5);
    const before = expectStatus(await api.get(`/v1/invoices/${id}`), 200);
    const reply = await api.patch(
      `/v1/invoices/${id}`,
      {
        memo: 'changed by the test',
        line_operations: [1, 4, 9].map((position) => ({ op: 'update', id: lineIdFor('small', 5, position), quantity: '7' })),
      },
      { 'if-match': '"1"' },
    );
    const updated = expectStatus(reply, 200);
    assert.equal(reply.headers.etag, '"2"');
    assert.equal(updated.memo, 'changed by the test');
    assert.notEqual(updated.total, before.total);
    const audit = await t.database.db.selectFrom('audit_events').select(['version', 'changes']).where('invoice_id', '=', id).orderBy('version').execute();
    assert.deepEqual(audit.map((row) => row.version), [1, 2]);
    // The version-1 snapshot names this invoice's own ids, not the template's.
    const createdDocument = JSON.parse(audit[0].changes)[0].to;
    assert.deepEqual(Object.keys(createdDocument.lines).sort(), before.lines.map((line: { id: string }) => line.id).sort());
    const stale = await api.patch(`/v1/invoices/${id}`, { memo: 'stale' }, { 'if-match': '"1"' });
    assert.equal(stale.status, 412);
  });

  it('changing one line of a seeded 1,000-line invoice works', async () => {
    const id = invoiceIdFor('large', 2);
    const reply = await api.patch(`/v1/invoices/${id}`, { line_operations: [{ op: 'update', id: lineIdFor('large', 2, 500), quantity: '3' }] }, { 'if-match': '"1"' });
    const updated = expectStatus(reply, 200);
    assert.equal(updated.lines.length, 1000);
    assert.equal(updated.lines.find((line: { id: string }) => line.id === lineIdFor('large', 2, 500)).quantity, '3');
  });
});
