import type { RequestContext, WriteOptions } from '../../core/request-context.js';
import { decodeCursor, toPage } from '../../core/paging.js';
import { notFound } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { Dec } from '../../shared/money.js';
import { assertAllowed } from '../invoices/domain/lifecycle.js';
import { recordSettlement } from '../invoices/settlement.js';
import type { Invoice } from '../invoices/domain/model.js';
import type { Db } from '../../db/database.js';
import type { WriteKernel } from '../invoices/versioning.js';
import { formatSequenceNumber, nextInSequence } from '../tenants/sequences.js';
import { partialCreditFor, type CreditNote } from './domain.js';
import type { CreditNoteCreate } from './schemas.js';
import { creditNoteStore } from './store.js';

/** Credit notes issued on their own (a revision issues its own through the lifecycle service). */
export function createCreditNoteService(deps: { db: Db; kernel: WriteKernel }) {
  const { db, kernel } = deps;
  const { clock, withLockedInvoice, editPolicyOf } = kernel;
  return {
    async create(ctx: RequestContext, input: CreditNoteCreate, options: WriteOptions = {}): Promise<{ creditNote: CreditNote; invoice: Invoice }> {
      return withLockedInvoice(ctx, input.invoice_id, options, async (tx, before) => {
        assertAllowed(before, 'credit', await editPolicyOf(ctx.auth.tenantId, tx));
        const now = clock.nowIso();
        const number = formatSequenceNumber('CN-', await nextInSequence(tx, ctx.auth.tenantId, 'credit_note'));
        const creditNote = partialCreditFor(before, input.lines, { id: newId('crn'), number, reason: input.reason, issueDate: clock.today(), now });
        await creditNoteStore.insert(tx, ctx.auth.tenantId, creditNote);
        const result = await recordSettlement(kernel, tx, ctx, before, { amountPaid: new Dec(before.amount_paid), amountCredited: new Dec(before.amount_credited).plus(creditNote.total) }, {
          action: 'credit',
          eventType: 'credit_note.created',
          eventData: { credit_note_id: creditNote.id, credit_note_total: creditNote.total },
        }, input.reason);
        return { creditNote, invoice: result.invoice };
      });
    },

    /** Newest first; `invoiceId` narrows to one invoice's notes. */
    async list(ctx: RequestContext, query: { invoiceId?: string; cursor?: string; limit?: number }) {
      const limit = query.limit ?? 20;
      const rows = await creditNoteStore.list(db, ctx.auth.tenantId, { invoiceId: query.invoiceId, beforeId: decodeCursor(query.cursor), limit: limit + 1 });
      return toPage(rows, limit);
    },

    async get(ctx: RequestContext, id: string): Promise<CreditNote> {
      const note = await creditNoteStore.find(db, ctx.auth.tenantId, id);
      if (!note) throw notFound('credit note', id);
      return note;
    },
  };
}

export type CreditNoteService = ReturnType<typeof createCreditNoteService>;
