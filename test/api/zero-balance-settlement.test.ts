import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

/**
 * Nothing owed means paid, however the balance got to zero (issue 13, item 6; docs/lifecycle.md):
 * a total of 0 at finalization (like Stripe's $0 invoices), credit notes, payments, or both.
 */
let t: TestApp;
let api: Client;
before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('zero-balance'));
});
after(() => t.close());

const eventTypes = async (invoiceId: string) =>
  (await t.database.db.selectFrom('events').select('type').where('resource_id', '=', invoiceId).orderBy('seq').execute()).map((row) => row.type);

describe('an invoice with nothing left to pay is paid', () => {
  test('a total of 0 is paid at finalization (events invoice.finalized + invoice.paid); payments are refused', async () => {
    const draft = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Free trial', quantity: '1', unit_price: '0' }] }), 201);
    assert.equal(draft.total, '0.00');
    const finalized = expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200);
    assert.equal(finalized.status, 'paid');
    assert.equal(finalized.balance, '0.00');
    assert.equal(finalized.payment_status, 'paid');
    assert.ok(finalized.number);
    assert.deepEqual((await eventTypes(draft.id)).slice(-2), ['invoice.finalized', 'invoice.paid']);
    expectProblem(await api.post(`/v1/invoices/${draft.id}/payments`, { amount: '1.00', date: '2026-01-01', method: 'card' }), 422, 'invoice-already-paid');
  });

  test('a balance brought to 0 by a credit note is paid, like one brought to 0 by a payment', async () => {
    const draft = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Work', quantity: '1', unit_price: '100' }] }), 201);
    expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200);
    const note = expectStatus(await api.post('/v1/credit-notes', { invoice_id: draft.id, reason: 'not delivered', lines: [{ quantity: '1', unit_price: '100' }] }), 201);
    assert.equal(note.invoice.balance, '0.00');
    assert.equal(note.invoice.status, 'paid');
    assert.equal(note.invoice.payment_status, 'paid');
    assert.equal((await eventTypes(draft.id)).at(-1), 'invoice.paid');

    // Part payment, part credit: the same.
    const mixed = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Work', quantity: '1', unit_price: '100' }] }), 201);
    expectStatus(await api.post(`/v1/invoices/${mixed.id}/finalize`), 200);
    expectStatus(await api.post(`/v1/invoices/${mixed.id}/payments`, { amount: '40.00', date: '2026-01-01', method: 'card' }), 201);
    const mixedNote = expectStatus(await api.post('/v1/credit-notes', { invoice_id: mixed.id, reason: 'discount', lines: [{ quantity: '1', unit_price: '60' }] }), 201);
    assert.equal(mixedNote.invoice.status, 'paid');
  });
});
