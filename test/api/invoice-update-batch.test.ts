import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

// Changed lines are written in one statement on PostgreSQL (UPDATE … FROM (VALUES …), chunked),
// one UPDATE per line on SQLite. Whatever the path, what is read back must be what the write answered.

let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('batch'));
});
after(() => t.close());

test('several changed lines in one PATCH read back exactly as answered (nulls, numerics, JSON, positions)', async () => {
  const created = expectStatus(
    await api.post('/v1/invoices', {
      currency: 'EUR',
      lines: [
        { description: 'Parent', quantity: '1', unit_price: '0' },
        { description: 'A', quantity: '2.5', unit_price: '10.50', tax_rate: '20', discount: { type: 'percent', value: '10' }, tracking: { dept: 'x' } },
        { description: 'B', quantity: '1', unit_price: '99.999', tax_rate: '7.7', unit: 'h', item_code: 'IT-1' },
        { description: 'C', quantity: '3', unit_price: '1', discount: { type: 'amount', value: '0.5' } },
        { description: 'D', quantity: '4', unit_price: '2' },
      ],
    }),
    201,
  );
  const [parent, a, b, c, d] = created.lines;
  const patched = expectStatus(
    await api.patch(
      `/v1/invoices/${created.id}`,
      {
        line_operations: [
          { op: 'update', id: a.id, quantity: '3', discount: null, tracking: null, description: null },
          { op: 'update', id: b.id, tax_rate: null, unit: null, unit_price: '12', parent_line_id: parent.id },
          { op: 'update', id: c.id, discount: { type: 'percent', value: '12.5' }, tracking: { project: 'p' }, position: 1 },
          { op: 'remove', id: d.id },
          { op: 'add', description: 'E', quantity: '1', unit_price: '5', tax_rate: '20' },
        ],
      },
      { 'if-match': '"1"' },
    ),
    200,
  );
  assert.deepEqual(patched.lines.map((line: any) => line.description), ['C', 'Parent', null, 'B', 'E']);
  assert.equal(patched.lines[2].quantity, '3');
  assert.equal(patched.lines[2].discount, null);
  assert.equal(patched.lines[2].tracking, null);
  assert.equal(patched.lines[3].tax_rate, null);
  assert.equal(patched.lines[3].unit_price, '12.00');
  assert.equal(patched.lines[3].parent_line_id, parent.id);
  assert.deepEqual(patched.lines[0].discount, { type: 'percent', value: '12.5' });
  assert.deepEqual(patched.lines[0].tracking, { project: 'p' });
  const read = expectStatus(await api.get(`/v1/invoices/${created.id}`), 200);
  assert.deepEqual(read, patched);
  // The untouched line came through untouched.
  assert.deepEqual({ ...read.lines[1], position: 1 }, parent);
});

test('a write that changes 600 lines (more than one chunk) reads back exactly as answered', async () => {
  const lines = Array.from({ length: 600 }, (_, i) => ({ description: `L${i}`, quantity: '1', unit_price: `${i}.25`, tax_rate: i % 2 ? '20' : null }));
  const created = expectStatus(await api.post('/v1/invoices', { currency: 'USD', lines }), 201);
  const patched = expectStatus(
    await api.patch(
      `/v1/invoices/${created.id}`,
      { lines: created.lines.map((line: any, i: number) => ({ id: line.id, quantity: String(i % 7), discount: i % 3 ? null : { type: 'amount', value: '0.1' } })) },
      { 'if-match': '"1"' },
    ),
    200,
  );
  assert.equal(patched.lines[7].quantity, '0');
  const read = expectStatus(await api.get(`/v1/invoices/${created.id}`), 200);
  assert.deepEqual(read, patched);
});
