import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

/** Lines grouped under a parent added in the same request: `ref` names a line, `parent_ref` points at it. */
let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  api = t.client(await t.key('line-refs'));
});
after(() => t.close());

describe('ref / parent_ref', () => {
  test('a new parent and its new children in one create and in one PATCH (lines and line_operations)', async () => {
    const created = expectStatus(await api.post('/v1/invoices', {
      currency: 'EUR',
      lines: [
        { ref: 'kit', description: 'Kit', quantity: 1, unit_price: '0' },
        { parent_ref: 'kit', description: 'Part A', quantity: 2, unit_price: '5' },
        { parent_ref: 'kit', description: 'Part B', quantity: 1, unit_price: '7' },
      ],
    }), 201);
    const [kit, partA, partB] = created.lines;
    assert.equal(kit.parent_line_id, null);
    assert.equal(partA.parent_line_id, kit.id);
    assert.equal(partB.parent_line_id, kit.id);
    assert.equal(created.total, '17.00');

    const patched = expectStatus(await api.patch(`/v1/invoices/${created.id}`, {
      line_operations: [
        { op: 'add', ref: 'box', description: 'Box', quantity: 1, unit_price: '1' },
        { op: 'add', parent_ref: 'box', description: 'Lid', quantity: 1, unit_price: '2' },
      ],
    }), 200);
    const box = patched.lines.find((line: any) => line.description === 'Box');
    assert.equal(patched.lines.find((line: any) => line.description === 'Lid').parent_line_id, box.id);
    assert.equal(patched.version, 2);
  });

  test('an unknown parent_ref, a repeated ref, or parent_ref with parent_line_id → 400, nothing written', async () => {
    const created = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'A', quantity: 1, unit_price: '1' }] }), 201);
    const bodies = [
      { lines: [{ description: 'orphan', unit_price: '1', parent_ref: 'nobody' }] },
      { lines: [{ ref: 'x', unit_price: '1' }, { ref: 'x', unit_price: '1' }] },
      { lines: [{ ref: 'p', unit_price: '1' }, { parent_ref: 'p', parent_line_id: created.lines[0].id, unit_price: '1' }] },
    ];
    for (const body of bodies) {
      const problem = expectProblem(await api.patch(`/v1/invoices/${created.id}`, body), 400, 'validation-error');
      assert.ok(problem.errors.some((error: any) => /\/(parent_)?ref$/.test(error.pointer)), JSON.stringify(problem.errors));
    }
    assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).version, 1);
  });
});
