import type { Db, Engine } from '../../db/database.js';
import type { InvoiceJobItemsTable, InvoiceJobsTable } from '../../db/schema.js';
import type { RequestContext } from '../../core/request-context.js';
import { AppError, notFound } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { Dec } from '../../shared/money.js';
import { nowIso } from '../../shared/time.js';
import { eventStore } from '../events/store.js';
import type { HistoryService } from '../history/service.js';
import { markIdempotentChange } from '../idempotency/service.js';
import type { InvoiceService } from '../invoices/service.js';
import { expandChange, type JobChange } from './domain/change.js';
import { jobProgress, type JobCounts } from './domain/progress.js';
import { jobStore, type ClaimedItem, type ItemResult } from './store.js';

/**
 * Bulk changes as durable jobs (docs/bulk-jobs.md). A job is created in one transaction; a worker
 * in the service process then (1) lists the matching invoices page by page into item rows and
 * (2) processes items, each through the invoice service's `update` (the same path as a single
 * PATCH: lock, edit rules, one version, audit event, outbox event). Exactly once: every version a
 * job writes carries the job id as its audit request id, written in the version's transaction;
 * an item found unfinished after a crash is first looked up there, never redone blindly.
 */

/** The list query's filter fields (the same names and meanings as GET /v1/invoices). */
export type JobFilter = Record<string, unknown>;

export interface CreateJobInput {
  filter?: JobFilter;
  invoice_ids?: string[];
  references?: string[];
  change: JobChange;
  reason: string;
  dry_run?: boolean;
}

export interface JobServiceDeps {
  db: Db;
  engine: Engine;
  invoices: InvoiceService;
  history: HistoryService;
  /** One page of the ids of the invoices matching the filter, and the cursor of the next page (null: done). */
  listMatches: (ctx: RequestContext, filter: JobFilter, cursor: string | undefined) => Promise<{ ids: string[]; nextCursor: string | null }>;
  /** Throws a 400 naming the field when a filter is not one the list accepts. */
  checkFilter: (filter: JobFilter) => void;
  now?: () => string;
  /** How long a claimed item or matching page is reserved for its worker. */
  leaseMs?: number;
  /** Tries per item when the invoice changed between read and locked write (If-Match 412). */
  maxConcurrentChangeRetries?: number;
}

/** Items that failed for an unexpected reason (database down) are retried this often, then reported failed. */
const maxItemAttempts = 5;

export type JobView = ReturnType<typeof presentJob>;

function countsOf(job: InvoiceJobsTable): JobCounts {
  return { matched: job.matched, changed: job.changed, unchanged: job.unchanged, refused: job.refused, failed: job.failed, cancelled: job.cancelled };
}

export function presentJob(job: InvoiceJobsTable, refusalsByRule: { rule: string; count: number }[], now: string) {
  const request = JSON.parse(job.request) as CreateJobInput;
  const finishedOrNow = job.finished_at ?? now;
  const elapsedMs = job.started_at ? Date.parse(finishedOrNow) - Date.parse(job.started_at) : null;
  return {
    id: job.id,
    object: 'invoice_job' as const,
    state: job.state,
    dry_run: job.dry_run === 1,
    reason: job.reason,
    filter: request.filter ?? null,
    invoice_ids: request.invoice_ids ?? null,
    references: request.references ?? null,
    change: request.change,
    counts: countsOf(job),
    progress: jobProgress(countsOf(job), elapsedMs),
    matching_complete: job.state !== 'enumerating',
    amount_difference: new Dec(job.amount_difference).toFixed(),
    refusals_by_rule: refusalsByRule,
    created_at: job.created_at,
    started_at: job.started_at,
    finished_at: job.finished_at,
  };
}

export function presentItem(item: InvoiceJobItemsTable) {
  return {
    invoice_id: item.invoice_id,
    state: item.state,
    outcome: item.outcome,
    rule: item.rule,
    detail: item.detail,
    version: item.version,
    amount_difference: item.amount_difference === null ? null : new Dec(item.amount_difference).toFixed(),
    finished_at: item.finished_at,
  };
}

export function createJobService(deps: JobServiceDeps) {
  const { db, engine, invoices, history } = deps;
  const now = deps.now ?? nowIso;
  const leaseMs = deps.leaseMs ?? 60_000;
  const maxRetries = deps.maxConcurrentChangeRetries ?? 5;
  const leaseFromNow = () => new Date(Date.parse(now()) + leaseMs).toISOString();

  /** The job acts with its creator's key and the job id as request id: history shows both. */
  const jobContext = (job: Pick<InvoiceJobsTable, 'tenant_id' | 'id' | 'actor_key_id'>): RequestContext => ({
    auth: { tenantId: job.tenant_id, keyId: job.actor_key_id ?? job.id, scopes: new Set(['invoices:read', 'invoices:write']) },
    requestId: job.id,
  });

  async function view(tenantId: string, job: InvoiceJobsTable) {
    return presentJob(job, await jobStore.refusalsByRule(db, tenantId, job.id), now());
  }

  async function findJob(ctx: RequestContext, id: string): Promise<InvoiceJobsTable> {
    const job = await jobStore.findJob(db, ctx.auth.tenantId, id);
    if (!job) throw notFound('invoice job', id);
    return job;
  }

  /** Invoice ids named by reference: each must name exactly one invoice (a 400 naming the position otherwise). */
  async function resolveReferences(ctx: RequestContext, references: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [index, reference] of references.entries()) {
      const { ids: found } = await deps.listMatches(ctx, { reference }, undefined);
      if (found.length !== 1) {
        throw new AppError('validation-error', `The reference "${reference}" names ${found.length === 0 ? 'no invoice' : 'several invoices'}.`, {
          errors: [{ pointer: `/references/${index}`, detail: found.length === 0 ? 'unknown reference' : 'ambiguous reference' }],
        });
      }
      ids.push(found[0]);
    }
    return ids;
  }

  /** Runs one item through the invoice service; never throws for a business refusal. */
  async function runItem(job: InvoiceJobsTable, invoiceId: string): Promise<ItemResult> {
    const ctx = jobContext(job);
    const change = (JSON.parse(job.request) as CreateJobInput).change;
    for (let attempt = 1; ; attempt++) {
      try {
        const before = await invoices.get(ctx, invoiceId);
        const command = expandChange(before, change);
        // If-Match on the version the selectors were expanded against: a PATCH that lands in
        // between makes this a 412, and the change is re-read and re-applied (never overwritten).
        const result = await invoices.update(ctx, invoiceId, command, 'patch', { ifMatch: [before.version], reason: job.reason, dryRun: job.dry_run === 1 });
        if (result.changes.length === 0) return { outcome: 'unchanged', rule: null, detail: null, version: before.version, amountDifference: '0' };
        const difference = new Dec(result.invoice.total).minus(before.total).toFixed();
        return { outcome: 'changed', rule: null, detail: null, version: job.dry_run === 1 ? null : result.invoice.version, amountDifference: difference };
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        if (error.problemType === 'precondition-failed' && attempt < maxRetries) continue;
        if (error.problemType === 'precondition-failed') {
          return { outcome: 'failed', rule: 'conflict', detail: `The invoice kept changing while the job ran (${maxRetries} tries); it was left as it is.`, version: null, amountDifference: null };
        }
        return { outcome: error.status === 422 ? 'refused' : 'failed', rule: error.problemType, detail: error.message.slice(0, 500), version: null, amountDifference: null };
      }
    }
  }

  /** An item claimed again (its worker died): did its change already commit? Then report that, don't redo it. */
  async function alreadyApplied(job: InvoiceJobsTable, invoiceId: string): Promise<ItemResult | undefined> {
    if (job.dry_run === 1) return undefined;
    const entry = await history.versionWrittenBy(jobContext(job), invoiceId, job.id);
    if (!entry) return undefined;
    const total = entry.changes.find((change) => change.path === '/total');
    const difference = total ? new Dec(String(total.to)).minus(String(total.from)).toFixed() : '0';
    return { outcome: 'changed', rule: null, detail: null, version: entry.version, amountDifference: difference };
  }

  async function recordResult(item: ClaimedItem, result: ItemResult): Promise<void> {
    await db.transaction().execute(async (tx) => {
      const locked = await jobStore.lockJob(tx, engine, item.tenant_id, item.job_id);
      if (!locked) return;
      const recorded = await jobStore.recordOutcome(tx, item, result, now());
      if (recorded && result.amountDifference !== null && !new Dec(result.amountDifference).isZero()) {
        await jobStore.setAmountDifference(tx, item.tenant_id, item.job_id, new Dec(locked.amount_difference).plus(result.amountDifference).toFixed());
      }
    });
  }

  async function completeIfDone(tenantId: string, jobId: string): Promise<void> {
    if (await jobStore.hasPendingItems(db, tenantId, jobId)) return;
    await db.transaction().execute(async (tx) => {
      const job = await jobStore.lockJob(tx, engine, tenantId, jobId);
      if (job?.state !== 'running') return;
      const finishedAt = now();
      if (!(await jobStore.complete(tx, tenantId, jobId, finishedAt))) return;
      await eventStore.append(tx, tenantId, {
        type: 'invoice_job.completed',
        createdAt: finishedAt,
        resourceType: 'invoice_job',
        resourceId: jobId,
        resourceVersion: null,
        data: { job_id: jobId, dry_run: job.dry_run === 1, counts: countsOf(job), amount_difference: new Dec(job.amount_difference).toFixed() },
      });
    });
  }

  return {
    async create(ctx: RequestContext, input: CreateJobInput) {
      if (input.filter) deps.checkFilter(input.filter);
      const explicitIds = input.invoice_ids ?? (input.references ? await resolveReferences(ctx, input.references) : undefined);
      const uniqueIds = explicitIds ? [...new Set(explicitIds)] : undefined;
      const at = now();
      const id = newId('job');
      await db.transaction().execute(async (tx) => {
        await jobStore.insertJob(tx, {
          tenant_id: ctx.auth.tenantId,
          id,
          // A list of ids is matched at once; a filter is matched page by page by the worker.
          state: uniqueIds ? 'running' : 'enumerating',
          dry_run: input.dry_run ? 1 : 0,
          request: JSON.stringify(input),
          reason: input.reason,
          actor_key_id: ctx.auth.keyId,
          enumeration_cursor: null,
          enumeration_lease_until: '',
          matched: 0,
          changed: 0,
          unchanged: 0,
          refused: 0,
          failed: 0,
          cancelled: 0,
          amount_difference: '0',
          created_at: at,
          started_at: at,
          finished_at: null,
        });
        if (uniqueIds) await jobStore.addMatches(tx, ctx.auth.tenantId, id, uniqueIds, null, '', 'running');
        await markIdempotentChange(tx, ctx, `invoice_job/${id}/1`);
      });
      // A job of zero invoices is complete at once.
      if (uniqueIds?.length === 0) await completeIfDone(ctx.auth.tenantId, id);
      return view(ctx.auth.tenantId, await findJob(ctx, id));
    },

    async get(ctx: RequestContext, id: string) {
      return view(ctx.auth.tenantId, await findJob(ctx, id));
    },

    async items(ctx: RequestContext, id: string, query: { outcome?: string; after?: string; limit: number }) {
      await findJob(ctx, id);
      const rows = await jobStore.listItems(db, ctx.auth.tenantId, id, { outcome: query.outcome, afterInvoiceId: query.after, limit: query.limit + 1 });
      const hasMore = rows.length > query.limit;
      const page = hasMore ? rows.slice(0, query.limit) : rows;
      return { object: 'list' as const, job_id: id, data: page.map(presentItem), has_more: hasMore, next_cursor: hasMore ? page[page.length - 1].invoice_id : null };
    },

    async cancel(ctx: RequestContext, id: string) {
      const job = await findJob(ctx, id);
      const cancelled = await db.transaction().execute(async (tx) => {
        const locked = await jobStore.lockJob(tx, engine, ctx.auth.tenantId, id);
        const cancelledAt = now();
        if (!locked || !(await jobStore.cancel(tx, ctx.auth.tenantId, id, cancelledAt))) return false;
        await eventStore.append(tx, ctx.auth.tenantId, { type: 'invoice_job.cancelled', createdAt: cancelledAt, resourceType: 'invoice_job', resourceId: id, resourceVersion: null, data: { job_id: id } });
        return true;
      });
      if (!cancelled) throw new AppError('conflict', `The job "${id}" is ${job.state}; only a running job can be cancelled.`);
      return view(ctx.auth.tenantId, await findJob(ctx, id));
    },

    /** Worker: lists one page of one job's matches into items. False when no job needed matching. */
    async matchNextPage(): Promise<boolean> {
      const job = await jobStore.claimEnumeration(db, engine, now(), leaseFromNow());
      if (!job) return false;
      const request = JSON.parse(job.request) as CreateJobInput;
      const page = await deps.listMatches(jobContext(job), request.filter ?? {}, job.enumeration_cursor ?? undefined);
      // The lease is released ('') so the next page follows at once; 'running' when this was the last page.
      await db.transaction().execute((tx) =>
        jobStore.addMatches(tx, job.tenant_id, job.id, page.ids, page.nextCursor, '', page.nextCursor === null ? 'running' : 'enumerating'),
      );
      if (page.nextCursor === null) await completeIfDone(job.tenant_id, job.id);
      return true;
    },

    /** Worker: claims up to `limit` due items and processes them one by one. Returns how many it claimed. */
    async processDueItems(limit: number): Promise<number> {
      const batch = await jobStore.claimItems(db, engine, now(), leaseFromNow(), limit);
      const jobIds = new Set<string>();
      for (const item of batch) {
        const job = await jobStore.findJob(db, item.tenant_id, item.job_id);
        if (!job) continue;
        jobIds.add(`${item.tenant_id}\u0000${item.job_id}`);
        let result: ItemResult | undefined = item.attempts > 1 ? await alreadyApplied(job, item.invoice_id) : undefined;
        // Matched after the job was cancelled (the matching page was in flight): not processed.
        if (!result && job.state === 'cancelled') result = { outcome: 'cancelled', rule: null, detail: null, version: null, amountDifference: null };
        try {
          result ??= await runItem(job, item.invoice_id);
        } catch (error) {
          // Unexpected (database): the lease runs out and the item is tried again, a few times.
          if (item.attempts < maxItemAttempts) continue;
          result = { outcome: 'failed', rule: 'internal-error', detail: 'The change could not be made (an internal error); try again later.', version: null, amountDifference: null };
          void error;
        }
        await recordResult(item, result);
        // Let requests in between items (SQLite answers synchronously; see worker.ts).
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      for (const key of jobIds) {
        const [tenantId, jobId] = key.split('\u0000');
        await completeIfDone(tenantId, jobId);
      }
      return batch.length;
    },
  };
}

export type JobService = ReturnType<typeof createJobService>;
