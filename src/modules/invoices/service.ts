import type { Db, Engine, Tx } from '../../db/database.js';
import { assertIfMatch, type RequestContext, type WriteOptions } from '../../core/request-context.js';
import type { Page } from '../../core/paging.js';
import { AppError, notFound } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { nowIso, todayDate } from '../../shared/time.js';
import { auditStore } from '../audit/store.js';
import { billToSnapshot } from '../customers/service.js';
import { customerStore } from '../customers/store.js';
import { eventStore } from '../events/store.js';
import { markIdempotentChange } from '../idempotency/service.js';
import { tenantStore } from '../tenants/store.js';
import { applyInvoiceWrite, type WriteMode } from './domain/apply-write.js';
import { diffInvoices, toDocument, type Change } from './domain/diff.js';
import { assertEditAllowed, type EditPolicy } from './domain/edit-rules.js';
import type { BillTo, Invoice } from './domain/model.js';
import { decodeListCursor, defaultInvoiceSort, encodeListCursor, maxListLimit, type InvoiceListFilter } from './list-filter.js';
import { sortValueOf } from './list-store.js';
import type { InvoiceWrite } from './schemas.js';
import { invoiceStore } from './store.js';

export interface InvoiceServiceDeps {
  db: Db;
  engine: Engine;
  maxLinesPerInvoice: number;
  /** Today's business date (for the overdue payment status); the system clock when absent. */
  today?: () => string;
}

export interface WriteResult {
  invoice: Invoice;
  changes: Change[];
  /** False for a dry run or an update that changed nothing (no new version). */
  written: boolean;
}

/** A version written by any use case: the audit event and the outbox event go with it. */
export interface VersionRecord {
  action: string;
  eventType: string;
  changes: Change[];
  eventData?: Record<string, unknown>;
  /** Further outbox event types for the same version (e.g. a payment that also makes the invoice paid). */
  alsoEmit?: string[];
}

export function createInvoiceService(deps: InvoiceServiceDeps) {
  const { db, engine } = deps;
  const today = deps.today ?? todayDate;

  function blankInvoice(id: string, currency: string, now: string): Invoice {
    return {
      id,
      object: 'invoice',
      number: null,
      reference: null,
      purchase_order: null,
      status: 'draft',
      currency,
      exchange_rate: null,
      issue_date: null,
      due_date: null,
      payment_terms: null,
      memo: null,
      internal_note: null,
      metadata: {},
      custom_fields: {},
      external_refs: {},
      customer_id: null,
      bill_to: null,
      tax_mode: 'exclusive',
      rounding_mode: 'half_up',
      lines: [],
      attachments: [],
      subtotal: '0',
      discount_total: '0',
      tax_total: '0',
      total: '0',
      tax_breakdown: [],
      amount_paid: '0',
      amount_credited: '0',
      balance: '0',
      version: 0,
      created_at: now,
      updated_at: now,
      finalized_at: null,
      voided_at: null,
      revision_of: null,
      revised_by: null,
    };
  }

  /** Loads the customer a write links, so the domain can copy its bill-to snapshot. */
  async function linkedCustomer(tx: Tx, ctx: RequestContext, current: Invoice, input: InvoiceWrite): Promise<BillTo | undefined> {
    if (!input.customer_id || input.customer_id === current.customer_id) return undefined;
    const customer = await customerStore.find(tx, ctx.auth.tenantId, input.customer_id);
    if (!customer) {
      throw new AppError('invalid-reference', `No customer "${input.customer_id}" exists.`, {
        errors: [{ pointer: '/customer_id', detail: 'unknown customer' }],
      });
    }
    return billToSnapshot(customer);
  }

  async function assertNumberFree(tx: Tx, ctx: RequestContext, before: Invoice | null, after: Invoice) {
    if (after.number === null || after.number === before?.number) return;
    if (await invoiceStore.numberTaken(tx, ctx.auth.tenantId, after.number, after.id)) {
      throw new AppError('conflict', `Invoice number "${after.number}" is already used by another invoice.`, {
        errors: [{ pointer: '/number', detail: 'already used' }],
      });
    }
  }

  /**
   * Persists a new version: invoice row and changed lines, one audit event, one outbox
   * event, all inside the caller's transaction. Every use case that changes an invoice
   * (update, finalize, payment, …) ends here, so none can skip the audit or the event.
   */
  async function recordVersion(tx: Tx, ctx: RequestContext, before: Invoice | null, after: Invoice, record: VersionRecord, reason: string | null) {
    if (before) await invoiceStore.update(tx, ctx.auth.tenantId, before, after);
    else await invoiceStore.insert(tx, ctx.auth.tenantId, after);
    await auditStore.append(tx, ctx.auth.tenantId, {
      invoiceId: after.id,
      version: after.version,
      action: record.action,
      actorKeyId: ctx.auth.keyId,
      requestId: ctx.requestId,
      reason,
      changes: record.changes,
      createdAt: after.updated_at,
    });
    for (const type of [record.eventType, ...(record.alsoEmit ?? [])]) {
      await eventStore.append(tx, ctx.auth.tenantId, {
        type,
        resourceType: 'invoice',
        resourceId: after.id,
        resourceVersion: after.version,
        data: { invoice_id: after.id, version: after.version, changes: record.changes, ...record.eventData },
      });
    }
    // Ties this change to the request's Idempotency-Key in the same transaction.
    await markIdempotentChange(tx, ctx, `invoice/${after.id}/${after.version}`);
  }

  /** The tail of a use case that derives the next state itself: version + 1, timestamp, diff, recordVersion. */
  async function recordChange(tx: Tx, ctx: RequestContext, before: Invoice, next: Invoice, record: Omit<VersionRecord, 'changes'>, reason: string | null): Promise<WriteResult> {
    const after: Invoice = { ...next, version: before.version + 1, updated_at: nowIso() };
    const changes = diffInvoices(before, after);
    await recordVersion(tx, ctx, before, after, { ...record, changes }, reason);
    return { invoice: after, changes, written: true };
  }

  async function loadForWrite(tx: Tx, ctx: RequestContext, id: string, options: WriteOptions): Promise<Invoice> {
    const current = await invoiceStore.find(tx, engine, ctx.auth.tenantId, id, { lock: true });
    if (!current) throw notFound('invoice', id);
    assertIfMatch(options.ifMatch, current.version);
    return current;
  }

  async function editPolicyOf(tx: Tx | Db, tenantId: string): Promise<EditPolicy> {
    const tenant = await tenantStore.findById(tx, tenantId);
    return (tenant?.edit_policy ?? 'until_paid') as EditPolicy;
  }

  /** Rolls back after computing, for dry runs. */
  class DryRunRollback extends Error {
    constructor(readonly result: WriteResult) {
      super('dry run');
    }
  }

  async function inTransaction(options: WriteOptions, work: (tx: Tx) => Promise<WriteResult>): Promise<WriteResult> {
    try {
      return await db.transaction().execute(async (tx) => {
        const result = await work(tx);
        if (options.dryRun) throw new DryRunRollback({ ...result, written: false });
        return result;
      });
    } catch (error) {
      if (error instanceof DryRunRollback) return error.result;
      throw translateConstraintError(error);
    }
  }

  return {
    db,
    engine,
    recordVersion,
    recordChange,
    loadForWrite,
    inTransaction,
    editPolicyOf,

    async create(ctx: RequestContext, input: InvoiceWrite, options: WriteOptions = {}): Promise<WriteResult> {
      return inTransaction(options, async (tx) => {
        const tenant = await tenantStore.findById(tx, ctx.auth.tenantId);
        const now = nowIso();
        const blank = blankInvoice(newId('inv'), tenant?.base_currency ?? 'EUR', now);
        const customer = await linkedCustomer(tx, ctx, blank, input);
        const created = applyInvoiceWrite(blank, input, {
          mode: 'create',
          maxLines: deps.maxLinesPerInvoice,
          newLineId: () => newId('lin'),
          linkedCustomer: customer,
        });
        created.version = 1;
        await assertNumberFree(tx, ctx, null, created);
        const changes: Change[] = [{ path: '', from: null, to: toDocument(created) }];
        await recordVersion(tx, ctx, null, created, { action: 'create', eventType: 'invoice.created', changes }, options.reason ?? input.reason ?? null);
        return { invoice: created, changes, written: true };
      });
    },

    async get(ctx: RequestContext, id: string): Promise<Invoice> {
      const invoice = await invoiceStore.find(db, engine, ctx.auth.tenantId, id);
      if (!invoice) throw notFound('invoice', id);
      return invoice;
    },

    /** A page of invoices matching the filter, in its sort (newest first by default), cursor-paginated. */
    async list(ctx: RequestContext, filter: InvoiceListFilter): Promise<Page<Invoice>> {
      const limit = Math.min(Math.max(filter.limit ?? 20, 1), maxListLimit);
      const sort = filter.sort ?? defaultInvoiceSort;
      const found = await invoiceStore.list(db, engine, ctx.auth.tenantId, filter, {
        sort,
        after: decodeListCursor(filter.cursor, sort),
        limit: limit + 1,
        today: today(),
      });
      const hasMore = found.length > limit;
      const page = hasMore ? found.slice(0, limit) : found;
      const last = page[page.length - 1];
      return {
        object: 'list',
        data: page.map(({ invoice }) => invoice),
        has_more: hasMore,
        next_cursor: hasMore ? encodeListCursor(sort, sortValueOf(last.row, sort.field), last.row.id) : null,
      };
    },

    /** PATCH (mode "patch") and PUT (mode "put"): lock, apply, check the rules, write one version. */
    async update(ctx: RequestContext, id: string, input: InvoiceWrite, mode: Exclude<WriteMode, 'create'>, options: WriteOptions = {}): Promise<WriteResult> {
      return inTransaction(options, async (tx) => {
        const before = await loadForWrite(tx, ctx, id, options);
        const customer = await linkedCustomer(tx, ctx, before, input);
        const after = applyInvoiceWrite(before, input, {
          mode,
          maxLines: deps.maxLinesPerInvoice,
          newLineId: () => newId('lin'),
          linkedCustomer: customer,
        });
        const changes = diffInvoices(before, after);
        if (changes.length === 0) return { invoice: before, changes, written: false };
        assertEditAllowed(before, after, changes, await editPolicyOf(tx, ctx.auth.tenantId));
        await assertNumberFree(tx, ctx, before, after);
        after.version = before.version + 1;
        after.updated_at = nowIso();
        // A dry run writes too, then inTransaction rolls everything back.
        await recordVersion(tx, ctx, before, after, { action: 'update', eventType: 'invoice.updated', changes }, options.reason ?? input.reason ?? null);
        return { invoice: after, changes, written: true };
      });
    },
  };
}

export type InvoiceService = ReturnType<typeof createInvoiceService>;

/** Unique-index races (two writers taking one invoice number) become a 409, not a 500. */
export function translateConstraintError(error: unknown): unknown {
  const code = (error as { code?: string })?.code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new AppError('conflict', 'The change conflicts with another record (a unique value is already taken).');
  }
  return error;
}
