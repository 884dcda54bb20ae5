import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { createInvoiceReadCache } from '../../src/modules/invoices/read-cache.js';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { clockFrom } from '../../src/shared/time.js';
import { Client, createTestDatabase, engine, expectProblem, expectStatus, startAppInstance, type Reply, type TestDatabase } from '../helpers/harness.js';
import { multipartBody, pdfBytes } from '../helpers/multipart.js';

/**
 * GET /v1/invoices/{id} answers its default representation from a per-process cache of rendered
 * bytes after reading the invoice's version from the database (src/modules/invoices/read-cache.ts).
 * Three app instances on one database stand for three processes: `cached` and `writer` keep their
 * own caches, `uncached` has none (FOLIO_INVOICE_READ_CACHE_BYTES=0) and is the reference.
 */
let testDb: TestDatabase;
let now = new Date('2031-05-10T09:00:00.000Z');
const instances: { close(): Promise<void> }[] = [];
let cached: Client;
let writer: Client;
let uncached: Client;
let check: DatabaseHandle;
let tenantId: string;

async function instance(env: Record<string, string>, key: string): Promise<Client> {
  const started = await startAppInstance(testDb, env, { clock: clockFrom(() => now) });
  instances.push(started);
  return new Client(started.app, key);
}

before(async () => {
  testDb = await createTestDatabase();
  check = await openDatabase({ dataDir: testDb.dataDir, databaseUrl: testDb.databaseUrl, poolSize: 2 });
  const created = await createApiKey(check.db, { tenantName: 'read-cache', scopes: ['invoices:read', 'invoices:write'] });
  tenantId = created.tenantId;
  cached = await instance({}, created.key);
  writer = await instance({}, created.key);
  uncached = await instance({ FOLIO_INVOICE_READ_CACHE_BYTES: '0' }, created.key);
});
after(async () => {
  for (const started of instances) await started.close();
  await check.close();
  await testDb.drop();
});

/** What a client sees of an answer, apart from the per-request id. */
const visible = (reply: Reply) => ({
  status: reply.status,
  text: reply.text,
  etag: reply.headers.etag,
  type: reply.headers['content-type'],
  vary: reply.headers.vary,
  length: reply.headers['content-length'],
});

async function assertSameAsUncached(path: string, headers: Record<string, string> = {}) {
  const first = await cached.get(path, headers);
  const again = await cached.get(path, headers);
  const reference = await uncached.get(path, headers);
  assert.deepEqual(visible(first), visible(reference), `${path}: first read`);
  assert.deepEqual(visible(again), visible(reference), `${path}: read again`);
  return reference;
}

async function upload(client: Client, invoiceId: string, filename: string) {
  const { headers, payload } = multipartBody({ filename, contentType: 'application/pdf', bytes: pdfBytes });
  const reply = await client.app.inject({ method: 'POST', url: `/v1/invoices/${invoiceId}/attachments`, headers: { authorization: `Bearer ${client.key}`, ...headers }, payload });
  assert.equal(reply.statusCode, 201, reply.body);
}

describe(`GET /v1/invoices/{id} from the read cache (${engine})`, () => {
  test('answers byte for byte what the uncached path answers: body, ETag, content type, Vary; HEAD and 304 too', async () => {
    const invoice = expectStatus(await writer.post('/v1/invoices', {
      currency: 'EUR',
      memo: 'Grüße, "quotes" and \\ backslashes ✓',
      metadata: { zeta: '1', alpha: 'two', nested_key: 'x' },
      bill_to: { name: 'Ä Customer', address: { line1: 'Street 1', city: 'Town', country: 'FI' } },
      lines: [
        { description: 'A', quantity: '1.5', unit_price: '10.10', tax_rate: '24' },
        { description: 'B', quantity: '3', unit_price: '0.333', discount: { type: 'percent', value: '10' }, tax_rate: '14' },
      ],
    }), 201);
    await upload(writer, invoice.id, 'b.pdf');
    await upload(writer, invoice.id, 'a.pdf');
    const path = `/v1/invoices/${invoice.id}`;
    const reference = await assertSameAsUncached(path);
    assert.equal(reference.status, 200);
    assert.equal(reference.body.attachments.length, 2);
    await assertSameAsUncached(path, { accept: 'application/json' });
    // By guid as well as by id.
    await assertSameAsUncached(`/v1/invoices/${invoice.guid}`);

    const head = await cached.request('HEAD', path);
    assert.deepEqual({ ...visible(head), text: '' }, { ...visible(await uncached.request('HEAD', path)), text: '' });
    const notModified = await cached.get(path, { 'if-none-match': reference.headers.etag as string });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.text, '');
    assert.equal(notModified.headers.etag, reference.headers.etag);

    // Representations the cache does not hold still answer as before.
    assert.deepEqual(visible(await cached.get(`${path}?fields=number,total`)), visible(await uncached.get(`${path}?fields=number,total`)));
    assert.deepEqual(visible(await cached.get(path, { accept: 'application/xml' })), visible(await uncached.get(path, { accept: 'application/xml' })));
    assert.deepEqual(visible(await cached.get(`${path}?version=1`)), visible(await uncached.get(`${path}?version=1`)));
  });

  test('a change made through another process is seen by the next GET (PATCH, attachment, finalize, payment, delete)', async () => {
    const invoice = expectStatus(await writer.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'A', quantity: '1', unit_price: '100' }] }), 201);
    const path = `/v1/invoices/${invoice.id}`;
    const read = async () => {
      const reply = await assertSameAsUncached(path);
      return { etag: reply.headers.etag, body: reply.body };
    };
    assert.equal((await read()).etag, '"1"');

    expectStatus(await writer.patch(path, { memo: 'changed elsewhere', line_operations: [{ op: 'add', description: 'B', quantity: '2', unit_price: '5' }] }), 200);
    let seen = await read();
    assert.equal(seen.etag, '"2"');
    assert.equal(seen.body.memo, 'changed elsewhere');
    assert.equal(seen.body.lines.length, 2);

    await upload(writer, invoice.id, 'late.pdf');
    seen = await read();
    assert.equal(seen.etag, '"3"');
    assert.deepEqual(seen.body.attachments.map((attachment: { filename: string }) => attachment.filename), ['late.pdf']);

    expectStatus(await writer.post(`${path}/finalize`), 200);
    expectStatus(await writer.post(`${path}/payments`, { amount: '40', date: '2031-05-10', method: 'bank_transfer' }), 201);
    seen = await read();
    assert.equal(seen.body.status, 'open');
    assert.equal(Number(seen.body.amount_paid), 40);
    assert.equal(seen.body.payment_status, 'partially_paid');

    const draft = expectStatus(await writer.post('/v1/invoices', { currency: 'EUR' }), 201);
    expectStatus(await cached.get(`/v1/invoices/${draft.id}`), 200);
    assert.equal((await writer.delete(`/v1/invoices/${draft.id}`)).status, 204);
    const gone = await cached.get(`/v1/invoices/${draft.id}`);
    expectProblem(gone, 404, 'not-found');
    const { request_id: _one, ...problem } = gone.body;
    const { request_id: _other, ...reference } = expectProblem(await uncached.get(`/v1/invoices/${draft.id}`), 404, 'not-found');
    assert.deepEqual(problem, reference);
  });

  test('payment_status follows the date with no new version: "overdue" appears the day after the due date', async () => {
    now = new Date('2031-05-10T09:00:00.000Z');
    const invoice = expectStatus(await writer.post('/v1/invoices', { currency: 'EUR', payment_terms: { net_days: 1 }, lines: [{ description: 'A', quantity: '1', unit_price: '100' }] }), 201);
    const path = `/v1/invoices/${invoice.id}`;
    const open = expectStatus(await writer.post(`${path}/finalize`), 200);
    assert.equal(open.due_date, '2031-05-11');
    assert.equal((await assertSameAsUncached(path)).body.payment_status, 'unpaid');
    now = new Date('2031-05-12T00:00:01.000Z');
    const later = await assertSameAsUncached(path);
    assert.equal(later.headers.etag, `"${open.version}"`, 'no new version');
    assert.equal(later.body.payment_status, 'overdue');
  });

  test('the cache really answers: an edit made behind the API without a new version stays unseen until the version moves', async () => {
    // The documented rule (docs/operations.md): whoever changes an invoice outside the API bumps its version.
    const invoice = expectStatus(await writer.post('/v1/invoices', { currency: 'EUR', memo: 'before' }), 201);
    const path = `/v1/invoices/${invoice.id}`;
    expectStatus(await cached.get(path), 200);
    await sql`UPDATE invoices SET memo = 'behind the API' WHERE tenant_id = ${tenantId} AND id = ${invoice.id}`.execute(check.db);
    assert.equal(expectStatus(await cached.get(path), 200).memo, 'before', 'served from the cache');
    assert.equal(expectStatus(await uncached.get(path), 200).memo, 'behind the API');
    await sql`UPDATE invoices SET version = version + 1 WHERE tenant_id = ${tenantId} AND id = ${invoice.id}`.execute(check.db);
    const after = await cached.get(path);
    assert.equal(after.body.memo, 'behind the API');
    assert.equal(after.headers.etag, '"2"');
  });

  test('bounded by bytes: the least recently used entries go first; an entry over an eighth of the budget is not kept', async () => {
    const real: string[] = [];
    for (let index = 0; index < 3; index += 1) real.push(expectStatus(await writer.post('/v1/invoices', { currency: 'EUR' }), 201).id);
    const filler = (index: number) => `${real[0].slice(0, -2)}f${index}`;
    const body = Buffer.alloc(1000, 'x');
    const entrySize = body.length + (tenantId.length + 1 + real[0].length) * 2 + 200;
    const cache = createInvoiceReadCache({ db: check.db, engine: check.engine, maxBytes: entrySize * 8 })!;
    const day = '2031-05-10';
    const remember = (id: string, bytes = body) => cache.remember(tenantId, id, { version: 1, today: day, body: bytes });
    for (const id of [...real, filler(0), filler(1), filler(2), filler(3), filler(4)]) remember(id);
    assert.deepEqual(cache.stats(), { entries: 8, bytes: entrySize * 8, maxBytes: entrySize * 8 });
    assert.ok((await cache.lookup(tenantId, real[0], day))?.found, 'kept; now the most recently used');
    remember(filler(5));
    assert.equal(cache.stats().entries, 8);
    assert.ok(cache.stats().bytes <= cache.stats().maxBytes);
    assert.equal(await cache.lookup(tenantId, real[1], day), undefined, 'the least recently used went');
    assert.ok((await cache.lookup(tenantId, real[0], day))?.found, 'the recently read one stayed');
    assert.ok((await cache.lookup(tenantId, real[2], day))?.found);
    assert.equal(await cache.lookup(tenantId, real[2], '2031-05-11'), undefined, 'another day is another answer');
    remember(real[1], Buffer.alloc(body.length + 1));
    assert.equal(await cache.lookup(tenantId, real[1], day), undefined, 'an entry over an eighth of the budget is not kept');
    assert.equal(createInvoiceReadCache({ db: check.db, engine: check.engine, maxBytes: 0 }), undefined, '0 turns it off');
  });
});
