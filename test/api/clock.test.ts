import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auditStore } from '../../src/modules/audit/store.js';
import { clockFrom } from '../../src/shared/time.js';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

// The app's use cases read the time from the clock given at composition (buildApp's `clock`),
// never from the system directly: a test fixes it and sees it in every stored timestamp and date.

let now = new Date('2030-02-27T23:59:58.123Z');
let t: TestApp;
let api: Client;
let tenantId: string;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' }, { clock: clockFrom(() => now) });
  api = t.client(await t.key('clock-a'));
  tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'clock-a').executeTakeFirstOrThrow()).id;
});
after(() => t.close());

describe('injected clock', () => {
  test('created_at, updated_at, finalize issue date and due date, payments and credit notes come from the clock', async () => {
    const created = expectStatus(
      await api.post('/v1/invoices', { currency: 'EUR', payment_terms: { net_days: 2 }, lines: [{ description: 'A', quantity: 1, unit_price: '100' }] }),
      201,
    );
    assert.equal(created.created_at, '2030-02-27T23:59:58.123Z');
    assert.equal(created.updated_at, '2030-02-27T23:59:58.123Z');

    now = new Date('2030-02-28T10:00:00.000Z');
    const updated = expectStatus(await api.patch(`/v1/invoices/${created.id}`, { memo: 'later' }), 200);
    assert.equal(updated.created_at, '2030-02-27T23:59:58.123Z');
    assert.equal(updated.updated_at, '2030-02-28T10:00:00.000Z');

    now = new Date('2030-03-01T08:30:00.000Z');
    const open = expectStatus(await api.post(`/v1/invoices/${created.id}/finalize`), 200);
    assert.equal(open.issue_date, '2030-03-01');
    assert.equal(open.due_date, '2030-03-03');
    assert.equal(open.finalized_at, '2030-03-01T08:30:00.000Z');
    assert.equal(open.updated_at, '2030-03-01T08:30:00.000Z');

    now = new Date('2030-03-02T09:00:00.000Z');
    const payment = expectStatus(await api.post(`/v1/invoices/${created.id}/payments`, { amount: '10', date: '2030-03-02', method: 'bank_transfer' }), 201);
    assert.equal(payment.created_at, '2030-03-02T09:00:00.000Z');

    now = new Date('2030-03-04T12:00:00.000Z');
    const credit = expectStatus(await api.post('/v1/credit-notes', { invoice_id: created.id, reason: 'goodwill', lines: [{ quantity: '1', unit_price: '5' }] }), 201);
    assert.equal(credit.issue_date, '2030-03-04');
    assert.equal(credit.created_at, '2030-03-04T12:00:00.000Z');

    const trail = await auditStore.listForInvoice(t.database.db, tenantId, created.id);
    assert.deepEqual(
      trail.map((event) => [event.action, event.createdAt]),
      [
        ['create', '2030-02-27T23:59:58.123Z'],
        ['update', '2030-02-28T10:00:00.000Z'],
        ['finalize', '2030-03-01T08:30:00.000Z'],
        ['payment', '2030-03-02T09:00:00.000Z'],
        ['credit', '2030-03-04T12:00:00.000Z'],
      ],
    );
  });

  test('customers take their timestamps from the clock too', async () => {
    now = new Date('2030-04-01T00:00:00.000Z');
    const customer = expectStatus(await api.post('/v1/customers', { name: 'Clockwork Ltd' }), 201);
    assert.equal(customer.created_at, '2030-04-01T00:00:00.000Z');
    assert.equal(customer.updated_at, '2030-04-01T00:00:00.000Z');
  });
});
