import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { auditStore } from '../../src/modules/audit/store.js';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

let t: TestApp;
let api: Client;
let tenantId: string;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('pay'));
  tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'pay').executeTakeFirstOrThrow()).id;
});
after(() => t.close());

async function openInvoice(body: Record<string, unknown> = {}) {
  const draft = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', due_date: '2999-01-01', lines: [{ description: 'Work', quantity: '1', unit_price: '100.00' }], ...body }), 201);
  return expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200);
}
const pay = (invoiceId: string, amount: string | number, extra: Record<string, unknown> = {}) =>
  api.post(`/v1/invoices/${invoiceId}/payments`, { amount, date: '2026-03-01', method: 'bank_transfer', ...extra });
const eventTypes = async (invoiceId: string) =>
  (await t.database.db.selectFrom('events').select('type').where('resource_id', '=', invoiceId).orderBy('seq').execute()).map((row) => row.type);

describe('payments', () => {
  test('partial payments add up exactly; the last cent makes the invoice paid; overpayment is a 422', async () => {
    const invoice = await openInvoice();
    assert.equal(invoice.payment_status, 'unpaid');
    for (let index = 0; index < 3; index += 1) expectStatus(await pay(invoice.id, '33.33'), 201);
    const partial = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(partial.amount_paid, '99.99');
    assert.equal(partial.balance, '0.01');
    assert.equal(partial.status, 'open');
    assert.equal(partial.payment_status, 'partially_paid');

    const over = expectProblem(await pay(invoice.id, '0.02'), 422, 'overpayment');
    assert.equal(over.errors[0].pointer, '/amount');
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, partial.version, 'refused payment wrote nothing');

    const reply = await pay(invoice.id, 0.01, { reference: 'BANK-42' });
    const last = expectStatus(reply, 201);
    assert.equal(reply.headers.etag, `"${partial.version + 1}"`);
    assert.equal(last.amount, '0.01');
    assert.equal(last.reference, 'BANK-42');
    assert.equal(last.status, 'succeeded');
    assert.equal(last.invoice.status, 'paid');
    assert.equal(last.invoice.payment_status, 'paid');
    assert.equal(last.invoice.amount_paid, '100.00');
    assert.equal(last.invoice.balance, '0.00');

    const list = expectStatus(await api.get(`/v1/invoices/${invoice.id}/payments`), 200);
    assert.deepEqual(list.data.map((payment: any) => payment.amount), ['33.33', '33.33', '33.33', '0.01']);
    assert.deepEqual(await eventTypes(invoice.id), ['invoice.created', 'invoice.finalized', 'payment.created', 'payment.created', 'payment.created', 'payment.created', 'invoice.paid']);
    const trail = await auditStore.listForInvoice(t.database.db, tenantId, invoice.id);
    assert.deepEqual(trail.map((event) => event.action), ['create', 'finalize', 'payment', 'payment', 'payment', 'payment']);
  });

  test('a refund that reopens the balance moves a paid invoice back to open; partial then full refund', async () => {
    const invoice = await openInvoice();
    const payment = expectStatus(await pay(invoice.id, '100.00'), 201);
    assert.equal(payment.invoice.status, 'paid');
    const partial = expectStatus(await api.post(`/v1/invoices/${invoice.id}/payments/${payment.id}/refund`, { amount: '40.00', reason: 'goodwill' }), 200);
    assert.equal(partial.status, 'partially_refunded');
    assert.equal(partial.refunded_amount, '40.00');
    assert.equal(partial.net_amount, '60.00');
    assert.equal(partial.invoice.status, 'open');
    assert.equal(partial.invoice.amount_paid, '60.00');
    assert.equal(partial.invoice.balance, '40.00');
    assert.equal(partial.invoice.payment_status, 'partially_paid');
    expectProblem(await api.post(`/v1/invoices/${invoice.id}/payments/${payment.id}/refund`, { amount: '60.01' }), 422, 'refund-exceeds-payment');
    const full = expectStatus(await api.post(`/v1/invoices/${invoice.id}/payments/${payment.id}/refund`), 200);
    assert.equal(full.status, 'refunded');
    assert.equal(full.invoice.amount_paid, '0.00');
    assert.equal(full.invoice.balance, '100.00');
    expectProblem(await api.post(`/v1/invoices/${invoice.id}/payments/${payment.id}/refund`), 422, 'refund-exceeds-payment');
    expectProblem(await api.post(`/v1/invoices/${invoice.id}/payments/pay_unknown/refund`), 404, 'not-found');
    assert.deepEqual((await eventTypes(invoice.id)).slice(2), ['payment.created', 'invoice.paid', 'payment.refunded', 'invoice.reopened', 'payment.refunded']);
  });

  test('amounts are exact decimals in the currency minor unit; zero, negative and sub-cent amounts are 400', async () => {
    const invoice = await openInvoice();
    expectProblem(await pay(invoice.id, '0'), 400, 'validation-error');
    expectProblem(await pay(invoice.id, '-5'), 400, 'validation-error');
    expectProblem(await pay(invoice.id, '1.005'), 400, 'validation-error');
    expectProblem(await api.post(`/v1/invoices/${invoice.id}/payments`, { amount: '1', date: '2026-13-45', method: 'cash' }), 400);
    expectProblem(await api.post(`/v1/invoices/${invoice.id}/payments`, { amount: '1', date: '2026-01-01', method: 'cash', extra: 1 }), 400);
    const yen = await openInvoice({ currency: 'JPY', lines: [{ quantity: '1', unit_price: '1000' }] });
    expectProblem(await pay(yen.id, '1.5'), 400, 'validation-error');
    assert.equal(expectStatus(await pay(yen.id, '1000'), 201).invoice.status, 'paid');
  });

  test('payment_status is overdue for an open invoice past its due date', async () => {
    const invoice = await openInvoice({ issue_date: '2020-01-01', due_date: '2020-01-31' });
    assert.equal(invoice.payment_status, 'overdue');
    const partly = expectStatus(await pay(invoice.id, '10.00'), 201);
    assert.equal(partly.invoice.payment_status, 'overdue');
    assert.equal(expectStatus(await pay(invoice.id, '90.00'), 201).invoice.payment_status, 'paid');
  });

  test('If-Match on a payment: a stale version is a 412 and records nothing', async () => {
    const invoice = await openInvoice();
    expectProblem(await api.post(`/v1/invoices/${invoice.id}/payments`, { amount: '1', date: '2026-01-01', method: 'cash' }, { 'if-match': '"1"' }), 412);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}/payments`), 200).data.length, 0);
  });

  test('property: any sequence of payments and refunds keeps amount_paid = Σ net payments and balance = total − amount_paid', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ cents: fc.integer({ min: 1, max: 6000 }), refundCents: fc.integer({ min: 0, max: 6000 }) }), { minLength: 1, maxLength: 6 }),
        async (steps) => {
          const invoice = await openInvoice({ lines: [{ quantity: '1', unit_price: '123.45' }] });
          let paidCents = 0;
          for (const step of steps) {
            const amount = (step.cents / 100).toFixed(2);
            const reply = await pay(invoice.id, amount);
            if (paidCents + step.cents > 12345) {
              assert.equal(reply.status, 422);
              continue;
            }
            assert.equal(reply.status, 201, reply.text);
            paidCents += step.cents;
            const refundCents = Math.min(step.refundCents, step.cents);
            if (refundCents > 0) {
              const refund = await api.post(`/v1/invoices/${invoice.id}/payments/${reply.body.id}/refund`, { amount: (refundCents / 100).toFixed(2) });
              assert.equal(refund.status, 200, refund.text);
              paidCents -= refundCents;
            }
          }
          const final = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
          const payments = expectStatus(await api.get(`/v1/invoices/${invoice.id}/payments`), 200);
          const netCents = payments.data.reduce((sum: number, payment: any) => sum + Math.round(Number(payment.net_amount) * 100), 0);
          assert.equal(final.amount_paid, (paidCents / 100).toFixed(2));
          assert.equal(netCents, paidCents);
          assert.equal(final.balance, ((12345 - paidCents) / 100).toFixed(2));
          assert.equal(final.status, paidCents === 12345 ? 'paid' : 'open');
        },
      ),
      { numRuns: 15 },
    );
  });
});
