import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { eventStore } from '../../src/modules/events/store.js';
import { readFeedToEnd, readFeedUntil } from '../helpers/feed.js';
import { engine, expectProblem, expectStatus, postgresAdminUrl, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  api = t.client(await t.key('feed-a'));
});
after(() => t.close());

const readAll = (client: Client, after?: string) => readFeedToEnd(client.get, after, 50);

/** The feed position a cursor names, comparable: [transaction id, seq] (transaction id 0 on SQLite). */
function positionOf(cursor: string): [bigint, bigint] {
  const match = /^c(\d+)\.(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  assert.ok(match, `a current cursor: ${cursor}`);
  return [BigInt(match[1]), BigInt(match[2])];
}
const before_ = ([x1, s1]: [bigint, bigint], [x2, s2]: [bigint, bigint]) => x1 < x2 || (x1 === x2 && s1 < s2);
const legacyCursor = (seq: number) => Buffer.from(`e${seq}`, 'utf8').toString('base64url');
const pause = () => new Promise((resolve) => setImmediate(resolve));

describe('GET /v1/events', () => {
  test('each change writes its event: invoice.created, invoice.updated with the diff and the new version', async () => {
    const start = (await readAll(api)).cursor;
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', memo: 'a' }), 201);
    expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'b' }), 200);
    const mine = (events: any[]) => events.filter((event) => event.resource_id === invoice.id);
    const events = mine((await readFeedUntil(api.get, (all) => mine(all).length >= 2, start)).events);
    assert.deepEqual(events.map((event) => event.type), ['invoice.created', 'invoice.updated']);
    assert.equal(events[1].resource_id, invoice.id);
    assert.equal(events[1].resource_version, 2);
    assert.equal(events[1].data.version, 2);
    assert.deepEqual(events[1].data.changes, [{ path: '/memo', from: 'a', to: 'b' }]);
    assert.match(events[0].id, /^evt_/);
  });

  test('many concurrent writers of one tenant, read live by several readers: each reader sees every event exactly once, all in one order', async () => {
    const tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'feed-a').executeTakeFirstOrThrow()).id;
    const invoices = await Promise.all(Array.from({ length: 6 }, () => api.post('/v1/invoices', { currency: 'EUR' }).then((reply) => expectStatus(reply, 201))));
    const start = (await readAll(api)).cursor;
    const invoiceIds = new Set(invoices.map((invoice) => invoice.id));
    // This test's events only: earlier ones may still become ready after `start` on PostgreSQL.
    const ours = (event: any) => event.type === 'test.burst' || (event.type === 'invoice.updated' && invoiceIds.has(event.resource_id));
    const updatesPerInvoice = 10;
    const slowWriters = 3;
    const transactionsPerSlowWriter = 10;
    const expected = invoices.length * updatesPerInvoice + slowWriters * transactionsPerSlowWriter * 2;

    let writersFailed = false;
    const reader = async (limit: number) => {
      const seen: any[] = [];
      let cursor = start;
      const giveUpAt = Date.now() + 60_000;
      while (seen.length < expected && !writersFailed && Date.now() < giveUpAt) {
        const page = expectStatus(await api.get(`/v1/events?limit=${limit}&after=${cursor}`), 200);
        seen.push(...page.data.filter(ours));
        cursor = page.next_cursor;
        // SQLite answers synchronously: let the writers' macrotasks run between reads.
        await pause();
      }
      return seen;
    };
    const readers = [3, 7, 50].map(reader);

    // API writers (each PATCH one transaction) and writers that keep their transaction open a
    // moment after appending two events, so commits overtake each other in every way.
    const work = Array.from({ length: updatesPerInvoice }, (_, n) => invoices.map((invoice, index) => ({ invoice, index, n }))).flat();
    const apiWriters = Array.from({ length: 6 }, async () => {
      for (let item = work.shift(); item; item = work.shift()) {
        const body = { line_operations: [{ op: 'add', description: `i${item.index}-${item.n}`, quantity: 1, unit_price: '1' }] };
        expectStatus(await api.patch(`/v1/invoices/${item.invoice.id}`, body), 200);
      }
    });
    const directWriters = Array.from({ length: slowWriters }, async (_, writer) => {
      for (let n = 0; n < transactionsPerSlowWriter; n++) {
        await t.database.db.transaction().execute(async (tx) => {
          for (const part of [1, 2]) {
            await eventStore.append(tx, tenantId, { type: 'test.burst', resourceType: 'test', resourceId: `w${writer}-${n}-${part}`, resourceVersion: null, data: {}, createdAt: new Date().toISOString() });
          }
          await new Promise((resolve) => setTimeout(resolve, (writer + n) % 4));
        });
      }
    });
    try {
      await Promise.all([...apiWriters, ...directWriters]);
    } catch (error) {
      writersFailed = true;
      throw error;
    }
    const seenByReader = await Promise.all(readers);

    const final = (await readFeedUntil(api.get, (all) => all.filter(ours).length >= expected, start)).events.filter(ours);
    assert.equal(final.length, expected);
    assert.equal(new Set(final.map((event) => event.id)).size, expected, 'no event twice in a full read');
    for (const [index, seen] of seenByReader.entries()) {
      const ids = seen.map((event) => event.id);
      assert.equal(new Set(ids).size, ids.length, `reader ${index}: no event twice`);
      assert.deepEqual(ids, final.map((event) => event.id), `reader ${index}: every event, in the same order as every other reader`);
      const positions = seen.map((event) => positionOf(event.cursor));
      assert.ok(positions.every((position, i) => i === 0 || before_(positions[i - 1], position)), `reader ${index}: positions increase`);
    }
    for (const invoice of invoices) {
      const versions = final.filter((event) => event.resource_id === invoice.id).map((event) => event.resource_version);
      assert.deepEqual(versions, Array.from({ length: updatesPerInvoice }, (_, i) => i + 2), 'per invoice, versions arrive in order');
    }
    for (let writer = 0; writer < slowWriters; writer++) {
      const parts = final.map((event) => event.resource_id).filter((id: string) => id.startsWith(`w${writer}-`));
      const inOrder = Array.from({ length: transactionsPerSlowWriter }, (_, n) => [`w${writer}-${n}-1`, `w${writer}-${n}-2`]).flat();
      assert.deepEqual(parts, inOrder, 'one writer\'s transactions in the order they committed, each one\'s events together');
    }
  });

  test('the feed is per tenant', async () => {
    const other = t.client(await t.key('feed-b'));
    expectStatus(await other.post('/v1/invoices', { currency: 'EUR', memo: 'tenant b' }), 201);
    const theirs = (await readFeedUntil(other.get, (events) => events.length >= 1)).events;
    const mine = (await readAll(api)).events;
    assert.equal(theirs.length, 1);
    assert.ok(!mine.some((event) => event.id === theirs[0].id));
  });

  test('an unreadable cursor is a 400', async () => {
    expectProblem(await api.get('/v1/events?after=nonsense'), 400, 'validation-error');
    expectProblem(await api.get(`/v1/events?after=${Buffer.from('c18446744073709551616.1').toString('base64url')}`), 400, 'validation-error');
  });

  test('a cursor issued before 0011_event_commit_order (e<seq>) continues after that event', async () => {
    const client = t.client(await t.key('feed-legacy'));
    const tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'feed-legacy').executeTakeFirstOrThrow()).id;
    // Events as the release before 0011 left them: on PostgreSQL, transaction id 0 (the migration's fill value).
    const legacy = ['evt_legacy_1', 'evt_legacy_2', 'evt_legacy_3'];
    for (const id of legacy) {
      const values = sql.join([tenantId, id, 'test.legacy', 'test', id, '{}', '2026-01-01T00:00:00.000Z']);
      if (engine === 'postgres') await sql`INSERT INTO events (tenant_id, id, type, resource_type, resource_id, data, created_at, xact_id) VALUES (${values}, '0')`.execute(t.database.db);
      else await sql`INSERT INTO events (tenant_id, id, type, resource_type, resource_id, data, created_at) VALUES (${values})`.execute(t.database.db);
    }
    const seqOf = async (id: string) => Number((await t.database.db.selectFrom('events').select('seq').where('id', '=', id).executeTakeFirstOrThrow()).seq);
    const invoice = expectStatus(await client.post('/v1/invoices', { currency: 'EUR' }), 201);
    const { events } = await readFeedUntil(client.get, (all) => all.some((event) => event.resource_id === invoice.id), legacyCursor(await seqOf('evt_legacy_1')));
    assert.deepEqual(events.map((event) => event.id).slice(0, 2), ['evt_legacy_2', 'evt_legacy_3']);
    assert.deepEqual(events.slice(2).map((event) => event.type), ['invoice.created']);
    const fromStart = (await readAll(client)).events.map((event) => event.id);
    assert.deepEqual(fromStart.slice(0, 3), legacy, 'events written before the upgrade come first, in seq order');
    const fromLast = (await readAll(client, legacyCursor(await seqOf('evt_legacy_3')))).events;
    assert.deepEqual(fromLast.map((event) => event.type), ['invoice.created']);
  });

  test('PostgreSQL: a writing transaction left open in another database does not hold this feed back', { skip: engine !== 'postgres' }, async () => {
    const elsewhere = new pg.Client({ connectionString: postgresAdminUrl });
    await elsewhere.connect();
    try {
      await elsewhere.query('BEGIN');
      await elsewhere.query('SELECT pg_current_xact_id()'); // now it holds a transaction id, older than the write below
      const start = (await readAll(api)).cursor;
      const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
      // Without telling other databases' transactions apart this waits until `elsewhere` ends (never, here).
      const { events } = await readFeedUntil(api.get, (all) => all.some((event) => event.resource_id === invoice.id), start);
      assert.ok(events.some((event) => event.type === 'invoice.created' && event.resource_id === invoice.id));
    } finally {
      await elsewhere.query('ROLLBACK').catch(() => undefined);
      await elsewhere.end();
    }
  });

  test('PostgreSQL: an event committed after a slower writer with a smaller position is not skipped', { skip: engine !== 'postgres' }, async () => {
    const tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'feed-a').executeTakeFirstOrThrow()).id;
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
    const start = (await readAll(api)).cursor;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldEventId = '';
    // A writer draws its position (seq and transaction id) and stays open.
    const slowWriter = t.database.db.transaction().execute(async (tx) => {
      heldEventId = await eventStore.append(tx, tenantId, { type: 'test.slow', resourceType: 'test', resourceId: 'x', resourceVersion: null, data: {}, createdAt: new Date().toISOString() });
      await held;
    });
    while (!heldEventId) await pause();
    const ours = (event: any) => event.type === 'test.slow' || event.resource_id === invoice.id;
    try {
      // A faster writer of the same tenant commits first: nothing makes it wait for the slow one.
      expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'fast' }), 200);
      const committed = await t.database.db.selectFrom('events').select('id').where('resource_id', '=', invoice.id).where('type', '=', 'invoice.updated').execute();
      assert.equal(committed.length, 1, 'the fast writer committed while the slow one is open');
      const during = (await readAll(api, start)).events.filter(ours);
      assert.deepEqual(during.map((event) => event.type), [], 'the fast event is held back while the older transaction is open');
    } finally {
      release();
    }
    await slowWriter;
    const afterwards = (await readFeedUntil(api.get, (events) => events.filter(ours).length >= 2, start)).events.filter(ours);
    assert.deepEqual(afterwards.map((event) => event.type), ['test.slow', 'invoice.updated'], 'both events, the older transaction first');
  });
});
