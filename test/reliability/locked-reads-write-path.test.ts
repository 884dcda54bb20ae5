import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { sql } from 'kysely';
import { engine, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { multipartBody, pdfBytes } from '../helpers/multipart.js';

/**
 * The write path's read comes after its lock (issue 18): the statement that reads the lines,
 * attachments and tenant facts starts once the lock is granted (on PostgreSQL the second statement
 * of the function `folio_invoice_lock_read`, migration 0015; on SQLite the write transaction holds
 * the database's write lock from its start). Were the read part of the locking statement (or done
 * first), a writer queued on the invoice's row lock would work
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

  test('the lock-read function reads after the lock: a queued caller sees what the lock holder committed', { skip: engine !== 'postgres' }, async () => {
    const db = t.database.db;
    const invoice = expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'Before', quantity: '1', unit_price: '10' }] }), 201);
    const { tenant_id: tenantId } = await db.selectFrom('invoices').select('tenant_id').where('id', '=', invoice.id).executeTakeFirstOrThrow();
    const lockRead = sql<{ lines_json: string; attachments_json: string | null }>`SELECT lines_json, attachments_json FROM folio_invoice_lock_read(${tenantId}, ${invoice.id})`;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let changed!: () => void;
    const holderChanged = new Promise<void>((resolve) => (changed = resolve));
    const holder = db.transaction().execute(async (tx) => {
      await lockRead.execute(tx);
      await tx.updateTable('invoice_lines').set({ description: 'After' }).where('invoice_id', '=', invoice.id).execute();
      await tx
        .insertInto('invoice_attachments')
        .values({ tenant_id: tenantId, invoice_id: invoice.id, id: 'att_queued_reader', filename: 'a.pdf', content_type: 'application/pdf', size_bytes: 1, sha256: 'x', created_at: invoice.created_at })
        .execute();
      changed();
      await released;
    });
    await holderChanged;
    // The queued call's statement starts (and takes its first snapshot) before the holder commits.
    const waiter = db.transaction().execute(async (tx) => (await lockRead.execute(tx)).rows[0]);
    for (let attempt = 0; ; attempt++) {
      const waiting = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%folio_invoice_lock_read%' AND pid <> pg_backend_pid()`.execute(db);
      if (waiting.rows[0].n > 0) break;
      assert.ok(attempt < 200, 'the second call never queued on the lock');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    release();
    await holder;
    const read = await waiter;
    assert.deepEqual(JSON.parse(read.lines_json).map((line: { description: string }) => line.description), ['After']);
    assert.deepEqual(JSON.parse(read.attachments_json ?? '[]').map((attachment: { id: string }) => attachment.id), ['att_queued_reader']);
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
