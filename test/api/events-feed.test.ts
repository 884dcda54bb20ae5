import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { eventStore } from '../../src/modules/events/store.js';
import { engine, expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  api = t.client(await t.key('feed-a'));
});
after(() => t.close());

async function readAll(client: Client, after?: string) {
  const events: any[] = [];
  let cursor = after;
  for (;;) {
    const page = expectStatus(await client.get(`/v1/events?limit=50${cursor ? `&after=${cursor}` : ''}`), 200);
    events.push(...page.data);
    cursor = page.next_cursor;
    if (!page.has_more) return { events, cursor: cursor as string };
  }
}

describe('GET /v1/events', () => {
  test('each change writes its event: invoice.created, invoice.updated with the diff and the new version', async () => {
    const start = (await readAll(api)).cursor;
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', memo: 'a' }), 201);
    expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'b' }), 200);
    const { events } = await readAll(api, start);
    assert.deepEqual(events.map((event) => event.type), ['invoice.created', 'invoice.updated']);
    assert.equal(events[1].resource_id, invoice.id);
    assert.equal(events[1].resource_version, 2);
    assert.equal(events[1].data.version, 2);
    assert.deepEqual(events[1].data.changes, [{ path: '/memo', from: 'a', to: 'b' }]);
    assert.match(events[0].id, /^evt_/);
  });

  test('a concurrent burst read through the feed while it is written yields every event exactly once, in order', async () => {
    const start = (await readAll(api)).cursor;
    const invoices = await Promise.all(Array.from({ length: 8 }, () => api.post('/v1/invoices', { currency: 'EUR' }).then((reply) => expectStatus(reply, 201))));
    let writing = true;
    const seen: any[] = [];
    const reader = (async () => {
      let cursor = start;
      while (writing || cursor !== undefined) {
        // Whether writing had ended *before* this read was sent: only then does an exhausted page mean the end.
        const writersDone = !writing;
        const page = expectStatus(await api.get(`/v1/events?limit=7&after=${cursor}`), 200);
        seen.push(...page.data);
        const done = writersDone && !page.has_more;
        cursor = page.next_cursor;
        if (done) return;
        // SQLite answers synchronously: let the writers' macrotasks run between reads.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    // 8 concurrent writers (within the pool size), 15 updates per invoice.
    const work = Array.from({ length: 15 }, (_, n) => invoices.map((invoice, index) => ({ invoice, index, n }))).flat();
    try {
      await Promise.all(Array.from({ length: 8 }, async () => {
        for (let item = work.shift(); item; item = work.shift()) {
          const body = { line_operations: [{ op: 'add', description: `i${item.index}-${item.n}`, quantity: 1, unit_price: '1' }] };
          expectStatus(await api.patch(`/v1/invoices/${item.invoice.id}`, body), 200);
        }
      }));
    } finally {
      writing = false;
    }
    await reader;

    const ids = seen.map((event) => event.id);
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    const final = (await readAll(api, start)).events;
    assert.equal(final.length, 8 + 8 * 15);
    assert.deepEqual(ids, final.map((event) => event.id), 'the live read saw every event, in the same order as a later full read');
    const seqs = seen.map((event) => Buffer.from(event.cursor, 'base64url').toString().slice(1)).map(Number);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'positions increase');
    for (const invoice of invoices) {
      const versions = seen.filter((event) => event.resource_id === invoice.id).map((event) => event.resource_version);
      assert.deepEqual(versions, Array.from({ length: 16 }, (_, i) => i + 1), 'per invoice, versions arrive in order');
    }
  });

  test('the feed is per tenant', async () => {
    const other = t.client(await t.key('feed-b'));
    expectStatus(await other.post('/v1/invoices', { currency: 'EUR', memo: 'tenant b' }), 201);
    const mine = (await readAll(api)).events;
    const theirs = (await readAll(other)).events;
    assert.equal(theirs.length, 1);
    assert.ok(!mine.some((event) => event.id === theirs[0].id));
  });

  test('an unreadable cursor is a 400', async () => {
    expectProblem(await api.get('/v1/events?after=nonsense'), 400, 'validation-error');
  });

  test('PostgreSQL: an event committed after a slower writer with a smaller position is not skipped', { skip: engine !== 'postgres' }, async () => {
    const tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'feed-a').executeTakeFirstOrThrow()).id;
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
    const start = (await readAll(api)).cursor;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldEventId = '';
    // A writer draws its position and stays open.
    const slowWriter = t.database.db.transaction().execute(async (tx) => {
      heldEventId = await eventStore.append(tx, tenantId, { type: 'test.slow', resourceType: 'test', resourceId: 'x', resourceVersion: null, data: {} });
      await held;
    });
    while (!heldEventId) await new Promise((resolve) => setImmediate(resolve));
    // A faster writer of the same tenant.
    const fastWrite = api.patch(`/v1/invoices/${invoice.id}`, { memo: 'fast' });
    // Wait until the fast writer has either committed or is waiting for the slow one.
    let fastDone = false;
    void fastWrite.then(() => (fastDone = true));
    for (;;) {
      const waiting = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(t.database.db);
      if (fastDone || waiting.rows[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const during = await readAll(api, start);
    release();
    await slowWriter;
    expectStatus(await fastWrite, 200);
    const afterwards = await readAll(api, during.cursor);
    const types = [...during.events, ...afterwards.events].map((event) => event.type);
    assert.deepEqual(types, ['test.slow', 'invoice.updated'], 'both events, in commit order');
  });
});
