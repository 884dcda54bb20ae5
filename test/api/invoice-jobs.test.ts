import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Dec } from '../../src/shared/money.js';
import { buildServices } from '../../src/http/app.js';
import { createJobWorker } from '../../src/modules/jobs/worker.js';
import { expectProblem, expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { scaled } from '../helpers/reliability.js';

/**
 * Bulk changes as jobs (docs/bulk-jobs.md), driven through the API. The in-process worker is off;
 * each test runs the worker until idle itself, so outcomes are deterministic.
 */
let t: TestApp;
let api: Client;
let runWorker: () => Promise<void>;

before(async () => {
  t = await startTestApp({ FOLIO_JOB_WORKER: 'off' });
  api = t.client(await t.key('jobs'));
  const worker = createJobWorker({ jobs: buildServices(t.config, t.database).jobs, config: { ...t.config.jobs, batchSize: 25 }, log: () => {} });
  runWorker = () => worker.runUntilIdle();
});
after(() => t.close());

const vatChange = { line_operations: [{ op: 'update', match: { tax_rate: '24' }, set: { tax_rate: '25.5' } }] };

/** A draft with one line at 24% (net 100) and one at 10% (net 50), tagged so a filter can find it. */
async function draft(tag: string) {
  return expectStatus(
    await api.post('/v1/invoices', {
      currency: 'EUR',
      due_date: '2999-12-31',
      metadata: { batch: tag },
      lines: [
        { description: 'Service', quantity: '1', unit_price: '100.00', tax_rate: '24' },
        { description: 'Book', quantity: '1', unit_price: '50.00', tax_rate: '10' },
      ],
    }),
    201,
  );
}

type State = 'draft' | 'open' | 'paid' | 'void';
async function invoiceIn(state: State, tag: string) {
  const created = await draft(tag);
  if (state === 'draft') return created;
  const open = expectStatus(await api.post(`/v1/invoices/${created.id}/finalize`), 200);
  if (state === 'open') return open;
  if (state === 'void') return expectStatus(await api.post(`/v1/invoices/${created.id}/void`), 200);
  return expectStatus(await api.post(`/v1/invoices/${created.id}/payments`, { amount: open.balance, date: '2026-01-15', method: 'bank_transfer' }), 201).invoice;
}

async function allItems(jobId: string, outcome?: string) {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '7', ...(outcome ? { outcome } : {}), ...(cursor ? { cursor } : {}) });
    const page = expectStatus(await api.get(`/v1/invoice-jobs/${jobId}/items?${query}`), 200);
    items.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

describe('a VAT change over invoices in mixed states', () => {
  const perState = scaled(12, 250);
  const states: State[] = ['draft', 'open', 'paid', 'void'];
  const byState = new Map<string, State>();

  before(async () => {
    for (let index = 0; index < perState; index++) {
      for (const state of states) byState.set((await invoiceIn(state, 'vat')).id, state);
    }
    await draft('other'); // not matched by the filter
  });

  test('dry run previews counts, refusals by rule and the amount difference, and writes nothing', async () => {
    const created = expectStatus(await api.post('/v1/invoice-jobs', { filter: {}, change: vatChange, reason: 'VAT 24 → 25.5', dry_run: true }), 202);
    assert.equal(created.dry_run, true);
    await runWorker();
    const job = expectStatus(await api.get(`/v1/invoice-jobs/${created.id}`), 200);
    assert.equal(job.state, 'completed');
    const editable = perState * 2 + 1; // drafts and open (until_paid) + the "other" draft
    assert.deepEqual(job.counts, { matched: perState * 4 + 1, changed: editable, unchanged: 0, refused: perState * 2, failed: 0, cancelled: 0 });
    assert.equal(job.progress.percent, 100);
    // 1.5% more tax on a net of 100 per changed invoice.
    assert.equal(job.amount_difference, new Dec('1.50').times(editable).toFixed());
    assert.ok(job.refusals_by_rule.length >= 1);
    assert.equal(job.refusals_by_rule.reduce((sum: number, entry: any) => sum + entry.count, 0), perState * 2);
    for (const id of [...byState.keys()].slice(0, 8)) {
      const invoice = expectStatus(await api.get(`/v1/invoices/${id}`), 200);
      assert.ok(invoice.lines.some((line: any) => line.tax_rate === '24'), 'a dry run changes nothing');
    }
  });

  test('the job changes exactly the editable invoices, once each, and refuses the rest with their rule', async () => {
    const versionsBefore = new Map<string, number>();
    for (const id of byState.keys()) versionsBefore.set(id, expectStatus(await api.get(`/v1/invoices/${id}`), 200).version);
    // A filter: only the tagged batch (the list filters, by the same names as GET /v1/invoices).
    const ids = [...byState.keys()];
    const created = expectStatus(await api.post('/v1/invoice-jobs', { invoice_ids: ids, change: vatChange, reason: 'VAT 24 → 25.5' }), 202);
    await runWorker();
    const job = expectStatus(await api.get(`/v1/invoice-jobs/${created.id}`), 200);
    assert.equal(job.state, 'completed');
    assert.deepEqual(job.counts, { matched: perState * 4, changed: perState * 2, unchanged: 0, refused: perState * 2, failed: 0, cancelled: 0 });

    const refused = await allItems(created.id, 'refused');
    assert.equal(refused.length, perState * 2);
    for (const item of refused) {
      assert.ok(['paid', 'void'].includes(byState.get(item.invoice_id)!));
      assert.match(item.rule, /^[a-z-]+$/);
      assert.ok(item.detail);
    }
    const changed = await allItems(created.id, 'changed');
    assert.equal(changed.length, perState * 2);
    for (const item of changed) {
      const state = byState.get(item.invoice_id)!;
      assert.ok(state === 'draft' || state === 'open');
      const invoice = expectStatus(await api.get(`/v1/invoices/${item.invoice_id}`), 200);
      assert.equal(invoice.version, versionsBefore.get(item.invoice_id)! + 1, 'exactly one new version');
      assert.equal(item.version, invoice.version);
      assert.deepEqual(invoice.lines.map((line: any) => line.tax_rate).sort(), ['10', '25.5']);
      // Totals re-verified: 100 + 25.50 + 50 + 5.00.
      assert.equal(invoice.tax_total, '30.50');
      assert.equal(invoice.total, '180.50');
      const history = expectStatus(await api.get(`/v1/invoices/${item.invoice_id}/history`), 200);
      const byJob = history.data.filter((entry: any) => entry.request_id === created.id);
      assert.equal(byJob.length, 1, 'one version carries the job id');
      assert.equal(byJob[0].reason, 'VAT 24 → 25.5');
    }
    const events = await t.database.db.selectFrom('events').select(['type', 'data']).where('resource_id', '=', created.id).execute();
    assert.deepEqual(events.map((event) => event.type), ['invoice_job.completed'], 'one invoice_job.completed in the outbox');
    assert.equal(JSON.parse(events[0].data).counts.changed, perState * 2);

    // Run again: nothing left at 24% → unchanged (or refused), no new versions.
    const again = expectStatus(await api.post('/v1/invoice-jobs', { invoice_ids: ids, change: vatChange, reason: 'again' }), 202);
    await runWorker();
    const second = expectStatus(await api.get(`/v1/invoice-jobs/${again.id}`), 200);
    assert.equal(second.counts.changed, 0);
    assert.equal(second.counts.unchanged, perState * 2);
  });
});

describe('job filters and targets', () => {
  test('a filter matches through the list filters (here: status)', async () => {
    const open = await invoiceIn('open', 'filter');
    const created = expectStatus(await api.post('/v1/invoice-jobs', { filter: { status: 'open,draft', currency: 'EUR', total_min: '100' }, change: { memo: 'Prices updated' }, reason: 'memo' }), 202);
    await runWorker();
    const job = expectStatus(await api.get(`/v1/invoice-jobs/${created.id}`), 200);
    const items = await allItems(created.id);
    assert.ok(items.some((item) => item.invoice_id === open.id));
    for (const item of items) assert.ok(['open', 'draft'].includes(expectStatus(await api.get(`/v1/invoices/${item.invoice_id}`), 200).status));
    // The same filter on the list endpoint gives the same invoices.
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = expectStatus(await api.get(`/v1/invoices?status=open,draft&currency=EUR&total_min=100&limit=100${cursor ? `&cursor=${cursor}` : ''}`), 200);
      listed.push(...page.data.map((invoice: any) => invoice.id));
      cursor = page.next_cursor;
    } while (cursor);
    assert.deepEqual(items.map((item) => item.invoice_id).sort(), listed.sort());
    assert.equal(job.counts.matched, items.length);
  });

  test('references, and an unknown id reported per item', async () => {
    const created = await draft('refs');
    expectStatus(await api.patch(`/v1/invoices/${created.id}`, { reference: 'RF-JOB-1' }), 200);
    const byReference = expectStatus(await api.post('/v1/invoice-jobs', { references: ['RF-JOB-1'], change: { memo: 'by reference' }, reason: 'r' }), 202);
    expectProblem(await api.post('/v1/invoice-jobs', { references: ['RF-NONE'], change: { memo: 'x' }, reason: 'r' }), 400, 'validation-error');
    const unknown = expectStatus(await api.post('/v1/invoice-jobs', { invoice_ids: ['inv_doesnotexist'], change: { memo: 'x' }, reason: 'r' }), 202);
    await runWorker();
    assert.equal(expectStatus(await api.get(`/v1/invoices/${created.id}`), 200).memo, 'by reference');
    assert.equal(expectStatus(await api.get(`/v1/invoice-jobs/${byReference.id}`), 200).counts.changed, 1);
    const [item] = await allItems(unknown.id);
    assert.equal(item.outcome, 'failed');
    assert.equal(item.rule, 'not-found');
  });

  test('bad requests are 400s and create nothing', async () => {
    expectProblem(await api.post('/v1/invoice-jobs', { change: { memo: 'x' }, reason: 'r' }), 400, 'validation-error');
    expectProblem(await api.post('/v1/invoice-jobs', { filter: {}, invoice_ids: ['inv_1'], change: { memo: 'x' }, reason: 'r' }), 400, 'validation-error');
    expectProblem(await api.post('/v1/invoice-jobs', { filter: {}, change: {}, reason: 'r' }), 400, 'validation-error');
    expectProblem(await api.post('/v1/invoice-jobs', { filter: {}, change: { memo: 'x' } }), 400, 'validation-error');
    expectProblem(await api.post('/v1/invoice-jobs', { filter: {}, change: { line_operations: [{ op: 'update', match: {}, set: { tax_rate: '1' } }] }, reason: 'r' }), 400, 'validation-error');
    expectProblem(await api.post('/v1/invoice-jobs', { filter: {}, change: { number: 'X-1' }, reason: 'r' }), 400, 'validation-error');
    const badFilter = expectProblem(await api.post('/v1/invoice-jobs', { filter: { total_min: '10', total_max: '5' }, change: { memo: 'x' }, reason: 'r' }), 400, 'validation-error');
    assert.equal(badFilter.errors[0].pointer, '/filter/total_max');
    expectProblem(await api.post('/v1/invoice-jobs', { filter: { colour: 'red' }, change: { memo: 'x' }, reason: 'r' }), 400, 'validation-error');
    expectProblem(await api.get('/v1/invoice-jobs/job_nope'), 404, 'not-found');
  });

  test('scopes and tenants: a read key cannot start a job; another tenant sees a 404', async () => {
    const reader = t.client(await t.key('jobs', ['invoices:read']));
    expectProblem(await reader.post('/v1/invoice-jobs', { filter: {}, change: { memo: 'x' }, reason: 'r' }), 403, 'forbidden');
    const created = expectStatus(await api.post('/v1/invoice-jobs', { invoice_ids: ['inv_x'], change: { memo: 'x' }, reason: 'r', dry_run: true }), 202);
    const stranger = t.client(await t.key('someone-else'));
    expectProblem(await stranger.get(`/v1/invoice-jobs/${created.id}`), 404, 'not-found');
    await runWorker();
  });

  test('Idempotency-Key: a retried create answers the same job', async () => {
    const body = { invoice_ids: ['inv_idem'], change: { memo: 'x' }, reason: 'idempotent', dry_run: true };
    const first = expectStatus(await api.post('/v1/invoice-jobs', body, { 'idempotency-key': 'job-create-1' }), 202);
    const second = expectStatus(await api.post('/v1/invoice-jobs', body, { 'idempotency-key': 'job-create-1' }), 202);
    assert.equal(second.id, first.id);
    await runWorker();
  });
});

test('cancel: the invoices not yet processed stay as they are', async () => {
  const ids = [];
  for (let index = 0; index < 5; index++) ids.push((await draft('cancel')).id);
  const created = expectStatus(await api.post('/v1/invoice-jobs', { invoice_ids: ids, change: { memo: 'never' }, reason: 'r' }), 202);
  const cancelled = expectStatus(await api.post(`/v1/invoice-jobs/${created.id}/cancel`), 200);
  assert.equal(cancelled.state, 'cancelled');
  assert.equal(cancelled.counts.cancelled, 5);
  await runWorker();
  for (const id of ids) assert.equal(expectStatus(await api.get(`/v1/invoices/${id}`), 200).memo, null);
  expectProblem(await api.post(`/v1/invoice-jobs/${created.id}/cancel`), 409, 'conflict');
});

test('single PATCHes while a job runs: none lost, none overwritten', async () => {
  const count = scaled(20, 200);
  const ids: string[] = [];
  for (let index = 0; index < count; index++) ids.push((await draft('concurrent')).id);
  const created = expectStatus(await api.post('/v1/invoice-jobs', { invoice_ids: ids, change: vatChange, reason: 'VAT during edits' }), 202);
  // Each PATCH adds a 24% line and sets a memo, while the worker runs.
  const patches = ids.map(async (id, index) => {
    await new Promise((resolve) => setImmediate(resolve));
    return expectStatus(await api.patch(`/v1/invoices/${id}`, { memo: `edit ${index}`, line_operations: [{ op: 'add', description: `Added ${index}`, quantity: '1', unit_price: '10', tax_rate: '24' }] }), 200);
  });
  await Promise.all([runWorker(), ...patches]);
  await runWorker();
  const job = expectStatus(await api.get(`/v1/invoice-jobs/${created.id}`), 200);
  assert.equal(job.counts.changed, count);
  for (const [index, id] of ids.entries()) {
    const invoice = expectStatus(await api.get(`/v1/invoices/${id}`), 200);
    assert.equal(invoice.memo, `edit ${index}`, 'the PATCH is not overwritten');
    assert.ok(invoice.lines.some((line: any) => line.description === `Added ${index}`), 'the PATCH line is not lost');
    assert.equal(invoice.lines.find((line: any) => line.description === 'Service').tax_rate, '25.5');
    assert.equal(invoice.version, 3, 'create, the PATCH and the job: one version each');
  }
});
