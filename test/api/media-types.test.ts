import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { type Client, expectProblem, expectStatus, startTestApp, type Reply, type TestApp } from '../helpers/harness.js';
import { midnightConnection } from '../helpers/dialect-probes.js';
import { multipartBody } from '../helpers/multipart.js';

/** Issue 14: a 415 says what the route accepts, from the body parsers the route really has. */

let t: TestApp;
let api: Client;
let key: string;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  key = (await createApiKey(t.database.db, { tenantName: 'media-types', scopes: ['invoices:read', 'invoices:write', 'admin'] })).key;
  api = t.client(key);
});
after(() => t.close());

const listOf = (header: unknown) => String(header).split(',').map((type) => type.trim());

/** The 415 names exactly `accepted` in detail, `accepted_media_types` and `Accept`. */
function expectAccepted(reply: Reply, accepted: string[]) {
  const problem = expectProblem(reply, 415, 'unsupported-media-type') as { detail: string; accepted_media_types: string[] };
  assert.deepEqual(problem.accepted_media_types, accepted);
  assert.deepEqual(listOf(reply.headers.accept), accepted);
  for (const type of accepted) assert.ok(problem.detail.includes(type), `${problem.detail} names ${type}`);
  return problem;
}

describe('415 lists the accepted media types', () => {
  test('POST /v1/invoices with text/plain: JSON and XML, in the problem and in Accept and Accept-Post', async () => {
    const reply = await api.request('POST', '/v1/invoices', { rawBody: '{"currency":"EUR"}', headers: { 'content-type': 'text/plain' } });
    const problem = expectAccepted(reply, ['application/json', 'application/xml', 'text/xml']);
    assert.match(problem.detail, /text\/plain/);
    assert.deepEqual(listOf(reply.headers['accept-post']), problem.accepted_media_types);
    assert.equal(reply.headers['accept-patch'], undefined);
  });

  test('PATCH an invoice with a form body: Accept-Patch lists what PATCH accepts', async () => {
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
    const reply = await api.request('PATCH', `/v1/invoices/${invoice.id}`, { rawBody: 'memo=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const problem = expectAccepted(reply, ['application/json', 'application/xml', 'text/xml']);
    assert.deepEqual(listOf(reply.headers['accept-patch']), problem.accepted_media_types);
    assert.equal(reply.headers['accept-post'], undefined);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 1);
  });

  test('XML on a JSON-only route lists JSON only', async () => {
    const reply = await api.request('POST', '/v1/customers', { rawBody: '<customer><name>X</name></customer>', headers: { 'content-type': 'application/xml' } });
    expectAccepted(reply, ['application/json']);
  });

  test('JSON on the attachment upload lists multipart/form-data only', async () => {
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
    const reply = await api.post(`/v1/invoices/${invoice.id}/attachments`, { file: 'x' });
    expectAccepted(reply, ['multipart/form-data']);
    assert.deepEqual(listOf(reply.headers['accept-post']), ['multipart/form-data']);
    // A 415 about the file's sniffed type, sent as multipart, is another question: no media-type list.
    const upload = multipartBody({ filename: 'a.exe', contentType: 'image/png', bytes: Buffer.from('MZ\x90\x00 not a picture') });
    const refused = await api.request('POST', `/v1/invoices/${invoice.id}/attachments`, { rawBody: upload.payload, headers: upload.headers });
    const problem = expectProblem(refused, 415, 'unsupported-media-type') as Record<string, unknown>;
    assert.equal(problem.accepted_media_types, undefined);
    assert.equal(refused.headers.accept, undefined);
  });

  test('an XML dialect route (Midnight InvoiceUpdate) lists its own parsers, text/json included, in its own error shape', async () => {
    const misKey = await midnightConnection(api);
    const reply = await api.request('POST', '/compat/midnight/v1/Generic/InvoiceUpdate', {
      rawBody: 'Guid=x',
      headers: { authorization: key, miskey: misKey, 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(reply.status, 415, reply.text);
    const accepted = listOf(reply.headers.accept);
    assert.deepEqual([...accepted].sort(), ['application/json', 'application/xml', 'text/json', 'text/xml']);
    assert.deepEqual(listOf(reply.headers['accept-post']), accepted);
    const body = reply.body as { Message: string };
    for (const type of accepted) assert.ok(body.Message.includes(type), body.Message);
  });
});
