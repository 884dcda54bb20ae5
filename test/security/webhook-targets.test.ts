import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { createWebhookDispatcher } from '../../src/modules/webhooks/dispatcher.js';
import { newWebhookSecret } from '../../src/modules/webhooks/service.js';

// Private targets NOT allowed here (the operator default).
let t: TestApp;
let admin: Client;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  admin = t.client(await t.key('ssrf-a', ['admin']));
});
after(() => t.close());

describe('webhook targets on private or loopback addresses', () => {
  test('are refused at creation (literal addresses and names that resolve to them)', async () => {
    for (const url of [
      'http://127.0.0.1:8080/x',
      'http://localhost/x',
      'http://[::1]/x',
      'http://10.1.2.3/x',
      'http://192.168.0.10/x',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/x',
      'http://0.0.0.0/x',
    ]) {
      const problem = expectProblem(await admin.post('/v1/webhook-endpoints', { url }), 422, 'webhook-target-refused');
      assert.equal(problem.errors[0].pointer, '/url', url);
    }
    expectProblem(await admin.post('/v1/webhook-endpoints', { url: 'ftp://example.com/x' }), 400, 'validation-error');
    expectProblem(await admin.post('/v1/webhook-endpoints', { url: 'not a url' }), 400, 'validation-error');
    expectProblem(await admin.post('/v1/webhook-endpoints', { url: 'http://user:pw@example.com/x' }), 400, 'validation-error');
  });

  test('are refused again at delivery time (an endpoint whose address became private is never called)', async () => {
    const receiver = new WebhookReceiver();
    const url = await receiver.start();
    try {
      const tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'ssrf-a').executeTakeFirstOrThrow()).id;
      const now = new Date().toISOString();
      // As if the name resolved to a public address when it was registered.
      await t.database.db.insertInto('webhook_endpoints').values({
        tenant_id: tenantId, id: 'whe_01m000000000000000000000aa', url, description: null, event_types: '["*"]',
        secret: newWebhookSecret(), enabled: 1, created_at: now, updated_at: now,
      }).execute();
      expectStatus(await admin.post('/v1/invoices', { currency: 'EUR' }), 201);
      const dispatcher = createWebhookDispatcher({ db: t.database.db, engine: t.database.engine, config: { ...t.config.webhooks, maxAttempts: 1 }, log: () => {} });
      await dispatcher.runUntilIdle();
      const [delivery] = expectStatus(await admin.get('/v1/webhook-endpoints/whe_01m000000000000000000000aa/deliveries'), 200).data;
      assert.equal(delivery.status, 'failed');
      assert.match(delivery.last_error, /refused: .*private or loopback/);
      assert.equal(receiver.attemptsById.size, 0, 'the receiver was never called');
    } finally {
      await receiver.close();
    }
  });
});
