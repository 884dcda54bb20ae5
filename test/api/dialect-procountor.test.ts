import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashApiKey } from '../../src/modules/tenants/service.js';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { multipartBody, pdfBytes } from '../helpers/multipart.js';
import { assertNoInternals, assertOpenApiTag, assertSameAsNativePatch, assertUnchanged, forgetStoredAnswer } from '../helpers/dialects.js';

let t: TestApp;
let api: Client;
let apiKey: string;
/** Authenticated the way a Procountor client is: with a token from oauth/token. */
let procountor: Client;
let other: Client;

const base = '/compat/procountor/latest/api';

async function tokenFor(key: string, path = `${base}/oauth/token/`) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'my-app', client_secret: 's3cret', redirect_uri: 'https://example.com/cb', api_key: key });
  return t.client(key).request('POST', path, { rawBody: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: '' } });
}

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  apiKey = await t.key('procountor-a');
  api = t.client(apiKey);
  const token = expectStatus(await tokenFor(apiKey), 200);
  procountor = t.client(token.access_token);
  other = t.client(await t.key('procountor-b'));
});
after(() => t.close());

const draft = {
  currency: 'EUR',
  issue_date: '2026-03-01',
  due_date: '2026-03-15',
  bill_to: { name: 'Oy Asiakas Ab', tax_id: '1234567-8', address: { line1: 'Mannerheimintie 1', city: 'Helsinki', postal_code: '00100', country: 'FI' } },
  lines: [
    { description: 'Consulting', quantity: 2, unit: 'h', unit_price: '100.00', tax_rate: '25.5' },
    { description: 'Licence', quantity: 1, unit_price: '40.00', tax_rate: '25.5' },
  ],
};
const newDraft = async (client = api) => expectStatus(await client.post('/v1/invoices', draft), 201);

describe('Procountor dialect', () => {
  test('oauth/token: form body with api_key → JSON access_token; bad grant or key → OAuth error; the token authenticates, an unknown token is 401', async () => {
    const token = expectStatus(await tokenFor(apiKey, `${base}/oauth/token`), 200);
    assert.match(token.access_token, /^folio_at_/);
    assert.equal(token.token_type, 'bearer');
    assert.equal(token.expires_in, 3600);
    const wrongGrant = await t.client(apiKey).request('POST', `${base}/oauth/token`, { rawBody: 'grant_type=password&api_key=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(wrongGrant.status, 400);
    assert.equal(wrongGrant.body.error, 'unsupported_grant_type');
    const noKey = await t.client(apiKey).request('POST', `${base}/oauth/token`, { rawBody: 'grant_type=client_credentials&client_id=my-app', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(noKey.status, 400);
    assert.equal(noKey.body.error, 'invalid_request', 'OAuth error shape, also for a missing parameter');
    const badKey = await tokenFor('folio_sk_not_a_key');
    assert.equal(badKey.status, 401);
    assert.equal(badKey.body.error, 'invalid_client');
    const invoice = await newDraft();
    const stale = await t.client('folio_at_unknown').get(`${base}/invoices/${invoice.serial}`);
    assert.equal(stale.status, 401, 'the client re-authenticates on 401');
    assert.equal(stale.body.errors[0].status, 401);
    for (const version of ['supported', 'v2001']) {
      assert.equal(expectStatus(await procountor.get(`/compat/procountor/${version}/api/invoices/${invoice.serial}`), 200).id, invoice.serial);
    }
    assert.equal((await procountor.get(`/compat/procountor/v1/api/invoices/${invoice.serial}`)).status, 400);
  });

  test('an expired token → 401 (WWW-Authenticate: Bearer, Procountor error body); the client re-authenticates with oauth/token and carries on', async () => {
    const invoice = await newDraft();
    const first = expectStatus(await tokenFor(apiKey), 200).access_token;
    const client = t.client(first);
    const document = expectStatus(await client.get(`${base}/invoices/${invoice.serial}`), 200);
    // The hour passes.
    await t.database.db.updateTable('access_tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('token_hash', '=', hashApiKey(first)).execute();
    const expired = await client.put(`${base}/invoices/${invoice.serial}`, { ...document, notes: 'after re-auth' });
    assert.equal(expired.status, 401);
    assert.equal(expired.headers['www-authenticate'], 'Bearer');
    assert.equal(expired.body.errors[0].status, 401);
    await assertUnchanged(api, invoice.id, 1);
    const second = expectStatus(await tokenFor(apiKey), 200).access_token;
    assert.notEqual(second, first);
    const retried = expectStatus(await t.client(second).put(`${base}/invoices/${invoice.serial}`, { ...document, notes: 'after re-auth' }), 200);
    assert.equal(retried.notes, 'after re-auth');
    const history = expectStatus(await api.get(`/v1/invoices/${invoice.id}/history`), 200).data;
    assert.equal(history[history.length - 1].actor_key_id, history[0].actor_key_id, 'the token acts as the key it was issued for');
  });

  test('GET → change fields → PUT back: rows by position, payment info, references, counterparty, notes; status unchanged', async () => {
    const invoice = await newDraft();
    const document = expectStatus(await procountor.get(`${base}/invoices/${invoice.serial}`), 200);
    assert.equal(document.id, invoice.serial);
    assert.equal(document.status, 'UNFINISHED');
    assert.equal(document.invoiceRows.length, 2);
    assert.equal(document.totalAmount, 301.2);
    document.invoiceRows[0].quantity = 3;
    document.invoiceRows.push({ product: 'Travel', quantity: 1, unit: 'pcs', unitPrice: 50, vatPercent: 0 });
    document.paymentInfo.dueDate = '2026-03-31';
    document.paymentInfo.bankReferenceCode = 'RF18539007547034';
    document.orderReference = 'PO-55';
    document.additionalInformation = 'Thank you';
    document.notes = 'checked by Anna';
    document.counterParty.counterPartyAddress.city = 'Espoo';
    delete document.totalAmount; // computed totals may be omitted
    delete document.vatAmount;
    for (const row of document.invoiceRows) delete row.totalAmount;
    const updated = expectStatus(await procountor.put(`${base}/invoices/${invoice.serial}`, document), 200);
    assert.equal(updated.status, 'UNFINISHED');
    assert.equal(updated.invoiceRows.length, 3);
    assert.notEqual(updated.version, document.version);
    const native = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(native.lines[0].id, invoice.lines[0].id, 'row 1 is still line 1');
    assert.equal(native.lines[0].quantity, '3');
    assert.equal(native.due_date, '2026-03-31');
    assert.equal(native.reference, 'RF18539007547034');
    assert.equal(native.purchase_order, 'PO-55');
    assert.equal(native.memo, 'Thank you');
    assert.equal(native.internal_note, 'checked by Anna');
    assert.equal(native.bill_to.address.city, 'Espoo');
    assert.equal(native.total, '476.70');
    assert.equal(native.version, 2);
    assert.equal(native.status, 'draft');
  });

  test('a Procountor update leaves the same version, audit diff, actor and outbox event as the equivalent native PATCH', async () => {
    await assertSameAsNativePatch(api, {
      create: draft,
      dialect: async (invoice) => {
        const document = expectStatus(await api.get(`${base}/invoices/${invoice.serial}`), 200);
        document.invoiceRows[1].unitPrice = 45;
        document.notes = 'n';
        delete document.totalAmount;
        delete document.vatAmount;
        for (const row of document.invoiceRows) delete row.totalAmount;
        return api.put(`${base}/invoices/${invoice.serial}`, document);
      },
      native: (invoice) => ({ internal_note: 'n', line_operations: [{ op: 'update', id: invoice.lines[1].id, unit_price: 45 }] }),
    });
  });

  test('version: required, and a stale one → 409, nothing written', async () => {
    const invoice = await newDraft();
    const document = expectStatus(await procountor.get(`${base}/invoices/${invoice.serial}`), 200);
    expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'changed meanwhile' }), 200);
    const stale = await procountor.put(`${base}/invoices/${invoice.serial}`, { ...document, notes: 'mine' });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.errors[0].status, 409);
    const { version: _version, ...withoutVersion } = document;
    const missing = await procountor.put(`${base}/invoices/${invoice.serial}`, withoutVersion);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.errors[0].field, 'version');
    await assertUnchanged(api, invoice.id, 2);
  });

  test('a finalized invoice: changing rows is refused (400, nothing written); notes stay editable; status unchanged', async () => {
    const invoice = await newDraft();
    expectStatus(await api.post(`/v1/invoices/${invoice.id}/finalize`, {}), 200);
    const document = expectStatus(await procountor.get(`${base}/invoices/${invoice.serial}`), 200);
    assert.equal(document.status, 'SENT');
    const rows = structuredClone(document);
    rows.invoiceRows[0].quantity = 5;
    const refused = await procountor.put(`${base}/invoices/${invoice.serial}`, rows);
    assert.equal(refused.status, 400);
    assert.match(refused.body.errors[0].message, /only invoices that are draft/);
    await assertUnchanged(api, invoice.id, 2);
    const notes = expectStatus(await procountor.put(`${base}/invoices/${invoice.serial}`, { ...document, notes: 'paid by card', status: 'PAID' }), 200);
    assert.equal(notes.notes, 'paid by card');
    assert.equal(notes.status, 'SENT', 'PUT never changes the status');
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 3);
    // Paid: notes still editable, rows still refused.
    const paying = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    expectStatus(await api.post(`/v1/invoices/${invoice.id}/payments`, { amount: paying.total, date: '2026-03-10', method: 'bank_transfer' }), 201);
    const paid = expectStatus(await procountor.get(`${base}/invoices/${invoice.serial}`), 200);
    assert.equal(paid.status, 'PAID');
    const paidRows = structuredClone(paid);
    paidRows.invoiceRows[1].unitPrice = 1;
    assert.equal((await procountor.put(`${base}/invoices/${invoice.serial}`, paidRows)).status, 400);
    const paidNotes = expectStatus(await procountor.put(`${base}/invoices/${invoice.serial}`, { ...paid, notes: 'reconciled' }), 200);
    assert.equal(paidNotes.notes, 'reconciled');
    assert.equal(paidNotes.status, 'PAID');
  });

  test("another tenant's invoice → 404; bad bodies → 400 naming Procountor fields, nothing written, no internals; totals checked", async () => {
    const foreign = expectStatus(await other.post('/v1/invoices', { ...draft, memo: 'theirs' }), 201);
    const invoice = await newDraft();
    const mine = expectStatus(await procountor.get(`${base}/invoices/${invoice.serial}`), 200);
    // Serials count per tenant: the same number names the caller's own invoice or none, never another tenant's.
    const sameSerial = await procountor.get(`${base}/invoices/${foreign.serial}`);
    assert.ok(sameSerial.status === 404 || sameSerial.body.additionalInformation !== 'theirs');
    const notFound = await procountor.get(`${base}/invoices/999999`);
    assert.equal(notFound.status, 404);
    assert.equal(notFound.body.errors[0].status, 404);
    assert.equal((await procountor.get(`${base}/invoices/${foreign.id}`)).status, 400, 'ids are integers here');
    const cases: Array<[unknown, string]> = [
      [{ ...mine, invoiceRows: [{ product: 'x', quantity: 'many', unitPrice: 1 }] }, 'invoiceRows[0].quantity'],
      [{ ...mine, paymentInfo: { ...mine.paymentInfo, dueDate: '2026-13-01' } }, 'paymentInfo.dueDate'],
      [{ ...mine, unknownField: 1 }, 'unknownField'],
      [{ ...mine, totalAmount: 1 }, 'totalAmount'],
      [{ ...mine, invoiceRows: mine.invoiceRows.map((row: any, index: number) => (index === 0 ? { ...row, totalAmount: 1 } : row)) }, 'invoiceRows[0].totalAmount'],
      [{ ...mine, attachments: [{ id: 'att_nope' }] }, 'attachments'],
    ];
    for (const [body, field] of cases) {
      const reply = await procountor.put(`${base}/invoices/${invoice.serial}`, body);
      assert.equal(reply.status, 400, `${field}: ${reply.text}`);
      assert.ok(reply.body.errors.some((error: any) => error.field === field), `${field} in ${reply.text}`);
      assertNoInternals(reply);
    }
    const malformed = await procountor.request('PUT', `${base}/invoices/${invoice.serial}`, { rawBody: '{"invoiceRows": [', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.errors[0].status, 400);
    assertNoInternals(malformed);
    await assertUnchanged(api, invoice.id, 1);
    await assertUnchanged(other, foreign.id, 1);
  });

  test('attachments: the listed documents stay, the others are detached; editable after the invoice is sent (proof of service), rows still refused', async () => {
    const invoice = await newDraft();
    for (const filename of ['contract.pdf', 'delivery-note.pdf']) {
      const upload = multipartBody({ filename, contentType: 'application/pdf', bytes: Buffer.concat([pdfBytes, Buffer.from(filename)]) });
      expectStatus(await api.request('POST', `/v1/invoices/${invoice.id}/attachments`, { rawBody: upload.payload, headers: upload.headers }), 201);
    }
    expectStatus(await api.post(`/v1/invoices/${invoice.id}/finalize`, {}), 200);
    const document = expectStatus(await procountor.get(`${base}/invoices/${invoice.serial}`), 200);
    assert.equal(document.status, 'SENT');
    assert.deepEqual(document.attachments.map((attachment: any) => [attachment.name, attachment.mimeType]), [['contract.pdf', 'application/pdf'], ['delivery-note.pdf', 'application/pdf']]);
    const before = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version;
    const kept = document.attachments.filter((attachment: any) => attachment.name === 'delivery-note.pdf');
    const updated = expectStatus(await procountor.put(`${base}/invoices/${invoice.serial}`, { ...document, attachments: kept }), 200);
    assert.deepEqual(updated.attachments.map((attachment: any) => attachment.name), ['delivery-note.pdf']);
    assert.equal(updated.status, 'SENT');
    const native = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(native.version, before + 1, 'one version');
    assert.deepEqual(native.attachments.map((attachment: any) => attachment.filename), ['delivery-note.pdf']);
    const rows = { ...updated, attachments: kept, invoiceRows: updated.invoiceRows.map((row: any, index: number) => (index === 0 ? { ...row, quantity: 9, totalAmount: undefined } : row)) };
    const refused = await procountor.put(`${base}/invoices/${invoice.serial}`, rows);
    assert.equal(refused.status, 400, refused.text);
    await assertUnchanged(api, invoice.id, before + 1);
  });

  test('an Idempotency-Key retry replays; create gives an UNFINISHED invoice with the next serial', async () => {
    const invoice = await newDraft();
    const document = expectStatus(await procountor.get(`${base}/invoices/${invoice.serial}`), 200);
    const headers = { 'idempotency-key': `procountor-${invoice.id}` };
    const first = expectStatus(await procountor.put(`${base}/invoices/${invoice.serial}`, { ...document, notes: 'once' }, headers), 200);
    const retry = await procountor.put(`${base}/invoices/${invoice.serial}`, { ...document, notes: 'once' }, headers);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.deepEqual(retry.body, first);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 2);
    // A crash between the commit and the stored answer: the retry rebuilds Procountor's answer from the committed version.
    await forgetStoredAnswer(t.database.db, headers['idempotency-key']);
    expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'a later change' }), 200);
    const afterCrash = await procountor.put(`${base}/invoices/${invoice.serial}`, { ...document, notes: 'once' }, headers);
    assert.equal(afterCrash.status, 200, afterCrash.text);
    assert.equal(afterCrash.headers['idempotent-replayed'], 'true');
    assert.deepEqual(afterCrash.body, first);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 3, 'nothing redone');
    const created = expectStatus(await procountor.post(`${base}/invoices`, { paymentInfo: { currency: 'EUR' }, invoiceRows: [{ product: 'New', quantity: 1, unitPrice: 10, vatPercent: 24 }] }), 200);
    assert.equal(created.status, 'UNFINISHED');
    assert.ok(created.id > invoice.serial);
    assert.equal(created.totalAmount, 12.4);
  });

  test('OpenAPI lists the Procountor routes under one tag', async () => {
    await assertOpenApiTag(api, '/compat/procountor/', 'dialect: Procountor');
  });
});
