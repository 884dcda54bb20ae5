import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { multipartBody, pdfBytes } from '../helpers/multipart.js';

/** Idempotency-Key on uploads fingerprints the file, not just method and URL (issue 13, item 3). */
let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp();
  api = t.client(await t.key('idempotent-uploads'));
});
after(() => t.close());

function upload(invoiceId: string, bytes: Buffer, key: string, filename = 'a.pdf') {
  const { headers, payload } = multipartBody({ filename, contentType: 'application/pdf', bytes });
  return t.app.inject({
    method: 'POST',
    url: `/v1/invoices/${invoiceId}/attachments`,
    headers: { authorization: `Bearer ${api.key}`, 'idempotency-key': key, ...headers },
    payload,
  });
}

describe('Idempotency-Key on attachment uploads', () => {
  test('the same file again is a replay; another file with the same key is 422 idempotency-key-reused', async () => {
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
    const file = Buffer.concat([pdfBytes, randomBytes(2_000)]);
    const key = `upload-${Date.now()}`;
    const first = await upload(invoice.id, file, key);
    assert.equal(first.statusCode, 201, first.body);
    const again = await upload(invoice.id, file, key);
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.json(), first.json());

    const otherFile = await upload(invoice.id, Buffer.concat([pdfBytes, randomBytes(2_000)]), key);
    assert.equal(otherFile.statusCode, 422, otherFile.body);
    assert.equal(otherFile.json().type, '/problems/idempotency-key-reused');
    const otherName = await upload(invoice.id, file, key, 'b.pdf');
    assert.equal(otherName.statusCode, 422, otherName.body);

    const current = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(current.attachments.length, 1);
    assert.equal(current.version, 2);
  });

  test('an upload under a key marks the key in its own transaction (crash recovery answers from history)', async () => {
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR' }), 201);
    const file = Buffer.concat([pdfBytes, randomBytes(100)]);
    const key = `upload-crash-${Date.now()}`;
    const first = await upload(invoice.id, file, key);
    assert.equal(first.statusCode, 201, first.body);
    const row = await t.database.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    assert.equal(row.state, 'completed');
    assert.equal(row.committed_resource, `invoice/${invoice.id}/2`);
  });
});
