import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { invoiceInState } from '../helpers/invoice-states.js';

let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('credits'));
});
after(() => t.close());

test('a partial credit note is priced like invoice lines and reduces the balance; more than is left to credit is a 422', async () => {
  const open = await invoiceInState(api, 'open'); // total 120.00
  const reply = await api.post('/v1/credit-notes', {
    invoice_id: open.id,
    reason: 'one hour was not worked',
    lines: [{ description: 'Consulting', quantity: '0.5', unit_price: '50.00', tax_rate: '10' }],
  });
  const note = expectStatus(reply, 201);
  assert.equal(reply.headers.location, `/v1/credit-notes/${note.id}`);
  assert.equal(note.subtotal, '25.00');
  assert.equal(note.tax_total, '2.50');
  assert.equal(note.total, '27.50');
  assert.equal(note.lines[0].gross_amount, '27.50');
  assert.equal(note.invoice.amount_credited, '27.50');
  assert.equal(note.invoice.balance, '92.50');
  assert.equal(note.invoice.status, 'open');
  assert.equal(note.invoice.version, open.version + 1);

  const problem = expectProblem(
    await api.post('/v1/credit-notes', { invoice_id: open.id, reason: 'too much', lines: [{ quantity: '1', unit_price: '92.51' }] }),
    422,
    'credit-exceeds-invoice',
  );
  assert.match(problem.detail, /92\.50/);
  // Paying the rest after the credit makes it paid.
  const paid = expectStatus(await api.post(`/v1/invoices/${open.id}/payments`, { amount: '92.50', date: '2026-01-01', method: 'card' }), 201);
  assert.equal(paid.invoice.status, 'paid');
  assert.equal(paid.invoice.balance, '0.00');

  const fetched = expectStatus(await api.get(`/v1/credit-notes/${note.id}`), 200);
  assert.equal(fetched.total, '27.50');
  assert.equal(fetched.reason, 'one hour was not worked');
  const other = t.client(await t.key('credits-other'));
  expectProblem(await other.get(`/v1/credit-notes/${note.id}`), 404);
  expectProblem(await other.post('/v1/credit-notes', { invoice_id: open.id, reason: 'x', lines: [{ quantity: '1', unit_price: '1' }] }), 404);
  assert.equal(expectStatus(await other.get('/v1/credit-notes'), 200).data.length, 0);
});

test('credit note input is validated: empty lines, zero total, negative amounts, unknown fields', async () => {
  const open = await invoiceInState(api, 'open');
  expectProblem(await api.post('/v1/credit-notes', { invoice_id: open.id, reason: 'x', lines: [] }), 400);
  expectProblem(await api.post('/v1/credit-notes', { invoice_id: open.id, reason: 'x', lines: [{ quantity: '0', unit_price: '5' }] }), 400);
  expectProblem(await api.post('/v1/credit-notes', { invoice_id: open.id, reason: 'x', lines: [{ quantity: '1', unit_price: '-5' }] }), 400);
  expectProblem(await api.post('/v1/credit-notes', { invoice_id: open.id, reason: 'x', lines: [{ quantity: '1', unit_price: '5', total: '5' }] }), 400);
  assert.equal(expectStatus(await api.get(`/v1/invoices/${open.id}`), 200).version, open.version);
});

test('credit notes list newest first with cursor pagination', async () => {
  const open = await invoiceInState(api, 'open');
  const ids: string[] = [];
  for (let index = 0; index < 3; index += 1) {
    ids.push(expectStatus(await api.post('/v1/credit-notes', { invoice_id: open.id, reason: `c${index}`, lines: [{ quantity: '1', unit_price: '1.00' }] }), 201).id);
  }
  const newestFirst = [...ids].sort().reverse(); // ids sort by creation time (same-millisecond ties by their random part)
  const first = expectStatus(await api.get(`/v1/credit-notes?invoice_id=${open.id}&limit=2`), 200);
  assert.deepEqual(first.data.map((note: any) => note.id), newestFirst.slice(0, 2));
  assert.equal(first.has_more, true);
  const second = expectStatus(await api.get(`/v1/credit-notes?invoice_id=${open.id}&limit=2&cursor=${first.next_cursor}`), 200);
  assert.deepEqual(second.data.map((note: any) => note.id), newestFirst.slice(2));
  assert.equal(second.has_more, false);
});
