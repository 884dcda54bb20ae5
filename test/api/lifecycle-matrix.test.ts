import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, startTestApp, type Client, type Reply, type TestApp } from '../helpers/harness.js';
import { firstPaymentId, invoiceInState, type FixtureState } from '../helpers/invoice-states.js';

/**
 * The whole state × action × policy matrix, driven through the HTTP API. The expected table is
 * written out here on purpose (not imported from lifecycle.ts), so a change to the rules has to
 * be made twice, deliberately.
 */
type Expected = 'ok' | string; // 'ok' or the problem type slug of the 422
type Policy = 'until_paid' | 'draft_only';
const actions = ['finalize', 'void', 'delete', 'record_payment', 'refund_payment', 'revise', 'credit', 'edit_financial', 'edit_non_financial', 'edit_fixed'] as const;
type Action = (typeof actions)[number];

const same = (value: Expected) => ({ until_paid: value, draft_only: value });
const expected: Record<'draft' | 'open' | 'paid' | 'void', Record<Action, Record<Policy, Expected>>> = {
  draft: {
    finalize: same('ok'),
    void: same('void-requires-open'),
    delete: same('ok'),
    record_payment: same('payment-requires-open'),
    refund_payment: same('payment-requires-open'),
    revise: same('revise-requires-finalized'),
    credit: same('credit-requires-finalized'),
    edit_financial: same('ok'),
    edit_non_financial: same('ok'),
    edit_fixed: same('ok'),
  },
  open: {
    finalize: same('finalize-requires-draft'),
    void: same('ok'),
    delete: same('delete-requires-draft'),
    record_payment: same('ok'),
    refund_payment: same('ok'),
    revise: same('ok'),
    credit: same('ok'),
    edit_financial: { until_paid: 'ok', draft_only: 'draft-only-policy' },
    edit_non_financial: same('ok'),
    edit_fixed: same('finalized-field-fixed'),
  },
  paid: {
    finalize: same('finalize-requires-draft'),
    void: same('void-requires-open'),
    delete: same('delete-requires-draft'),
    record_payment: same('invoice-already-paid'),
    refund_payment: same('ok'),
    revise: same('ok'),
    credit: same('ok'),
    edit_financial: same('paid-invoice-financial-fields'),
    edit_non_financial: same('ok'),
    edit_fixed: same('finalized-field-fixed'),
  },
  void: {
    finalize: same('void-is-final'),
    void: same('void-is-final'),
    delete: same('void-is-final'),
    record_payment: same('void-is-final'),
    // Only a superseded invoice (voided by its finalized revision) holds payments to return.
    refund_payment: same('ok'),
    revise: same('void-is-final'),
    credit: same('void-is-final'),
    edit_financial: same('void-is-final'),
    edit_non_financial: same('void-is-final'),
    edit_fixed: same('void-is-final'),
  },
};

async function perform(api: Client, action: Action, invoice: any): Promise<Reply> {
  const url = `/v1/invoices/${invoice.id}`;
  switch (action) {
    case 'finalize':
    case 'void':
    case 'revise':
      return api.post(`${url}/${action}`);
    case 'delete':
      return api.delete(url);
    case 'credit':
      return api.post('/v1/credit-notes', { invoice_id: invoice.id, reason: 'goodwill', lines: [{ description: 'Goodwill', quantity: '1', unit_price: '2.00' }] });
    case 'record_payment':
      return api.post(`${url}/payments`, { amount: '1.00', date: '2026-02-01', method: 'card' });
    case 'refund_payment': {
      let paymentId = await firstPaymentId(api, invoice.id);
      if (!paymentId && invoice.status === 'open') {
        paymentId = expectStatus(await api.post(`${url}/payments`, { amount: '5.00', date: '2026-02-01', method: 'card' }), 201).id;
      }
      return api.post(`${url}/payments/${paymentId ?? 'pay_none'}/refund`, { amount: '1.00' });
    }
    case 'edit_financial':
      return api.patch(url, { lines: [...invoice.lines.map((line: any) => ({ id: line.id })), { description: 'Extra', quantity: '1', unit_price: '3.00' }] });
    case 'edit_non_financial':
      return api.patch(url, { internal_note: `note ${Math.random()}` });
    case 'edit_fixed':
      return api.patch(url, { number: `MAN-${Math.random().toString(36).slice(2, 10)}` });
  }
}

/** Where an allowed action leaves the invoice (a 1.00 refund reopens a paid invoice; a 1.00 payment leaves it open). */
function statusAfter(state: string, action: Action): string {
  if (action === 'finalize') return 'open';
  if (action === 'void') return 'void';
  if (action === 'refund_payment' && state === 'paid') return 'open';
  return state;
}

let t: TestApp;
let api: Client;
let admin: Client;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('matrix'));
  admin = t.client(await t.key('matrix', ['admin']));
});
after(() => t.close());

for (const policy of ['until_paid', 'draft_only'] as const) {
  describe(`policy ${policy}`, () => {
    before(async () => {
      expectStatus(await admin.patch('/v1/tenant/settings', { edit_policy: policy }), 200);
    });
    for (const state of ['draft', 'open', 'paid', 'void'] as const) {
      for (const action of actions) {
        const want = expected[state][action][policy];
        test(`${state} × ${action} → ${want}`, async () => {
          const fixture: FixtureState = state === 'void' && action === 'refund_payment' ? 'superseded' : state;
          const invoice = await invoiceInState(api, fixture);
          assert.equal(invoice.status, state);
          const versionBefore = (await api.get(`/v1/invoices/${invoice.id}`)).body.version;
          const reply = await perform(api, action, invoice);
          if (want === 'ok') {
            assert.ok(reply.status >= 200 && reply.status < 300, `expected success, got ${reply.status}: ${reply.text.slice(0, 300)}`);
            const stored = await api.get(`/v1/invoices/${invoice.id}`);
            if (action === 'delete') assert.equal(stored.status, 404);
            else assert.equal(stored.body.status, statusAfter(state, action), 'status after the action');
          } else {
            assert.equal(reply.status, 422, reply.text.slice(0, 300));
            assert.equal(reply.headers['content-type']?.toString().split(';')[0], 'application/problem+json');
            assert.equal(reply.body.type, `/problems/${want}`);
            assert.equal(reply.body.rule, want);
            const after = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
            assert.equal(after.version, versionBefore, 'a refused action changes nothing');
            assert.equal(after.status, state);
          }
        });
      }
    }
  });
}
