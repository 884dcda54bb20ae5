import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('customers-tenant'));
});
after(() => t.close());

const acme = {
  name: 'Acme Ltd',
  email: 'billing@acme.test',
  tax_id: 'GB123',
  address: { line1: '1 Road', city: 'London', country: 'GB' },
  language: 'en',
};

describe('customers', () => {
  test('create, get, list and patch with If-Match', async () => {
    const created = await api.post('/v1/customers', acme);
    const customer = expectStatus(created, 201);
    assert.match(customer.id, /^cus_/);
    assert.equal(created.headers.etag, '"1"');
    assert.deepEqual(expectStatus(await api.get(`/v1/customers/${customer.id}`), 200), customer);
    const list = expectStatus(await api.get('/v1/customers'), 200);
    assert.ok(list.data.some((item: any) => item.id === customer.id));
    const patched = expectStatus(await api.patch(`/v1/customers/${customer.id}`, { email: 'ap@acme.test' }, { 'if-match': '"1"' }), 200);
    assert.equal(patched.email, 'ap@acme.test');
    assert.equal(patched.version, 2);
    expectProblem(await api.patch(`/v1/customers/${customer.id}`, { email: 'x@y' }, { 'if-match': '"1"' }), 412, 'precondition-failed');
    expectProblem(await api.post('/v1/customers', { email: 'no-name@x' }), 400, 'validation-error');
  });

  test('an invoice keeps a bill-to snapshot; re-linking refreshes it; editing the customer does not rewrite it', async () => {
    const first = expectStatus(await api.post('/v1/customers', acme), 201);
    const second = expectStatus(await api.post('/v1/customers', { name: 'Globex', email: 'ap@globex.test' }), 201);
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'GBP', customer_id: first.id, lines: [{ unit_price: '5' }] }), 201);
    assert.equal(invoice.bill_to.name, 'Acme Ltd');
    assert.equal(invoice.bill_to.address.city, 'London');

    expectStatus(await api.patch(`/v1/customers/${first.id}`, { name: 'Acme Renamed' }), 200);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).bill_to.name, 'Acme Ltd');

    const relinked = expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { customer_id: second.id }), 200);
    assert.equal(relinked.customer_id, second.id);
    assert.equal(relinked.bill_to.name, 'Globex');
    assert.equal(relinked.bill_to.email, 'ap@globex.test');

    const edited = expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { bill_to: { name: 'Globex (Accounts)' } }), 200);
    assert.equal(edited.bill_to.name, 'Globex (Accounts)');
    assert.equal(edited.bill_to.email, 'ap@globex.test', 'a partial bill_to edit keeps the other snapshot fields');
    expectProblem(await api.patch(`/v1/invoices/${invoice.id}`, { customer_id: 'cus_doesnotexist' }), 422, 'invalid-reference');
  });
});
