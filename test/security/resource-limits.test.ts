import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectStatus, startTestApp, type TestApp } from '../helpers/harness.js';
import { dumpTenant, tenantIdOf } from '../helpers/reliability.js';

/** Every size has a limit, and a key that sends too fast is slowed down with a 429. */
let t: TestApp;
const ratePerMinute = 30;

before(async () => {
  t = await startTestApp({ FOLIO_BODY_LIMIT_BYTES: String(256 * 1024), FOLIO_MAX_LINES: '50', FOLIO_RATE_LIMIT_PER_MINUTE: String(ratePerMinute) });
});
after(() => t.close());

const line = { description: 'x', quantity: '1', unit_price: '1.00' };

describe('resource limits', () => {
  test('a body over FOLIO_BODY_LIMIT_BYTES is a 413 problem and writes nothing', async () => {
    const api = t.client(await t.key('limits-body'));
    const tenantId = await tenantIdOf(t.database.db, 'limits-body');
    const before = await dumpTenant(t.database.db, tenantId);
    const reply = await api.post('/v1/invoices', { memo: 'm', internal_note: 'n'.repeat(300 * 1024) });
    expectProblem(reply, 413, 'payload-too-large');
    assert.equal(await dumpTenant(t.database.db, tenantId), before);
    expectStatus(await api.post('/v1/invoices', { memo: 'm'.repeat(5000) }), 201);
  });

  test('more lines than FOLIO_MAX_LINES (by full set or by operations) is refused; exactly the limit is fine', async () => {
    const api = t.client(await t.key('limits-lines'));
    const tenantId = await tenantIdOf(t.database.db, 'limits-lines');
    const full = expectStatus(await api.post('/v1/invoices', { lines: Array.from({ length: 50 }, () => line) }), 201);
    assert.equal(full.lines.length, 50);
    const before = await dumpTenant(t.database.db, tenantId);
    const tooMany = await api.post('/v1/invoices', { lines: Array.from({ length: 51 }, () => line) });
    assert.ok([400, 422].includes(tooMany.status), tooMany.text);
    const oneMore = await api.patch(`/v1/invoices/${full.id}`, { line_operations: [{ op: 'add', ...line }] });
    assert.ok([400, 422].includes(oneMore.status), oneMore.text);
    expectProblem(await api.post('/v1/invoices', { lines: Array.from({ length: 1001 }, () => line) }), 400, 'validation-error');
    assert.equal(await dumpTenant(t.database.db, tenantId), before);
  });

  test('metadata is bounded: 50 keys of ≤ 40 characters with values of ≤ 500', async () => {
    const api = t.client(await t.key('limits-metadata'));
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`key_${index}`.padEnd(40, 'k'), 'v'.repeat(500)]));
    expectStatus(await api.post('/v1/invoices', { metadata: fifty }), 201);
    const cases = [
      { metadata: { ...fifty, one_more: 'v' } },
      { metadata: { ['k'.repeat(41)]: 'v' } },
      { metadata: { k: 'v'.repeat(501) } },
    ];
    for (const body of cases) {
      const problem = expectProblem(await api.post('/v1/invoices', body), 400, 'validation-error');
      assert.ok(problem.errors.some((error: any) => error.pointer.startsWith('/metadata')), JSON.stringify(problem.errors));
    }
  });

  test(`more than FOLIO_RATE_LIMIT_PER_MINUTE (${ratePerMinute}) requests from one key → 429 problem with Retry-After; other keys unaffected`, async () => {
    const fast = t.client(await t.key('limits-rate'));
    const other = t.client(await t.key('limits-rate-other'));
    const statuses: number[] = [];
    let limited;
    // The bucket refills at 0.5 requests per second, so a limited answer comes right after the burst.
    for (let index = 0; index < ratePerMinute * 2 && !limited; index += 1) {
      const reply = await fast.get('/v1/invoices');
      statuses.push(reply.status);
      if (reply.status === 429) limited = reply;
    }
    assert.deepEqual(statuses.slice(0, ratePerMinute), Array(ratePerMinute).fill(200), 'the burst is served');
    assert.ok(limited, 'the key was limited');
    const problem = expectProblem(limited, 429, 'rate-limited');
    assert.match(String(limited.headers['retry-after']), /^[1-9]\d*$/);
    assert.equal(problem.retry_after_seconds, Number(limited.headers['retry-after']));
    expectStatus(await other.get('/v1/invoices'), 200);
  });
});
