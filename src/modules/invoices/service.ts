import type { Db, Engine, Tx } from '../../db/database.js';
import type { RequestContext, WriteOptions } from '../../core/request-context.js';
import type { Page } from '../../core/paging.js';
import { AppError, notFound } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { billToSnapshot } from '../customers/service.js';
import { customerStore } from '../customers/store.js';
import { tenantStore } from '../tenants/store.js';
import { applyInvoiceWrite, type WriteMode } from './domain/apply-write.js';
import { diffInvoices, toDocument, type Change } from './domain/diff.js';
import { assertEditAllowed } from './domain/edit-rules.js';
import type { BillTo, Invoice } from './domain/model.js';
import { decodeListCursor, defaultInvoiceSort, encodeListCursor, maxListLimit, type InvoiceListFilter } from './list-filter.js';
import { sortValueOf } from './list-store.js';
import type { InvoiceWriteCommand } from './domain/write-command.js';
import { invoiceStore } from './store.js';
import type { WriteKernel, WriteResult } from './versioning.js';

export type { WriteResult } from './versioning.js';

export interface InvoiceServiceDeps {
  /** For reads; every write goes through the kernel. */
  db: Db;
  engine: Engine;
  kernel: WriteKernel;
  maxLinesPerInvoice: number;
  /** Today's business date (for the overdue payment status); the system clock when absent. */
  today?: () => string;
}

/** Create, read, list and update (PATCH/PUT) invoices: the native API's use cases. */
export function createInvoiceService(deps: InvoiceServiceDeps) {
  const { db, engine, kernel } = deps;
  const { clock, inTransaction, withLockedInvoice, recordVersion, editPolicyOf } = kernel;
  const today = deps.today ?? (() => clock.today());

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
  async function linkedCustomer(tx: Tx, ctx: RequestContext, current: Invoice, input: InvoiceWriteCommand): Promise<BillTo | undefined> {
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

  return {
    async create(ctx: RequestContext, input: InvoiceWriteCommand, options: WriteOptions = {}): Promise<WriteResult> {
      return inTransaction(options, async (tx): Promise<WriteResult> => {
        const tenant = await tenantStore.findById(tx, ctx.auth.tenantId);
        const now = clock.nowIso();
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
    async update(ctx: RequestContext, id: string, input: InvoiceWriteCommand, mode: Exclude<WriteMode, 'create'>, options: WriteOptions = {}): Promise<WriteResult> {
      return withLockedInvoice(ctx, id, options, async (tx, before): Promise<WriteResult> => {
        const customer = await linkedCustomer(tx, ctx, before, input);
        const after = applyInvoiceWrite(before, input, {
          mode,
          maxLines: deps.maxLinesPerInvoice,
          newLineId: () => newId('lin'),
          linkedCustomer: customer,
        });
        const changes = diffInvoices(before, after);
        if (changes.length === 0) return { invoice: before, changes, written: false };
        assertEditAllowed(before, after, changes, await editPolicyOf(ctx.auth.tenantId, tx));
        await assertNumberFree(tx, ctx, before, after);
        after.version = before.version + 1;
        after.updated_at = clock.nowIso();
        // A dry run writes too, then inTransaction rolls everything back.
        await recordVersion(tx, ctx, before, after, { action: 'update', eventType: 'invoice.updated', changes }, options.reason ?? input.reason ?? null);
        return { invoice: after, changes, written: true };
      });
    },
  };
}

export type InvoiceService = ReturnType<typeof createInvoiceService>;
