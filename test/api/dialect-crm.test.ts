import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { Client, expectStatus, startTestApp, type Reply, type TestApp } from '../helpers/harness.js';
import { countsFor, historyOf, sameChanges } from '../helpers/dialect-probes.js';
import { forgetStoredAnswer } from '../helpers/dialects.js';

/**
 * CRM.COM dialect (seed 004): invoices/update with an item set that adds, updates and removes
 * in one call; DRAFT only; CRM.COM's envelope; the same write path as a native PATCH.
 */
const updateTemplate = fs.readFileSync(new URL('../fixtures/dialects/crm-invoice-update.json', import.meta.url), 'utf8');
const updatePath = '/compat/crm/invoices/update';

let t: TestApp;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
});
after(() => t.close());

interface Caller {
  api: Client;
  key: string;
  keyId: string;
}

async function caller(tenant: string): Promise<Caller> {
  const created = await createApiKey(t.database.db, { tenantName: tenant, scopes: ['invoices:read', 'invoices:write'] });
  return { api: t.client(created.key), key: created.key, keyId: created.keyId };
}

async function draftWithTwoItems(api: Client, extra: Record<string, unknown> = {}) {
  return expectStatus(await api.post('/v1/invoices', {
    currency: 'EUR',
    lines: [
      { description: 'Consulting', item_code: 'CON-01', quantity: 1, unit_price: '100.00', tax_rate: '20' },
      { description: 'Travel', quantity: 1, unit_price: '30.00' },
    ],
    ...extra,
  }), 201);
}

/** The fixture with its placeholders filled in. */
function fixture(values: Record<string, string>): any {
  return JSON.parse(updateTemplate.replace(/\{\{(\w+)\}\}/g, (_whole, name: string) => values[name]));
}

const update = (body: unknown, headers: Record<string, string> = {}): Promise<Reply> => new Client(t.app, null).post(updatePath, body, headers);

function expectCrmError(reply: Reply, status: number, code?: string) {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.body.data, null);
  assert.equal(typeof reply.body.status.description, 'string');
  assert.notEqual(reply.body.status.code, 'OK');
  if (code) assert.equal(reply.body.status.code, code, reply.text);
  assert.doesNotMatch(reply.text, /at \w+ \(|node_modules|SQL|sqlite|postgres|TypeError/i);
  return reply.body.status;
}

describe('CRM.COM: POST invoices/update', () => {
  test('add + update + remove in one invoice_item_set, with due_on, notes, back_office_code and udf_* → CRM.COM envelope with the seed\'s response fields', async () => {
    const who = await caller('crm-full');
    const invoice = await draftWithTwoItems(who.api);
    const [consulting, travel] = invoice.lines;
    const reply = await update(fixture({ token: who.key, invoice_id: invoice.id, keep_item_id: consulting.id, drop_item_id: travel.id }));
    const body = expectStatus(reply, 200);
    assert.deepEqual(body.status, { code: 'OK', message: '', description: '' });
    const data = body.data;
    for (const field of ['id', 'number', 'reference_number', 'life_cycle_state', 'discount_amount', 'vat_amount', 'tax_amount', 'net_amount', 'total_amount', 'outstanding_amount', 'unsettled_amount', 'issued_on', 'posted_on', 'due_on', 'notes', 'back_office_code', 'invoice_item_set']) {
      assert.ok(field in data, `response has ${field}`);
    }
    assert.equal(data.id, invoice.id);
    assert.equal(data.life_cycle_state, 'DRAFT');
    assert.equal(data.due_on, '2030-06-30');
    assert.equal(data.notes, 'Shared notes for the invoice');
    assert.equal(data.back_office_code, 'BO-2030-0042');
    assert.equal(data.udf_string_1, 'priority customer');
    assert.equal(data.udf_float_1, 12.5);
    assert.equal(data.udf_date_4, '2030-12-31');
    assert.equal(data.udf_string_2, null);
    // 3 × 40 = 120 + 24 tax; 2 × 55.50 = 111 − 10 % = 99.90, no tax.
    assert.equal(data.net_amount, 219.9);
    assert.equal(data.tax_amount, 24);
    assert.equal(data.discount_amount, 11.1);
    assert.equal(data.total_amount, 243.9);
    assert.equal(data.outstanding_amount, 243.9);
    assert.deepEqual(data.invoice_item_set.map((item: any) => [item.id === consulting.id, item.product.code, item.product.name, item.quantity, item.cost]), [
      [true, 'CON-01', 'Consulting', 3, 40],
      [false, 'SUP-01', 'Support hours', 2, 55.5],
    ]);

    const stored = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(stored.memo, 'Shared notes for the invoice');
    assert.equal(stored.external_refs.back_office_code, 'BO-2030-0042');
    assert.deepEqual(stored.custom_fields.udf_float_1, { type: 'number', value: '12.5' });
    assert.deepEqual(stored.custom_fields.udf_date_1, { type: 'date', value: '2030-01-15' });
    assert.deepEqual(stored.custom_fields.udf_string_8, { type: 'string', value: 'region north' });
    assert.equal(stored.lines.length, 2);
    assert.equal(stored.lines[1].item_code, 'SUP-01');
    assert.equal(stored.lines[1].description, 'Support hours');
    assert.equal(stored.version, 2, 'one version for the whole call');
  });

  test('the other seed parameters: accounts receivable (re-link), member account (kept), intended currency (validated, not stored), sub_total and discount_amount items; every seed response field answered', async () => {
    const who = await caller('crm-rest');
    const admin = t.client((await createApiKey(t.database.db, { tenantName: 'crm-rest', scopes: ['invoices:read', 'invoices:write', 'admin'] })).key);
    const customer = expectStatus(await admin.post('/v1/customers', { name: 'Acme Receivables' }), 201);
    const invoice = await draftWithTwoItems(who.api);
    const wrongCurrency = expectCrmError(await update({ token: who.key, invoice_identifier: { id: invoice.id }, intended_currency_identifier: { code: 'USD' }, notes: 'x' }), 400, 'INVALID_PARAMETERS');
    assert.match(wrongCurrency.description, /intended_currency_identifier/);
    assert.equal(expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200).version, 1, 'nothing written');
    const reply = await update({
      token: who.key,
      invoice_identifier: { id: invoice.id },
      intended_currency_identifier: { code: 'EUR' },
      accounts_receivable_identifier: { id: customer.id },
      member_accounts_receivable_identifier: { code: 'MEMBER-7' },
      invoice_item_set: [
        { action: 'update', invoice_item_identifier: { id: invoice.lines[1].id }, quantity: 4, sub_total: 100, discount_amount: 10 },
      ],
    });
    const data = expectStatus(reply, 200).data;
    assert.deepEqual(data.accounts_receivable, { id: customer.id, name: 'Acme Receivables' });
    assert.deepEqual(data.member_account, { code: 'MEMBER-7' });
    const travel = data.invoice_item_set.find((item: any) => item.id === invoice.lines[1].id);
    assert.deepEqual([travel.quantity, travel.cost, travel.discount_amount, travel.sub_total], [4, 25, 10, 90]);
    // The seed's 41 response fields (udf_* ×16 and the log information object among them).
    const seedResponseFields = [
      'id', 'number', 'reference_number', 'life_cycle_state', 'discount_amount', 'vat_amount', 'tax_amount', 'net_amount', 'total_amount', 'outstanding_amount', 'unsettled_amount',
      'issued_on', 'posted_on', 'due_on', 'notes', 'back_office_code',
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `udf_string_${n}`), ...[1, 2, 3, 4].map((n) => `udf_float_${n}`), ...[1, 2, 3, 4].map((n) => `udf_date_${n}`),
      'accounts_receivable', 'member_account', 'type', 'category', 'rejection_reason', 'accounting_period_information', 'currency_rate_period', 'log_information', 'invoice_item_set',
    ];
    assert.equal(seedResponseFields.length, 41);
    assert.deepEqual(seedResponseFields.filter((field) => !(field in data)), []);
    const stored = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(stored.customer_id, customer.id);
    assert.equal(stored.bill_to.name, 'Acme Receivables');
    assert.equal(stored.currency, 'EUR');
    assert.equal(stored.version, 2);
  });

  test('fields_set "id,notes" returns only those fields', async () => {
    const who = await caller('crm-fields');
    const invoice = await draftWithTwoItems(who.api);
    const reply = await update({ token: who.key, invoice_identifier: { id: invoice.id }, notes: 'only these', fields_set: 'id,notes' });
    assert.deepEqual(expectStatus(reply, 200).data, { id: invoice.id, notes: 'only these' });
    expectCrmError(await update({ token: who.key, invoice_identifier: { id: invoice.id }, notes: 'x', fields_set: 'id,colour' }), 400, 'INVALID_PARAMETERS');
    assert.equal(expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200).memo, 'only these', 'the refused call wrote nothing');
  });

  test('invoice_identifier: by number or reference_number; none or two of them → a clear 400', async () => {
    const who = await caller('crm-identify');
    const invoice = await draftWithTwoItems(who.api, { number: 'CRM-0001', reference: 'RF-77' });
    expectStatus(await update({ token: who.key, invoice_identifier: { number: 'CRM-0001' }, notes: 'by number' }), 200);
    const byReference = expectStatus(await update({ token: who.key, invoice_identifier: { reference_number: 'RF-77' }, notes: 'by reference', fields_set: 'id,notes' }), 200);
    assert.deepEqual(byReference.data, { id: invoice.id, notes: 'by reference' });
    for (const identifier of [{}, { id: invoice.id, number: 'CRM-0001' }]) {
      const status = expectCrmError(await update({ token: who.key, invoice_identifier: identifier, notes: 'x' }), 400, 'INVALID_PARAMETERS');
      assert.match(status.description, /exactly one of id, number or reference_number/);
    }
    expectCrmError(await update({ token: who.key, invoice_identifier: { number: 'NOPE-1' }, notes: 'x' }), 404);
  });

  test('only DRAFT invoices, whatever the tenant\'s edit policy: a POSTED invoice → 422 in CRM.COM\'s envelope, nothing written', async () => {
    const who = await caller('crm-posted');
    const invoice = await draftWithTwoItems(who.api);
    const posted = expectStatus(await who.api.post(`/v1/invoices/${invoice.id}/finalize`, {}), 200);
    const status = expectCrmError(await update({ token: who.key, invoice_identifier: { id: invoice.id }, notes: 'too late' }), 422, 'INVOICE_NOT_IN_DRAFT_STATE');
    assert.match(status.description, /DRAFT/);
    const after = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(after.version, posted.version);
    const shown = expectStatus(await new Client(t.app, null).get(`/compat/crm/invoices/show?token=${who.key}&invoice_identifier=id=${invoice.id}&fields_set=life_cycle_state,posted_on`), 200);
    assert.deepEqual(shown.data, { life_cycle_state: 'POSTED', posted_on: after.finalized_at.slice(0, 10) });
    // CANCELLED (void) is refused the same way.
    expectStatus(await who.api.post(`/v1/invoices/${invoice.id}/void`, {}), 200);
    const cancelled = expectCrmError(await update({ token: who.key, invoice_identifier: { id: invoice.id }, notes: 'too late' }), 422, 'INVOICE_NOT_IN_DRAFT_STATE');
    assert.match(cancelled.description, /CANCELLED/);
  });

  test('same write path as the equivalent native PATCH: one version, one audit event, one outbox event, same diff, the key as actor', async () => {
    const who = await caller('crm-vs-native');
    const viaDialect = await draftWithTwoItems(who.api);
    const viaNative = await draftWithTwoItems(who.api);
    const before = await countsFor(t, viaDialect.id);
    expectStatus(await update(fixture({ token: who.key, invoice_id: viaDialect.id, keep_item_id: viaDialect.lines[0].id, drop_item_id: viaDialect.lines[1].id })), 200);
    expectStatus(await who.api.patch(`/v1/invoices/${viaNative.id}`, {
      due_date: '2030-06-30',
      memo: 'Shared notes for the invoice',
      external_refs: { back_office_code: 'BO-2030-0042' },
      custom_fields: {
        udf_string_1: { type: 'string', value: 'priority customer' },
        udf_string_8: { type: 'string', value: 'region north' },
        udf_float_1: { type: 'number', value: '12.5' },
        udf_float_4: { type: 'number', value: '0.75' },
        udf_date_1: { type: 'date', value: '2030-01-15' },
        udf_date_4: { type: 'date', value: '2030-12-31' },
      },
      line_operations: [
        { op: 'update', id: viaNative.lines[0].id, quantity: 3, unit_price: '40.0' },
        { op: 'remove', id: viaNative.lines[1].id },
        { op: 'add', item_code: 'SUP-01', description: 'Support hours', quantity: 2, unit_price: '55.5', discount: { type: 'percent', value: 10 } },
      ],
    }), 200);
    const after = await countsFor(t, viaDialect.id);
    assert.deepEqual({ versions: after.versions - before.versions, audit: after.audit - before.audit, outbox: after.outbox - before.outbox }, { versions: 1, audit: 1, outbox: 1 });
    assert.deepEqual(await countsFor(t, viaNative.id), after);
    const dialectHistory = await historyOf(who.api, viaDialect.id);
    const entry = dialectHistory[dialectHistory.length - 1];
    assert.equal(entry.actor_key_id, who.keyId);
    assert.equal(entry.action, 'update');
    const nativeHistory = await historyOf(who.api, viaNative.id);
    sameChanges(entry.changes, nativeHistory[nativeHistory.length - 1].changes);
  });

  test('refusals are 4xx with CRM.COM\'s body: no or a wrong token, another tenant\'s invoice, unknown item ids, wrong types; nothing written', async () => {
    const owner = await caller('crm-owner');
    const stranger = await caller('crm-stranger');
    const invoice = await draftWithTwoItems(owner.api);
    expectCrmError(await update({ invoice_identifier: { id: invoice.id }, notes: 'x' }), 401, 'INVALID_TOKEN');
    expectCrmError(await update({ token: 'folio_sk_not_a_key', invoice_identifier: { id: invoice.id }, notes: 'x' }), 401, 'INVALID_TOKEN');
    expectCrmError(await update({ token: stranger.key, invoice_identifier: { id: invoice.id }, notes: 'not mine' }), 404, 'INVOICE_NOT_FOUND');
    const unknownItem = expectCrmError(await update({ token: owner.key, invoice_identifier: { id: invoice.id }, invoice_item_set: [{ action: 'update', invoice_item_identifier: { id: 'lin_unknown' }, quantity: 2 }] }), 422);
    assert.match(unknownItem.description, /invoice_item_set\[0\]\.invoice_item_identifier\.id/);
    const bodies: unknown[] = [
      { token: owner.key, invoice_identifier: { id: invoice.id }, udf_float_1: 'a lot' },
      { token: owner.key, invoice_identifier: { id: invoice.id }, due_on: 'tomorrow' },
      { token: owner.key, invoice_identifier: { id: invoice.id }, invoice_item_set: [{ action: 'replace', invoice_item_identifier: { id: invoice.lines[0].id } }] },
      { token: owner.key, invoice_identifier: { id: invoice.id }, invoice_item_set: [{ action: 'add', quantity: 1, cost: 1 }] },
      { token: owner.key, invoice_identifier: { id: invoice.id }, invoice_item_set: [{ action: 'update', invoice_item_identifier: { id: invoice.lines[0].id }, quantity: 'three' }] },
      { token: owner.key, invoice_identifier: { id: invoice.id }, unknown_field: 1 },
    ];
    for (const body of bodies) expectCrmError(await update(body), 400);
    const malformed = await new Client(t.app, null).request('POST', updatePath, { rawBody: '{"token": ', headers: { 'content-type': 'application/json' } });
    expectCrmError(malformed, 400, 'INVALID_REQUEST');
    assert.equal(expectStatus(await owner.api.get(`/v1/invoices/${invoice.id}`), 200).version, 1, 'nothing written');
  });

  test('an Idempotency-Key retry replays the answer; the item is added once', async () => {
    const who = await caller('crm-idem');
    const invoice = await draftWithTwoItems(who.api);
    const body = { token: who.key, invoice_identifier: { id: invoice.id }, invoice_item_set: [{ action: 'add', product_identifier: { code: 'X' }, quantity: 1, cost: 5 }] };
    const first = await update(body, { 'idempotency-key': 'crm-retry-1' });
    expectStatus(first, 200);
    const retry = await update(body, { 'idempotency-key': 'crm-retry-1' });
    expectStatus(retry, 200);
    assert.equal(retry.text, first.text);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    const stored = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(stored.lines.length, 3);
    assert.equal(stored.version, 2);
    // A crash between the commit and the stored answer: the retry rebuilds CRM.COM's envelope (fields_set applied) from the committed version.
    const narrowed = { ...body, invoice_item_set: [{ ...body.invoice_item_set[0], quantity: 2 }], fields_set: 'id,total_amount' };
    const answered = expectStatus(await update(narrowed, { 'idempotency-key': 'crm-retry-2' }), 200);
    assert.deepEqual(answered.data, { id: invoice.id, total_amount: 165 });
    await forgetStoredAnswer(t.database.db, 'crm-retry-2');
    expectStatus(await who.api.patch(`/v1/invoices/${invoice.id}`, { memo: 'a later change' }), 200);
    const afterCrash = await update(narrowed, { 'idempotency-key': 'crm-retry-2' });
    assert.equal(afterCrash.status, 200, afterCrash.text);
    assert.equal(afterCrash.headers['idempotent-replayed'], 'true');
    assert.deepEqual(afterCrash.body, answered);
    const final = expectStatus(await who.api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.deepEqual([final.version, final.lines.length], [4, 4], 'nothing redone');
  });

  test('invoices/create makes a DRAFT from the same fields (items added, currency from intended_currency_identifier); type/category kept and answered', async () => {
    const who = await caller('crm-create');
    expectCrmError(await new Client(t.app, null).post('/compat/crm/invoices/create', {}), 401, 'INVALID_TOKEN');
    const created = await new Client(t.app, null).post('/compat/crm/invoices/create', {
      token: who.key,
      intended_currency_identifier: { code: 'USD' },
      type_identifier: { name: 'Standard invoice' },
      category_identifier: { code: 'SERVICES' },
      due_on: '2030-07-31',
      notes: 'created through CRM.COM',
      udf_string_2: 'web',
      invoice_item_set: [{ action: 'ADD', product_identifier: { code: 'SUP-01', name: 'Support hours' }, quantity: 4, cost: 25 }],
    });
    const data = expectStatus(created, 200).data;
    assert.equal(data.life_cycle_state, 'DRAFT');
    assert.equal(data.currency, 'USD');
    assert.equal(data.total_amount, 100);
    assert.deepEqual(data.type, { name: 'Standard invoice' });
    assert.deepEqual(data.category, { code: 'SERVICES' });
    assert.equal(data.udf_string_2, 'web');
    const stored = expectStatus(await who.api.get(`/v1/invoices/${data.id}`), 200);
    assert.equal(stored.memo, 'created through CRM.COM');
    assert.equal(stored.lines[0].item_code, 'SUP-01');
    const refused = await new Client(t.app, null).post('/compat/crm/invoices/create', { token: who.key, invoice_item_set: [{ action: 'remove', invoice_item_identifier: { id: 'lin_x' } }] });
    expectCrmError(refused, 400, 'INVALID_PARAMETERS');
  });

  test('the OpenAPI document lists the CRM.COM routes under one tag', async () => {
    const spec = expectStatus(await new Client(t.app, null).get('/openapi.json'), 200);
    assert.deepEqual(spec.paths['/compat/crm/invoices/update'].post.tags, ['dialect: CRM.COM']);
    assert.deepEqual(spec.paths['/compat/crm/invoices/show'].get.tags, ['dialect: CRM.COM']);
    assert.deepEqual(spec.paths['/compat/crm/invoices/create'].post.tags, ['dialect: CRM.COM']);
  });
});
