import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

// Prefer: return=minimal (RFC 7240) on invoice updates and transitions: 204, ETag, Preference-Applied, no body.

let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('prefer'));
});
after(() => t.close());

const minimal = { prefer: 'return=minimal' };

async function draft() {
  return expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'A', quantity: '1', unit_price: '10' }] }, minimal), 201);
}

function assertMinimal(reply: { status: number; headers: Record<string, unknown>; text: string }, etag: string) {
  assert.equal(reply.status, 204);
  assert.equal(reply.headers.etag, etag);
  assert.equal(reply.headers['preference-applied'], 'return=minimal');
  assert.equal(reply.text, '');
}

test('PATCH and PUT with Prefer: return=minimal answer 204 with the ETag and no body; the write happened', async () => {
  const created = await draft(); // create ignores the preference: 201 with the invoice
  assert.equal(created.version, 1);
  const patched = await api.patch(`/v1/invoices/${created.id}`, { memo: 'm' }, { 'if-match': '"1"', ...minimal });
  assertMinimal(patched, '"2"');
  const put = await api.request('PUT', `/v1/invoices/${created.id}`, {
    body: { currency: 'EUR', memo: 'p', lines: [{ id: created.lines[0].id, quantity: '2', unit_price: '10' }] },
    headers: { 'if-match': '"2"', prefer: 'respond-async, return=minimal; foo="bar"' },
  });
  assertMinimal(put, '"3"');
  const read = expectStatus(await api.get(`/v1/invoices/${created.id}`), 200);
  assert.equal(read.version, 3);
  assert.equal(read.memo, 'p');
  assert.equal(read.total, '20.00');
});

test('without the preference, with return=representation, or on a dry run, the body comes back', async () => {
  const created = await draft();
  const full = await api.patch(`/v1/invoices/${created.id}`, { memo: 'a' }, { 'if-match': '"1"', prefer: 'return=representation' });
  assert.equal(expectStatus(full, 200).memo, 'a');
  assert.equal(full.headers['preference-applied'], undefined);
  const dry = await api.patch(`/v1/invoices/${created.id}?dry_run=true`, { memo: 'b' }, minimal);
  assert.equal(expectStatus(dry, 200).dry_run, true);
  assert.equal(dry.headers['preference-applied'], undefined);
});

test('finalize and void take the preference; errors stay problem+json', async () => {
  const created = await draft();
  assertMinimal(await api.post(`/v1/invoices/${created.id}/finalize`, undefined, { 'if-match': '"1"', ...minimal }), '"2"');
  expectProblem(await api.patch(`/v1/invoices/${created.id}`, { memo: 'x' }, { 'if-match': '"1"', ...minimal }), 412);
  assertMinimal(await api.post(`/v1/invoices/${created.id}/void`, undefined, { 'if-match': '"2"', ...minimal }), '"3"');
  assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).status, 'void');
});

test('the OpenAPI document lists the Prefer header and the 204 on PATCH', async () => {
  const doc = expectStatus(await api.get('/openapi.json'), 200);
  const patch = doc.paths['/v1/invoices/{id}'].patch;
  assert.ok(patch.parameters.some((parameter: any) => parameter.in === 'header' && parameter.name === 'prefer'));
  assert.ok(patch.responses['204']);
});
