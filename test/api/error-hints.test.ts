import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closestField } from '../../src/http/errors.js';
import { expectProblem, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

let t: TestApp;
let api: Client;
before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('error-hints'));
});
after(() => t.close());

test('an unknown field names the closest known one, at every depth; nothing is written', async () => {
  const problem = expectProblem(await api.post('/v1/invoices', { currency: 'EUR', lins: [] }), 400, 'validation-error');
  assert.deepEqual(problem.errors, [{ pointer: '/lins', detail: 'is not a known field; did you mean `lines`?' }]);
  const nested = expectProblem(await api.post('/v1/invoices', { lines: [{ descripton: 'x' }] }), 400, 'validation-error');
  assert.equal(nested.errors[0].pointer, '/lines/0/descripton');
  assert.match(nested.errors[0].detail, /did you mean `description`\?/);
  const far = expectProblem(await api.post('/v1/invoices', { colour: 'red' }), 400, 'validation-error');
  assert.equal(far.errors[0].detail, 'is not a known field');
  const list = await api.get('/v1/invoices');
  assert.equal(list.body.data.length, 0);
});

test('closestField: typos only', () => {
  assert.equal(closestField('Lines', ['lines', 'memo']), 'lines');
  assert.equal(closestField('due_dat', ['due_date', 'issue_date']), 'due_date');
  assert.equal(closestField('zzzzzz', ['lines', 'memo']), undefined);
  assert.equal(closestField('x', []), undefined);
});
