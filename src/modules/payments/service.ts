import type { RequestContext, WriteOptions } from '../../core/request-context.js';
import { AppError, notFound, validationError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { Dec, formatAmount } from '../../shared/money.js';
import { isValidBusinessDate, nowIso } from '../../shared/time.js';
import { assertAllowed } from '../invoices/domain/lifecycle.js';
import { recordSettlement } from '../invoices/settlement.js';
import type { Invoice } from '../invoices/domain/model.js';
import type { InvoiceService } from '../invoices/service.js';
import { assertNoOverpayment, parsePaymentAmount, refunded, type Payment } from './domain.js';
import type { PaymentCreate, Refund } from './schemas.js';
import { paymentStore } from './store.js';

export const maxPaymentsPerInvoice = 500;

export interface PaymentResult {
  payment: Payment;
  invoice: Invoice;
}

/**
 * Payments and refunds. Each one is a new invoice version (amount_paid, balance, maybe the
 * status) written through the invoice service's recordVersion, with its audit and events.
 */
export function createPaymentService(invoices: InvoiceService) {
  const { loadForWrite, inTransaction, editPolicyOf } = invoices;

  return {
    async create(ctx: RequestContext, invoiceId: string, input: PaymentCreate, options: WriteOptions = {}): Promise<PaymentResult> {
      let payment: Payment | undefined;
      const result = await inTransaction(options, async (tx) => {
        const before = await loadForWrite(tx, ctx, invoiceId, options);
        assertAllowed(before, 'record_payment', await editPolicyOf(tx, ctx.auth.tenantId));
        const amount = parsePaymentAmount(input.amount, before.currency, '/amount');
        if (!isValidBusinessDate(input.date)) throw validationError([{ pointer: '/date', detail: 'is not a real calendar date between 1900 and 2999' }]);
        assertNoOverpayment(amount, new Dec(before.balance), before.currency);
        const existing = await paymentStore.listForInvoice(tx, ctx.auth.tenantId, invoiceId);
        if (existing.length >= maxPaymentsPerInvoice) {
          throw new AppError('too-many-payments', `An invoice takes at most ${maxPaymentsPerInvoice} payments.`);
        }
        const now = nowIso();
        payment = {
          id: newId('pay'),
          object: 'payment',
          invoice_id: invoiceId,
          amount: formatAmount(amount, before.currency),
          refunded_amount: formatAmount(new Dec(0), before.currency),
          net_amount: formatAmount(amount, before.currency),
          currency: before.currency,
          date: input.date,
          method: input.method,
          reference: input.reference ?? null,
          status: 'succeeded',
          created_at: now,
          updated_at: now,
        };
        await paymentStore.insert(tx, ctx.auth.tenantId, payment);
        return recordSettlement(invoices, tx, ctx, before, { amountPaid: new Dec(before.amount_paid).plus(amount), amountCredited: new Dec(before.amount_credited) }, {
          action: 'payment',
          eventType: 'payment.created',
          eventData: { payment_id: payment.id, amount: payment.amount },
        }, options.reason ?? null);
      });
      if (!payment) throw new Error('payment not recorded');
      return { payment, invoice: result.invoice };
    },

    async refund(ctx: RequestContext, invoiceId: string, paymentId: string, input: Refund, options: WriteOptions = {}): Promise<PaymentResult> {
      let payment: Payment | undefined;
      const result = await inTransaction(options, async (tx) => {
        const before = await loadForWrite(tx, ctx, invoiceId, options);
        assertAllowed(before, 'refund_payment', await editPolicyOf(tx, ctx.auth.tenantId));
        const current = await paymentStore.find(tx, ctx.auth.tenantId, invoiceId, paymentId);
        if (!current) throw notFound('payment', paymentId);
        const amount = input.amount === undefined ? undefined : parsePaymentAmount(input.amount, before.currency, '/amount');
        const now = nowIso();
        const refund = refunded(current, amount, now);
        payment = refund.payment;
        await paymentStore.updateRefund(tx, ctx.auth.tenantId, payment);
        return recordSettlement(invoices, tx, ctx, before, { amountPaid: new Dec(before.amount_paid).minus(refund.amount), amountCredited: new Dec(before.amount_credited) }, {
          action: 'refund',
          eventType: 'payment.refunded',
          eventData: { payment_id: payment.id, amount: formatAmount(refund.amount, before.currency) },
        }, input.reason ?? options.reason ?? null);
      });
      if (!payment) throw new Error('refund not recorded');
      return { payment, invoice: result.invoice };
    },

    async list(ctx: RequestContext, invoiceId: string): Promise<Payment[]> {
      await invoices.get(ctx, invoiceId); // 404 for unknown or another tenant's invoice
      return paymentStore.listForInvoice(invoices.db, ctx.auth.tenantId, invoiceId);
    },
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
