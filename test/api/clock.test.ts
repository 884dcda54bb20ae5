import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auditStore } from '../../src/modules/audit/store.js';
import { createUserService } from '../../src/modules/users/service.js';
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

  test('outbox events (the invoice feed) carry the clock time of their version; payment_status "overdue" follows the clock', async () => {
    now = new Date('2030-05-10T07:00:00.000Z');
    const created = expectStatus(
      await api.post('/v1/invoices', { currency: 'EUR', payment_terms: { net_days: 5 }, lines: [{ description: 'A', quantity: 1, unit_price: '100' }] }),
      201,
    );
    now = new Date('2030-05-11T07:00:00.000Z');
    const open = expectStatus(await api.post(`/v1/invoices/${created.id}/finalize`), 200);
    assert.equal(open.due_date, '2030-05-16');
    assert.equal(open.payment_status, 'unpaid');

    const feed = expectStatus(await api.get('/v1/events?limit=500'), 200);
    const mine = feed.data.filter((event: { data: { invoice_id?: string } }) => event.data.invoice_id === created.id);
    assert.deepEqual(
      mine.map((event: { type: string; created_at: string }) => [event.type, event.created_at]),
      [
        ['invoice.created', '2030-05-10T07:00:00.000Z'],
        ['invoice.finalized', '2030-05-11T07:00:00.000Z'],
      ],
    );

    // The due date has passed by the clock (not by the machine's calendar): overdue on read, in a
    // write's answer, in the list and in the list filter alike.
    now = new Date('2030-05-17T00:00:00.000Z');
    assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).payment_status, 'overdue');
    assert.equal(expectStatus(await api.patch(`/v1/invoices/${created.id}`, { internal_note: 'chased' }), 200).payment_status, 'overdue');
    const overdue = expectStatus(await api.get('/v1/invoices?payment_status=overdue&limit=100'), 200);
    assert.ok(overdue.data.some((invoice: { id: string }) => invoice.id === created.id), 'the filter (clock.today()) finds it');
    assert.deepEqual(new Set(overdue.data.map((invoice: { payment_status: string }) => invoice.payment_status)), new Set(['overdue']), 'and the list shows it overdue');
    now = new Date('2030-05-16T23:59:59.000Z');
    assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).payment_status, 'unpaid');
  });

  test('connections and webhook endpoints take their timestamps from the clock', async () => {
    const admin = t.client(await t.key('clock-a', ['admin', 'invoices:read', 'invoices:write']));
    now = new Date('2030-06-01T01:02:03.004Z');
    const connection = expectStatus(await admin.post('/v1/connections', { name: 'ERP' }), 201);
    assert.equal(connection.created_at, '2030-06-01T01:02:03.004Z');
    const endpoint = expectStatus(await admin.post('/v1/webhook-endpoints', { url: 'https://1.1.1.1/folio', events: ['invoice_job.*'] }), 201);
    assert.equal(endpoint.created_at, '2030-06-01T01:02:03.004Z');
    now = new Date('2030-06-02T00:00:00.000Z');
    const changed = expectStatus(await admin.patch(`/v1/webhook-endpoints/${endpoint.id}`, { description: 'ours' }), 200);
    assert.equal(changed.created_at, '2030-06-01T01:02:03.004Z');
    assert.equal(changed.updated_at, '2030-06-02T00:00:00.000Z');
  });

  test('the web app: the session, the payment form\'s default date and "overdue" on the invoice page follow the clock', async () => {
    const password = 'correct horse battery staple';
    await createUserService(t.database.db).create({ tenantName: 'clock-a', email: 'ann@clock.test', role: 'editor', password });
    now = new Date('2030-07-01T12:00:00.000Z');
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', payment_terms: { net_days: 3 }, lines: [{ description: 'A', quantity: 1, unit_price: '10' }] }), 201);
    expectStatus(await api.post(`/v1/invoices/${invoice.id}/finalize`), 200);

    now = new Date('2030-07-09T08:00:00.000Z');
    const form = await t.app.inject({ method: 'GET', url: '/sign-in' });
    const signInCsrf = /folio_signin_csrf=([^;]+)/.exec(String(form.headers['set-cookie']))![1];
    const signedIn = await t.app.inject({
      method: 'POST',
      url: '/sign-in',
      headers: { cookie: `folio_signin_csrf=${signInCsrf}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: signInCsrf, tenant: 'clock-a', email: 'ann@clock.test', password, next: '/invoices' }).toString(),
    });
    assert.equal(signedIn.statusCode, 303, signedIn.body.slice(0, 300));
    const session = await t.database.db.selectFrom('web_sessions').select(['created_at', 'expires_at']).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    assert.equal(session.created_at, '2030-07-09T08:00:00.000Z');
    assert.ok(session.expires_at > '2030-07-09T08:00:00.000Z', 'valid by the clock, so the page below is served');

    const cookie = `folio_session=${/folio_session=([^;]+)/.exec(String(signedIn.headers['set-cookie']))![1]}`;
    const page = await t.app.inject({ method: 'GET', url: `/invoices/${invoice.id}`, headers: { cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /id="pay-date" name="date" type="date" required value="2030-07-09"/);
    assert.match(page.body, /<span class="badge overdue">overdue<\/span>/);
  });

  test('customers take their timestamps from the clock too', async () => {
    now = new Date('2030-04-01T00:00:00.000Z');
    const customer = expectStatus(await api.post('/v1/customers', { name: 'Clockwork Ltd' }), 201);
    assert.equal(customer.created_at, '2030-04-01T00:00:00.000Z');
    assert.equal(customer.updated_at, '2030-04-01T00:00:00.000Z');
  });
});
