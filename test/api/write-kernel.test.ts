import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestContext } from '../../src/core/request-context.js';
import { auditStore } from '../../src/modules/audit/store.js';
import { createWriteKernel, type WriteKernel } from '../../src/modules/invoices/versioning.js';
import { AppError } from '../../src/shared/errors.js';
import { fixedClock } from '../../src/shared/time.js';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';

// The write kernel's contract (src/modules/invoices/versioning.ts), called directly: what it
// promises every caller (routes, lifecycle, payments, and later dialects, web app, bulk jobs).

const kernelTime = '2031-04-05T06:07:08.009Z';

let t: TestApp;
let api: Client;
let ctx: RequestContext;
let kernel: WriteKernel;

before(async () => {
  t = await startTestApp({ FOLIO_WEBHOOK_DISPATCHER: 'off' });
  api = t.client(await t.key('kernel-a'));
  const tenantId = (await t.database.db.selectFrom('tenants').select('id').where('name', '=', 'kernel-a').executeTakeFirstOrThrow()).id;
  ctx = { auth: { tenantId, keyId: 'key_kernel_test', scopes: new Set(['invoices:write'] as const) }, requestId: 'req_kernel_test' };
  kernel = createWriteKernel({ db: t.database.db, engine: t.database.engine, clock: fixedClock(kernelTime) });
});
after(() => t.close());

async function createInvoice(body: Record<string, unknown> = {}) {
  return expectStatus(await api.post('/v1/invoices', { currency: 'EUR', lines: [{ description: 'A', quantity: 1, unit_price: '10' }], ...body }), 201);
}

/** What a change leaves behind: the stored version, its audit events and its outbox events. */
async function traces(id: string) {
  const invoice = expectStatus(await api.get(`/v1/invoices/${id}`), 200);
  const audits = await auditStore.listForInvoice(t.database.db, ctx.auth.tenantId, id);
  const events = await t.database.db.selectFrom('events').select('type').where('resource_id', '=', id).execute();
  return { version: invoice.version as number, memo: invoice.memo as string | null, audits: audits.length, events: events.length };
}

/** A change through the kernel as any use case makes it: lock, derive the next state, record it. */
const setMemo = (id: string, memo: string, options: Parameters<WriteKernel['withLockedInvoice']>[2] = {}) =>
  kernel.withLockedInvoice(ctx, id, options, (tx, invoice) =>
    kernel.recordChange(tx, ctx, invoice, { ...invoice, memo }, { action: 'update', eventType: 'invoice.updated' }, 'kernel test'),
  );

describe('write kernel', () => {
  test('a change is one version + 1 with one audit event, one outbox event and the clock\'s time', async () => {
    const invoice = await createInvoice();
    const before = await traces(invoice.id);
    const result = await setMemo(invoice.id, 'through the kernel');
    assert.equal(result.written, true);
    assert.equal(result.invoice.version, before.version + 1);
    assert.equal(result.invoice.updated_at, kernelTime);
    assert.deepEqual(result.changes, [{ path: '/memo', from: null, to: 'through the kernel' }]);
    assert.deepEqual(await traces(invoice.id), { version: before.version + 1, memo: 'through the kernel', audits: before.audits + 1, events: before.events + 1 });
  });

  test('withLockedInvoice with a stale If-Match refuses (412) before the work runs; nothing changes', async () => {
    const invoice = await createInvoice();
    const before = await traces(invoice.id);
    let workRan = false;
    await assert.rejects(
      kernel.withLockedInvoice(ctx, invoice.id, { ifMatch: [before.version + 5] }, async () => {
        workRan = true;
      }),
      (error) => error instanceof AppError && error.problemType === 'precondition-failed',
    );
    assert.equal(workRan, false);
    assert.deepEqual(await traces(invoice.id), before);
    // The current version passes.
    await setMemo(invoice.id, 'matched', { ifMatch: [before.version] });
    assert.equal((await traces(invoice.id)).version, before.version + 1);
  });

  test('an unknown invoice is a 404 and the work never runs', async () => {
    await assert.rejects(
      kernel.withLockedInvoice(ctx, 'inv_doesnotexist', {}, async () => assert.fail('work ran')),
      (error) => error instanceof AppError && error.problemType === 'not-found',
    );
  });

  test('a work function that throws after recording a version leaves no version, audit or event', async () => {
    const invoice = await createInvoice();
    const before = await traces(invoice.id);
    await assert.rejects(
      kernel.withLockedInvoice(ctx, invoice.id, {}, async (tx, current) => {
        await kernel.recordChange(tx, ctx, current, { ...current, memo: 'never seen' }, { action: 'update', eventType: 'invoice.updated' }, null);
        throw new Error('work failed after writing');
      }),
      /work failed after writing/,
    );
    assert.deepEqual(await traces(invoice.id), before);
  });

  test('a dry run returns the computed result (written: false) and writes nothing', async () => {
    const invoice = await createInvoice();
    const before = await traces(invoice.id);
    const result = await setMemo(invoice.id, 'dry', { dryRun: true });
    assert.equal(result.written, false);
    assert.equal(result.invoice.version, before.version + 1);
    assert.equal(result.invoice.memo, 'dry');
    assert.deepEqual(await traces(invoice.id), before);
  });

  test('inTransaction returns what the work returns, and rolls back a dry run of any shape', async () => {
    const invoice = await createInvoice();
    const before = await traces(invoice.id);
    const answer = await kernel.inTransaction({ dryRun: true }, async (tx) => {
      const current = await kernel.lockInvoice(tx, ctx, invoice.id);
      assert.ok(current);
      await kernel.recordChange(tx, ctx, current, { ...current, memo: 'rolled back' }, { action: 'update', eventType: 'invoice.updated' }, null);
      return { answer: 42 };
    });
    assert.deepEqual(answer, { answer: 42 });
    assert.deepEqual(await traces(invoice.id), before);
  });

  test('a unique-index race (a number another invoice holds) is a 409 conflict, and nothing is written', async () => {
    const taken = await createInvoice({ number: 'KERNEL-1' });
    const other = await createInvoice();
    const before = await traces(other.id);
    await assert.rejects(
      kernel.withLockedInvoice(ctx, other.id, {}, (tx, current) =>
        // Skips the service's own number check on purpose: the index is the last line of defence.
        kernel.recordChange(tx, ctx, current, { ...current, number: taken.number }, { action: 'update', eventType: 'invoice.updated' }, null),
      ),
      (error) => error instanceof AppError && error.problemType === 'conflict',
    );
    assert.deepEqual(await traces(other.id), before);
  });
});
