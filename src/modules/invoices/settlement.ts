import type { Tx } from '../../db/database.js';
import type { RequestContext } from '../../core/request-context.js';
import type { Dec } from '../../shared/money.js';
import { settled, settlementEvents } from './domain/lifecycle.js';
import type { Invoice } from './domain/model.js';
import type { InvoiceService, VersionRecord, WriteResult } from './service.js';

/**
 * Payments, refunds and credit notes all end the same way: new paid/credited figures, the
 * status they imply (open ↔ paid), and one version whose events say so (invoice.paid, invoice.reopened).
 */
export function recordSettlement(
  invoices: InvoiceService,
  tx: Tx,
  ctx: RequestContext,
  before: Invoice,
  figures: { amountPaid: Dec; amountCredited: Dec },
  record: Omit<VersionRecord, 'changes'>,
  reason: string | null,
): Promise<WriteResult> {
  const next = settled(before, figures);
  const alsoEmit = [...(record.alsoEmit ?? []), ...settlementEvents(before, next)];
  return invoices.recordChange(tx, ctx, before, next, { ...record, alsoEmit }, reason);
}
