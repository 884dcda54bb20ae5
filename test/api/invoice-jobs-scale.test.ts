import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal } from 'decimal.js';
import { sql } from 'kysely';
import { buildServices, type AppServices } from '../../src/http/app.js';
import type { RequestContext } from '../../src/core/request-context.js';
import { createJobWorker } from '../../src/modules/jobs/worker.js';
import { createApiKey } from '../../src/modules/tenants/service.js';
import { tenantStore } from '../../src/modules/tenants/store.js';
import { expectStatus, startTestApp, type Client, type TestApp } from '../helpers/harness.js';
import { recordFigures, scaled } from '../helpers/reliability.js';

/**
 * Issue 17's acceptance at its size: one VAT change (every line at 24% → 25.5%) over 10,000
 * invoices in mixed states, under both edit policies (the policy is a tenant's, so the same job
 * runs in an `until_paid` tenant and in a `draft_only` one, which locks invoices at finalization).
 * What each invoice should come out as is computed here from how it was made (kind × policy),
 * independently of the job code, and compared exactly: counts, per-item outcome and rule, one
 * version per changed invoice carrying the job id, nothing written to the others, totals
 * re-verified against the lines. The invoices are made in process through the services (the
 * write kernel, one transaction each, as a PATCH would), several at a time, to keep setup short.
 * FOLIO_JOBS_SCALE_INVOICES overrides the size.
 */
const totalInvoices = Number(process.env.FOLIO_JOBS_SCALE_INVOICES ?? scaled(350, 10_000));

type Policy = 'until_paid' | 'draft_only';
/** How an invoice is made: its state and whether it has a line the selector matches. */
type Kind = 'draft' | 'draft-no-24' | 'open' | 'open-part-paid' | 'paid' | 'paid-no-24' | 'void';
const kinds: Kind[] = ['draft', 'draft-no-24', 'open', 'open-part-paid', 'paid', 'paid-no-24', 'void'];

interface Expected {
  outcome: 'changed' | 'unchanged' | 'refused';
  rule: string | null;
}

/** The acceptance table: what the VAT change must do to each kind of invoice under each policy. */
function expectedFor(kind: Kind, policy: Policy): Expected {
  if (kind === 'draft-no-24' || kind === 'paid-no-24') return { outcome: 'unchanged', rule: null };
  if (kind === 'draft') return { outcome: 'changed', rule: null };
  if (kind === 'open' || kind === 'open-part-paid') return policy === 'until_paid' ? { outcome: 'changed', rule: null } : { outcome: 'refused', rule: 'draft-only-policy' };
  if (kind === 'paid') return { outcome: 'refused', rule: 'paid-invoice-financial-fields' };
  return { outcome: 'refused', rule: 'void-is-final' };
}

let t: TestApp;
let services: AppServices;
let runWorker: () => Promise<void>;

interface TenantSet {
  policy: Policy;
  tenantId: string;
  api: Client;
  ctx: RequestContext;
  kindOf: Map<string, Kind>;
}
const tenants: TenantSet[] = [];

const vatChange = { line_operations: [{ op: 'update', match: { tax_rate: '24' }, set: { tax_rate: '25.5' } }] };

/** One invoice of the given kind, made through the services (each step its own write-kernel transaction). */
async function make(set: TenantSet, kind: Kind, index: number): Promise<string> {
  const { ctx } = set;
  const noMatch = kind.endsWith('no-24');
  const created = await services.invoices.create(ctx, {
    currency: 'EUR',
    due_date: '2999-12-31',
    memo: `scale ${index}`,
    lines: [
      { description: 'Service', quantity: '1', unit_price: '100.00', tax_rate: noMatch ? '14' : '24' },
      { description: 'Book', quantity: '1', unit_price: '50.00', tax_rate: '10' },
    ],
  });
  const id = created.invoice.id;
  if (kind === 'draft' || kind === 'draft-no-24') return id;
  const open = await services.lifecycle.finalize(ctx, id);
  if (kind === 'open') return id;
  if (kind === 'void') {
    await services.lifecycle.void(ctx, id);
    return id;
  }
  const amount = kind === 'open-part-paid' ? '50.00' : open.invoice.balance;
  await services.payments.create(ctx, id, { amount, date: '2026-01-15', method: 'bank_transfer' });
  return id;
}

before(async () => {
  t = await startTestApp({ FOLIO_JOB_WORKER: 'off' });
  services = buildServices(t.config, t.database);
  const worker = createJobWorker({ jobs: services.jobs, config: { ...t.config.jobs, batchSize: 100 }, log: () => {} });
  runWorker = () => worker.runUntilIdle();

  // 80% of the invoices in an until_paid tenant, 20% in a draft_only one.
  const sizes: [Policy, number][] = [
    ['until_paid', Math.round(totalInvoices * 0.8)],
    ['draft_only', totalInvoices - Math.round(totalInvoices * 0.8)],
  ];
  const startedAt = performance.now();
  for (const [policy, size] of sizes) {
    const key = await createApiKey(t.database.db, { tenantName: `jobs-scale-${policy}`, scopes: ['invoices:read', 'invoices:write'] });
    await tenantStore.setEditPolicy(t.database.db, key.tenantId, policy);
    const set: TenantSet = {
      policy,
      tenantId: key.tenantId,
      api: t.client(key.key),
      ctx: { auth: { tenantId: key.tenantId, keyId: key.keyId, scopes: new Set(['invoices:read', 'invoices:write']) }, requestId: `seed-${policy}` },
      kindOf: new Map(),
    };
    tenants.push(set);
    // A few writers at a time: on PostgreSQL their commits overlap; SQLite queues them (one writer).
    const writers = 8;
    let next = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let index = next++; index < size; index = next++) {
          const kind = kinds[index % kinds.length];
          set.kindOf.set(await make(set, kind, index), kind);
        }
      }),
    );
  }
  recordFigures('jobs-scale-seed', { invoices: totalInvoices, seed_seconds: Math.round((performance.now() - startedAt) / 1000) });
});
after(() => t.close());

/** Every item of a job, through the API's pages. */
async function allItems(api: Client, jobId: string) {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const page: any = expectStatus(await api.get(`/v1/invoice-jobs/${jobId}/items?limit=100${cursor ? `&cursor=${cursor}` : ''}`), 200);
    items.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

test(`a VAT change over ${totalInvoices} invoices in mixed states, under both edit policies: exactly the editable ones change, once each`, async () => {
  const jobStartedAt = performance.now();
  let matchedTotal = 0;
  for (const set of tenants) {
    const db = t.database.db;
    const versionsBefore = new Map((await db.selectFrom('invoices').select(['id', 'version']).where('tenant_id', '=', set.tenantId).execute()).map((row) => [row.id, row.version]));
    assert.equal(versionsBefore.size, set.kindOf.size);

    // The independent expectation, invoice by invoice.
    const expected = new Map([...set.kindOf].map(([id, kind]) => [id, expectedFor(kind, set.policy)]));
    const expectedCount = (outcome: Expected['outcome']) => [...expected.values()].filter((entry) => entry.outcome === outcome).length;
    assert.ok(expectedCount('changed') > 0 && expectedCount('refused') > 0 && expectedCount('unchanged') > 0, 'a genuinely mixed set');

    // A filter over the whole tenant: matched page by page, as for a job of any size.
    const created = expectStatus(await set.api.post('/v1/invoice-jobs', { filter: {}, change: vatChange, reason: 'VAT 24 → 25.5' }), 202);
    await runWorker();
    const job = expectStatus(await set.api.get(`/v1/invoice-jobs/${created.id}`), 200);
    assert.equal(job.state, 'completed');
    assert.deepEqual(job.counts, {
      matched: set.kindOf.size,
      changed: expectedCount('changed'),
      unchanged: expectedCount('unchanged'),
      refused: expectedCount('refused'),
      failed: 0,
      cancelled: 0,
    });
    matchedTotal += job.counts.matched;
    // 1.5% more tax on a net of 100 per changed invoice.
    assert.ok(new Decimal(job.amount_difference).eq(new Decimal('1.50').times(expectedCount('changed'))), `amount difference ${job.amount_difference}`);
    const rulesExpected = new Map<string, number>();
    for (const entry of expected.values()) if (entry.rule) rulesExpected.set(entry.rule, (rulesExpected.get(entry.rule) ?? 0) + 1);
    assert.deepEqual(
      Object.fromEntries(job.refusals_by_rule.map((entry: any) => [entry.rule, entry.count])),
      Object.fromEntries(rulesExpected),
      'refusals by rule',
    );

    // Every item, read through the API's pages: its outcome and rule as expected.
    const items = await allItems(set.api, created.id);
    assert.equal(items.length, set.kindOf.size);
    for (const item of items) {
      const want = expected.get(item.invoice_id);
      assert.ok(want, `item for an invoice not made here: ${item.invoice_id}`);
      assert.equal(item.outcome, want.outcome, `${item.invoice_id} (${set.kindOf.get(item.invoice_id)}, ${set.policy})`);
      assert.equal(item.rule, want.rule, `${item.invoice_id} rule`);
      if (want.outcome === 'changed') assert.equal(item.version, versionsBefore.get(item.invoice_id)! + 1);
    }

    // Counted in the database: one audit event per changed invoice carries the job id, none elsewhere.
    const byJob = await db
      .selectFrom('audit_events')
      .select(['invoice_id', sql<number>`count(*)`.as('versions'), sql<string>`max(reason)`.as('reason')])
      .where('tenant_id', '=', set.tenantId)
      .where('request_id', '=', created.id)
      .groupBy('invoice_id')
      .execute();
    const changedIds = new Set([...expected].filter(([, entry]) => entry.outcome === 'changed').map(([id]) => id));
    assert.deepEqual(new Set(byJob.map((row) => row.invoice_id)), changedIds, 'versions by the job = the editable invoices');
    for (const row of byJob) {
      assert.equal(Number(row.versions), 1, `${row.invoice_id}: one version by the job`);
      assert.equal(row.reason, 'VAT 24 → 25.5');
    }
    const invoices = await db.selectFrom('invoices').select(['id', 'version', 'subtotal', 'tax_total', 'total', 'amount_paid', 'balance']).where('tenant_id', '=', set.tenantId).execute();
    for (const invoice of invoices) {
      const changed = changedIds.has(invoice.id);
      assert.equal(invoice.version, versionsBefore.get(invoice.id)! + (changed ? 1 : 0), `${invoice.id} version`);
      // Totals re-verified: 100 + 24% or 25.5% (or 14%), + 50 + 5.00.
      const kind = set.kindOf.get(invoice.id)!;
      const serviceTax = kind.endsWith('no-24') ? '14.00' : changed ? '25.50' : '24.00';
      const total = new Decimal('155.00').plus(serviceTax);
      assert.ok(total.eq(String(invoice.total)), `${invoice.id} total ${invoice.total}, expected ${total}`);
      assert.ok(new Decimal(String(invoice.tax_total)).eq(new Decimal(serviceTax).plus('5.00')));
      assert.ok(total.minus(String(invoice.amount_paid)).eq(String(invoice.balance)), `${invoice.id} balance`);
    }
    // The stored totals agree with the stored lines, for every invoice of the tenant.
    const lineSums = await db
      .selectFrom('invoice_lines')
      .select(['invoice_id', 'net_amount', 'tax_amount', 'gross_amount'])
      .where('tenant_id', '=', set.tenantId)
      .execute();
    const sums = new Map<string, { net: Decimal; tax: Decimal; gross: Decimal }>();
    for (const line of lineSums) {
      const sum = sums.get(line.invoice_id) ?? { net: new Decimal(0), tax: new Decimal(0), gross: new Decimal(0) };
      sums.set(line.invoice_id, { net: sum.net.plus(String(line.net_amount)), tax: sum.tax.plus(String(line.tax_amount)), gross: sum.gross.plus(String(line.gross_amount)) });
    }
    for (const invoice of invoices) {
      const sum = sums.get(invoice.id)!;
      assert.ok(sum.net.eq(String(invoice.subtotal)) && sum.tax.eq(String(invoice.tax_total)) && sum.gross.eq(String(invoice.total)), `${invoice.id}: totals = Σ lines`);
    }
    // One outbox event per version the job wrote (read into memory: a join makes SQLite scan).
    const jobVersions = new Set(byJob.map((row) => `${row.invoice_id}@${versionsBefore.get(row.invoice_id)! + 1}`));
    const invoiceEvents = await db.selectFrom('events').select(['resource_id', 'resource_version']).where('tenant_id', '=', set.tenantId).where('resource_type', '=', 'invoice').execute();
    const eventsOfJobVersions = invoiceEvents.filter((event) => jobVersions.has(`${event.resource_id}@${event.resource_version}`));
    assert.equal(eventsOfJobVersions.length, changedIds.size, 'one outbox event per changed invoice');
    const completed = await db.selectFrom('events').select('id').where('resource_id', '=', created.id).where('type', '=', 'invoice_job.completed').execute();
    assert.equal(completed.length, 1);
  }
  assert.equal(matchedTotal, totalInvoices);
  recordFigures('jobs-scale', { invoices: totalInvoices, job_seconds: Math.round((performance.now() - jobStartedAt) / 1000) });
});
