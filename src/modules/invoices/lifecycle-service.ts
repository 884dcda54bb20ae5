import { randomUUID } from 'node:crypto';
import type { Tx } from '../../db/database.js';
import type { RequestContext, WriteOptions } from '../../core/request-context.js';
import { newId } from '../../shared/ids.js';
import { Dec } from '../../shared/money.js';
import { addDays } from '../../shared/time.js';
import { fullCreditFor, type CreditNote } from '../credit-notes/domain.js';
import { creditNoteStore } from '../credit-notes/store.js';
import { formatSequenceNumber, nextInSequence } from '../tenants/sequences.js';
import { tenantStore } from '../tenants/store.js';
import { toDocument } from './domain/diff.js';
import { editabilityOf, type Editability } from './domain/editability.js';
import { assertAllowed, finalized, settled, settlementEvents, voided } from './domain/lifecycle.js';
import type { Invoice } from './domain/model.js';
import type { InvoiceService } from './service.js';
import { invoiceStore } from './store.js';
import type { VersionRecord, WriteKernel, WriteResult } from './versioning.js';

/**
 * The use cases that change an invoice's status: finalize, void, delete, revise. Each asks
 * the lifecycle table (domain/lifecycle.ts) first and writes through the write kernel
 * (versioning.ts), so every transition is one version with its audit and outbox events.
 */
export function createLifecycleService(deps: { kernel: WriteKernel; invoices: InvoiceService }) {
  const { kernel, invoices } = deps;
  const { clock, withLockedInvoice, recordVersion, recordChange, editPolicyOf } = kernel;

  const commit = (tx: Tx, ctx: RequestContext, before: Invoice, next: Invoice, record: Omit<VersionRecord, 'changes'>, options: WriteOptions) =>
    recordChange(tx, ctx, before, next, record, options.reason ?? null);

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
      return withLockedInvoice(ctx, id, options, async (tx, before) => {
        assertAllowed(before, 'finalize', await editPolicyOf(ctx.auth.tenantId, tx));
        // Lock the original this revision supersedes before anything else: invoice rows first,
        // then the number counter (lock order: versioning.ts), so no deadlock.
        const original = before.revision_of ? await kernel.lockInvoice(tx, ctx, before.revision_of) : undefined;
        const issueDate = before.issue_date ?? clock.today();
        const dueDate = before.due_date ?? (before.payment_terms ? addDays(issueDate, before.payment_terms.net_days) : null);
        const number = before.number ?? (await takeInvoiceNumber(tx, ctx, before.id));
        const now = clock.nowIso();
        const next = finalized(before, { number, issueDate, dueDate, now });
        const result = await commit(tx, ctx, before, next, { action: 'finalize', eventType: 'invoice.finalized', alsoEmit: settlementEvents(before, next), eventData: { number } }, options);

        // Finalizing a revision completes the correction: the credited original is superseded.
        if (original && original.status !== 'void') {
          await commit(tx, ctx, original, voided(original, now), { action: 'supersede', eventType: 'invoice.voided', eventData: { superseded_by: before.id } }, { reason: `superseded by revision ${before.id}` });
        }
        return result;
      });
    },

    async void(ctx: RequestContext, id: string, options: WriteOptions = {}): Promise<WriteResult> {
      return withLockedInvoice(ctx, id, options, async (tx, before) => {
        assertAllowed(before, 'void', await editPolicyOf(ctx.auth.tenantId, tx));
        return commit(tx, ctx, before, voided(before, clock.nowIso()), { action: 'void', eventType: 'invoice.voided' }, options);
      });
    },

    /** Deletes a draft. Its audit trail stays: the deletion is its last version. */
    async delete(ctx: RequestContext, id: string, options: WriteOptions = {}): Promise<void> {
      await withLockedInvoice(ctx, id, options, async (tx, before) => {
        assertAllowed(before, 'delete', await editPolicyOf(ctx.auth.tenantId, tx));
        const after: Invoice = { ...before, version: before.version + 1, updated_at: clock.nowIso() };
        const changes = [{ path: '', from: toDocument(before), to: null }];
        await recordVersion(tx, ctx, before, after, { action: 'delete', eventType: 'invoice.deleted', changes }, options.reason ?? null);
        await invoiceStore.delete(tx, ctx.auth.tenantId, id);
      });
    },

    /**
     * One transaction: a credit note for the whole original, the original credited (and
     * marked as being revised), and a new draft copying it with `revision_of`.
     */
    async revise(ctx: RequestContext, id: string, options: WriteOptions = {}): Promise<{ creditNote: CreditNote; original: Invoice; revision: Invoice }> {
      return withLockedInvoice(ctx, id, options, async (tx, before) => {
        assertAllowed(before, 'revise', await editPolicyOf(ctx.auth.tenantId, tx));
        const now = clock.nowIso();
        const revisionId = newId('inv');
        const creditNumber = formatSequenceNumber('CN-', await nextInSequence(tx, ctx.auth.tenantId, 'credit_note'));
        const creditNote = fullCreditFor(before, {
          id: newId('crn'),
          number: creditNumber,
          reason: options.reason ?? `revised by ${revisionId}`,
          revisionId,
          issueDate: clock.today(),
          now,
        });
        await creditNoteStore.insert(tx, ctx.auth.tenantId, creditNote);

        // The full credit is not a settlement: the original keeps its status (revision-pending)
        // until its revision is finalized, which voids it (docs/lifecycle.md).
        const credited = { ...settled(before, { amountPaid: new Dec(before.amount_paid), amountCredited: new Dec(before.amount_credited).plus(creditNote.total) }), status: before.status };
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
        return { creditNote, original: originalResult.invoice, revision };
      });
    },

    async editability(ctx: RequestContext, id: string): Promise<Editability> {
      const invoice = await invoices.get(ctx, id);
      return editabilityOf(invoice, await editPolicyOf(ctx.auth.tenantId));
    },
  };
}

export type LifecycleService = ReturnType<typeof createLifecycleService>;
