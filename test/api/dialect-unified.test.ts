import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Client, expectStatus, startTestApp, type TestApp } from '../helpers/harness.js';
import { assertNoInternals, assertOpenApiTag, assertSameAsNativePatch, assertUnchanged, forgetStoredAnswer } from '../helpers/dialects.js';

const sample = JSON.parse(fs.readFileSync(new URL('../fixtures/dialects/unified-update.json', import.meta.url), 'utf8'));

let t: TestApp;
let api: Client;
let other: Client;
let credentialId: string;
let otherCredentialId: string;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  api = t.client(await t.key('unified-a'));
  other = t.client(await t.key('unified-b'));
  credentialId = expectStatus(await t.client(await t.key('unified-a', ['admin'])).post('/v1/connections', { name: 'accounting app' }), 201).id;
  otherCredentialId = expectStatus(await t.client(await t.key('unified-b', ['admin'])).post('/v1/connections', { name: 'theirs' }), 201).id;
});
after(() => t.close());

const draft = { currency: 'EUR', memo: 'draft', metadata: { old: 'x' }, lines: [{ description: 'Placeholder', quantity: 1, unit_price: '10.00' }] };
const newDraft = async (client = api) => expectStatus(await client.post('/v1/invoices', draft), 201);
/** Invoice numbers are unique per tenant: each use of the sample gets its own. */
let numbered = 0;
const sampleNumbered = () => ({ ...sample, invoiceNumber: `UA-2026-${String(++numbered).padStart(4, '0')}` });
const { invoiceNumber: _number, ...sampleWithoutNumber } = sample;
const url = (id: string, credential = credentialId) => `/compat/unified/accounting/invoices/${id}?credentialId=${credential}`;

describe('Unified accounting API dialect', () => {
  test('the sample update: lineItems replace the line set, remoteFields kept verbatim, response in the seed schema', async () => {
    const invoice = await newDraft();
    const reply = await api.request('PUT', url(invoice.id), { body: sample, headers: { authorization: `bearer ${api.key}` } });
    const { invoice: body } = expectStatus(reply, 200);
    assert.equal(body.remoteId, invoice.id);
    assert.equal(body.invoiceNumber, 'UA-2026-0042');
    assert.equal(body.issueDate, Date.parse('2026-03-31T00:00:00Z'));
    assert.equal(body.subTotal, '517.00');
    assert.equal(body.totalDiscount, '0.00');
    assert.equal(body.totalTaxAmount, '0.00');
    assert.equal(body.totalAmount, 517);
    assert.equal(body.balance, 517);
    assert.equal(body.invoiceStatus, 'DRAFT');
    assert.deepEqual(body.lineItems.map((line: any) => [line.description, line.unitPrice, line.quantity, line.totalAmount, line.accountingItemId, line.accountId]), [
      ['Consulting, March', 120.5, 4, 482, 'ITEM-7', '4000'],
      ['Travel', 35, 1, 35, null, '4100'],
    ]);
    assert.deepEqual(body.remoteFields, sample.remoteFields);
    // Every field of the seed's response schema: 25 on the invoice, 13 per line item.
    const seedInvoiceFields = ['id', 'remoteId', 'customerId', 'invoiceNumber', 'issueDate', 'dueDate', 'paidOnDate', 'memo', 'companyId', 'currency', 'exchangeRate', 'totalDiscount', 'subTotal', 'invoiceStatus', 'totalTaxAmount', 'totalAmount', 'balance', 'trackingCategories', 'lineItems', 'purchaseOrders', 'remoteCreatedAt', 'remoteUpdatedAt', 'remoteDeleted', 'createdAt', 'updatedAt'];
    const seedLineFields = ['id', 'remoteId', 'description', 'unitPrice', 'quantity', 'totalAmount', 'currency', 'exchangeRate', 'accountingItemId', 'accountId', 'trackingCategoryId', 'trackingCategoryIds', 'companyId'];
    assert.equal(seedInvoiceFields.length + seedLineFields.length, 38);
    assert.deepEqual(seedInvoiceFields.filter((key) => !(key in body)), []);
    for (const line of body.lineItems) assert.deepEqual(seedLineFields.filter((key) => !(key in line)), []);
    assert.equal(typeof body.issueDate, 'number', 'the seed types dates as integers');
    assert.equal(typeof body.subTotal, 'string', 'the seed types subTotal as a string');

    const native = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(native.lines.length, 2, 'the placeholder line is gone');
    assert.deepEqual(native.metadata, sample.remoteFields);
    assert.equal(native.due_date, '2026-04-30');
    assert.equal(native.version, 2);
    // GET → PUT round trip: the response's lineItems (with ids and epoch dates) go back unchanged. The guid names the invoice too.
    const got = expectStatus(await api.get(url(native.guid)), 200).invoice;
    assert.equal(got.id, invoice.id);
    const roundTrip = {
      lineItems: got.lineItems.map((line: any) => ({ id: line.id, description: line.description, unitPrice: line.unitPrice, quantity: line.quantity, totalAmount: line.totalAmount })),
      issueDate: got.issueDate,
      dueDate: got.dueDate,
      totalAmount: got.totalAmount,
    };
    expectStatus(await api.put(url(native.guid), roundTrip), 200);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 2, 'an unchanged document writes nothing');
  });

  test('a unified update leaves the same version, audit diff, actor and outbox event as the equivalent native PATCH', async () => {
    await assertSameAsNativePatch(api, {
      create: draft,
      dialect: (invoice) => api.put(url(invoice.id), sampleWithoutNumber),
      native: () => ({
        customer_id: null,
        issue_date: '2026-03-31',
        due_date: '2026-04-30',
        memo: 'Thank you for your business.',
        currency: 'EUR',
        exchange_rate: 1,
        metadata: { old: null, ...sample.remoteFields },
        lines: [
          { description: 'Consulting, March', unit_price: 120.5, quantity: 4, item_code: 'ITEM-7', account_code: '4000' },
          { description: 'Travel', unit_price: 35, quantity: 1, account_code: '4100' },
        ],
      }),
    });
  });

  test('client totals (invoice totalAmount, balance, line totalAmount) are checked: 422 naming the field and the server figure, nothing written', async () => {
    const invoice = await newDraft();
    const wrongLine = structuredClone(sample);
    wrongLine.lineItems[1].totalAmount = '36.00';
    const reply = await api.put(url(invoice.id), wrongLine);
    assert.equal(reply.status, 422);
    assert.deepEqual(reply.body.errors, [{ field: 'lineItems.1.totalAmount', message: 'server computes 35.00', expected: '35.00' }]);
    const wrongBalance = await api.put(url(invoice.id), { ...sample, balance: 500 });
    assert.deepEqual(wrongBalance.body.errors.map((error: any) => [error.field, error.expected]), [['balance', '517.00']]);
    await assertUnchanged(api, invoice.id, 1);
  });

  test('credentialId: missing → 400, unknown or another tenant\'s → 404; another tenant\'s invoice → 404', async () => {
    const invoice = await newDraft();
    const missing = await api.put(`/compat/unified/accounting/invoices/${invoice.id}`, sample);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.errors[0].field, 'query.credentialId');
    assert.equal((await api.put(url(invoice.id, 'con_unknown'), sample)).status, 404);
    assert.equal((await api.put(url(invoice.id, otherCredentialId), sample)).status, 404);
    const unifiedAdmin = t.client(await t.key('unified-a', ['admin']));
    const revoked = expectStatus(await unifiedAdmin.post('/v1/connections', { name: 'to delete' }), 201).id;
    expectStatus(await api.get(url(invoice.id, revoked)), 200);
    assert.equal((await unifiedAdmin.delete(`/v1/connections/${revoked}`)).status, 204);
    const deleted = await api.put(url(invoice.id, revoked), sample);
    assert.equal(deleted.status, 404, 'a deleted connection no longer works');
    assert.equal(deleted.body.statusCode, 404);
    const foreign = await newDraft(other);
    const reply = await api.put(url(foreign.id), sample);
    assert.equal(reply.status, 404);
    assert.equal(reply.body.statusCode, 404);
    await assertUnchanged(api, invoice.id, 1);
    await assertUnchanged(other, foreign.id, 1);
  });

  test('bad bodies → 400 naming the field in the system\'s names, nothing written, no internals; paid → 422', async () => {
    const invoice = await newDraft();
    const cases: Array<[unknown, string]> = [
      [{ ...sample, lineItems: [{ description: 'x', quantity: 1.5, totalAmount: 1 }] }, 'lineItems.0.quantity'],
      [{ ...sample, currency: 'EURO' }, 'currency'],
      [{ ...sample, lineItems: undefined }, 'lineItems'],
      [{ ...sample, lineItems: [{ description: 'x', totalAmount: 0, unitPrice: 0, extra: 1 }] }, 'lineItems.0.extra'],
      [{ ...sample, issueDate: '2026-02-30' }, 'issueDate'],
      [{ ...sample, lineItems: [{ id: 'lin_notthere', description: 'x', totalAmount: 0 }] }, 'lineItems.0.id'],
      [{ ...sample, customerId: 'cus_unknown' }, 'customerId'],
    ];
    for (const [body, field] of cases) {
      const reply = await api.put(url(invoice.id), body);
      assert.ok(reply.status >= 400 && reply.status < 500, `${field}: ${reply.status}`);
      assert.ok(reply.body.errors.some((error: any) => error.field === field), `${field} in ${reply.text}`);
      assertNoInternals(reply);
    }
    const malformed = await api.request('PUT', url(invoice.id), { rawBody: '{"lineItems": [', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.statusCode, 400);
    assertNoInternals(malformed);
    await assertUnchanged(api, invoice.id, 1);
    expectStatus(await api.post(`/v1/invoices/${invoice.id}/finalize`, {}), 200);
    expectStatus(await api.post(`/v1/invoices/${invoice.id}/payments`, { amount: '10.00', date: '2026-01-10', method: 'card' }), 201);
    const { issueDate: _issued, dueDate: _due, ...withoutFixedFields } = sampleWithoutNumber;
    const paid = await api.put(url(invoice.id), withoutFixedFields);
    assert.equal(paid.status, 422, paid.text);
    assert.equal(paid.body.error, 'paid-invoice-financial-fields');
    assert.equal((await new Client(t.app, null).put(url(invoice.id), sample)).status, 401);
  });

  test('an Idempotency-Key retry replays; create answers in the same schema', async () => {
    const invoice = await newDraft();
    const headers = { 'idempotency-key': `unified-${invoice.id}` };
    const body = sampleNumbered();
    const first = expectStatus(await api.put(url(invoice.id), body, headers), 200);
    const retry = await api.put(url(invoice.id), body, headers);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.deepEqual(retry.body, first);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 2);
    // A crash between the commit and the stored answer: the retry rebuilds the seed-schema answer from the committed version.
    await forgetStoredAnswer(t.database.db, headers['idempotency-key']);
    expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'a later change' }), 200);
    const afterCrash = await api.put(url(invoice.id), body, headers);
    assert.equal(afterCrash.status, 200, afterCrash.text);
    assert.equal(afterCrash.headers['idempotent-replayed'], 'true');
    assert.deepEqual(afterCrash.body, first);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 3, 'nothing redone');
    const created = expectStatus(await api.post(`/compat/unified/accounting/invoices?credentialId=${credentialId}`, sampleNumbered()), 200).invoice;
    assert.equal(created.totalAmount, 517);
    assert.deepEqual(created.remoteFields, sample.remoteFields);
  });

  test('OpenAPI lists the unified routes under one tag', async () => {
    await assertOpenApiTag(api, '/compat/unified/', 'dialect: Unified accounting API');
  });
});
