import type { RequestContext, WriteOptions } from '../../core/request-context.js';
import { notFound } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { Dec } from '../../shared/money.js';
import { nowIso, todayDate } from '../../shared/time.js';
import { assertAllowed } from '../invoices/domain/lifecycle.js';
import { recordSettlement } from '../invoices/settlement.js';
import type { Invoice } from '../invoices/domain/model.js';
import type { InvoiceService } from '../invoices/service.js';
import { formatSequenceNumber, nextInSequence } from '../tenants/sequences.js';
import { partialCreditFor, type CreditNote } from './domain.js';
import type { CreditNoteCreate } from './schemas.js';
import { creditNoteStore } from './store.js';

/** Credit notes issued on their own (a revision issues its own through the lifecycle service). */
export function createCreditNoteService(invoices: InvoiceService) {
  const { loadForWrite, inTransaction, editPolicyOf } = invoices;
  return {
    async create(ctx: RequestContext, input: CreditNoteCreate, options: WriteOptions = {}): Promise<{ creditNote: CreditNote; invoice: Invoice }> {
      let creditNote: CreditNote | undefined;
      const result = await inTransaction(options, async (tx) => {
        const before = await loadForWrite(tx, ctx, input.invoice_id, options);
        assertAllowed(before, 'credit', await editPolicyOf(tx, ctx.auth.tenantId));
        const now = nowIso();
        const number = formatSequenceNumber('CN-', await nextInSequence(tx, ctx.auth.tenantId, 'credit_note'));
        creditNote = partialCreditFor(before, input.lines, { id: newId('crn'), number, reason: input.reason, issueDate: todayDate(), now });
        await creditNoteStore.insert(tx, ctx.auth.tenantId, creditNote);
        return recordSettlement(invoices, tx, ctx, before, { amountPaid: new Dec(before.amount_paid), amountCredited: new Dec(before.amount_credited).plus(creditNote.total) }, {
          action: 'credit',
          eventType: 'credit_note.created',
          eventData: { credit_note_id: creditNote.id, credit_note_total: creditNote.total },
        }, input.reason);
      });
      if (!creditNote) throw new Error('credit note not written');
      return { creditNote, invoice: result.invoice };
    },

    async get(ctx: RequestContext, id: string): Promise<CreditNote> {
      const note = await creditNoteStore.find(invoices.db, ctx.auth.tenantId, id);
      if (!note) throw notFound('credit note', id);
      return note;
    },
  };
}

export type CreditNoteService = ReturnType<typeof createCreditNoteService>;
