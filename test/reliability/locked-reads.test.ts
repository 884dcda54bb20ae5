import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { multipartBody, pdfBytes } from '../helpers/multipart.js';

/**
 * Writers queued on one invoice's row lock must each see what the writer before them committed,
 * attachments included (issue 13, item 1). On PostgreSQL a single `SELECT … (subquery) … FOR UPDATE`
 * re-reads the locked row once the lock is granted but keeps the subquery's older snapshot.
 */
let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp({ FOLIO_MAX_ATTACHMENTS: '3' });
  api = t.client(await t.key('locked-reads'));
});
after(() => t.close());

async function createDraft() {
  return expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Work', quantity: '1', unit_price: '10' }] }), 201);
}

function upload(invoiceId: string) {
  const { headers, payload } = multipartBody({ filename: 'a.pdf', contentType: 'application/pdf', bytes: Buffer.concat([pdfBytes, randomBytes(64)]) });
  return t.app.inject({ method: 'POST', url: `/v1/invoices/${invoiceId}/attachments`, headers: { authorization: `Bearer ${api.key}`, ...headers }, payload });
}

describe('writers queued on the invoice lock read what the previous writer committed', () => {
  test('12 concurrent uploads with a limit of 3 attachments store exactly 3', async () => {
    const invoice = await createDraft();
    const replies = await Promise.all(Array.from({ length: 12 }, () => upload(invoice.id)));
    const statuses = replies.map((reply) => reply.statusCode);
    assert.equal(statuses.filter((status) => status === 201).length, 3, `statuses: ${statuses.join(',')}`);
    assert.ok(statuses.every((status) => status === 201 || status === 422), `statuses: ${statuses.join(',')}`);
    const current = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(current.attachments.length, 3);
    assert.equal(current.version, 4);
    const rows = await t.database.db.selectFrom('invoice_attachments').select('id').where('invoice_id', '=', invoice.id).execute();
    assert.equal(rows.length, 3);
  });

  test('6 concurrent DELETEs of one attachment: one 204, one version, one event', async () => {
    const invoice = await createDraft();
    const added = JSON.parse((await upload(invoice.id)).body);
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => api.delete(`/v1/invoices/${invoice.id}/attachments/${added.id}`)),
    );
    const statuses = replies.map((reply) => reply.status);
    assert.equal(statuses.filter((status) => status === 204).length, 1, `statuses: ${statuses.join(',')}`);
    assert.ok(statuses.every((status) => status === 204 || status === 404), `statuses: ${statuses.join(',')}`);
    const current = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(current.version, 3);
    assert.deepEqual(current.attachments, []);
    const events = await t.database.db
      .selectFrom('events')
      .select('type')
      .where('type', '=', 'invoice.attachment_removed')
      .where('resource_id', '=', invoice.id)
      .execute();
    assert.equal(events.length, 1);
  });

  test('6 concurrent DELETEs with If-Match of the version before: one 204, the rest 412', async () => {
    const invoice = await createDraft();
    const added = JSON.parse((await upload(invoice.id)).body);
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => api.request('DELETE', `/v1/invoices/${invoice.id}/attachments/${added.id}`, { headers: { 'if-match': '"2"' } })),
    );
    const statuses = replies.map((reply) => reply.status).sort();
    assert.deepEqual(statuses, [204, 412, 412, 412, 412, 412]);
  });

  test('PATCH answers during an upload race hold every attachment of their own version', async () => {
    const invoice = await createDraft();
    const work: Promise<{ kind: 'upload' | 'patch'; status: number; version: number; body: any }>[] = [];
    for (let index = 0; index < 6; index++) {
      work.push(upload(invoice.id).then((reply) => ({ kind: 'upload', status: reply.statusCode, version: Number(JSON.parse(String(reply.headers.etag ?? '"0"'))), body: reply.json() })));
      work.push(api.patch(`/v1/invoices/${invoice.id}`, { memo: `memo ${index}` }).then((reply) => ({ kind: 'patch', status: reply.status, version: reply.body.version, body: reply.body })));
    }
    const answers = await Promise.all(work);
    const uploads = answers.filter((answer) => answer.kind === 'upload' && answer.status === 201);
    assert.equal(uploads.length, 3);
    for (const patch of answers.filter((answer) => answer.kind === 'patch')) {
      assert.equal(patch.status, 200);
      const expected = uploads.filter((uploaded) => uploaded.version < patch.version).map((uploaded) => uploaded.body.id).sort();
      const got = patch.body.attachments.map((attachment: { id: string }) => attachment.id).sort();
      assert.deepEqual(got, expected, `PATCH answer at version ${patch.version}`);
      const read = expectStatus(await api.get(`/v1/invoices/${invoice.id}?version=${patch.version}`), 200);
      assert.deepEqual(read.attachments, patch.body.attachments);
    }
  });
});
