import { sql } from 'kysely';
import type { Db, DbOrTx, Engine, Tx } from '../../db/database.js';
import { lockForUpdate } from '../../db/database.js';
import type { InvoiceJobItemsTable, InvoiceJobsTable } from '../../db/schema.js';

/** SQL only for the job tables (invoice_jobs, invoice_job_items); the rules live in ./service.ts. */

export type ItemOutcome = 'changed' | 'unchanged' | 'refused' | 'failed' | 'cancelled';
export const itemOutcomes: readonly ItemOutcome[] = ['changed', 'unchanged', 'refused', 'failed', 'cancelled'];

export interface ClaimedItem {
  tenant_id: string;
  job_id: string;
  invoice_id: string;
  attempts: number;
}

export interface ItemResult {
  outcome: ItemOutcome;
  rule: string | null;
  detail: string | null;
  version: number | null;
  amountDifference: string | null;
}

export const jobStore = {
  async insertJob(db: DbOrTx, row: InvoiceJobsTable): Promise<void> {
    await db.insertInto('invoice_jobs').values(row).execute();
  },

  findJob: (db: DbOrTx, tenantId: string, id: string) =>
    db.selectFrom('invoice_jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst(),

  async lockJob(tx: Tx, engine: Engine, tenantId: string, id: string): Promise<InvoiceJobsTable | undefined> {
    return lockForUpdate(engine, tx.selectFrom('invoice_jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id)).executeTakeFirst();
  },

  /** A job whose matching is unfinished and not leased by a live worker; the lease is taken in the same transaction. */
  async claimEnumeration(db: Db, engine: Engine, now: string, leaseUntil: string): Promise<InvoiceJobsTable | undefined> {
    return db.transaction().execute(async (tx) => {
      let query = tx.selectFrom('invoice_jobs').selectAll().where('state', '=', 'enumerating').where('enumeration_lease_until', '<=', now).orderBy('created_at').limit(1);
      if (engine === 'postgres') query = query.forUpdate().skipLocked();
      const job = await query.executeTakeFirst();
      if (!job) return undefined;
      await tx.updateTable('invoice_jobs').set({ enumeration_lease_until: leaseUntil }).where('tenant_id', '=', job.tenant_id).where('id', '=', job.id).execute();
      return { ...job, enumeration_lease_until: leaseUntil };
    });
  },

  /**
   * One page of matches: the items (an invoice already listed is skipped, so a page redone after a
   * crash adds nothing twice), the count, where the next page starts and the job's state, in the
   * caller's transaction.
   */
  async addMatches(tx: Tx, tenantId: string, jobId: string, invoiceIds: string[], nextCursor: string | null, leaseUntil: string, state: 'enumerating' | 'running'): Promise<void> {
    let added = 0;
    // Chunks keep each statement under the engines' parameter limits.
    for (let start = 0; start < invoiceIds.length; start += 500) {
      const rows = invoiceIds.slice(start, start + 500).map((invoiceId) => ({
        tenant_id: tenantId, job_id: jobId, invoice_id: invoiceId, state: 'pending', lease_until: '', attempts: 0,
        outcome: null, rule: null, detail: null, version: null, amount_difference: null, finished_at: null,
      }));
      const result = await tx.insertInto('invoice_job_items').values(rows).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      added += Number(result.numInsertedOrUpdatedRows ?? 0);
    }
    await tx
      .updateTable('invoice_jobs')
      .set((eb) => ({ matched: eb('matched', '+', added), enumeration_cursor: nextCursor, enumeration_lease_until: leaseUntil, state }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', jobId)
      .where('state', 'in', ['enumerating', 'running'])
      .execute();
  },

  /** Due items of running jobs, leased to this worker (PostgreSQL: SKIP LOCKED, so several processes share the work). */
  async claimItems(db: Db, engine: Engine, now: string, leaseUntil: string, limit: number): Promise<ClaimedItem[]> {
    return db.transaction().execute(async (tx) => {
      let query = tx
        .selectFrom('invoice_job_items')
        .select(['tenant_id', 'job_id', 'invoice_id', 'attempts'])
        .where('state', '=', 'pending')
        .where('lease_until', '<=', now)
        .orderBy('lease_until')
        .limit(limit);
      if (engine === 'postgres') query = query.forUpdate().skipLocked();
      const due = await query.execute();
      for (const item of due) {
        await tx
          .updateTable('invoice_job_items')
          .set({ lease_until: leaseUntil, attempts: item.attempts + 1 })
          .where('tenant_id', '=', item.tenant_id)
          .where('job_id', '=', item.job_id)
          .where('invoice_id', '=', item.invoice_id)
          .execute();
      }
      return due.map((item) => ({ ...item, attempts: item.attempts + 1 }));
    });
  },

  /**
   * Records an item's outcome and bumps the job's count, once: an item already done (another
   * worker, or a redo after a crash) changes nothing. Returns false in that case.
   */
  async recordOutcome(tx: Tx, item: ClaimedItem, result: ItemResult, now: string): Promise<boolean> {
    const updated = await tx
      .updateTable('invoice_job_items')
      .set({ state: 'done', outcome: result.outcome, rule: result.rule, detail: result.detail, version: result.version, amount_difference: result.amountDifference, finished_at: now })
      .where('tenant_id', '=', item.tenant_id)
      .where('job_id', '=', item.job_id)
      .where('invoice_id', '=', item.invoice_id)
      .where('state', '=', 'pending')
      // A pending item's outcome is null. Saying so lets invoice_job_items_by_outcome (tenant, job,
      // state, outcome, invoice_id) seek straight to the row; without it PostgreSQL picked that index
      // and walked every pending item of the job per update (180 ms each at 340k pending).
      .where('outcome', 'is', null)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return false;
    await tx
      .updateTable('invoice_jobs')
      .set((eb) => ({ [result.outcome]: eb(result.outcome, '+', 1) }))
      .where('tenant_id', '=', item.tenant_id)
      .where('id', '=', item.job_id)
      .execute();
    return true;
  },

  async setAmountDifference(tx: Tx, tenantId: string, jobId: string, amount: string): Promise<void> {
    await tx.updateTable('invoice_jobs').set({ amount_difference: amount }).where('tenant_id', '=', tenantId).where('id', '=', jobId).execute();
  },

  async hasPendingItems(db: DbOrTx, tenantId: string, jobId: string): Promise<boolean> {
    const row = await db.selectFrom('invoice_job_items').select('invoice_id').where('tenant_id', '=', tenantId).where('job_id', '=', jobId).where('state', '=', 'pending').limit(1).executeTakeFirst();
    return row !== undefined;
  },

  /** running → completed, once (the caller emits the event only when this returns true). */
  async complete(tx: Tx, tenantId: string, jobId: string, now: string): Promise<boolean> {
    const result = await tx.updateTable('invoice_jobs').set({ state: 'completed', finished_at: now }).where('tenant_id', '=', tenantId).where('id', '=', jobId).where('state', '=', 'running').executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Running or enumerating → cancelled; the items not yet processed are closed as cancelled. */
  async cancel(tx: Tx, tenantId: string, jobId: string, now: string): Promise<boolean> {
    const result = await tx
      .updateTable('invoice_jobs')
      .set({ state: 'cancelled', finished_at: now })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', jobId)
      .where('state', 'in', ['enumerating', 'running'])
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    const closed = await tx
      .updateTable('invoice_job_items')
      .set({ state: 'done', outcome: 'cancelled', finished_at: now })
      .where('tenant_id', '=', tenantId)
      .where('job_id', '=', jobId)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    await tx
      .updateTable('invoice_jobs')
      .set((eb) => ({ cancelled: eb('cancelled', '+', Number(closed.numUpdatedRows)) }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', jobId)
      .execute();
    return true;
  },

  /** A page of a job's items in invoice id order, optionally of one outcome. */
  async listItems(db: DbOrTx, tenantId: string, jobId: string, options: { outcome?: string; afterInvoiceId?: string; limit: number }): Promise<InvoiceJobItemsTable[]> {
    let query = db.selectFrom('invoice_job_items').selectAll().where('tenant_id', '=', tenantId).where('job_id', '=', jobId);
    if (options.outcome === 'pending') query = query.where('state', '=', 'pending').where('outcome', 'is', null);
    else if (options.outcome !== undefined) query = query.where('state', '=', 'done').where('outcome', '=', options.outcome);
    if (options.afterInvoiceId !== undefined) query = query.where('invoice_id', '>', options.afterInvoiceId);
    return query.orderBy('invoice_id').limit(options.limit).execute();
  },

  /** Refusals grouped by rule (for the summary and the dry run preview). */
  async refusalsByRule(db: DbOrTx, tenantId: string, jobId: string): Promise<{ rule: string; count: number }[]> {
    const rows = await db
      .selectFrom('invoice_job_items')
      .select(['rule', sql<number>`count(*)`.as('count')])
      .where('tenant_id', '=', tenantId)
      .where('job_id', '=', jobId)
      .where('state', '=', 'done')
      .where('outcome', 'in', ['refused', 'failed'])
      .groupBy('rule')
      .orderBy('rule')
      .execute();
    return rows.map((row) => ({ rule: row.rule ?? 'unknown', count: Number(row.count) }));
  },
};
