import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auditStore } from '../../src/modules/audit/store.js';
import { createIdempotencyService, requestHash } from '../../src/modules/idempotency/service.js';
import { systemClock } from '../../src/shared/time.js';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

let t: TestApp;
let api: Client;
let tenantId: string;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  api = t.client(await t.key('idem-a'));
  tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'idem-a').executeTakeFirstOrThrow()).id;
});
after(() => t.close());

const newKey = () => `key-${Math.random().toString(36).slice(2)}`;
const service = () => createIdempotencyService({ db: t.database.db, engine: t.database.engine, ttlHours: 24 });

async function createInvoice() {
  return expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'A', quantity: 1, unit_price: '10' }] }), 201);
}

/** The invoice service as the app builds it, called directly (no HTTP request, no response stored). */
async function invoiceServiceOver(app: TestApp) {
  const { createInvoiceService } = await import('../../src/modules/invoices/service.js');
  const { createWriteKernel } = await import('../../src/modules/invoices/versioning.js');
  const { db, engine } = app.database;
  const kernel = createWriteKernel({ db, engine, clock: systemClock });
  return createInvoiceService({ db, engine, kernel, maxLinesPerInvoice: 1000 });
}

const auditCount = async (id: string) => (await auditStore.listForInvoice(t.database.db, tenantId, id)).length;
const eventCount = async (id: string) =>
  Number((await t.database.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('resource_id', '=', id).executeTakeFirstOrThrow()).n);

describe('Idempotency-Key', () => {
  test('a retried PATCH with the same key replays the same response; version, audit and events unchanged', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    // Adding a line is not idempotent by itself: without the key a retry would add a second line.
    const addLine = { line_operations: [{ op: 'add', description: 'Extra', quantity: 1, unit_price: '5' }] };
    const first = await api.patch(`/v1/invoices/${invoice.id}`, addLine, { 'idempotency-key': key });
    expectStatus(first, 200);
    assert.equal(first.body.version, 2);
    const auditAfterFirst = await auditCount(invoice.id);
    const eventsAfterFirst = await eventCount(invoice.id);

    const retry = await api.patch(`/v1/invoices/${invoice.id}`, addLine, { 'idempotency-key': key });
    expectStatus(retry, 200);
    assert.equal(retry.text, first.text, 'byte-identical body');
    assert.equal(retry.headers.etag, '"2"');
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(first.headers['idempotent-replayed'], undefined);
    assert.equal(await auditCount(invoice.id), auditAfterFirst);
    assert.equal(await eventCount(invoice.id), eventsAfterFirst);
    const current = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(current.version, 2);
    assert.equal(current.lines.length, 2);
  });

  test('a retried POST does not create a second invoice and replays status, Location and ETag', async () => {
    const key = newKey();
    const body = { currency: 'EUR', memo: 'create once', lines: [] };
    const first = await api.post('/v1/invoices', body, { 'idempotency-key': key });
    expectStatus(first, 201);
    const retry = await api.post('/v1/invoices', body, { 'idempotency-key': key });
    expectStatus(retry, 201);
    assert.equal(retry.body.id, first.body.id);
    assert.equal(retry.headers.location, first.headers.location);
    assert.equal(retry.headers.etag, '"1"');
    const list = expectStatus(await api.get('/v1/invoices?limit=100'), 200);
    assert.equal(list.data.filter((invoice: any) => invoice.memo === 'create once').length, 1);
  });

  test('the same key with a different body (or path) is a 422 and changes nothing', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'one' }, { 'idempotency-key': key }), 200);
    const reused = await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'two' }, { 'idempotency-key': key });
    expectProblem(reused, 422, 'idempotency-key-reused');
    const other = await createInvoice();
    expectProblem(await api.patch(`/v1/invoices/${other.id}`, { memo: 'one' }, { 'idempotency-key': key }), 422, 'idempotency-key-reused');
    const current = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(current.memo, 'one');
    assert.equal(current.version, 2);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${other.id}`), 200).version, 1);
  });

  test('keys are per tenant: another tenant may use the same key for its own request', async () => {
    const key = newKey();
    const invoice = await createInvoice();
    expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'a' }, { 'idempotency-key': key }), 200);
    const other = t.client(await t.key('idem-b'));
    const created = await other.post('/v1/invoices', { currency: 'EUR' }, { 'idempotency-key': key });
    expectStatus(created, 201);
    assert.equal(created.headers['idempotent-replayed'], undefined);
  });

  test('two simultaneous requests with one key: one change; the other gets 409 or the replay', async () => {
    for (let round = 0; round < 5; round++) {
      const invoice = await createInvoice();
      const key = newKey();
      const body = { line_operations: [{ op: 'add', description: `round ${round}`, quantity: 1, unit_price: '1' }] };
      const send = () => api.patch(`/v1/invoices/${invoice.id}`, body, { 'idempotency-key': key });
      const replies = await Promise.all([send(), send(), send()]);
      const statuses = replies.map((reply) => reply.status).sort();
      assert.ok(statuses.includes(200), `one succeeds: ${statuses}`);
      for (const reply of replies) {
        if (reply.status === 409) expectProblem(reply, 409, 'conflict');
        else {
          expectStatus(reply, 200);
          assert.equal(reply.body.version, 2);
        }
      }
      const current = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
      assert.equal(current.version, 2, 'exactly one change');
      assert.equal(current.lines.length, 2);
      assert.equal(await auditCount(invoice.id), 2);
    }
  });

  test('a request whose key is in flight (within its lease) is a 409 whose Retry-After is the time the lease has left', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    const url = `/v1/invoices/${invoice.id}`;
    // Claimed 20 s ago by a request that then crashed: its 60 s lease has about 40 s left.
    const claimedAt = new Date(Date.now() - 20_000).toISOString();
    await service().claim({ tenantId, key, method: 'PATCH', path: url, hash: requestHash('PATCH', url, { memo: 'x' }), now: claimedAt });
    const reply = await api.patch(url, { memo: 'x' }, { 'idempotency-key': key });
    const problem = expectProblem(reply, 409, 'conflict');
    const retryAfter = Number(reply.headers['retry-after']);
    assert.ok(retryAfter >= 35 && retryAfter <= 40, `Retry-After ${reply.headers['retry-after']}`);
    assert.equal(problem.lease_remaining_seconds, retryAfter);
    assert.equal(expectStatus(await api.get(url), 200).version, 1);
  });

  test('a claim whose lease ran out without a change is taken over by the retry, which does the work once', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    const url = `/v1/invoices/${invoice.id}`;
    const longAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    await service().claim({ tenantId, key, method: 'PATCH', path: url, hash: requestHash('PATCH', url, { memo: 'y' }), now: longAgo });
    expectStatus(await api.patch(url, { memo: 'y' }, { 'idempotency-key': key }), 200);
    const replay = await api.patch(url, { memo: 'y' }, { 'idempotency-key': key });
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(expectStatus(await api.get(url), 200).version, 2);
  });

  test('a change that committed but lost its response (crash) is answered from history, not redone', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    const url = `/v1/invoices/${invoice.id}`;
    const body = { memo: 'committed before the crash' };
    const claim = await service().claim({ tenantId, key, method: 'PATCH', path: url, hash: requestHash('PATCH', url, body) });
    assert.equal(claim.kind, 'claimed');
    const auth = { tenantId, keyId: 'key_test', scopes: new Set(['invoices:write'] as const) };
    // The request's change commits (it marks the key in its transaction); the response is never stored.
    await t.app.ready();
    const invoices = await invoiceServiceOver(t);
    await invoices.update({ auth, requestId: 'req_crash', idempotency: { key, claimToken: claim.kind === 'claimed' ? claim.claimToken : '' } }, invoice.id, body, 'patch');
    const row = await t.database.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    assert.equal(row.state, 'committed');
    assert.equal(row.committed_resource, `invoice/${invoice.id}/2`);

    expectStatus(await api.patch(url, { memo: 'a later change' }), 200); // v3 by someone else
    const retry = await api.patch(url, body, { 'idempotency-key': key });
    expectStatus(retry, 200);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(retry.body.version, 2);
    assert.equal(retry.body.memo, 'committed before the crash');
    assert.equal(expectStatus(await api.get(url), 200).version, 3, 'nothing redone');
  });

  test('a customer created before a crash lost its response is answered, not created twice', async () => {
    const key = newKey();
    const body = { name: 'Crash Ltd' };
    const claim = await service().claim({ tenantId, key, method: 'POST', path: '/v1/customers', hash: requestHash('POST', '/v1/customers', body) });
    assert.equal(claim.kind, 'claimed');
    const auth = { tenantId, keyId: 'key_test', scopes: new Set(['invoices:write'] as const) };
    const { createCustomerService } = await import('../../src/modules/customers/service.js');
    const created = await createCustomerService(t.database.db).create({ auth, requestId: 'req_crash', idempotency: { key, claimToken: claim.kind === 'claimed' ? claim.claimToken : '' } }, body);
    const row = await t.database.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    assert.equal(row.committed_resource, `customer/${created.id}/1`);

    const countBefore = (await t.database.db.selectFrom('customers').select('id').execute()).length;
    const retry = await api.post('/v1/customers', body, { 'idempotency-key': key });
    expectStatus(retry, 200);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(retry.body.id, created.id);
    assert.equal((await t.database.db.selectFrom('customers').select('id').execute()).length, countBefore, 'not created twice');
  });

  test('a change refused because its claim was taken over rolls back whole', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    const auth = { tenantId, keyId: 'key_test', scopes: new Set(['invoices:write'] as const) };
    const invoices = await invoiceServiceOver(t);
    await assert.rejects(
      invoices.update({ auth, requestId: 'req_x', idempotency: { key, claimToken: 'not-the-owner' } }, invoice.id, { memo: 'z' }, 'patch'),
      /outlived its Idempotency-Key lease/,
    );
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 1);
    assert.equal(await auditCount(invoice.id), 1);
  });

  test('a change whose new key another request wrote first rolls back whole (the write statement refuses itself)', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    // The other request's row, already committed under the same key.
    const taken = expectStatus(await api.patch(`/v1/invoices/${(await createInvoice()).id}`, { memo: 'first' }, { 'idempotency-key': key }), 200);
    assert.ok(taken.id);
    const auth = { tenantId, keyId: 'key_test', scopes: new Set(['invoices:write'] as const) };
    const invoices = await invoiceServiceOver(t);
    const now = new Date().toISOString();
    const insert = { hash: 'h', method: 'PATCH', path: `/v1/invoices/${invoice.id}`, createdAt: now, expiresAt: now };
    await assert.rejects(
      invoices.update({ auth, requestId: 'req_y', idempotency: { key, claimToken: 'mine', insert } }, invoice.id, { memo: 'second' }, 'patch'),
      /ran at the same time; nothing was changed/,
    );
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 1);
    assert.equal(await auditCount(invoice.id), 1);
  });

  test('works with If-Match: the retry is replayed although its If-Match is now stale', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    const first = await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'guarded' }, { 'idempotency-key': key, 'if-match': '"1"' });
    expectStatus(first, 200);
    const retry = await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'guarded' }, { 'idempotency-key': key, 'if-match': '"1"' });
    expectStatus(retry, 200);
    assert.equal(retry.text, first.text);
    // Without the key, the stale If-Match is refused as usual.
    expectProblem(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'guarded' }, { 'if-match': '"1"' }), 412, 'precondition-failed');
  });

  test('a final 4xx is stored and replayed too; a validation error stores nothing', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    expectProblem(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'x' }, { 'idempotency-key': key, 'if-match': '"9"' }), 412);
    const retry = await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'x' }, { 'idempotency-key': key, 'if-match': '"9"' });
    expectProblem(retry, 412);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    const badKey = newKey();
    expectProblem(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 123 }, { 'idempotency-key': badKey }), 400);
    const rows = await t.database.db.selectFrom('idempotency_keys').select('key').where('key', '=', badKey).execute();
    assert.equal(rows.length, 0);
  });

  test('a PATCH or PUT takes a new key in its own transaction: one commit, no stored body, and the replay is the same answer', async () => {
    // Each pair: the same request twice; the retry is rebuilt from the committed version.
    const cases: { method: 'PATCH' | 'PUT'; query: string; headers: Record<string, string>; status: number }[] = [
      { method: 'PATCH', query: '', headers: {}, status: 200 },
      { method: 'PATCH', query: '?fields=id,total,version', headers: {}, status: 200 },
      { method: 'PATCH', query: '', headers: { accept: 'application/xml' }, status: 200 },
      { method: 'PATCH', query: '', headers: { prefer: 'return=minimal' }, status: 204 },
      { method: 'PUT', query: '', headers: {}, status: 200 },
    ];
    for (const { method, query, headers, status } of cases) {
      const invoice = await createInvoice();
      const key = newKey();
      const url = `/v1/invoices/${invoice.id}${query}`;
      const body = { currency: 'EUR', memo: `${method} ${query} ${JSON.stringify(headers)}`, lines: [{ description: 'B', quantity: '2', unit_price: '7.5' }] };
      const send = () => api.request(method, url, { body, headers: { ...headers, 'idempotency-key': key } });
      const first = await send();
      expectStatus(first, status);
      const row = await t.database.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
      assert.equal(row.state, 'committed', `${method} ${query}: the key's row came with the change`);
      assert.equal(row.committed_resource, `invoice/${invoice.id}/2`);
      assert.equal(row.response_body, null, 'no answer stored after the commit');
      expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'someone else, later' }), 200); // v3
      const retry = await send();
      expectStatus(retry, status);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.equal(retry.text, first.text, `${method} ${query} ${JSON.stringify(headers)}: byte-identical answer`);
      assert.equal(retry.headers.etag, first.headers.etag);
      assert.equal(retry.headers['content-type'], first.headers['content-type']);
      assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 3, 'nothing redone');
    }
  });

  test('a request with no change (a no-op PATCH) stores its answer for the retry', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    const first = await api.patch(`/v1/invoices/${invoice.id}`, { memo: invoice.memo }, { 'idempotency-key': key });
    expectStatus(first, 200);
    const row = await t.database.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    assert.equal(row.state, 'completed');
    const retry = await api.patch(`/v1/invoices/${invoice.id}`, { memo: invoice.memo }, { 'idempotency-key': key });
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(retry.text, first.text);
  });

  test('a change whose new key another request wrote first rolls back whole (409)', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    const url = `/v1/invoices/${invoice.id}`;
    // The other request's row, as its own write transaction left it.
    await service().storeAnswer(
      { tenantId, key, claimToken: 'other', method: 'PATCH', path: url, hash: requestHash('PATCH', url, { memo: 'w' }), createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
      { status: 200, headers: {}, body: '{}' },
    );
    const auth = { tenantId, keyId: 'key_test', scopes: new Set(['invoices:write'] as const) };
    const invoices = await invoiceServiceOver(t);
    const insert = { hash: requestHash('PATCH', url, { memo: 'w' }), method: 'PATCH', path: url, createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
    await assert.rejects(invoices.update({ auth, requestId: 'req_y', idempotency: { key, claimToken: 'mine', insert } }, invoice.id, { memo: 'w' }, 'patch'), /ran at the same time/);
    assert.equal(expectStatus(await api.get(url), 200).version, 1);
    assert.equal(await auditCount(invoice.id), 1);
    assert.equal(await eventCount(invoice.id), 1);
  });

  test('an invalid key is a 400; GET ignores the header', async () => {
    const invoice = await createInvoice();
    expectProblem(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'x' }, { 'idempotency-key': 'x'.repeat(256) }), 400, 'validation-error');
    expectStatus(await api.get(`/v1/invoices/${invoice.id}`, { 'idempotency-key': 'whatever' }), 200);
  });

  test('keys are kept at least 24 h, then cleaned up and reusable', async () => {
    const invoice = await createInvoice();
    const key = newKey();
    const url = `/v1/invoices/${invoice.id}`;
    expectStatus(await api.patch(url, { memo: 'day one' }, { 'idempotency-key': key }), 200);
    const row = await t.database.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    assert.ok(Date.parse(row.expires_at) - Date.parse(row.created_at) >= 24 * 3_600_000);
    const idem = service();
    assert.equal(await idem.deleteExpired(new Date(Date.parse(row.created_at) + 23 * 3_600_000).toISOString()), 0);
    const removed = await idem.deleteExpired(new Date(Date.parse(row.expires_at) + 1).toISOString());
    assert.ok(removed >= 1);
    assert.equal((await t.database.db.selectFrom('idempotency_keys').select('key').where('key', '=', key).execute()).length, 0);
    const reuse = await api.patch(url, { memo: 'day two' }, { 'idempotency-key': key });
    expectStatus(reuse, 200);
    assert.equal(reuse.body.version, 3);
  });
});
