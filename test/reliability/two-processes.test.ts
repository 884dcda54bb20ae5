import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { createTestDatabase, engine, type TestDatabase } from '../helpers/harness.js';
import { checkInvoiceIntegrity, httpClient, recordFigures, scaled, type HttpReply } from '../helpers/reliability.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

/**
 * API processes are stateless (issue 18, scale-out): two real server processes on one database
 * (PostgreSQL; on SQLite two processes share the WAL file) keep every guarantee that one process
 * keeps — no lost update with If-Match, one effect per Idempotency-Key, and an events feed that
 * shows each event exactly once — while requests go to both at once. Anything kept per process
 * (an idempotency table in memory, a feed position handed out in memory, a per-process lock)
 * makes these fail.
 */
let testDb: TestDatabase;
let check: DatabaseHandle;
let tenantId: string;
let servers: ServerProcess[] = [];
/** One client per process, same key. */
let via: ReturnType<typeof httpClient>[];

before(async () => {
  testDb = await createTestDatabase();
  check = await openDatabase({ dataDir: testDb.dataDir, databaseUrl: testDb.databaseUrl, poolSize: 2 });
  const created = await createApiKey(check.db, { tenantName: 'two-processes', scopes: ['invoices:read', 'invoices:write'] });
  tenantId = created.tenantId;
  const env = {
    FOLIO_DATA_DIR: testDb.dataDir,
    ...(testDb.databaseUrl ? { DATABASE_URL: testDb.databaseUrl } : {}),
    FOLIO_DB_POOL_SIZE: '8',
    FOLIO_RATE_LIMIT_PER_MINUTE: '0',
    FOLIO_WEBHOOK_DISPATCHER: 'off',
  };
  // One after the other: both run the migrations at start, and the second must find them done.
  servers.push(await startServerProcess(env));
  servers.push(await startServerProcess(env));
  via = servers.map((server) => httpClient(server.baseUrl, created.key));
});
after(async () => {
  await Promise.all(servers.map((server) => server.kill('SIGTERM')));
  servers = [];
  await check.close();
  await testDb.drop();
});

function expectOk(reply: HttpReply, status = 200) {
  assert.equal(reply.status, status, reply.text.slice(0, 500));
  return reply.body;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`two API processes on one database (${engine})`, () => {
  test('lost updates: GET on one process, PATCH If-Match on the other; every increment and line is kept', async () => {
    // SQLite has one writer across both processes; fewer clients keep its queue within busy_timeout.
    const clients = engine === 'postgres' ? scaled(12, 24) : scaled(6, 12);
    const cycles = scaled(6, 20);
    const invoice = expectOk(await via[0]('POST', '/v1/invoices', { currency: 'EUR', metadata: { counter: '0' } }), 201);
    let preconditionFailures = 0;
    let acknowledged = 0;
    const acknowledgedBy = [0, 0];

    async function client(index: number) {
      for (let cycle = 0; cycle < cycles; cycle += 1) {
        for (let retries = 0; ; retries += 1) {
          // Read from one process, write through the other (alternating), so each version a
          // writer relies on was produced or observed elsewhere.
          const reader = (index + cycle + retries) % 2;
          const writer = 1 - reader;
          const current = await via[reader]('GET', `/v1/invoices/${invoice.id}`);
          const body = expectOk(current);
          const patch = await via[writer](
            'PATCH',
            `/v1/invoices/${invoice.id}`,
            {
              metadata: { counter: String(Number(body.metadata.counter) + 1) },
              line_operations: [{ op: 'add', description: `client ${index} cycle ${cycle}`, quantity: '1', unit_price: '1.25', tax_rate: '10' }],
            },
            { 'if-match': current.headers.get('etag')! },
          );
          if (patch.status === 412) {
            preconditionFailures += 1;
            await pause(Math.random() * 4 * 2 ** Math.min(retries, 5));
            continue;
          }
          expectOk(patch);
          acknowledged += 1;
          acknowledgedBy[writer] += 1;
          break;
        }
      }
    }
    await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));

    const expected = clients * cycles;
    const final = expectOk(await via[1]('GET', `/v1/invoices/${invoice.id}`));
    recordFigures('two-processes/lost-updates', { updatesAcknowledged: acknowledged, updatesLost: expected - Number(final.metadata.counter), preconditionFailuresRetried: preconditionFailures });
    assert.ok(acknowledgedBy[0] > 0 && acknowledgedBy[1] > 0, `both processes wrote: ${acknowledgedBy}`);
    assert.equal(final.metadata.counter, String(expected), 'every increment is kept');
    assert.equal(final.lines.length, expected, 'every appended line is kept');
    assert.equal(new Set(final.lines.map((line: any) => line.description)).size, expected);
    assert.equal(final.version, expected + 1, 'one version per acknowledged update');
    assert.deepEqual(await checkInvoiceIntegrity(check.db, tenantId, invoice.id), []);
  });

  test('one Idempotency-Key sent to both processes at once: one change; the others replay it or are a 409', async () => {
    const rounds = scaled(8, 40);
    let replays = 0;
    let conflicts = 0;
    for (let round = 0; round < rounds; round += 1) {
      const invoice = expectOk(await via[round % 2]('POST', '/v1/invoices', { currency: 'EUR', lines: [{ description: 'A', quantity: 1, unit_price: '10' }] }), 201);
      const key = `two-proc-${round}-${Math.random().toString(36).slice(2)}`;
      const body = { line_operations: [{ op: 'add', description: `round ${round}`, quantity: 1, unit_price: '1' }] };
      const send = (process: number) => via[process]('PATCH', `/v1/invoices/${invoice.id}`, body, { 'idempotency-key': key });
      // Two requests per process, all at once.
      const replies = await Promise.all([send(0), send(1), send(0), send(1)]);
      const originals = replies.filter((reply) => reply.status === 200 && reply.headers.get('idempotent-replayed') !== 'true');
      assert.equal(originals.length, 1, `exactly one request did the change: ${replies.map((reply) => `${reply.status}/${reply.headers.get('idempotent-replayed')}`)}`);
      for (const reply of replies) {
        if (reply.status === 409) {
          assert.equal(reply.body.type?.endsWith('/conflict'), true, reply.text);
          conflicts += 1;
        } else {
          assert.equal(reply.status, 200, reply.text.slice(0, 300));
          assert.equal(reply.body.version, 2);
          if (reply !== originals[0]) replays += 1;
        }
      }
      // Once it is done, either process answers the retry from the stored response.
      for (const process of [0, 1]) {
        const retry = await send(process);
        assert.equal(retry.status, 200, retry.text.slice(0, 300));
        assert.equal(retry.headers.get('idempotent-replayed'), 'true');
        assert.equal(retry.body.version, 2);
      }
      const current = expectOk(await via[1 - (round % 2)]('GET', `/v1/invoices/${invoice.id}`));
      assert.equal(current.version, 2, 'exactly one change');
      assert.equal(current.lines.length, 2);
      const audits = await check.db.selectFrom('audit_events').select('version').where('tenant_id', '=', tenantId).where('invoice_id', '=', invoice.id).execute();
      assert.deepEqual(audits.map((row) => Number(row.version)).sort(), [1, 2], 'one audit event per version');
      const events = await check.db.selectFrom('events').select('type').where('tenant_id', '=', tenantId).where('resource_id', '=', invoice.id).execute();
      assert.equal(events.length, 2, 'one outbox event per version');
    }
    recordFigures('two-processes/idempotency', { keysRaced: rounds, replays, conflicts, duplicateEffects: 0 });
  });

  test('the events feed read through both processes while both write: every event exactly once, in order, none skipped', async () => {
    const readAll = async (after?: string) => {
      const events: any[] = [];
      let cursor = after;
      for (let page = 0; ; page += 1) {
        const reply = expectOk(await via[page % 2]('GET', `/v1/events?limit=50${cursor ? `&after=${cursor}` : ''}`));
        events.push(...reply.data);
        cursor = reply.next_cursor;
        if (!reply.has_more) return { events, cursor: cursor as string };
      }
    };
    const start = (await readAll()).cursor;
    const invoiceCount = 6;
    const updatesPerInvoice = scaled(10, 40);
    const invoices = await Promise.all(
      Array.from({ length: invoiceCount }, async (_, index) => expectOk(await via[index % 2]('POST', '/v1/invoices', { currency: 'EUR' }), 201)),
    );

    let writing = true;
    const seen: any[] = [];
    const reader = (async () => {
      let cursor = start;
      for (let read = 0; ; read += 1) {
        // Only a page read after the writers finished, and exhausted, means the end.
        const writersDone = !writing;
        const page = expectOk(await via[read % 2]('GET', `/v1/events?limit=7&after=${cursor}`));
        seen.push(...page.data);
        cursor = page.next_cursor;
        if (writersDone && !page.has_more) return;
        if (page.data.length === 0) await pause(2);
      }
    })();
    // Writers on both processes: each invoice's updates alternate between the processes, and
    // several invoices are written at once.
    const work = Array.from({ length: updatesPerInvoice }, (_, n) => invoices.map((invoice, index) => ({ invoice, index, n }))).flat();
    try {
      await Promise.all(
        Array.from({ length: invoiceCount }, async (_, writer) => {
          for (let item = work.shift(); item; item = work.shift()) {
            const body = { line_operations: [{ op: 'add', description: `i${item.index}-${item.n}`, quantity: 1, unit_price: '1' }] };
            expectOk(await via[(writer + item.n) % 2]('PATCH', `/v1/invoices/${item.invoice.id}`, body));
          }
        }),
      );
    } finally {
      writing = false;
    }
    await reader;

    const ids = seen.map((event) => event.id);
    const final = (await readAll(start)).events;
    const expected = invoiceCount + invoiceCount * updatesPerInvoice;
    recordFigures('two-processes/events-feed', { eventsWritten: final.length, eventsSeenLive: new Set(ids).size, eventsSkipped: final.length - new Set(ids).size, eventsSeenTwice: ids.length - new Set(ids).size });
    assert.equal(new Set(ids).size, ids.length, 'no event seen twice');
    assert.equal(final.length, expected, 'every write has its event');
    assert.deepEqual(ids, final.map((event) => event.id), 'the live read saw every event, in the order of a later full read');
    for (const invoice of invoices) {
      const versions = seen.filter((event) => event.resource_id === invoice.id).map((event) => event.resource_version);
      assert.deepEqual(versions, Array.from({ length: updatesPerInvoice + 1 }, (_, i) => i + 1), 'per invoice, versions arrive in order');
    }
  });
});
