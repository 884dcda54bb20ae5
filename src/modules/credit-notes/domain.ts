import type { Invoice } from '../invoices/domain/model.js';

/** A credit note: a document that reduces what is owed on one invoice. Amounts are positive. */
export interface CreditNoteLine {
  description: string | null;
  quantity: string;
  unit: string | null;
  unit_price: string;
  tax_rate: string | null;
  net_amount: string;
  tax_amount: string;
  gross_amount: string;
}

export interface CreditNote {
  id: string;
  object: 'credit_note';
  number: string;
  invoice_id: string;
  /** The draft that replaces the credited invoice, when the credit note came from a revision. */
  revision_id: string | null;
  reason: string;
  currency: string;
  lines: CreditNoteLine[];
  subtotal: string;
  tax_total: string;
  total: string;
  issue_date: string;
  created_at: string;
}

/** The credit note that cancels an invoice in full: its lines and totals mirror the invoice's. */
export function fullCreditFor(
  invoice: Invoice,
  input: { id: string; number: string; reason: string; revisionId: string | null; issueDate: string; now: string },
): CreditNote {
  return {
    id: input.id,
    object: 'credit_note',
    number: input.number,
    invoice_id: invoice.id,
    revision_id: input.revisionId,
    reason: input.reason,
    currency: invoice.currency,
    lines: invoice.lines.map((line) => ({
      description: line.description,
      quantity: line.quantity,
      unit: line.unit,
      unit_price: line.unit_price,
      tax_rate: line.tax_rate,
      net_amount: line.net_amount,
      tax_amount: line.tax_amount,
      gross_amount: line.gross_amount,
    })),
    subtotal: invoice.subtotal,
    tax_total: invoice.tax_total,
    total: invoice.total,
    issue_date: input.issueDate,
    created_at: input.now,
  };
}
