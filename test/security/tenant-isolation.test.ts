import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { multipartBody, pngBytes } from '../helpers/multipart.js';
import { AnswerTally, dumpTenant, recordFigures, tenantIdOf } from '../helpers/reliability.js';

/**
 * Tenants are sealed: tenant B tries, in every way we know of, to read or change tenant A's
 * invoices, lines, customers and events — by direct id, by ids inside bodies, by list
 * filters and cursors. Every attempt is a 404 (or a 422 for a reference inside a body, or
 * an empty list), no answer mentions anything of A's, and A's rows are unchanged.
 *
 * The attempt list is a table: add a row (or a row builder) for every new route that takes
 * an id (attachments, payments, history, events…).
 */
interface TenantAFixture {
  invoiceIds: string[];
  lineIds: string[];
  customerIds: string[];
  numbers: string[];
  references: string[];
  /** Resources the lifecycle, payments, attachments and webhooks add, one of each at least. */
  paymentIds: string[];
  creditNoteIds: string[];
  attachmentIds: string[];
  webhookEndpointIds: string[];
}
interface TenantBFixture {
  invoiceId: string;
  lineId: string;
  /** A finalized invoice of B's, so payment routes get past the state check to the id lookup. */
  openInvoiceId: string;
}
interface IsolationAttempt {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  rawBody?: Buffer;
  /** Acceptable statuses. A 200 is only listed for list endpoints, whose content is checked for leaks. */
  expect: number[];
}

/** A marker stored in A's data: it must never appear in an answer to B. */
const secret = 'A-CONFIDENTIAL-7731';

const lineOf = (overrides: Record<string, unknown> = {}) => ({ description: 'x', quantity: '1', unit_price: '1.00', ...overrides });

/** Direct addressing of one of A's invoices. */
const invoiceAttempts = (id: string): IsolationAttempt[] => [
  { name: 'get invoice', method: 'GET', path: `/v1/invoices/${id}`, expect: [404] },
  { name: 'get invoice with fields', method: 'GET', path: `/v1/invoices/${id}?fields=id,total`, expect: [404, 400] },
  { name: 'get invoice If-None-Match', method: 'GET', path: `/v1/invoices/${id}`, headers: { 'if-none-match': '"1"' }, expect: [404] },
  { name: 'patch memo', method: 'PATCH', path: `/v1/invoices/${id}`, body: { memo: 'pwned' }, expect: [404] },
  { name: 'patch with If-Match (no 412 that would reveal the version)', method: 'PATCH', path: `/v1/invoices/${id}`, body: { memo: 'pwned' }, headers: { 'if-match': '"99"' }, expect: [404] },
  { name: 'patch with If-Match *', method: 'PATCH', path: `/v1/invoices/${id}`, body: { memo: 'pwned' }, headers: { 'if-match': '*' }, expect: [404] },
  { name: 'patch dry run', method: 'PATCH', path: `/v1/invoices/${id}?dry_run=true`, body: { memo: 'pwned' }, expect: [404] },
  { name: 'patch metadata', method: 'PATCH', path: `/v1/invoices/${id}`, body: { metadata: { owner: 'B' } }, expect: [404] },
  { name: 'patch add line', method: 'PATCH', path: `/v1/invoices/${id}`, body: { line_operations: [{ op: 'add', ...lineOf() }] }, expect: [404] },
  { name: 'patch lines full set (removes all)', method: 'PATCH', path: `/v1/invoices/${id}`, body: { lines: [] }, expect: [404] },
  { name: 'put', method: 'PUT', path: `/v1/invoices/${id}`, body: { currency: 'EUR' }, expect: [404] },
  { name: 'delete', method: 'DELETE', path: `/v1/invoices/${id}`, expect: [404, 405] },
  // Routes other issues add (lifecycle, payments, history, attachments, events): 404 before and after they exist.
  { name: 'finalize', method: 'POST', path: `/v1/invoices/${id}/finalize`, body: {}, expect: [404] },
  { name: 'void', method: 'POST', path: `/v1/invoices/${id}/void`, body: {}, expect: [404] },
  { name: 'add payment', method: 'POST', path: `/v1/invoices/${id}/payments`, body: { amount: '1.00', date: '2026-01-01', method: 'cash' }, expect: [404] },
  { name: 'list payments', method: 'GET', path: `/v1/invoices/${id}/payments`, expect: [404] },
  { name: 'history', method: 'GET', path: `/v1/invoices/${id}/history`, expect: [404] },
  { name: 'version 1', method: 'GET', path: `/v1/invoices/${id}/versions/1`, expect: [404] },
  { name: 'attachments', method: 'GET', path: `/v1/invoices/${id}/attachments`, expect: [404] },
  { name: 'invoice events', method: 'GET', path: `/v1/invoices/${id}/events`, expect: [404] },
  { name: 'revise', method: 'POST', path: `/v1/invoices/${id}/revise`, body: {}, expect: [404] },
  { name: 'editability', method: 'GET', path: `/v1/invoices/${id}/editability`, expect: [404] },
  { name: 'as at version 1', method: 'GET', path: `/v1/invoices/${id}?version=1`, expect: [404] },
  { name: 'credit it', method: 'POST', path: '/v1/credit-notes', body: { invoice_id: id, reason: 'pwned', lines: [{ quantity: '1', unit_price: '1.00' }] }, expect: [404, 422] },
  { name: 'upload attachment', method: 'POST', path: `/v1/invoices/${id}/attachments`, ...uploadOf(), expect: [404] },
  { name: 'id upper-cased', method: 'GET', path: `/v1/invoices/${id.toUpperCase()}`, expect: [404] },
  { name: 'id with a NUL suffix', method: 'GET', path: `/v1/invoices/${id}%00`, expect: [404, 400] },
  { name: 'id with a trailing space', method: 'PATCH', path: `/v1/invoices/${id}%20`, body: { memo: 'pwned' }, expect: [404, 400] },
  { name: 'id with SQL wildcard', method: 'GET', path: `/v1/invoices/${id.slice(0, -3)}%25`, expect: [404, 400] },
];

/** A multipart upload as an attempt's body and headers. */
function uploadOf(): Pick<IsolationAttempt, 'rawBody' | 'headers'> {
  const { headers, payload } = multipartBody({ filename: 'x.png', contentType: 'image/png', bytes: pngBytes });
  return { rawBody: payload, headers };
}

/** A's payments, credit notes, attachments and webhook endpoints: directly and under B's own invoice. */
const resourceAttempts = (a: TenantAFixture, b: TenantBFixture): IsolationAttempt[] => [
  ...a.paymentIds.flatMap((paymentId): IsolationAttempt[] => [
    { name: 'refund A payment on A invoice', method: 'POST', path: `/v1/invoices/${a.invoiceIds[0]}/payments/${paymentId}/refund`, body: {}, expect: [404] },
    { name: 'refund A payment via B invoice', method: 'POST', path: `/v1/invoices/${b.openInvoiceId}/payments/${paymentId}/refund`, body: {}, expect: [404] },
  ]),
  ...a.creditNoteIds.map((creditNoteId): IsolationAttempt => ({ name: 'get A credit note', method: 'GET', path: `/v1/credit-notes/${creditNoteId}`, expect: [404] })),
  ...a.attachmentIds.flatMap((attachmentId): IsolationAttempt[] => [
    { name: 'download A attachment', method: 'GET', path: `/v1/invoices/${a.invoiceIds[2]}/attachments/${attachmentId}`, expect: [404] },
    { name: 'download A attachment via B invoice', method: 'GET', path: `/v1/invoices/${b.invoiceId}/attachments/${attachmentId}`, expect: [404] },
    { name: 'delete A attachment', method: 'DELETE', path: `/v1/invoices/${a.invoiceIds[2]}/attachments/${attachmentId}`, expect: [404] },
    { name: 'delete A attachment via B invoice', method: 'DELETE', path: `/v1/invoices/${b.invoiceId}/attachments/${attachmentId}`, expect: [404] },
  ]),
  ...a.webhookEndpointIds.flatMap((endpointId): IsolationAttempt[] => [
    // The writer key lacks the admin scope (403 before any lookup); the admin key gets 404.
    { name: 'get A webhook endpoint', method: 'GET', path: `/v1/webhook-endpoints/${endpointId}`, expect: [404, 403] },
    { name: 'patch A webhook endpoint', method: 'PATCH', path: `/v1/webhook-endpoints/${endpointId}`, body: { url: 'http://127.0.0.1:9/pwned' }, expect: [404, 403] },
    { name: 'delete A webhook endpoint', method: 'DELETE', path: `/v1/webhook-endpoints/${endpointId}`, expect: [404, 403] },
    { name: 'A webhook deliveries', method: 'GET', path: `/v1/webhook-endpoints/${endpointId}/deliveries`, expect: [404, 403] },
  ]),
];

/** Ids of A's lines inside bodies sent to B's own invoice. */
const lineAttempts = (b: TenantBFixture, lineId: string): IsolationAttempt[] => [
  { name: 'update A line by op', method: 'PATCH', path: `/v1/invoices/${b.invoiceId}`, body: { line_operations: [{ op: 'update', id: lineId, quantity: '9' }] }, expect: [404, 422, 400] },
  { name: 'remove A line by op', method: 'PATCH', path: `/v1/invoices/${b.invoiceId}`, body: { line_operations: [{ op: 'remove', id: lineId }] }, expect: [404, 422, 400] },
  { name: 'A line id in full set', method: 'PATCH', path: `/v1/invoices/${b.invoiceId}`, body: { lines: [lineOf({ id: lineId })] }, expect: [404, 422, 400] },
  { name: 'A line as parent', method: 'PATCH', path: `/v1/invoices/${b.invoiceId}`, body: { line_operations: [{ op: 'add', ...lineOf({ parent_line_id: lineId }) }] }, expect: [404, 422, 400] },
  { name: 'A line id via PUT', method: 'PUT', path: `/v1/invoices/${b.invoiceId}`, body: { currency: 'EUR', lines: [lineOf({ id: lineId })] }, expect: [404, 422, 400] },
  { name: 'A line id on create', method: 'POST', path: '/v1/invoices', body: { lines: [lineOf({ id: lineId })] }, expect: [404, 422, 400] },
];

/** A's customers: direct and inside bodies. */
const customerAttempts = (b: TenantBFixture, customerId: string): IsolationAttempt[] => [
  { name: 'get customer', method: 'GET', path: `/v1/customers/${customerId}`, expect: [404] },
  { name: 'patch customer', method: 'PATCH', path: `/v1/customers/${customerId}`, body: { name: 'pwned' }, expect: [404] },
  { name: 'patch customer If-Match', method: 'PATCH', path: `/v1/customers/${customerId}`, body: { name: 'pwned' }, headers: { 'if-match': '"1"' }, expect: [404] },
  { name: 'delete customer', method: 'DELETE', path: `/v1/customers/${customerId}`, expect: [404, 405] },
  { name: 'link A customer on create', method: 'POST', path: '/v1/invoices', body: { customer_id: customerId }, expect: [422, 404] },
  { name: 'link A customer on patch', method: 'PATCH', path: `/v1/invoices/${b.invoiceId}`, body: { customer_id: customerId }, expect: [422, 404] },
  { name: 'link A customer on dry run', method: 'PATCH', path: `/v1/invoices/${b.invoiceId}?dry_run=true`, body: { customer_id: customerId }, expect: [422, 404] },
  { name: 'link A customer on put', method: 'PUT', path: `/v1/invoices/${b.invoiceId}`, body: { currency: 'EUR', customer_id: customerId }, expect: [422, 404] },
  { name: 'filter invoices by A customer', method: 'GET', path: `/v1/invoices?customer_id=${customerId}`, expect: [200] },
];

const cursorFor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');

/** List filters and cursors naming A's values: answered, but with none of A's rows. */
const listAttempts = (a: TenantAFixture): IsolationAttempt[] => [
  ...a.numbers.map((number): IsolationAttempt => ({ name: 'filter by A number', method: 'GET', path: `/v1/invoices?number=${encodeURIComponent(number)}`, expect: [200] })),
  ...a.references.map((reference): IsolationAttempt => ({ name: 'filter by A reference', method: 'GET', path: `/v1/invoices?reference=${encodeURIComponent(reference)}`, expect: [200] })),
  ...a.invoiceIds.map((id): IsolationAttempt => ({ name: 'invoice cursor at A id', method: 'GET', path: `/v1/invoices?cursor=${cursorFor(id)}`, expect: [200] })),
  ...a.customerIds.map((id): IsolationAttempt => ({ name: 'customer cursor at A id', method: 'GET', path: `/v1/customers?cursor=${cursorFor(id)}`, expect: [200] })),
  { name: 'list invoices', method: 'GET', path: '/v1/invoices?limit=100', expect: [200] },
  { name: 'list invoices by status', method: 'GET', path: '/v1/invoices?status=draft&limit=100', expect: [200] },
  { name: 'list invoices updated since 2000', method: 'GET', path: '/v1/invoices?updated_since=2000-01-01T00:00:00Z', expect: [200] },
  { name: 'list customers', method: 'GET', path: '/v1/customers?limit=100', expect: [200] },
  { name: 'events feed', method: 'GET', path: '/v1/events?limit=100', expect: [200] },
  { name: 'credit notes list', method: 'GET', path: '/v1/credit-notes?limit=100', expect: [200] },
  { name: 'webhook endpoints list', method: 'GET', path: '/v1/webhook-endpoints', expect: [200, 403] },
  ...a.invoiceIds.map((id): IsolationAttempt => ({ name: 'credit notes filtered by A invoice', method: 'GET', path: `/v1/credit-notes?invoice_id=${id}`, expect: [200] })),
  ...a.invoiceIds.map((id): IsolationAttempt => ({ name: 'events filtered by A invoice', method: 'GET', path: `/v1/events?resource_id=${id}`, expect: [200, 400] })),
  ...a.invoiceIds.map((id): IsolationAttempt => ({ name: 'event stream cursor at A', method: 'GET', path: `/v1/events?cursor=${cursorFor(id)}`, expect: [200, 400, 404] })),
];

function isolationAttempts(a: TenantAFixture, b: TenantBFixture): IsolationAttempt[] {
  return [
    ...a.invoiceIds.flatMap(invoiceAttempts),
    ...a.lineIds.flatMap((lineId) => lineAttempts(b, lineId)),
    ...a.customerIds.flatMap((customerId) => customerAttempts(b, customerId)),
    ...listAttempts(a),
    ...resourceAttempts(a, b),
  ];
}

let t: TestApp;
let a: TenantAFixture;
let b: TenantBFixture;
let tenantA: string;
let tenantB: string;
let bClients: Array<{ label: string; client: Client }>;

before(async () => {
  t = await startTestApp({ FOLIO_RATE_LIMIT_PER_MINUTE: '0', FOLIO_WEBHOOKS_ALLOW_PRIVATE: 'true', FOLIO_WEBHOOK_DISPATCHER: 'off' });
  const apiA = t.client(await t.key('isolation-a'));
  a = { invoiceIds: [], lineIds: [], customerIds: [], numbers: [], references: [], paymentIds: [], creditNoteIds: [], attachmentIds: [], webhookEndpointIds: [] };
  for (let index = 0; index < 2; index += 1) {
    a.customerIds.push(expectStatus(await apiA.post('/v1/customers', { name: `${secret} customer ${index}`, email: `a${index}@a.example` }), 201).id);
  }
  for (let index = 0; index < 3; index += 1) {
    const invoice = expectStatus(await apiA.post('/v1/invoices', {
      currency: 'EUR',
      number: `A-${index + 1}`,
      reference: `RF-A-${index + 1}`,
      customer_id: a.customerIds[index % 2],
      memo: `${secret} memo`,
      metadata: { secret },
      lines: [lineOf({ description: `${secret} line 1` }), lineOf({ description: `${secret} line 2` }), lineOf({ description: `${secret} line 3` })],
    }), 201);
    a.invoiceIds.push(invoice.id);
    a.lineIds.push(...invoice.lines.map((line: any) => line.id));
    a.numbers.push(invoice.number);
    a.references.push(invoice.reference);
  }
  // A paid-in-part invoice, a credited one, an attachment and a webhook endpoint.
  expectStatus(await apiA.post(`/v1/invoices/${a.invoiceIds[0]}/finalize`), 200);
  a.paymentIds.push(expectStatus(await apiA.post(`/v1/invoices/${a.invoiceIds[0]}/payments`, { amount: '1.00', date: '2026-01-02', method: 'cash', reference: secret }), 201).id);
  expectStatus(await apiA.post(`/v1/invoices/${a.invoiceIds[1]}/finalize`), 200);
  a.creditNoteIds.push(expectStatus(await apiA.post('/v1/credit-notes', { invoice_id: a.invoiceIds[1], reason: `${secret} credit`, lines: [{ description: secret, quantity: '1', unit_price: '1.00' }] }), 201).id);
  const upload = multipartBody({ filename: `${secret}.png`, contentType: 'image/png', bytes: pngBytes });
  a.attachmentIds.push(expectStatus(await apiA.request('POST', `/v1/invoices/${a.invoiceIds[2]}/attachments`, { rawBody: upload.payload, headers: upload.headers }), 201).id);
  const adminA = t.client(await t.key('isolation-a', ['invoices:read', 'invoices:write', 'admin']));
  a.webhookEndpointIds.push(expectStatus(await adminA.post('/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/a-hook', description: secret, events: ['*'] }), 201).id);
  const writerB = t.client(await t.key('isolation-b'));
  const adminB = t.client(await t.key('isolation-b', ['invoices:read', 'invoices:write', 'admin']));
  const invoiceB = expectStatus(await writerB.post('/v1/invoices', { currency: 'EUR', lines: [lineOf({ description: 'B line' })] }), 201);
  const openB = expectStatus(await writerB.post('/v1/invoices', { currency: 'EUR', lines: [lineOf({ description: 'B open line' })] }), 201);
  expectStatus(await writerB.post(`/v1/invoices/${openB.id}/finalize`), 200);
  b = { invoiceId: invoiceB.id, lineId: invoiceB.lines[0].id, openInvoiceId: openB.id };
  bClients = [{ label: 'B writer key', client: writerB }, { label: 'B admin key', client: adminB }];
  tenantA = await tenantIdOf(t.database.db, 'isolation-a');
  tenantB = await tenantIdOf(t.database.db, 'isolation-b');
});
after(() => t.close());

/** Everything of A's that must never show up in an answer to B. */
function leakMarkers(): string[] {
  return [secret, ...a.invoiceIds, ...a.lineIds, ...a.customerIds, ...a.paymentIds, ...a.creditNoteIds, ...a.attachmentIds, ...a.webhookEndpointIds, ...a.numbers.map((number) => `"${number}"`), ...a.references.map((reference) => `"${reference}"`)];
}

describe('tenant isolation', () => {
  test('at least 300 attempts by tenant B on tenant A: all 404 / refused / empty, no leak, A unchanged', async () => {
    const attempts = isolationAttempts(a, b);
    const aBefore = await dumpTenant(t.database.db, tenantA);
    const markers = leakMarkers();
    const tally = new AnswerTally();
    const failures: string[] = [];
    for (const { label, client } of bClients) {
      for (const attempt of attempts) {
        const bBefore = await dumpTenant(t.database.db, tenantB);
        const reply = await client.request(attempt.method, attempt.path, { body: attempt.body, headers: attempt.headers, rawBody: attempt.rawBody });
        tally.see(reply.status, attempt.name);
        const description = `${label} ${attempt.name}: ${attempt.method} ${attempt.path} → ${reply.status} ${reply.text.slice(0, 200)}`;
        if (!attempt.expect.includes(reply.status)) failures.push(`unexpected status: ${description}`);
        const leaked = markers.filter((marker) => reply.text.includes(marker) && !attempt.path.includes(marker.replaceAll('"', '')));
        // A 404 may echo the id B itself sent (in the path); anything else of A's is a leak.
        const leakedBeyondEcho = leaked.filter((marker) => !(attempt.body && JSON.stringify(attempt.body).includes(marker.replaceAll('"', ''))));
        if (leakedBeyondEcho.length > 0) failures.push(`leak of ${leakedBeyondEcho.join(', ')}: ${description}`);
        if (reply.status >= 400 && (await dumpTenant(t.database.db, tenantB)) !== bBefore) failures.push(`refused but B's rows changed: ${description}`);
        if (reply.status >= 400 && !String(reply.headers['content-type']).startsWith('application/problem+json')) failures.push(`not problem+json: ${description}`);
      }
    }
    const aAfter = await dumpTenant(t.database.db, tenantA);
    recordFigures('tenant-isolation', { isolationAttempts: tally.tried, serverErrors: tally.serverErrors, isolationBreaches: failures.length + (aAfter === aBefore ? 0 : 1) });
    assert.deepEqual(failures, []);
    assert.equal(aAfter, aBefore, "A's rows are unchanged");
    assert.ok(tally.tried >= 300, `only ${tally.tried} attempts`);
  });

  test('a 404 for another tenant\'s invoice is the same answer as for an id that never existed', async () => {
    const client = bClients[0].client;
    const foreign = await client.get(`/v1/invoices/${a.invoiceIds[0]}`);
    const missing = await client.get('/v1/invoices/inv_00000000000000000000000000');
    assert.equal(foreign.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(foreign.body.type, missing.body.type);
    assert.equal(foreign.body.title, missing.body.title);
  });
});
