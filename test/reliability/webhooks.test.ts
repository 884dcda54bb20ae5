import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { readFeedUntil } from '../helpers/feed.js';
import { createWebhookDispatcher } from '../../src/modules/webhooks/dispatcher.js';

const fastWebhooks = {
  FOLIO_WEBHOOKS_ALLOW_PRIVATE: 'true',
  FOLIO_WEBHOOK_POLL_MS: '20',
  FOLIO_WEBHOOK_RETRY_BASE_MS: '20',
  FOLIO_WEBHOOK_RETRY_MAX_MS: '200',
  FOLIO_WEBHOOK_TIMEOUT_MS: '2000',
  FOLIO_WEBHOOK_CONCURRENCY: '8',
};

let t: TestApp;
let admin: Client;
let receiver: WebhookReceiver;
let receiverUrl: string;

before(async () => {
  t = await startTestApp(fastWebhooks);
  admin = t.client(await t.key('hooks-a', ['admin']));
  receiver = new WebhookReceiver();
  receiverUrl = await receiver.start();
});
after(async () => {
  await receiver.close();
  await t.close();
});

/** The ids of the tenant's events, once the feed has at least `count` of them ready. */
async function allEventIds(client: Client, count: number) {
  return (await readFeedUntil(client.get, (events) => events.length >= count, '', 500)).events.map((event: any) => event.id as string);
}

describe('webhooks', () => {
  test('every event of a burst of 200 updates reaches the receiver, signed, at least once, although it fails the first tries', async () => {
    receiver.failFirstAttempts = 2;
    const endpoint = expectStatus(await admin.post('/v1/webhook-endpoints', { url: receiverUrl, events: ['invoice.*'] }), 201);
    assert.match(endpoint.secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    receiver.secret = endpoint.secret;
    expectStatus(await admin.get(`/v1/webhook-endpoints/${endpoint.id}`), 200);
    assert.equal((await admin.get(`/v1/webhook-endpoints/${endpoint.id}`)).body.secret, undefined, 'the secret is shown once');

    const invoices = await Promise.all(Array.from({ length: 4 }, () => admin.post('/v1/invoices', { currency: 'EUR' }).then((reply) => expectStatus(reply, 201))));
    // 200 updates from 8 concurrent writers (a burst within the connection pool).
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let n = next++; n < 200; n = next++) {
        expectStatus(await admin.patch(`/v1/invoices/${invoices[n % 4].id}`, { internal_note: `note ${n}` }), 200);
      }
    }));
    const expected = await allEventIds(admin, 204);
    assert.equal(expected.length, 204);
    await receiver.until(() => expected.every((id) => receiver.accepted.has(id)));
    assert.deepEqual(receiver.badSignatures, []);
    for (const id of expected) assert.ok((receiver.attemptsById.get(id) ?? 0) >= 3, 'failed twice, then delivered');
    const sample = receiver.accepted.get(expected[10]);
    assert.equal(sample.id, expected[10]);
    assert.match(sample.type, /^invoice\./);
    assert.ok(sample.data.invoice_id);

    const log = expectStatus(await admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries?limit=5`), 200);
    await receiver.until(async () => {
      const pending = expectStatus(await admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries?status=pending`), 200);
      return pending.data.length === 0;
    });
    assert.equal(log.data.length, 5);
    assert.equal(log.has_more, true);
    const delivered = expectStatus(await admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries?status=delivered&limit=1`), 200).data[0];
    assert.equal(delivered.status, 'delivered');
    assert.ok(delivered.attempts >= 3);
    assert.equal(delivered.attempt_log[0].status_code, 503);
    assert.equal(delivered.attempt_log.at(-1).status_code, 204);
    expectStatus(await admin.delete(`/v1/webhook-endpoints/${endpoint.id}`), 204);
    receiver.failFirstAttempts = 0;
  });

  test('the events filter picks what an endpoint receives (exact and wildcard)', async () => {
    // By name (resolved, checked, then connected to the checked address).
    const byName = receiverUrl.replace('127.0.0.1', 'localhost');
    const only = expectStatus(await admin.post('/v1/webhook-endpoints', { url: byName, events: ['invoice.created'] }), 201);
    receiver.secret = only.secret;
    const invoice = expectStatus(await admin.post('/v1/invoices', { currency: 'EUR' }), 201);
    expectStatus(await admin.patch(`/v1/invoices/${invoice.id}`, { memo: 'not sent' }), 200);
    await receiver.until(async () => expectStatus(await admin.get(`/v1/webhook-endpoints/${only.id}/deliveries?status=delivered`), 200).data.length === 1);
    const deliveries = expectStatus(await admin.get(`/v1/webhook-endpoints/${only.id}/deliveries`), 200).data;
    assert.deepEqual(deliveries.map((delivery: any) => delivery.event_type), ['invoice.created']);
    expectStatus(await admin.delete(`/v1/webhook-endpoints/${only.id}`), 204);
    expectProblem(await admin.post('/v1/webhook-endpoints', { url: receiverUrl, events: ['Invoice created'] }), 400, 'validation-error');
  });

  test('a redirect is not followed: a 3xx is a failed attempt, retried, then failed for good', async () => {
    receiver.respondWith = { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } };
    try {
      const endpoint = expectStatus(await admin.post('/v1/webhook-endpoints', { url: receiverUrl, events: ['*'] }), 201);
      const dispatcher = createWebhookDispatcher({
        db: t.database.db,
        engine: t.database.engine,
        config: { ...t.config.webhooks, maxAttempts: 2, retryBaseMs: 0, retryMaxMs: 0 },
        log: () => {},
      });
      // Disable the app's own dispatcher's share by draining with this one until the delivery is final.
      expectStatus(await admin.post('/v1/invoices', { currency: 'EUR' }), 201);
      await receiver.until(async () => {
        await dispatcher.runUntilIdle();
        const rows = expectStatus(await admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`), 200).data;
        return rows.length === 1 && rows[0].status !== 'pending';
      });
      const [delivery] = expectStatus(await admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`), 200).data;
      assert.ok(['failed'].includes(delivery.status));
      assert.equal(delivery.last_status_code, 302);
      assert.match(delivery.last_error, /redirect 302 not followed/);
      expectStatus(await admin.delete(`/v1/webhook-endpoints/${endpoint.id}`), 204);
    } finally {
      receiver.respondWith = null;
    }
  });

  test('an endpoint that does not answer in time is a timed-out attempt', async () => {
    receiver.hang = true;
    try {
      const endpoint = expectStatus(await admin.post('/v1/webhook-endpoints', { url: receiverUrl, events: ['*'] }), 201);
      const dispatcher = createWebhookDispatcher({
        db: t.database.db,
        engine: t.database.engine,
        config: { ...t.config.webhooks, timeoutMs: 150, maxAttempts: 1 },
        log: () => {},
      });
      expectStatus(await admin.post('/v1/invoices', { currency: 'EUR' }), 201);
      await receiver.until(async () => {
        await dispatcher.runUntilIdle();
        const rows = expectStatus(await admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`), 200).data;
        return rows.length === 1 && rows[0].attempt_log.length > 0;
      });
      const [delivery] = expectStatus(await admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`), 200).data;
      assert.match(delivery.attempt_log[0].error, /timed out/);
      expectStatus(await admin.delete(`/v1/webhook-endpoints/${endpoint.id}`), 204);
    } finally {
      receiver.hang = false;
    }
  });

  test('several dispatchers share the queue: each delivery is claimed by one of them (no double sends)', async () => {
    const endpoint = expectStatus(await admin.post('/v1/webhook-endpoints', { url: receiverUrl, events: ['invoice.created'] }), 201);
    receiver.secret = endpoint.secret;
    const dispatchers = Array.from({ length: 3 }, () =>
      createWebhookDispatcher({ db: t.database.db, engine: t.database.engine, config: { ...t.config.webhooks, concurrency: 2 }, log: () => {} }));
    const created: string[] = [];
    for (let n = 0; n < 30; n++) created.push(expectStatus(await admin.post('/v1/invoices', { currency: 'EUR', memo: `shared ${n}` }), 201).id);
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.runUntilIdle()));
    await receiver.until(async () => expectStatus(await admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries?status=delivered&limit=100`), 200).data.length === 30);
    const deliveries = expectStatus(await admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries?limit=100`), 200).data;
    assert.equal(deliveries.length, 30);
    for (const delivery of deliveries) {
      assert.equal(delivery.attempts, 1, 'claimed once');
      assert.equal(receiver.attemptsById.get(delivery.event_id), 1, 'sent once');
    }
    expectStatus(await admin.delete(`/v1/webhook-endpoints/${endpoint.id}`), 204);
  });

  test('endpoint CRUD: list, disable, change the filter; another tenant sees none of it; write scope is not enough', async () => {
    const endpoint = expectStatus(await admin.post('/v1/webhook-endpoints', { url: receiverUrl, description: 'crm sync' }), 201);
    assert.deepEqual(endpoint.events, ['*']);
    const updated = expectStatus(await admin.patch(`/v1/webhook-endpoints/${endpoint.id}`, { enabled: false, events: ['invoice.paid', 'payment.*'] }), 200);
    assert.equal(updated.enabled, false);
    assert.deepEqual(updated.events, ['invoice.paid', 'payment.*']);
    const list = expectStatus(await admin.get('/v1/webhook-endpoints'), 200);
    assert.ok(list.data.some((item: any) => item.id === endpoint.id));
    const other = t.client(await t.key('hooks-b', ['admin']));
    expectProblem(await other.get(`/v1/webhook-endpoints/${endpoint.id}`), 404);
    expectProblem(await other.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`), 404);
    const writer = t.client(await t.key('hooks-a', ['invoices:write']));
    expectProblem(await writer.post('/v1/webhook-endpoints', { url: receiverUrl }), 403);
    expectStatus(await admin.delete(`/v1/webhook-endpoints/${endpoint.id}`), 204);
    expectProblem(await admin.get(`/v1/webhook-endpoints/${endpoint.id}`), 404);
  });
});
