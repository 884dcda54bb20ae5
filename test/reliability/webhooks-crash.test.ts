import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { openDatabase } from '../../src/db/database.js';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/harness.js';
import { readFeedUntil } from '../helpers/feed.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * kill -9 of a real server process in the middle of a burst of updates: every event that
 * committed is delivered after the restart (the queue lives in the database).
 */
let testDb: TestDatabase;
let receiver: WebhookReceiver;
let child: ChildProcess | undefined;

before(async () => {
  testDb = await createTestDatabase();
  receiver = new WebhookReceiver();
});
after(async () => {
  child?.kill('SIGKILL');
  await receiver.close();
  await testDb.drop();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startServer(port: number): Promise<ChildProcess> {
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      FOLIO_DATA_DIR: testDb.dataDir,
      ...(testDb.databaseUrl ? { DATABASE_URL: testDb.databaseUrl } : { DATABASE_URL: '' }),
      FOLIO_WEBHOOKS_ALLOW_PRIVATE: 'true',
      FOLIO_WEBHOOK_DISPATCHER: 'on',
      FOLIO_WEBHOOK_POLL_MS: '25',
      FOLIO_WEBHOOK_RETRY_BASE_MS: '25',
      FOLIO_WEBHOOK_RETRY_MAX_MS: '150',
      FOLIO_WEBHOOK_MAX_ATTEMPTS: '100000',
      FOLIO_WEBHOOK_TIMEOUT_MS: '500',
      FOLIO_DB_POOL_SIZE: '5',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 90_000; // generous: a loaded 2-core machine starts tsx slowly
  for (;;) {
    if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('kill -9 mid-burst and restart: every committed event is delivered after the restart', async () => {
  const database = await openDatabase({ dataDir: testDb.dataDir, databaseUrl: testDb.databaseUrl });
  const key = (await createApiKey(database.db, { tenantName: 'crash-a', scopes: ['admin'] })).key;
  await database.close();
  const receiverUrl = await receiver.start();
  receiver.refuseAll = true; // nothing gets through while the first process lives

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  child = await startServer(port);
  const endpoint = await call('POST', '/v1/webhook-endpoints', { url: receiverUrl, events: ['*'] });
  assert.equal(endpoint.status, 201);
  receiver.secret = endpoint.body.secret;
  const invoice = await call('POST', '/v1/invoices', { currency: 'EUR' });
  assert.equal(invoice.status, 201);

  // The burst: 8 writers; the process is killed once 100 updates are acknowledged.
  let acknowledged = 0;
  let next = 0;
  let killed = false;
  const writer = async () => {
    while (!killed && next < 200) {
      const n = next++;
      try {
        const reply = await call('PATCH', `/v1/invoices/${invoice.body.id}`, { internal_note: `burst ${n}` });
        if (reply.status === 200) acknowledged++;
      } catch {
        // the connection died with the process
      }
      if (acknowledged >= 100 && !killed) {
        killed = true;
        child!.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  await new Promise<void>((resolve) => (child!.exitCode !== null || child!.signalCode !== null ? resolve() : child!.once('exit', () => resolve())));
  assert.ok(receiver.attemptsById.size > 0, 'the first process was delivering');
  assert.equal(receiver.accepted.size, 0, 'nothing was accepted before the kill');

  receiver.refuseAll = false;
  child = await startServer(port);
  // Finish the burst on the new process.
  let remaining = 200 - acknowledged;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (remaining > 0) {
      const n = remaining--;
      const reply = await call('PATCH', `/v1/invoices/${invoice.body.id}`, { memo: `after restart ${n}` });
      assert.equal(reply.status, 200);
    }
  }));

  const expected = (await readFeedUntil((path) => call('GET', path), (events) => events.length >= 201, '', 500)).events.map((event: any) => event.id as string);
  assert.ok(expected.length >= 201, `created + at least 200 updates, got ${expected.length}`);
  await receiver.until(() => expected.every((id) => receiver.accepted.has(id)), 90_000);
  assert.deepEqual(receiver.badSignatures, []);
  const current = await call('GET', `/v1/invoices/${invoice.body.id}`);
  assert.equal(expected.length, current.body.version, 'one event per version, none lost');
});
