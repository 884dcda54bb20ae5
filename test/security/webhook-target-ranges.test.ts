import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { createWebhookDispatcher } from '../../src/modules/webhooks/dispatcher.js';
import { isPrivateAddress } from '../../src/modules/webhooks/domain.js';
import { newWebhookSecret } from '../../src/modules/webhooks/service.js';

/** Every non-public form of an address is refused as a webhook target (issue 13, item 5). */
const refused = [
  '::127.0.0.1', '::7f00:1', '::808:808', // IPv4-compatible (loopback; even a public one)
  '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254',
  '2002:7f00:1::', '2002:c0a8:101::1', // 6to4 carrying 127.0.0.1 / 192.168.1.1
  '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
  '64:ff9b::a00:1', // NAT64 of 10.0.0.1
  'fec0::1', // deprecated site-local
  'fc00::1', 'fd12:3456::1', 'fe80::1', 'fe80::1%eth0', 'ff02::1', '::', '::1', '2001:db8::1',
  '127.0.0.1', '10.0.0.1', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '255.255.255.255',
  '192.0.2.1', '198.18.0.1', '224.0.0.1', '240.0.0.1', 'localhost', '',
];
const allowed = ['8.8.8.8', '93.184.216.34', '172.32.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8'];

describe('webhook target address ranges', () => {
  test('loopback, private, link-local, unique/site-local, mapped/compatible, 6to4, Teredo, NAT64… are refused; public unicast passes', () => {
    for (const address of refused) assert.equal(isPrivateAddress(address), true, address);
    for (const address of allowed) assert.equal(isPrivateAddress(address), false, address);
  });
});

let t: TestApp;
let admin: Client;
before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  admin = t.client(await t.key('ssrf-ranges', ['admin']));
});
after(() => t.close());

describe('webhook targets in IPv6 disguises', () => {
  test('are refused at creation', async () => {
    for (const url of ['http://[::127.0.0.1]/', 'http://[2002:7f00:1::]/', 'http://[fec0::1]/', 'http://[::ffff:a9fe:a9fe]/', 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/']) {
      const problem = expectProblem(await admin.post('/v1/webhook-endpoints', { url }), 422, 'webhook-target-refused');
      assert.equal(problem.errors[0].pointer, '/url', url);
    }
  });

  test('are refused at delivery (an endpoint stored before the rule never gets a request)', async () => {
    const tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'ssrf-ranges').executeTakeFirstOrThrow()).id;
    const now = new Date().toISOString();
    await t.database.db.insertInto('webhook_endpoints').values({
      tenant_id: tenantId, id: 'whe_01m000000000000000000000ab', url: 'http://[::127.0.0.1]:9/hook', description: null, event_types: '["*"]',
      secret: newWebhookSecret(), enabled: 1, created_at: now, updated_at: now,
    }).execute();
    expectStatus(await admin.post('/v1/invoices', { currency: 'EUR' }), 201);
    const dispatcher = createWebhookDispatcher({ db: t.database.db, engine: t.database.engine, config: { ...t.config.webhooks, maxAttempts: 1 }, log: () => {} });
    await dispatcher.runUntilIdle();
    const [delivery] = expectStatus(await admin.get('/v1/webhook-endpoints/whe_01m000000000000000000000ab/deliveries'), 200).data;
    assert.equal(delivery.status, 'failed');
    assert.match(delivery.last_error, /refused: .*private or loopback/);
  });
});
