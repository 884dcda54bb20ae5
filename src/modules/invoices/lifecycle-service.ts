import { randomUUID } from 'node:crypto';
import type { Tx } from '../../db/database.js';
import type { RequestContext, WriteOptions } from '../../core/request-context.js';
import { newId } from '../../shared/ids.js';
import { Dec } from '../../shared/money.js';
import { addDays, nowIso, todayDate } from '../../shared/time.js';
import { fullCreditFor, type CreditNote } from '../credit-notes/domain.js';
import { creditNoteStore } from '../credit-notes/store.js';
import { formatSequenceNumber, nextInSequence } from '../tenants/sequences.js';
import { tenantStore } from '../tenants/store.js';
import { toDocument } from './domain/diff.js';
import { editabilityOf, type Editability } from './domain/editability.js';
import { assertAllowed, finalized, settled, voided } from './domain/lifecycle.js';
import type { Invoice } from './domain/model.js';
import type { InvoiceService, VersionRecord, WriteResult } from './service.js';
import { invoiceStore } from './store.js';

/**
 * The use cases that change an invoice's status: finalize, void, delete, revise. Each asks
 * the lifecycle table (domain/lifecycle.ts) first and writes through the invoice service's
 * recordVersion, so every transition is one version with its audit and outbox events.
 */
export function createLifecycleService(invoices: InvoiceService) {
  const { recordVersion, loadForWrite, inTransaction, editPolicyOf } = invoices;

  const commit = (tx: Tx, ctx: RequestContext, before: Invoice, next: Invoice, record: Omit<VersionRecord, 'changes'>, options: WriteOptions) =>
    invoices.recordChange(tx, ctx, before, next, record, options.reason ?? null);

  async function takeInvoiceNumber(tx: Tx, ctx: RequestContext, invoiceId: string): Promise<string> {
    const tenant = await tenantStore.findById(tx, ctx.auth.tenantId);
    const prefix = tenant?.invoice_number_prefix ?? 'INV-';
    // A number a client set by hand on another invoice is skipped, not reused.
    for (;;) {
      const number = formatSequenceNumber(prefix, await nextInSequence(tx, ctx.auth.tenantId, 'invoice'));
      if (!(await invoiceStore.numberTaken(tx, ctx.auth.tenantId, number, invoiceId))) return number;
    }
  }

  return {
    async finalize(ctx: RequestContext, id: string, options: WriteOptions = {}): Promise<WriteResult> {
      return inTransaction(options, async (tx) => {
        const before = await loadForWrite(tx, ctx, id, options);
        assertAllowed(before, 'finalize', await editPolicyOf(tx, ctx.auth.tenantId));
        const issueDate = before.issue_date ?? todayDate();
        const dueDate = before.due_date ?? (before.payment_terms ? addDays(issueDate, before.payment_terms.net_days) : null);
        const number = before.number ?? (await takeInvoiceNumber(tx, ctx, before.id));
        const now = nowIso();
        // Lock the original this revision supersedes before writing anything: every writer takes
        // invoice row locks first and the tenant's outbox lock last (events/store.ts), so no deadlock.
        const original = before.revision_of
          ? await invoiceStore.find(tx, invoices.engine, ctx.auth.tenantId, before.revision_of, { lock: true })
          : undefined;
        const result = await commit(tx, ctx, before, finalized(before, { number, issueDate, dueDate, now }), { action: 'finalize', eventType: 'invoice.finalized', eventData: { number } }, options);

        // Finalizing a revision completes the correction: the credited original is superseded.
        if (original && original.status !== 'void') {
          await commit(tx, ctx, original, voided(original, now), { action: 'supersede', eventType: 'invoice.voided', eventData: { superseded_by: before.id } }, { reason: `superseded by revision ${before.id}` });
        }
        return result;
      });
    },

    async void(ctx: RequestContext, id: string, options: WriteOptions = {}): Promise<WriteResult> {
      return inTransaction(options, async (tx) => {
        const before = await loadForWrite(tx, ctx, id, options);
        assertAllowed(before, 'void', await editPolicyOf(tx, ctx.auth.tenantId));
        return commit(tx, ctx, before, voided(before, nowIso()), { action: 'void', eventType: 'invoice.voided' }, options);
      });
    },

    /** Deletes a draft. Its audit trail stays: the deletion is its last version. */
    async delete(ctx: RequestContext, id: string, options: WriteOptions = {}): Promise<void> {
      await inTransaction(options, async (tx) => {
        const before = await loadForWrite(tx, ctx, id, options);
        assertAllowed(before, 'delete', await editPolicyOf(tx, ctx.auth.tenantId));
        const after: Invoice = { ...before, version: before.version + 1, updated_at: nowIso() };
        const changes = [{ path: '', from: toDocument(before), to: null }];
        await recordVersion(tx, ctx, before, after, { action: 'delete', eventType: 'invoice.deleted', changes }, options.reason ?? null);
        await invoiceStore.delete(tx, ctx.auth.tenantId, id);
        return { invoice: after, changes, written: true };
      });
    },

    /**
     * One transaction: a credit note for the whole original, the original credited (and
     * marked as being revised), and a new draft copying it with `revision_of`.
     */
    async revise(ctx: RequestContext, id: string, options: WriteOptions = {}): Promise<{ creditNote: CreditNote; original: Invoice; revision: Invoice }> {
      let outcome: { creditNote: CreditNote; original: Invoice; revision: Invoice } | undefined;
      await inTransaction(options, async (tx) => {
        const before = await loadForWrite(tx, ctx, id, options);
        assertAllowed(before, 'revise', await editPolicyOf(tx, ctx.auth.tenantId));
        const now = nowIso();
        const revisionId = newId('inv');
        const creditNumber = formatSequenceNumber('CN-', await nextInSequence(tx, ctx.auth.tenantId, 'credit_note'));
        const creditNote = fullCreditFor(before, {
          id: newId('crn'),
          number: creditNumber,
          reason: options.reason ?? `revised by ${revisionId}`,
          revisionId,
          issueDate: todayDate(),
          now,
        });
        await creditNoteStore.insert(tx, ctx.auth.tenantId, creditNote);

        const credited = settled(before, { amountPaid: new Dec(before.amount_paid), amountCredited: new Dec(before.amount_credited).plus(creditNote.total) });
        const originalResult = await commit(tx, ctx, before, { ...credited, revised_by: revisionId }, {
          action: 'revise',
          eventType: 'credit_note.created',
          alsoEmit: ['invoice.revised'],
          eventData: { credit_note_id: creditNote.id, credit_note_total: creditNote.total, revision_id: revisionId },
        }, options);

        const revision: Invoice = {
          ...before,
          id: revisionId,
          ...(await invoices.newIdentity(tx, ctx.auth.tenantId)),
          lines: before.lines.map((line) => ({ ...line, guid: randomUUID() })),
          status: 'draft',
          number: null,
          issue_date: null,
          amount_paid: '0',
          amount_credited: '0',
          balance: before.total,
          version: 1,
          created_at: now,
          updated_at: now,
          finalized_at: null,
          voided_at: null,
          revision_of: before.id,
          revised_by: null,
        };
        const changes = [{ path: '', from: null, to: toDocument(revision) }];
        await recordVersion(tx, ctx, null, revision, { action: 'create', eventType: 'invoice.created', changes, eventData: { revision_of: before.id } }, options.reason ?? null);
        outcome = { creditNote, original: originalResult.invoice, revision };
        return originalResult;
      });
      if (!outcome) throw new Error('revise finished without a result');
      return outcome;
    },

    async editability(ctx: RequestContext, id: string): Promise<Editability> {
      const invoice = await invoices.get(ctx, id);
      return editabilityOf(invoice, await editPolicyOf(invoices.db, ctx.auth.tenantId));
    },
  };
}

export type LifecycleService = ReturnType<typeof createLifecycleService>;
