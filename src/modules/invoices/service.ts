import type { Db, Engine, Tx } from '../../db/database.js';
import { randomUUID } from 'node:crypto';
import { assertIfMatch, type RequestContext, type WriteOptions } from '../../core/request-context.js';
import { decodeCursor, toPage } from '../../core/paging.js';
import { AppError, editNotAllowed, notFound } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { nowIso } from '../../shared/time.js';
import { auditStore } from '../audit/store.js';
import { billToSnapshot } from '../customers/service.js';
import { customerStore } from '../customers/store.js';
import { eventStore } from '../events/store.js';
import { markIdempotentChange } from '../idempotency/service.js';
import { tenantStore } from '../tenants/store.js';
import { nextInSequence } from '../tenants/sequences.js';
import { assertClientTotals, type ClientTotalCheck } from './domain/client-totals.js';
import { describeKey, keyFromPathId, keyKind, keyValue, type InvoiceKey } from './domain/lookup.js';
import { applyInvoiceWrite, type WriteMode } from './domain/apply-write.js';
import { diffInvoices, toDocument, type Change } from './domain/diff.js';
import { assertEditAllowed, changedFields, type EditPolicy } from './domain/edit-rules.js';
import type { BillTo, Invoice, InvoiceStatus } from './domain/model.js';
import type { InvoiceListQuery, InvoiceWrite } from './schemas.js';
import { invoiceStore } from './store.js';

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
  db: Db;
  engine: Engine;
  maxLinesPerInvoice: number;
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

  function blankInvoice(id: string, identity: { guid: string; serial: number }, currency: string, now: string): Invoice {
    return {
      id,
      ...identity,
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

  /**
   * The id of the tenant's invoice named by `key` (a string is a path id: the native id or the
   * guid). Unknown → 404; a reference shared by several invoices → 409 (name it another way).
   */
  async function resolveId(db: Db | Tx, ctx: RequestContext, key: InvoiceKey | string): Promise<string> {
    const named = typeof key === 'string' ? keyFromPathId(key) : key;
    const kind = keyKind(named);
    if (kind === 'id') return keyValue(named) as string;
    const ids = await invoiceStore.idsBy(db, ctx.auth.tenantId, kind, keyValue(named));
    if (ids.length === 0) throw new AppError('not-found', `No invoice with ${describeKey(named)}.`);
    if (ids.length > 1) throw new AppError('conflict', `Several invoices have ${describeKey(named)}; name the invoice by id, guid or serial.`);
    return ids[0];
  }

  async function loadForWrite(tx: Tx, ctx: RequestContext, key: InvoiceKey | string, options: WriteOptions): Promise<Invoice> {
    const id = await resolveId(tx, ctx, key);
    const current = await invoiceStore.find(tx, engine, ctx.auth.tenantId, id, { lock: true });
    if (!current) throw typeof key === 'string' ? notFound('invoice', key) : new AppError('not-found', `No invoice with ${describeKey(key)}.`);
    assertIfMatch(options.ifMatch, current.version);
    return current;
  }

  /** A new invoice's identity: a random UUID and the tenant's next serial (gapless, inside the transaction). */
  async function newIdentity(tx: Tx, tenantId: string) {
    return { guid: randomUUID(), serial: await nextInSequence(tx, tenantId, 'invoice_serial') };
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
    resolveId,
    newIdentity,
    inTransaction,
    editPolicyOf,

    /** Options: If-Match is meaningless here; clientTotals are checked like an update's. */
    async create(ctx: RequestContext, input: InvoiceWrite, options: Pick<UpdateOptions, 'reason' | 'dryRun' | 'clientTotals'> = {}): Promise<WriteResult> {
      return inTransaction(options, async (tx) => {
        const tenant = await tenantStore.findById(tx, ctx.auth.tenantId);
        const now = nowIso();
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
        await recordVersion(tx, ctx, null, created, { action: 'create', eventType: 'invoice.created', changes }, options.reason ?? input.reason ?? null);
        return { invoice: created, changes, written: true };
      });
    },

    /** By native id or guid (a path id), or by any InvoiceKey. */
    async get(ctx: RequestContext, key: InvoiceKey | string): Promise<Invoice> {
      const id = await resolveId(db, ctx, key);
      const invoice = await invoiceStore.find(db, engine, ctx.auth.tenantId, id);
      if (!invoice) throw typeof key === 'string' ? notFound('invoice', key) : new AppError('not-found', `No invoice with ${describeKey(key)}.`);
      return invoice;
    },

    /** The invoice named by exactly one of id, guid, serial, number or reference (see domain/lookup.ts). */
    async resolve(ctx: RequestContext, key: InvoiceKey): Promise<Invoice> {
      const invoice = await invoiceStore.find(db, engine, ctx.auth.tenantId, await resolveId(db, ctx, key));
      if (!invoice) throw new AppError('not-found', `No invoice with ${describeKey(key)}.`);
      return invoice;
    },

    async list(ctx: RequestContext, query: InvoiceListQuery) {
      const limit = query.limit ?? 20;
      const rows = await invoiceStore.list(db, ctx.auth.tenantId, {
        status: query.status,
        customerId: query.customer_id,
        number: query.number,
        reference: query.reference,
        guid: query.guid?.toLowerCase(),
        serial: query.serial,
        updatedSince: query.updated_since === undefined ? undefined : new Date(query.updated_since).toISOString(),
        beforeId: decodeCursor(query.cursor),
        limit: limit + 1,
      });
      return toPage(rows, limit);
    },

    /** PATCH (mode "patch") and PUT (mode "put"): lock, apply, check the rules, write one version. */
    async update(ctx: RequestContext, key: InvoiceKey | string, body: InvoiceWrite, mode: Exclude<WriteMode, 'create'>, options: UpdateOptions = {}): Promise<WriteResult> {
      return inTransaction(options, async (tx) => {
        const before = await loadForWrite(tx, ctx, key, options);
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
          assertEditAllowed(before, after, changes, await editPolicyOf(tx, ctx.auth.tenantId));
        }
        // After the edit rules (a refused edit names its rule first), before the no-change return
        // (a document sent back unchanged with a wrong figure is still refused).
        assertClientTotals(after, options.clientTotals);
        if (changes.length === 0) return { invoice: before, changes, written: false };
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

/** The per-request state precondition: refuses with the rule's name, the state now and the states accepted. */
export function assertStatusPrecondition(invoice: Invoice, requireStatus: readonly InvoiceStatus[] | undefined): void {
  if (!requireStatus || requireStatus.includes(invoice.status)) return;
  throw editNotAllowed('status-precondition', `This request changes only invoices that are ${requireStatus.join(' or ')}; invoice ${invoice.id} is ${invoice.status}. Nothing was changed.`, undefined, {
    status_now: invoice.status,
    required_status: [...requireStatus],
  });
}

/** Replace semantics on top of the merge: every current key the body's map does not name is removed. */
function withMetadataReplaced(before: Invoice, input: InvoiceWrite): InvoiceWrite {
  if (input.metadata === undefined || input.metadata === null) return input;
  const removed = Object.fromEntries(Object.keys(before.metadata).filter((key) => !(key in input.metadata!)).map((key) => [key, null]));
  return { ...input, metadata: { ...removed, ...input.metadata } };
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

/** Unique-index races (two writers taking one invoice number) become a 409, not a 500. */
export function translateConstraintError(error: unknown): unknown {
  const code = (error as { code?: string })?.code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new AppError('conflict', 'The change conflicts with another record (a unique value is already taken).');
  }
  return error;
}
