import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

/** RFC 9110 comparisons (issue 13, item 5): If-Match strong, If-None-Match weak. */
let t: TestApp;
let api: Client;
before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('conditional'));
});
after(() => t.close());

describe('conditional requests', () => {
  test('If-Match uses the strong comparison: a weak tag never matches (412), a strong one in a list does', async () => {
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
    const url = `/v1/invoices/${invoice.id}`;
    for (const ifMatch of ['W/"1"', 'W/"1", W/"2"']) {
      const problem = expectProblem(await api.patch(url, { memo: 'x' }, { 'if-match': ifMatch }), 412, 'precondition-failed');
      assert.equal(problem.current_version, 1);
    }
    expectProblem(await api.delete(url, { 'if-match': 'W/"1"' }), 412, 'precondition-failed');
    assert.equal(expectStatus(await api.get(url), 200).version, 1, 'nothing changed');
    expectStatus(await api.patch(url, { memo: 'x' }, { 'if-match': 'W/"1", "1"' }), 200);
  });

  test('If-None-Match answers 304 for *, a weak tag or a list with the current tag; 200 otherwise', async () => {
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
    const url = `/v1/invoices/${invoice.id}`;
    for (const header of ['"1"', '*', 'W/"1"', '"7", "1"', 'W/"3",W/"1"']) {
      const reply = await api.get(url, { 'if-none-match': header });
      assert.equal(reply.status, 304, header);
      assert.equal(reply.headers.etag, '"1"');
    }
    for (const header of ['"2"', 'W/"2", "3"', '"1x"']) assert.equal((await api.get(url, { 'if-none-match': header })).status, 200, header);
    assert.equal((await api.get(`${url}?version=1`, { 'if-none-match': 'W/"1"' })).status, 304);
  });
});
