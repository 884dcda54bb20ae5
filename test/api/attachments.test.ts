import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { auditStore } from '../../src/modules/audit/store.js';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { multipartBody, pdfBytes, pngBytes } from '../helpers/multipart.js';

let t: TestApp;
let api: Client;
let tenantId: string;

before(async () => {
  t = await startTestApp({ FOLIO_MAX_ATTACHMENTS: '3' });
  api = t.client(await t.key('attach-a'));
  tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'attach-a').executeTakeFirstOrThrow()).id;
});
after(() => t.close());

const blobsDir = () => path.join(t.config.dataDir, 'blobs');
const blobFiles = () => {
  const root = path.join(blobsDir(), 'sha256');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).flatMap((prefix) => fs.readdirSync(path.join(root, prefix)));
};
const stagingFiles = () => (fs.existsSync(path.join(blobsDir(), 'tmp')) ? fs.readdirSync(path.join(blobsDir(), 'tmp')) : []);

async function createInvoice() {
  return expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Work', quantity: '1', unit_price: '10' }] }), 201);
}

function upload(invoiceId: string, file: { filename: string; contentType: string; bytes: Buffer }, headers: Record<string, string> = {}) {
  const { headers: multipartHeaders, payload } = multipartBody(file);
  return t.app.inject({
    method: 'POST',
    url: `/v1/invoices/${invoiceId}/attachments`,
    headers: { authorization: `Bearer ${api.key}`, ...multipartHeaders, ...headers },
    payload,
  });
}

describe('attachments', () => {
  test('upload then download gives the same bytes, with sniffed type and safe headers; the invoice gains a version', async () => {
    const invoice = await createInvoice();
    const bytes = Buffer.concat([pdfBytes, randomBytes(50_000)]);
    const reply = await upload(invoice.id, { filename: "Lieferschein März 'signed' 100%.pdf", contentType: 'application/pdf', bytes }, { 'if-match': '"1"' });
    assert.equal(reply.statusCode, 201, reply.body);
    assert.equal(reply.headers.etag, '"2"');
    const attachment = reply.json();
    assert.match(attachment.id, /^att_/);
    assert.equal(attachment.content_type, 'application/pdf');
    assert.equal(attachment.size_bytes, bytes.length);
    assert.equal(attachment.filename, "Lieferschein März 'signed' 100%.pdf");
    assert.equal(reply.headers.location, `/v1/invoices/${invoice.id}/attachments/${attachment.id}`);

    const download = await t.app.inject({ method: 'GET', url: `/v1/invoices/${invoice.id}/attachments/${attachment.id}`, headers: { authorization: `Bearer ${api.key}` } });
    assert.equal(download.statusCode, 200);
    assert.ok(download.rawPayload.equals(bytes), 'byte-identical');
    assert.equal(download.headers['content-type'], 'application/pdf');
    assert.equal(download.headers['x-content-type-options'], 'nosniff');
    assert.equal(download.headers['content-disposition'], `attachment; filename="Lieferschein M_rz 'signed' 100_.pdf"; filename*=UTF-8''Lieferschein%20M%C3%A4rz%20%27signed%27%20100%25.pdf`);

    const got = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(got.version, 2);
    assert.deepEqual(got.attachments, [attachment]);
    const listed = expectStatus(await api.get(`/v1/invoices/${invoice.id}/attachments`), 200);
    assert.deepEqual(listed.data, [attachment]);
    assert.equal(stagingFiles().length, 0, 'no staging file left');
  });

  test('a PNG named .pdf and sent as application/pdf is stored and served as image/png', async () => {
    const invoice = await createInvoice();
    const reply = await upload(invoice.id, { filename: 'invoice.pdf', contentType: 'application/pdf', bytes: pngBytes });
    assert.equal(reply.statusCode, 201, reply.body);
    assert.equal(reply.json().content_type, 'image/png');
    const download = await t.app.inject({ method: 'GET', url: `/v1/invoices/${invoice.id}/attachments/${reply.json().id}`, headers: { authorization: `Bearer ${api.key}` } });
    assert.equal(download.headers['content-type'], 'image/png');
  });

  test('bytes of a type not allowed are a 415 (whatever the header says) and nothing is stored', async () => {
    const invoice = await createInvoice();
    const blobsBefore = blobFiles().length;
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), randomBytes(2000)]);
    const reply = await upload(invoice.id, { filename: 'scan.png', contentType: 'image/png', bytes: elf });
    assert.equal(reply.statusCode, 415, reply.body);
    assert.equal(reply.json().type, '/problems/unsupported-media-type');
    assert.equal(blobFiles().length, blobsBefore);
    assert.equal(stagingFiles().length, 0);
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 1);
  });

  test('a 26 MB upload is a 413 and stores nothing: no row, no blob, no staging file, no new version', async () => {
    const invoice = await createInvoice();
    const blobsBefore = blobFiles().length;
    const bytes = Buffer.alloc(26 * 1024 * 1024, 0x41);
    pdfBytes.copy(bytes);
    const reply = await upload(invoice.id, { filename: 'big.pdf', contentType: 'application/pdf', bytes });
    assert.equal(reply.statusCode, 413, reply.body);
    assert.equal(reply.json().type, '/problems/payload-too-large');
    assert.equal(blobFiles().length, blobsBefore, 'no blob');
    assert.equal(stagingFiles().length, 0, 'no staging file');
    const rows = await t.database.db.selectFrom('invoice_attachments').select('id').where('invoice_id', '=', invoice.id).execute();
    assert.equal(rows.length, 0, 'no row');
    assert.equal(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).version, 1);
  });

  test('equal bytes are stored once (content-addressed)', async () => {
    const invoice = await createInvoice();
    const bytes = Buffer.concat([pdfBytes, randomBytes(1000)]);
    const before = blobFiles().length;
    assert.equal((await upload(invoice.id, { filename: 'a.pdf', contentType: 'application/pdf', bytes })).statusCode, 201);
    assert.equal((await upload(invoice.id, { filename: 'b.pdf', contentType: 'application/pdf', bytes })).statusCode, 201);
    assert.equal(blobFiles().length, before + 1);
  });

  test('deleting an attachment is a new version; history (audit) still shows it', async () => {
    const invoice = await createInvoice();
    const added = (await upload(invoice.id, { filename: 'note.txt', contentType: 'text/plain', bytes: Buffer.from('delivered in full\n') })).json();
    assert.equal(added.content_type, 'text/plain');
    const removed = await api.delete(`/v1/invoices/${invoice.id}/attachments/${added.id}`, { 'if-match': '"2"' });
    assert.equal(removed.status, 204, removed.text);
    assert.equal(removed.headers.etag, '"3"');
    const got = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.deepEqual(got.attachments, []);
    expectProblem(await api.get(`/v1/invoices/${invoice.id}/attachments/${added.id}`), 404, 'not-found');

    const audit = await auditStore.listForInvoice(t.database.db, tenantId, invoice.id);
    assert.deepEqual(audit.map((event) => [event.version, event.action]), [[1, 'create'], [2, 'attachment_add'], [3, 'attachment_remove']]);
    assert.deepEqual(audit[1].changes, [{ path: `/attachments/${added.id}`, from: null, to: added }]);
    assert.deepEqual(audit[2].changes, [{ path: `/attachments/${added.id}`, from: added, to: null }]);
    const events = await t.database.db.selectFrom('events').select(['type', 'resource_version']).where('resource_id', '=', invoice.id).orderBy('seq').execute();
    assert.deepEqual(events.map((event) => event.type), ['invoice.created', 'invoice.attachment_added', 'invoice.attachment_removed']);
  });

  test('a stale If-Match is a 412 and stores no row', async () => {
    const invoice = await createInvoice();
    const reply = await upload(invoice.id, { filename: 'x.png', contentType: 'image/png', bytes: pngBytes }, { 'if-match': '"7"' });
    assert.equal(reply.statusCode, 412, reply.body);
    assert.deepEqual(expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200).attachments, []);
  });

  test('a void invoice refuses attachment changes (422); the count limit holds (FOLIO_MAX_ATTACHMENTS)', async () => {
    const invoice = await createInvoice();
    await t.database.db.updateTable('invoices').set({ status: 'void' }).where('id', '=', invoice.id).execute();
    const refused = await upload(invoice.id, { filename: 'x.png', contentType: 'image/png', bytes: pngBytes });
    assert.equal(refused.statusCode, 422, refused.body);
    assert.equal(refused.json().type, '/problems/void-is-final');

    const other = await createInvoice();
    for (let index = 0; index < 3; index++) {
      assert.equal((await upload(other.id, { filename: `${index}.png`, contentType: 'image/png', bytes: pngBytes })).statusCode, 201);
    }
    const fourth = await upload(other.id, { filename: '4.png', contentType: 'image/png', bytes: pngBytes });
    assert.equal(fourth.statusCode, 422, fourth.body);
    assert.equal(fourth.json().type, '/problems/too-many-attachments');
    assert.equal(fourth.json().rule, 'too-many-attachments');
  });

  test('another tenant sees a 404 for the invoice and its attachment', async () => {
    const invoice = await createInvoice();
    const added = (await upload(invoice.id, { filename: 'x.png', contentType: 'image/png', bytes: pngBytes })).json();
    const other = t.client(await t.key('attach-b'));
    expectProblem(await other.get(`/v1/invoices/${invoice.id}/attachments/${added.id}`), 404);
    expectProblem(await other.get(`/v1/invoices/${invoice.id}/attachments`), 404);
  });

  test('a non-multipart body is a 415; a multipart body without a file is a 400', async () => {
    const invoice = await createInvoice();
    expectProblem(await api.post(`/v1/invoices/${invoice.id}/attachments`, { file: 'x' }), 415, 'unsupported-media-type');
    const boundary = 'xyz';
    const reply = await t.app.inject({
      method: 'POST',
      url: `/v1/invoices/${invoice.id}/attachments`,
      headers: { authorization: `Bearer ${api.key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${boundary}--\r\n`,
    });
    assert.equal(reply.statusCode, 400, reply.body);
  });

  test('npm run folio -- blobs sweep deletes unreferenced bytes and stale staging files, keeps referenced ones', async () => {
    const invoice = await createInvoice();
    const kept = (await upload(invoice.id, { filename: 'keep.pdf', contentType: 'application/pdf', bytes: Buffer.concat([pdfBytes, randomBytes(100)]) })).json();
    const dropped = (await upload(invoice.id, { filename: 'drop.pdf', contentType: 'application/pdf', bytes: Buffer.concat([pdfBytes, randomBytes(100)]) })).json();
    expectStatus(await api.delete(`/v1/invoices/${invoice.id}/attachments/${dropped.id}`), 204);
    fs.mkdirSync(path.join(blobsDir(), 'tmp'), { recursive: true });
    fs.writeFileSync(path.join(blobsDir(), 'tmp', 'upload-crashed'), 'partial');
    assert.ok(blobFiles().includes(dropped.sha256));

    const run = (grace: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'blobs', 'sweep', '--grace-minutes', grace], {
        env: { ...process.env, FOLIO_DATA_DIR: t.config.dataDir, DATABASE_URL: t.config.databaseUrl ?? '' },
        encoding: 'utf8',
      });
    const young = run('60');
    assert.equal(young.status, 0, young.stderr);
    assert.ok(blobFiles().includes(dropped.sha256), 'younger than the grace period: kept');
    const swept = run('0');
    assert.equal(swept.status, 0, swept.stderr);
    assert.match(swept.stdout, /swept \d+ unreferenced blobs/);
    assert.ok(!blobFiles().includes(dropped.sha256), 'unreferenced bytes deleted');
    assert.ok(blobFiles().includes(kept.sha256), 'referenced bytes kept');
    assert.equal(stagingFiles().length, 0);
    const download = await t.app.inject({ method: 'GET', url: `/v1/invoices/${invoice.id}/attachments/${kept.id}`, headers: { authorization: `Bearer ${api.key}` } });
    assert.equal(download.statusCode, 200);
  });
});
