import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { Client, expectStatus, startTestApp, type Reply, type TestApp } from '../helpers/harness.js';
import { countsFor, historyOf, midnightConnection, sameChanges } from '../helpers/dialect-probes.js';
import { forgetStoredAnswer } from '../helpers/dialects.js';

/**
 * PRC / Midnight dialect (seed 002): the seed's JSON and XML samples, verbatim except the Guid,
 * as fixtures; the same write path as a native PATCH; refusals in Midnight's shape.
 */
const jsonSample = fs.readFileSync(new URL('../fixtures/dialects/midnight-invoice-update.json', import.meta.url), 'utf8');
const xmlSample = fs.readFileSync(new URL('../fixtures/dialects/midnight-invoice-update.xml', import.meta.url), 'utf8');
const sampleGuid = '8da872e1-fbca-4a43-8e49-417c9bd9303a';
const updatePath = '/compat/midnight/v1/Generic/InvoiceUpdate';

let t: TestApp;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
});
after(() => t.close());

interface Caller {
  api: Client;
  key: string;
  keyId: string;
  tenantId: string;
  misKey: string;
}

async function caller(tenant: string): Promise<Caller> {
  const created = await createApiKey(t.database.db, { tenantName: tenant, scopes: ['invoices:read', 'invoices:write', 'admin'] });
  const api = t.client(created.key);
  return { api, key: created.key, keyId: created.keyId, tenantId: created.tenantId, misKey: await midnightConnection(api) };
}

/** The key Midnight looks invoices up by: the invoice's guid (the native id works too). */
const guidOf = (invoice: { id: string; guid?: string }) => invoice.guid ?? invoice.id;

async function draft(api: Client, body: Record<string, unknown> = {}) {
  return expectStatus(await api.post('/v1/invoices', { currency: 'EUR', ...body }), 201);
}

function send(who: Caller, body: string, contentType: string, headers: Record<string, string> = {}): Promise<Reply> {
  return who.api.request('POST', updatePath, {
    rawBody: body,
    headers: { authorization: who.key, miskey: who.misKey, 'content-type': contentType, ...headers },
  });
}

/** The seed sample with its figures made consistent with Folio's arithmetic (docs/dialects/midnight.md). */
function consistentJson(guid: string): string {
  const sample = JSON.parse(jsonSample);
  sample.Guid = guid;
  for (const line of sample.InvoiceLine) {
    line.LineSubTotal = 56.0; // 7 × 8
    line.AmountBilled = 73.0; // 56 + Tax 17
  }
  Object.assign(sample, { SubTotalBilledAmount: 472.0, InvoiceTaxAmount: 78.0, TotalBilledAmount: 550.0, PaymentDueAmount: 550.0 });
  return JSON.stringify(sample, null, 2);
}

function consistentXml(guid: string): string {
  return xmlSample
    .replace(sampleGuid, guid)
    .replaceAll('<LineSubTotal>16</LineSubTotal>', '<LineSubTotal>56</LineSubTotal>')
    .replaceAll('<AmountBilled>9</AmountBilled>', '<AmountBilled>73</AmountBilled>')
    .replace('<SubTotalBilledAmount>8</SubTotalBilledAmount>', '<SubTotalBilledAmount>472</SubTotalBilledAmount>')
    .replace('<InvoiceTaxAmount>9</InvoiceTaxAmount>', '<InvoiceTaxAmount>78</InvoiceTaxAmount>')
    .replace('<TotalBilledAmount>10</TotalBilledAmount>', '<TotalBilledAmount>550</TotalBilledAmount>')
    .replace('<PaymentDueAmount>11</PaymentDueAmount>', '<PaymentDueAmount>550</PaymentDueAmount>');
}

function assertSampleApplied(invoice: any) {
  assert.equal(invoice.number, 'sample string 3');
  assert.equal(invoice.issue_date, '2024-04-29');
  assert.equal(invoice.due_date, '2024-04-29');
  assert.equal(invoice.memo, 'sample string 21');
  assert.equal(invoice.internal_note, 'sample string 24');
  assert.equal(invoice.purchase_order, 'sample string 27');
  assert.deepEqual(invoice.bill_to, {
    email: 'sample string 20',
    phone: 'sample string 18',
    address: { line1: 'sample string 12', line2: 'sample string 13', city: 'sample string 15', region: 'sample string 16', postal_code: 'sample string 17' },
  });
  const kept = invoice.metadata.midnight;
  assert.equal(kept.TermsCode, 'sample string 7');
  assert.equal(kept.AddressLine3, 'sample string 14');
  assert.equal(kept.Extension, 'sample string 19');
  assert.equal(kept.ContactID, 1);
  assert.equal(kept.CustomerId, 5);
  assert.equal(invoice.lines.length, 6, 'two InvoiceLines, each with two InvoiceLineItems');
  const parents = invoice.lines.filter((line: any) => line.parent_line_id === null);
  assert.equal(parents.length, 2);
  for (const parent of parents) {
    assert.equal(parent.description, 'sample string 5');
    assert.equal(parent.quantity, '7');
    assert.equal(parent.unit_price, '8.00');
    assert.equal(parent.net_amount, '56.00');
    assert.equal(parent.tax_amount, '17.00');
    const children = invoice.lines.filter((line: any) => line.parent_line_id === parent.id);
    assert.equal(children.length, 2);
    for (const child of children) {
      assert.equal(child.quantity, '9');
      assert.equal(child.unit_price, '10.00');
      assert.equal(child.tax_amount, '11.00');
      assert.equal(child.account_code, 'sample string 12');
    }
  }
  assert.equal(invoice.subtotal, '472.00');
  assert.equal(invoice.tax_total, '78.00');
  assert.equal(invoice.total, '550.00');
}

describe('PRC / Midnight: POST v1/Generic/InvoiceUpdate', () => {
  test('the JSON sample as sent: its totals do not add up → 400 naming the figure, nothing written; made consistent → updated, answers the Guid as a JSON string', async () => {
    const who = await caller('midnight-json');
    const invoice = await draft(who.api);
    const asSent = await send(who, jsonSample.replace(sampleGuid, guidOf(invoice)), 'application/json');
    assert.equal(asSent.status, 400, asSent.text);
    assert.match(asSent.body.Message, /InvoiceLine\[0\]\.LineSubTotal/);
    assert.match(asSent.body.Message, /56\.00/);
    assert.ok(asSent.body.ModelState['request.InvoiceLine[0].LineSubTotal']);
    assert.equal((await historyOf(who.api, invoice.id)).length, 1, 'nothing written');

    const updated = await send(who, consistentJson(guidOf(invoice)), 'application/json');
    assert.equal(updated.status, 200, updated.text);
    assert.match(String(updated.headers['content-type']), /^application\/json/);
    assert.equal(updated.text, JSON.stringify(guidOf(invoice)));
    assertSampleApplied(expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200));
  });

  test('the XML sample as sent → 400 naming the figure; made consistent → updated, answers <string>…</string>', async () => {
    const who = await caller('midnight-xml');
    const invoice = await draft(who.api);
    const asSent = await send(who, xmlSample.replace(sampleGuid, guidOf(invoice)), 'application/xml');
    assert.equal(asSent.status, 400, asSent.text);
    assert.match(asSent.text, /^<\?xml[^>]*\?><Error><Message>[^<]*InvoiceLine\[0\]\.LineSubTotal/);
    assert.equal((await historyOf(who.api, invoice.id)).length, 1, 'nothing written');

    const updated = await send(who, consistentXml(guidOf(invoice)), 'text/xml; charset=utf-8');
    assert.equal(updated.status, 200, updated.text);
    assert.match(String(updated.headers['content-type']), /^application\/xml/);
    assert.equal(updated.text, `<?xml version="1.0" encoding="utf-8"?><string>${guidOf(invoice)}</string>`);
    assertSampleApplied(expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200));
  });

  test('text/json bodies are read like application/json; a second update matches lines by InvoiceLineGuid and keeps their ids', async () => {
    const who = await caller('midnight-text-json');
    const invoice = await draft(who.api);
    expectStatus(await send(who, consistentJson(guidOf(invoice)), 'text/json'), 200);
    const first = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
    const read = await who.api.request('GET', `/compat/midnight/v1/Generic/InvoiceSelect?Guid=${guidOf(invoice)}`, { headers: { authorization: `Bearer ${who.key}`, miskey: who.misKey } });
    const shape = expectStatus(read, 200);
    assert.equal(shape.InvoiceLine.length, 2);
    assert.equal(shape.InvoiceLine[0].InvoiceLineItem.length, 2);
    assert.equal(shape.TermsCode, 'sample string 7');
    assert.equal(shape.TotalBilledAmount, 550);
    if (shape.InvoiceLine[0].InvoiceLineGuid) {
      // Round trip: send back what InvoiceSelect answered, with one quantity changed.
      shape.InvoiceLine[0].InvoiceLineItem[0].Quantity = 10;
      for (const name of ['SubTotalBilledAmount', 'InvoiceTaxAmount', 'TotalBilledAmount', 'PaymentDueAmount']) delete shape[name];
      delete shape.InvoiceLine[0].LineSubTotal;
      delete shape.InvoiceLine[0].AmountBilled;
      expectStatus(await send(who, JSON.stringify(shape), 'application/json'), 200);
      const second = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
      assert.deepEqual(second.lines.map((line: any) => line.id), first.lines.map((line: any) => line.id), 'same lines, same ids');
      assert.equal(second.lines[1].quantity, '10');
    }
  });

  test('a request whose money figures are all zero is accepted', async () => {
    const who = await caller('midnight-zero');
    const invoice = await draft(who.api);
    const zero = JSON.parse(jsonSample);
    zero.Guid = guidOf(invoice);
    zero.InvoiceNumber = null;
    for (const name of ['SubTotalBilledAmount', 'InvoiceTaxAmount', 'TotalBilledAmount', 'PaymentDueAmount']) zero[name] = 0.0;
    for (const line of zero.InvoiceLine) {
      Object.assign(line, { Quantity: 0.0, Rate: 0.0, AmountBilled: 0.0, LineSubTotal: 0.0, Tax: 0.0, PreviouslyInvoiced: 0.0, InitialTotal: 0.0 });
      for (const item of line.InvoiceLineItem) Object.assign(item, { Quantity: 0.0, Amount: 0.0, Tax: 0.0, AmountApplied: 0.0 });
    }
    const reply = await send(who, JSON.stringify(zero), 'application/json');
    assert.equal(reply.status, 200, reply.text);
    const stored = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(stored.lines.length, 6);
    assert.equal(stored.total, '0.00');
  });

  test('same write path as the equivalent native PATCH: one version, one audit event, one outbox event, same diff, the key as actor', async () => {
    const who = await caller('midnight-vs-native');
    const lines = [{ description: 'Design', quantity: '2', unit_price: '100.00' }];
    const viaDialect = await draft(who.api, { lines });
    const viaNative = await draft(who.api, { lines });
    const before = await countsFor(t, viaDialect.id);

    const reply = await send(who, JSON.stringify({
      Guid: guidOf(viaDialect),
      InvoiceNote: 'Thanks for your order',
      Note: 'checked by AR',
      InvoiceDueDate: '2030-05-31T00:00:00-04:00',
      PurchaseOrderNumber: 'PO-77',
      City: 'Boston',
      TotalBilledAmount: 210.0,
      InvoiceLine: [
        { Title: 'Design', Quantity: 2, Rate: 100, LineSubTotal: 200.0 },
        { Title: 'Printing', Quantity: 1, Rate: 0, InvoiceLineItem: [{ Quantity: 2, Amount: 5, AccountingGLID: '4000', ServiceID: 7 }] },
      ],
    }), 'application/json');
    expectStatus(reply, 200);
    expectStatus(await who.api.patch(`/v1/invoices/${viaNative.id}`, {
      memo: 'Thanks for your order',
      internal_note: 'checked by AR',
      due_date: '2030-05-31',
      purchase_order: 'PO-77',
      bill_to: { address: { city: 'Boston' } },
      total: '210.00',
      lines: [
        { description: 'Design', quantity: 2, unit_price: 100 },
        { description: 'Printing', quantity: 1, unit_price: 0, ref: 'printing' },
        { quantity: 2, unit_price: 5, account_code: '4000', item_code: '7', parent_ref: 'printing' },
      ],
    }), 200);

    const after = await countsFor(t, viaDialect.id);
    assert.deepEqual({ versions: after.versions - before.versions, audit: after.audit - before.audit, outbox: after.outbox - before.outbox }, { versions: 1, audit: 1, outbox: 1 });
    const dialectHistory = await historyOf(who.api, viaDialect.id);
    const nativeHistory = await historyOf(who.api, viaNative.id);
    const dialectEntry = dialectHistory[dialectHistory.length - 1];
    assert.equal(dialectEntry.version, 2);
    assert.equal(dialectEntry.action, 'update');
    assert.equal(dialectEntry.actor_key_id, who.keyId);
    sameChanges(dialectEntry.changes, nativeHistory[nativeHistory.length - 1].changes);
    assert.deepEqual(await countsFor(t, viaNative.id), after);
  });

  test('the API key as Bearer or bare; no key, a wrong key or no MISKEY → 401 in Midnight\'s shape', async () => {
    const who = await caller('midnight-auth');
    const invoice = await draft(who.api);
    const body = JSON.stringify({ Guid: guidOf(invoice), InvoiceNote: 'bearer' });
    expectStatus(await send(who, body, 'application/json', { authorization: `Bearer ${who.key}` }), 200);
    // The native id works as the Guid too; the answer is still the invoice's Guid.
    const byNativeId = await send(who, JSON.stringify({ Guid: invoice.id, InvoiceNote: 'bearer' }), 'application/json');
    assert.equal(byNativeId.text, JSON.stringify(invoice.guid));
    for (const headers of [{ authorization: '' }, { authorization: 'Bearer folio_sk_wrong' }, { miskey: '' }] as Record<string, string>[]) {
      const reply = await send(who, body, 'application/json', headers);
      assert.equal(reply.status, 401, JSON.stringify(headers));
      assert.equal(typeof reply.body.Message, 'string');
    }
    const unknownConnection = await send(who, body, 'application/json', { miskey: 'con_doesnotexist' });
    assert.equal(unknownConnection.status, 401, 'MISKEY must be a connection of the tenant');
    const otherTenant = await caller('midnight-auth-other');
    const foreignConnection = await send(who, body, 'application/json', { miskey: otherTenant.misKey });
    assert.equal(foreignConnection.status, 401, 'another tenant\'s connection is not a MISKEY of this one');
    assert.equal(expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200).version, 2, 'only the first call wrote');
  });

  test('a paid invoice: a financial change → 400 {"Message"} naming the rule (JSON and XML), nothing written; Note stays editable', async () => {
    const who = await caller('midnight-paid');
    const invoice = await draft(who.api, { lines: [{ description: 'Design', quantity: '1', unit_price: '100.00' }] });
    expectStatus(await who.api.post(`/v1/invoices/${invoice.id}/finalize`, {}), 200);
    expectStatus(await who.api.post(`/v1/invoices/${invoice.id}/payments`, { amount: '100.00', date: '2026-01-10', method: 'card' }), 201);
    const paid = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(paid.status, 'paid');
    const lines = JSON.stringify({ Guid: guidOf(invoice), InvoiceLine: [{ Title: 'Design', Quantity: 2, Rate: 100 }] });
    const refused = await send(who, lines, 'application/json');
    assert.equal(refused.status, 400, refused.text);
    assert.match(refused.body.Message, /paid/i);
    assert.doesNotMatch(refused.text, /at \w+ \(|node_modules|SQL|sqlite|postgres/i);
    const xml = await send(who, `<InvoiceUpdateRequest><Guid>${guidOf(invoice)}</Guid><InvoiceDueDate>2030-01-01T00:00:00</InvoiceDueDate></InvoiceUpdateRequest>`, 'text/xml');
    assert.equal(xml.status, 400, xml.text);
    assert.match(xml.text, /<Error><Message>[^<]*paid/i);
    assert.equal(expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200).version, paid.version, 'nothing written');
    expectStatus(await send(who, JSON.stringify({ Guid: guidOf(invoice), Note: 'paid by card' }), 'application/json'), 200);
    assert.equal(expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200).internal_note, 'paid by card');
  });

  test('another tenant\'s invoice and an unknown Guid → 404 {"Message": …}', async () => {
    const owner = await caller('midnight-owner');
    const stranger = await caller('midnight-stranger');
    const invoice = await draft(owner.api);
    for (const guid of [guidOf(invoice), '00000000-0000-4000-8000-000000000000']) {
      const reply = await send(stranger, JSON.stringify({ Guid: guid, InvoiceNote: 'not mine' }), 'application/json');
      assert.equal(reply.status, 404, reply.text);
      assert.match(reply.body.Message, /No invoice with Guid/);
    }
    const xmlReply = await send(stranger, `<InvoiceUpdateRequest><Guid>${guidOf(invoice)}</Guid></InvoiceUpdateRequest>`, 'application/xml');
    assert.equal(xmlReply.status, 404);
    assert.match(xmlReply.text, /<Error><Message>/);
    assert.equal(expectStatus(await owner.api.get(`/v1/invoices/${invoice.id}`), 200).version, 1);
  });

  test('bad bodies → 400, nothing written, no internals: wrong types, missing Guid, malformed XML, DTDs, wrong root', async () => {
    const who = await caller('midnight-bad');
    const invoice = await draft(who.api);
    const guid = guidOf(invoice);
    const cases: Array<[string, string]> = [
      [JSON.stringify({ Guid: guid, InvoiceID: 'two' }), 'application/json'],
      [JSON.stringify({ Guid: guid, InvoiceLine: [{ Quantity: 'many' }] }), 'application/json'],
      [JSON.stringify({ Guid: guid, InvoiceDate: 'yesterday' }), 'application/json'],
      [JSON.stringify({ Guid: guid, Unknown: 1 }), 'application/json'],
      [JSON.stringify({ InvoiceNote: 'no guid' }), 'application/json'],
      ['{"Guid": ', 'application/json'],
      [`<InvoiceUpdateRequest><Guid>${guid}</Guid><InvoiceNote>x</InvoiceUpdateRequest>`, 'application/xml'],
      [`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><InvoiceUpdateRequest><Guid>${guid}</Guid><Note>&e;</Note></InvoiceUpdateRequest>`, 'application/xml'],
      [`<InvoiceInsertRequest><Guid>${guid}</Guid></InvoiceInsertRequest>`, 'text/xml'],
      [`<InvoiceUpdateRequest><Guid>${guid}</Guid><InvoiceLine><InvoiceLineSelectResponse><Rate>cheap</Rate></InvoiceLineSelectResponse></InvoiceLine></InvoiceUpdateRequest>`, 'application/xml'],
    ];
    for (const [body, type] of cases) {
      const reply = await send(who, body, type);
      assert.equal(reply.status, 400, `${body.slice(0, 80)} → ${reply.status} ${reply.text}`);
      assert.doesNotMatch(reply.text, /at \w+ \(|node_modules|SQL|sqlite|postgres|TypeError/i);
      if (type.includes('json')) assert.equal(typeof reply.body.Message, 'string');
      else assert.match(reply.text, /<Error><Message>/);
    }
    assert.equal((await historyOf(who.api, invoice.id)).length, 1, 'nothing written');
  });

  test('an Idempotency-Key retry replays the answer and writes nothing more', async () => {
    const who = await caller('midnight-idem');
    const invoice = await draft(who.api);
    const body = JSON.stringify({ Guid: guidOf(invoice), InvoiceLine: [{ Title: 'Added once', Quantity: 1, Rate: 5 }] });
    const first = await send(who, body, 'application/json', { 'idempotency-key': 'midnight-retry-1' });
    expectStatus(first, 200);
    const retry = await send(who, body, 'application/json', { 'idempotency-key': 'midnight-retry-1' });
    expectStatus(retry, 200);
    assert.equal(retry.text, first.text);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    const stored = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(stored.version, 2);
    assert.equal(stored.lines.length, 1);
    // A crash between the commit and the stored answer: the retry answers the bare string again, in the request's format (XML here).
    const xml = `<InvoiceUpdateRequest><Guid>${guidOf(invoice)}</Guid><Note>after a crash</Note></InvoiceUpdateRequest>`;
    const answered = await send(who, xml, 'application/xml', { 'idempotency-key': 'midnight-retry-2' });
    assert.equal(answered.status, 200, answered.text);
    await forgetStoredAnswer(t.database.db, 'midnight-retry-2');
    expectStatus(await who.api.patch(`/v1/invoices/${invoice.id}`, { memo: 'a later change' }), 200);
    const afterCrash = await send(who, xml, 'application/xml', { 'idempotency-key': 'midnight-retry-2' });
    assert.equal(afterCrash.status, 200, afterCrash.text);
    assert.equal(afterCrash.headers['idempotent-replayed'], 'true');
    assert.match(String(afterCrash.headers['content-type']), /^application\/xml/);
    assert.equal(afterCrash.text, answered.text);
    assert.equal(expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200).version, 4, 'nothing redone');
  });

  test('InvoiceInsert creates a draft from the XML sample (its Guid ignored) and answers the new Guid; PaymentDueAmount is checked as the new balance', async () => {
    const who = await caller('midnight-insert');
    const reply = await who.api.request('POST', '/compat/midnight/v1/Generic/InvoiceInsert', {
      rawBody: consistentXml(sampleGuid),
      headers: { authorization: who.key, miskey: who.misKey, 'content-type': 'application/xml' },
    });
    assert.equal(reply.status, 200, reply.text);
    const guid = /<string>([0-9a-f-]{36})<\/string>/.exec(reply.text)?.[1];
    assert.ok(guid && guid !== sampleGuid, reply.text);
    const created = expectStatus(await who.api.get(`/v1/invoices/${guid}`), 200);
    assert.equal(created.status, 'draft');
    assert.equal(created.version, 1);
    assertSampleApplied(created);

    const inconsistent = await who.api.request('POST', '/compat/midnight/v1/Generic/InvoiceInsert', {
      rawBody: JSON.stringify({ InvoiceNote: 'new', TotalBilledAmount: 0, PaymentDueAmount: 5 }),
      headers: { authorization: who.key, miskey: who.misKey, 'content-type': 'application/json' },
    });
    assert.equal(inconsistent.status, 400, inconsistent.text);
    assert.match(inconsistent.body.Message, /PaymentDueAmount.*0\.00/);
  });

  test('XML members marked xsi:nil="true" (how .NET writes unset nullable values) mean "unchanged"', async () => {
    const who = await caller('midnight-nil');
    const invoice = await draft(who.api, { memo: 'keep me' });
    const body = `<InvoiceUpdateRequest xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Guid>${guidOf(invoice)}</Guid><CustomerId xsi:nil="true" /><InvoiceNote xsi:nil="true" /><Note>set</Note></InvoiceUpdateRequest>`;
    expectStatus(await send(who, body, 'application/xml'), 200);
    const stored = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(stored.memo, 'keep me');
    assert.equal(stored.internal_note, 'set');
  });

  test('the OpenAPI document lists the Midnight routes under one tag', async () => {
    const spec = expectStatus(await new Client(t.app, null).get('/openapi.json'), 200);
    assert.deepEqual(spec.paths['/compat/midnight/v1/Generic/InvoiceUpdate'].post.tags, ['dialect: PRC / Midnight']);
    assert.deepEqual(spec.paths['/compat/midnight/v1/Generic/InvoiceSelect'].get.tags, ['dialect: PRC / Midnight']);
    assert.deepEqual(spec.paths['/compat/midnight/v1/Generic/InvoiceInsert'].post.tags, ['dialect: PRC / Midnight']);
  });
});
