import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auditStore } from '../../src/modules/audit/store.js';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { invoiceInState, sampleInvoice } from '../helpers/invoice-states.js';

let t: TestApp;
let api: Client;
let admin: Client;
let tenantId: string;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('life'));
  admin = t.client(await t.key('life', ['admin']));
  tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'life').executeTakeFirstOrThrow()).id;
});
after(() => t.close());

const audit = (invoiceId: string) => auditStore.listForInvoice(t.database.db, tenantId, invoiceId);
const events = (invoiceId: string) =>
  t.database.db.selectFrom('events').select(['type', 'resource_version']).where('resource_id', '=', invoiceId).orderBy('seq').execute();
const setPolicy = async (policy: string) => expectStatus(await admin.patch('/v1/tenant/settings', { edit_policy: policy }), 200);

describe('finalize, void, delete', () => {
  test('finalize: open, number and issue date fixed, due date from terms, one version with audit and event', async () => {
    const draft = expectStatus(await api.post('/v1/invoices', { ...sampleInvoice, due_date: undefined, payment_terms: { net_days: 30 } }), 201);
    const reply = await api.post(`/v1/invoices/${draft.id}/finalize`, undefined, { 'if-match': '"1"' });
    const open = expectStatus(reply, 200);
    assert.equal(reply.headers.etag, '"2"');
    assert.equal(open.status, 'open');
    assert.match(open.number, /^INV-\d{6}$/);
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(open.issue_date, today);
    const due = new Date(`${today}T00:00:00Z`);
    due.setUTCDate(due.getUTCDate() + 30);
    assert.equal(open.due_date, due.toISOString().slice(0, 10));
    assert.ok(open.finalized_at);
    const trail = await audit(draft.id);
    assert.deepEqual(trail.map((event) => [event.version, event.action]), [[1, 'create'], [2, 'finalize']]);
    assert.ok(trail[1].changes.some((change) => change.path === '/status' && change.from === 'draft' && change.to === 'open'));
    assert.deepEqual((await events(draft.id)).map((event) => event.type), ['invoice.created', 'invoice.finalized']);
  });

  test('void an open invoice; a void invoice refuses everything, even internal notes', async () => {
    const open = await invoiceInState(api, 'open');
    const voided = expectStatus(await api.post(`/v1/invoices/${open.id}/void`), 200);
    assert.equal(voided.status, 'void');
    assert.ok(voided.voided_at);
    expectProblem(await api.patch(`/v1/invoices/${open.id}`, { internal_note: 'x' }), 422, 'void-is-final');
    assert.deepEqual((await events(open.id)).map((event) => event.type), ['invoice.created', 'invoice.finalized', 'invoice.voided']);
  });

  test('an open invoice with payments cannot be voided', async () => {
    const open = await invoiceInState(api, 'open');
    expectStatus(await api.post(`/v1/invoices/${open.id}/payments`, { amount: '10.00', date: '2026-01-01', method: 'cash' }), 201);
    expectProblem(await api.post(`/v1/invoices/${open.id}/void`), 422, 'void-with-payments');
  });

  test('delete a draft: 204, then 404; the audit trail keeps the deletion as the last version', async () => {
    const draft = await invoiceInState(api, 'draft');
    assert.equal((await api.delete(`/v1/invoices/${draft.id}`)).status, 204);
    expectProblem(await api.get(`/v1/invoices/${draft.id}`), 404, 'not-found');
    const trail = await audit(draft.id);
    assert.deepEqual(trail.map((event) => [event.version, event.action]), [[1, 'create'], [2, 'delete']]);
    assert.deepEqual((await events(draft.id)).map((event) => event.type), ['invoice.created', 'invoice.deleted']);
  });

  test("another tenant's invoice is a 404 for every transition", async () => {
    const open = await invoiceInState(api, 'open');
    const other = t.client(await t.key('life-other'));
    for (const path of ['finalize', 'void', 'revise', 'payments']) {
      expectProblem(await other.post(`/v1/invoices/${open.id}/${path}`, path === 'payments' ? { amount: '1', date: '2026-01-01', method: 'cash' } : undefined), 404);
    }
    expectProblem(await other.get(`/v1/invoices/${open.id}/editability`), 404);
    expectProblem(await other.delete(`/v1/invoices/${open.id}`), 404);
  });
});

describe('edit policy', () => {
  test('paid invoice: PATCH of lines → 422 naming the rule; PATCH of internal_note → 200', async () => {
    await setPolicy('until_paid');
    const paid = await invoiceInState(api, 'paid');
    const refused = expectProblem(
      await api.patch(`/v1/invoices/${paid.id}`, { lines: [{ id: paid.lines[0].id, quantity: '3' }, { id: paid.lines[1].id }] }),
      422,
      'paid-invoice-financial-fields',
    );
    assert.equal(refused.rule, 'paid-invoice-financial-fields');
    assert.ok(refused.errors.some((error: any) => error.pointer === '/lines'));
    assert.equal(refused.instead, 'revise');
    const noted = expectStatus(await api.patch(`/v1/invoices/${paid.id}`, { internal_note: 'called the customer' }), 200);
    assert.equal(noted.internal_note, 'called the customer');
    assert.equal(noted.version, paid.version + 1);
    assert.equal(noted.status, 'paid');
  });

  test('until_paid: a new total below amount_paid → 422 total-below-amount-paid; above it → 200', async () => {
    await setPolicy('until_paid');
    const open = await invoiceInState(api, 'open'); // total 120.00
    expectStatus(await api.post(`/v1/invoices/${open.id}/payments`, { amount: '100.00', date: '2026-01-01', method: 'cash' }), 201);
    const current = expectStatus(await api.get(`/v1/invoices/${open.id}`), 200);
    const problem = expectProblem(
      await api.patch(`/v1/invoices/${open.id}`, { lines: [{ id: current.lines[0].id, quantity: '1' }, { id: current.lines[1].id }] }), // 55 + 10 = 65
      422,
      'total-below-amount-paid',
    );
    assert.match(problem.detail, /65\.00/);
    const raised = expectStatus(await api.patch(`/v1/invoices/${open.id}`, { lines: [{ id: current.lines[0].id, quantity: '3' }, { id: current.lines[1].id }] }), 200);
    assert.equal(raised.total, '175.00');
    assert.equal(raised.balance, '75.00');
    assert.equal(raised.status, 'open');
  });

  test('finalized number and issue date are fixed in every policy', async () => {
    await setPolicy('until_paid');
    const open = await invoiceInState(api, 'open');
    expectProblem(await api.patch(`/v1/invoices/${open.id}`, { issue_date: '2020-01-01' }), 422, 'finalized-field-fixed');
  });

  test('tenant settings need the admin scope and validate the policy', async () => {
    expectProblem(await api.get('/v1/tenant/settings'), 403, 'forbidden');
    expectProblem(await api.patch('/v1/tenant/settings', { edit_policy: 'draft_only' }), 403, 'forbidden');
    expectProblem(await admin.patch('/v1/tenant/settings', { edit_policy: 'whenever' }), 400, 'validation-error');
    const settings = expectStatus(await admin.get('/v1/tenant/settings'), 200);
    assert.ok(['until_paid', 'draft_only'].includes(settings.edit_policy));
    const changed = expectStatus(await admin.patch('/v1/tenant/settings', { edit_policy: 'draft_only', invoice_number_prefix: 'F-' }), 200);
    assert.equal(changed.edit_policy, 'draft_only');
    const draft = await invoiceInState(api, 'draft');
    assert.match(expectStatus(await api.post(`/v1/invoices/${draft.id}/finalize`), 200).number, /^F-\d{6}$/);
    expectStatus(await admin.patch('/v1/tenant/settings', { edit_policy: 'until_paid', invoice_number_prefix: 'INV-' }), 200);
  });
});

/** A PATCH body that changes `field` from its current value. */
function patchChanging(field: string, invoice: any, customerId: string, round: number): Record<string, unknown> {
  const tag = `${round}-${Math.random().toString(36).slice(2, 8)}`;
  switch (field) {
    case 'number': return { number: `MAN-${tag}` };
    case 'reference': return { reference: `REF-${tag}` };
    case 'purchase_order': return { purchase_order: `PO-${tag}` };
    case 'currency': return { currency: invoice.currency === 'USD' ? 'EUR' : 'USD' };
    case 'exchange_rate': return { exchange_rate: `1.${round + 1}` };
    case 'issue_date': return { issue_date: invoice.issue_date === '2026-01-01' ? '2026-01-02' : '2026-01-01' };
    case 'due_date': return { due_date: invoice.due_date === '2998-01-01' ? '2998-01-02' : '2998-01-01' };
    case 'payment_terms': return { payment_terms: { net_days: (invoice.payment_terms?.net_days ?? 0) + 1 } };
    case 'memo': return { memo: `memo ${tag}` };
    case 'internal_note': return { internal_note: `note ${tag}` };
    case 'metadata': return { metadata: { key: tag } };
    case 'custom_fields': return { custom_fields: { colour: { type: 'string', value: tag } } };
    case 'external_refs': return { external_refs: { erp: tag } };
    case 'customer_id': return { customer_id: invoice.customer_id === customerId ? null : customerId };
    case 'bill_to': return { bill_to: { name: `Buyer ${tag}` } };
    case 'tax_mode': return { tax_mode: invoice.tax_mode === 'exclusive' ? 'inclusive' : 'exclusive' };
    case 'rounding_mode': return { rounding_mode: invoice.rounding_mode === 'half_up' ? 'half_even' : 'half_up' };
    case 'lines': return { lines: [...invoice.lines.map((line: any) => ({ id: line.id })), { description: `Extra ${tag}`, quantity: '1', unit_price: '1.00' }] };
    default: throw new Error(`no PATCH generator for field ${field}`);
  }
}

describe('editability', () => {
  test('GET /editability says what PATCH accepts: every field, in every state, under every policy', async () => {
    const customer = expectStatus(await api.post('/v1/customers', { name: 'Acme' }), 201);
    let checked = 0;
    for (const policy of ['until_paid', 'draft_only']) {
      await setPolicy(policy);
      for (const state of ['draft', 'open', 'paid', 'void'] as const) {
        const invoice = await invoiceInState(api, state);
        const editability = expectStatus(await api.get(`/v1/invoices/${invoice.id}/editability`), 200);
        assert.equal(editability.status, state);
        assert.equal(editability.edit_policy, policy);
        for (const [field, verdict] of Object.entries<any>(editability.fields)) {
          const current = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
          const reply = await api.patch(`/v1/invoices/${invoice.id}`, patchChanging(field, current, customer.id, checked));
          const where = `${policy} / ${state} / ${field}: ${reply.text.slice(0, 300)}`;
          if (verdict.editable) {
            assert.equal(reply.status, 200, where);
            assert.equal(reply.body.version, current.version + 1, where);
          } else {
            assert.equal(reply.status, 422, where);
            assert.equal(reply.body.type, `/problems/${verdict.rule}`, where);
          }
          checked += 1;
        }
      }
    }
    assert.equal(checked, 2 * 4 * 18);
  });

  test('editability explains refusals and names what to do instead', async () => {
    await setPolicy('draft_only');
    const open = await invoiceInState(api, 'open');
    const answer = expectStatus(await api.get(`/v1/invoices/${open.id}/editability`), 200);
    assert.deepEqual(answer.fields.lines, { editable: false, rule: 'draft-only-policy', reason: answer.fields.lines.reason, instead: 'revise' });
    assert.equal(answer.fields.internal_note.editable, true);
    assert.equal(answer.actions.revise.allowed, true);
    assert.equal(answer.actions.finalize.rule, 'finalize-requires-draft');
    await setPolicy('until_paid');
  });
});

describe('dry run', () => {
  test('PATCH ?dry_run=true returns the would-be invoice and the diff; version, audit and events unchanged', async () => {
    const open = await invoiceInState(api, 'open');
    const trailBefore = await audit(open.id);
    const eventsBefore = await events(open.id);
    const reply = await api.patch(`/v1/invoices/${open.id}?dry_run=true`, { lines: [{ id: open.lines[0].id, quantity: '4' }, { id: open.lines[1].id }] });
    const preview = expectStatus(reply, 200);
    assert.equal(preview.dry_run, true);
    assert.equal(reply.headers['folio-dry-run'], 'true');
    assert.equal(preview.total, '230.00');
    assert.equal(preview.version, open.version + 1, 'shows the version it would become');
    assert.ok(preview.changes.some((change: any) => change.path === '/total' && change.from === '120.00' && change.to === '230.00'));
    const stored = expectStatus(await api.get(`/v1/invoices/${open.id}`), 200);
    assert.equal(stored.version, open.version);
    assert.equal(stored.total, '120.00');
    assert.deepEqual(await audit(open.id), trailBefore);
    assert.deepEqual(await events(open.id), eventsBefore);
  });

  test('PUT ?dry_run=true previews a full replacement and writes nothing', async () => {
    const draft = await invoiceInState(api, 'draft');
    const trailBefore = await audit(draft.id);
    const preview = expectStatus(await api.put(`/v1/invoices/${draft.id}?dry_run=true`, { currency: 'USD', lines: [{ quantity: '1', unit_price: '7.00' }] }), 200);
    assert.equal(preview.dry_run, true);
    assert.equal(preview.total, '7.00');
    assert.equal(preview.due_date, null, 'PUT resets what it omits');
    const stored = expectStatus(await api.get(`/v1/invoices/${draft.id}`), 200);
    assert.equal(stored.version, draft.version);
    assert.equal(stored.total, '120.00');
    assert.deepEqual(await audit(draft.id), trailBefore);
  });

  test('a dry run of a refused edit is refused the same way', async () => {
    const paid = await invoiceInState(api, 'paid');
    expectProblem(await api.patch(`/v1/invoices/${paid.id}?dry_run=true`, { memo: 'x' }), 422, 'paid-invoice-financial-fields');
  });
});

describe('revise and credit notes', () => {
  test('revise: one credit note equal to the original total and a linked draft; finalizing the revision supersedes the original', async () => {
    await setPolicy('draft_only');
    const open = await invoiceInState(api, 'open');
    const reply = await api.post(`/v1/invoices/${open.id}/revise`, undefined, { 'x-change-reason': 'wrong quantity' });
    const result = expectStatus(reply, 201);
    const { credit_note: note, revision, original } = result;
    assert.equal(reply.headers.location, `/v1/invoices/${revision.id}`);
    assert.equal(note.total, open.total);
    assert.equal(note.subtotal, open.subtotal);
    assert.equal(note.tax_total, open.tax_total);
    assert.equal(note.lines.length, open.lines.length);
    assert.equal(note.invoice_id, open.id);
    assert.equal(note.revision_id, revision.id);
    assert.equal(note.reason, 'wrong quantity');
    assert.match(note.number, /^CN-\d{6}$/);
    assert.equal(revision.status, 'draft');
    assert.equal(revision.revision_of, open.id);
    assert.equal(revision.number, null);
    assert.equal(revision.total, open.total);
    assert.deepEqual(revision.lines.map((line: any) => line.description), open.lines.map((line: any) => line.description));
    assert.equal(original.revised_by, revision.id);
    assert.equal(original.amount_credited, open.total);
    assert.equal(original.balance, '0.00');

    expectStatus(await api.get(`/v1/credit-notes/${note.id}`), 200);
    const listed = expectStatus(await api.get(`/v1/credit-notes?invoice_id=${open.id}`), 200);
    assert.deepEqual(listed.data.map((item: any) => item.id), [note.id]);

    // While the revision is pending, the original takes no payments, edits or second revision.
    expectProblem(await api.post(`/v1/invoices/${open.id}/revise`), 422, 'revision-pending');
    expectProblem(await api.post(`/v1/invoices/${open.id}/payments`, { amount: '1', date: '2026-01-01', method: 'cash' }), 422, 'revision-pending');
    expectProblem(await api.patch(`/v1/invoices/${open.id}`, { memo: 'changed' }), 422, 'draft-only-policy');
    expectProblem(await api.post('/v1/credit-notes', { invoice_id: open.id, reason: 'x', lines: [{ quantity: '1', unit_price: '1' }] }), 422, 'revision-pending');
    expectProblem(await api.delete(`/v1/invoices/${revision.id}`), 422, 'revision-cannot-be-deleted');

    // The revision is a draft: financial edits are fine even under draft_only.
    const fixed = expectStatus(await api.patch(`/v1/invoices/${revision.id}`, { lines: [{ id: revision.lines[0].id, quantity: '1' }, { id: revision.lines[1].id }] }), 200);
    assert.equal(fixed.total, '65.00');
    const final = expectStatus(await api.post(`/v1/invoices/${revision.id}/finalize`), 200);
    assert.equal(final.status, 'open');
    assert.notEqual(final.number, open.number);
    const superseded = expectStatus(await api.get(`/v1/invoices/${open.id}`), 200);
    assert.equal(superseded.status, 'void');
    const trail = await audit(open.id);
    assert.deepEqual(trail.map((event) => event.action), ['create', 'finalize', 'revise', 'supersede']);
    assert.deepEqual((await events(open.id)).map((event) => event.type), [
      'invoice.created', 'invoice.finalized', 'credit_note.created', 'invoice.revised', 'invoice.voided',
    ]);
    await setPolicy('until_paid');
  });

  test('an invoice that already carries a partial credit is not revised (the revision credits in full)', async () => {
    const open = await invoiceInState(api, 'open');
    expectStatus(await api.post('/v1/credit-notes', { invoice_id: open.id, reason: 'discount', lines: [{ quantity: '1', unit_price: '5.00' }] }), 201);
    expectProblem(await api.post(`/v1/invoices/${open.id}/revise`), 422, 'credit-exceeds-invoice');
  });

  test('the OpenAPI document lists the lifecycle, payment, credit-note and settings endpoints', async () => {
    const doc = expectStatus(await api.get('/openapi.json'), 200);
    for (const path of ['/v1/invoices/{id}/finalize', '/v1/invoices/{id}/void', '/v1/invoices/{id}/revise', '/v1/invoices/{id}/editability',
      '/v1/invoices/{id}/payments', '/v1/invoices/{id}/payments/{paymentId}/refund', '/v1/credit-notes', '/v1/credit-notes/{id}', '/v1/tenant/settings']) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
    assert.ok(doc.paths['/v1/invoices/{id}'].delete);
  });

  test('revising a paid invoice keeps its payment on the original; the payment can still be refunded after it is superseded', async () => {
    const paid = await invoiceInState(api, 'paid');
    const { credit_note: note, original } = expectStatus(await api.post(`/v1/invoices/${paid.id}/revise`), 201);
    assert.equal(note.total, paid.total);
    assert.equal(original.amount_paid, paid.total);
    assert.equal(original.balance, `-${paid.total}`);
    const superseded = await invoiceInState(api, 'superseded');
    const payments = expectStatus(await api.get(`/v1/invoices/${superseded.id}/payments`), 200);
    const refund = expectStatus(await api.post(`/v1/invoices/${superseded.id}/payments/${payments.data[0].id}/refund`), 200);
    assert.equal(refund.status, 'refunded');
    assert.equal(refund.invoice.status, 'void');
    assert.equal(refund.invoice.amount_paid, '0.00');
  });
});
