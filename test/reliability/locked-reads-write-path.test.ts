import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { engine, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { multipartBody, pdfBytes } from '../helpers/multipart.js';

/**
 * The write path's read comes after its lock (issue 18): the lock statement and the statement that
 * reads the lines, attachments and tenant facts are two, and the second starts once the lock is
 * granted. Were they one (or the read first), a writer queued on the invoice's row lock would work
 * from the lines and attachments as they were before the previous writer committed: its answer
 * would miss that writer's line or file, and its totals would be computed from the stale lines.
 * Here writers race on one invoice — line additions (no If-Match) and uploads — and every answer,
 * every version in the history and the final row must hold everything the writers before it added.
 */
let t: TestApp;
let api: Client;

before(async () => {
  t = await startTestApp({ FOLIO_MAX_ATTACHMENTS: '20' });
  api = t.client(await t.key('locked-reads-write-path'));
});
after(() => t.close());

function upload(invoiceId: string) {
  const { headers, payload } = multipartBody({ filename: 'a.pdf', contentType: 'application/pdf', bytes: Buffer.concat([pdfBytes, randomBytes(64)]) });
  return t.app.inject({ method: 'POST', url: `/v1/invoices/${invoiceId}/attachments`, headers: { authorization: `Bearer ${api.key}`, ...headers }, payload });
}

const sum = (values: string[]) => values.reduce((total, value) => total.plus(value), new Decimal(0));

describe(`writers queued on one invoice never see a stale line or attachment set (${engine})`, () => {
  test('12 concurrent line additions and 6 uploads: every answer and version holds all that came before it', async () => {
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Base', quantity: '1', unit_price: '10' }] }), 201);
    const patches: Promise<{ status: number; body: any }>[] = [];
    const uploads: Promise<{ statusCode: number }>[] = [];
    for (let index = 0; index < 12; index++) {
      patches.push(api.patch(`/v1/invoices/${invoice.id}`, { line_operations: [{ op: 'add', description: `Added ${index}`, quantity: '1', unit_price: `${index + 1}` }] }));
      if (index % 2 === 0) uploads.push(upload(invoice.id));
    }
    const [patchAnswers, uploadAnswers] = await Promise.all([Promise.all(patches), Promise.all(uploads)]);
    assert.deepEqual(uploadAnswers.map((answer) => answer.statusCode), Array(6).fill(201));
    const versions = new Set<number>();
    for (const answer of patchAnswers) {
      assert.equal(answer.status, 200);
      const { version, lines, attachments, subtotal } = answer.body;
      versions.add(version);
      // Version 1 had one line and no file; each later version added exactly one of either.
      assert.equal(lines.length - 1 + attachments.length, version - 1, `answer at version ${version}: ${lines.length} lines, ${attachments.length} files`);
      assert.equal(subtotal, sum(lines.map((line: { net_amount: string }) => line.net_amount)).toFixed(2), `subtotal at version ${version}`);
    }
    assert.equal(versions.size, 12, 'each PATCH wrote its own version');

    const final = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.equal(final.version, 19);
    assert.equal(final.lines.length, 13);
    assert.equal(final.attachments.length, 6);
    assert.equal(final.subtotal, sum(final.lines.map((line: { net_amount: string }) => line.net_amount)).toFixed(2));
    const row = await t.database.db.selectFrom('invoices').select(['line_count', 'version']).where('id', '=', invoice.id).executeTakeFirstOrThrow();
    assert.equal(row.line_count, 13);
    // Every version in the history is whole: one more line or file than the one before.
    for (let version = 1; version <= 19; version++) {
      const old = expectStatus(await api.get(`/v1/invoices/${invoice.id}?version=${version}`), 200);
      assert.equal(old.lines.length - 1 + old.attachments.length, version - 1, `history at version ${version}`);
    }
  });

  test('concurrent removals of different lines (no If-Match): every line removed once, none resurrected', async () => {
    const lines = Array.from({ length: 10 }, (_, index) => ({ description: `Line ${index}`, quantity: '1', unit_price: '5' }));
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines }), 201);
    const removed = invoice.lines.slice(0, 8).map((line: { id: string }) => line.id);
    const answers = await Promise.all(removed.map((id: string) => api.patch(`/v1/invoices/${invoice.id}`, { line_operations: [{ op: 'remove', id }] })));
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.equal(answer.body.lines.length, 10 - (answer.body.version - 1), `answer at version ${answer.body.version}`);
      assert.equal(answer.body.subtotal, sum(answer.body.lines.map((line: { net_amount: string }) => line.net_amount)).toFixed(2));
    }
    const final = expectStatus(await api.get(`/v1/invoices/${invoice.id}`), 200);
    assert.deepEqual(final.lines.map((line: { id: string }) => line.id), invoice.lines.slice(8).map((line: { id: string }) => line.id));
    assert.equal(final.subtotal, '10.00');
  });
});
