import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Client, expectStatus, startTestApp, type TestApp } from '../helpers/harness.js';
import { assertNoInternals, assertOpenApiTag, assertSameAsNativePatch, assertUnchanged, forgetStoredAnswer } from '../helpers/dialects.js';

const sample = JSON.parse(fs.readFileSync(new URL('../fixtures/dialects/stax-update.json', import.meta.url), 'utf8'));

let t: TestApp;
let api: Client;
let other: Client;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  api = t.client(await t.key('stax-a'));
  other = t.client(await t.key('stax-b'));
});
after(() => t.close());

const draft = { currency: 'USD', memo: 'old memo', metadata: { keep: 'no' }, lines: [{ description: 'Setup', quantity: 1, unit_price: '50.00' }] };

async function newDraft(client = api) {
  return expectStatus(await client.post('/v1/invoices', draft), 201);
}

describe('Stax dialect', () => {
  test('the sample update (items, taxes, memo, reference, nested meta) by guid; meta is the native metadata, unchanged', async () => {
    const invoice = await newDraft();
    const reply = await api.put(`/compat/stax/invoice/${invoice.guid}`, sample);
    const body = expectStatus(reply, 200);
    assert.equal(body.id, invoice.guid);
    assert.equal(body.total, 26.4);
    assert.equal(body.status, 'DRAFT');
    assert.equal(body.meta.subtotal, 24);
    assert.equal(body.meta.tax, 2.4);
    assert.equal(body.meta.memo, 'Thanks for your business!');
    assert.equal(body.meta.reference, 'PO-7781');
    assert.deepEqual(body.meta.qbo, sample.meta.qbo);
    assert.equal(body.meta.lineItems.length, 1);
    assert.equal(body.meta.lineItems[0].item, 'Demo Item');
    assert.equal(body.meta.lineItems[0].details, 'this is a regular demo item');

    const native = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.deepEqual(native.metadata, { otherField1: 'other-value-1', qbo: { invoice_id: '184', sync: { state: 'ok', tries: [1, 2.5, true] } } }, 'meta replaces the metadata, nested values verbatim');
    assert.equal(native.memo, 'Thanks for your business!');
    assert.equal(native.reference, 'PO-7781');
    assert.equal(native.total, '26.40');
    assert.equal(native.lines.length, 1);
    assert.equal(native.lines[0].description, 'Demo Item\nthis is a regular demo item');
    assert.equal(native.version, 2);

    const history = expectStatus(await api.get(`/v1/invoices/${invoice.id}/history`), 200).data;
    assert.equal(history.length, 2);
    assert.ok(history[1].actor_key_id.startsWith('key_'));
    // GET in Stax's shape, by guid and by native id.
    assert.deepEqual(expectStatus(await api.get(`/compat/stax/invoice/${invoice.guid}`), 200), body);
    assert.equal(expectStatus(await api.get(`/compat/stax/invoice/${invoice.id}`), 200).id, invoice.guid);
  });

  test('a Stax update leaves the same version, audit diff, actor and outbox event as the equivalent native PATCH', async () => {
    await assertSameAsNativePatch(api, {
      create: draft,
      dialect: (invoice) => api.put(`/compat/stax/invoice/${invoice.guid}`, sample),
      native: () => ({
        memo: 'Thanks for your business!',
        reference: 'PO-7781',
        metadata: { keep: null, otherField1: 'other-value-1', qbo: sample.meta.qbo },
        lines: [{ description: 'Demo Item\nthis is a regular demo item', quantity: 2, unit_price: 12, tax_rate: 10 }],
        total: '26.40',
      }),
    });
  });

  test('existing lines are kept by id: quantity change only', async () => {
    const invoice = await newDraft();
    const lineGuid = invoice.lines[0].guid;
    const body = expectStatus(await api.put(`/compat/stax/invoice/${invoice.guid}`, { meta: { lineItems: [{ id: lineGuid, quantity: 3 }] } }), 200);
    assert.equal(body.meta.lineItems[0].id, lineGuid);
    assert.equal(body.total, 150);
    const native = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(native.lines[0].id, invoice.lines[0].id);
    assert.equal(native.lines[0].description, 'Setup');
  });

  test('taxes as Stax sends them (one invoice amount, no rate on the items) become one derived rate on every line; checked as usual', async () => {
    const invoice = await newDraft();
    // Only the tax amount changes: the existing line gets the rate 5.00 / 50.00 = 10 %.
    const taxed = expectStatus(await api.put(`/compat/stax/invoice/${invoice.guid}`, { meta: { tax: 5, memo: 'old memo', keep: 'no' }, total: 55 }), 200);
    assert.equal(taxed.meta.tax, 5);
    assert.equal(taxed.total, 55);
    let native = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(native.lines[0].id, invoice.lines[0].id);
    assert.equal(native.lines[0].tax_rate, '10');
    assert.equal(native.tax_total, '5.00');
    // 8.25 % sales tax on two new items: 1.65 on 20.00.
    const items = { meta: { subtotal: 20, tax: 1.65, lineItems: [{ item: 'A', quantity: 1, price: 12.5 }, { item: 'B', quantity: 3, price: 2.5 }] }, total: 21.65 };
    expectStatus(await api.put(`/compat/stax/invoice/${invoice.guid}`, items), 200);
    native = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.deepEqual(native.lines.map((line: any) => line.tax_rate), ['8.25', '8.25']);
    assert.equal(native.total, '21.65');
    // A tax no rate can give (tax on nothing) is the usual 400 naming meta.tax, nothing written.
    const refused = await api.put(`/compat/stax/invoice/${invoice.guid}`, { meta: { tax: 1, lineItems: [{ item: 'Free', quantity: 1, price: 0 }] } });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body, { 'meta.tax': ['server computes 0.00'] });
    await assertUnchanged(api, invoice.id, native.version);
  });

  test('per-line tax_rate (Folio extension) wins; a PUT that sends the tax as read keeps lines with different rates as they are', async () => {
    const mixed = expectStatus(await api.post('/v1/invoices', { currency: 'USD', lines: [{ description: 'Food', quantity: 1, unit_price: '100.00', tax_rate: '7' }, { description: 'Drink', quantity: 1, unit_price: '100.00', tax_rate: '19' }] }), 201);
    assert.equal(mixed.tax_total, '26.00');
    expectStatus(await api.put(`/compat/stax/invoice/${mixed.guid}`, { meta: { tax: 26, memo: 'memo only' } }), 200);
    const kept = expectStatus(await api.get(`/v1/invoices/${mixed.id}`), 200);
    assert.deepEqual(kept.lines.map((line: any) => line.tax_rate), ['7', '19']);
    assert.equal(kept.memo, 'memo only');
    const lineItems = kept.lines.map((line: any) => ({ id: line.guid, tax_rate: line.tax_rate === '7' ? 5 : 19 }));
    expectStatus(await api.put(`/compat/stax/invoice/${mixed.guid}`, { meta: { tax: 24, lineItems } }), 200);
    assert.deepEqual(expectStatus(await api.get(`/v1/invoices/${mixed.id}`), 200).lines.map((line: any) => line.tax_rate), ['5', '19']);
  });

  test('total checked against the server: a mismatch is a 400 naming the field and the server figure, nothing written', async () => {
    const invoice = await newDraft();
    const reply = await api.put(`/compat/stax/invoice/${invoice.guid}`, { ...sample, total: 30 });
    assert.equal(reply.status, 400);
    assert.deepEqual(reply.body, { total: ['server computes 26.40'] });
    // A new tax amount is applied (as one rate), so the total sent with it must follow.
    const tax = await api.put(`/compat/stax/invoice/${invoice.guid}`, { ...sample, meta: { ...sample.meta, tax: 3 } });
    assert.deepEqual(tax.body, { total: ['server computes 27.00'] });
    // With per-line rates given, the tax amount is a check like the total.
    const rated = { ...sample.meta, tax: 3, lineItems: sample.meta.lineItems.map((item: any) => ({ ...item, tax_rate: 10 })) };
    const taxChecked = await api.put(`/compat/stax/invoice/${invoice.guid}`, { ...sample, meta: rated });
    assert.deepEqual(taxChecked.body, { 'meta.tax': ['server computes 2.40'] });
    await assertUnchanged(api, invoice.id, 1);
  });

  test('a fully paid invoice → 422 with Stax error body, nothing written', async () => {
    const invoice = await newDraft();
    expectStatus(await api.post(`/v1/invoices/${invoice.id}/finalize`, {}), 200);
    expectStatus(await api.post(`/v1/invoices/${invoice.id}/payments`, { amount: '50.00', date: '2026-01-10', method: 'card' }), 201);
    const paid = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(paid.status, 'paid');
    const reply = await api.put(`/compat/stax/invoice/${invoice.guid}`, { meta: { memo: 'late change' } });
    assert.equal(reply.status, 422);
    assert.deepEqual(reply.body, { error: 'A fully paid invoice cannot be edited.' });
    assert.equal(expectStatus(await api.get(`/compat/stax/invoice/${invoice.guid}`), 200).status, 'PAID');
    await assertUnchanged(api, invoice.id, paid.version);
  });

  test("another tenant's invoice, an unknown id → 404 in Stax's shape", async () => {
    const foreign = await newDraft(other);
    for (const id of [foreign.guid, foreign.id, '3b7f5d6e-0000-4000-8000-000000000000']) {
      const reply = await api.put(`/compat/stax/invoice/${id}`, sample);
      assert.equal(reply.status, 404);
      assert.equal(typeof reply.body.error, 'string');
    }
    await assertUnchanged(other, foreign.id, 1);
  });

  test('bad bodies → 400 in Stax shape, nothing written, no internals; no key → 401', async () => {
    const invoice = await newDraft();
    const cases: Array<[unknown, string]> = [
      [{ meta: { lineItems: [{ item: 'x', quantity: 'lots', price: 1 }] } }, 'meta.lineItems.0.quantity'],
      [{ total: true }, 'total'],
      [{ status: 'PAID' }, 'status'],
      [{ meta: { lineItems: [{ item: 'x', quantity: 1 }] } }, 'meta.lineItems.0.price'],
      [{ files: [{ id: 'att_unknown' }] }, 'files'],
      [{ customer_id: 'cus_unknown' }, 'customer_id'],
      [{ meta: { deep: { a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } } } }, 'meta.deep.a.b.c.d.e.f.g'],
      // Fields named like Object.prototype's members (found by the OpenAPI fuzzer: a 500).
      [{ toString: null }, 'toString'],
      [{ constructor: 1, valueOf: false }, 'constructor'],
    ];
    for (const [body, field] of cases) {
      const reply = await api.put(`/compat/stax/invoice/${invoice.guid}`, body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.ok(Object.keys(reply.body).some((key) => key.startsWith(field)), `${field} in ${reply.text}`);
      assertNoInternals(reply);
    }
    const malformed = await api.request('PUT', `/compat/stax/invoice/${invoice.guid}`, { rawBody: '{"meta": ', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.equal(typeof malformed.body.error, 'string');
    assertNoInternals(malformed);
    await assertUnchanged(api, invoice.id, 1);
    const anonymous = await new Client(t.app, null).put(`/compat/stax/invoice/${invoice.guid}`, sample);
    assert.equal(anonymous.status, 401);
    assert.equal(typeof anonymous.body.error, 'string');
  });

  test('an Idempotency-Key retry replays the answer and writes once', async () => {
    const invoice = await newDraft();
    const headers = { 'idempotency-key': `stax-${invoice.id}` };
    const first = expectStatus(await api.put(`/compat/stax/invoice/${invoice.guid}`, sample, headers), 200);
    const retry = await api.put(`/compat/stax/invoice/${invoice.guid}`, sample, headers);
    assert.equal(retry.status, 200);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.deepEqual(retry.body, first);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 2);
    // A crash between the commit and the stored answer: the retry rebuilds Stax's answer from the committed version.
    await forgetStoredAnswer(t.database.db, headers['idempotency-key']);
    expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { internal_note: 'a later change' }), 200);
    const afterCrash = await api.put(`/compat/stax/invoice/${invoice.guid}`, sample, headers);
    assert.equal(afterCrash.status, 200, afterCrash.text);
    assert.equal(afterCrash.headers['idempotent-replayed'], 'true');
    assert.deepEqual(afterCrash.body, first);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 3, 'nothing redone');
    // The same for a create: 201 and the created invoice, not a second one.
    const createKey = { 'idempotency-key': `stax-create-${invoice.id}` };
    const created = expectStatus(await api.post('/compat/stax/invoice', sample, createKey), 201);
    await forgetStoredAnswer(t.database.db, createKey['idempotency-key']);
    const createdAgain = await api.post('/compat/stax/invoice', sample, createKey);
    assert.equal(createdAgain.status, 201, createdAgain.text);
    assert.deepEqual(createdAgain.body, created);
  });

  test('create: POST /invoice gives a Folio draft in Stax shape, 201 Created as Stax answers', async () => {
    const body = expectStatus(await api.post('/compat/stax/invoice', sample), 201);
    assert.equal(body.status, 'DRAFT');
    assert.equal(body.total, 26.4);
    const native = expectStatus(await api.get(`/v1/invoices/${body.id}`), 200);
    assert.equal(native.guid, body.id);
    assert.deepEqual(native.metadata.qbo, sample.meta.qbo);
  });

  test('files: the listed attachments stay, the others are detached in the same version', async () => {
    const invoice = await newDraft();
    const form = (name: string) => {
      const boundary = 'XyZ';
      const payload = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n${name}\n%%EOF\r\n--${boundary}--\r\n`);
      return api.request('POST', `/v1/invoices/${invoice.id}/attachments`, { rawBody: payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    };
    const a = expectStatus(await form('a.pdf'), 201);
    expectStatus(await form('b.pdf'), 201);
    const current = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    const keep = current.attachments.find((file: any) => file.filename === 'a.pdf');
    const body = expectStatus(await api.put(`/compat/stax/invoice/${invoice.guid}`, { files: [{ id: keep.id }] }), 200);
    assert.deepEqual(body.files.map((file: any) => file.name), ['a.pdf']);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, current.version + 1);
    assert.ok(a);
  });

  test('OpenAPI lists the Stax routes under one tag', async () => {
    await assertOpenApiTag(api, '/compat/stax/', 'dialect: Stax');
  });
});
