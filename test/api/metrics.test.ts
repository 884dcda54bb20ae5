import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, expectProblem, expectStatus, startTestApp } from '../helpers/harness.js';

/** The value of one sample in Prometheus text format, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => got[key] === value)) return Number(match[3]);
  }
  return undefined;
}

test('GET /metrics: requests by route pattern and status, latency, writes, conflicts, replays, webhook queue depth', async () => {
  const t = await startTestApp({ FOLIO_WEBHOOKS_ALLOW_PRIVATE: 'true', FOLIO_WEBHOOK_DISPATCHER: 'off' });
  const client = t.client(await t.key('metrics'));
  const admin = t.client(await t.key('metrics', ['admin']));
  const scraper = new Client(t.app, null);
  try {
    expectStatus(await admin.post('/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/hook' }), 201);
    const created = expectStatus(await client.post('/v1/invoices', { currency: 'EUR' }), 201);
    expectStatus(await client.patch(`/v1/invoices/${created.id}`, { memo: 'a' }, { 'if-match': '"1"' }), 200);
    expectProblem(await client.patch(`/v1/invoices/${created.id}`, { memo: 'b' }, { 'if-match': '"1"' }), 412);
    expectStatus(await client.patch(`/v1/invoices/${created.id}`, { memo: 'c' }, { 'idempotency-key': 'metrics-1' }), 200);
    const replay = await client.patch(`/v1/invoices/${created.id}`, { memo: 'c' }, { 'idempotency-key': 'metrics-1' });
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    expectStatus(await client.get(`/v1/invoices/${created.id}`), 200);

    const scrape = await scraper.get('/metrics');
    assert.equal(scrape.status, 200);
    assert.match(String(scrape.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = scrape.text;
    assert.equal(sample(text, 'folio_http_requests_total', { method: 'PATCH', route: '/v1/invoices/:id', status: '200' }), 3);
    assert.equal(sample(text, 'folio_http_requests_total', { method: 'PATCH', route: '/v1/invoices/:id', status: '412' }), 1);
    assert.equal(sample(text, 'folio_http_requests_total', { method: 'GET', route: '/v1/invoices/:id', status: '200' }), 1);
    assert.equal(sample(text, 'folio_http_request_duration_seconds_count', { method: 'PATCH', route: '/v1/invoices/:id' }), 4);
    assert.equal(sample(text, 'folio_invoice_writes_total', { method: 'PATCH', route: '/v1/invoices/:id' }), 2, 'the replay is not a write');
    assert.equal(sample(text, 'folio_invoice_writes_total', { method: 'POST', route: '/v1/invoices' }), 1);
    assert.equal(sample(text, 'folio_conflicts_total', { status: '412' }), 1);
    assert.equal(sample(text, 'folio_idempotent_replays_total'), 1);
    // Three invoice versions (create, memo a, memo c), each an event queued for the one endpoint (dispatcher off).
    assert.equal(sample(text, 'folio_webhook_queue_depth'), 3);
    if (t.database.engine === 'postgres') assert.ok((sample(text, 'folio_db_pool_connections', { state: 'max' }) ?? 0) > 0);
    assert.ok(sample(text, 'folio_process_resident_memory_bytes') !== undefined);
    assert.ok(!text.includes(created.id), 'raw URLs (ids) never become labels');
  } finally {
    await t.close();
  }
});

test('GET /metrics needs the token when FOLIO_METRICS_TOKEN is set', async () => {
  const t = await startTestApp({ FOLIO_METRICS_TOKEN: 'scrape-secret' });
  try {
    expectProblem(await new Client(t.app, null).get('/metrics'), 401, 'unauthorized');
    assert.equal((await new Client(t.app, null).get('/metrics', { authorization: 'Bearer scrape-secret' })).status, 200);
  } finally {
    await t.close();
  }
});
