import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal } from 'decimal.js';
import { prefixUpperBound } from '../../src/modules/invoices/list-store.js';
import { todayDate, addDays } from '../../src/shared/time.js';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

/**
 * Every list filter and sort, on a data set with ties and nulls, checked against an oracle
 * computed in JavaScript from the invoices themselves, and paged 3 at a time so that every
 * page boundary (including ties and the nulls section) is crossed.
 */

let t: TestApp;
let api: Client;
let invoices: any[] = [];
let updatedSince = '';
const today = todayDate();
const yesterday = addDays(today, -1);
const tomorrow = addDays(today, 1);

const line = (description: string, unitPrice: string, quantity = '1') => ({ description, quantity, unit_price: unitPrice });

async function create(body: Record<string, unknown>) {
  return expectStatus(await api.post('/v1/invoices', { currency: 'USD', ...body }), 201);
}
const finalize = async (id: string) => expectStatus(await api.post(`/v1/invoices/${id}/finalize`), 200);
const pay = async (id: string, amount: string) =>
  expectStatus(await api.post(`/v1/invoices/${id}/payments`, { amount, date: '2026-01-15', method: 'bank_transfer' }), 201);

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('list-filters'));
  const other = t.client(await t.key('list-filters-other'));
  // Another tenant's invoice matches every filter below; it must never show.
  expectStatus(await other.post('/v1/invoices', { currency: 'USD', memo: 'widget retainer', lines: [line('Widget', '100.00')] }), 201);

  const customer = expectStatus(await api.post('/v1/customers', { name: 'Zephyr Trading Ltd' }), 201);
  const drafts = [
    { memo: 'Quarterly WIDGET retainer', lines: [line('Consulting', '100.00')] },
    { number: 'INV-2026-010', issue_date: '2026-01-10', due_date: '2999-02-10', lines: [line('Blue widget', '100.00')] },
    { number: 'INV-2026-002', issue_date: '2026-01-10', due_date: '2999-02-10', lines: [line('Travel', '20.00')] },
    { number: 'INV-2025-100', issue_date: '2025-12-31', due_date: yesterday, currency: 'EUR', lines: [line('Hosting', '9.99', '3')] },
    { number: 'inv-lower-1', issue_date: '2026-03-01', due_date: tomorrow, customer_id: customer.id, lines: [line('Support 50% off', '1000.00')] },
    { number: 'INV-2026-003', issue_date: '2026-01-10', due_date: yesterday, lines: [line('Audit', '100.00')] },
    { number: 'INV-2026-004', issue_date: '2026-02-01', due_date: '2999-02-28', lines: [line('Licence', '1234567890123.45', '100')] },
    { number: 'INV-2026-005', issue_date: '2026-02-01', due_date: tomorrow, currency: 'EUR', lines: [line('Retainer', '20.00')] },
    { number: 'INV-2026-006', issue_date: '2026-02-02', lines: [line('Training_day', '0.00')] },
    { issue_date: '2026-01-10', lines: [line('Draft with a date', '20.00')] },
  ];
  const created = [];
  for (const body of drafts) created.push(await create(body));
  // States: 0 draft, 1 paid, 2 partially paid, 3 overdue (EUR), 4 open unpaid,
  // 5 overdue partially paid, 6 open unpaid (a total past a double's precision), 7 void, 8 open zero total, 9 draft.
  for (const index of [1, 2, 3, 4, 5, 6, 7, 8]) await finalize(created[index].id);
  await pay(created[2].id, '5.00');
  await pay(created[5].id, '40.00');
  await pay(created[1].id, '100.00');
  expectStatus(await api.post(`/v1/invoices/${created[7].id}/void`), 200);
  await new Promise((resolve) => setTimeout(resolve, 5));
  updatedSince = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  for (const index of [0, 4]) expectStatus(await api.patch(`/v1/invoices/${created[index].id}`, { internal_note: 'touched' }), 200);

  invoices = expectStatus(await api.get('/v1/invoices?limit=100'), 200).data;
  assert.equal(invoices.length, drafts.length);
});
after(() => t.close());

/** Every page of a list, `limit` at a time, following next_cursor. */
async function listAll(query: string, limit = 3): Promise<any[]> {
  const seen: any[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const separator = query ? '&' : '';
    const url: string = `/v1/invoices?${query}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const page = expectStatus(await api.get(url), 200);
    assert.ok(page.data.length <= limit);
    seen.push(...page.data);
    if (!page.has_more) {
      assert.equal(page.next_cursor, null);
      return seen;
    }
    cursor = page.next_cursor;
  }
  throw new Error('too many pages');
}

const ids = (list: any[]) => list.map((invoice) => invoice.id);
const byIdDescending = (a: any, b: any) => (a.id < b.id ? 1 : -1);

async function expectFilter(query: string, predicate: (invoice: any) => boolean) {
  const expected = invoices.filter(predicate).sort(byIdDescending);
  assert.ok(expected.length > 0, `the data set has no match for ${query}`);
  assert.ok(expected.length < invoices.length, `the data set has no non-match for ${query}`);
  assert.deepEqual(ids(await listAll(query)), ids(expected), query);
}

describe('invoice list filters', () => {
  test('status, one or several (comma-separated)', async () => {
    await expectFilter('status=draft', (i) => i.status === 'draft');
    await expectFilter('status=open,void', (i) => i.status === 'open' || i.status === 'void');
  });

  test('payment_status: each value equals the payment_status shown, overdue from today', async () => {
    for (const status of ['unpaid', 'partially_paid', 'paid', 'overdue']) {
      await expectFilter(`payment_status=${status}`, (i) => i.payment_status === status);
    }
    await expectFilter('payment_status=overdue,paid', (i) => i.payment_status === 'overdue' || i.payment_status === 'paid');
    const overdue = await listAll('payment_status=overdue');
    assert.equal(overdue.length, 2);
    assert.ok(overdue.every((i) => i.status === 'open' && i.due_date < today && new Decimal(i.balance).gt(0)));
  });

  test('customer_id, currency, number, number_prefix (case-sensitive)', async () => {
    const linked = invoices.find((i) => i.customer_id !== null);
    await expectFilter(`customer_id=${linked.customer_id}`, (i) => i.customer_id === linked.customer_id);
    await expectFilter('currency=EUR', (i) => i.currency === 'EUR');
    await expectFilter('number=INV-2026-003', (i) => i.number === 'INV-2026-003');
    await expectFilter('number_prefix=INV-2026-', (i) => i.number?.startsWith('INV-2026-'));
    await expectFilter('number_prefix=INV-2026-00', (i) => i.number?.startsWith('INV-2026-00'));
    await expectFilter('number_prefix=inv', (i) => i.number?.startsWith('inv'));
  });

  test('issue and due date ranges are inclusive', async () => {
    await expectFilter('issue_date_from=2026-01-10&issue_date_to=2026-02-01', (i) => i.issue_date >= '2026-01-10' && i.issue_date <= '2026-02-01');
    await expectFilter('issue_date_to=2025-12-31', (i) => i.issue_date !== null && i.issue_date <= '2025-12-31');
    await expectFilter(`due_date_from=${today}`, (i) => i.due_date !== null && i.due_date >= today);
    await expectFilter('due_date_from=2999-02-10&due_date_to=2999-02-28', (i) => i.due_date >= '2999-02-10' && i.due_date <= '2999-02-28');
  });

  test('updated_since', async () => {
    await expectFilter(`updated_since=${encodeURIComponent(updatedSince)}`, (i) => i.updated_at >= updatedSince);
  });

  test('total_min / total_max compare decimals exactly (not as text, not as floats)', async () => {
    await expectFilter('total_min=100', (i) => new Decimal(i.total).gte(100));
    await expectFilter('total_max=20.00', (i) => new Decimal(i.total).lte(20));
    await expectFilter('total_min=9.99&total_max=100', (i) => new Decimal(i.total).gte('9.99') && new Decimal(i.total).lte(100));
    // Text order would put "9.99" above "100.00"; a double cannot tell .66 from .67 at this size.
    const huge = '123456789012345.00';
    assert.ok(invoices.some((i) => i.total === huge));
    await expectFilter(`total_min=${huge}`, (i) => i.total === huge);
    assert.deepEqual(await listAll('total_min=123456789012345.001'), []);
    await expectFilter('total_max=123456789012344.99', (i) => i.total !== huge);
  });

  test('q: case-insensitive text in memo, line descriptions and the bill-to name; % and _ are literal', async () => {
    await expectFilter('q=widget', (i) => /widget/i.test(i.memo ?? '') || i.lines.some((l: any) => /widget/i.test(l.description)));
    await expectFilter('q=zephyr', (i) => /zephyr/i.test(i.bill_to?.name ?? ''));
    await expectFilter('q=50%25', (i) => i.lines.some((l: any) => l.description.includes('50%')));
    await expectFilter('q=g_d', (i) => i.lines.some((l: any) => l.description.includes('g_d')) || i.id === 'none');
  });

  test('filters combine (AND)', async () => {
    await expectFilter('status=open&currency=USD&total_min=50', (i) => i.status === 'open' && i.currency === 'USD' && new Decimal(i.total).gte(50));
  });
});

/** Oracle order: the sort value, nulls last in both directions, ties (and nulls) by id in the same direction. */
function oracleSort(field: string, descending: boolean) {
  const compareValues = (a: any, b: any): number => {
    if (field === 'total') return new Decimal(a).comparedTo(b);
    return a < b ? -1 : a > b ? 1 : 0;
  };
  return (a: any, b: any) => {
    const va = field === 'created' ? a.id : a[field];
    const vb = field === 'created' ? b.id : b[field];
    if (va === null && vb !== null) return 1;
    if (vb === null && va !== null) return -1;
    const byValue = va === null ? 0 : compareValues(va, vb);
    const byId = a.id < b.id ? -1 : 1;
    const order = byValue !== 0 ? byValue : byId;
    return descending ? -order : order;
  };
}

describe('invoice list sort and pagination', () => {
  for (const field of ['created', 'number', 'issue_date', 'due_date', 'total', 'updated_at']) {
    for (const descending of [false, true]) {
      const sort = `${descending ? '-' : ''}${field}`;
      test(`sort=${sort}: stable pages across ties and nulls, every invoice once`, async () => {
        const expected = [...invoices].sort(oracleSort(field, descending));
        for (const limit of [1, 3, 4]) {
          assert.deepEqual(ids(await listAll(`sort=${sort}`, limit)), ids(expected), `sort=${sort} limit=${limit}`);
        }
      });
    }
  }

  test('the default order is newest first and equals sort=-created', async () => {
    assert.deepEqual(ids(await listAll('')), ids([...invoices].sort(byIdDescending)));
  });

  test('sort with a filter', async () => {
    const expected = invoices.filter((i) => i.status === 'open').sort(oracleSort('total', true));
    assert.deepEqual(ids(await listAll('status=open&sort=-total', 2)), ids(expected));
  });

  test('a cursor from another sort, or edited, is a 400; nothing else is read', async () => {
    const page = expectStatus(await api.get('/v1/invoices?sort=total&limit=2'), 200);
    expectProblem(await api.get(`/v1/invoices?sort=-total&limit=2&cursor=${page.next_cursor}`), 400, 'validation-error');
    const decoded = JSON.parse(Buffer.from(page.next_cursor, 'base64url').toString('utf8'));
    for (const tampered of [
      [decoded[0], 'not a number', decoded[2]],
      [decoded[0], decoded[1], "inv_x' or 1=1"],
      [decoded[0], null, decoded[2]],
      { sort: decoded[0] },
    ]) {
      const cursor = Buffer.from(JSON.stringify(tampered)).toString('base64url');
      const problem = expectProblem(await api.get(`/v1/invoices?sort=total&cursor=${cursor}`), 400, 'validation-error');
      assert.equal(problem.errors[0].pointer, '/query/cursor');
    }
    expectProblem(await api.get('/v1/invoices?cursor=%%%'), 400);
    expectProblem(await api.get('/v1/invoices?cursor=bm90IGpzb24'), 400);
  });

  test('bad filter values are 400s naming the parameter', async () => {
    for (const [query, parameter] of [
      ['status=draft,bogus', 'status'],
      ['payment_status=late', 'payment_status'],
      ['issue_date_from=2026-02-30', 'issue_date_from'],
      ['due_date_from=2026-03-01&due_date_to=2026-02-01', 'due_date_to'],
      ['total_min=1e5', 'total_min'],
      ['total_min=10&total_max=5', 'total_max'],
      ['currency=usd', 'currency'],
      ['sort=amount', 'sort'],
      ['q=ab', 'q'],
      [`q=${'x'.repeat(101)}`, 'q'],
    ] as const) {
      const problem = expectProblem(await api.get(`/v1/invoices?${query}`), 400);
      assert.ok(JSON.stringify(problem.errors ?? []).includes(parameter), `${query}: ${JSON.stringify(problem)}`);
    }
  });
});

test('prefixUpperBound: the least string above every string with the prefix', () => {
  assert.equal(prefixUpperBound('INV-'), 'INV.');
  assert.equal(prefixUpperBound('a\u{10FFFF}'), 'b');
  assert.equal(prefixUpperBound('\u{10FFFF}'), undefined);
  assert.equal(prefixUpperBound('\uD7FF'), '\uE000');
});
