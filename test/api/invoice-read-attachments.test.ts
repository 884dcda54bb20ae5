import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { multipartBody, pdfBytes, pngBytes } from '../helpers/multipart.js';

// Reading one invoice fetches its attachments with the invoice row (a JSON subquery, per engine);
// the list reads them with a separate query. Both must give the same attachments, in id order.

let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('read-attachments'));
});
after(() => t.close());

async function upload(invoiceId: string, filename: string, contentType: string, bytes: Buffer) {
  const { headers, payload } = multipartBody({ filename, contentType, bytes });
  const reply = await t.app.inject({ method: 'POST', url: `/v1/invoices/${invoiceId}/attachments`, headers: { authorization: `Bearer ${api.key}`, ...headers }, payload });
  assert.equal(reply.statusCode, 201, reply.body);
  return reply.json();
}

test('GET of one invoice and the list answer the same attachments, in id order, with the same fields', async () => {
  const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', reference: 'read-att', lines: [{ quantity: '1', unit_price: '10' }] }), 201);
  assert.deepEqual(invoice.attachments, []);
  const added = [
    await upload(invoice.id, 'a "quoted" name.pdf', 'application/pdf', pdfBytes),
    await upload(invoice.id, 'b.png', 'image/png', pngBytes),
    await upload(invoice.id, 'ünïcode.pdf', 'application/pdf', pdfBytes),
  ];
  const got = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
  assert.deepEqual(got.attachments, [...added].sort((a, b) => (a.id < b.id ? -1 : 1)));
  assert.equal(typeof got.attachments[0].size_bytes, 'number');
  const listed = expectStatus(await api.get('/v1/invoices?reference=read-att'), 200);
  assert.deepEqual(listed.data[0].attachments, got.attachments);
  // The write path reads through the same query: a PATCH keeps them.
  const patched = expectStatus(await api.patch(`/v1/invoices/${invoice.id}`, { memo: 'm' }), 200);
  assert.deepEqual(patched.attachments, got.attachments);
});
