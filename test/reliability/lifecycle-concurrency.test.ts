import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { sampleInvoice } from '../helpers/invoice-states.js';

let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('numbering'));
});
after(() => t.close());

test('50 concurrent finalizations in one tenant get 50 distinct, consecutive numbers with no gap', async () => {
  // The drafts are made one by one (not what is under test); the finalizations race.
  const drafts: any[] = [];
  for (let index = 0; index < 50; index += 1) drafts.push(expectStatus(await api.post('/v1/invoices', sampleInvoice), 201));
  const finalized = await Promise.all(drafts.map(async (draft) => expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200)));
  const numbers = finalized.map((invoice) => invoice.number as string).sort();
  const expected = Array.from({ length: 50 }, (_, index) => `INV-${String(index + 1).padStart(6, '0')}`);
  assert.deepEqual(numbers, expected);
  assert.ok(finalized.every((invoice) => invoice.status === 'open'));
});

test('a refused finalization gives no number away; a hand-set number is kept and skipped by the sequence', async () => {
  const draft = expectStatus(await api.post('/v1/invoices', sampleInvoice), 201);
  // Stale If-Match: the transaction is refused after nothing was taken.
  const stale = await api.post(`/v1/invoices/${draft.id}/finalize`, undefined, { 'if-match': '"99"' });
  assert.equal(stale.status, 412);
  const manual = expectStatus(await api.post('/v1/invoices', { ...sampleInvoice, number: 'INV-000052' }), 201);
  const first = expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200);
  assert.equal(first.number, 'INV-000051');
  const kept = expectStatus(await api.post(`/v1/invoices/${manual.id}/finalize`), 200);
  assert.equal(kept.number, 'INV-000052');
  const next = expectStatus(await api.post('/v1/invoices', sampleInvoice), 201);
  // 000052 was used by hand, so the sequence moves past it.
  assert.equal(expectStatus(await api.post(`/v1/invoices/${next.id}/finalize`), 200).number, 'INV-000053');
});

test('concurrent payments never overpay: of 10 racing payments of 20.00 on 120.00, exactly 6 land', async () => {
  const draft = expectStatus(await api.post('/v1/invoices', sampleInvoice), 201);
  const open = expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200);
  assert.equal(open.total, '120.00');
  const replies = await Promise.all(
    Array.from({ length: 10 }, () => api.post(`/v1/invoices/${draft.id}/payments`, { amount: '20.00', date: '2026-01-01', method: 'card' })),
  );
  const statuses = replies.map((reply) => reply.status).sort();
  assert.deepEqual(statuses, [201, 201, 201, 201, 201, 201, 422, 422, 422, 422]);
  assert.ok(replies.filter((reply) => reply.status === 422).every((reply) => reply.body.type.endsWith('/overpayment') || reply.body.type.endsWith('/invoice-already-paid')));
  const final = expectStatus(await api.get(`/v1/invoices/${draft.id}`), 200);
  assert.equal(final.amount_paid, '120.00');
  assert.equal(final.balance, '0.00');
  assert.equal(final.status, 'paid');
  assert.equal(final.version, open.version + 6);
});

test('finalizing a revision while the original is being edited never deadlocks (no 409/5xx, one consistent outcome)', async () => {
  for (let round = 0; round < 10; round += 1) {
    const original = expectStatus(await api.post('/v1/invoices', sampleInvoice), 201);
    expectStatus(await api.post(`/v1/invoices/${original.id}/finalize`), 200);
    const { revision } = expectStatus(await api.post(`/v1/invoices/${original.id}/revise`), 201);
    const [finalize, ...edits] = await Promise.all([
      api.post(`/v1/invoices/${revision.id}/finalize`),
      ...Array.from({ length: 3 }, (_, index) => api.patch(`/v1/invoices/${original.id}`, { internal_note: `round ${round} edit ${index}` })),
    ]);
    assert.equal(finalize.status, 200, finalize.text);
    // An edit that ran before the supersede is applied; one after it meets a void invoice (422).
    for (const edit of edits) assert.ok([200, 422].includes(edit.status), `${edit.status} ${edit.text.slice(0, 300)}`);
    const after = expectStatus(await api.get(`/v1/invoices/${original.id}`), 200);
    assert.equal(after.status, 'void');
    assert.equal(after.version, 3 + 1 + edits.filter((edit) => edit.status === 200).length, 'every accepted edit is one version');
  }
});
