import { Dec } from '../../../shared/money.js';
import type { Invoice } from './model.js';

export type PaymentStatus = 'unpaid' | 'partially_paid' | 'paid' | 'overdue';

/** Derived, never stored: it depends on today's date as much as on the invoice. */
export function derivePaymentStatus(invoice: Invoice, today: string): PaymentStatus {
  const total = new Dec(invoice.total);
  const settled = new Dec(invoice.amount_paid).plus(invoice.amount_credited);
  if (invoice.status === 'paid' || (total.gt(0) && settled.gte(total))) return 'paid';
  if (invoice.status === 'open' && invoice.due_date !== null && invoice.due_date < today) return 'overdue';
  return settled.gt(0) ? 'partially_paid' : 'unpaid';
}
