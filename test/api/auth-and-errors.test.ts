import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, expectProblem, expectStatus, startTestApp, type TestApp } from '../helpers/harness.js';

let t: TestApp;
let alice: Client;
let bob: Client;

before(async () => {
  t = await startTestApp({ FOLIO_BODY_LIMIT_BYTES: String(256 * 1024) });
  alice = t.client(await t.key('tenant-alice'));
  bob = t.client(await t.key('tenant-bob'));
});
after(() => t.close());

const body = { currency: 'EUR', lines: [{ description: 'Widget', quantity: 2, unit_price: '10.00' }] };

describe('authentication and scopes', () => {
  test('no key, a malformed header or an unknown key → 401 problem+json', async () => {
    const anonymous = new Client(t.app, null);
    const missing = await anonymous.get('/v1/invoices');
    expectProblem(missing, 401, 'unauthorized');
    assert.equal(missing.headers['www-authenticate'], 'Bearer');
    expectProblem(await anonymous.request('GET', '/v1/invoices', { headers: { authorization: 'Basic abc' } }), 401, 'unauthorized');
    expectProblem(await new Client(t.app, 'folio_sk_notarealkeynotarealkeynotarealkey1234').get('/v1/invoices'), 401, 'unauthorized');
    expectProblem(await anonymous.post('/v1/invoices', body), 401, 'unauthorized');
  });

  test('a read-only key can read but not write → 403', async () => {
    const created = expectStatus(await alice.post('/v1/invoices', body), 201);
    const reader = t.client(await t.key('tenant-alice', ['invoices:read']));
    expectStatus(await reader.get(`/v1/invoices/${created.id}`), 200);
    expectProblem(await reader.patch(`/v1/invoices/${created.id}`, { memo: 'nope' }), 403, 'forbidden');
    expectProblem(await reader.post('/v1/invoices', body), 403, 'forbidden');
    expectProblem(await reader.post('/v1/customers', { name: 'x' }), 403, 'forbidden');
    assert.equal(expectStatus(await alice.get(`/v1/invoices/${created.id}`), 200).version, 1);
  });

  test('an admin key may do everything', async () => {
    const admin = t.client(await t.key('tenant-alice', ['admin']));
    expectStatus(await admin.post('/v1/invoices', body), 201);
  });
});

describe('tenants are sealed', () => {
  test("another tenant's invoice is a 404 for read and write, and is never changed", async () => {
    const invoice = expectStatus(await alice.post('/v1/invoices', body), 201);
    expectProblem(await bob.get(`/v1/invoices/${invoice.id}`), 404, 'not-found');
    expectProblem(await bob.patch(`/v1/invoices/${invoice.id}`, { memo: 'hijack' }), 404, 'not-found');
    expectProblem(await bob.put(`/v1/invoices/${invoice.id}`, { currency: 'EUR' }), 404, 'not-found');
    const bobList = expectStatus(await bob.get(`/v1/invoices?limit=100`), 200);
    assert.ok(!bobList.data.some((item: any) => item.id === invoice.id));
    const byNumber = expectStatus(await bob.get(`/v1/invoices?customer_id=${invoice.customer_id ?? 'cus_x'}`), 200);
    assert.equal(byNumber.data.length, 0);
    assert.deepEqual(expectStatus(await alice.get(`/v1/invoices/${invoice.id}`), 200), invoice);
  });

  test("another tenant's line ids inside a PATCH body → 422, and no line moves", async () => {
    const aliceInvoice = expectStatus(await alice.post('/v1/invoices', body), 201);
    const bobInvoice = expectStatus(await bob.post('/v1/invoices', body), 201);
    const aliceLine = aliceInvoice.lines[0].id;
    for (const attempt of [
      { line_operations: [{ op: 'update', id: aliceLine, quantity: 99 }] },
      { line_operations: [{ op: 'remove', id: aliceLine }] },
      { lines: [{ id: aliceLine, description: 'stolen' }] },
      { line_operations: [{ op: 'add', unit_price: 1, parent_line_id: aliceLine }] },
    ]) {
      const reply = await bob.patch(`/v1/invoices/${bobInvoice.id}`, attempt);
      const problem = expectProblem(reply, 422, 'invalid-reference');
      assert.ok(problem.errors[0].pointer.length > 1);
    }
    assert.deepEqual(expectStatus(await alice.get(`/v1/invoices/${aliceInvoice.id}`), 200), aliceInvoice);
    assert.deepEqual(expectStatus(await bob.get(`/v1/invoices/${bobInvoice.id}`), 200), bobInvoice);
  });

  test("another tenant's customer can be neither read, changed nor linked", async () => {
    const customer = expectStatus(await alice.post('/v1/customers', { name: 'Alice Customer' }), 201);
    expectProblem(await bob.get(`/v1/customers/${customer.id}`), 404, 'not-found');
    expectProblem(await bob.patch(`/v1/customers/${customer.id}`, { name: 'x' }), 404, 'not-found');
    expectProblem(await bob.post('/v1/invoices', { ...body, customer_id: customer.id }), 422, 'invalid-reference');
    assert.equal(expectStatus(await alice.get(`/v1/customers/${customer.id}`), 200).name, 'Alice Customer');
  });
});

describe('every error is RFC 9457 problem+json', () => {
  test('unknown route → 404 problem', async () => {
    const reply = await alice.get('/v1/nothing-here');
    const problem = expectProblem(reply, 404, 'not-found');
    assert.equal(problem.status, 404);
    assert.ok(problem.detail.length > 0);
    assert.ok(problem.request_id);
  });

  test('malformed JSON, duplicate keys, empty body → 400 problem, nothing written', async () => {
    const before = expectStatus(await alice.get('/v1/invoices?limit=100'), 200).data.length;
    for (const raw of ['{"currency": "EUR",', '{"currency":"EUR","currency":"USD"}', '', '[1,2', 'null', '"text"']) {
      const reply = await alice.request('POST', '/v1/invoices', { rawBody: raw, headers: { 'content-type': 'application/json' } });
      assert.ok(reply.status === 400, `${JSON.stringify(raw)} gave ${reply.status}`);
      expectProblem(reply, 400);
    }
    assert.equal(expectStatus(await alice.get('/v1/invoices?limit=100'), 200).data.length, before);
  });

  test('validation errors carry a JSON pointer per invalid field', async () => {
    const reply = await alice.post('/v1/invoices', {
      currency: 'EUR',
      bogus: true,
      lines: [{ quantity: 'many', unit_price: '1' }, { unit_price: '1', quantity: '-2' }],
    });
    const problem = expectProblem(reply, 400, 'validation-error');
    const pointers = problem.errors.map((error: any) => error.pointer).sort();
    assert.deepEqual(pointers, ['/bogus', '/lines/0/quantity']);
    const second = expectProblem(await alice.post('/v1/invoices', { currency: 'EUR', lines: [{ unit_price: '1', quantity: '-2' }] }), 400, 'validation-error');
    assert.deepEqual(second.errors.map((error: any) => error.pointer), ['/lines/0/quantity']);
    const dates = expectProblem(await alice.post('/v1/invoices', { currency: 'EUR', issue_date: '2026-02-30', due_date: '0001-01-01' }), 400, 'validation-error');
    assert.deepEqual(dates.errors.map((error: any) => error.pointer).sort(), ['/due_date', '/issue_date']);
  });

  test('a body over the limit → 413 problem', async () => {
    const reply = await alice.request('POST', '/v1/invoices', {
      rawBody: JSON.stringify({ currency: 'EUR', memo: 'x'.repeat(300 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(reply, 413, 'payload-too-large');
  });

  test('an unsupported content type → 415 problem', async () => {
    const reply = await alice.request('POST', '/v1/invoices', { rawBody: 'currency=EUR', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectProblem(reply, 415, 'unsupported-media-type');
  });

  test('too many lines → 400; prototype keys refused', async () => {
    const lines = Array.from({ length: 1001 }, () => ({ unit_price: '1' }));
    expectProblem(await alice.post('/v1/invoices', { currency: 'EUR', lines }), 400, 'validation-error');
    const proto = await alice.request('POST', '/v1/invoices', {
      rawBody: '{"currency":"EUR","metadata":{"__proto__":{"admin":"true"}}}',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(proto, 400, 'validation-error');
  });

  test('an unexpected failure is a 500 problem without internals', async () => {
    // Close the database under the app: the next query fails in a way no client caused.
    const broken = await startTestApp();
    const client = broken.client(await broken.key('broken'));
    await broken.database.db.destroy();
    const reply = await client.get('/v1/invoices/inv_01m83vmpzfne50vx8mqfx77t8v');
    assert.ok(reply.status === 500 || reply.status === 503, `got ${reply.status}`);
    assert.match(String(reply.headers['content-type']), /^application\/problem\+json/);
    assert.doesNotMatch(reply.text, /select|sqlite|postgres|stack|at \w+ \(/i);
    await broken.app.close();
    await broken.testDb.drop();
  });
});

describe('OpenAPI and docs', () => {
  test('GET /openapi.json is an OpenAPI 3.1 document generated from the route schemas', async () => {
    const doc = expectStatus(await alice.get('/openapi.json'), 200);
    assert.equal(doc.openapi, '3.1.0');
    const patch = doc.paths['/v1/invoices/{id}'].patch;
    assert.deepEqual(patch.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/InvoiceWrite' });
    assert.ok(doc.components.schemas.InvoiceWrite.properties.line_operations);
    assert.ok(doc.paths['/v1/customers']);
  });

  test('GET /docs serves a documentation page', async () => {
    const reply = await alice.get('/docs/');
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /text\/html/);
  });
});

test('an impossible issue date with payment terms is a 400, not a crash', async () => {
  const reply = await alice.post('/v1/invoices', { currency: 'EUR', issue_date: '2026-02-31', payment_terms: { net_days: 30 } });
  expectProblem(reply, 400, 'validation-error');
});
