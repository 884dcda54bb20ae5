import type { Db, Engine, Tx } from '../../db/database.js';
import type { RequestContext, WriteOptions } from '../../core/request-context.js';
import type { Page } from '../../core/paging.js';
import { randomUUID } from 'node:crypto';
import { AppError, editNotAllowed, notFound } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { blankPlainTextHeader } from '../../shared/invoice-fields.js';
import { billToSnapshot } from '../customers/service.js';
import { customerStore } from '../customers/store.js';
import { tenantStore } from '../tenants/store.js';
import { nextInSequence } from '../tenants/sequences.js';
import { assertClientTotals, type ClientTotalCheck } from './domain/client-totals.js';
import { describeKey, keyFromPathId, keyKind, keyValue, type InvoiceKey } from './domain/lookup.js';
import { applyInvoiceWrite, type WriteMode } from './domain/apply-write.js';
import { diffInvoices, toDocument, type Change } from './domain/diff.js';
import { assertEditAllowed, changedFields } from './domain/edit-rules.js';
import type { BillTo, Invoice, InvoiceStatus } from './domain/model.js';
import type { InvoiceWriteCommand } from './domain/write-command.js';
import { decodeListCursor, defaultInvoiceSort, encodeListCursor, maxListLimit, type InvoiceListFilter } from './list-filter.js';
import { listInvoiceIds, sortValueOf } from './list-store.js';
import { invoiceStore } from './store.js';
import type { WriteKernel, WriteResult } from './versioning.js';

export type { WriteResult } from './versioning.js';

/**
 * What a caller may add to an update besides the body: the client's If-Match/reason/dry run,
 * and the per-request rules dialects need (all usable from /v1 too).
 */
export interface UpdateOptions extends WriteOptions {
  /** Refuse (422 `status-precondition`, nothing written) unless the invoice is in one of these states. */
  requireStatus?: readonly InvoiceStatus[];
  /** Top-level fields an update may change whatever `requireStatus` says (Procountor: notes in any state). */
  requireStatusExempt?: readonly string[];
  /** Figures the client sent, checked against the written invoice (422 `total-mismatch`); never stored. */
  clientTotals?: readonly ClientTotalCheck[];
  /** `metadata` in the body replaces the whole map instead of merging key by key. */
  replaceMetadata?: boolean;
  /** The attachment ids the invoice keeps; the others are detached in the same version. */
  keepAttachments?: { ids: readonly string[]; pointer: string };
}

export interface InvoiceServiceDeps {
  /** For reads; every write goes through the kernel. */
  db: Db;
  engine: Engine;
  kernel: WriteKernel;
  maxLinesPerInvoice: number;
}

/** Create, read, list and update (PATCH/PUT) invoices: the native API's use cases. */
export function createInvoiceService(deps: InvoiceServiceDeps) {
  const { db, engine, kernel } = deps;
  const { clock, inTransaction, withLockedInvoice, recordVersion, editPolicyOf } = kernel;

  function blankInvoice(id: string, identity: { guid: string; serial: number }, currency: string, now: string): Invoice {
    return {
      id,
      ...identity,
      object: 'invoice',
      number: null,
      ...blankPlainTextHeader(),
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

  /**
   * The id of the tenant's invoice named by `key` (a string is a path id: the native id or the
   * guid). Unknown → 404; a reference shared by several invoices → 409 (name it another way).
   */
  async function resolveId(ctx: RequestContext, key: InvoiceKey | string): Promise<string> {
    const named = typeof key === 'string' ? keyFromPathId(key) : key;
    const kind = keyKind(named);
    if (kind === 'id') return keyValue(named) as string;
    const ids = await invoiceStore.idsBy(db, ctx.auth.tenantId, kind, keyValue(named));
    if (ids.length === 0) throw new AppError('not-found', `No invoice with ${describeKey(named)}.`);
    if (ids.length > 1) throw new AppError('conflict', `Several invoices have ${describeKey(named)}; name the invoice by id, guid or serial.`);
    return ids[0];
  }

  /** A new invoice's identity: a random UUID and the tenant's next serial (gapless, inside the transaction). */
  async function newIdentity(tx: Tx, tenantId: string) {
    return { guid: randomUUID(), serial: await nextInSequence(tx, tenantId, 'invoice_serial') };
  }

  async function get(ctx: RequestContext, key: InvoiceKey | string): Promise<Invoice> {
    const invoice = await invoiceStore.find(db, engine, ctx.auth.tenantId, await resolveId(ctx, key));
    if (!invoice) throw typeof key === 'string' ? notFound('invoice', key) : new AppError('not-found', `No invoice with ${describeKey(key)}.`);
    return invoice;
  }

  return {
    resolveId,
    newIdentity,
    /** By native id or guid (a path id), or by any InvoiceKey. */
    get,
    /** The invoice named by exactly one of id, guid, serial, number or reference (see domain/lookup.ts). */
    resolve: (ctx: RequestContext, key: InvoiceKey) => get(ctx, key),

    /** Options: If-Match is meaningless here; clientTotals are checked like an update's. */
    async create(ctx: RequestContext, input: InvoiceWriteCommand, options: Pick<UpdateOptions, 'reason' | 'dryRun' | 'clientTotals'> = {}): Promise<WriteResult> {
      return inTransaction(options, async (tx): Promise<WriteResult> => {
        const tenant = await tenantStore.findById(tx, ctx.auth.tenantId);
        const now = clock.nowIso();
        const blank = blankInvoice(newId('inv'), await newIdentity(tx, ctx.auth.tenantId), tenant?.base_currency ?? 'EUR', now);
        const customer = await linkedCustomer(tx, ctx, blank, input);
        const created = applyInvoiceWrite(blank, input, {
          mode: 'create',
          maxLines: deps.maxLinesPerInvoice,
          newLineId: () => newId('lin'),
          linkedCustomer: customer,
        });
        assertClientTotals(created, options.clientTotals);
        created.version = 1;
        await assertNumberFree(tx, ctx, null, created);
        const changes: Change[] = [{ path: '', from: null, to: toDocument(created) }];
        await recordVersion(tx, ctx, null, created, { action: 'create', eventType: 'invoice.created', changes }, options.reason ?? input.reason ?? null, { last: true });
        return { invoice: created, changes, written: true };
      });
    },

    /** A page of invoices matching the filter, in its sort (newest first by default), cursor-paginated. */
    async list(ctx: RequestContext, filter: InvoiceListFilter): Promise<Page<Invoice>> {
      const limit = Math.min(Math.max(filter.limit ?? 20, 1), maxListLimit);
      const sort = filter.sort ?? defaultInvoiceSort;
      const found = await invoiceStore.list(db, engine, ctx.auth.tenantId, filter, {
        sort,
        after: decodeListCursor(filter.cursor, sort),
        limit: limit + 1,
        today: clock.today(),
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

    /** Ids of the invoices matching the filter, oldest first, after `afterId` (bulk jobs walk every match this way). */
    async listIds(ctx: RequestContext, filter: InvoiceListFilter, afterId: string | undefined, limit: number): Promise<string[]> {
      return listInvoiceIds(db, engine, ctx.auth.tenantId, filter, { afterId, limit, today: clock.today() });
    },

    /** PATCH (mode "patch") and PUT (mode "put"): lock, apply, check the rules, write one version. */
    async update(ctx: RequestContext, key: InvoiceKey | string, body: InvoiceWriteCommand, mode: Exclude<WriteMode, 'create'>, options: UpdateOptions = {}): Promise<WriteResult> {
      return withLockedInvoice(ctx, await resolveId(ctx, key), options, async (tx, before): Promise<WriteResult> => {
        if (!options.requireStatusExempt) assertStatusPrecondition(before, options.requireStatus);
        const input = options.replaceMetadata ? withMetadataReplaced(before, body) : body;
        const customer = await linkedCustomer(tx, ctx, before, input);
        const after = applyInvoiceWrite(before, input, {
          mode,
          maxLines: deps.maxLinesPerInvoice,
          newLineId: () => newId('lin'),
          linkedCustomer: customer,
        });
        if (options.keepAttachments) after.attachments = keptAttachments(before, options.keepAttachments);
        const changes = diffInvoices(before, after);
        if (changes.length > 0) {
          const exempt = options.requireStatusExempt;
          if (exempt && changedFields(changes).some((field) => !exempt.includes(field))) assertStatusPrecondition(before, options.requireStatus);
          assertEditAllowed(before, after, changes, await editPolicyOf(ctx.auth.tenantId, tx));
        }
        // After the edit rules (a refused edit names its rule first), before the no-change return
        // (a document sent back unchanged with a wrong figure is still refused).
        assertClientTotals(after, options.clientTotals);
        if (changes.length === 0) return { invoice: before, changes, written: false };
        await assertNumberFree(tx, ctx, before, after);
        after.version = before.version + 1;
        after.updated_at = clock.nowIso();
        // A dry run writes too, then inTransaction rolls everything back.
        await recordVersion(tx, ctx, before, after, { action: 'update', eventType: 'invoice.updated', changes }, options.reason ?? input.reason ?? null, { last: true });
        return { invoice: after, changes, written: true };
      }, { optimistic: true });
    },
  };
}

export type InvoiceService = ReturnType<typeof createInvoiceService>;

/** The per-request state precondition: refuses with the rule's name, the state now and the states accepted. */
export function assertStatusPrecondition(invoice: Invoice, requireStatus: readonly InvoiceStatus[] | undefined): void {
  if (!requireStatus || requireStatus.includes(invoice.status)) return;
  throw editNotAllowed('status-precondition', `This request changes only invoices that are ${requireStatus.join(' or ')}; invoice ${invoice.id} is ${invoice.status}. Nothing was changed.`, undefined, {
    status_now: invoice.status,
    required_status: [...requireStatus],
  });
}

/** Replace semantics on top of the merge: every current key the body's map does not name is removed. */
function withMetadataReplaced(before: Invoice, input: InvoiceWriteCommand): InvoiceWriteCommand {
  const metadata = input.metadata;
  if (metadata === undefined || metadata === null) return input;
  const removed = Object.fromEntries(Object.keys(before.metadata).filter((key) => !(key in metadata)).map((key) => [key, null]));
  return { ...input, metadata: { ...removed, ...metadata } };
}

function keptAttachments(before: Invoice, keep: { ids: readonly string[]; pointer: string }) {
  const known = new Set(before.attachments.map((attachment) => attachment.id));
  const unknown = keep.ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new AppError('invalid-reference', `File "${unknown[0]}" is not attached to this invoice (upload it to the invoice first).`, {
      errors: unknown.map((id) => ({ pointer: keep.pointer, detail: `no attachment "${id}" on this invoice` })),
    });
  }
  const wanted = new Set(keep.ids);
  return before.attachments.filter((attachment) => wanted.has(attachment.id));
}
