import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { applyChanges, fromDocument } from '../../src/modules/invoices/domain/diff.js';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  api = t.client(await t.key('history-a'));
});
after(() => t.close());

async function invoiceWithFiveUpdates() {
  const created = expectStatus(await api.post('/v1/invoices', {
    currency: 'EUR',
    memo: 'first',
    bill_to: { name: 'Acme', address: { line1: 'Main 1', city: 'Oslo' } },
    metadata: { a: '1' },
    lines: [
      { description: 'Consulting', quantity: '3', unit_price: '100.00', tax_rate: '20' },
      { description: 'Travel', quantity: 1, unit_price: '45.50' },
    ],
  }, { 'x-change-reason': 'initial draft' }), 201);
  const id = created.id;
  const travel = created.lines[1].id;
  const consulting = created.lines[0].id;
  const updates: Array<[unknown, Record<string, string>]> = [
    [{ memo: 'second', purchase_order: 'PO-1' }, { 'x-change-reason': 'customer asked' }],
    [{ line_operations: [{ op: 'update', id: consulting, quantity: '2.5', discount: { type: 'percent', value: '10' } }] }, {}],
    [{ line_operations: [{ op: 'remove', id: travel }, { op: 'add', description: 'Hotel', quantity: 2, unit_price: '89.99', tax_rate: '10' }], reason: 'hotel instead of travel' }, {}],
    [{ metadata: { a: null, b: '2' }, bill_to: { name: 'Acme AS', address: { line1: 'Main 1', city: 'Bergen' } } }, {}],
    [{ memo: null, internal_note: 'checked', due_date: '2030-01-31' }, {}],
  ];
  for (const [body, headers] of updates) expectStatus(await api.patch(`/v1/invoices/${id}`, body, headers), 200);
  return id as string;
}

function replay(entries: any[], template: any) {
  let doc = {};
  for (const entry of entries) doc = applyChanges(doc, entry.changes);
  const last = entries[entries.length - 1];
  return fromDocument(doc, { id: template.id, version: last.version, created_at: entries[0].created_at, updated_at: last.created_at }, template);
}

describe('invoice history', () => {
  test('5 updates → 6 entries, oldest first, whose diffs replay version 1 into the current invoice exactly', async () => {
    const id = await invoiceWithFiveUpdates();
    const history = expectStatus(await api.get(`/v1/invoices/${id}/history`), 200);
    assert.equal(history.data.length, 6);
    assert.deepEqual(history.data.map((entry: any) => entry.version), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(history.data.map((entry: any) => entry.action), ['create', 'update', 'update', 'update', 'update', 'update']);
    assert.equal(history.data[0].reason, 'initial draft');
    assert.equal(history.data[1].reason, 'customer asked');
    assert.equal(history.data[3].reason, 'hotel instead of travel', 'reason from the body');
    assert.equal(history.data[2].reason, null);
    assert.ok(history.data.every((entry: any) => entry.actor_key_id.startsWith('key_') && entry.request_id && entry.created_at));
    assert.deepEqual(history.data[0].changes.map((change: any) => change.path), ['']);
    assert.deepEqual(history.data[1].changes, [
      { path: '/memo', from: 'first', to: 'second' },
      { path: '/purchase_order', from: null, to: 'PO-1' },
    ]);

    const current = expectStatus(await api.get(`/v1/invoices/${id}`), 200);
    const { payment_status: _derived, ...stored } = current;
    assert.deepEqual(replay(history.data, stored), stored);
  });

  test('?version=N returns the invoice exactly as replayed up to N, for every N', async () => {
    const id = await invoiceWithFiveUpdates();
    const history = expectStatus(await api.get(`/v1/invoices/${id}/history`), 200);
    const { payment_status: _status, ...current } = expectStatus(await api.get(`/v1/invoices/${id}`), 200);
    const seen = new Set<string>();
    for (let version = 1; version <= 6; version++) {
      const reply = await api.get(`/v1/invoices/${id}?version=${version}`);
      const { payment_status: _derived, ...atVersion } = expectStatus(reply, 200);
      assert.equal(reply.headers.etag, `"${version}"`);
      assert.equal(atVersion.version, version);
      assert.deepEqual(atVersion, replay(history.data.slice(0, version), current));
      seen.add(JSON.stringify(atVersion));
    }
    assert.equal(seen.size, 6, 'every version differs');
    const v1 = expectStatus(await api.get(`/v1/invoices/${id}?version=1`), 200);
    assert.equal(v1.memo, 'first');
    assert.equal(v1.lines.length, 2);
    assert.equal(v1.total, '405.50');
    const v4 = expectStatus(await api.get(`/v1/invoices/${id}?version=4`), 200);
    assert.deepEqual(v4.lines.map((line: any) => line.description), ['Consulting', 'Hotel']);
    assert.deepEqual(v4.metadata, { a: '1' });
    expectProblem(await api.get(`/v1/invoices/${id}?version=7`), 404, 'not-found');
    expectProblem(await api.get(`/v1/invoices/${id}?version=0`), 400, 'validation-error');
  });

  test('history pages with after_version and limit', async () => {
    const id = await invoiceWithFiveUpdates();
    const first = expectStatus(await api.get(`/v1/invoices/${id}/history?limit=4`), 200);
    assert.deepEqual(first.data.map((entry: any) => entry.version), [1, 2, 3, 4]);
    assert.equal(first.has_more, true);
    const rest = expectStatus(await api.get(`/v1/invoices/${id}/history?after_version=${first.next_after_version}`), 200);
    assert.deepEqual(rest.data.map((entry: any) => entry.version), [5, 6]);
    assert.equal(rest.has_more, false);
  });

  test("another tenant's invoice history and versions are a 404", async () => {
    const id = await invoiceWithFiveUpdates();
    const other = t.client(await t.key('history-b'));
    expectProblem(await other.get(`/v1/invoices/${id}/history`), 404, 'not-found');
    expectProblem(await other.get(`/v1/invoices/${id}?version=2`), 404, 'not-found');
  });
});

describe('the audit trail is append-only', () => {
  test('the database refuses UPDATE and DELETE on audit_events (trigger), and the rows stay', async () => {
    const id = await invoiceWithFiveUpdates();
    const db = t.database.db;
    await assert.rejects(sql`UPDATE audit_events SET reason = 'rewritten' WHERE invoice_id = ${id}`.execute(db), /append-only/);
    await assert.rejects(sql`DELETE FROM audit_events WHERE invoice_id = ${id}`.execute(db), /append-only/);
    await assert.rejects(db.updateTable('audit_events').set({ action: 'x' }).where('invoice_id', '=', id).execute(), /append-only/);
    await assert.rejects(db.deleteFrom('audit_events').where('invoice_id', '=', id).execute(), /append-only/);
    const history = expectStatus(await api.get(`/v1/invoices/${id}/history`), 200);
    assert.equal(history.data.length, 6);
    assert.equal(history.data[1].reason, 'customer asked');
  });

  test('no source file updates or deletes audit rows', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (full.endsWith('.ts')) {
          const text = fs.readFileSync(full, 'utf8');
          const patterns = [
            /updateTable\(\s*['"]audit_events['"]/,
            /deleteFrom\(\s*['"]audit_events['"]/,
            /UPDATE\s+audit_events/i,
            /DELETE\s+FROM\s+audit_events/i,
            /TRUNCATE\s+(TABLE\s+)?audit_events/i,
            /DROP\s+TRIGGER/i,
          ];
          if (patterns.some((pattern) => pattern.test(text))) offenders.push(full);
        }
      }
    };
    walk(path.resolve('src'));
    assert.deepEqual(offenders, []);
  });
});
