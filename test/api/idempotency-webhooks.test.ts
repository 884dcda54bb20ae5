import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createIdempotencyService, requestHash } from '../../src/modules/idempotency/service.js';
import { createWebhookService } from '../../src/modules/webhooks/service.js';
import { expectProblem, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { tenantIdOf } from '../helpers/reliability.js';

/** Webhook-endpoint writes mark their Idempotency-Key inside their own transaction (issue 13, item 6). */
let t: TestApp;
let admin: Client;
let tenantId: string;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  admin = t.client(await t.key('idem-webhooks', ['admin']));
  tenantId = await tenantIdOf(t.database.db, 'idem-webhooks');
});
after(() => t.close());

const auth = () => ({ tenantId, keyId: 'key_test', scopes: new Set(['admin'] as const) });
const endpointCount = async () => (await t.database.db.selectFrom('webhook_endpoints').select('id').where('tenant_id', '=', tenantId).execute()).length;
// A public literal address: no DNS needed, and not refused as private.
const body = { url: 'https://93.184.216.34/hooks' };

describe('Idempotency-Key on webhook endpoints', () => {
  test('a create that committed before a crash lost its response is not created twice', async () => {
    const key = `whe-${Date.now()}`;
    const claim = await createIdempotencyService({ db: t.database.db, engine: t.database.engine, ttlHours: 24 }).claim({
      tenantId, key, method: 'POST', path: '/v1/webhook-endpoints', hash: requestHash('POST', '/v1/webhook-endpoints', body),
    });
    assert.equal(claim.kind, 'claimed');
    const webhooks = createWebhookService({ db: t.database.db, allowPrivateTargets: false });
    const created = await webhooks.create({ auth: auth(), requestId: 'req_crash', idempotency: { key, claimToken: claim.kind === 'claimed' ? claim.claimToken : '' } }, body);
    const row = await t.database.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    assert.equal(row.state, 'committed');
    assert.equal(row.committed_resource, `webhook_endpoint/${created.id}/created`);

    const countBefore = await endpointCount();
    const retry = await admin.post('/v1/webhook-endpoints', body, { 'idempotency-key': key });
    expectProblem(retry, 409, 'conflict');
    assert.equal(await endpointCount(), countBefore, 'not created twice');
  });

  test('a create, update or delete whose claim was taken over changes nothing', async () => {
    const webhooks = createWebhookService({ db: t.database.db, allowPrivateTargets: false });
    const lost = { auth: auth(), requestId: 'req_x', idempotency: { key: 'not-claimed', claimToken: 'not-the-owner' } };
    const countBefore = await endpointCount();
    await assert.rejects(webhooks.create(lost, body), /outlived its Idempotency-Key lease/);
    assert.equal(await endpointCount(), countBefore);
    const kept = await webhooks.create({ auth: auth(), requestId: 'req_y' }, body);
    await assert.rejects(webhooks.update(lost, kept.id, { description: 'changed' }), /outlived its Idempotency-Key lease/);
    assert.equal((await webhooks.get({ auth: auth(), requestId: 'r' }, kept.id)).description, null);
    await assert.rejects(webhooks.remove(lost, kept.id), /outlived its Idempotency-Key lease/);
    assert.equal(await endpointCount(), countBefore + 1);
  });
});
