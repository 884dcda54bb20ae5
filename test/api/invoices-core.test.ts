import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auditStore } from '../../src/modules/audit/store.js';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

let t: TestApp;
let api: Client;
let tenantId: string;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('core-a'));
  tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'core-a').executeTakeFirstOrThrow()).id;
});
after(() => t.close());

const twoLines = {
  currency: 'USD',
  memo: 'Thanks',
  lines: [
    { description: 'Consulting', quantity: '3', unit_price: '100.00', tax_rate: '20' },
    { description: 'Travel', quantity: 1, unit_price: '45.50' },
  ],
};

async function createInvoice(body: unknown = twoLines) {
  return expectStatus(await api.post('/v1/invoices', body), 201);
}

describe('invoice create and update', () => {
  test('create computes totals on the server and returns ETag "1"', async () => {
    const reply = await api.post('/v1/invoices', twoLines);
    const invoice = expectStatus(reply, 201);
    assert.equal(reply.headers.etag, '"1"');
    assert.equal(reply.headers.location, `/v1/invoices/${invoice.id}`);
    assert.match(invoice.id, /^inv_[0-9a-z]{26}$/);
    assert.equal(invoice.status, 'draft');
    assert.equal(invoice.version, 1);
    assert.equal(invoice.subtotal, '345.50');
    assert.equal(invoice.tax_total, '60.00');
    assert.equal(invoice.total, '405.50');
    assert.equal(invoice.balance, '405.50');
    assert.deepEqual(invoice.lines.map((line: any) => line.position), [1, 2]);
    assert.equal(invoice.lines[0].gross_amount, '360.00');
  });

  test('create → patch a header field → add, update and remove lines in one PATCH', async () => {
    const created = await createInvoice();
    const headerPatch = await api.patch(`/v1/invoices/${created.id}`, { memo: 'Updated memo', purchase_order: 'PO-7' }, { 'if-match': '"1"' });
    const v2 = expectStatus(headerPatch, 200);
    assert.equal(v2.version, 2);
    assert.equal(headerPatch.headers.etag, '"2"');
    assert.equal(v2.memo, 'Updated memo');
    assert.equal(v2.purchase_order, 'PO-7');
    assert.equal(v2.total, '405.50', 'header edit leaves totals alone');

    const [consulting, travel] = v2.lines;
    const v3 = expectStatus(
      await api.patch(`/v1/invoices/${created.id}`, {
        line_operations: [
          { op: 'update', id: consulting.id, quantity: '2.5' },
          { op: 'remove', id: travel.id },
          { op: 'add', description: 'Hotel', quantity: 2, unit_price: '89.99', tax_rate: '10', discount: { type: 'percent', value: '5' } },
        ],
      }, { 'if-match': '"2"' }),
      200,
    );
    assert.equal(v3.version, 3);
    assert.equal(v3.lines.length, 2);
    assert.equal(v3.lines[0].id, consulting.id, 'updated line keeps its id');
    assert.equal(v3.lines[0].quantity, '2.5');
    assert.equal(v3.lines[0].net_amount, '250.00');
    assert.equal(v3.lines[0].tax_amount, '50.00');
    // Hotel: 2 × 89.99 = 179.98, −5 % = 170.981 → 170.98; tax 10 % = 17.098 → 17.10
    assert.equal(v3.lines[1].description, 'Hotel');
    assert.equal(v3.lines[1].net_amount, '170.98');
    assert.equal(v3.lines[1].discount_amount, '9.00');
    assert.equal(v3.lines[1].tax_amount, '17.10');
    assert.equal(v3.subtotal, '420.98');
    assert.equal(v3.discount_total, '9.00');
    assert.equal(v3.tax_total, '67.10');
    assert.equal(v3.total, '488.08');
    assert.deepEqual(v3.tax_breakdown, [
      { tax_rate: '10', taxable_amount: '170.98', tax_amount: '17.10' },
      { tax_rate: '20', taxable_amount: '250.00', tax_amount: '50.00' },
    ]);

    const fetched = await api.get(`/v1/invoices/${created.id}`);
    assert.equal(fetched.headers.etag, '"3"');
    assert.deepEqual(fetched.body, v3);
  });

  test('lines as the full desired set: with id updated, without id added, missing removed', async () => {
    const created = await createInvoice();
    const [keep, drop] = created.lines;
    const updated = expectStatus(
      await api.patch(`/v1/invoices/${created.id}`, {
        lines: [{ description: 'New first' , quantity: 1, unit_price: 5 }, { id: keep.id, unit_price: '110' }],
      }),
      200,
    );
    assert.equal(updated.lines.length, 2);
    assert.equal(updated.lines[0].description, 'New first');
    assert.equal(updated.lines[1].id, keep.id);
    assert.equal(updated.lines[1].description, 'Consulting', 'PATCH keeps the line fields it does not mention');
    assert.equal(updated.lines[1].unit_price, '110.00');
    assert.ok(!updated.lines.some((line: any) => line.id === drop.id));
    assert.equal(updated.total, '401.00'); // 5 + 330 + 66 tax
  });

  test('version increases by exactly 1 per update and each update writes one audit event with its diff', async () => {
    const created = await createInvoice();
    for (let i = 1; i <= 4; i++) {
      const reply = expectStatus(await api.patch(`/v1/invoices/${created.id}`, { internal_note: `note ${i}` }), 200);
      assert.equal(reply.version, i + 1);
    }
    const line = created.lines[1];
    expectStatus(await api.patch(`/v1/invoices/${created.id}`, { line_operations: [{ op: 'update', id: line.id, quantity: 2 }] }), 200);
    const events = await auditStore.listForInvoice(t.database.db, tenantId, created.id);
    assert.deepEqual(events.map((event) => event.version), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(events.map((event) => event.action), ['create', 'update', 'update', 'update', 'update', 'update']);
    assert.deepEqual(events[2].changes, [{ path: '/internal_note', from: 'note 1', to: 'note 2' }]);
    const lineChanges = events[5].changes.map((change) => change.path);
    assert.deepEqual(lineChanges.sort(), [
      `/lines/${line.id}/amount_before_discount`,
      `/lines/${line.id}/gross_amount`,
      `/lines/${line.id}/net_amount`,
      `/lines/${line.id}/quantity`,
      '/balance',
      '/subtotal',
      '/tax_breakdown',
      '/total',
    ].sort());
    const quantityChange = events[5].changes.find((change) => change.path.endsWith('/quantity'));
    assert.deepEqual(quantityChange, { path: `/lines/${line.id}/quantity`, from: '1', to: '2' });
    assert.ok(events.every((event) => event.actorKeyId?.startsWith('key_') && event.requestId));
  });

  test('a PATCH that changes nothing creates no version', async () => {
    const created = await createInvoice();
    const reply = expectStatus(await api.patch(`/v1/invoices/${created.id}`, { memo: 'Thanks' }), 200);
    assert.equal(reply.version, 1);
    assert.equal((await auditStore.listForInvoice(t.database.db, tenantId, created.id)).length, 1);
  });

  test('stale If-Match → 412 and nothing changes', async () => {
    const created = await createInvoice();
    expectStatus(await api.patch(`/v1/invoices/${created.id}`, { memo: 'v2' }, { 'if-match': '"1"' }), 200);
    const stale = await api.patch(`/v1/invoices/${created.id}`, { memo: 'lost update', lines: [] }, { 'if-match': '"1"' });
    const problem = expectProblem(stale, 412, 'precondition-failed');
    assert.equal(problem.current_version, 2);
    const now = expectStatus(await api.get(`/v1/invoices/${created.id}`), 200);
    assert.equal(now.version, 2);
    assert.equal(now.memo, 'v2');
    assert.equal(now.lines.length, 2);
    assert.equal((await auditStore.listForInvoice(t.database.db, tenantId, created.id)).length, 2);
    expectProblem(await api.patch(`/v1/invoices/${created.id}`, { memo: 'x' }, { 'if-match': 'garbage' }), 400, 'validation-error');
  });

  test('PUT replaces the editable representation: what it omits is reset', async () => {
    const created = await createInvoice({
      ...twoLines,
      reference: 'RF-1',
      internal_note: 'secret',
      metadata: { a: '1' },
      payment_terms: { net_days: 30 },
      issue_date: '2026-01-10',
    });
    assert.equal(created.due_date, '2026-02-09', 'due date follows net days');
    const [first] = created.lines;
    const replaced = expectStatus(
      await api.put(`/v1/invoices/${created.id}`, { currency: 'USD', lines: [{ id: first.id, unit_price: '10' }] }, { 'if-match': '"1"' }),
      200,
    );
    assert.equal(replaced.version, 2);
    assert.equal(replaced.memo, null);
    assert.equal(replaced.reference, null);
    assert.equal(replaced.internal_note, null);
    assert.deepEqual(replaced.metadata, {});
    assert.equal(replaced.payment_terms, null);
    assert.equal(replaced.issue_date, null);
    assert.equal(replaced.lines.length, 1);
    assert.equal(replaced.lines[0].id, first.id);
    assert.equal(replaced.lines[0].description, null, 'PUT resets line fields it omits');
    assert.equal(replaced.lines[0].quantity, '1');
    assert.equal(replaced.total, '10.00');
    expectProblem(await api.put(`/v1/invoices/${created.id}`, { lines: [] }), 400, 'validation-error');
  });

  test('client-sent totals are checked: a mismatch is a 422 naming the figure and the server value', async () => {
    const reply = await api.post('/v1/invoices', {
      currency: 'EUR',
      lines: [{ quantity: 3, unit_price: '0.10', tax_rate: 20, total_amount: '0.37' }],
      total: '0.36',
    });
    const problem = expectProblem(reply, 422, 'total-mismatch');
    assert.deepEqual(problem.errors, [{ pointer: '/lines/0/total_amount', detail: 'server computes 0.36', expected: '0.36' }]);
    const good = await api.post('/v1/invoices', { currency: 'EUR', lines: [{ quantity: 3, unit_price: 0.1, tax_rate: 20, total_amount: '0.36' }], total: 0.36 });
    assert.equal(expectStatus(good, 201).total, '0.36');
    const created = expectStatus(good, 201);
    const badPatch = await api.patch(`/v1/invoices/${created.id}`, { line_operations: [{ op: 'update', id: created.lines[0].id, quantity: 4, gross_amount: '0.40' }] });
    const patchProblem = expectProblem(badPatch, 422, 'total-mismatch');
    assert.equal(patchProblem.errors[0].pointer, '/line_operations/0/gross_amount');
    assert.equal(patchProblem.errors[0].expected, '0.48');
    assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).version, 1);
  });

  test('amounts as JSON numbers are read exactly, never as floats', async () => {
    const reply = await api.post('/v1/invoices', { currency: 'USD', lines: [{ quantity: 0.1, unit_price: 0.2 }, { quantity: 0.7, unit_price: 0.1 }] });
    const invoice = expectStatus(reply, 201);
    assert.equal(invoice.lines[0].quantity, '0.1');
    assert.equal(invoice.total, '0.09'); // 0.02 + 0.07, no 0.30000000000000004 anywhere
    const tooPrecise = await api.request('POST', '/v1/invoices', {
      rawBody: '{"currency":"USD","lines":[{"quantity":1,"unit_price":0.12345678901234567890123}]}',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(tooPrecise, 400, 'validation-error');
  });

  test('currencies use their ISO 4217 minor units', async () => {
    const jpy = expectStatus(await api.post('/v1/invoices', { currency: 'JPY', lines: [{ quantity: 3, unit_price: '333.5', tax_rate: 10 }] }), 201);
    assert.equal(jpy.lines[0].net_amount, '1001'); // 1000.5 → 1001 (half up)
    assert.equal(jpy.total, '1101');
    const kwd = expectStatus(await api.post('/v1/invoices', { currency: 'KWD', lines: [{ quantity: 1, unit_price: '1.2345' }] }), 201);
    assert.equal(kwd.total, '1.235');
    const clf = expectStatus(await api.post('/v1/invoices', { currency: 'CLF', lines: [{ quantity: 1, unit_price: '1.23456' }] }), 201);
    assert.equal(clf.total, '1.2346');
    expectProblem(await api.post('/v1/invoices', { currency: 'ABC' }), 400, 'validation-error');
  });

  test('tax-inclusive prices', async () => {
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', tax_mode: 'inclusive', lines: [{ quantity: 1, unit_price: '119.00', tax_rate: 19 }] }), 201);
    assert.equal(invoice.lines[0].gross_amount, '119.00');
    assert.equal(invoice.lines[0].tax_amount, '19.00');
    assert.equal(invoice.subtotal, '100.00');
    assert.equal(invoice.total, '119.00');
  });

  test('grouped lines: one level, parent must be a line of this invoice', async () => {
    const created = await createInvoice();
    const [parent, child] = created.lines;
    const grouped = expectStatus(await api.patch(`/v1/invoices/${created.id}`, { line_operations: [{ op: 'update', id: child.id, parent_line_id: parent.id }] }), 200);
    assert.equal(grouped.lines[1].parent_line_id, parent.id);
    const added = await api.patch(`/v1/invoices/${created.id}`, { line_operations: [{ op: 'add', unit_price: 1, parent_line_id: child.id }] });
    assert.equal(expectProblem(added, 422, 'one-level-grouping').rule, 'one-level-grouping');
    const orphan = await api.patch(`/v1/invoices/${created.id}`, { line_operations: [{ op: 'add', unit_price: 1, parent_line_id: 'lin_doesnotexist' }] });
    expectProblem(orphan, 422, 'invalid-reference');
  });

  test('metadata merges on PATCH (null removes a key) and is bounded', async () => {
    const created = await createInvoice({ ...twoLines, metadata: { a: '1', b: '2' } });
    const patched = expectStatus(await api.patch(`/v1/invoices/${created.id}`, { metadata: { b: null, c: '3' } }), 200);
    assert.deepEqual(patched.metadata, { a: '1', c: '3' });
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    expectProblem(await api.patch(`/v1/invoices/${created.id}`, { metadata: tooMany }), 400, 'validation-error');
    expectProblem(await api.patch(`/v1/invoices/${created.id}`, { metadata: { ['k'.repeat(41)]: 'v' } }), 400, 'validation-error');
    // A string over 500 characters is refused where it is; a map over 32 KiB as a whole, at /metadata.
    const tooLong = expectProblem(await api.patch(`/v1/invoices/${created.id}`, { metadata: { k: 'v'.repeat(501) } }), 400, 'validation-error');
    assert.equal(tooLong.errors[0].pointer, '/metadata/k');
    const tooBig = expectProblem(await api.patch(`/v1/invoices/${created.id}`, { metadata: { k: Array.from({ length: 80 }, () => 'v'.repeat(450)) } }), 400, 'validation-error');
    assert.equal(tooBig.errors[0].pointer, '/metadata');
  });

  test('custom fields are typed', async () => {
    const created = await createInvoice({ ...twoLines, custom_fields: { approved_on: { type: 'date', value: '2026-03-01' }, weight: { type: 'number', value: 12.5 } } });
    assert.deepEqual(created.custom_fields, { approved_on: { type: 'date', value: '2026-03-01' }, weight: { type: 'number', value: '12.5' } });
    expectProblem(await api.patch(`/v1/invoices/${created.id}`, { custom_fields: { approved_on: { type: 'date', value: '2026-02-30' } } }), 400, 'validation-error');
  });

  test('invoice numbers are unique per tenant', async () => {
    await createInvoice({ ...twoLines, number: 'INV-UNIQUE-1' });
    expectProblem(await api.post('/v1/invoices', { ...twoLines, number: 'INV-UNIQUE-1' }), 409, 'conflict');
    const other = t.client(await t.key('core-other-numbers'));
    expectStatus(await other.post('/v1/invoices', { ...twoLines, number: 'INV-UNIQUE-1' }), 201);
  });

  test('list: filters by number, reference, status, customer; cursor pagination', async () => {
    const customer = expectStatus(await api.post('/v1/customers', { name: 'List Co' }), 201);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const invoice = await createInvoice({ ...twoLines, reference: `LIST-REF-${i}`, number: `LIST-${i}`, customer_id: customer.id });
      ids.push(invoice.id);
    }
    const byNumber = expectStatus(await api.get('/v1/invoices?number=LIST-3'), 200);
    assert.deepEqual(byNumber.data.map((invoice: any) => invoice.id), [ids[3]]);
    const byReference = expectStatus(await api.get('/v1/invoices?reference=LIST-REF-1'), 200);
    assert.deepEqual(byReference.data.map((invoice: any) => invoice.id), [ids[1]]);
    const seen: string[] = [];
    let url = `/v1/invoices?customer_id=${customer.id}&limit=2`;
    for (;;) {
      const page = expectStatus(await api.get(url), 200);
      seen.push(...page.data.map((invoice: any) => invoice.id));
      if (!page.has_more) break;
      url = `/v1/invoices?customer_id=${customer.id}&limit=2&cursor=${page.next_cursor}`;
    }
    assert.deepEqual(seen, [...ids].reverse());
    const drafts = expectStatus(await api.get('/v1/invoices?status=draft&limit=100'), 200);
    assert.ok(drafts.data.every((invoice: any) => invoice.status === 'draft'));
    expectProblem(await api.get('/v1/invoices?cursor=%%%'), 400, 'validation-error');
    expectProblem(await api.get('/v1/invoices?limit=1000'), 400, 'validation-error');
  });

  test('dry run returns the result and the diff and writes nothing', async () => {
    const created = await createInvoice();
    const reply = await api.patch(`/v1/invoices/${created.id}?dry_run=true`, { memo: 'maybe', line_operations: [{ op: 'update', id: created.lines[0].id, quantity: 10 }] });
    const preview = expectStatus(reply, 200);
    assert.equal(preview.dry_run, true);
    assert.equal(preview.memo, 'maybe');
    assert.equal(preview.version, 2);
    assert.ok(preview.changes.some((change: any) => change.path === '/memo'));
    const stored = expectStatus(await api.get(`/v1/invoices/${created.id}`), 200);
    assert.deepEqual(stored, created);
    assert.equal((await auditStore.listForInvoice(t.database.db, tenantId, created.id)).length, 1);
  });
});
