import type { DbOrTx } from '../../db/database.js';
import type { PaymentsTable } from '../../db/schema.js';
import { Dec, formatAmount } from '../../shared/money.js';
import type { Payment, PaymentStatus } from './domain.js';

/** SQL only. */
function rowToPayment(row: PaymentsTable): Payment {
  const amount = new Dec(String(row.amount));
  const refunded = new Dec(String(row.refunded_amount));
  return {
    id: row.id,
    object: 'payment',
    invoice_id: row.invoice_id,
    amount: formatAmount(amount, row.currency),
    refunded_amount: formatAmount(refunded, row.currency),
    net_amount: formatAmount(amount.minus(refunded), row.currency),
    currency: row.currency,
    date: row.payment_date,
    method: row.method,
    reference: row.reference,
    status: row.status as PaymentStatus,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export const paymentStore = {
  async insert(db: DbOrTx, tenantId: string, payment: Payment): Promise<void> {
    await db
      .insertInto('payments')
      .values({
        tenant_id: tenantId,
        id: payment.id,
        invoice_id: payment.invoice_id,
        amount: payment.amount,
        refunded_amount: payment.refunded_amount,
        currency: payment.currency,
        payment_date: payment.date,
        method: payment.method,
        reference: payment.reference,
        status: payment.status,
        created_at: payment.created_at,
        updated_at: payment.updated_at,
      })
      .execute();
  },

  async updateRefund(db: DbOrTx, tenantId: string, payment: Payment): Promise<void> {
    await db
      .updateTable('payments')
      .set({ refunded_amount: payment.refunded_amount, status: payment.status, updated_at: payment.updated_at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', payment.id)
      .execute();
  },

  async find(db: DbOrTx, tenantId: string, invoiceId: string, id: string): Promise<Payment | undefined> {
    const row = await db
      .selectFrom('payments')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('invoice_id', '=', invoiceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? rowToPayment(row) : undefined;
  },

  async listForInvoice(db: DbOrTx, tenantId: string, invoiceId: string): Promise<Payment[]> {
    const rows = await db.selectFrom('payments').selectAll().where('tenant_id', '=', tenantId).where('invoice_id', '=', invoiceId).orderBy('id').execute();
    return rows.map(rowToPayment);
  },
};
